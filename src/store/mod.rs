//! `KeyStore`: where keys live between requests. `MemoryStore` for tests and short-lived
//! processes, `SqliteStore` as the embedded default, `PostgresStore` for many servers.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::Error;
use crate::key::{ApiKey, LoginType, ZERO_LIFETIME_STORED_AS};
use crate::refresh::KeyUpdate;
use crate::time::{Clock, Timestamp};
use crate::token::KeyId;

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresMode, PostgresOptions, PostgresStore, postgres_target};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

/// Coder's purge deletes at most this many expired keys per batch (compatibility §3, dbpurge).
pub const PURGE_BATCH: usize = 10_000;

/// The row an insert stores, by Coder's table rules (compatibility §3): a `lifetime_seconds` of 0 is
/// stored as 86400, and an empty allow-list is refused (`api_keys_allow_list_not_empty`).
pub(crate) fn row_to_insert(key: &ApiKey) -> Result<Cow<'_, ApiKey>, Error> {
    if key.allow_list.is_empty() {
        return Err(Error::InvalidKey(
            "allow_list must not be empty (use *:* to allow everything)".into(),
        ));
    }
    if key.lifetime_seconds != 0 {
        return Ok(Cow::Borrowed(key));
    }
    let mut row = key.clone();
    row.lifetime_seconds = ZERO_LIFETIME_STORED_AS;
    Ok(Cow::Owned(row))
}

/// The `expires_at` an expire at `now` writes: one microsecond before, so the key is expired
/// at `now` itself (see [`KeyStore::expire`]).
pub(crate) fn expired_at(now: Timestamp) -> Timestamp {
    Timestamp::from_unix_micros(now.unix_micros().saturating_sub(1))
}

/// Which keys [`KeyStore::list`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only this user's keys; `None` for every user.
    pub user_id: Option<String>,
    /// Only keys of this login type (`Some(LoginType::Token)` for token listings).
    pub login_type: Option<LoginType>,
    /// Hide keys with `expires_at < now` at this instant; `None` keeps expired keys.
    pub hide_expired_at: Option<Timestamp>,
}

impl ListFilter {
    /// Whether `key` passes the filter.
    pub fn matches(&self, key: &ApiKey) -> bool {
        self.user_id
            .as_deref()
            .is_none_or(|user| key.user_id == user)
            && self.login_type.is_none_or(|t| key.login_type == t)
            && self.hide_expired_at.is_none_or(|now| !key.is_expired(now))
    }
}

/// A key's owner, as a store that knows users reads it (`PostgresStore` on Coder's database:
/// `users` and `user_links`), for the checks Coder's middleware makes after the key's own
/// (compatibility §6 rows 7 and 11, and the deleted-user check of Coder's open PR #28634).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// `users.status`: `active`, `dormant` or `suspended`.
    pub status: String,
    /// `users.deleted` (also true when the user's row is gone).
    pub deleted: bool,
    /// For a `github` or `oidc` key, the owner's `user_links` row for that login type, as its
    /// OAuth expiry (Go's zero time when it has none); `None` when there is no such link.
    pub link_oauth_expiry: Option<Timestamp>,
}

/// A key and, from a store that knows users, its owner: what [`KeyStore::get_with_owner`]
/// finds.
pub type KeyWithOwner = (Arc<ApiKey>, Option<Owner>);

/// The operations the key lifecycle needs, mirroring Coder's queries (compatibility §3). Synchronous;
/// implementations are shared across threads.
///
/// Failures are [`Error::Store`] (a [`StoreError`](crate::error::StoreError) naming the kind
/// and the operation), except a duplicate `(user_id, token_name)` among `token` keys, which
/// is [`Error::NameConflict`] (Coder's `idx_api_key_name`), and a record the table refuses,
/// which is [`Error::InvalidKey`].
pub trait KeyStore: Send + Sync {
    /// Adds a new key. Its id must be new, and a `token` key's name must be unused by the
    /// user's other `token` keys. Coder's column rules apply: a `lifetime_seconds` of 0 is
    /// stored as 86400, and an empty allow-list is refused.
    fn insert(&self, key: &ApiKey) -> Result<(), Error>;

    /// The key with this id (`GetAPIKeyByID`).
    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error>;

    /// The key with this id and, from a store that knows users, its [`Owner`]; a store that
    /// keeps only keys answers `None` for the owner, and no owner check is made.
    fn get_with_owner(&self, id: &KeyId) -> Result<Option<KeyWithOwner>, Error> {
        Ok(self.get(id)?.map(|key| (key, None)))
    }

    /// The user's key with this name; never matches an empty name (`GetAPIKeyByName`).
    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error>;

    /// Keys passing `filter`, oldest first (by `created_at`, then id).
    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error>;

    /// Persists a refresh decision as [`ApiKey::apply`] does, atomically, at the time `clock`
    /// reads inside the write (as `expire` reads it), so a key that lapsed or was expired
    /// before the write never slides; `false` when the key is gone. A [`Timestamp`] is a
    /// clock that always reads itself.
    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error>;

    /// Ends the key (compatibility §4.6): `expires_at = min(expires_at, now - 1µs)`, with `now` read from
    /// `clock` inside the write, so any authenticate that reads the clock after this returns
    /// finds `expires_at < now`. Coder stores `now`; the microsecond less is deliberate, so an
    /// authenticate in the same microsecond cannot pass and slide the key (Coder's own test,
    /// `expires_at < now` afterwards, holds). Idempotent: an expired key keeps its
    /// `expires_at`. `false` when there is no such key.
    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error>;

    /// Deletes a key; `false` when there is no such key.
    fn delete(&self, id: &KeyId) -> Result<bool, Error>;

    /// Deletes every key of a user; returns how many.
    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error>;

    /// Deletes at most `limit` keys with `expires_at < before`; returns how many.
    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error>;

    /// Whether a call may wait on I/O or on other processes (a file, a server, a lock), so
    /// that an async host runs the calls off its event loop; `false` only for a store in
    /// this process's memory, whose calls take microseconds.
    fn may_block(&self) -> bool {
        true
    }
}
