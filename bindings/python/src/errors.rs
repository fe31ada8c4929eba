//! Errors: every core error becomes an instance of the exception class the package registered
//! for its code, carrying Coder's answer (status, message, detail, body, headers).

use std::borrow::Cow;
use std::collections::HashMap;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use tokenward::http::answer;
use tokenward::{Code, Coded, Settings};

/// The classes the package defines from `CODES`, `LOGIN_TYPES` and `SCOPES`.
pub(crate) struct Registry {
    errors: HashMap<u32, Py<PyType>>,
    pub(crate) login_type: Py<PyType>,
    pub(crate) scope: Py<PyType>,
}

static REGISTRY: PyOnceLock<Registry> = PyOnceLock::new();

/// Called once by `tokenward/__init__.py`: the exception class of each code number, and the
/// `LoginType` and `Scope` enums.
#[pyfunction]
pub fn _register(
    py: Python<'_>,
    errors: HashMap<u32, Py<PyType>>,
    login_type: Py<PyType>,
    scope: Py<PyType>,
) -> PyResult<()> {
    if let Some(missing) = Code::ALL
        .iter()
        .find(|c| **c != Code::Ok && !errors.contains_key(&c.number()))
    {
        return Err(PyRuntimeError::new_err(format!(
            "no exception class registered for code {} ({})",
            missing.number(),
            missing.name()
        )));
    }
    REGISTRY
        .set(
            py,
            Registry {
                errors,
                login_type,
                scope,
            },
        )
        .map_err(|_| PyRuntimeError::new_err("tokenward's classes are already registered"))
}

/// The registered classes; an error if the package did not register them (the native module
/// imported on its own).
pub(crate) fn registry(py: Python<'_>) -> PyResult<&Registry> {
    REGISTRY.get(py).ok_or_else(|| {
        PyRuntimeError::new_err(
            "import tokenward, not tokenward._native: its classes are not registered",
        )
    })
}

/// A failure of the binding's own, before the core has a say (a naive datetime, a value of
/// the wrong kind): a code and what went wrong; Coder has no message for it.
pub(crate) struct Failure {
    pub(crate) code: Code,
    pub(crate) detail: String,
}

impl Failure {
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Failure {
        Failure {
            code,
            detail: detail.into(),
        }
    }
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

/// The Python exception for `error`, with Coder's answer under `settings` (whose access URL
/// goes into a rejection's `WWW-Authenticate`).
pub(crate) fn raise(py: Python<'_>, error: &(impl Coded + ?Sized), settings: &Settings) -> PyErr {
    match exception(py, error, settings) {
        Ok(err) | Err(err) => err,
    }
}

/// [`raise`] with the default settings.
pub(crate) fn raise_default(py: Python<'_>, error: &(impl Coded + ?Sized)) -> PyErr {
    raise(py, error, &Settings::default())
}

/// A binding failure of `code` saying `detail`.
pub(crate) fn fail(py: Python<'_>, code: Code, detail: impl Into<String>) -> PyErr {
    raise_default(py, &Failure::new(code, detail))
}

fn exception(
    py: Python<'_>,
    error: &(impl Coded + ?Sized),
    settings: &Settings,
) -> PyResult<PyErr> {
    let class = registry(py)?
        .errors
        .get(&error.code().number())
        .ok_or_else(|| {
            PyRuntimeError::new_err(format!("unknown code {}", error.code().number()))
        })?;
    let http = answer(error, settings);
    let kwargs = PyDict::new(py);
    kwargs.set_item("message", error.message())?;
    kwargs.set_item("status", http.status)?;
    kwargs.set_item("www_authenticate", http.header("WWW-Authenticate"))?;
    kwargs.set_item("body", &http.body)?;
    kwargs.set_item("headers", &http.headers)?;
    kwargs.set_item("validations", error.validations())?;
    let instance = class.bind(py).call((error.detail(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
