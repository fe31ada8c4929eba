//! `PostgresStore`: keys in PostgreSQL, in Coder's own `api_keys` table (compatibility §3), so
//! that many servers share one database, and a service beside a Coder deployment reads Coder's
//! real keys.
//!
//! Two modes, chosen when the store opens:
//! - **Coder**: the database of a Coder deployment (its `schema_migrations` table and
//!   `api_keys`). Nothing is created or altered; every write is one Coder itself makes.
//! - **Owned**: tokenward creates the table with Coder's column types (the `login_type` and
//!   `api_key_scope` enums, `uuid`, `timestamptz`, `inet`, `text[]`, the partial unique index
//!   and the check constraint), so an owned database looks like Coder's.
//!
//! Values cross as Coder stores them: user ids are UUIDs (a key for another user id is refused
//! as [`Error::InvalidKey`]), times are `timestamptz` to the microsecond, an address is `inet`
//! read back bare.
//!
//! In Coder mode a check also reads the key's owner from `users` and `user_links` (in the same
//! statement), so that a deleted, suspended or dormant user, or a `github`/`oidc` user without
//! a valid link, gets Coder's answer ([`KeyStore::get_with_owner`]).
//!
//! TLS is rustls, as libpq's `sslmode` says: `disable`; `prefer` (the default) and `require`,
//! encrypted but not authenticated; `verify-ca`, the certificate chain checked against the
//! PEM file `sslrootcert` names; `verify-full`, and the name in the certificate against the
//! host.
//!
//! Each pooled connection is a tokio-postgres client on a runtime of its own, driven by the
//! calling thread ([`session`]): synchronous, as the `postgres` crate is, but with a deadline
//! on every call, so a server that stops answering cannot hold a request for good.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Config, Row, Statement};

mod session;

use session::{Failure, Session};

use super::{KeyStore, KeyWithOwner, ListFilter, Owner};
use crate::error::{Error, Operation, StoreError, StoreErrorKind};
use crate::key::{AllowEntry, ApiKey, LoginType, Scope};
use crate::refresh::KeyUpdate;
use crate::time::{Clock, Timestamp};
use crate::token::KeyId;

/// The columns of a key, in the order [`decode`] reads them; the enums, the address and the
/// user id are read as text.
macro_rules! columns {
    () => {
        "id, hashed_secret, user_id::text, last_used, expires_at, created_at, updated_at, \
         login_type::text, lifetime_seconds, host(ip_address), token_name, scopes::text[], \
         allow_list"
    };
}

/// Values go in as text and are cast by the server to Coder's types, so a text that is not
/// one of them (a user id that is not a UUID) is refused by PostgreSQL's own rules.
const INSERT: &str = concat!(
    "INSERT INTO api_keys (",
    "id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, \
     lifetime_seconds, ip_address, token_name, scopes, allow_list",
    ") VALUES ($1, $2, $3::text::uuid, $4, $5, $6, $7, $8::text::login_type, $9, \
     $10::text::inet, $11, $12::text[]::api_key_scope[], $13)"
);

const GET: &str = concat!("SELECT ", columns!(), " FROM api_keys WHERE id = $1");

/// [`GET`] with the owner, in Coder mode: `users` and, for the key's login type, `user_links`
/// (one round trip). The key's columns come first, as [`decode`] reads them.
const GET_WITH_OWNER: &str = "SELECT k.id, k.hashed_secret, k.user_id::text, k.last_used, \
     k.expires_at, k.created_at, k.updated_at, k.login_type::text, k.lifetime_seconds, \
     host(k.ip_address), k.token_name, k.scopes::text[], k.allow_list, \
     u.status::text, u.deleted, l.user_id IS NOT NULL, l.oauth_expiry \
     FROM api_keys k \
     LEFT JOIN users u ON u.id = k.user_id \
     LEFT JOIN user_links l ON l.user_id = k.user_id AND l.login_type = k.login_type \
     WHERE k.id = $1";

/// Prefers the `token` key (the one `idx_api_key_name` makes unique), as the other stores do.
/// A user id that is not a UUID has no keys: it is compared as text.
const GET_BY_NAME: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM api_keys WHERE user_id::text = $1 AND token_name = $2 \
     ORDER BY login_type = 'token' DESC, created_at, id LIMIT 1"
);

/// `ApiKey::apply` in one statement: every `SET` expression sees the row as it was, and
/// PostgreSQL locks the row for the statement, so concurrent refreshes from any number of
/// servers never move a time backwards. Writes only Coder's `UpdateAPIKeyByID` columns.
const APPLY: &str = "UPDATE api_keys SET
        last_used = CASE WHEN $2 > last_used THEN $2 ELSE last_used END,
        ip_address = CASE WHEN $2 > last_used THEN $3::text::inet ELSE ip_address END,
        expires_at = CASE WHEN expires_at = $4 AND $5 > expires_at AND expires_at >= $6
            THEN $5 ELSE expires_at END
     WHERE id = $1";

/// Whether a user's `token` key has the name: `idx_api_key_name`'s question.
const NAME_TAKEN: &str = "SELECT 1 FROM api_keys WHERE user_id::text = $1 AND token_name = $2 \
     AND login_type = 'token'::login_type";

const EXPIRE: &str = "UPDATE api_keys SET expires_at = LEAST(expires_at, $2) WHERE id = $1";

const DELETE: &str = "DELETE FROM api_keys WHERE id = $1";

const DELETE_BY_USER: &str = "DELETE FROM api_keys WHERE user_id::text = $1";

/// Coder's `DeleteExpiredAPIKeys`: one batch, one statement.
const PURGE: &str = "DELETE FROM api_keys WHERE id IN \
     (SELECT id FROM api_keys WHERE expires_at < $1 LIMIT $2)";

/// The owned schema's version, kept in `tokenward_schema`.
const SCHEMA_VERSION: i32 = 1;

/// Held (transaction-scoped) while the owned schema is created, so servers opening an empty
/// database at once create it once: "tkwd" in ASCII.
const SCHEMA_LOCK: i64 = 0x746b_7764;

/// The owned schema: Coder's `api_keys` (compatibility §3), its enums and indexes.
fn owned_schema() -> String {
    let login_types: Vec<String> = LoginType::ALL
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect();
    let scopes: Vec<String> = Scope::PUBLIC.iter().map(|s| format!("'{s}'")).collect();
    format!(
        "CREATE TYPE login_type AS ENUM ({login_types});
        CREATE TYPE api_key_scope AS ENUM ({scopes});
        CREATE TABLE api_keys (
            id text NOT NULL PRIMARY KEY,
            hashed_secret bytea NOT NULL,
            user_id uuid NOT NULL,
            last_used timestamp with time zone NOT NULL,
            expires_at timestamp with time zone NOT NULL,
            created_at timestamp with time zone NOT NULL,
            updated_at timestamp with time zone NOT NULL,
            login_type login_type NOT NULL,
            lifetime_seconds bigint DEFAULT 86400 NOT NULL,
            ip_address inet DEFAULT '0.0.0.0'::inet NOT NULL,
            token_name text DEFAULT ''::text NOT NULL,
            scopes api_key_scope[] NOT NULL,
            allow_list text[] NOT NULL,
            CONSTRAINT api_keys_allow_list_not_empty CHECK (array_length(allow_list, 1) > 0)
        );
        CREATE INDEX idx_api_keys_user ON api_keys USING btree (user_id);
        CREATE INDEX api_keys_last_used_idx ON api_keys USING btree (last_used DESC);
        CREATE UNIQUE INDEX idx_api_key_name ON api_keys USING btree (user_id, token_name)
            WHERE (login_type = 'token'::login_type);
        CREATE INDEX idx_api_keys_expires_at ON api_keys USING btree (expires_at);
        CREATE TABLE tokenward_schema (version integer NOT NULL);
        INSERT INTO tokenward_schema (version) VALUES ({SCHEMA_VERSION});",
        login_types = login_types.join(", "),
        scopes = scopes.join(", "),
    )
}

/// The columns tokenward reads and writes, with Coder's types (`udt_name`, as
/// `information_schema.columns` names them).
const EXPECTED_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("hashed_secret", "bytea"),
    ("user_id", "uuid"),
    ("last_used", "timestamptz"),
    ("expires_at", "timestamptz"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("login_type", "login_type"),
    ("lifetime_seconds", "int8"),
    ("ip_address", "inet"),
    ("token_name", "text"),
    ("scopes", "_api_key_scope"),
    ("allow_list", "_text"),
];

/// The `users` columns a check reads in Coder mode.
const CODER_USER_COLUMNS: &[(&str, &str)] = &[
    ("id", "uuid"),
    ("status", "user_status"),
    ("deleted", "bool"),
];

/// The `user_links` columns a check reads in Coder mode.
const CODER_LINK_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "uuid"),
    ("login_type", "login_type"),
    ("oauth_expiry", "timestamptz"),
];

/// Which schema a database holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostgresMode {
    /// A Coder deployment's database: read and written as Coder does, never altered.
    Coder,
    /// tokenward's own schema, created on first open.
    Owned,
}

impl PostgresMode {
    /// `coder` or `owned`, as `?mode=` names it.
    pub const fn name(self) -> &'static str {
        match self {
            PostgresMode::Coder => "coder",
            PostgresMode::Owned => "owned",
        }
    }
}

/// How a [`PostgresStore`] connects. Start from `PostgresOptions::default()`: the struct may
/// gain fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Most connections open at once; a call beyond waits up to `connect_timeout` for one.
    pub max_connections: u32,
    /// Longest wait for a new connection, or for a free one; `connect_timeout=<seconds>` in
    /// the URL (libpq's parameter) sets it too.
    pub connect_timeout: Duration,
    /// Longest a statement may run (PostgreSQL's `statement_timeout`), so a hung database
    /// cannot hang a request; past it the call fails as busy. A server that does not answer
    /// at all is given a second more, then the call fails as an I/O error and the connection
    /// is dropped.
    pub statement_timeout: Duration,
    /// The schema to expect; `None` chooses from what the database holds.
    pub mode: Option<PostgresMode>,
}

impl Default for PostgresOptions {
    /// 8 connections, a 5-second connect timeout and statement timeout, the mode the database
    /// says.
    fn default() -> PostgresOptions {
        PostgresOptions {
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            mode: None,
        }
    }
}

/// Keys in PostgreSQL: Coder's `api_keys`, shared by any number of servers and processes.
///
/// - A pool of connections (r2d2), each with its statements prepared once; a connection the
///   server dropped is replaced on the next call, so a restarted database needs no restart
///   here (the calls made while it is down fail as [`StoreErrorKind::Io`], never as a
///   missing key).
/// - Every write is one autocommit statement that compares against the row as stored, so
///   concurrent refreshes and revocations from many servers compose: a refresh never moves a
///   time backwards, and never revives a key another server expired.
/// - Nothing is cached: a key expired or deleted by one server is refused by every other on
///   its next check.
/// - Errors name the server (`host:port/database`) and never the password.
pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    mode: PostgresMode,
    target: String,
    /// The longest a call waits for a connection while connecting has not failed.
    connect_timeout: Duration,
    /// The pool's size: how many dead connections a call may meet after a restart.
    max_connections: u32,
    /// Since when the last connection attempts failed; `None` once one succeeds.
    unreachable: Arc<Mutex<Option<Instant>>>,
}

/// How long a call waits for a connection while the server cannot be reached.
const WHILE_UNREACHABLE: Duration = Duration::from_millis(250);

/// How often a call waiting for a connection looks whether connecting has begun to fail.
const CONNECT_SLICE: Duration = Duration::from_millis(50);

/// A timeout too long to reach: a year.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// How much longer than its `statement_timeout` a call waits for the server's answer before
/// the connection is given up: a server that stopped answering without closing it (frozen,
/// or cut off by the network) would otherwise hold the call for good.
const ANSWER_GRACE: Duration = Duration::from_secs(1);

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the database `url` names (`postgres://user:password@host:port/db?...`) with the
    /// default options; `?mode=coder|owned` in the URL forces a mode.
    ///
    /// In no mode is a table altered. With no mode forced, a database holding Coder's schema
    /// opens in Coder mode, one holding tokenward's (or no `api_keys` at all) in owned mode,
    /// the schema created then. A schema that does not match (a missing column, another
    /// type) is refused here, naming what differs.
    pub fn open(url: &str) -> Result<PostgresStore, Error> {
        PostgresStore::open_with(url, PostgresOptions::default())
    }

    /// Opens as [`PostgresStore::open`] does, with `options` (a `?mode=` in the URL wins over
    /// `options.mode`).
    pub fn open_with(url: &str, mut options: PostgresOptions) -> Result<PostgresStore, Error> {
        let (mut config, tls, mode) = parse_url(url)?;
        if mode.is_some() {
            options.mode = mode;
        }
        // libpq's connect_timeout (seconds), in the URL, wins over the options'.
        if let Some(timeout) = config.get_connect_timeout() {
            options.connect_timeout = *timeout;
        }
        let target = describe(&config);
        let tls = tls_connector(&tls).map_err(|cause| {
            Error::from(StoreError::new(
                StoreErrorKind::Io,
                Operation::Open,
                format!("{target}: {cause}"),
            ))
        })?;
        config.connect_timeout(options.connect_timeout);
        // Both bounds reach the server with the connection, so no statement outlives them.
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        config.options(format!(
            "-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}"
        ));
        if config.get_application_name().is_none() {
            config.application_name("tokenward");
        }
        let fail = |kind, cause: String| -> Error {
            StoreError::new(kind, Operation::Open, format!("{target}: {cause}")).into()
        };
        let unreachable = Arc::new(Mutex::new(None));
        let manager = Manager {
            config,
            tls,
            connect_timeout: options.connect_timeout,
            // The server answers a statement by its statement_timeout; a second more covers
            // the round trip. No answer by then: the server or the network is gone.
            deadline: options.statement_timeout.saturating_add(ANSWER_GRACE),
            unreachable: unreachable.clone(),
        };
        // One connection made here, not through the pool, so that a server that cannot be
        // reached or trusted fails the open at once, saying why.
        let mut first = r2d2::ManageConnection::connect(&manager)
            .map_err(|e| fail(StoreErrorKind::Io, format!("cannot connect: {e}")))?;
        let mode = prepare_schema(&mut first.session, options.mode)
            .map_err(|(kind, cause)| fail(kind, cause))?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            // A broken connection is noticed when it is returned (`has_broken`), not by a
            // round trip on each checkout.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            // Two threads make connections and close idle ones; a store dropped drops its
            // pending work with them, so closing one leaves no thread behind for long.
            .thread_pool(Arc::new(
                scheduled_thread_pool::ScheduledThreadPool::builder()
                    .num_threads(2)
                    .thread_name_pattern("tokenward-postgres-{}")
                    .on_drop_behavior(
                        scheduled_thread_pool::OnPoolDropBehavior::DiscardPendingScheduled,
                    )
                    .build(),
            ))
            .build_unchecked(manager);
        Ok(PostgresStore {
            pool,
            mode,
            target,
            connect_timeout: options.connect_timeout,
            max_connections: options.max_connections.max(1),
            unreachable,
        })
    }

    /// The mode the database opened in.
    pub fn mode(&self) -> PostgresMode {
        self.mode
    }

    /// The server and database, as errors name them: `host:port/database`, no password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A pooled connection, or the store error of `operation`.
    fn connection(&self, operation: Operation) -> Result<r2d2::PooledConnection<Manager>, Error> {
        // While the server cannot be reached, a call waits a moment for a connection rather
        // than the whole connect timeout, so an outage answers every request at once (a 500)
        // instead of holding each for seconds. A connection made in that moment ends it.
        // The pool retries a failed connect until its timeout, so the wait is taken in
        // slices, and the first connect that fails (the server just went down) ends it too.
        let now = Instant::now();
        let give_up = now
            .checked_add(self.connect_timeout)
            .unwrap_or(now + FOREVER);
        loop {
            let unreachable = self.unreachable.lock().is_some();
            let slice = if unreachable {
                WHILE_UNREACHABLE
            } else {
                give_up
                    .saturating_duration_since(Instant::now())
                    .min(CONNECT_SLICE)
            };
            match self.pool.get_timeout(slice) {
                Ok(connection) => return Ok(connection),
                // The slice in which a connect failed carries its cause: answered with it.
                Err(e)
                    if unreachable
                        || self.unreachable.lock().is_some()
                        || Instant::now() >= give_up =>
                {
                    return Err(StoreError::new(
                        StoreErrorKind::Io,
                        operation,
                        format!("{}: cannot connect: {e}", self.target),
                    )
                    .into());
                }
                // Every connection busy, or one still being made: wait on.
                Err(_) => {}
            }
        }
    }

    /// Runs `work` on a pooled connection; a failure is the store error of `operation`.
    ///
    /// A connection the server closed while it sat in the pool (a restart) fails its first
    /// statement; every operation but `insert` is idempotent, so it is run again on another
    /// connection, and a restarted server costs no request an error.
    fn with<T>(
        &self,
        operation: Operation,
        mut work: impl FnMut(&mut Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        // After a restart every idle connection in the pool is dead: each is tried in turn,
        // and the last try is on a new one.
        let mut tries = self.max_connections.saturating_add(1);
        loop {
            let mut conn = self.connection(operation)?;
            match work(&mut conn) {
                Ok(done) => return Ok(done),
                Err(_)
                    if tries > 1 && operation != Operation::Insert && conn.session.is_closed() =>
                {
                    // Dropped here: the pool sees it broken and opens a new one.
                    tries -= 1;
                }
                Err(e) => return Err(self.failure(operation, &e)),
            }
        }
    }

    /// The store error for the database's `error`.
    fn failure(&self, operation: Operation, error: &Failure) -> Error {
        let kind = match error.code() {
            // query_canceled (statement_timeout), lock_not_available (lock_timeout).
            Some("57014" | "55P03") => StoreErrorKind::Busy,
            Some(code) if code.starts_with("23") => StoreErrorKind::Constraint,
            // raise_exception: a rule of the database's own (Coder's trigger_insert_apikeys
            // refuses a key for a deleted user).
            Some("P0001") => StoreErrorKind::Constraint,
            Some("53100") => StoreErrorKind::Full,
            Some(code) if code.starts_with("25") && code != "25P02" => StoreErrorKind::ReadOnly,
            _ => StoreErrorKind::Io,
        };
        StoreError::new(
            kind,
            operation,
            format!("{}: {}", self.target, words(error)),
        )
        .into()
    }

    fn select(
        &self,
        operation: Operation,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<ApiKey>, Error> {
        let rows = self.with(operation, |conn| {
            let statement = conn.statement(sql)?;
            conn.session.query(&statement, params)
        })?;
        rows.iter()
            .map(|row| decode(row).map_err(|e| self.corrupt(operation, e)))
            .collect()
    }

    fn select_one(
        &self,
        operation: Operation,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Arc<ApiKey>>, Error> {
        let row = self.with(operation, |conn| {
            let statement = conn.statement(sql)?;
            conn.session.query_opt(&statement, params)
        })?;
        row.map(|row| {
            decode(&row)
                .map(Arc::new)
                .map_err(|e| self.corrupt(operation, e))
        })
        .transpose()
    }

    fn execute(
        &self,
        operation: Operation,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        self.with(operation, |conn| {
            let statement = conn.statement(sql)?;
            conn.session.execute(&statement, params)
        })
    }

    /// Whether `key`'s user has a `token` key of its name (`idx_api_key_name`).
    fn name_taken(&self, key: &ApiKey) -> Result<bool, Error> {
        self.with(Operation::Insert, |conn| {
            let statement = conn.statement(NAME_TAKEN)?;
            let row = conn
                .session
                .query_opt(&statement, &[&key.user_id, &key.token_name])?;
            Ok(row.is_some())
        })
    }

    fn corrupt(&self, operation: Operation, cause: String) -> Error {
        StoreError::new(
            StoreErrorKind::Corrupt,
            operation,
            format!("{}: {cause}", self.target),
        )
        .into()
    }
}

impl KeyStore for PostgresStore {
    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        let key = &*super::row_to_insert(key)?;
        let scopes: Vec<&str> = key.scopes.iter().map(Scope::as_str).collect();
        let allow_list: Vec<String> = key.allow_list.iter().map(|e| e.to_string()).collect();
        let ip_address = key.ip_address.to_string();
        let mut conn = self.connection(Operation::Insert)?;
        let not_added = match self.mode {
            PostgresMode::Owned => add_scopes(&mut conn.session, &scopes),
            PostgresMode::Coder => None,
        };
        let inserted = conn.statement(INSERT).and_then(|statement| {
            conn.session.execute(
                &statement,
                &[
                    &key.id.as_str(),
                    &key.hashed_secret,
                    &key.user_id,
                    &Micros(key.last_used),
                    &Micros(key.expires_at),
                    &Micros(key.created_at),
                    &Micros(key.updated_at),
                    &key.login_type.as_str(),
                    &key.lifetime_seconds,
                    &ip_address,
                    &key.token_name,
                    &scopes,
                    &allow_list,
                ],
            )
        });
        drop(conn);
        let Err(error) = inserted else {
            return Ok(());
        };
        // The database's reasons, by SQLSTATE and constraint (never by its words, which
        // follow the server's language), as the other stores give them.
        let db = error.as_db_error();
        let (state, constraint) = (db.map(|e| e.code().code()), db.and_then(|e| e.constraint()));
        match (state, constraint) {
            // Coder's idx_api_key_name (compatibility §4.2 step 8).
            (Some("23505"), Some("idx_api_key_name")) => Err(Error::NameConflict {
                name: key.token_name.clone(),
            }),
            (Some("23505"), Some("api_keys_pkey")) => {
                // PostgreSQL checks the primary key first; the other stores, and Coder's
                // create (a new id each time), meet a taken name as the name conflict it is.
                if key.login_type == LoginType::Token && self.name_taken(key)? {
                    return Err(Error::NameConflict {
                        name: key.token_name.clone(),
                    });
                }
                Err(StoreError::new(
                    StoreErrorKind::Constraint,
                    Operation::Insert,
                    "a key with this id already exists",
                )
                .into())
            }
            // invalid_text_representation: a text the column's type does not take.
            (Some("22P02"), _) if !uuid_shaped(&key.user_id) => Err(Error::InvalidKey(
                "user_id must be a UUID in PostgreSQL (the type of Coder's users.id)".into(),
            )),
            (Some("22P02"), _) => Err(Error::InvalidKey(match not_added {
                Some(why) => format!(
                    "a scope is not in this database's api_key_scope enum (adding it: {why})"
                ),
                None => "a scope is not in this database's api_key_scope enum".into(),
            })),
            _ => Err(self.failure(Operation::Insert, &error)),
        }
    }

    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        self.select_one(Operation::Get, GET, &[&id.as_str()])
    }

    fn get_with_owner(&self, id: &KeyId) -> Result<Option<KeyWithOwner>, Error> {
        if self.mode != PostgresMode::Coder {
            return Ok(self.get(id)?.map(|key| (key, None)));
        }
        let row = self.with(Operation::Get, |conn| {
            let statement = conn.statement(GET_WITH_OWNER)?;
            conn.session.query_opt(&statement, &[&id.as_str()])
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = decode(&row).map_err(|e| self.corrupt(Operation::Get, e))?;
        let owner = decode_owner(&row).map_err(|e| self.corrupt(Operation::Get, e))?;
        Ok(Some((Arc::new(key), Some(owner))))
    }

    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        if token_name.is_empty() {
            return Ok(None);
        }
        self.select_one(Operation::GetByName, GET_BY_NAME, &[&user_id, &token_name])
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        // One statement per filter shape, each prepared once per connection.
        let mut sql = String::from(concat!("SELECT ", columns!(), " FROM api_keys WHERE TRUE"));
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(3);
        let login_type = filter.login_type.map(LoginType::as_str);
        let now = filter.hide_expired_at.map(Micros);
        if let Some(user_id) = &filter.user_id {
            params.push(user_id);
            sql.push_str(&format!(" AND user_id::text = ${}", params.len()));
        }
        if let Some(login_type) = &login_type {
            params.push(login_type);
            sql.push_str(&format!(" AND login_type::text = ${}", params.len()));
        }
        if let Some(now) = &now {
            // Expired means expires_at < now; a key expiring at this instant still shows.
            params.push(now);
            sql.push_str(&format!(" AND expires_at >= ${}", params.len()));
        }
        sql.push_str(" ORDER BY created_at, id");
        self.select(Operation::List, &sql, &params)
    }

    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error> {
        let ip_address = update.ip_address.to_string();
        let now = clock.now();
        let changed = self.execute(
            Operation::Apply,
            APPLY,
            &[
                &update.id.as_str(),
                &Micros(update.last_used),
                &ip_address,
                &Micros(update.previous_expires_at),
                &Micros(update.expires_at),
                &Micros(now),
            ],
        )?;
        Ok(changed > 0)
    }

    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        let expires_at = super::expired_at(clock.now());
        let changed = self.execute(
            Operation::Expire,
            EXPIRE,
            &[&id.as_str(), &Micros(expires_at)],
        )?;
        Ok(changed > 0)
    }

    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        Ok(self.execute(Operation::Delete, DELETE, &[&id.as_str()])? > 0)
    }

    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        self.execute(Operation::DeleteByUser, DELETE_BY_USER, &[&user_id])
    }

    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.execute(Operation::Purge, PURGE, &[&Micros(before), &limit])
    }
}

/// How a connection is protected, from the URL's `sslmode` (libpq's names and meanings) and
/// `sslrootcert` (a PEM file of the certificates to trust).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tls {
    /// `disable`: never TLS.
    Disable,
    /// `prefer` (the default, as in libpq; `allow` is taken as `prefer`): TLS when the server
    /// offers it, unverified;
    /// `require`: TLS or no connection, unverified (unless a root certificate is given, which
    /// makes it `verify-ca`, as in libpq).
    Unverified { required: bool },
    /// `verify-ca`: TLS with a certificate chain to a root of `sslrootcert`.
    VerifyCa(std::path::PathBuf),
    /// `verify-full`: as `verify-ca`, and the certificate names the host.
    VerifyFull(std::path::PathBuf),
}

/// The connection URL as a client configuration, how it is protected, and the mode `?mode=`
/// forces. Refuses anything but `postgres://` and `postgresql://` URLs, and names no password
/// in its errors.
fn parse_url(url: &str) -> Result<(Config, Tls, Option<PostgresMode>), Error> {
    let invalid = |detail: String| Error::InvalidArgument(format!("PostgreSQL URL: {detail}"));
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(invalid(
            "expected postgres://user:password@host:port/database".into(),
        ));
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = None;
    let mut sslmode = "prefer";
    let mut root: Option<std::path::PathBuf> = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "mode" => {
                mode = Some(match value {
                    "coder" => PostgresMode::Coder,
                    "owned" => PostgresMode::Owned,
                    other => {
                        return Err(invalid(format!(
                            "mode must be coder or owned, not {other:?}"
                        )));
                    }
                });
            }
            "sslmode" => sslmode = value,
            "sslrootcert" => root = Some(percent_decoded(value).map_err(invalid)?.into()),
            _ => kept.push(pair),
        }
    }
    let tls = match (sslmode, root) {
        ("disable", _) => Tls::Disable,
        ("allow" | "prefer", None) => Tls::Unverified { required: false },
        ("require", None) => Tls::Unverified { required: true },
        ("allow" | "prefer" | "require" | "verify-ca", Some(root)) => Tls::VerifyCa(root),
        ("verify-full", Some(root)) => Tls::VerifyFull(root),
        ("verify-ca" | "verify-full", None) => {
            return Err(invalid(format!(
                "sslmode={sslmode} needs sslrootcert=<a PEM file of the certificates to trust>"
            )));
        }
        (other, _) => {
            return Err(invalid(format!(
                "sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not {other:?}"
            )));
        }
    };
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = Config::from_str(&url).map_err(|e| {
        // The parser's words name a parameter or its kind, never the URL itself.
        invalid(words(&e))
    })?;
    config.ssl_mode(match tls {
        Tls::Disable => tokio_postgres::config::SslMode::Disable,
        Tls::Unverified { required: false } => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    if config.get_hosts().is_empty() {
        config.host("localhost");
    }
    Ok((config, tls, mode))
}

/// A URL query value with its `%XX` escapes decoded (a path may hold any byte).
fn percent_decoded(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "sslrootcert has a malformed %-escape".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "sslrootcert is not UTF-8".to_owned())
}

/// The TLS client for `tls`: trusting the certificates of its root file for `verify-ca` and
/// `verify-full`, anything for `prefer` and `require` (libpq's meaning: encryption only).
fn tls_connector(tls: &Tls) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::client::WebPkiServerVerifier;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let roots = |path: &std::path::Path| -> Result<Arc<rustls::RootCertStore>, String> {
        let mut roots = rustls::RootCertStore::empty();
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        for certificate in certificates {
            let certificate =
                certificate.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            roots
                .add(certificate)
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        }
        if roots.is_empty() {
            return Err(format!(
                "sslrootcert {}: no certificate in it",
                path.display()
            ));
        }
        Ok(Arc::new(roots))
    };
    let config = match tls {
        Tls::VerifyFull(path) => builder
            .with_root_certificates(roots(path)?)
            .with_no_client_auth(),
        Tls::VerifyCa(path) => {
            let chain = WebPkiServerVerifier::builder_with_provider(roots(path)?, provider.clone())
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Lenient {
                    chain: Some(chain),
                    provider,
                }))
                .with_no_client_auth()
        }
        Tls::Disable | Tls::Unverified { .. } => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Lenient {
                chain: None,
                provider,
            }))
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The certificate check of every mode but `verify-full` (which is rustls's own):
/// `verify-ca` (`chain` set), the chain must lead to a trusted root and the name in the
/// certificate is not checked; `prefer` and `require` (no `chain`), any certificate (libpq's
/// meaning: encrypted, not authenticated). The handshake's signatures are checked either way.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Where the PostgreSQL URL `url` points, as errors name it (`postgres host:port/database`):
/// never the password, nor anything else of the URL. For showing a configured URL.
pub fn postgres_target(url: &str) -> String {
    match parse_url(url) {
        Ok((config, _, _)) => describe(&config),
        Err(_) => "postgres (a URL that does not parse)".into(),
    }
}

/// `host:port/database` of `config`, for errors: never the password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("postgres {host}:{port}/{database}")
}

/// An error's words and its causes', one line.
fn words(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Whether `text` has the shape of a UUID as PostgreSQL reads one: 32 hex digits, with
/// hyphens and braces anywhere PostgreSQL allows them or not (for choosing an error's words).
fn uuid_shaped(text: &str) -> bool {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'-' | b'{' | b'}'))
        .collect();
    digits.len() == 32 && digits.iter().all(u8::is_ascii_hexdigit)
}

/// What `prepare_schema` fails with: a kind and the cause.
type SchemaFailure = (StoreErrorKind, String);

/// Chooses the mode from what the database holds (or checks the one forced), creates the
/// owned schema when it is missing, and checks the columns tokenward uses.
fn prepare_schema(
    client: &mut Session,
    forced: Option<PostgresMode>,
) -> Result<PostgresMode, SchemaFailure> {
    let io = |e: Failure| (StoreErrorKind::Io, words(&e));
    // The three tables in one statement, so in one snapshot: another server creating the
    // owned schema right now is seen before or after, never halfway.
    let row = client
        .query_one_sql(
            "SELECT bool_or(tablename = 'schema_migrations'), \
                    bool_or(tablename = 'tokenward_schema'), \
                    bool_or(tablename = 'api_keys') \
             FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .map_err(io)?;
    let found = |i: usize| row.get::<_, Option<bool>>(i).unwrap_or(false);
    let (coder, owned, api_keys) = (found(0), found(1), found(2));
    let mode = match forced {
        Some(mode) => mode,
        None if owned => PostgresMode::Owned,
        None if coder && api_keys => PostgresMode::Coder,
        None if !api_keys => PostgresMode::Owned,
        None => {
            return Err((
                StoreErrorKind::Incompatible,
                "this database has an api_keys table but neither Coder's schema_migrations nor \
                 tokenward's tokenward_schema: add ?mode=coder to use it as Coder's"
                    .into(),
            ));
        }
    };
    match mode {
        PostgresMode::Coder if !api_keys => {
            return Err((
                StoreErrorKind::Incompatible,
                "mode coder: this database has no api_keys table (is it Coder's?)".into(),
            ));
        }
        PostgresMode::Owned if coder && !owned => {
            return Err((
                StoreErrorKind::Incompatible,
                "mode owned: this is a Coder database (schema_migrations); open it in mode coder"
                    .into(),
            ));
        }
        PostgresMode::Owned => create_owned(client)?,
        PostgresMode::Coder => {}
    }
    check_columns(client, "api_keys", EXPECTED_COLUMNS)?;
    if mode == PostgresMode::Coder {
        check_columns(client, "users", CODER_USER_COLUMNS)?;
        check_columns(client, "user_links", CODER_LINK_COLUMNS)?;
    }
    Ok(mode)
}

/// Creates the owned schema unless it is there, under a lock so that servers opening an empty
/// database at once create it once; refuses a schema newer than this code.
fn create_owned(client: &mut Session) -> Result<(), SchemaFailure> {
    let io = |e: Failure| (StoreErrorKind::Io, words(&e));
    client.batch_execute("BEGIN").map_err(io)?;
    let created = create_owned_in_transaction(client);
    // On failure the connection is dropped by the caller with the store; ROLLBACK anyway, so
    // the lock goes at once.
    let end = if created.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = client.batch_execute(end).map_err(io);
    created.and(ended)
}

/// [`create_owned`]'s work, inside its transaction.
fn create_owned_in_transaction(client: &mut Session) -> Result<(), SchemaFailure> {
    let io = |e: Failure| (StoreErrorKind::Io, words(&e));
    client
        .query_sql("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(io)?;
    // Asked of pg_tables, under this statement's snapshot: `to_regclass` reads the catalog
    // cache, which may not yet show a schema another server committed while we waited.
    let table = |name: &str| {
        format!(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = '{name}')"
        )
    };
    let has: bool = client
        .query_one_sql(&table("tokenward_schema"), &[])
        .map_err(io)?
        .get(0);
    if has {
        let version: i32 = client
            .query_one_sql("SELECT max(version) FROM tokenward_schema", &[])
            .map_err(io)?
            .get::<_, Option<i32>>(0)
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err((
                StoreErrorKind::Incompatible,
                format!(
                    "the schema is version {version}, newer than this tokenward's {SCHEMA_VERSION}"
                ),
            ));
        }
        Ok(())
    } else {
        let has_api_keys: bool = client
            .query_one_sql(&table("api_keys"), &[])
            .map_err(io)?
            .get(0);
        if has_api_keys {
            return Err((
                StoreErrorKind::Incompatible,
                "mode owned: an api_keys table tokenward did not create is already there".into(),
            ));
        }
        client.batch_execute(&owned_schema()).map_err(io)
    }
}

/// Adds to the owned schema's `api_key_scope` enum each of `scopes` it lacks. The enum starts
/// with the public scopes; Coder's lists every pair its RBAC policy defines, and the other
/// stores keep any of those ([`Scope::is_stored_name`]), so an owned database takes them as
/// they come. A name that is not a stored scope is left for the insert to refuse. A failure
/// is not the insert's end (another server may have added the value at the same moment):
/// its words are returned, for the insert's error if the value is still missing.
fn add_scopes(session: &mut Session, scopes: &[&str]) -> Option<String> {
    let mut failed = None;
    for scope in scopes {
        if Scope::PUBLIC.contains(scope) || !Scope::is_stored_name(scope) {
            continue;
        }
        // A stored scope name is `[a-z_]+:([a-z_]+|\*)`: nothing in it needs quoting.
        let added = session.batch_execute(&format!(
            "ALTER TYPE api_key_scope ADD VALUE IF NOT EXISTS '{scope}'"
        ));
        if let Err(e) = added {
            failed.get_or_insert_with(|| words(&e));
        }
    }
    failed
}

/// Refuses a `table` whose columns differ from `expected` (those tokenward reads; others may
/// be there), naming each difference.
fn check_columns(
    client: &mut Session,
    table: &str,
    expected: &[(&str, &str)],
) -> Result<(), SchemaFailure> {
    let rows = client
        .query_sql(
            "SELECT column_name::text, udt_name::text FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = current_schema()",
            &[&table],
        )
        .map_err(|e| (StoreErrorKind::Io, words(&e)))?;
    let found: HashMap<String, String> = rows
        .iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
        .collect();
    let differences: Vec<String> = expected
        .iter()
        .filter_map(|&(column, want)| match found.get(column) {
            None => Some(format!("{table}.{column} is missing (expected {want})")),
            Some(got) if got != want => Some(format!("{table}.{column} is {got}, expected {want}")),
            Some(_) => None,
        })
        .collect();
    if differences.is_empty() {
        Ok(())
    } else {
        Err((
            StoreErrorKind::Incompatible,
            format!(
                "the {table} table is not Coder's: {}",
                differences.join("; ")
            ),
        ))
    }
}

/// A pooled connection and the statements prepared on it.
struct Connection {
    session: Session,
    statements: HashMap<String, Statement>,
}

impl Connection {
    /// `sql` prepared on this connection, once.
    fn statement(&mut self, sql: &str) -> Result<Statement, Failure> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.session.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Makes the pool's connections.
struct Manager {
    config: Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// The longest a new connection's handshake may take.
    connect_timeout: Duration,
    /// The longest any call may wait for the server's answer.
    deadline: Duration,
    /// Shared with the store: since when connecting has failed.
    unreachable: Arc<Mutex<Option<Instant>>>,
}

/// Why a connection could not be made, with every cause (the pool keeps only the text).
#[derive(Debug)]
struct ConnectError(String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = ConnectError;

    fn connect(&self) -> Result<Connection, ConnectError> {
        let connected = Session::connect(
            &self.config,
            self.tls.clone(),
            self.connect_timeout,
            self.deadline,
        );
        let session = match connected {
            Ok(session) => {
                *self.unreachable.lock() = None;
                session
            }
            Err(e) => {
                self.unreachable.lock().get_or_insert_with(Instant::now);
                return Err(ConnectError(words(&e)));
            }
        };
        Ok(Connection {
            session,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), ConnectError> {
        conn.session.ping().map_err(|e| ConnectError(words(&e)))
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.session.is_broken()
    }
}

/// A [`Timestamp`] as `timestamptz`: microseconds since 2000-01-01 UTC on the wire.
#[derive(Debug)]
struct Micros(Timestamp);

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl ToSql for Micros {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let micros = self
            .0
            .unix_micros()
            .checked_sub(POSTGRES_EPOCH_MICROS)
            .ok_or("time outside PostgreSQL's range")?;
        bytes::BufMut::put_i64(out, micros);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Micros {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> Result<Micros, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into().map_err(|_| "a timestamptz is 8 bytes")?;
        let micros = i64::from_be_bytes(bytes)
            .checked_add(POSTGRES_EPOCH_MICROS)
            .ok_or("time outside tokenward's range (infinity?)")?;
        Ok(Micros(Timestamp::try_from_unix_micros(micros)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// The owner from the columns [`GET_WITH_OWNER`] adds after the key's: a user row that is
/// gone reads as deleted.
fn decode_owner(row: &Row) -> Result<Owner, String> {
    let bad = |column: &str, e: &dyn fmt::Display| format!("owner: column {column}: {e}");
    let status: Option<String> = row.try_get(13).map_err(|e| bad("users.status", &e))?;
    let deleted: Option<bool> = row.try_get(14).map_err(|e| bad("users.deleted", &e))?;
    let linked: bool = row.try_get(15).map_err(|e| bad("user_links", &e))?;
    let expiry: Option<Micros> = row
        .try_get(16)
        .map_err(|e| bad("user_links.oauth_expiry", &words(&e)))?;
    Ok(Owner {
        deleted: deleted.unwrap_or(true) || status.is_none(),
        status: status.unwrap_or_default(),
        link_oauth_expiry: if linked {
            Some(expiry.map_or(Timestamp::GO_ZERO, |m| m.0))
        } else {
            None
        },
    })
}

/// A key from a row of [`columns!`].
fn decode(row: &Row) -> Result<ApiKey, String> {
    let id_text: &str = row.try_get(0).map_err(|e| format!("column id: {e}"))?;
    let id = KeyId::parse(id_text).map_err(|e| format!("key {id_text:?}: column id: {e}"))?;
    let bad = |column: &str, reason: &dyn fmt::Display| {
        format!("key {:?}: column {column}: {reason}", id.as_str())
    };
    let get = |index: usize, column: &str| -> Result<&str, String> {
        row.try_get::<_, &str>(index).map_err(|e| bad(column, &e))
    };
    let time = |index: usize, column: &str| -> Result<Timestamp, String> {
        row.try_get::<_, Micros>(index)
            .map(|m| m.0)
            .map_err(|e| bad(column, &words(&e)))
    };
    let login_type = get(7, "login_type")?;
    let ip_address = get(9, "ip_address")?;
    let scopes: Vec<&str> = row.try_get(11).map_err(|e| bad("scopes", &e))?;
    let allow_list: Vec<&str> = row.try_get(12).map_err(|e| bad("allow_list", &e))?;
    Ok(ApiKey {
        hashed_secret: row
            .try_get::<_, Vec<u8>>(1)
            .map_err(|e| bad("hashed_secret", &e))?,
        user_id: get(2, "user_id")?.to_owned(),
        last_used: time(3, "last_used")?,
        expires_at: time(4, "expires_at")?,
        created_at: time(5, "created_at")?,
        updated_at: time(6, "updated_at")?,
        login_type: LoginType::from_str(login_type).map_err(|e| bad("login_type", &e))?,
        lifetime_seconds: row.try_get(8).map_err(|e| bad("lifetime_seconds", &e))?,
        ip_address: IpAddr::from_str(ip_address).map_err(|_| {
            bad(
                "ip_address",
                &format!("{ip_address:?} is not an IP address"),
            )
        })?,
        token_name: get(10, "token_name")?.to_owned(),
        scopes: scopes
            .into_iter()
            .map(Scope::from_db)
            .collect::<Result<_, _>>()
            .map_err(|e| bad("scopes", &e))?,
        allow_list: allow_list
            .into_iter()
            .map(|text| {
                text.split_once(':')
                    .map(|(resource_type, id)| AllowEntry {
                        resource_type: resource_type.to_owned(),
                        id: id.to_owned(),
                    })
                    .ok_or_else(|| bad("allow_list", &format!("entry {text:?} is not <type>:<id>")))
            })
            .collect::<Result<_, _>>()?,
        id,
    })
}
