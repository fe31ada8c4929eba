//! `Authority`: a key store, the settings and the clock, with every lifecycle operation.
//! Store work runs with the GIL released.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use tokenward::{
    AllowEntry, Code, CreateTokenRequest, Error, KeyId, ListTokens, LoginType, Operation,
    StoreError, StoreErrorKind,
};

use crate::convert::{datetime_out, duration_in, text, timedelta_out};
use crate::errors::{fail, raise, raise_default};
use crate::key::{ApiKey, Verified};
use crate::settings::Settings;

/// A user as the lifecycle sees one: an opaque, non-empty id and site roles (`"owner"` may act
/// for other users). Methods that take a user also take its id as a string (no roles).
#[pyclass(module = "tokenward._native", name = "User", frozen, eq)]
#[derive(PartialEq)]
pub struct User {
    user: tokenward::User,
}

#[pymethods]
impl User {
    #[new]
    #[pyo3(signature = (id, roles = None))]
    fn new(id: String, roles: Option<Vec<String>>) -> User {
        User {
            user: tokenward::User {
                id,
                roles: roles.unwrap_or_default(),
            },
        }
    }

    /// The user id.
    #[getter]
    fn id(&self) -> &str {
        &self.user.id
    }

    /// Pickled as `User(id, roles)`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let user = &slf.get().user;
        let args = (user.id.as_str(), user.roles.clone());
        PyTuple::new(
            slf.py(),
            [
                slf.get_type().into_any(),
                args.into_pyobject(slf.py())?.into_any(),
            ],
        )
    }

    /// The site roles.
    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.user.roles)
    }

    /// Whether the user is an Owner.
    #[getter]
    fn is_owner(&self) -> bool {
        self.user.is_owner()
    }

    fn __repr__(&self) -> String {
        format!("User(id={:?}, roles={:?})", self.user.id, self.user.roles)
    }
}

/// A `User`, or a user id.
fn user_of(value: &Bound<'_, PyAny>) -> PyResult<tokenward::User> {
    if let Ok(user) = value.cast::<User>() {
        return Ok(user.get().user.clone());
    }
    if let Ok(id) = value.cast::<PyString>() {
        return Ok(tokenward::User::new(id.to_cow()?, &[]));
    }
    Err(PyTypeError::new_err(format!(
        "a user must be a tokenward.User or a user id string, not {}",
        value.get_type().name()?
    )))
}

/// The request's address: a bare IP, or None (unknown, stored as `0.0.0.0`).
fn address<'a>(value: Option<&'a Bound<'_, PyString>>) -> PyResult<&'a str> {
    value
        .map(|v| text(v, "remote_addr"))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// A key id given as text.
fn key_id(py: Python<'_>, id: &str) -> PyResult<KeyId> {
    KeyId::parse(id).map_err(|e| raise_default(py, &Error::from(e)))
}

/// Issues, checks and manages Coder API keys over one store. Open it with `Authority.open`;
/// share one between threads. `close()` (or a `with` block) releases the store; a closed
/// authority raises `StoreIo`.
#[pyclass(module = "tokenward._native", name = "Authority", frozen)]
pub struct Authority {
    inner: RwLock<Option<Arc<tokenward::Authority>>>,
}

impl Authority {
    /// The authority, or `StoreIo` once closed.
    fn get(&self, py: Python<'_>, operation: Operation) -> PyResult<Arc<tokenward::Authority>> {
        // The guard is dropped before any Python runs: building the exception may switch
        // threads, and a `close()` waiting for the write lock would then never get it.
        let authority = self.inner.read().unwrap_or_else(|e| e.into_inner()).clone();
        authority.ok_or_else(|| {
            let closed = StoreError::new(StoreErrorKind::Io, operation, "the authority is closed");
            raise_default(py, &Error::from(closed))
        })
    }

    /// Runs `work` on the authority with the GIL released; its error becomes the exception,
    /// with Coder's answer under this authority's settings.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        operation: Operation,
        work: impl FnOnce(&tokenward::Authority) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let authority = self.get(py, operation)?;
        py.detach(|| work(&authority))
            .map_err(|e| raise(py, &e, authority.settings()))
    }
}

/// `(token, key)` for a key just made: the token to hand to its owner once, and its record.
fn minted(py: Python<'_>, new: tokenward::NewKey) -> PyResult<(String, Py<ApiKey>)> {
    let token = new.token.expose();
    let key = Py::new(py, ApiKey::wrap(Arc::new(new.key)))?;
    Ok((token, key))
}

fn keys(py: Python<'_>, keys: Vec<tokenward::ApiKey>) -> PyResult<Vec<Py<ApiKey>>> {
    keys.into_iter()
        .map(|k| Py::new(py, ApiKey::wrap(Arc::new(k))))
        .collect()
}

/// Allow-list entries from `"type:id"` strings or `{"type": ..., "id": ...}` dicts, read by
/// the core (`AllowEntry::from_json`).
fn allow_entries(py: Python<'_>, entries: &Bound<'_, PyAny>) -> PyResult<Vec<AllowEntry>> {
    if entries.is_instance_of::<PyString>() {
        return Err(fail(
            py,
            Code::InvalidAllowList,
            "allow_list is a list of entries, not one string",
        ));
    }
    entries
        .try_iter()?
        .map(|entry| {
            let json = crate::key::json_of(&entry?, "allow_list", Code::InvalidAllowList)?;
            AllowEntry::from_json(&json).map_err(|e| raise_default(py, &e))
        })
        .collect()
}

#[pymethods]
impl Authority {
    /// Opens the store `url` names: `":memory:"` (gone with the process), a SQLite file path
    /// (or `sqlite:<path>`; created when missing, shareable between processes), or
    /// `postgres://user:password@host:port/database` (PostgreSQL, shared by many servers; the
    /// password never appears in an error). `settings`: `Settings()` (Coder's defaults) when
    /// None.
    #[staticmethod]
    #[pyo3(signature = (url, settings = None))]
    fn open(
        py: Python<'_>,
        url: &Bound<'_, PyAny>,
        settings: Option<PyRef<'_, Settings>>,
    ) -> PyResult<Authority> {
        // A path object (`pathlib.Path`) names a SQLite file as its string does.
        let url = match url.cast::<PyString>() {
            Ok(text) => text.to_cow()?.into_owned(),
            Err(_) => py
                .import("os")?
                .call_method1("fspath", (url,))?
                .cast_into::<PyString>()
                .map_err(|_| PyTypeError::new_err("url must be a str or a str path"))?
                .to_cow()?
                .into_owned(),
        };
        let settings = settings.map(|s| (*s.settings).clone()).unwrap_or_default();
        let opened = py.detach(|| tokenward::Authority::open(&url, settings));
        opened
            .map(|a| Authority {
                inner: RwLock::new(Some(Arc::new(a))),
            })
            .map_err(|e| raise_default(py, &e))
    }

    /// The settings in force.
    #[getter]
    fn settings(&self, py: Python<'_>) -> PyResult<Settings> {
        Ok(Settings::wrap(
            self.get(py, Operation::Get)?.settings().clone(),
        ))
    }

    /// Whether calls may wait on I/O or on other processes (a SQLite file; not `:memory:`):
    /// async hosts run them off the event loop (`tokenward.asgi` does so by default).
    #[getter]
    fn may_block(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.get(py, Operation::Get)?.store().may_block())
    }

    /// "Now" by this authority's clock.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_out(py, self.get(py, Operation::Get)?.now())
    }

    /// Mints a named API token for `target` (the actor itself when None) and stores it.
    /// Only an Owner may mint for another user. `lifetime`: a timedelta or Go string, None for
    /// the default (`default_token_lifetime`); limited by the target's maximum. `scopes`:
    /// Coder's scope names (`Scope` members); `allow_list`: `"type:id"` strings or dicts. An
    /// empty `token_name` gets a generated one. Returns `(token, key)`: give the token to its
    /// owner once; only its hash is stored.
    #[pyo3(signature = (
        actor, target = None, *, lifetime = None, token_name = "", scopes = None, scope = None,
        allow_list = None, remote_addr = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_token(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        target: Option<&Bound<'_, PyAny>>,
        lifetime: Option<&Bound<'_, PyAny>>,
        token_name: &str,
        scopes: Option<Vec<String>>,
        scope: Option<String>,
        allow_list: Option<&Bound<'_, PyAny>>,
        remote_addr: Option<&Bound<'_, PyString>>,
    ) -> PyResult<(String, Py<ApiKey>)> {
        let remote_addr = address(remote_addr)?;
        let actor = user_of(actor)?;
        let target = match target {
            Some(t) if !t.is_none() => user_of(t)?,
            _ => actor.clone(),
        };
        let mut request = CreateTokenRequest {
            token_name: token_name.to_owned(),
            scopes: scopes.unwrap_or_default(),
            scope,
            ..CreateTokenRequest::default()
        };
        if let Some(lifetime) = lifetime.filter(|l| !l.is_none()) {
            request.lifetime = duration_in(lifetime, "lifetime")?;
        }
        if let Some(entries) = allow_list.filter(|l| !l.is_none()) {
            request.allow_list = allow_entries(py, entries)?;
        }
        let new = self.run(py, Operation::Insert, |a| {
            a.create_token(&actor, &target, &request, remote_addr)
        })?;
        minted(py, new)
    }

    /// Mints a browser session for `user` (login type `password` unless given; not `token`)
    /// lasting `session_duration`, and stores it. Returns `(token, key)`.
    #[pyo3(signature = (user, login_type = "password", remote_addr = None))]
    fn create_session(
        &self,
        py: Python<'_>,
        user: &Bound<'_, PyAny>,
        login_type: &str,
        remote_addr: Option<&Bound<'_, PyString>>,
    ) -> PyResult<(String, Py<ApiKey>)> {
        let user = user_of(user)?;
        let remote_addr = address(remote_addr)?;
        let login_type: LoginType = login_type
            .parse()
            .map_err(|e: Error| raise_default(py, &e))?;
        let new = self.run(py, Operation::Insert, |a| {
            a.create_session(&user, login_type, remote_addr)
        })?;
        minted(py, new)
    }

    /// Mints a session key as Coder's `POST /users/{user}/keys` does (login type `password`,
    /// lasting `default_token_lifetime`). Returns `(token, key)`.
    #[pyo3(signature = (user, remote_addr = None))]
    fn create_session_key(
        &self,
        py: Python<'_>,
        user: &Bound<'_, PyAny>,
        remote_addr: Option<&Bound<'_, PyString>>,
    ) -> PyResult<(String, Py<ApiKey>)> {
        let user = user_of(user)?;
        let remote_addr = address(remote_addr)?;
        let new = self.run(py, Operation::Insert, |a| {
            a.create_session_key(&user, remote_addr)
        })?;
        minted(py, new)
    }

    /// Checks a presented token against the store and writes the refresh Coder's middleware
    /// writes. Returns `Verified(key, update)`, `key` as stored after the refresh. A token that
    /// does not authenticate raises a `Rejected` subclass (Coder's 401); a store failure a
    /// `StoreError` (Coder's 500), never a 401.
    #[pyo3(signature = (token, remote_addr = None))]
    fn authenticate(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyString>,
        remote_addr: Option<&Bound<'_, PyString>>,
    ) -> PyResult<Verified> {
        let (token, remote_addr) = (text(token, "token")?, address(remote_addr)?);
        let authenticated = self.run(py, Operation::Get, |a| a.authenticate(token, remote_addr))?;
        let key = Py::new(py, ApiKey::wrap(authenticated.key))?;
        Verified::new(py, key, authenticated.update)
    }

    /// The longest lifetime `user` may request (Coder's `tokenconfig`).
    fn token_config<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = user_of(user)?;
        timedelta_out(py, self.get(py, Operation::Get)?.token_config(&user))
    }

    /// Named tokens visible to `actor`, oldest first: the actor's own, `user_id`'s, or with
    /// `all=True` every user's (others' only for an Owner); expired ones with
    /// `include_expired=True`.
    #[pyo3(signature = (actor, *, user_id = None, all = false, include_expired = false))]
    fn list_tokens(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        user_id: Option<String>,
        all: bool,
        include_expired: bool,
    ) -> PyResult<Vec<Py<ApiKey>>> {
        let actor = user_of(actor)?;
        let options = ListTokens {
            user_id,
            all,
            include_expired,
        };
        let found = self.run(py, Operation::List, |a| a.list_tokens(&actor, &options))?;
        keys(py, found)
    }

    /// One key by id, if `actor` may see it; else `NotFound`.
    fn get_key(&self, py: Python<'_>, actor: &Bound<'_, PyAny>, id: &str) -> PyResult<ApiKey> {
        let (actor, id) = (user_of(actor)?, key_id(py, id)?);
        let key = self.run(py, Operation::Get, |a| a.get_key(&actor, &id))?;
        Ok(ApiKey::wrap(Arc::new(key)))
    }

    /// `user_id`'s token named `name`, if `actor` may see it; else `NotFound`.
    fn get_token_by_name(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        user_id: &str,
        name: &str,
    ) -> PyResult<ApiKey> {
        let actor = user_of(actor)?;
        let key = self.run(py, Operation::GetByName, |a| {
            a.get_token_by_name(&actor, user_id, name)
        })?;
        Ok(ApiKey::wrap(Arc::new(key)))
    }

    /// What an operator typed: a token name of `user_id` first, then a key id (or a whole
    /// token), as Coder's `tokens rm` resolves it.
    fn find_token(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        user_id: &str,
        name_or_id: &Bound<'_, PyString>,
    ) -> PyResult<ApiKey> {
        let actor = user_of(actor)?;
        let name_or_id = text(name_or_id, "name_or_id")?;
        let key = self.run(py, Operation::GetByName, |a| {
            a.find_token(&actor, user_id, name_or_id)
        })?;
        Ok(ApiKey::wrap(Arc::new(key)))
    }

    /// Ends a key now, keeping its row; an authentication that starts after this returns is
    /// refused. Another user's key is `NotFound` unless the actor is an Owner.
    fn expire(&self, py: Python<'_>, actor: &Bound<'_, PyAny>, id: &str) -> PyResult<()> {
        let (actor, id) = (user_of(actor)?, key_id(py, id)?);
        self.run(py, Operation::Expire, |a| a.expire(&actor, &id))
    }

    /// Deletes a key. Another user's key is `NotFound` unless the actor is an Owner.
    fn delete(&self, py: Python<'_>, actor: &Bound<'_, PyAny>, id: &str) -> PyResult<()> {
        let (actor, id) = (user_of(actor)?, key_id(py, id)?);
        self.run(py, Operation::Delete, |a| a.delete(&actor, &id))
    }

    /// Deletes every key of a user (as Coder does when a user is deleted); returns how many.
    fn delete_user_keys(&self, py: Python<'_>, user_id: &str) -> PyResult<u64> {
        self.run(py, Operation::DeleteByUser, |a| a.delete_user_keys(user_id))
    }

    /// Deletes keys expired longer than `api_keys_retention` ago; returns how many.
    fn purge_expired(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, Operation::Purge, |a| a.purge_expired())
    }

    /// Releases the store. Later calls raise `StoreIo`; closing twice does nothing. Calls
    /// already running finish on the store they started with.
    fn close(&self, py: Python<'_>) {
        // Without the GIL, so that a thread holding the read lock can always finish.
        let closed = py.detach(|| self.inner.write().unwrap_or_else(|e| e.into_inner()).take());
        // Dropping the store (a SQLite connection) does I/O: also without the GIL.
        py.detach(move || drop(closed));
    }

    /// The authority itself, for a `with` block that closes it.
    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes the authority; an exception in the block propagates.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let open = self
            .inner
            .read()
            .map(|inner| inner.is_some())
            .unwrap_or(false);
        format!("Authority({})", if open { "open" } else { "closed" })
    }
}
