//! What `SqliteStore` promises beyond the shared store suite: the file survives reopening
//! exactly, its schema is versioned, bad paths fail clearly, and handles (threads, processes)
//! share one file safely.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{files, set_mode, ts};
use rusqlite::Connection;
use tempfile::TempDir;
use tokenward::Coded;
use tokenward::{
    ApiKey, Error, KeyId, KeyStore, KeyUpdate, ListFilter, LoginType, ManualClock, Scope,
    SqliteOptions, SqliteStore, StoreErrorKind, Timestamp,
};

fn key(n: u32, user: &str, login_type: LoginType, name: &str) -> ApiKey {
    common::key(n, user, login_type, name, "2026-04-01T00:00:00Z")
}

/// A temporary directory and a database path inside it.
fn db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    (dir, path)
}

/// How an open failure reads: the file, the operation, the cause.
fn opening(path: impl AsRef<Path>, cause: &str) -> String {
    format!(
        "key store {}: open the key store: {cause}",
        path.as_ref().display()
    )
}

fn store_error(result: Result<SqliteStore, Error>) -> String {
    match result {
        Err(Error::Store(e)) => e.to_string(),
        Err(other) => panic!("expected Error::Store, got {other:?}"),
        Ok(store) => panic!("expected an error, opened {store:?}"),
    }
}

/// Keys whose every column is unusual in some way.
fn odd_keys() -> Vec<ApiKey> {
    let mut wrong_hash = key(1, "alice", LoginType::Token, "ci");
    wrong_hash.hashed_secret = vec![1, 2, 3];
    wrong_hash.ip_address = "2001:db8::7".parse().unwrap();
    wrong_hash.last_used = ts("0001-01-01T00:00:00Z"); // Go's zero time, older Coder rows
    wrong_hash.lifetime_seconds = -5;
    wrong_hash.scopes = vec![
        Scope::public("workspace:read").unwrap(),
        Scope::public("template:*").unwrap(),
        Scope::public("all").unwrap(),
    ];
    wrong_hash.allow_list = vec![
        "workspace:6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f"
            .parse()
            .unwrap(),
        "*:*".parse().unwrap(),
        "template:*".parse().unwrap(),
    ];
    wrong_hash.expires_at = ts("2026-04-01T00:00:00.123456Z");

    let mut empty_hash = key(2, "user:default/jane", LoginType::OAuth2ProviderApp, "");
    empty_hash.hashed_secret = Vec::new();
    empty_hash.scopes = Vec::new();
    empty_hash.ip_address = "::1".parse().unwrap();
    empty_hash.lifetime_seconds = i64::MAX;

    let mut extremes = key(
        3,
        "ünïcode \"quoted\" user",
        LoginType::Password,
        "naïve\\name",
    );
    extremes.last_used = Timestamp::MIN;
    extremes.expires_at = Timestamp::MAX;
    extremes.created_at = Timestamp::from_unix_micros(-1);
    extremes.updated_at = Timestamp::MIN;
    extremes.lifetime_seconds = i64::MIN;
    extremes.ip_address = "0.0.0.0".parse().unwrap();

    let mut rest: Vec<ApiKey> = [
        LoginType::Github,
        LoginType::Oidc,
        LoginType::None,
        LoginType::Token,
    ]
    .into_iter()
    .zip(4..)
    .map(|(t, n)| key(n, "bob", t, &format!("name-{n}")))
    .collect();
    rest.splice(0..0, [wrong_hash, empty_hash, extremes]);
    rest
}

#[test]
fn reopening_the_file_keeps_every_column_exactly() {
    let (_dir, path) = db();
    let keys = odd_keys();
    {
        let store = SqliteStore::open(&path).unwrap();
        for k in &keys {
            store.insert(k).unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    for k in &keys {
        assert_eq!(store.get(&k.id).unwrap().as_deref(), Some(k), "{}", k.id);
    }
    let mut sorted = keys.clone();
    sorted.sort_by_key(|k| (k.created_at, k.id));
    assert_eq!(store.list(&ListFilter::default()).unwrap(), sorted);
    store.integrity_check().unwrap();
}

#[test]
fn a_new_file_records_the_schema_version_and_uses_wal() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SqliteStore::SCHEMA_VERSION);
    assert_eq!(SqliteStore::SCHEMA_VERSION, 1);
    assert_eq!(store.path(), path);
    let raw = Connection::open(&path).unwrap();
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn any_busy_timeout_is_accepted() {
    let (_dir, path) = db();
    for busy_timeout in [Duration::ZERO, Duration::MAX] {
        let mut options = SqliteOptions::default();
        options.busy_timeout = busy_timeout;
        options.max_idle_readers = 0;
        let store = SqliteStore::open_with(&path, options).unwrap();
        store.insert(&key(1, "alice", LoginType::Token, "ci")).ok();
        assert!(
            store
                .get(&KeyId::parse("key0000001").unwrap())
                .unwrap()
                .is_some()
        );
    }
}

#[test]
fn a_file_with_a_newer_schema_is_refused() {
    let (_dir, path) = db();
    drop(SqliteStore::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 7)
        .unwrap();
    let message = store_error(SqliteStore::open(&path));
    assert!(
        message.ends_with(
            "database schema version 7 is newer than this tokenward supports (1); upgrade tokenward"
        ),
        "{message}"
    );
}

#[test]
fn a_directory_is_not_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let message = store_error(SqliteStore::open(dir.path()));
    assert_eq!(
        message,
        opening(dir.path(), "it is a directory, not a database file")
    );
}

#[test]
fn a_device_is_not_a_database_file() {
    let message = store_error(SqliteStore::open("/dev/null"));
    assert_eq!(
        message,
        opening(
            "/dev/null",
            "it is not a regular file, so not a database file"
        )
    );
}

#[test]
fn a_file_of_random_bytes_is_not_a_tokenward_database() {
    let (_dir, path) = db();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let message = store_error(SqliteStore::open(&path));
    assert_eq!(
        message,
        opening(&path, "not a tokenward database: file is not a database")
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file is left alone"
    );
}

#[test]
fn another_applications_sqlite_database_is_refused_and_left_alone() {
    let (_dir, path) = db();
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT);")
        .unwrap();
    let message = store_error(SqliteStore::open(&path));
    assert!(
        message.starts_with(&opening(&path, "not a tokenward database")),
        "{message}"
    );
    let raw = Connection::open(&path).unwrap();
    let tables: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'api_keys'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
}

#[test]
fn an_unwritable_location_is_a_clear_error() {
    // Permission bits do not stop root, so use places nobody can create a file in.
    let (dir, _) = db();
    let missing_parent = dir.path().join("no/such/dir/keys.db");
    let message = store_error(SqliteStore::open(&missing_parent));
    assert!(
        message.starts_with(&opening(&missing_parent, "unable to open database file")),
        "{message}"
    );
    assert!(!missing_parent.parent().unwrap().exists());

    let in_proc = Path::new("/proc/tokenward-test-keys.db");
    let message = store_error(SqliteStore::open(in_proc));
    assert!(
        message.contains(&in_proc.display().to_string()),
        "{message}"
    );
}

#[test]
fn two_handles_on_one_file_see_each_others_writes() {
    let (_dir, path) = db();
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let k = key(1, "alice", LoginType::Password, "");
    // `a` reads first, so its pooled reader exists before `b` writes.
    assert_eq!(a.get(&k.id).unwrap(), None);
    b.insert(&k).unwrap();
    assert_eq!(a.get(&k.id).unwrap().as_deref(), Some(&k));

    let update = KeyUpdate {
        id: k.id,
        last_used: ts("2026-03-01T12:00:00Z"),
        expires_at: ts("2026-04-02T00:00:00Z"),
        ip_address: "1.1.1.1".parse().unwrap(),
        previous_expires_at: k.expires_at,
    };
    assert!(a.apply(&update, &update.last_used).unwrap());
    let seen = b.get(&k.id).unwrap().unwrap();
    assert_eq!(
        (seen.last_used, seen.expires_at),
        (update.last_used, update.expires_at)
    );

    // The name index holds across handles.
    a.insert(&key(2, "alice", LoginType::Token, "ci")).unwrap();
    assert_eq!(
        b.insert(&key(3, "alice", LoginType::Token, "ci"))
            .unwrap_err(),
        Error::NameConflict { name: "ci".into() }
    );
    assert!(b.delete(&k.id).unwrap());
    assert_eq!(a.get(&k.id).unwrap(), None);
}

#[test]
fn the_schema_has_coders_indexes() {
    let (_dir, path) = db();
    drop(SqliteStore::open(&path).unwrap());
    let raw = Connection::open(&path).unwrap();
    let sql_of = |name: &str| -> String {
        raw.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
            [name],
            |row| row.get(0),
        )
        .unwrap_or_else(|e| panic!("index {name}: {e}"))
    };
    let name_index = sql_of("idx_api_key_name");
    assert!(
        name_index.starts_with("CREATE UNIQUE INDEX"),
        "{name_index}"
    );
    assert!(
        name_index.contains("(user_id, token_name)")
            && name_index.contains("WHERE login_type = 'token'"),
        "{name_index}"
    );
    assert!(sql_of("idx_api_keys_user").contains("(user_id)"));
    assert!(sql_of("api_keys_last_used_idx").contains("(last_used DESC)"));
    assert!(sql_of("idx_api_keys_expires_at").contains("(expires_at)"));
}

#[test]
fn times_are_stored_as_integer_microseconds_and_the_hash_as_a_blob() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    let k = key(1, "alice", LoginType::Token, "ci");
    store.insert(&k).unwrap();
    let raw = Connection::open(&path).unwrap();
    let row: (
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        String,
        String,
    ) = raw
        .query_row(
            "SELECT typeof(last_used), typeof(expires_at), typeof(created_at), \
             typeof(updated_at), typeof(hashed_secret), expires_at, created_at, scopes, \
             allow_list FROM api_keys",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "integer".into(),
            "integer".into(),
            "integer".into(),
            "integer".into(),
            "blob".into(),
            k.expires_at.unix_micros(),
            k.created_at.unix_micros(),
            r#"["coder:all"]"#.into(),
            r#"["*:*"]"#.into(),
        )
    );
}

#[test]
fn the_table_itself_refuses_an_empty_allow_list() {
    // The store refuses it before SQL (see the shared suite); the schema keeps Coder's CHECK
    // for anything else that writes the file.
    let (_dir, path) = db();
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let err = conn
        .execute(
            "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, created_at, \
             updated_at, login_type, scopes, allow_list) \
             VALUES ('key0000001', x'00', 'alice', 0, 0, 0, 0, 'token', '[]', '[]')",
            [],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("api_keys_allow_list_not_empty"),
        "{err}"
    );
}

#[test]
fn a_duplicate_id_is_a_constraint_failure_of_the_insert_naming_nothing_given() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    store
        .insert(&key(1, "alice", LoginType::Token, "a"))
        .unwrap();
    let err = store
        .insert(&key(1, "bob", LoginType::Token, "b"))
        .unwrap_err();
    assert_eq!(err.code(), tokenward::Code::StoreConstraint);
    assert_eq!(
        err.to_string(),
        "key store: insert a key: a key with this id already exists"
    );
    assert_eq!(err.message(), "Failed to create API key.");
}

#[test]
fn a_row_that_does_not_decode_names_the_key_and_the_column() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    let raw = Connection::open(&path).unwrap();
    let insert = |id: &str, ip: &str, scopes: &str, allow_list: &str| {
        raw.execute(
            "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, \
             created_at, updated_at, login_type, ip_address, scopes, allow_list) \
             VALUES (?1, x'00', 'mallory', 0, 0, 0, 0, 'token', ?2, ?3, ?4)",
            [id, ip, scopes, allow_list],
        )
        .unwrap();
    };
    let only = |user: &str| ListFilter {
        user_id: Some(user.into()),
        ..ListFilter::default()
    };
    let message = |result: Result<Vec<ApiKey>, Error>| match result {
        Err(Error::Store(e)) => {
            assert_eq!(e.kind(), tokenward::StoreErrorKind::Corrupt);
            e.to_string()
        }
        other => panic!("{other:?}"),
    };

    insert("short", "1.2.3.4", "[]", r#"["*:*"]"#);
    let m = message(store.list(&only("mallory")));
    assert!(m.contains(r#"key "short": column id"#), "{m}");
    raw.execute("DELETE FROM api_keys", []).unwrap();

    insert("badaddress", "1.2.3.4/32", "[]", r#"["*:*"]"#);
    let m = message(store.list(&only("mallory")));
    assert!(m.contains(r#"key "badaddress": column ip_address"#), "{m}");
    let id = KeyId::parse("badaddress").unwrap();
    assert!(store.get(&id).is_err());
    raw.execute("DELETE FROM api_keys", []).unwrap();

    insert("badscopes0", "1.2.3.4", "[1, 2]", r#"["*:*"]"#);
    let m = message(store.list(&only("mallory")));
    assert!(m.contains(r#"key "badscopes0": column scopes"#), "{m}");
    raw.execute("DELETE FROM api_keys", []).unwrap();

    insert("badallow00", "1.2.3.4", "[]", r#"["nocolon"]"#);
    let m = message(store.list(&only("mallory")));
    assert!(m.contains(r#"key "badallow00": column allow_list"#), "{m}");
}

#[test]
fn a_check_constraint_keeps_unknown_login_types_out() {
    let (_dir, path) = db();
    drop(SqliteStore::open(&path).unwrap());
    let raw = Connection::open(&path).unwrap();
    let err = raw
        .execute(
            "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, \
             created_at, updated_at, login_type, scopes, allow_list) \
             VALUES ('key0000001', x'00', 'u', 0, 0, 0, 0, 'saml', '[]', '[\"*:*\"]')",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
}

#[test]
fn many_handles_opening_a_new_file_at_once_all_succeed() {
    let (_dir, path) = db();
    let path = Arc::new(path);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let path = Arc::clone(&path);
            std::thread::spawn(move || SqliteStore::open(&*path).map(|s| s.schema_version()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().unwrap(), 1);
    }
}

#[test]
fn concurrent_writers_and_readers_on_several_handles_never_see_locked() {
    let (_dir, path) = db();
    let mut options = SqliteOptions::default();
    options.busy_timeout = Duration::from_secs(10);
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let store = SqliteStore::open_with(&path, options.clone()).unwrap();
            std::thread::spawn(move || {
                for n in 0..50 {
                    let k = key(t * 1000 + n, "alice", LoginType::Token, &format!("{t}-{n}"));
                    store.insert(&k).unwrap();
                    assert!(store.get(&k.id).unwrap().is_some());
                    let update = KeyUpdate {
                        id: k.id,
                        last_used: ts("2026-03-02T00:00:00Z"),
                        expires_at: k.expires_at,
                        ip_address: "10.0.0.1".parse().unwrap(),
                        previous_expires_at: k.expires_at,
                    };
                    assert!(store.apply(&update, &update.last_used).unwrap());
                    store.list(&ListFilter::default()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let keys = store.list(&ListFilter::default()).unwrap();
    assert_eq!(keys.len(), 200);
    assert!(
        keys.iter()
            .all(|k| k.last_used == ts("2026-03-02T00:00:00Z"))
    );
    store.integrity_check().unwrap();
}

/// Set by [`processes_share_one_file`] for the children it starts.
const CHILD_PATH: &str = "TOKENWARD_SQLITE_CHILD_DB";
const CHILD_INDEX: &str = "TOKENWARD_SQLITE_CHILD_INDEX";
const PER_CHILD: u32 = 100;

#[test]
fn processes_share_one_file() {
    let (_dir, path) = db();
    let children: Vec<_> = (0..3)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child_process_writes",
                    "--ignored",
                    "--nocapture",
                ])
                .env(CHILD_PATH, &path)
                .env(CHILD_INDEX, i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "child failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = SqliteStore::open(&path).unwrap();
    let keys = store.list(&ListFilter::default()).unwrap();
    assert_eq!(keys.len(), 3 * PER_CHILD as usize);
    assert_eq!(
        store
            .purge_expired(ts("2026-03-01T00:00:00Z"), 1000)
            .unwrap(),
        3 * PER_CHILD as u64
    );
    store.integrity_check().unwrap();
}

/// The child side of [`processes_share_one_file`]; does nothing when run on its own.
#[test]
#[ignore = "started by processes_share_one_file"]
fn child_process_writes() {
    let (Ok(path), Ok(index)) = (std::env::var(CHILD_PATH), std::env::var(CHILD_INDEX)) else {
        return;
    };
    let index: u32 = index.parse().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    for n in 0..PER_CHILD {
        let k = key(
            index * 1000 + n,
            "alice",
            LoginType::Token,
            &format!("{index}-{n}"),
        );
        store.insert(&k).unwrap();
        assert!(store.get(&k.id).unwrap().is_some());
        assert!(
            store
                .expire(&k.id, &ManualClock::new(ts("2026-02-01T00:00:00Z")))
                .unwrap()
        );
        store.list(&ListFilter::default()).unwrap();
    }
}

#[test]
fn a_new_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    store
        .insert(&key(1, "alice", LoginType::Token, "ci"))
        .unwrap();
    for file in [path.clone(), path.with_extension("db-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[test]
fn a_failed_write_answers_coders_words_and_never_names_the_file() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON api_keys \
             BEGIN SELECT RAISE(FAIL, 'refused by a trigger'); END;",
        )
        .unwrap();
    let err = store
        .insert(&key(1, "alice", LoginType::Token, "ci"))
        .unwrap_err();
    let answer = tokenward::http::answer(&err, &tokenward::Settings::default());
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body,
        "{\"message\":\"Failed to create API key.\",\"detail\":\"insert a key: refused by a trigger\"}\n"
    );
    let file = path.display().to_string();
    assert!(
        !answer.body.contains(&file) && !err.to_string().contains(&file),
        "{err}"
    );
}

/// A small tmpfs mounted on a fresh directory, unmounted (lazily, so an open file cannot keep
/// it) when dropped.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// `None`, with a message, where this process may not mount (not root, or a sandbox).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tokenward-test",
            ])
            .arg(dir.path())
            .stderr(Stdio::piped())
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs { dir }),
            Ok(output) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs here: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system is full; returns it, for `remove_file` to make room.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = [0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        // Whatever is left of the last page, too.
        while file.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

#[test]
fn a_full_disk_is_an_error_that_says_so_and_keys_that_need_no_write_still_verify() {
    use tokenward::{Authority, Code, Coded, Settings, User};
    let Some(disk) = Tmpfs::mount("2m") else {
        return;
    };
    let path = disk.path().join("keys.db");
    let clock = Arc::new(ManualClock::new(ts("2026-03-01T12:00:00Z")));
    let open = || {
        SqliteStore::open(&path).map(|store| {
            Authority::new(Arc::new(store), Settings::default())
                .unwrap()
                .with_clock(clock.clone())
        })
    };
    let alice = User::new("alice", &[]);
    let authority = open().unwrap();
    let minted = authority
        .create_token(
            &alice,
            &alice,
            &tokenward::CreateTokenRequest::default(),
            "",
        )
        .unwrap();
    let token = minted.token.expose();
    authority.authenticate(&token, "").unwrap(); // the first use writes last_used

    let filler = disk.fill();
    let full = |what: &str, message: &str| {
        assert!(message.contains("disk full"), "{what}: {message}");
        assert!(!message.contains(&token[11..]), "{what}: the secret leaked");
    };
    match authority.create_token(
        &alice,
        &alice,
        &tokenward::CreateTokenRequest::default(),
        "",
    ) {
        Err(Error::Store(e)) => {
            assert_eq!(e.kind(), tokenward::StoreErrorKind::Full);
            full("create", &e.to_string())
        }
        other => panic!("create on a full disk: {other:?}"),
    }
    // Used a minute ago and far from expiry: nothing to write, so it verifies.
    clock.advance(tokenward::Duration::MINUTE);
    let verified = authority.authenticate(&token, "").unwrap();
    assert_eq!(verified.update, None);
    // Two hours on, the use must be written: a 500 that names the cause, never a 401.
    clock.advance(tokenward::Duration::from_hours(2).unwrap());
    let failure = authority.authenticate(&token, "").unwrap_err();
    assert_eq!((failure.code(), failure.status()), (Code::StoreFull, 500));
    full("refresh", &failure.detail());

    // Closed cleanly with room to spare, then opened on a full disk (a restart): the
    // shared-memory file cannot be created.
    std::fs::remove_file(&filler).unwrap();
    drop(authority);
    let filler = disk.fill();
    match open() {
        Err(Error::Store(e)) => {
            assert_eq!(e.kind(), tokenward::StoreErrorKind::Full);
            full("open", &e.to_string())
        }
        Ok(_) => panic!("opened on a full disk"),
        Err(other) => panic!("open on a full disk: {other:?}"),
    }
    std::fs::remove_file(&filler).unwrap();
    let authority = open().unwrap();
    authority.authenticate(&token, "").unwrap();
}

#[test]
fn a_slide_that_waited_for_another_process_is_judged_at_the_time_it_writes() {
    // Another process holds the write lock while the session lapses; the slide decided before
    // the lapse must be judged by the clock read once the lock is ours, and not land.
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    let now = Timestamp::now();
    let mut session = key(1, "alice", LoginType::Password, "");
    session.expires_at = Timestamp::from_unix_micros(now.unix_micros() + 50_000);
    store.insert(&session).unwrap();
    let slide = KeyUpdate {
        id: session.id,
        last_used: now,
        expires_at: now.saturating_add_seconds(86_400),
        ip_address: "192.0.2.1".parse().unwrap(),
        previous_expires_at: session.expires_at,
    };
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    store.apply(&slide, &tokenward::SystemClock).unwrap();
    holder.join().unwrap();
    let stored = store.get(&session.id).unwrap().unwrap();
    assert_eq!(
        stored.expires_at, session.expires_at,
        "the lapsed session did not slide"
    );
    assert_eq!(stored.last_used, now, "last_used still moves");
}

#[test]
fn a_time_outside_the_representable_range_is_a_corrupt_row_not_a_clamped_one() {
    let (_dir, path) = db();
    let store = SqliteStore::open(&path).unwrap();
    store
        .insert(&key(1, "alice", LoginType::Token, "ci"))
        .unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE api_keys SET expires_at = ?1", [i64::MAX])
        .unwrap();
    let err = store.get(&KeyId::parse("key0000001").unwrap()).unwrap_err();
    assert_eq!(err.code(), tokenward::Code::StoreCorrupt);
    assert!(err.to_string().contains("column expires_at"), "{err}");
}

#[test]
fn a_path_sqlite_cannot_take_is_an_io_error_not_a_corrupt_file() {
    let err = SqliteStore::open("ke\0y.db").unwrap_err();
    assert_eq!(err.code(), tokenward::Code::StoreIo, "{err}");
}

// ---------------------------------------------------------------------------------------------
// Opening without creating, and opening read-only

fn existing() -> SqliteOptions {
    let mut options = SqliteOptions::default();
    options.create = false;
    options
}

fn read_only() -> SqliteOptions {
    let mut options = SqliteOptions::default();
    options.read_only = true;
    options
}

#[test]
fn a_missing_file_is_an_error_and_stays_missing_unless_created() {
    let (dir, path) = db();
    for options in [existing(), read_only()] {
        let Err(Error::Store(e)) = SqliteStore::open_with(&path, options) else {
            panic!("a missing file opened");
        };
        assert_eq!(e.kind(), StoreErrorKind::Io);
        assert_eq!(
            e.to_string(),
            opening(&path, "no such database file (nothing was created)")
        );
        assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    }
    // `create: false` opens a file that exists.
    SqliteStore::open(&path).unwrap();
    let store = SqliteStore::open_with(&path, existing()).unwrap();
    store
        .insert(&key(1, "alice", LoginType::Token, "a"))
        .unwrap();
}

#[test]
fn an_empty_path_is_refused_rather_than_a_temporary_database() {
    let message = store_error(SqliteStore::open(""));
    assert_eq!(message, opening("", "no file named: the path is empty"));
}

#[test]
fn a_read_only_store_reads_and_refuses_every_write() {
    let (_dir, path) = db();
    let writer = SqliteStore::open(&path).unwrap();
    writer
        .insert(&key(1, "alice", LoginType::Token, "a"))
        .unwrap();
    // The writer is still open: its -wal holds the commit, and the reader sees it.
    let reader = SqliteStore::open_with(&path, read_only()).unwrap();
    assert_eq!(
        reader
            .get(&KeyId::parse("key0000001").unwrap())
            .unwrap()
            .unwrap()
            .token_name,
        "a"
    );
    writer
        .insert(&key(2, "alice", LoginType::Token, "b"))
        .unwrap();
    let listed = reader.list(&ListFilter::default()).unwrap();
    assert_eq!(listed.len(), 2, "a later commit is seen too");
    let refused = reader
        .insert(&key(3, "alice", LoginType::Token, "c"))
        .unwrap_err();
    assert_eq!(refused.code(), tokenward::Code::StoreReadOnly, "{refused}");
    let refused = reader
        .delete(&KeyId::parse("key0000001").unwrap())
        .unwrap_err();
    assert_eq!(refused.code(), tokenward::Code::StoreReadOnly, "{refused}");
    assert_eq!(writer.list(&ListFilter::default()).unwrap().len(), 2);
}

#[test]
fn a_read_only_file_is_read_without_leaving_files_that_stop_later_writes() {
    let (dir, path) = db();
    SqliteStore::open(&path)
        .unwrap()
        .insert(&key(1, "alice", LoginType::Token, "a"))
        .unwrap();
    assert_eq!(files(dir.path()), ["keys.db"]);
    set_mode(&path, 0o444);
    let reader = SqliteStore::open_with(&path, read_only()).unwrap();
    assert_eq!(reader.list(&ListFilter::default()).unwrap().len(), 1);
    drop(reader);
    // A -wal or -shm made now would carry mode 0444 and refuse the owner's writes later.
    assert_eq!(files(dir.path()), ["keys.db"]);
    set_mode(&path, 0o600);
    let writer = SqliteStore::open(&path).unwrap();
    writer
        .insert(&key(2, "alice", LoginType::Token, "b"))
        .unwrap();
}

#[test]
fn a_read_only_open_neither_migrates_nor_takes_a_foreign_file() {
    let (_dir, path) = db();
    std::fs::write(&path, b"").unwrap();
    let message = store_error(SqliteStore::open_with(&path, read_only()));
    assert_eq!(
        message,
        opening(&path, "not a tokenward database: it has no schema")
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let message = store_error(SqliteStore::open_with(&path, read_only()));
    assert!(
        message.starts_with(&opening(&path, "not a tokenward database: application_id")),
        "{message}"
    );
}
