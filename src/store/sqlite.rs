//! `SqliteStore`: the embedded default. One SQLite file in WAL mode with Coder's `api_keys`
//! table (compatibility §3), shared safely by several threads and several processes.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use rusqlite::types::{ToSql, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Row, TransactionBehavior, ffi, params};

use super::{KeyStore, ListFilter};
use crate::error::{Error, Operation, StoreError, StoreErrorKind};
use crate::key::{AllowEntry, ApiKey, LoginType, Scope};
use crate::refresh::KeyUpdate;
use crate::time::{Clock, Timestamp};
use crate::token::KeyId;

/// The schema version this code writes and understands (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a tokenward file: "tkwd" in ASCII.
const APPLICATION_ID: i64 = 0x746b_7764;

/// `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`. Append only; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: Coder's api_keys (compatibility §3). Times are integer microseconds since the epoch, UTC;
    // scopes and allow_list are JSON arrays of strings.
    "CREATE TABLE api_keys (
        id TEXT NOT NULL PRIMARY KEY,
        hashed_secret BLOB NOT NULL,
        user_id TEXT NOT NULL,
        last_used INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        login_type TEXT NOT NULL CONSTRAINT api_keys_login_type_known CHECK (login_type IN
            ('password', 'github', 'oidc', 'token', 'none', 'oauth2_provider_app')),
        lifetime_seconds INTEGER NOT NULL DEFAULT 86400,
        ip_address TEXT NOT NULL DEFAULT '0.0.0.0',
        token_name TEXT NOT NULL DEFAULT '',
        scopes TEXT NOT NULL CONSTRAINT api_keys_scopes_array CHECK (
            CASE WHEN json_valid(scopes) THEN json_type(scopes) = 'array' ELSE 0 END),
        allow_list TEXT NOT NULL CONSTRAINT api_keys_allow_list_not_empty CHECK (
            CASE WHEN json_valid(allow_list)
                THEN json_type(allow_list) = 'array' AND json_array_length(allow_list) > 0
                ELSE 0 END)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX idx_api_keys_user ON api_keys (user_id);
    CREATE INDEX api_keys_last_used_idx ON api_keys (last_used DESC);
    CREATE UNIQUE INDEX idx_api_key_name ON api_keys (user_id, token_name)
        WHERE login_type = 'token';
    CREATE INDEX idx_api_keys_expires_at ON api_keys (expires_at);",
];

/// The columns of a key, in the order [`decode`] reads them.
macro_rules! columns {
    () => {
        "id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, \
         lifetime_seconds, ip_address, token_name, scopes, allow_list"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO api_keys (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
);

const GET: &str = concat!("SELECT ", columns!(), " FROM api_keys WHERE id = ?1");

/// Prefers the `token` key (the one `idx_api_key_name` makes unique), as `MemoryStore` does.
const GET_BY_NAME: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM api_keys WHERE user_id = ?1 AND token_name = ?2 \
     ORDER BY login_type = 'token' DESC, created_at, id LIMIT 1"
);

/// `ApiKey::apply` in one statement: every `SET` expression sees the row as it was, so the
/// comparisons are made against the stored values atomically, whoever else writes.
const APPLY: &str = "UPDATE api_keys SET
        last_used = CASE WHEN ?2 > last_used THEN ?2 ELSE last_used END,
        ip_address = CASE WHEN ?2 > last_used THEN ?3 ELSE ip_address END,
        expires_at = CASE WHEN expires_at = ?4 AND ?5 > expires_at AND expires_at >= ?6
            THEN ?5 ELSE expires_at END
     WHERE id = ?1";

const EXPIRE: &str = "UPDATE api_keys SET expires_at = min(expires_at, ?2) WHERE id = ?1";

const DELETE: &str = "DELETE FROM api_keys WHERE id = ?1";

const DELETE_BY_USER: &str = "DELETE FROM api_keys WHERE user_id = ?1";

/// Coder's `DeleteExpiredAPIKeys`: one batch, one statement.
const PURGE: &str = "DELETE FROM api_keys WHERE id IN \
     (SELECT id FROM api_keys WHERE expires_at < ?1 LIMIT ?2)";

/// Statements kept prepared per connection: the fixed ones plus the eight `list` shapes.
const STATEMENT_CACHE: usize = 32;

/// How a [`SqliteStore`] opens its file. Start from `SqliteOptions::default()` and set the
/// fields you need: the struct may gain fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// How long an operation waits for another connection's lock (this process or another)
    /// before failing; SQLite's busy timeout, and the bound on tokenward's own retries.
    pub busy_timeout: Duration,
    /// How many idle read connections to keep for reuse; ones returned beyond this number
    /// are closed.
    pub max_idle_readers: usize,
    /// How many read connections may be open at once (at least 1). A read beyond the limit
    /// waits for a connection to come back, up to `busy_timeout`, then fails as busy. Each
    /// connection holds two file descriptors (the database and its WAL), so this bounds what
    /// a burst of requests can take from the process's descriptor limit.
    pub max_readers: usize,
    /// Whether a missing file is created (with the schema); when false, a missing file is an
    /// error and nothing is created.
    pub create: bool,
    /// Open for reading only: nothing is created, migrated or written, and every write fails
    /// as [`StoreErrorKind::ReadOnly`]. A file that this process may not write (a read-only
    /// file, or one in a read-only directory) can be read so.
    ///
    /// Unless this process may write the file and its owner may too, a file whose `-wal`
    /// holds no commits is read alone, without locks or the WAL (SQLite's `immutable`): a
    /// read-only connection would otherwise (re)create the `-wal` and `-shm` files with the
    /// database's mode, which could stop the owner's later writes. Read that way, a write
    /// landing during the read may be missed or fail the read.
    pub read_only: bool,
}

impl Default for SqliteOptions {
    /// A 5-second busy timeout, up to 16 read connections, up to 8 of them kept idle; a
    /// missing file is created; read and write.
    fn default() -> SqliteOptions {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            max_idle_readers: 8,
            max_readers: 16,
            create: true,
            read_only: false,
        }
    }
}

/// Keys in one SQLite file: the embedded default store.
///
/// - WAL journal, so readers never wait for the writer. Within a process every write goes
///   through one connection behind a mutex; reads take a connection from a small pool, so
///   reading threads do not queue behind each other or behind writes.
/// - Several processes may share the file. Each write is a single autocommit statement (or,
///   for migrations, a `BEGIN IMMEDIATE` transaction), so no read lock is ever upgraded;
///   lock waits use SQLite's busy timeout and are then retried with a short backoff until
///   [`SqliteOptions::busy_timeout`] has passed, so "database is locked" reaches the caller
///   only after that long.
/// - `PRAGMA synchronous = FULL`: every acknowledged write is on disk, even across a power
///   loss. A lost `expire` or `delete` would bring a revoked token back, and writes are rare
///   (creations, revocations, at most one refresh per key per hour), so the fsync per commit
///   is worth it. (tests/reliability.rs shows acknowledged writes survive SIGKILL; surviving
///   power loss rests on SQLite's fsync and the disk honouring it.)
/// - The schema is versioned with `PRAGMA user_version` and migrated on open inside
///   `BEGIN IMMEDIATE`, so processes opening a new file at once are safe. A file written by a
///   newer tokenward is refused.
/// - Times are stored as integer microseconds since the epoch (UTC), `scopes` as a JSON array
///   of canonical names, `allow_list` as a JSON array of `"type:id"` strings.
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    /// How every connection of this store opens the file.
    access: Access,
    writer: Mutex<Connection>,
    readers: Mutex<Readers>,
    /// Signalled whenever a read connection is returned or closed.
    reader_returned: Condvar,
}

/// The read connections: the idle ones, and how many are open (idle or in use).
#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The schema version this tokenward writes and understands (`PRAGMA user_version`).
    pub const SCHEMA_VERSION: i64 = SCHEMA_VERSION;

    /// Opens (creating it when missing) the database at `path` with the default options,
    /// migrating its schema to [`SqliteStore::SCHEMA_VERSION`].
    ///
    /// Fails with [`Error::Store`] when the path is a directory, the location cannot be
    /// written, the file is not a tokenward database (or is corrupt), or its schema is newer
    /// than this code knows.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, Error> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Opens the database at `path` as [`SqliteStore::open`] does, with `options`: a missing
    /// file is an error unless [`SqliteOptions::create`] is set and
    /// [`SqliteOptions::read_only`] is not.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore, Error> {
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() {
            // SQLite reads "" as a private temporary database, which vanishes on close.
            return Err(open_error(
                &path,
                StoreErrorKind::Io,
                "no file named: the path is empty",
            ));
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                return Err(open_error(
                    &path,
                    StoreErrorKind::Io,
                    "it is a directory, not a database file",
                ));
            }
            Ok(meta) if !meta.is_file() => {
                return Err(open_error(
                    &path,
                    StoreErrorKind::Io,
                    "it is not a regular file, so not a database file",
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !creates(&options) => {
                return Err(open_error(
                    &path,
                    StoreErrorKind::Io,
                    "no such database file (nothing was created)",
                ));
            }
            _ => {} // Missing (SQLite creates it) or unreadable (SQLite says why).
        }
        if options.read_only {
            return SqliteStore::open_read_only(path, options);
        }
        if options.create {
            create_private(&path);
        }
        let mut writer = connect(&path, &options, Access::ReadWrite)?;
        // SQLite opens a write-protected file read-only without a word; every write would
        // then fail. Refuse it now, while the operator is looking.
        if writer.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
            return Err(open_error(
                &path,
                StoreErrorKind::ReadOnly,
                format!("cannot write: {}", why_read_only(&path)),
            ));
        }
        let fail = |what: &str, e: Failure| opening_error(&path, what, e);
        let deadline = Deadline::start(options.busy_timeout);
        // The journal mode is recorded in the file; switching takes a brief exclusive lock.
        let mode = retry(&deadline, || {
            Ok(
                writer.pragma_update_and_check(None, "journal_mode", "wal", |row| {
                    row.get::<_, String>(0)
                })?,
            )
        })
        .map_err(|e| fail("set the WAL journal mode", with_os_error(&writer, e)))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_error(
                &path,
                StoreErrorKind::Io,
                format!("cannot use the WAL journal (SQLite kept journal mode {mode:?})"),
            ));
        }
        migrate(&mut writer, &path, &deadline)?;
        Ok(SqliteStore::with_writer(
            path,
            options,
            Access::ReadWrite,
            writer,
        ))
    }

    /// [`SqliteStore::open_with`] for [`SqliteOptions::read_only`]: checks the schema it
    /// cannot migrate.
    fn open_read_only(path: PathBuf, options: SqliteOptions) -> Result<SqliteStore, Error> {
        // Commits not yet copied into the file itself; `immutable` would not see them.
        let wal_holds_commits =
            std::fs::metadata(sidecar(&path, "-wal")).is_ok_and(|meta| meta.len() > 0);
        let attempts: &[Access] = if owner_and_process_may_write(&path) {
            // Any -wal and -shm created are the ones a writer would create; when the
            // directory refuses them, the file alone may hold every commit.
            if wal_holds_commits {
                &[Access::ReadOnly]
            } else {
                &[Access::ReadOnly, Access::Immutable]
            }
        } else if wal_holds_commits {
            &[Access::ReadOnly]
        } else {
            &[Access::Immutable]
        };
        let deadline = Deadline::start(options.busy_timeout);
        let mut failure = Failure::Value("no way to open the file".to_owned());
        for &access in attempts {
            let conn = connect(&path, &options, access)?;
            // The first read opens the WAL, which is where a read-only open can fail.
            match retry(&deadline, || {
                Ok(conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))?)
            }) {
                Ok(version) => {
                    check_version(&path, version)?;
                    if version < SCHEMA_VERSION {
                        return Err(open_error(
                            &path,
                            StoreErrorKind::Incompatible,
                            not_migrated(version),
                        ));
                    }
                    check_application_id(&conn, &path, &deadline)?;
                    return Ok(SqliteStore::with_writer(path, options, access, conn));
                }
                Err(e) => {
                    failure = with_os_error(&conn, e);
                    // Only a file that cannot be shared read-only is worth the next attempt.
                    let unshareable = failure.kind() == StoreErrorKind::ReadOnly
                        || failure.code() == Some(ErrorCode::CannotOpen);
                    if !unshareable {
                        break;
                    }
                }
            }
        }
        Err(opening_error(&path, "read the schema version", failure))
    }

    fn with_writer(
        path: PathBuf,
        options: SqliteOptions,
        access: Access,
        writer: Connection,
    ) -> SqliteStore {
        SqliteStore {
            path,
            options,
            access,
            writer: Mutex::new(writer),
            readers: Mutex::new(Readers::default()),
            reader_returned: Condvar::new(),
        }
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.read(Operation::Check, |conn| {
            Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
        })
    }

    /// Runs `PRAGMA integrity_check`; [`Error::Store`] lists what it found unless the file is
    /// sound.
    pub fn integrity_check(&self) -> Result<(), Error> {
        let problems = self.read(Operation::Check, |conn| {
            let mut found = Vec::new();
            conn.pragma_query(None, "integrity_check", |row| {
                found.push(row.get::<_, String>(0)?);
                Ok(())
            })?;
            Ok(found)
        })?;
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::new(
            StoreErrorKind::Corrupt,
            Operation::Check,
            format!("integrity check failed: {}", problems.join("; ")),
        )
        .into())
    }

    /// Runs `op` on the write connection, retrying while the database is busy.
    fn write<T>(
        &self,
        operation: Operation,
        op: impl FnMut(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.write_raw(op).map_err(|e| e.into_error(operation))
    }

    /// [`SqliteStore::write`] for a write that depends on "now" (see `KeyStore::apply` and
    /// `KeyStore::expire`): the clock is read only once the database's write lock is held
    /// (`BEGIN IMMEDIATE`), on every attempt, so waiting for another process's lock never
    /// leaves a stale "now" in the write.
    fn write_at<T>(
        &self,
        operation: Operation,
        clock: &dyn Clock,
        mut op: impl FnMut(&Connection, Timestamp) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.write(operation, |conn| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let done = op(conn, clock.now()).and_then(|value| {
                conn.execute_batch("COMMIT")?;
                Ok(value)
            });
            if done.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            done
        })
    }

    /// [`SqliteStore::write`], leaving the failure to the caller to describe.
    fn write_raw<T>(
        &self,
        mut op: impl FnMut(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let deadline = Deadline::start(self.options.busy_timeout);
        let conn = self.writer.lock();
        retry(&deadline, || op(&conn)).map_err(|e| with_os_error(&conn, e))
    }

    /// Runs `op` on a pooled read connection, retrying while the database is busy.
    fn read<T>(
        &self,
        operation: Operation,
        mut op: impl FnMut(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        let deadline = Deadline::start(self.options.busy_timeout);
        let reader = self.take_reader(operation, &deadline)?;
        let result = retry(&deadline, || op(&reader))
            .map_err(|e| with_os_error(&reader, e).into_error(operation));
        self.return_reader(reader);
        result
    }

    /// An idle read connection, a new one while fewer than `max_readers` are open, or else
    /// the first one returned before the deadline.
    fn take_reader(&self, operation: Operation, deadline: &Deadline) -> Result<Connection, Error> {
        let mut readers = self.readers.lock();
        loop {
            if let Some(conn) = readers.idle.pop() {
                return Ok(conn);
            }
            if readers.open < self.options.max_readers.max(1) {
                break;
            }
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                return Err(StoreError::new(
                    StoreErrorKind::Busy,
                    operation,
                    format!(
                        "database is busy: all {} read connections stayed in use for {:?} \
                         (SqliteOptions::max_readers)",
                        readers.open, self.options.busy_timeout
                    ),
                )
                .into());
            }
            self.reader_returned.wait_for(&mut readers, remaining);
        }
        readers.open += 1;
        drop(readers);
        let opened = connect(&self.path, &self.options, self.access).and_then(|conn| {
            // A reader never writes: a bug that tried would fail here instead of taking a lock.
            conn.pragma_update(None, "query_only", true)
                .map_err(|e| with_os_error(&conn, e.into()).into_error(operation))?;
            Ok(conn)
        });
        if opened.is_err() {
            self.readers.lock().open -= 1;
            self.reader_returned.notify_one();
        }
        opened
    }

    /// Keeps `conn` for the next read, unless enough are idle already.
    fn return_reader(&self, conn: Connection) {
        let mut readers = self.readers.lock();
        if readers.idle.len() < self.options.max_idle_readers {
            readers.idle.push(conn);
        } else {
            readers.open -= 1;
            drop(readers);
            drop(conn);
        }
        self.reader_returned.notify_one();
    }

    /// Runs a `SELECT` of [`columns!`] and decodes every row.
    fn select(
        &self,
        operation: Operation,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Vec<ApiKey>, Error> {
        self.read(operation, |conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            let mut found = Vec::new();
            while let Some(row) = rows.next()? {
                found.push(decode(row)?);
            }
            Ok(found)
        })
    }

    /// Runs a single-row `SELECT` of [`columns!`].
    fn select_one(
        &self,
        operation: Operation,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Option<Arc<ApiKey>>, Error> {
        self.read(operation, |conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            match rows.next()? {
                Some(row) => Ok(Some(Arc::new(decode(row)?))),
                None => Ok(None),
            }
        })
    }
}

impl KeyStore for SqliteStore {
    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        let key = &*super::row_to_insert(key)?;
        let scopes = serde_json::to_string(&key.scopes)
            .map_err(|e| Error::InvalidKey(format!("scopes do not encode: {e}")))?;
        let allow_list: Vec<String> = key.allow_list.iter().map(|e| e.to_string()).collect();
        let allow_list = serde_json::to_string(&allow_list)
            .map_err(|e| Error::InvalidKey(format!("allow_list does not encode: {e}")))?;
        let ip_address = key.ip_address.to_string();
        let inserted = self.write_raw(|conn| {
            let mut statement = conn.prepare_cached(INSERT)?;
            Ok(statement.execute(params![
                key.id.as_str(),
                key.hashed_secret,
                key.user_id,
                key.last_used.unix_micros(),
                key.expires_at.unix_micros(),
                key.created_at.unix_micros(),
                key.updated_at.unix_micros(),
                key.login_type.as_str(),
                key.lifetime_seconds,
                ip_address,
                key.token_name,
                scopes,
                allow_list,
            ])?)
        });
        match inserted {
            Ok(_) => Ok(()),
            Err(Failure::Sqlite(e)) if is_unique_violation(&e, "api_keys.token_name") => {
                // Coder's idx_api_key_name (compatibility §4.2 step 8).
                Err(Error::NameConflict {
                    name: key.token_name.clone(),
                })
            }
            Err(Failure::Sqlite(e)) if is_unique_violation(&e, "api_keys.id") => {
                Err(StoreError::new(
                    StoreErrorKind::Constraint,
                    Operation::Insert,
                    "a key with this id already exists",
                )
                .into())
            }
            Err(e) => Err(e.into_error(Operation::Insert)),
        }
    }

    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        self.select_one(Operation::Get, GET, &[&id.as_str()])
    }

    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        if token_name.is_empty() {
            return Ok(None);
        }
        self.select_one(Operation::GetByName, GET_BY_NAME, &[&user_id, &token_name])
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        // One statement per filter shape, so each is planned with the right index.
        let mut sql = String::from(concat!("SELECT ", columns!(), " FROM api_keys WHERE 1"));
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(3);
        let login_type = filter.login_type.map(LoginType::as_str);
        let now = filter.hide_expired_at.map(Timestamp::unix_micros);
        if let Some(user_id) = &filter.user_id {
            params.push(user_id);
            sql.push_str(&format!(" AND user_id = ?{}", params.len()));
        }
        if let Some(login_type) = &login_type {
            params.push(login_type);
            sql.push_str(&format!(" AND login_type = ?{}", params.len()));
        }
        if let Some(now) = &now {
            // Expired means expires_at < now; a key expiring at this instant still shows.
            params.push(now);
            sql.push_str(&format!(" AND expires_at >= ?{}", params.len()));
        }
        sql.push_str(" ORDER BY created_at, id");
        self.select(Operation::List, &sql, &params)
    }

    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error> {
        let ip_address = update.ip_address.to_string();
        let changed = self.write_at(Operation::Apply, clock, |conn, now| {
            let mut statement = conn.prepare_cached(APPLY)?;
            Ok(statement.execute(params![
                update.id.as_str(),
                update.last_used.unix_micros(),
                ip_address,
                update.previous_expires_at.unix_micros(),
                update.expires_at.unix_micros(),
                now.unix_micros(),
            ])?)
        })?;
        Ok(changed > 0)
    }

    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        let changed = self.write_at(Operation::Expire, clock, |conn, now| {
            let mut statement = conn.prepare_cached(EXPIRE)?;
            let expires_at = super::expired_at(now);
            Ok(statement.execute(params![id.as_str(), expires_at.unix_micros()])?)
        })?;
        Ok(changed > 0)
    }

    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        let deleted = self.write(Operation::Delete, |conn| {
            let mut statement = conn.prepare_cached(DELETE)?;
            Ok(statement.execute(params![id.as_str()])?)
        })?;
        Ok(deleted > 0)
    }

    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        let deleted = self.write(Operation::DeleteByUser, |conn| {
            let mut statement = conn.prepare_cached(DELETE_BY_USER)?;
            Ok(statement.execute(params![user_id])?)
        })?;
        Ok(deleted as u64)
    }

    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let deleted = self.write(Operation::Purge, |conn| {
            let mut statement = conn.prepare_cached(PURGE)?;
            Ok(statement.execute(params![before.unix_micros(), limit])?)
        })?;
        Ok(deleted as u64)
    }
}

/// Why an operation failed, before the store adds its context.
enum Failure {
    /// SQLite said no.
    Sqlite(rusqlite::Error),
    /// SQLite said no because a system call failed with this `errno` (`sqlite3_system_errno`).
    Os(rusqlite::Error, i32),
    /// A key that does not fit its columns, or a row that does not decode to a key.
    Value(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Sqlite(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Sqlite(e) => e.fmt(f),
            Failure::Os(e, errno) => write!(f, "{e} ({})", io::Error::from_raw_os_error(*errno)),
            Failure::Value(detail) => f.write_str(detail),
        }
    }
}

impl Failure {
    /// Another connection holds a lock we need (any extended `SQLITE_BUSY`/`SQLITE_LOCKED`).
    fn is_busy(&self) -> bool {
        match self {
            Failure::Sqlite(e) | Failure::Os(e, _) => matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ),
            Failure::Value(_) => false,
        }
    }

    /// SQLite's primary result code, if SQLite failed.
    fn code(&self) -> Option<ErrorCode> {
        match self {
            Failure::Sqlite(e) | Failure::Os(e, _) => e.sqlite_error_code(),
            Failure::Value(_) => None,
        }
    }

    /// What kind of store failure this is.
    fn kind(&self) -> StoreErrorKind {
        if is_disk_full(self) {
            return StoreErrorKind::Full;
        }
        match self.code() {
            // A row that does not decode to a key.
            None if matches!(self, Failure::Value(_)) => StoreErrorKind::Corrupt,
            // The driver refused before SQLite ran (a NUL in a path, say).
            None => StoreErrorKind::Io,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
            Some(ErrorCode::DatabaseCorrupt) => StoreErrorKind::Corrupt,
            Some(ErrorCode::NotADatabase) => StoreErrorKind::Incompatible,
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => StoreErrorKind::ReadOnly,
            Some(ErrorCode::ConstraintViolation) => StoreErrorKind::Constraint,
            Some(_) => StoreErrorKind::Io,
        }
    }

    /// This failure as the store error of `operation`; a full disk says so first.
    fn into_error(self, operation: Operation) -> Error {
        let kind = self.kind();
        StoreError::new(kind, operation, self.cause(kind)).into()
    }

    /// The store's words for this failure of `kind`.
    fn cause(&self, kind: StoreErrorKind) -> String {
        match kind {
            StoreErrorKind::Full => format!("disk full: {self}"),
            _ => self.to_string(),
        }
    }
}

/// Whether `failure` means the disk (or file system) is full: `SQLITE_FULL`, or an I/O error
/// whose system call failed with `ENOSPC` (as creating the shared-memory file on open does).
fn is_disk_full(failure: &Failure) -> bool {
    match failure {
        Failure::Os(_, errno)
            if io::Error::from_raw_os_error(*errno).kind() == io::ErrorKind::StorageFull =>
        {
            true
        }
        _ => failure.code() == Some(ErrorCode::DiskFull),
    }
}

/// `failure` with the `errno` behind it, when SQLite failed on a system call on `conn`.
fn with_os_error(conn: &Connection, failure: Failure) -> Failure {
    match failure {
        Failure::Sqlite(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::SystemIoFailure | ErrorCode::DiskFull | ErrorCode::CannotOpen)
            ) =>
        {
            // SAFETY: the handle is live for as long as `conn` is borrowed, and
            // sqlite3_system_errno only reads the connection's last system error.
            let errno = unsafe { ffi::sqlite3_system_errno(conn.handle()) };
            if errno == 0 {
                Failure::Sqlite(e)
            } else {
                Failure::Os(e, errno)
            }
        }
        other => other,
    }
}

/// A unique-constraint violation naming `column` ("UNIQUE constraint failed: api_keys.id").
fn is_unique_violation(e: &rusqlite::Error, column: &str) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            matches!(
                code.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) && message
                .as_deref()
                .is_some_and(|m| m.split([':', ',']).any(|part| part.trim() == column))
        }
        _ => false,
    }
}

/// When an operation stops retrying a busy database.
struct Deadline {
    start: Instant,
    timeout: Duration,
}

impl Deadline {
    fn start(timeout: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            timeout,
        }
    }

    fn remaining(&self) -> Duration {
        self.timeout.saturating_sub(self.start.elapsed())
    }
}

/// Runs `op` until it succeeds, fails other than busy, or the deadline passes. SQLite's busy
/// handler already waits inside most calls; this covers the busy and locked answers SQLite
/// gives without waiting (deadlock avoidance, `SQLITE_BUSY_SNAPSHOT`, `SQLITE_LOCKED`, a WAL
/// being recovered or set up by another process). `op` must be safe to repeat: one autocommit
/// statement, or a whole transaction.
fn retry<T>(deadline: &Deadline, mut op: impl FnMut() -> Result<T, Failure>) -> Result<T, Failure> {
    let mut backoff = Duration::from_millis(1);
    loop {
        match op() {
            Err(e) if e.is_busy() && !deadline.remaining().is_zero() => {
                // Jitter from the clock, so processes that collided do not collide again.
                let jitter = Duration::from_micros(u64::from(
                    deadline.start.elapsed().subsec_nanos() % 1000,
                ));
                std::thread::sleep((backoff + jitter).min(deadline.remaining()));
                backoff = (backoff * 2).min(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

/// Creates a missing database file readable by its owner only: it holds `hashed_secret`,
/// which is itself a secret (compatibility §2). SQLite gives the WAL and shared-memory files the same
/// mode. An existing file is left as it is; any failure is left for SQLite to report.
fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
}

/// How a connection opens the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Read and write (creating the file when the options say so).
    ReadWrite,
    /// Read only, through the WAL and its shared memory.
    ReadOnly,
    /// Read only, the main file alone, without locks (SQLite's `immutable`).
    Immutable,
}

/// Whether `options` may create a missing file.
fn creates(options: &SqliteOptions) -> bool {
    options.create && !options.read_only
}

/// A connection with tokenward's per-connection settings.
fn connect(path: &Path, options: &SqliteOptions, access: Access) -> Result<Connection, Error> {
    let opened = match access {
        Access::ReadWrite => {
            let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            if options.create {
                flags |= OpenFlags::SQLITE_OPEN_CREATE;
            }
            // No URI parsing: a path is a path, even when it starts with "file:".
            Connection::open_with_flags(path, flags)
        }
        Access::ReadOnly => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Access::Immutable => Connection::open_with_flags(
            format!("{}?immutable=1", file_uri(path)),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
    };
    let conn = opened.map_err(|e| opening_error(path, "open", Failure::Sqlite(e)))?;
    let configure = || -> Result<(), rusqlite::Error> {
        // SQLite takes whole milliseconds in a C int (rusqlite panics beyond): about 24 days.
        conn.busy_timeout(
            options
                .busy_timeout
                .min(Duration::from_millis(i32::MAX as u64)),
        )?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // FULL: acknowledged writes survive power loss (see `SqliteStore`).
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    };
    configure()
        .map_err(|e| opening_error(path, "configure", with_os_error(&conn, Failure::Sqlite(e))))?;
    Ok(conn)
}

/// A failure while opening `path`, in words a user can act on.
fn opening_error(path: &Path, what: &str, failure: Failure) -> Error {
    let kind = failure.kind();
    let cause = match kind {
        StoreErrorKind::Full => failure.cause(kind),
        StoreErrorKind::Incompatible | StoreErrorKind::Corrupt => {
            format!("not a tokenward database: {failure}")
        }
        _ if failure.code() == Some(ErrorCode::CannotOpen) => {
            "unable to open database file (does its directory exist, and may this process \
             write there?)"
                .to_owned()
        }
        StoreErrorKind::ReadOnly => format!("cannot write: {}", why_read_only(path)),
        _ => format!("{what}: {failure}"),
    };
    open_error(path, kind, cause)
}

/// Why SQLite could not write at `path`, in words the operator can act on: the file itself,
/// or the directory where the WAL's `-wal` and `-shm` files must be created.
fn why_read_only(path: &Path) -> String {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Err(e) if e.kind() == io::ErrorKind::ReadOnlyFilesystem => {
            "the file system is mounted read-only".to_owned()
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            "the file is read-only (check its permissions)".to_owned()
        }
        Err(e) => format!("the file cannot be opened for writing: {e}"),
        Ok(_) => {
            let directory = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.display().to_string(),
                _ => ".".to_owned(),
            };
            format!(
                "the directory {directory} is not writable: the WAL journal needs its -wal \
                 and -shm files beside the database"
            )
        }
    }
}

/// Why a read-only open refuses a schema it would have to migrate.
fn not_migrated(version: i64) -> String {
    if version == 0 {
        "not a tokenward database: it has no schema".to_owned()
    } else {
        format!(
            "database schema version {version} is older than this tokenward's \
             ({SCHEMA_VERSION}); open it for writing once to upgrade it"
        )
    }
}

/// The file SQLite keeps beside the database: `-wal` or `-shm`.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether this process may write `path` and its mode lets its owner write: then the `-wal`
/// and `-shm` files a read-only connection creates (with the database's owner and mode) do
/// not stand in the owner's way later.
fn owner_and_process_may_write(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let owner_writes =
            std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o200 != 0);
        owner_writes && std::fs::OpenOptions::new().write(true).open(path).is_ok()
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new().write(true).open(path).is_ok()
    }
}

/// `path` as an SQLite `file:` URI, every byte outside the unreserved set percent-encoded.
fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().into_owned().into_bytes();
    let mut uri = String::from("file:");
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// An [`Operation::Open`] failure naming the file (shown to the operator, never in a detail).
fn open_error(path: &Path, kind: StoreErrorKind, cause: impl fmt::Display) -> Error {
    StoreError::new(kind, Operation::Open, cause)
        .at(path.display())
        .into()
}

/// Brings the schema to [`SCHEMA_VERSION`], or refuses a file this code cannot use.
fn migrate(conn: &mut Connection, path: &Path, deadline: &Deadline) -> Result<(), Error> {
    let fail = |conn: &Connection, e: Failure| {
        opening_error(path, "migrate the schema", with_os_error(conn, e))
    };
    // Fast path without a write lock: most opens find the file up to date.
    let version = retry(deadline, || {
        Ok(conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))?)
    })
    .map_err(|e| fail(conn, e))?;
    check_version(path, version)?;
    if version == SCHEMA_VERSION {
        return check_application_id(conn, path, deadline);
    }
    let outcome = retry(deadline, || {
        // IMMEDIATE takes the write lock first, so two processes cannot both migrate.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if !(0..=SCHEMA_VERSION).contains(&version) {
            return Ok(Migration::Refused(version));
        }
        if version == 0 {
            // A new file is empty; refuse to move into someone else's database.
            let objects: i64 =
                tx.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
            let application_id: i64 =
                tx.pragma_query_value(None, "application_id", |row| row.get(0))?;
            if objects > 0 || (application_id != 0 && application_id != APPLICATION_ID) {
                return Ok(Migration::Foreign);
            }
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", from as i64 + 1)?;
        }
        tx.commit()?;
        Ok(Migration::Done)
    })
    .map_err(|e| fail(conn, e))?;
    match outcome {
        Migration::Done => {}
        Migration::Refused(version) => check_version(path, version)?,
        Migration::Foreign => {
            return Err(open_error(
                path,
                StoreErrorKind::Incompatible,
                "not a tokenward database: it holds other tables",
            ));
        }
    }
    check_application_id(conn, path, deadline)
}

/// What a migration attempt found.
enum Migration {
    /// The schema is now current.
    Done,
    /// A schema version this code cannot use.
    Refused(i64),
    /// An existing database that is not tokenward's.
    Foreign,
}

/// Refuses a schema newer than this code, or a negative version.
fn check_version(path: &Path, version: i64) -> Result<(), Error> {
    if version > SCHEMA_VERSION {
        return Err(open_error(
            path,
            StoreErrorKind::Incompatible,
            format!(
                "database schema version {version} is newer than this tokenward supports \
                 ({SCHEMA_VERSION}); upgrade tokenward"
            ),
        ));
    }
    if version < 0 {
        return Err(open_error(
            path,
            StoreErrorKind::Incompatible,
            format!("not a tokenward database: schema version {version}"),
        ));
    }
    Ok(())
}

/// Refuses a file that another application marked as its own.
fn check_application_id(conn: &Connection, path: &Path, deadline: &Deadline) -> Result<(), Error> {
    let id = retry(deadline, || {
        Ok(conn.pragma_query_value(None, "application_id", |row| row.get::<_, i64>(0))?)
    })
    .map_err(|e| opening_error(path, "read the application id", with_os_error(conn, e)))?;
    if id != APPLICATION_ID {
        return Err(open_error(
            path,
            StoreErrorKind::Incompatible,
            format!("not a tokenward database: application_id {id:#x}"),
        ));
    }
    Ok(())
}

/// One row of [`columns!`] as a key; a value that does not fit names the key and the column.
fn decode(row: &Row<'_>) -> Result<ApiKey, Failure> {
    let id_text = text(row, 0, "id", "?")?;
    let id = KeyId::parse(id_text).map_err(|e| bad(id_text, "id", e))?;
    let id_text = id.as_str();
    let login_type = text(row, 7, "login_type", id_text)?;
    let ip_address = text(row, 9, "ip_address", id_text)?;
    let scopes = text(row, 11, "scopes", id_text)?;
    let allow_list = text(row, 12, "allow_list", id_text)?;
    Ok(ApiKey {
        id,
        hashed_secret: value(row, 1, "hashed_secret", id_text)?
            .as_blob()
            .map_err(|e| bad(id_text, "hashed_secret", e))?
            .to_vec(),
        user_id: text(row, 2, "user_id", id_text)?.to_owned(),
        last_used: time(row, 3, "last_used", id_text)?,
        expires_at: time(row, 4, "expires_at", id_text)?,
        created_at: time(row, 5, "created_at", id_text)?,
        updated_at: time(row, 6, "updated_at", id_text)?,
        login_type: LoginType::from_str(login_type).map_err(|e| bad(id_text, "login_type", e))?,
        lifetime_seconds: integer(row, 8, "lifetime_seconds", id_text)?,
        ip_address: IpAddr::from_str(ip_address).map_err(|_| {
            bad(
                id_text,
                "ip_address",
                format!("{ip_address:?} is not an IP address"),
            )
        })?,
        token_name: text(row, 10, "token_name", id_text)?.to_owned(),
        scopes: serde_json::from_str::<Vec<Scope>>(scopes).map_err(|e| {
            bad(
                id_text,
                "scopes",
                format!("expected a JSON array of strings: {e}"),
            )
        })?,
        allow_list: decode_allow_list(allow_list).map_err(|e| bad(id_text, "allow_list", e))?,
    })
}

/// `["type:id", ...]` as stored by `insert`. Entries are kept as written: validation is a
/// creation rule (compatibility §3), and a store gives back what it was given.
fn decode_allow_list(json: &str) -> Result<Vec<AllowEntry>, String> {
    let entry = |text: &str| {
        text.split_once(':')
            .map(|(resource_type, id)| AllowEntry {
                resource_type: resource_type.to_owned(),
                id: id.to_owned(),
            })
            .ok_or_else(|| format!("entry {text:?} is not <type>:<id>"))
    };
    // Entries never need JSON escapes, so borrowing avoids a copy; fall back when they do.
    match serde_json::from_str::<Vec<&str>>(json) {
        Ok(entries) => entries.into_iter().map(entry).collect(),
        Err(_) => serde_json::from_str::<Vec<String>>(json)
            .map_err(|e| format!("expected a JSON array of strings: {e}"))?
            .iter()
            .map(|text| entry(text))
            .collect(),
    }
}

fn bad(id: &str, column: &str, reason: impl fmt::Display) -> Failure {
    Failure::Value(format!("key {id:?}: column {column}: {reason}"))
}

fn value<'r>(
    row: &'r Row<'_>,
    index: usize,
    column: &str,
    id: &str,
) -> Result<ValueRef<'r>, Failure> {
    row.get_ref(index).map_err(|e| bad(id, column, e))
}

fn text<'r>(row: &'r Row<'_>, index: usize, column: &str, id: &str) -> Result<&'r str, Failure> {
    value(row, index, column, id)?
        .as_str()
        .map_err(|e| bad(id, column, e))
}

fn integer(row: &Row<'_>, index: usize, column: &str, id: &str) -> Result<i64, Failure> {
    value(row, index, column, id)?
        .as_i64()
        .map_err(|e| bad(id, column, e))
}

fn time(row: &Row<'_>, index: usize, column: &str, id: &str) -> Result<Timestamp, Failure> {
    Timestamp::try_from_unix_micros(integer(row, index, column, id)?)
        .map_err(|e| bad(id, column, e))
}
