//! `tw_extract_token`: the token a request presents, found as Coder finds it.

use std::ffi::c_char;

use super::boundary::{Fail, boundary, tw_status};
use super::strings::{check_out, text_in, write_str};
use super::tw_str;
use crate::check::Rejection;
use crate::error::Code;
use crate::extract::{TokenSource, extract_token};

/// `tw_extract_token` found the token in the `coder_session_token` cookie.
pub const TW_SOURCE_COOKIE: u32 = 1;
/// ... in the `coder_session_token` query parameter.
pub const TW_SOURCE_QUERY: u32 = 2;
/// ... in the `Coder-Session-Token` header.
pub const TW_SOURCE_HEADER: u32 = 3;
/// ... in `Authorization: Bearer <token>`.
pub const TW_SOURCE_BEARER: u32 = 4;
/// ... in the `access_token` query parameter.
pub const TW_SOURCE_ACCESS_TOKEN: u32 = 5;

/// One request header, borrowed from the caller: `name_len` bytes of UTF-8 at `name` and
/// `value_len` at `value`, never NUL-terminated, neither pointer NULL (pass `""` for empty).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct tw_header {
    /// The header's name (matched ASCII case-insensitively).
    pub name: *const c_char,
    /// The name's length in bytes.
    pub name_len: usize,
    /// The header's value.
    pub value: *const c_char,
    /// The value's length in bytes.
    pub value_len: usize,
}

/// Finds the API token a request presents, as Coder's `APITokenFromRequest`: the
/// `coder_session_token` cookie, then that query parameter, the `Coder-Session-Token`
/// header, `Authorization: Bearer`, then the `access_token` query parameter.
///
/// - `headers`: `headers_count` headers in the order received, every `Cookie` header
///   included; not NULL, even when `headers_count` is 0;
/// - `query`: the raw query string without the leading `?` (empty when there is none).
///
/// On `TW_OK` writes the token to `*out_token` (released with `tw_str_free`; a secret, never
/// log it) and where it was found to `*out_source` (a `TW_SOURCE_*` constant). `TW_MISSING`
/// (Coder's detail in `tw_last_error_detail`) when the request holds no token, and nothing
/// written. Thread-safe; only reads its input.
///
/// # Safety
///
/// `headers` is NULL or points to `headers_count` readable `tw_header`s, each naming readable
/// bytes as it says; `query` points to `query_len` readable bytes (or is NULL); `out_token`
/// and `out_source` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_extract_token(
    headers: *const tw_header,
    headers_count: usize,
    query: *const c_char,
    query_len: usize,
    out_token: *mut tw_str,
    out_source: *mut u32,
) -> tw_status {
    boundary(|| {
        if headers.is_null() {
            return Err(Fail::null("headers"));
        }
        if headers_count > isize::MAX as usize / size_of::<tw_header>() {
            return Err(Fail::new(
                Code::InvalidArgument,
                "argument `headers_count` is larger than any array",
            ));
        }
        // SAFETY: not NULL, the size fits in `isize`, and the caller vouches for
        // `headers_count` readable headers.
        let raw = unsafe { std::slice::from_raw_parts(headers, headers_count) };
        let mut pairs = Vec::with_capacity(raw.len());
        for header in raw {
            // SAFETY: the caller vouches for each header's lengths.
            let name = unsafe { text_in(header.name, header.name_len, "headers.name") }?;
            // SAFETY: as above.
            let value = unsafe { text_in(header.value, header.value_len, "headers.value") }?;
            pairs.push((name, value));
        }
        // SAFETY: the caller vouches for `query_len` bytes at `query`.
        let query = unsafe { text_in(query, query_len, "query") }?;
        check_out(out_token, "out_token")?;
        check_out(out_source, "out_source")?;
        let found = extract_token(&pairs, query).ok_or_else(|| Fail::from(Rejection::missing()))?;
        let source = match found.source {
            TokenSource::Cookie => TW_SOURCE_COOKIE,
            TokenSource::Query => TW_SOURCE_QUERY,
            TokenSource::Header => TW_SOURCE_HEADER,
            TokenSource::Bearer => TW_SOURCE_BEARER,
            TokenSource::AccessToken => TW_SOURCE_ACCESS_TOKEN,
        };
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { write_str(out_token, "out_token", &found.token) }?;
        // SAFETY: as above.
        unsafe { out_source.write(source) };
        Ok(())
    })
}
