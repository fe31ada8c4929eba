//! The stateless functions: generate, parse, hash, verify a record, extract a token, durations.

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use tokenward::{Duration, Error, SecretHash, check};

use crate::convert::{duration_in, now_in, request_text, text, timedelta_out};
use crate::errors::{raise, raise_default};
use crate::key::{ApiKey, Verified};
use crate::settings::{Settings, default_settings};

/// A new token, `<10-character id>-<22-character secret>`, from the operating system's random
/// source. To mint a key and keep its record, use `Authority.create_token`.
#[pyfunction]
pub fn generate(py: Python<'_>) -> PyResult<String> {
    tokenward::Token::generate()
        .map(|t| t.expose())
        .map_err(|e| raise_default(py, &e))
}

/// A parsed token: its id, and its secret (zeroed when the object is freed). Its `repr`
/// shows the id only.
#[pyclass(module = "tokenward._native", name = "Token", frozen)]
pub struct Token {
    token: tokenward::Token,
}

#[pymethods]
impl Token {
    /// The key id (the first 10 characters). Not secret.
    #[getter]
    fn id(&self) -> String {
        self.token.id().as_str().to_owned()
    }

    /// The secret (the 22 characters after the `-`).
    #[getter]
    fn secret(&self) -> String {
        String::from_utf8_lossy(self.token.secret().as_bytes()).into_owned()
    }

    /// SHA-256 of the secret: what a store keeps as `hashed_secret`.
    fn hashed_secret<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, SecretHash::of(self.token.secret()).as_bytes())
    }

    fn __repr__(&self) -> String {
        format!(
            "Token(id={:?}, secret=<redacted>)",
            self.token.id().as_str()
        )
    }
}

/// Splits a token as Coder does (`<10 bytes>-<22 bytes>`); `strict=True` also requires the
/// alphabet tokenward generates. Raises `InvalidToken`, whose detail says what is wrong.
#[pyfunction]
#[pyo3(signature = (text, strict = false))]
pub fn parse(py: Python<'_>, text: &Bound<'_, PyString>, strict: bool) -> PyResult<Token> {
    let text = crate::convert::text(text, "text")?;
    let parsed = if strict {
        tokenward::Token::parse_strict(text)
    } else {
        tokenward::Token::parse(text)
    };
    parsed
        .map(|token| Token { token })
        .map_err(|e| raise_default(py, &Error::from(e)))
}

/// Bytes of a secret given as `str` (UTF-8) or `bytes`.
fn secret_bytes<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(secret) = value.cast::<PyString>() {
        return Ok(Cow::Borrowed(text(secret, "secret")?.as_bytes()));
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    Err(PyTypeError::new_err(format!(
        "a secret must be str or bytes, not {}",
        value.get_type().name()?
    )))
}

/// SHA-256 of a secret (`str` is hashed as UTF-8): the 32 bytes a store keeps.
#[pyfunction]
pub fn hash_secret<'py>(
    py: Python<'py>,
    secret: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let digest = SecretHash::of_bytes(&secret_bytes(secret)?);
    Ok(PyBytes::new(py, digest.as_bytes()))
}

/// SHA-256 of each secret, hashed with the GIL released (for batches: imports, migrations).
#[pyfunction]
pub fn hash_secrets<'py>(
    py: Python<'py>,
    secrets: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    if secrets.is_instance_of::<PyString>() || secrets.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "hash_secrets takes an iterable of secrets; for one secret use hash_secret",
        ));
    }
    let mut copies: Vec<Vec<u8>> = secrets
        .try_iter()?
        .map(|s| secret_bytes(&s?).map(Cow::into_owned))
        .collect::<PyResult<_>>()?;
    let digests: Vec<[u8; 32]> = py.detach(|| {
        let digests = copies
            .iter()
            .map(|s| *SecretHash::of_bytes(s).as_bytes())
            .collect();
        copies.iter_mut().for_each(|s| s.fill(0));
        digests
    });
    PyList::new(py, digests.iter().map(|d| PyBytes::new(py, d)))
}

/// `argument` as a `T`, or the `TypeError` naming the parameter.
fn argument<'a, 'py, T: pyo3::PyTypeCheck>(
    value: &'a Bound<'py, PyAny>,
    name: &str,
    expected: &str,
) -> PyResult<&'a Bound<'py, T>> {
    value.cast::<T>().map_err(|_| {
        let got = value
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        PyTypeError::new_err(format!("argument '{name}': expected {expected}, got {got}"))
    })
}

/// `tokenward.verify_record` (registered in `fastcall.rs`, which parses the arguments):
/// checks a presented token against the record the host fetched for its id (`None`: no row),
/// as Coder's middleware does, and decides the refresh. A token that does not authenticate
/// raises a `Rejected` subclass carrying Coder's answer under `settings` (the defaults when
/// `None`). `now`: an aware datetime, `None` for the current time.
pub(crate) fn verify(
    py: Python<'_>,
    token: Option<&Bound<'_, PyAny>>,
    key: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    settings: Option<&Bound<'_, PyAny>>,
    remote_addr: Option<&Bound<'_, PyAny>>,
) -> PyResult<Verified> {
    let token = token.ok_or_else(|| PyTypeError::new_err("argument 'token' is required"))?;
    let token = text(argument::<PyString>(token, "token", "str")?, "token")?;
    let key = key
        .map(|k| argument::<ApiKey>(k, "key", "ApiKey or None"))
        .transpose()?;
    let settings = settings
        .map(|s| argument::<Settings>(s, "settings", "Settings or None"))
        .transpose()?;
    let remote_addr = match remote_addr {
        Some(r) => text(
            argument::<PyString>(r, "remote_addr", "str or None")?,
            "remote_addr",
        )?,
        None => "",
    };
    let now = now_in(now)?;
    let settings = match settings {
        Some(s) => &*s.get().settings,
        None => default_settings(),
    };
    let record = key.map(|k| &*k.get().key);
    match check::verify_record(token, record, now, settings, remote_addr) {
        Ok(passed) => {
            let update = passed.update;
            let key = key.expect("a verified token had a record").clone().unbind();
            Verified::new(py, key, update)
        }
        Err(rejection) => Err(raise(py, &rejection, settings)),
    }
}

/// A token found in a request, and where: `source` is `cookie`, `query`, `header`, `bearer`
/// or `access_token`. Its `repr` hides the token.
#[pyclass(module = "tokenward._native", name = "Extracted", frozen)]
pub struct Extracted {
    /// The token text, as presented (never empty).
    #[pyo3(get)]
    token: String,
    /// Where it was found.
    #[pyo3(get)]
    source: &'static str,
}

#[pymethods]
impl Extracted {
    fn __repr__(&self) -> String {
        format!(
            "Extracted(token=<redacted, {} bytes>, source={:?})",
            self.token.len(),
            self.source
        )
    }
}

/// A header as a (name, value) tuple or a two-item list (ASGI allows both).
fn header_pair<'py>(pair: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let items = if let Ok(tuple) = pair.cast::<PyTuple>() {
        (tuple.len() == 2).then(|| (tuple.get_item(0), tuple.get_item(1)))
    } else if let Ok(list) = pair.cast::<PyList>() {
        (list.len() == 2).then(|| (list.get_item(0), list.get_item(1)))
    } else {
        None
    };
    match items {
        Some((Ok(name), Ok(value))) => Ok((name, value)),
        _ => Err(PyTypeError::new_err(
            "headers must be a mapping or an iterable of (name, value) pairs",
        )),
    }
}

/// The token a request presents, found as Coder finds it: the `coder_session_token` cookie,
/// the `coder_session_token` query parameter, the `Coder-Session-Token` header,
/// `Authorization: Bearer`, then the `access_token` query parameter. `headers` is a mapping
/// (a dict, Werkzeug's `Headers`, whose `items()` gives every value; Starlette's `Headers`, whose
/// `raw` bytes are read) or an
/// iterable of (name, value) pairs, as `str` or `bytes`, every `Cookie` header included;
/// `query` is the raw query string without `?`. Returns `None` when there is no token.
#[pyfunction]
#[pyo3(signature = (headers, query = None))]
pub fn extract_token(
    headers: &Bound<'_, PyAny>,
    query: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Extracted>> {
    // Starlette's `Headers` keeps the bytes as received in `raw`; its `items()` would give
    // them decoded as latin-1, which is not the text Coder reads.
    let raw = headers
        .getattr_opt("raw")?
        .filter(|raw| raw.is_instance_of::<PyList>());
    let pairs = if let Some(raw) = raw {
        raw
    } else if headers.hasattr("items")? {
        headers.call_method0("items")?
    } else {
        headers.clone()
    };
    let mut owned: Vec<(String, String)> = Vec::new();
    for pair in pairs.try_iter()? {
        let pair = pair?;
        let (name, value) = header_pair(&pair)?;
        owned.push((
            request_text(&name, "a header name")?.into_owned(),
            request_text(&value, "a header value")?.into_owned(),
        ));
    }
    let query = match query {
        Some(q) if !q.is_none() => request_text(q, "query")?.into_owned(),
        _ => String::new(),
    };
    let borrowed: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    Ok(
        tokenward::extract::extract_token(&borrowed, &query).map(|found| Extracted {
            token: found.token.into_owned(),
            source: found.source.name(),
        }),
    )
}

/// A Go duration (`"168h"`, `"1h30m"`, `"-1.5s"`, plus Coder's `d` and `y`) as a `timedelta`
/// (whole microseconds: a sub-microsecond remainder is dropped; `parse_duration_ns` keeps it).
#[pyfunction]
pub fn parse_duration<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let d = Duration::parse(text).map_err(|e| raise_default(py, &Error::from(e)))?;
    timedelta_out(py, d)
}

/// A Go duration as integer nanoseconds, exactly.
#[pyfunction]
pub fn parse_duration_ns(py: Python<'_>, text: &str) -> PyResult<i64> {
    Duration::parse(text)
        .map(Duration::as_nanos)
        .map_err(|e| raise_default(py, &Error::from(e)))
}

/// A duration as Go prints it (`168h0m0s`, `1.5s`, `0s`): a `timedelta`, integer nanoseconds,
/// or a Go duration string (printed in Go's form).
#[pyfunction]
pub fn format_duration(duration: &Bound<'_, PyAny>) -> PyResult<String> {
    if duration.is_instance_of::<pyo3::types::PyInt>()
        && !duration.is_instance_of::<pyo3::types::PyBool>()
    {
        let nanos = duration.extract::<i64>().map_err(|_| {
            crate::errors::fail(
                duration.py(),
                tokenward::Code::InvalidDuration,
                "duration is outside Go's duration range (about 292 years)",
            )
        })?;
        return Ok(Duration::from_nanos(nanos).to_string());
    }
    Ok(duration_in(duration, "duration")?.to_string())
}
