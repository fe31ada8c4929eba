//! `ApiKey` (one row of Coder's `api_keys`), `KeyUpdate` (a refresh to write back) and
//! `Verified` (a key that authenticated, with its update).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use tokenward::{Code, Error, KeyId, LoginType, Timestamp};

use crate::convert::{datetime_out, timestamp_in};
use crate::errors::{fail, raise_default, registry};

/// One API key record: a row of Coder's `api_keys` table. Immutable; equal records compare
/// equal (the hash in constant time). Its `repr` never shows the hash.
#[pyclass(module = "tokenward._native", name = "ApiKey", frozen, eq)]
#[derive(PartialEq)]
pub struct ApiKey {
    pub(crate) key: Arc<tokenward::ApiKey>,
}

impl ApiKey {
    pub(crate) fn wrap(key: Arc<tokenward::ApiKey>) -> ApiKey {
        ApiKey { key }
    }

    /// The columns both dict views hold, as Python values.
    fn shared_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let k = &self.key;
        let d = PyDict::new(py);
        d.set_item("id", k.id.as_str())?;
        d.set_item("user_id", &k.user_id)?;
        d.set_item("last_used", datetime_out(py, k.last_used)?)?;
        d.set_item("expires_at", datetime_out(py, k.expires_at)?)?;
        d.set_item("created_at", datetime_out(py, k.created_at)?)?;
        d.set_item("updated_at", datetime_out(py, k.updated_at)?)?;
        d.set_item("login_type", login_type_out(py, k.login_type)?)?;
        d.set_item("scopes", scopes_out(py, k)?)?;
        d.set_item("token_name", &k.token_name)?;
        d.set_item("lifetime_seconds", k.lifetime_seconds)?;
        d.set_item("allow_list", allow_list_out(py, k)?)?;
        Ok(d)
    }
}

/// A `login_type` as the `LoginType` enum.
fn login_type_out(py: Python<'_>, t: LoginType) -> PyResult<Bound<'_, PyAny>> {
    registry(py)?.login_type.bind(py).call1((t.as_str(),))
}

/// Scopes as `Scope` members, or plain strings for scopes outside Coder's public list.
fn scopes_out<'py>(py: Python<'py>, key: &tokenward::ApiKey) -> PyResult<Bound<'py, PyList>> {
    let scope = registry(py)?.scope.bind(py);
    let members: Vec<Bound<'py, PyAny>> = key
        .scopes
        .iter()
        .map(|s| {
            scope
                .call1((s.as_str(),))
                .or_else(|_| Ok::<_, PyErr>(PyString::new(py, s.as_str()).into_any()))
        })
        .collect::<PyResult<_>>()?;
    PyList::new(py, members)
}

/// The allow-list as `{"type": ..., "id": ...}` dicts.
fn allow_list_out<'py>(py: Python<'py>, key: &tokenward::ApiKey) -> PyResult<Bound<'py, PyList>> {
    let entries: Vec<Bound<'py, PyDict>> = key
        .allow_list
        .iter()
        .map(|e| {
            let d = PyDict::new(py);
            d.set_item("type", &e.resource_type)?;
            d.set_item("id", &e.id)?;
            Ok(d)
        })
        .collect::<PyResult<_>>()?;
    PyList::new(py, entries)
}

/// A value of an allow-list or scope list as JSON: a string, or a dict of strings; anything
/// else is `code`.
pub(crate) fn json_of(
    value: &Bound<'_, PyAny>,
    name: &str,
    code: Code,
) -> PyResult<serde_json::Value> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(serde_json::Value::String(text.to_cow()?.into_owned()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in dict.iter() {
            let k = k.cast::<PyString>().map_err(|_| {
                fail(
                    py,
                    code,
                    format!("{name} holds a dict whose keys are not strings"),
                )
            })?;
            map.insert(k.to_cow()?.into_owned(), json_of(&v, name, code)?);
        }
        return Ok(serde_json::Value::Object(map));
    }
    Err(fail(
        py,
        code,
        format!("{name} holds a {}, not a string", value.get_type().name()?),
    ))
}

/// A list of strings or dicts as a JSON array.
fn json_list(value: &Bound<'_, PyAny>, name: &str) -> PyResult<serde_json::Value> {
    if value.is_instance_of::<PyString>() {
        return Err(fail(
            value.py(),
            Code::InvalidKey,
            format!("{name} must be a list, not a string"),
        ));
    }
    let items = value
        .try_iter()?
        .map(|item| json_of(&item?, name, Code::InvalidKey))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(serde_json::Value::Array(items))
}

fn invalid_key(py: Python<'_>, detail: String) -> PyErr {
    raise_default(py, &Error::InvalidKey(detail))
}

fn to_value(py: Python<'_>, t: Timestamp) -> PyResult<serde_json::Value> {
    serde_json::to_value(t).map_err(|e| invalid_key(py, e.to_string()))
}

#[pymethods]
impl ApiKey {
    /// A record from its columns, with Coder's column defaults for those not given (never
    /// used, `updated_at = created_at`, a lifetime of 86400 s, address `0.0.0.0`, no name,
    /// scopes `[coder:all]`, allow-list `[*:*]`). Times are aware datetimes or RFC 3339
    /// strings; `hashed_secret` is the 32-byte SHA-256 of the secret.
    #[new]
    #[pyo3(signature = (
        *, id, hashed_secret, user_id, login_type, created_at, expires_at, last_used=None,
        updated_at=None, lifetime_seconds=None, ip_address=None, token_name=None, scopes=None,
        allow_list=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        id: &str,
        hashed_secret: &[u8],
        user_id: &str,
        login_type: &str,
        created_at: &Bound<'_, PyAny>,
        expires_at: &Bound<'_, PyAny>,
        last_used: Option<&Bound<'_, PyAny>>,
        updated_at: Option<&Bound<'_, PyAny>>,
        lifetime_seconds: Option<i64>,
        ip_address: Option<&str>,
        token_name: Option<&str>,
        scopes: Option<&Bound<'_, PyAny>>,
        allow_list: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ApiKey> {
        let id = KeyId::parse(id).map_err(|e| invalid_key(py, format!("invalid key id: {e}")))?;
        let login_type: LoginType = login_type
            .parse()
            .map_err(|e: Error| raise_default(py, &e))?;
        let template = tokenward::ApiKey::new(
            id,
            hashed_secret,
            user_id,
            login_type,
            timestamp_in(created_at, "created_at")?,
            timestamp_in(expires_at, "expires_at")?,
        );
        // Every column in the storage form, the core's defaults first, then what was given;
        // the core's own decoder checks the whole row, as it checks a row read from a store.
        let mut row =
            serde_json::to_value(template.storage()).map_err(|e| invalid_key(py, e.to_string()))?;
        let columns = row.as_object_mut().expect("the storage form is an object");
        if let Some(t) = last_used {
            columns.insert(
                "last_used".into(),
                to_value(py, timestamp_in(t, "last_used")?)?,
            );
        }
        if let Some(t) = updated_at {
            columns.insert(
                "updated_at".into(),
                to_value(py, timestamp_in(t, "updated_at")?)?,
            );
        }
        if let Some(seconds) = lifetime_seconds {
            columns.insert("lifetime_seconds".into(), seconds.into());
        }
        if let Some(ip) = ip_address {
            columns.insert("ip_address".into(), ip.into());
        }
        if let Some(name) = token_name {
            columns.insert("token_name".into(), name.into());
        }
        if let Some(scopes) = scopes {
            columns.insert("scopes".into(), json_list(scopes, "scopes")?);
        }
        if let Some(entries) = allow_list {
            columns.insert("allow_list".into(), json_list(entries, "allow_list")?);
        }
        let key: tokenward::ApiKey =
            serde_json::from_value(row).map_err(|e| invalid_key(py, e.to_string()))?;
        Ok(ApiKey::wrap(Arc::new(key)))
    }

    /// A record from a dict with the columns' names, as `to_storage_dict()` or a database row
    /// gives it (`scope`, the public view's derived column, is ignored).
    #[classmethod]
    fn from_dict<'py>(
        cls: &Bound<'py, pyo3::types::PyType>,
        row: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let columns = row.copy()?;
        if columns.contains("scope")? {
            columns.del_item("scope")?;
        }
        cls.call((), Some(&columns))
    }

    /// A record from its storage JSON (`to_storage_json()`, the form a store keeps).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<ApiKey> {
        serde_json::from_str(text)
            .map(|key| ApiKey::wrap(Arc::new(key)))
            .map_err(|e| invalid_key(py, e.to_string()))
    }

    /// The key id: the token's first 10 characters. Not secret.
    #[getter]
    fn id(&self) -> &str {
        self.key.id.as_str()
    }

    /// SHA-256 of the secret (32 bytes). Keep it as secret as the token.
    #[getter]
    fn hashed_secret<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.hashed_secret)
    }

    /// The owner's user id.
    #[getter]
    fn user_id(&self) -> &str {
        &self.key.user_id
    }

    /// Last authenticated use (the Unix epoch for a key never used).
    #[getter]
    fn last_used<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.key.last_used)
    }

    /// Absolute expiry: the key is valid while now <= expires_at.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.key.expires_at)
    }

    /// Creation time.
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.key.created_at)
    }

    /// Last change of the key's settings (refreshes leave it).
    #[getter]
    fn updated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.key.updated_at)
    }

    /// How the key was obtained (`LoginType`).
    #[getter]
    fn login_type<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        login_type_out(py, self.key.login_type)
    }

    /// The seconds a sliding refresh extends the key by.
    #[getter]
    fn lifetime_seconds(&self) -> i64 {
        self.key.lifetime_seconds
    }

    /// The address of the last refresh (or creation), bare; `0.0.0.0` when unknown.
    #[getter]
    fn ip_address(&self) -> String {
        self.key.ip_address.to_canonical().to_string()
    }

    /// The token's name; empty for sessions.
    #[getter]
    fn token_name(&self) -> &str {
        &self.key.token_name
    }

    /// Canonical scopes (`Scope` members; a scope outside Coder's public list as a string).
    #[getter]
    fn scopes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        scopes_out(py, &self.key)
    }

    /// The deprecated single scope derived from the scopes: `all`, `application_connect` or "".
    #[getter]
    fn scope(&self) -> &'static str {
        tokenward::key::legacy_scope(&self.key.scopes)
    }

    /// The allow-list, as `{"type": ..., "id": ...}` dicts.
    #[getter]
    fn allow_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        allow_list_out(py, &self.key)
    }

    /// Whether the key has expired at `now` (an aware datetime).
    fn is_expired(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.key.is_expired(timestamp_in(now, "now")?))
    }

    /// The public view (codersdk `APIKey`): every column but the hash and the address, plus
    /// the derived `scope`. What an API may return.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = self.shared_columns(py)?;
        d.set_item("scope", tokenward::key::legacy_scope(&self.key.scopes))?;
        Ok(d)
    }

    /// Every column, the hash as bytes: the row a host stores. `ApiKey.from_dict` reads it back.
    fn to_storage_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = self.shared_columns(py)?;
        d.set_item("hashed_secret", PyBytes::new(py, &self.key.hashed_secret))?;
        d.set_item("ip_address", self.ip_address())?;
        Ok(d)
    }

    /// The public view as Coder's JSON (RFC 3339 times, no hash).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.key.public()).map_err(|e| invalid_key(py, e.to_string()))
    }

    /// Every column as JSON, the hash in lower-case hex: the storage form.
    fn to_storage_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.key.storage()).map_err(|e| invalid_key(py, e.to_string()))
    }

    fn __repr__(&self) -> String {
        format!(
            "ApiKey(id={:?}, user_id={:?}, login_type={:?}, token_name={:?}, expires_at={:?})",
            self.key.id.as_str(),
            self.key.user_id,
            self.key.login_type.as_str(),
            self.key.token_name,
            self.key.expires_at.to_rfc3339_micros(),
        )
    }
}

/// What a successful check decided to write back: `last_used`, `expires_at` (slid) and
/// `ip_address`, as Coder's `UpdateAPIKeyByID` writes them.
#[pyclass(module = "tokenward._native", name = "KeyUpdate", frozen, eq)]
#[derive(PartialEq)]
pub struct KeyUpdate {
    pub(crate) update: tokenward::KeyUpdate,
}

#[pymethods]
impl KeyUpdate {
    /// The key to update.
    #[getter]
    fn id(&self) -> &str {
        self.update.id.as_str()
    }

    /// The new `last_used`.
    #[getter]
    fn last_used<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.update.last_used)
    }

    /// The new `expires_at`.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.update.expires_at)
    }

    /// The new `ip_address`.
    #[getter]
    fn ip_address(&self) -> String {
        self.update.ip_address.to_canonical().to_string()
    }

    /// The `expires_at` the decision was made on: write only while the row still has it.
    #[getter]
    fn previous_expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.update.previous_expires_at)
    }

    /// The record with this update written at `now` (`None`: the current time), never
    /// backwards, as the stores write it.
    #[pyo3(signature = (key, now=None))]
    fn apply_to(
        &self,
        py: Python<'_>,
        key: &ApiKey,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ApiKey> {
        if key.key.id != self.update.id {
            return Err(fail(
                py,
                Code::InvalidArgument,
                format!(
                    "this update is for key {}, not {}",
                    self.update.id.as_str(),
                    key.key.id.as_str()
                ),
            ));
        }
        let mut updated = (*key.key).clone();
        updated.apply(&self.update, crate::convert::now_in(now)?);
        Ok(ApiKey::wrap(Arc::new(updated)))
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyUpdate(id={:?}, last_used={:?}, expires_at={:?}, ip_address={:?})",
            self.update.id.as_str(),
            self.update.last_used.to_rfc3339_micros(),
            self.update.expires_at.to_rfc3339_micros(),
            self.ip_address(),
        )
    }
}

/// A token that authenticated: its key, and the refresh to write back (`None`: nothing).
#[pyclass(module = "tokenward._native", name = "Verified", frozen, freelist = 64)]
pub struct Verified {
    /// The key, as fetched (before `update`).
    #[pyo3(get)]
    key: Py<ApiKey>,
    /// The refresh to write back, or `None`.
    #[pyo3(get)]
    update: Option<Py<KeyUpdate>>,
}

impl Verified {
    pub(crate) fn new(
        py: Python<'_>,
        key: Py<ApiKey>,
        update: Option<tokenward::KeyUpdate>,
    ) -> PyResult<Verified> {
        let update = update
            .map(|update| Py::new(py, KeyUpdate { update }))
            .transpose()?;
        Ok(Verified { key, update })
    }
}

#[pymethods]
impl Verified {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Verified(key={}, update={})",
            self.key.borrow(py).__repr__(),
            match &self.update {
                Some(u) => u.borrow(py).__repr__(),
                None => "None".to_owned(),
            }
        )
    }
}
