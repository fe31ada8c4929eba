//! `Authority`: a key store, the settings and a clock, with the whole lifecycle a host calls:
//! create, authenticate (check and persist the refresh), list, expire, delete, purge.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::check::{Rejection, try_verify};
use crate::duration::Duration;
use crate::error::Error;
use crate::issue::{self, CreateTokenRequest, NewKey, User};
use crate::key::{ApiKey, LoginType};
use crate::refresh::KeyUpdate;
use crate::settings::Settings;
#[cfg(feature = "sqlite")]
use crate::store::SqliteStore;
use crate::store::{KeyStore, ListFilter, MemoryStore, Owner, PURGE_BATCH};
use crate::time::{Clock, SystemClock, Timestamp};
use crate::token::KeyId;

/// How many generated names `create_token` tries before reporting the conflict.
const GENERATED_NAME_ATTEMPTS: u32 = 8;

/// The lifecycle of Coder keys over a [`KeyStore`]: what a host calls when tokenward keeps the
/// keys. `Send + Sync`; share one per process.
///
/// Users come from the host as [`User`] (`id` + site roles). An actor may act on another
/// user's keys only with the Owner role; otherwise another user's key is "not found", as Coder
/// answers (compatibility §4.6).
///
/// ```
/// use tokenward::{Authority, CreateTokenRequest, Settings, User};
///
/// # fn main() -> Result<(), tokenward::Error> {
/// let authority = Authority::open(":memory:", Settings::default())?;
/// let jane = User::new("jane", &[]);
///
/// // Jane mints a token for herself; the plain text is hers, shown once.
/// let minted = authority.create_token(&jane, &jane, &CreateTokenRequest::default(), "203.0.113.7")?;
/// let token = minted.token.expose();
///
/// // A request presents it: checked, and its first use recorded in the store.
/// let auth = authority.authenticate(&token, "203.0.113.7")?;
/// assert_eq!(auth.key.user_id, "jane");
/// assert!(auth.update.is_some());
///
/// // A wrong secret is rejected; the host answers as Coder does.
/// let forged = format!("{}-{}", minted.key.id, "x".repeat(22));
/// let error = authority.authenticate(&forged, "203.0.113.7").unwrap_err();
/// let answer = tokenward::http::answer(&error, authority.settings());
/// assert_eq!(answer.status, 401);
/// assert!(answer.body.contains("API key secret is invalid."));
/// assert_eq!(
///     answer.header("WWW-Authenticate"),
///     Some(r#"Bearer realm="coder", error="invalid_token", error_description="The access token has expired""#),
/// );
/// # Ok(())
/// # }
/// ```
pub struct Authority {
    store: Arc<dyn KeyStore>,
    settings: Settings,
    clock: Arc<dyn Clock>,
}

/// A successful [`Authority::authenticate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The key as stored after this request's refresh.
    pub key: Arc<ApiKey>,
    /// The refresh this request decided and wrote, if any. The store may have kept less of
    /// it (an expire or a newer refresh wins); `key` is what it kept.
    pub update: Option<KeyUpdate>,
}

/// Which tokens [`Authority::list_tokens`] returns (Coder's `GET /users/{user}/keys/tokens`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListTokens {
    /// Whose tokens; `None` for the actor's own.
    pub user_id: Option<String>,
    /// Every user's tokens (`include_all`); only an Owner sees other users' tokens.
    pub all: bool,
    /// Include expired tokens (`include_expired`).
    pub include_expired: bool,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The URL of an in-memory store for [`Authority::open`].
pub const MEMORY_URL: &str = ":memory:";

impl Authority {
    /// An authority over the store `url` names, so every binding and the command line open a
    /// store from one string:
    /// - `:memory:`: a new [`MemoryStore`], gone with the process;
    /// - `sqlite:<path>` or `sqlite://<path>`, or a plain file path: a [`SqliteStore`] file,
    ///   created when missing;
    /// - `postgres://user:password@host:port/database` (or `postgresql://`): a
    ///   [`PostgresStore`](crate::store::PostgresStore) (cargo feature `postgres`), in Coder's
    ///   tables or its own (`?mode=coder|owned`); the password never appears in an error.
    pub fn open(url: &str, settings: Settings) -> Result<Authority, Error> {
        let store: Arc<dyn KeyStore> = match StoreUrl::parse(url)? {
            StoreUrl::Memory => Arc::new(MemoryStore::new()),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
            #[cfg(not(feature = "sqlite"))]
            StoreUrl::Sqlite(_) => {
                return Err(Error::InvalidArgument(
                    "the SQLite store is not in this build (cargo feature \"sqlite\")".into(),
                ));
            }
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(url) => Arc::new(crate::store::PostgresStore::open(url)?),
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => {
                // Never echo the URL: it may carry a password.
                return Err(Error::InvalidArgument(
                    "the PostgreSQL store is not in this build (cargo feature \"postgres\")".into(),
                ));
            }
        };
        Authority::new(store, settings)
    }

    /// An authority over `store` with `settings`, reading the system clock. Settings that
    /// make no sense (a negative retention would purge live keys) are refused.
    pub fn new(store: Arc<dyn KeyStore>, settings: Settings) -> Result<Authority, Error> {
        settings.validate()?;
        Ok(Authority {
            store,
            settings,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same authority reading `clock` (a [`crate::ManualClock`] in tests).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Authority {
        Authority { clock, ..self }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn KeyStore> {
        &self.store
    }

    /// "Now" by this authority's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Mints a named API token for `target` (compatibility §4.2) and stores it. The actor must be the
    /// target or an Owner; the lifetime is limited by the *target's* roles.
    pub fn create_token(
        &self,
        actor: &User,
        target: &User,
        request: &CreateTokenRequest,
        remote_addr: &str,
    ) -> Result<NewKey, Error> {
        if actor.id != target.id && !actor.is_owner() {
            return Err(Error::Forbidden(
                "only an Owner may create tokens for another user",
            ));
        }
        // A generated name may already be taken; the caller did not choose it, so try another.
        let mut attempts = 0;
        loop {
            let minted =
                issue::token_key(request, target, &self.settings, self.now(), remote_addr)?;
            match self.store.insert(&minted.key) {
                Err(Error::NameConflict { .. })
                    if request.token_name.is_empty() && attempts < GENERATED_NAME_ATTEMPTS =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(minted),
            }
        }
    }

    /// Mints a login session for `user` lasting `session_duration` (compatibility §4.4) and stores it.
    pub fn create_session(
        &self,
        user: &User,
        login_type: LoginType,
        remote_addr: &str,
    ) -> Result<NewKey, Error> {
        let minted = issue::session_key(
            &user.id,
            login_type,
            self.settings.session_duration,
            remote_addr,
            self.now(),
        )?;
        self.store.insert(&minted.key)?;
        Ok(minted)
    }

    /// Mints a "new session key" for `user` (compatibility §4.3, Coder's `POST /users/{user}/keys`):
    /// login type `password`, lasting `default_token_lifetime`, scopes `[coder:all]`, no name.
    pub fn create_session_key(&self, user: &User, remote_addr: &str) -> Result<NewKey, Error> {
        let minted = issue::session_key(
            &user.id,
            LoginType::Password,
            self.settings.default_token_lifetime,
            remote_addr,
            self.now(),
        )?;
        self.store.insert(&minted.key)?;
        Ok(minted)
    }

    /// Checks a presented token (compatibility §6 rows 1-5 and 3b), then writes the refresh (§7). A
    /// rejected token is [`Error::Rejected`]; a store failure is [`Error::Store`] (Coder's
    /// 500), never a 401.
    ///
    /// A store that knows users (`PostgresStore` on Coder's database) also has the owner
    /// checked, in Coder's order: a deleted owner is refused before any write (Coder's open PR
    /// #28634); a `github` or `oidc` key needs the owner's link to that provider (row 7), and
    /// a link whose OAuth token expired is Coder's 500 without OAuth settings (row 7a); then
    /// the refresh is written, and an owner who is not `active` is refused (row 11). A
    /// `dormant` owner is refused too: Coder activates one only through a hook tokenward has
    /// not.
    pub fn authenticate(&self, presented: &str, remote_addr: &str) -> Result<Authenticated, Error> {
        let now = self.now();
        let mut owner = None;
        let lookup = |id: KeyId| {
            self.store.get_with_owner(&id).map(|found| {
                found.map(|(key, found_owner)| {
                    owner = found_owner;
                    key
                })
            })
        };
        let verified = try_verify(presented, lookup, now, &self.settings, remote_addr)?;
        if let Some(owner) = &owner {
            check_owner_before_write(&verified.key, owner, now)?;
        }
        let Some(update) = verified.update else {
            if let Some(owner) = &owner {
                check_owner_after_write(owner)?;
            }
            return Ok(Authenticated {
                key: verified.key,
                update: None,
            });
        };
        self.store.apply(&update, &*self.clock)?;
        // Read back what the store kept and check it again: a delete or an expire that landed
        // since the check wins, and a key is never returned as valid past its revocation.
        let key = match self.store.get(&update.id)? {
            Some(key) if key.is_expired(self.now()) => {
                return Err(Rejection::expired(key.expires_at).into());
            }
            Some(key) => key,
            None => return Err(Rejection::unknown_key().into()),
        };
        if let Some(owner) = &owner {
            check_owner_after_write(owner)?;
        }
        Ok(Authenticated {
            key,
            update: Some(update),
        })
    }

    /// The longest lifetime `target` may request (`tokenconfig`, compatibility §4.6).
    pub fn token_config(&self, target: &User) -> Duration {
        issue::max_token_lifetime(&self.settings, target)
    }

    /// Named tokens (login type `token`) visible to `actor`, oldest first (compatibility §4.6).
    pub fn list_tokens(&self, actor: &User, options: &ListTokens) -> Result<Vec<ApiKey>, Error> {
        let user_id = if options.all {
            None
        } else {
            Some(options.user_id.clone().unwrap_or_else(|| actor.id.clone()))
        };
        let filter = ListFilter {
            user_id,
            login_type: Some(LoginType::Token),
            hide_expired_at: (!options.include_expired).then(|| self.now()),
        };
        let mut keys = self.store.list(&filter)?;
        keys.retain(|k| may_see(actor, k));
        Ok(keys)
    }

    /// One key by id, if `actor` may see it.
    pub fn get_key(&self, actor: &User, id: &KeyId) -> Result<ApiKey, Error> {
        self.visible(actor, self.store.get(id)?, || Error::key_not_found(id))
    }

    /// A user's key by name (never matches an empty name), if `actor` may see it.
    pub fn get_token_by_name(
        &self,
        actor: &User,
        user_id: &str,
        token_name: &str,
    ) -> Result<ApiKey, Error> {
        self.visible(actor, self.store.get_by_name(user_id, token_name)?, || {
            Error::NotFound {
                what: "token",
                id: token_name.to_owned(),
            }
        })
    }

    /// Resolves what an operator typed: a token name of `user_id` first, then the text before
    /// the first `-` as a key id, so a whole token works too (Coder's `tokens rm`, compatibility §4.8).
    pub fn find_token(
        &self,
        actor: &User,
        user_id: &str,
        name_or_id: &str,
    ) -> Result<ApiKey, Error> {
        if let Some(key) = self
            .store
            .get_by_name(user_id, name_or_id)?
            .filter(|k| may_see(actor, k))
        {
            return Ok((*key).clone());
        }
        let id_text = name_or_id.split('-').next().unwrap_or_default();
        match KeyId::parse(id_text) {
            Ok(id) => self.get_key(actor, &id),
            // Echo only the part before the first `-`: a whole token's secret stays out of errors.
            Err(_) => Err(Error::NotFound {
                what: "token",
                id: id_text.to_owned(),
            }),
        }
    }

    /// Ends a key now, keeping its row for audit (compatibility §4.6); expiring an expired key changes
    /// nothing. Another user's key is not found unless the actor is an Owner.
    ///
    /// The store reads this authority's clock inside its write and stores one microsecond
    /// before it (see [`KeyStore::expire`]), so an authenticate that begins after this returns
    /// is rejected, and never slides the key.
    pub fn expire(&self, actor: &User, id: &KeyId) -> Result<(), Error> {
        self.get_key(actor, id)?;
        if self.store.expire(id, &*self.clock)? {
            Ok(())
        } else {
            Err(Error::key_not_found(id))
        }
    }

    /// Deletes a key. Another user's key is not found unless the actor is an Owner.
    pub fn delete(&self, actor: &User, id: &KeyId) -> Result<(), Error> {
        self.get_key(actor, id)?;
        if self.store.delete(id)? {
            Ok(())
        } else {
            Err(Error::key_not_found(id))
        }
    }

    /// Deletes every key of a user, as Coder does when a user is deleted (compatibility §3 triggers).
    pub fn delete_user_keys(&self, user_id: &str) -> Result<u64, Error> {
        self.store.delete_by_user(user_id)
    }

    /// Deletes keys expired longer than `api_keys_retention` ago, in batches of 10,000
    /// (compatibility §3); a retention of zero disables the purge. Returns how many were deleted.
    pub fn purge_expired(&self) -> Result<u64, Error> {
        let retention = self.settings.api_keys_retention;
        if retention <= Duration::ZERO {
            return Ok(0);
        }
        let before = self.now().saturating_sub(retention);
        let mut total = 0;
        loop {
            let deleted = self.store.purge_expired(before, PURGE_BATCH)?;
            total += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    fn visible(
        &self,
        actor: &User,
        key: Option<Arc<ApiKey>>,
        not_found: impl FnOnce() -> Error,
    ) -> Result<ApiKey, Error> {
        match key {
            Some(key) if may_see(actor, &key) => Ok((*key).clone()),
            _ => Err(not_found()),
        }
    }
}

/// Coder's RBAC for keys, as tokenward needs it: your own keys, or everyone's as an Owner.
fn may_see(actor: &User, key: &ApiKey) -> bool {
    key.user_id == actor.id || actor.is_owner()
}

/// The owner checks Coder makes before the refresh write: a deleted owner (open PR #28634),
/// then for a `github` or `oidc` key the link to the provider (compatibility §6 rows 7, 7a).
fn check_owner_before_write(key: &ApiKey, owner: &Owner, now: Timestamp) -> Result<(), Error> {
    if owner.deleted {
        return Err(Rejection::user_deleted().into());
    }
    if matches!(key.login_type, LoginType::Github | LoginType::Oidc) {
        match owner.link_oauth_expiry {
            None => return Err(Rejection::no_user_link().into()),
            // A link with an OAuth expiry (not Go's zero time) in the past.
            Some(expiry) if expiry != Timestamp::GO_ZERO && expiry < now => {
                return Err(Error::OAuthUnavailable {
                    login_type: key.login_type,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The owner check Coder makes after the refresh write: the status (row 11).
fn check_owner_after_write(owner: &Owner) -> Result<(), Error> {
    if owner.status == "active" {
        Ok(())
    } else {
        Err(Rejection::user_inactive(&owner.status).into())
    }
}

/// What [`Authority::open`] was asked to open.
#[derive(Debug, PartialEq, Eq)]
enum StoreUrl<'a> {
    Memory,
    Sqlite(&'a Path),
    /// A `postgres://` or `postgresql://` URL, whole.
    Postgres(&'a str),
}

impl<'a> StoreUrl<'a> {
    fn parse(url: &'a str) -> Result<StoreUrl<'a>, Error> {
        if url == MEMORY_URL {
            return Ok(StoreUrl::Memory);
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            return match path {
                "" => Err(Error::InvalidArgument(
                    "the sqlite: URL names no file".into(),
                )),
                MEMORY_URL => Ok(StoreUrl::Memory),
                path => Ok(StoreUrl::Sqlite(Path::new(path))),
            };
        }
        if let Some((scheme, _)) = url.split_once("://") {
            let scheme_like = !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if scheme == "postgres" || scheme == "postgresql" {
                return Ok(StoreUrl::Postgres(url));
            }
            if scheme_like {
                // Never echo the URL: it may carry a password.
                return Err(Error::InvalidArgument(format!(
                    "unsupported store URL scheme {scheme:?} (use :memory:, sqlite:<path>, \
                     postgres://... or a file path)"
                )));
            }
        }
        if url.is_empty() {
            return Err(Error::InvalidArgument(
                "the store URL is empty (use :memory:, sqlite:<path> or a file path)".into(),
            ));
        }
        Ok(StoreUrl::Sqlite(Path::new(url)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    #[test]
    fn store_urls_name_memory_sqlite_files_or_paths() {
        assert_eq!(StoreUrl::parse(":memory:"), Ok(StoreUrl::Memory));
        assert_eq!(StoreUrl::parse("sqlite::memory:"), Ok(StoreUrl::Memory));
        for (url, path) in [
            ("sqlite:keys.db", "keys.db"),
            ("sqlite:///var/lib/keys.db", "/var/lib/keys.db"),
            ("sqlite://keys.db", "keys.db"),
            ("/var/lib/keys.db", "/var/lib/keys.db"),
            ("keys.db", "keys.db"),
        ] {
            assert_eq!(
                StoreUrl::parse(url),
                Ok(StoreUrl::Sqlite(Path::new(path))),
                "{url}"
            );
        }
        for url in [
            "postgres://u:hunter2@h/db",
            "postgresql://u:hunter2@h:5/db?mode=coder",
        ] {
            assert_eq!(StoreUrl::parse(url), Ok(StoreUrl::Postgres(url)), "{url}");
        }
        for url in ["", "sqlite:", "mysql://u:hunter2@h/db"] {
            let err = StoreUrl::parse(url).unwrap_err();
            assert_eq!(err.code(), crate::Code::InvalidArgument, "{url}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }
}
