//! `tokenward._native`: the tokenward core for Python, through PyO3.
//!
//! This module converts types and errors, and nothing else: every rule (the token's format,
//! the checks, the refresh, Coder's answers) runs in the core crate. The public package
//! `tokenward` (`python/tokenward/`) re-exports what is here, and defines the exception classes
//! and enums from the tables this module exports (`CODES`, `LOGIN_TYPES`, `SCOPES`), then hands
//! them back through `_register`, so a new code in the core is a new exception in Python.

use pyo3::prelude::*;

mod authority;
mod convert;
mod errors;
mod fastcall;
mod functions;
mod key;
mod settings;

/// The module `tokenward._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let codes: Vec<(u32, &str, u16, bool, bool)> = tokenward::Code::ALL
        .iter()
        .map(|c| {
            (
                c.number(),
                c.name(),
                c.status(),
                c.is_rejection(),
                c.is_store(),
            )
        })
        .collect();
    m.add("CODES", codes)?;
    let login_types: Vec<&str> = tokenward::LoginType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    m.add("LOGIN_TYPES", login_types)?;
    m.add("SCOPES", tokenward::Scope::PUBLIC.to_vec())?;
    let sources: Vec<&str> = tokenward::extract::TokenSource::ALL
        .iter()
        .map(|s| s.name())
        .collect();
    m.add("TOKEN_SOURCES", sources)?;
    m.add("MEMORY_URL", tokenward::authority::MEMORY_URL)?;
    m.add("CONTENT_TYPE", tokenward::http::CONTENT_TYPE)?;
    m.add(
        "SESSION_TOKEN_COOKIE",
        tokenward::extract::SESSION_TOKEN_COOKIE,
    )?;
    m.add(
        "SESSION_TOKEN_HEADER",
        tokenward::extract::SESSION_TOKEN_HEADER,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;

    m.add_function(wrap_pyfunction!(errors::_register, m)?)?;
    m.add_function(wrap_pyfunction!(functions::generate, m)?)?;
    m.add_function(wrap_pyfunction!(functions::parse, m)?)?;
    m.add_function(wrap_pyfunction!(functions::hash_secret, m)?)?;
    m.add_function(wrap_pyfunction!(functions::hash_secrets, m)?)?;
    fastcall::add_verify_record(m)?;
    m.add_function(wrap_pyfunction!(functions::extract_token, m)?)?;
    m.add_function(wrap_pyfunction!(functions::parse_duration, m)?)?;
    m.add_function(wrap_pyfunction!(functions::parse_duration_ns, m)?)?;
    m.add_function(wrap_pyfunction!(functions::format_duration, m)?)?;
    m.add_class::<functions::Token>()?;
    m.add_class::<functions::Extracted>()?;
    m.add_class::<key::ApiKey>()?;
    m.add_class::<key::KeyUpdate>()?;
    m.add_class::<key::Verified>()?;
    m.add_class::<settings::Settings>()?;
    m.add_class::<authority::User>()?;
    m.add_class::<authority::Authority>()?;
    Ok(())
}
