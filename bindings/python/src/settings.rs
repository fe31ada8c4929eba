//! `Settings`: Coder's deployment settings that tokenward follows, with Coder's defaults.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};
use tokenward::{Code, Error};

use crate::convert::timedelta_out;
use crate::errors::{fail, raise_default};

/// The defaults, made once.
pub(crate) fn default_settings() -> &'static tokenward::Settings {
    static DEFAULT: OnceLock<tokenward::Settings> = OnceLock::new();
    DEFAULT.get_or_init(tokenward::Settings::default)
}

/// Coder's settings that shape tokens: `session_duration` (24h),
/// `disable_session_expiry_refresh` (False), `default_token_lifetime` (168h),
/// `max_token_lifetime` (876600h), `max_admin_token_lifetime` (168h), `api_keys_retention`
/// (7d), `access_url` (None). Keyword arguments override the defaults: durations as
/// `timedelta` or Go strings (`"168h"`, `"7d"`), the flag as a bool, the URL as a string.
/// Immutable; `replace()` makes a changed copy.
#[pyclass(module = "tokenward._native", name = "Settings", frozen, eq)]
#[derive(PartialEq)]
pub struct Settings {
    pub(crate) settings: Arc<tokenward::Settings>,
}

impl Settings {
    pub(crate) fn wrap(settings: tokenward::Settings) -> Settings {
        Settings {
            settings: Arc::new(settings),
        }
    }
}

/// `settings` with the keyword arguments set, each through the core's `Settings::set`.
fn with_values(
    py: Python<'_>,
    mut settings: tokenward::Settings,
    values: Option<&Bound<'_, PyDict>>,
) -> PyResult<tokenward::Settings> {
    for (name, value) in values.into_iter().flat_map(|v| v.iter()) {
        let name: String = name.extract()?;
        let text = if value.is_none() {
            String::new()
        } else if let Ok(flag) = value.cast::<PyBool>() {
            flag.is_true().to_string()
        } else if let Ok(text) = value.cast::<PyString>() {
            text.to_cow()?.into_owned()
        } else if let Ok(delta) = value.extract::<chrono::TimeDelta>() {
            match delta.num_nanoseconds() {
                Some(nanos) => tokenward::Duration::from_nanos(nanos).to_string(),
                None => {
                    return Err(fail(
                        py,
                        Code::InvalidSettings,
                        format!("setting {name}: outside Go's duration range (about 292 years)"),
                    ));
                }
            }
        } else {
            return Err(fail(
                py,
                Code::InvalidSettings,
                format!(
                    "setting {name}: expected a timedelta, a Go duration string, a bool or a string, not {}",
                    value.get_type().name()?
                ),
            ));
        };
        settings
            .set(&name, &text)
            .map_err(|e| raise_default(py, &Error::from(e)))?;
    }
    settings
        .validate()
        .map_err(|e| raise_default(py, &Error::from(e)))?;
    Ok(settings)
}

#[pymethods]
impl Settings {
    #[new]
    #[pyo3(signature = (**values))]
    fn new(py: Python<'_>, values: Option<&Bound<'_, PyDict>>) -> PyResult<Settings> {
        with_values(py, tokenward::Settings::default(), values).map(Settings::wrap)
    }

    /// The settings from the environment: `TOKENWARD_<NAME>`, else Coder's `CODER_<NAME>`
    /// (`CODER_SESSION_DURATION`, ...), else the default. A bad value names its variable.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<Settings> {
        tokenward::Settings::from_env()
            .map(Settings::wrap)
            .map_err(|e| raise_default(py, &Error::from(e)))
    }

    /// Settings from a JSON object of field names and Go strings (as `to_json()` writes).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Settings> {
        let invalid = |e: serde_json::Error| {
            fail(
                py,
                Code::InvalidSettings,
                format!("invalid settings JSON: {e}"),
            )
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        if !value.is_object() {
            return Err(fail(
                py,
                Code::InvalidSettings,
                "settings JSON must be an object",
            ));
        }
        let settings: tokenward::Settings = serde_json::from_value(value).map_err(invalid)?;
        settings
            .validate()
            .map_err(|e| raise_default(py, &Error::from(e)))?;
        Ok(Settings::wrap(settings))
    }

    /// A copy with the keyword arguments changed.
    #[pyo3(signature = (**values))]
    fn replace(&self, py: Python<'_>, values: Option<&Bound<'_, PyDict>>) -> PyResult<Settings> {
        with_values(py, (*self.settings).clone(), values).map(Settings::wrap)
    }

    /// Every setting by field name, durations as Go prints them (`"24h0m0s"`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, text) in self.settings.describe() {
            if name == "disable_session_expiry_refresh" {
                d.set_item(name, self.settings.disable_session_expiry_refresh)?;
            } else if name == "access_url" {
                d.set_item(name, self.settings.access_url.as_deref())?;
            } else {
                d.set_item(name, text)?;
            }
        }
        Ok(d)
    }

    /// The settings as a JSON object (`Settings.from_json` reads it back).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&*self.settings)
            .map_err(|e| fail(py, Code::InvalidSettings, e.to_string()))
    }

    /// Lifetime of a browser session and the length of its sliding refresh.
    #[getter]
    fn session_duration<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta_out(py, self.settings.session_duration)
    }

    /// Whether sessions stop sliding forward while in use.
    #[getter]
    fn disable_session_expiry_refresh(&self) -> bool {
        self.settings.disable_session_expiry_refresh
    }

    /// Lifetime of a token created without one.
    #[getter]
    fn default_token_lifetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta_out(py, self.settings.default_token_lifetime)
    }

    /// Longest lifetime a member may request.
    #[getter]
    fn max_token_lifetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta_out(py, self.settings.max_token_lifetime)
    }

    /// Longest lifetime an Owner may request.
    #[getter]
    fn max_admin_token_lifetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta_out(py, self.settings.max_admin_token_lifetime)
    }

    /// How long expired keys are kept before `purge_expired` deletes them; zero keeps them.
    #[getter]
    fn api_keys_retention<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta_out(py, self.settings.api_keys_retention)
    }

    /// The deployment's external URL (for `WWW-Authenticate`'s `resource_metadata`), or None.
    #[getter]
    fn access_url(&self) -> Option<&str> {
        self.settings.access_url.as_deref()
    }

    /// Pickled through its JSON.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let json = slf.get().to_json(slf.py())?;
        Ok((slf.get_type().getattr("from_json")?, (json,)))
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .settings
            .describe()
            .into_iter()
            .map(|(name, text)| format!("{name}={text:?}"))
            .collect();
        format!("Settings({})", fields.join(", "))
    }
}
