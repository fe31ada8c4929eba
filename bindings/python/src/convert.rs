//! Python values to the core's types and back: aware datetimes, durations, text.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};
use tokenward::{Code, Duration, Timestamp};

use crate::errors::{fail, raise_default};

/// `datetime.timezone.utc`.
fn utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })
    .map(|utc| utc.bind(py))
}

/// An instant from an aware `datetime` (any zone, converted to UTC) or an RFC 3339 string. A
/// naive datetime is an error (`InvalidTimestamp`): its zone would be a guess.
pub(crate) fn timestamp_in(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Timestamp> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Timestamp::parse_rfc3339(&text.to_cow()?)
            .map_err(|e| raise_default(py, &tokenward::Error::from(e)));
    }
    if !value.hasattr("tzinfo")? || !value.hasattr("astimezone")? {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a datetime or an RFC 3339 string, not {}",
            value.get_type().name()?
        )));
    }
    if value.getattr("tzinfo")?.is_none() || value.call_method0("utcoffset")?.is_none() {
        return Err(fail(
            py,
            Code::InvalidTimestamp,
            format!(
                "{name} is a naive datetime: give a timezone-aware one (datetime.timezone.utc)"
            ),
        ));
    }
    let in_utc = value.call_method1("astimezone", (utc(py)?,)).map_err(|e| {
        if e.is_instance_of::<pyo3::exceptions::PyOverflowError>(py) {
            fail(
                py,
                Code::InvalidTimestamp,
                format!("{name} is out of range in UTC"),
            )
        } else {
            e
        }
    })?;
    let in_utc: DateTime<Utc> = in_utc.extract()?;
    Ok(Timestamp::from_datetime(in_utc))
}

/// An optional instant: `None` is "now".
pub(crate) fn now_in(value: Option<&Bound<'_, PyAny>>) -> PyResult<Timestamp> {
    match value {
        None => Ok(Timestamp::now()),
        Some(v) if v.is_none() => Ok(Timestamp::now()),
        Some(v) => timestamp_in(v, "now"),
    }
}

/// An aware UTC `datetime` with microseconds.
pub(crate) fn datetime_out(py: Python<'_>, t: Timestamp) -> PyResult<Bound<'_, PyAny>> {
    Ok(t.to_datetime().into_pyobject(py)?.into_any())
}

/// A duration from a `timedelta` or a Go duration string (`"168h"`, `"7d"`, `"1h30m"`).
pub(crate) fn duration_in(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Duration> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Duration::parse(&text.to_cow()?)
            .map_err(|e| raise_default(py, &tokenward::Error::from(e)));
    }
    let delta: TimeDelta = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a timedelta or a Go duration string such as \"168h\"",
        ))
    })?;
    delta
        .num_nanoseconds()
        .map(Duration::from_nanos)
        .ok_or_else(|| {
            fail(
                py,
                Code::InvalidDuration,
                format!("{name} is outside Go's duration range (about 292 years)"),
            )
        })
}

/// A `timedelta` (whole microseconds; a sub-microsecond remainder is dropped).
pub(crate) fn timedelta_out(py: Python<'_>, d: Duration) -> PyResult<Bound<'_, PyAny>> {
    let micros = d.as_nanos() / 1000;
    Ok(TimeDelta::microseconds(micros)
        .into_pyobject(py)?
        .into_any())
}

unsafe extern "C" {
    /// CPython's UTF-8 view of a `str`, cached in the object (no copy for ASCII text). In the
    /// stable ABI from 3.10, and exported with this signature by every CPython since 3.3, so
    /// an abi3 module built for 3.9 may call it (PyO3 offers it only from 3.10 on).
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::ffi::c_char;
}

/// The text of a `str` without copying it (CPython's cached UTF-8 view): the token, the
/// address and other per-call arguments. A `str` that UTF-8 cannot hold (a lone surrogate)
/// is `InvalidArgument` naming `name`, never PyO3's `UnicodeEncodeError`, which would carry
/// the whole text (a token's secret) in its `object`.
pub(crate) fn text<'a>(value: &'a Bound<'_, PyString>, name: &str) -> PyResult<&'a str> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `value` is a live `str`; the buffer CPython returns lives as long as the object,
    // which `'a` borrows.
    let data = unsafe { PyUnicode_AsUTF8AndSize(value.as_ptr(), &mut size) };
    if data.is_null() {
        let py = value.py();
        let error = PyErr::fetch(py);
        if !error.is_instance_of::<pyo3::exceptions::PyUnicodeEncodeError>(py) {
            return Err(error); // MemoryError, ...
        }
        // Not passed on: its `object` is the whole text.
        drop(error);
        return Err(fail(
            py,
            Code::InvalidArgument,
            format!("{name} is not valid text: it holds a lone surrogate"),
        ));
    }
    // SAFETY: CPython wrote `size` bytes of UTF-8 at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size as usize) };
    // SAFETY: CPython's UTF-8 encoding of a `str` is UTF-8.
    Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Text of a request (a header name or value, a query string) given as `str` or `bytes`;
/// bytes that are not UTF-8 become DEL one for one (`tokenward::extract::request_text`).
pub(crate) fn request_text<'a>(value: &'a Bound<'_, PyAny>, name: &str) -> PyResult<Cow<'a, str>> {
    if let Ok(value) = value.cast::<PyString>() {
        return text(value, name).map(Cow::Borrowed);
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(tokenward::extract::request_text(bytes.as_bytes()));
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be str or bytes, not {}",
        value.get_type().name()?
    )))
}
