//! Errors: every core error becomes a JavaScript `Error` whose `code` is the core's code
//! (`'TOKENWARD_EXPIRED'`, ...), carrying Coder's answer: `status`, `message`, `detail`,
//! `wwwAuthenticate`, `body` and `headers`.

use std::borrow::Cow;

use napi::bindgen_prelude::*;
use napi::{Env, JsValue};
use tokenward::http::answer;
use tokenward::{Code, Coded, Settings};

/// The `code` of a core code: `TOKENWARD_` and its name in capitals.
pub(crate) fn code_name(code: Code) -> String {
    format!("TOKENWARD_{}", code.name().to_ascii_uppercase())
}

/// A failure of the binding's own (a value of the wrong kind): a code and what went wrong;
/// Coder has no message for it.
pub(crate) struct Failure {
    code: Code,
    detail: String,
}

impl Coded for Failure {
    fn code(&self) -> Code {
        self.code
    }
    fn message(&self) -> Cow<'_, str> {
        "".into()
    }
    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.detail)
    }
}

/// The `Error` for `error`, Coder's answer made under `settings` (whose access URL goes into
/// a rejection's `WWW-Authenticate`). Its `message` is Coder's message, or the detail for a
/// failure Coder has no message for.
pub(crate) fn to_error(env: &Env, error: &(impl Coded + ?Sized), settings: &Settings) -> Error {
    match build(env, error, settings) {
        Ok(error) | Err(error) => error,
    }
}

fn build(env: &Env, error: &(impl Coded + ?Sized), settings: &Settings) -> Result<Error> {
    let http = answer(error, settings);
    let detail = error.detail();
    let coder_message = error.message();
    let text = if coder_message.is_empty() {
        detail.to_string()
    } else {
        coder_message.to_string()
    };
    let mut object = env.create_error(Error::new(Status::GenericFailure, text))?;
    object.set("code", code_name(error.code()))?;
    object.set("number", error.code().number())?;
    object.set("status", http.status)?;
    object.set("detail", detail.as_ref())?;
    object.set(
        "wwwAuthenticate",
        http.header("WWW-Authenticate").map(str::to_owned),
    )?;
    object.set("body", http.body.as_str())?;
    let headers: Vec<Vec<String>> = http
        .headers
        .iter()
        .map(|(name, value)| vec![(*name).to_owned(), value.clone()])
        .collect();
    object.set("headers", headers)?;
    Ok(Error::from(object.to_unknown()))
}

/// [`to_error`] under the default settings.
pub(crate) fn to_error_default(env: &Env, error: &(impl Coded + ?Sized)) -> Error {
    to_error(env, error, &Settings::default())
}

/// A binding failure of `code` saying `detail`.
pub(crate) fn fail(env: &Env, code: Code, detail: impl Into<String>) -> Error {
    to_error_default(
        env,
        &Failure {
            code,
            detail: detail.into(),
        },
    )
}
