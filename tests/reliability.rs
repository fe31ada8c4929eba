//! Reliability under load and failure: eight threads on one store, four processes on one
//! SQLite file, a writer killed mid-stream again and again, and bad input answered with typed
//! errors.
//!
//! Child processes are this test binary again, running one `#[ignore]`d entry point with its
//! parameters in an environment variable; without that variable an entry point returns at
//! once, so `cargo test -- --ignored` runs nothing by accident.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration as StdDuration, Instant};

use common::Wrapped;
use tempfile::TempDir;
use tokenward::Coded;
use tokenward::{
    ApiKey, Authority, Clock, Code, CreateTokenRequest, Duration, Error, KeyId, KeyStore,
    ListFilter, ListTokens, LoginType, ManualClock, MemoryStore, NewKey, ScopeError, Settings,
    SqliteOptions, SqliteStore, StoreErrorKind, Timestamp, User,
};

/// A temporary directory and a database path inside it.
fn db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    (dir, path)
}

fn named(name: &str) -> CreateTokenRequest {
    CreateTokenRequest {
        token_name: name.into(),
        ..CreateTokenRequest::default()
    }
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// xorshift64*: a fixed seed gives the same mix, delays and picks on every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// What a child prints, flushed, after a create returned: `ack <token>`.
const ACK: &str = "ack ";

/// Starts this test binary running only the ignored test `entry`, with `params` in `var`.
fn spawn_child(entry: &str, var: &str, params: &str) -> Child {
    child_command(entry, var, params)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn child_command(entry: &str, var: &str, params: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            entry,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(var, params);
    command
}

/// Prints an acknowledged token on its own line and flushes, so a kill right after the
/// create returned cannot lose it from the parent's view.
fn acknowledge(token: &str) {
    let mut out = std::io::stdout().lock();
    // One write: a kill never leaves half a line that still looks complete.
    out.write_all(format!("\n{ACK}{token}\n").as_bytes())
        .unwrap();
    out.flush().unwrap();
}

/// The tokens in a child's output: complete `ack` lines only (the harness may print on the
/// same line, before the marker).
fn acknowledged(stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter_map(|line| line.find(ACK).map(|at| line[at + ACK.len()..].to_owned()))
        .inspect(|token| assert_eq!(token.len(), 33, "not a token: {token:?}"))
        .collect()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// Eight threads on one store

/// Overrides the seconds each store is stressed for (default 2).
const STRESS_SECONDS: &str = "TOKENWARD_STRESS_SECONDS";
const THREADS: usize = 8;
/// Each thread deletes instead of creating once it holds this many keys.
const KEYS_PER_THREAD: usize = 1_500;

fn stress_duration() -> StdDuration {
    match std::env::var(STRESS_SECONDS) {
        Ok(text) => StdDuration::from_secs_f64(
            text.parse()
                .unwrap_or_else(|_| panic!("{STRESS_SECONDS}={text:?} is not a number")),
        ),
        Err(_) => StdDuration::from_secs(3),
    }
}

/// Lifetimes that outlast any run (the clock gains about 5 years in 10 minutes of stress), so
/// a key is expired only because a thread expired it and every "expired" can be checked.
fn long_lived() -> Settings {
    let century = Duration::from_hours(100 * 8760).unwrap();
    {
        let mut s = Settings::default();
        s.session_duration = century;
        s.default_token_lifetime = century;
        s
    }
}

/// A clock on which hours pass in milliseconds and no two readings are equal.
///
/// A ticker thread adds 10 minutes every 2 ms, so `last_used` (rewritten after an hour) and
/// session expiry (slid after an hour) keep changing; each reading adds a microsecond, as a
/// real clock does between two calls. (A clock that stands still is covered by
/// `an_expire_stands_against_an_authenticate_in_the_same_microsecond`.)
struct SteppingClock(AtomicI64);

impl SteppingClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_micros_rounded(), SeqCst);
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.0.fetch_add(1, SeqCst) + 1)
    }
}

/// One acknowledged create and what the threads have done to and seen of it.
struct Tracked {
    token: String,
    id: KeyId,
    user: User,
    /// Empty for sessions.
    token_name: String,
    delete_started: AtomicBool,
    /// Set once `delete` returned.
    deleted: AtomicBool,
    expire_started: AtomicBool,
    /// A clock reading taken after an `expire` returned: `expires_at` stays below it for good.
    /// `i64::MAX` until then.
    expired_below: AtomicI64,
    /// The highest `last_used` read so far.
    last_used_seen: AtomicI64,
    /// The highest `expires_at` read before any expire started.
    expires_at_seen: AtomicI64,
}

#[derive(Default)]
struct Tally {
    tokens: AtomicU64,
    sessions: AtomicU64,
    authenticated: AtomicU64,
    refreshes: AtomicU64,
    slides: AtomicU64,
    last_used_moves: AtomicU64,
    expires: AtomicU64,
    expired_rejections: AtomicU64,
    deletes: AtomicU64,
    unknown_after_delete: AtomicU64,
    conflicts: AtomicU64,
    reads: AtomicU64,
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, SeqCst);
}

struct Stress {
    authority: Authority,
    clock: Arc<SteppingClock>,
    /// Expires anyone's key.
    owner: User,
    keys: RwLock<Vec<Arc<Tracked>>>,
    tally: Tally,
    violations: Mutex<Vec<String>>,
}

impl Stress {
    fn new(store: Arc<dyn KeyStore>) -> Stress {
        let clock = Arc::new(SteppingClock(AtomicI64::new(
            ts("2026-03-01T12:00:00Z").unix_micros(),
        )));
        Stress {
            authority: Authority::new(store, long_lived())
                .unwrap()
                .with_clock(clock.clone()),
            clock,
            owner: User::new("owner", &["owner"]),
            keys: RwLock::new(Vec::new()),
            tally: Tally::default(),
            violations: Mutex::new(Vec::new()),
        }
    }

    fn violation(&self, what: String) {
        let mut violations = self.violations.lock().unwrap();
        if violations.len() < 1_000 {
            violations.push(what);
        }
    }

    /// Runs eight threads against the store while the ticker moves the clock, then checks the
    /// store against every acknowledged create, delete and expire.
    fn run(&self, seconds: StdDuration) {
        let deadline = Instant::now() + seconds;
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(SeqCst) {
                    std::thread::sleep(StdDuration::from_millis(2));
                    self.clock.advance(Duration::from_secs(600).unwrap());
                }
            });
            let workers: Vec<_> = (0..THREADS)
                .map(|t| scope.spawn(move || self.work(t, deadline)))
                .collect();
            let ended: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
            // Stop the ticker before passing on a worker's panic, or the scope never ends.
            stop.store(true, SeqCst);
            if let Some(panic) = ended.into_iter().find_map(Result::err) {
                std::panic::resume_unwind(panic);
            }
        });
        self.check_final_state();
    }

    fn work(&self, thread: usize, deadline: Instant) {
        let user = User::new(format!("user-{thread}"), &[]);
        let mut rng = Rng::new(0x5eed + thread as u64);
        // This thread's keys not yet being deleted; only their creator deletes them.
        let mut mine: Vec<Arc<Tracked>> = Vec::new();
        let mut made = 0;
        while Instant::now() < deadline {
            let roll = rng.below(100);
            let full = mine.len() >= KEYS_PER_THREAD;
            match roll {
                0..12 if !full => {
                    made += 1;
                    let name = format!("t{thread}-{made}");
                    match self
                        .authority
                        .create_token(&user, &user, &named(&name), "203.0.113.9")
                    {
                        Ok(minted) => {
                            count(&self.tally.tokens);
                            mine.push(self.track(&user, minted));
                        }
                        Err(e) => self.violation(format!("create_token {name}: {e:?}")),
                    }
                }
                12..24 if !full => {
                    let login_type = [
                        LoginType::Password,
                        LoginType::Password,
                        LoginType::Github,
                        LoginType::Oidc,
                    ][rng.below(4) as usize];
                    match self
                        .authority
                        .create_session(&user, login_type, "203.0.113.9")
                    {
                        Ok(minted) => {
                            count(&self.tally.sessions);
                            mine.push(self.track(&user, minted));
                        }
                        Err(e) => self.violation(format!("create_session: {e:?}")),
                    }
                }
                0..24 | 72..82 => {
                    if !mine.is_empty() {
                        let key = mine.swap_remove(rng.below(mine.len() as u64) as usize);
                        self.delete(&key);
                    }
                }
                24..64 => {
                    if let Some(key) = self.pick(&mut rng) {
                        self.authenticate(&key);
                    }
                }
                64..72 => {
                    if let Some(key) = self.pick(&mut rng) {
                        self.expire(&key);
                    }
                }
                82..96 => {
                    if let Some(key) = self.pick(&mut rng) {
                        self.read(&key);
                    }
                }
                _ => {
                    if !mine.is_empty() {
                        let key = mine[rng.below(mine.len() as u64) as usize].clone();
                        self.create_conflicting(&key);
                    }
                }
            }
        }
    }

    /// Records an acknowledged create; the key must be readable from now on.
    fn track(&self, user: &User, minted: NewKey) -> Arc<Tracked> {
        let key = Arc::new(Tracked {
            token: minted.token.expose(),
            id: minted.key.id,
            user: user.clone(),
            token_name: minted.key.token_name.clone(),
            delete_started: AtomicBool::new(false),
            deleted: AtomicBool::new(false),
            expire_started: AtomicBool::new(false),
            expired_below: AtomicI64::new(i64::MAX),
            last_used_seen: AtomicI64::new(minted.key.last_used.unix_micros()),
            expires_at_seen: AtomicI64::new(minted.key.expires_at.unix_micros()),
        });
        self.keys.write().unwrap().push(key.clone());
        self.read(&key);
        key
    }

    /// Any key, half the time among the 32 newest so the same keys are used again and again
    /// (and their refreshes race).
    fn pick(&self, rng: &mut Rng) -> Option<Arc<Tracked>> {
        let keys = self.keys.read().unwrap();
        let len = keys.len() as u64;
        if len == 0 {
            return None;
        }
        let index = if rng.below(2) == 0 {
            len - 1 - rng.below(len.min(32))
        } else {
            rng.below(len)
        };
        Some(keys[index as usize].clone())
    }

    /// Reads the stored key and checks it against everything acknowledged before the read.
    fn read(&self, key: &Tracked) {
        let deleted = key.deleted.load(SeqCst);
        let expired_below = key.expired_below.load(SeqCst);
        let last_used_floor = key.last_used_seen.load(SeqCst);
        let expires_at_floor = key.expires_at_seen.load(SeqCst);
        count(&self.tally.reads);
        let stored = match self.authority.store().get(&key.id) {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                if !key.delete_started.load(SeqCst) {
                    self.violation(format!("{}: lost: not found, never deleted", key.id));
                }
                return;
            }
            Err(e) => {
                self.violation(format!("{}: get: {e:?}", key.id));
                return;
            }
        };
        if deleted {
            self.violation(format!("{}: read after its delete returned", key.id));
        }
        let last_used = stored.last_used.unix_micros();
        if last_used < last_used_floor {
            self.violation(format!(
                "{}: last_used moved backwards from {} to {}",
                key.id,
                Timestamp::from_unix_micros(last_used_floor),
                stored.last_used
            ));
        } else if last_used > last_used_floor && last_used_floor > 0 {
            count(&self.tally.last_used_moves);
        }
        key.last_used_seen.fetch_max(last_used, SeqCst);
        let expires_at = stored.expires_at.unix_micros();
        if expires_at >= expired_below {
            self.violation(format!(
                "{}: expired, then un-expired: expires_at {} after an expire that returned \
                 before {}",
                key.id,
                stored.expires_at,
                Timestamp::from_unix_micros(expired_below)
            ));
        }
        // Checked after the read: an expire that began during it may have lowered the value.
        if !key.expire_started.load(SeqCst) {
            if expires_at < expires_at_floor {
                self.violation(format!(
                    "{}: expires_at moved backwards from {} to {} with no expire",
                    key.id,
                    Timestamp::from_unix_micros(expires_at_floor),
                    stored.expires_at
                ));
            }
            key.expires_at_seen.fetch_max(expires_at, SeqCst);
        }
    }

    fn authenticate(&self, key: &Tracked) {
        let deleted = key.deleted.load(SeqCst);
        let expired_below = key.expired_below.load(SeqCst);
        match self.authority.authenticate(&key.token, "198.51.100.7") {
            Ok(auth) => {
                count(&self.tally.authenticated);
                if deleted {
                    self.violation(format!("{}: authenticated after its delete", key.id));
                }
                if expired_below != i64::MAX {
                    self.violation(format!("{}: authenticated after its expire", key.id));
                }
                if let Some(update) = auth.update {
                    count(&self.tally.refreshes);
                    if update.expires_at > update.previous_expires_at {
                        count(&self.tally.slides);
                    }
                }
                self.read(key);
            }
            // Lifetimes outlast the run: only an expire explains "expired".
            Err(r) if r.code() == Code::Expired && key.expire_started.load(SeqCst) => {
                count(&self.tally.expired_rejections);
            }
            Err(r) if r.code() == Code::UnknownKey && key.delete_started.load(SeqCst) => {
                count(&self.tally.unknown_after_delete);
            }
            Err(r) => self.violation(format!("{}: authenticate: {r}", key.id)),
        }
    }

    fn expire(&self, key: &Tracked) {
        key.expire_started.store(true, SeqCst);
        match self.authority.expire(&self.owner, &key.id) {
            Ok(()) => {
                count(&self.tally.expires);
                key.expired_below
                    .fetch_min(self.clock.now().unix_micros(), SeqCst);
            }
            Err(Error::NotFound { .. }) if key.delete_started.load(SeqCst) => {}
            Err(e) => self.violation(format!("{}: expire: {e:?}", key.id)),
        }
    }

    fn delete(&self, key: &Tracked) {
        key.delete_started.store(true, SeqCst);
        match self.authority.delete(&key.user, &key.id) {
            Ok(()) => {
                count(&self.tally.deletes);
                key.deleted.store(true, SeqCst);
            }
            Err(e) => self.violation(format!("{}: delete: {e:?}", key.id)),
        }
        self.read(key);
    }

    /// A second token with the name of `key` (a live token of this thread's user).
    fn create_conflicting(&self, key: &Tracked) {
        if key.token_name.is_empty() {
            return;
        }
        match self
            .authority
            .create_token(&key.user, &key.user, &named(&key.token_name), "")
        {
            Err(Error::NameConflict { name }) if name == key.token_name => {
                count(&self.tally.conflicts);
            }
            other => self.violation(format!(
                "a second token named {:?}: {:?}",
                key.token_name,
                other.map(|minted| minted.key)
            )),
        }
    }

    /// Every created-and-not-deleted key is stored, nothing else is, each with what the
    /// threads last saw or later, and each answers as its history says.
    fn check_final_state(&self) {
        let store = self.authority.store();
        let stored: HashMap<KeyId, ApiKey> = store
            .list(&ListFilter::default())
            .unwrap()
            .into_iter()
            .map(|k| (k.id, k))
            .collect();
        let keys = self.keys.read().unwrap();
        let mut live = 0;
        for key in keys.iter() {
            let deleted = key.deleted.load(SeqCst);
            if deleted != key.delete_started.load(SeqCst) {
                self.violation(format!("{}: a delete did not finish", key.id));
            }
            let answer = self.authority.authenticate(&key.token, "");
            let Some(stored) = stored.get(&key.id) else {
                if !deleted {
                    self.violation(format!("{}: created, never deleted, missing", key.id));
                }
                if answer.as_ref().map_err(|r| r.code()).err() != Some(Code::UnknownKey) {
                    self.violation(format!("{}: deleted but answers {answer:?}", key.id));
                }
                continue;
            };
            live += 1;
            if deleted {
                self.violation(format!("{}: deleted, still stored", key.id));
            }
            if stored.last_used.unix_micros() < key.last_used_seen.load(SeqCst) {
                self.violation(format!("{}: last_used ended below a value read", key.id));
            }
            let expired_below = key.expired_below.load(SeqCst);
            if expired_below != i64::MAX {
                if stored.expires_at.unix_micros() >= expired_below {
                    self.violation(format!("{}: expired, ended un-expired", key.id));
                }
                if answer.as_ref().map_err(|r| r.code()).err() != Some(Code::Expired) {
                    self.violation(format!("{}: expired but answers {answer:?}", key.id));
                }
            } else {
                if stored.expires_at.unix_micros() < key.expires_at_seen.load(SeqCst) {
                    self.violation(format!("{}: expires_at ended below a value read", key.id));
                }
                if let Err(r) = answer {
                    self.violation(format!("{}: live but answers {r}", key.id));
                }
            }
        }
        if stored.len() != live {
            self.violation(format!(
                "{} keys stored, {live} of them created by the threads",
                stored.len()
            ));
        }
    }

    /// Fails with every violation seen; otherwise shows the mix was what the test claims.
    fn assert_clean(&self, store: &str) {
        let t = &self.tally;
        let n = |c: &AtomicU64| c.load(SeqCst);
        eprintln!(
            "{store}: {} tokens, {} sessions, {} authenticated ({} refresh writes, {} slides), \
             {} last_used moves seen, {} expires, {} rejected as expired, {} deletes, {} \
             unknown after delete, {} name conflicts, {} reads",
            n(&t.tokens),
            n(&t.sessions),
            n(&t.authenticated),
            n(&t.refreshes),
            n(&t.slides),
            n(&t.last_used_moves),
            n(&t.expires),
            n(&t.expired_rejections),
            n(&t.deletes),
            n(&t.unknown_after_delete),
            n(&t.conflicts),
            n(&t.reads),
        );
        let violations = self.violations.lock().unwrap();
        assert!(
            violations.is_empty(),
            "{store}: {} violations, first ones:\n{}",
            violations.len(),
            violations[..violations.len().min(20)].join("\n")
        );
        for (what, counter) in [
            ("tokens", &t.tokens),
            ("sessions", &t.sessions),
            ("slides", &t.slides),
            ("last_used moves", &t.last_used_moves),
            ("expires", &t.expires),
            ("expired rejections", &t.expired_rejections),
            ("deletes", &t.deletes),
            ("name conflicts", &t.conflicts),
        ] {
            assert!(n(counter) > 0, "{store}: the mix had no {what}");
        }
    }
}

#[test]
fn eight_threads_on_a_memory_store_lose_nothing_and_never_move_backwards() {
    let stress = Stress::new(Arc::new(MemoryStore::new()));
    stress.run(stress_duration());
    stress.assert_clean("memory");
}

#[test]
fn eight_threads_on_a_sqlite_store_lose_nothing_and_never_move_backwards() {
    let (_dir, path) = db();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let stress = Stress::new(store.clone());
    stress.run(stress_duration());
    stress.assert_clean("sqlite");
    store.integrity_check().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Four processes on one SQLite file

const PROCESSES: usize = 4;
const TOKENS_PER_PROCESS: usize = 200;
/// `<index>\n<tokens>\n<directory>` for [`share_child_creates_and_authenticates`].
const SHARE_PARAMS: &str = "TOKENWARD_RELIABILITY_SHARE";
/// What a sharing child prints last: how many of its peers' tokens it authenticated.
const PEER_AUTHENTICATIONS: &str = "peer authentications ";

#[test]
fn four_processes_share_one_file_without_errors_or_lost_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|i| {
            spawn_child(
                "share_child_creates_and_authenticates",
                SHARE_PARAMS,
                &format!("{i}\n{TOKENS_PER_PROCESS}\n{}", dir.path().display()),
            )
        })
        .collect();
    let mut tokens = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        // A child exits nonzero on any error, "database is locked" included.
        assert!(
            output.status.success(),
            "process {i}: {}",
            describe(&output)
        );
        let acked = acknowledged(&output.stdout);
        assert_eq!(
            acked.len(),
            TOKENS_PER_PROCESS,
            "process {i}: {}",
            describe(&output)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let peers: usize = stdout
            .lines()
            .find_map(|line| line.strip_prefix(PEER_AUTHENTICATIONS))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("process {i}: {}", describe(&output)));
        assert_eq!(
            peers,
            (PROCESSES - 1) * TOKENS_PER_PROCESS,
            "process {i} authenticated every token of the others"
        );
        eprintln!(
            "process {i}: {} tokens, {peers} of its peers' authenticated",
            acked.len()
        );
        tokens.extend(acked.into_iter().map(|token| (i, token)));
    }
    let store = Arc::new(SqliteStore::open(dir.path().join("keys.db")).unwrap());
    store.integrity_check().unwrap();
    assert_eq!(
        store.list(&ListFilter::default()).unwrap().len(),
        PROCESSES * TOKENS_PER_PROCESS
    );
    let authority = Authority::new(store, Settings::default()).unwrap();
    for (i, token) in &tokens {
        let auth = authority
            .authenticate(token, "")
            .unwrap_or_else(|r| panic!("{token:.10} of process {i}: {r}"));
        assert_eq!(auth.key.user_id, format!("proc-{i}"));
    }
}

/// The complete lines of a peer's token file.
fn peer_tokens(dir: &Path, peer: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(format!("tokens-{peer}"))).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete.lines().map(str::to_owned).collect()
}

/// Polls `done` every millisecond; panics after 30 seconds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + StdDuration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(StdDuration::from_millis(1));
    }
}

/// One of the processes of [`four_processes_share_one_file_without_errors_or_lost_tokens`]:
/// creates its tokens, publishing each to its peers through a file once the create returned,
/// and authenticates its own and every token its peers publish. Panics (exits nonzero) on
/// any error.
#[test]
#[ignore = "child process of four_processes_share_one_file_without_errors_or_lost_tokens"]
fn share_child_creates_and_authenticates() {
    let Ok(params) = std::env::var(SHARE_PARAMS) else {
        return;
    };
    let mut params = params.splitn(3, '\n');
    let index: usize = params.next().unwrap().parse().unwrap();
    let count: usize = params.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(params.next().unwrap());
    let store = SqliteStore::open(dir.join("keys.db")).unwrap_or_else(|e| panic!("open: {e}"));
    let authority = Authority::new(Arc::new(store), Settings::default()).unwrap();
    let authenticate = |token: &str| {
        if let Err(r) = authority.authenticate(token, "192.0.2.1") {
            panic!("process {index}: authenticate {token:.10}: {r}");
        }
    };
    let me = User::new(format!("proc-{index}"), &[]);
    let mut published = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("tokens-{index}")))
        .unwrap();
    // Start together (each token file marks a started process), so the processes overlap.
    wait_until("every process started", || {
        (0..PROCESSES).all(|peer| dir.join(format!("tokens-{peer}")).exists())
    });
    // How many of each peer's tokens this process has authenticated.
    let mut done = [0; PROCESSES];
    let mut authenticate_peers = || {
        for (peer, done) in done.iter_mut().enumerate().filter(|(p, _)| *p != index) {
            let tokens = peer_tokens(&dir, peer);
            for token in &tokens[*done..] {
                authenticate(token);
            }
            *done = tokens.len();
        }
    };
    for n in 0..count {
        let name = format!("t{n}");
        let minted = authority
            .create_token(&me, &me, &named(&name), "192.0.2.1")
            .unwrap_or_else(|e| panic!("process {index}: create {name}: {e}"));
        let token = minted.token.expose();
        acknowledge(&token);
        published
            .write_all(format!("{token}\n").as_bytes())
            .unwrap();
        // Peers may be writing this key's first use at the same moment.
        authenticate(&token);
        authenticate_peers();
    }
    wait_until("every process published its tokens", || {
        (0..PROCESSES).all(|peer| peer_tokens(&dir, peer).len() == count)
    });
    authenticate_peers();
    let peers: usize = done.iter().sum();
    println!("\n{PEER_AUTHENTICATIONS}{peers}");
}

// ---------------------------------------------------------------------------------------------
// A writer killed mid-stream

const CRASH_ROUNDS: u64 = 15;
/// `<round>\n<database path>` for [`crash_child_creates_until_killed`].
const CRASH_PARAMS: &str = "TOKENWARD_RELIABILITY_CRASH";
/// What a crash child prints once its store is open.
const READY: &str = "ready";

#[test]
fn a_writer_killed_mid_stream_keeps_every_acknowledged_token_and_a_sound_file() {
    let (_dir, path) = db();
    let mut rng = Rng::new(0xdead);
    let mut acked: Vec<String> = Vec::new();
    let mut kills_after_acks = 0;
    for round in 0..CRASH_ROUNDS {
        let mut child = spawn_child(
            "crash_child_creates_until_killed",
            CRASH_PARAMS,
            &format!("{round}\n{}", path.display()),
        );
        let (ready_tx, ready) = mpsc::channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stdout = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut line = Vec::new();
            while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if line == format!("{READY}\n").as_bytes() {
                    ready_tx.send(()).ok();
                }
                all.append(&mut line);
            }
            all
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            stderr.read_to_string(&mut all).ok();
            all
        });
        if round % 5 == 0 {
            // Now and then while it opens the file: creating, migrating, recovering the WAL.
            std::thread::sleep(StdDuration::from_millis(rng.below(15)));
        } else {
            if ready.recv_timeout(StdDuration::from_secs(20)).is_err() {
                child.kill().ok();
                panic!("round {round}: the child never opened the store: {}", {
                    child.wait().ok();
                    stderr.join().unwrap()
                });
            }
            std::thread::sleep(StdDuration::from_millis(20 + rng.below(181)));
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let stdout = stdout.join().unwrap();
        let stderr = stderr.join().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: the child was not killed but ended with {status}:\n{stderr}"
        );
        let new = acknowledged(&stdout);
        kills_after_acks += usize::from(!new.is_empty());
        acked.extend(new);

        let store = Arc::new(
            SqliteStore::open(&path).unwrap_or_else(|e| panic!("round {round}: reopen: {e}")),
        );
        store
            .integrity_check()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let rows = store.list(&ListFilter::default()).unwrap().len();
        // Each kill may leave one create that committed but was never acknowledged.
        assert!(
            (acked.len()..=acked.len() + round as usize + 1).contains(&rows),
            "round {round}: {rows} rows for {} acknowledged creates",
            acked.len()
        );
        let authority = Authority::new(store, Settings::default()).unwrap();
        for token in &acked {
            if let Err(r) = authority.authenticate(token, "") {
                panic!("round {round}: acknowledged {token:.10}: {r}");
            }
        }
    }
    eprintln!(
        "{CRASH_ROUNDS} kills, {kills_after_acks} after acknowledged creates; {} tokens \
         acknowledged, all present",
        acked.len()
    );
    assert!(
        kills_after_acks >= CRASH_ROUNDS as usize / 2,
        "too few kills landed mid-stream"
    );
}

/// The writer of [`a_writer_killed_mid_stream_keeps_every_acknowledged_token_and_a_sound_file`]:
/// creates tokens (and now and then writes a first use) until killed, acknowledging each create
/// after it returned.
#[test]
#[ignore = "child process of a_writer_killed_mid_stream_keeps_every_acknowledged_token_and_a_sound_file"]
fn crash_child_creates_until_killed() {
    let Ok(params) = std::env::var(CRASH_PARAMS) else {
        return;
    };
    let (round, path) = params.split_once('\n').unwrap();
    let store = SqliteStore::open(path).unwrap_or_else(|e| panic!("open: {e}"));
    let authority = Authority::new(Arc::new(store), Settings::default()).unwrap();
    let me = User::new(format!("crash-{round}"), &[]);
    let mut out = std::io::stdout().lock();
    out.write_all(format!("\n{READY}\n").as_bytes()).unwrap();
    out.flush().unwrap();
    drop(out);
    let started = Instant::now();
    let mut made: Vec<String> = Vec::new();
    // The parent kills this process within a second; if the parent died, do not linger.
    while started.elapsed() < StdDuration::from_secs(20) {
        let name = format!("c{}", made.len());
        let minted = authority
            .create_token(&me, &me, &named(&name), "")
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
        let token = minted.token.expose();
        acknowledge(&token);
        made.push(token);
        if made.len() % 4 == 0 {
            // A refresh write in the stream: the first use of the previous token.
            let previous = &made[made.len() - 2];
            if let Err(r) = authority.authenticate(previous, "") {
                panic!("authenticate {previous:.10}: {r}");
            }
        }
    }
    panic!("never killed");
}

// ---------------------------------------------------------------------------------------------
// Bad input: typed errors with Coder's words

/// Runs `test` on a memory store and on a fresh SQLite file.
fn each_store(test: impl Fn(&str, Arc<dyn KeyStore>)) {
    test("memory", Arc::new(MemoryStore::new()));
    let (_dir, path) = db();
    test("sqlite", Arc::new(SqliteStore::open(&path).unwrap()));
}

#[test]
fn expiring_or_deleting_an_unknown_or_deleted_id_is_not_found() {
    each_store(|store, keys| {
        let authority = Authority::new(keys, Settings::default()).unwrap();
        let alice = User::new("alice", &[]);
        let owner = User::new("owner", &["owner"]);
        let unknown = KeyId::parse("nosuchkey0").unwrap();
        for (op, result) in [
            ("expire", authority.expire(&alice, &unknown)),
            ("delete", authority.delete(&owner, &unknown)),
            ("get", authority.get_key(&alice, &unknown).map(drop)),
        ] {
            let err = result.unwrap_err();
            assert_eq!(err, Error::key_not_found("nosuchkey0"), "{store} {op}");
            assert_eq!(
                (err.name(), err.status(), err.to_string()),
                ("not_found", 404, "API key \"nosuchkey0\" not found".into()),
                "{store} {op}"
            );
        }
        // A deleted key is as unknown as one never created, to its owner and to an Owner.
        let id = authority
            .create_token(&alice, &alice, &named("ci"), "")
            .unwrap()
            .key
            .id;
        authority.delete(&alice, &id).unwrap();
        let gone = Err(Error::key_not_found(id));
        assert_eq!(authority.delete(&alice, &id), gone, "{store}");
        assert_eq!(authority.expire(&owner, &id), gone, "{store}");
        assert!(
            authority
                .store()
                .list(&ListFilter::default())
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn a_name_conflict_is_a_409_that_stores_nothing_until_the_name_is_deleted() {
    each_store(|store, keys| {
        let authority = Authority::new(keys, Settings::default()).unwrap();
        let alice = User::new("alice", &[]);
        let first = authority
            .create_token(&alice, &alice, &named("ci"), "")
            .unwrap();
        let conflict = || {
            authority
                .create_token(&alice, &alice, &named("ci"), "")
                .unwrap_err()
        };
        let err = conflict();
        assert_eq!(err, Error::NameConflict { name: "ci".into() }, "{store}");
        assert_eq!(
            (err.name(), err.status(), err.to_string()),
            (
                "conflict",
                409,
                "A token with name \"ci\" already exists.".into()
            ),
            "{store}"
        );
        let tokens = authority.store().list(&ListFilter::default()).unwrap();
        assert_eq!(
            tokens.len(),
            1,
            "{store}: the refused create stored nothing"
        );
        authority.authenticate(&first.token.expose(), "").unwrap();
        // An expired token still holds its name (Coder's index covers every row).
        authority.expire(&alice, &first.key.id).unwrap();
        assert_eq!(conflict(), err, "{store}");
        // Names are per user, and only a delete frees one.
        let bob = User::new("bob", &[]);
        authority
            .create_token(&bob, &bob, &named("ci"), "")
            .unwrap();
        authority.delete(&alice, &first.key.id).unwrap();
        authority
            .create_token(&alice, &alice, &named("ci"), "")
            .unwrap();
    });
}

#[test]
fn an_unknown_scope_is_refused_before_anything_is_stored() {
    each_store(|store, keys| {
        let authority = Authority::new(keys, Settings::default()).unwrap();
        let alice = User::new("alice", &[]);
        let legacy = CreateTokenRequest {
            scope: Some("test".into()),
            ..named("legacy")
        };
        let listed = CreateTokenRequest {
            scopes: vec!["workspace:read".into(), "workspace:rm".into()],
            ..named("listed")
        };
        for (request, scope) in [(legacy, "test"), (listed, "workspace:rm")] {
            let err = authority
                .create_token(&alice, &alice, &request, "")
                .unwrap_err();
            assert_eq!(
                err,
                Error::Scope(ScopeError::Unsupported(scope.into())),
                "{store}"
            );
            assert_eq!(
                (err.name(), err.status(), err.to_string()),
                (
                    "invalid_scope",
                    400,
                    format!("invalid or unsupported API key scope: \"{scope}\"")
                ),
                "{store}"
            );
        }
        assert!(
            authority
                .store()
                .list(&ListFilter::default())
                .unwrap()
                .is_empty()
        );
    });
}

/// A file with 300 tokens in it, and one of the tokens.
fn database_with_tokens(path: &Path) -> String {
    let authority = Authority::new(
        Arc::new(SqliteStore::open(path).unwrap()),
        Settings::default(),
    )
    .unwrap();
    let alice = User::new("alice", &[]);
    (0..300)
        .map(|n| {
            authority
                .create_token(&alice, &alice, &named(&format!("t{n}")), "")
                .unwrap()
                .token
                .expose()
        })
        .nth(150)
        .unwrap()
}

/// Overwrites `range` of the file with pseudo-random bytes.
fn garble(path: &Path, range: std::ops::Range<usize>) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut rng = Rng::new(7);
    let end = range.end.min(bytes.len());
    for byte in &mut bytes[range.start..end] {
        *byte = rng.next() as u8;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_database_damaged_inside_fails_every_operation_with_a_store_error() {
    let (_dir, path) = db();
    let token = database_with_tokens(&path);
    // From page 3 on: keys and indexes, not the schema on page 1, so the file still opens.
    garble(&path, 2 * 4096..usize::MAX);
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let malformed = |op: &str, result: Result<(), Error>| match result {
        Err(Error::Store(e)) => {
            assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{op}");
            assert_eq!(
                e.to_string(),
                format!("key store: {op}: database disk image is malformed")
            )
        }
        other => panic!("{op}: {other:?}"),
    };
    malformed("check the key store", store.integrity_check());
    malformed("list keys", store.list(&ListFilter::default()).map(drop));
    let authority = Authority::new(store, Settings::default()).unwrap();
    let alice = User::new("alice", &[]);
    let err = authority
        .create_token(&alice, &alice, &named("new"), "")
        .unwrap_err();
    assert_eq!(err.code(), "store_corrupt");
    assert!(
        err.to_string()
            .ends_with("database disk image is malformed"),
        "{err}"
    );
    // A store that cannot read (or, when the row sits on an intact page, cannot write the
    // first use) is a 500, never "invalid key".
    let rejection = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(
        (rejection.code(), rejection.status()),
        (Code::StoreCorrupt, 500)
    );
    assert!(
        rejection
            .detail()
            .contains("database disk image is malformed"),
        "{}",
        rejection.detail()
    );
}

#[test]
fn a_truncated_database_or_a_garbled_schema_is_refused_at_open_and_left_alone() {
    for damage in ["truncated", "schema garbled"] {
        let (_dir, path) = db();
        database_with_tokens(&path);
        if damage == "truncated" {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        } else {
            garble(&path, 100..4096);
        }
        let damaged = std::fs::read(&path).unwrap();
        match SqliteStore::open(&path) {
            Err(Error::Store(e)) => assert_eq!(
                e.to_string(),
                format!(
                    "key store {}: open the key store: not a tokenward database: database disk image is malformed",
                    path.display()
                ),
                "{damage}"
            ),
            other => panic!("{damage}: {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            damaged,
            "{damage}: the file is left alone"
        );
    }
}

/// `<database path>` for [`unprivileged_child_opens`].
const UNPRIVILEGED_PARAMS: &str = "TOKENWARD_RELIABILITY_UNPRIVILEGED";
/// The user permission bits are tested as when they do not stop this process (root).
const NOBODY: u32 = 65_534;

/// What opening a database answered: the `Debug` form of its error, if any (a child process
/// cannot hand back the value itself).
type Opening = Result<(), String>;

/// A database file with `file_mode` in a directory with `dir_mode`, and what opening it
/// answers to a process those modes apply to; `None` when no such process can be had here.
fn open_with_modes(file_mode: u32, dir_mode: u32) -> Option<(PathBuf, Opening)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    let top = tempfile::tempdir().unwrap();
    // Permission bits do not stop root: then open as `nobody`, in a child process.
    let probe = top.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    mode(&probe, 0o444).unwrap();
    let privileged = std::fs::OpenOptions::new().write(true).open(&probe).is_ok();
    let dir = top.path().join("keys");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("keys.db");
    database_with_tokens(&path);
    mode(top.path(), 0o755).unwrap();
    mode(&path, file_mode).unwrap();
    mode(&dir, dir_mode).unwrap();
    let outcome = if privileged {
        open_as_nobody(&path)
    } else {
        Some(
            SqliteStore::open(&path)
                .map(drop)
                .map_err(|e| format!("{e:?}")),
        )
    };
    mode(&dir, 0o755).unwrap(); // so that the directory can be removed
    outcome.map(|outcome| (path, outcome))
}

/// [`SqliteStore::open`] of `path` in this test binary run as `nobody`; `None` when it cannot
/// be run so.
fn open_as_nobody(path: &Path) -> Option<Opening> {
    use std::os::unix::process::CommandExt;
    let output = child_command(
        "unprivileged_child_opens",
        UNPRIVILEGED_PARAMS,
        path.to_str().unwrap(),
    )
    .uid(NOBODY)
    .gid(NOBODY)
    .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            eprintln!("skipped: cannot run this test binary as uid {NOBODY}: {e}");
            return None;
        }
    };
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let outcome = stdout
        .lines()
        .find_map(|line| line.split_once("outcome: ").map(|(_, outcome)| outcome))
        .unwrap_or_else(|| panic!("{}", describe(&output)));
    Some(match outcome.strip_prefix("refused ") {
        None if outcome == "opened" => Ok(()),
        Some(error) => Err(error.to_owned()),
        None => panic!("{}", describe(&output)),
    })
}

/// Opens the database its parent names and prints the outcome, as an unprivileged user.
#[test]
#[ignore = "child process of open_as_nobody"]
fn unprivileged_child_opens() {
    let Ok(path) = std::env::var(UNPRIVILEGED_PARAMS) else {
        return;
    };
    match SqliteStore::open(&path) {
        Ok(_) => println!("\noutcome: opened"),
        Err(e) => println!("\noutcome: refused {e}"),
    }
}

#[test]
fn a_database_in_a_read_only_directory_is_refused_at_open() {
    // The file itself is writable; its WAL and shared-memory files cannot be created.
    let Some((path, outcome)) = open_with_modes(0o666, 0o555) else {
        return;
    };
    let expected = format!(
        "key store {}: open the key store: cannot write: the directory {} is not writable: \
         the WAL journal needs its -wal and -shm files beside the database",
        path.display(),
        path.parent().unwrap().display()
    );
    assert_eq!(outcome, Err(expected));
}

#[test]
fn a_read_only_database_file_is_refused_at_open() {
    let Some((path, outcome)) = open_with_modes(0o444, 0o777) else {
        return;
    };
    match outcome {
        Err(error) => {
            let refusal = format!(
                "key store {}: open the key store: cannot write",
                path.display()
            );
            assert!(error.starts_with(&refusal), "{error}");
        }
        Ok(()) => panic!(
            "{} opened, though no write to it can succeed",
            path.display()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Expire against refreshes in flight, made deterministic

/// A hook run by [`Interleaved`] with the store it wraps.
type Hook = Box<dyn FnOnce(&dyn KeyStore) + Send>;

/// A store that runs a hook once, just before it writes a refresh: another request landing
/// between an authenticate's check and its write.
struct Interleaved {
    store: Arc<dyn KeyStore>,
    next: Arc<Mutex<Option<Hook>>>,
}

impl Interleaved {
    fn new(inner: Arc<dyn KeyStore>) -> Interleaved {
        let next: Arc<Mutex<Option<Hook>>> = Arc::default();
        let pending = next.clone();
        let wrapped = Wrapped {
            inner,
            before_insert: None,
            before_apply: None,
            guard: None,
            owner: None,
        };
        let store = wrapped.before_apply(move |store| {
            let hook = pending.lock().unwrap().take();
            if let Some(hook) = hook {
                hook(store);
            }
            Ok(())
        });
        Interleaved {
            store: Arc::new(store),
            next,
        }
    }

    fn before_next_apply(&self, hook: impl FnOnce(&dyn KeyStore) + Send + 'static) {
        *self.next.lock().unwrap() = Some(Box::new(hook));
    }
}

/// A 24-hour password session on `store` behind [`Interleaved`], on a manual clock.
struct SessionWorld {
    authority: Authority,
    interleaved: Arc<Interleaved>,
    clock: Arc<ManualClock>,
    alice: User,
    token: String,
    key: ApiKey,
}

impl SessionWorld {
    fn new(store: Arc<dyn KeyStore>) -> SessionWorld {
        let clock = Arc::new(ManualClock::new(ts("2026-03-01T12:00:00Z")));
        let interleaved = Arc::new(Interleaved::new(store));
        let authority = Authority::new(interleaved.store.clone(), Settings::default())
            .unwrap()
            .with_clock(clock.clone());
        let alice = User::new("alice", &[]);
        let minted = authority
            .create_session(&alice, LoginType::Password, "")
            .unwrap();
        SessionWorld {
            authority,
            interleaved,
            clock,
            alice,
            token: minted.token.expose(),
            key: minted.key,
        }
    }

    fn stored(&self) -> ApiKey {
        (*self.authority.store().get(&self.key.id).unwrap().unwrap()).clone()
    }

    /// Authenticates one microsecond from now: `expired`, or the error.
    fn expired_a_moment_later(&self) -> Result<(), String> {
        self.clock.advance(Duration::MICROSECOND);
        match self.authority.authenticate(&self.token, "") {
            Err(r) if r.code() == Code::Expired => Ok(()),
            other => Err(format!("{other:?}")),
        }
    }
}

#[test]
fn an_expire_between_an_authenticates_check_and_its_write_stands_and_rejects_it() {
    each_store(|store, keys| {
        let w = SessionWorld::new(keys);
        w.clock.advance(Duration::from_hours(2).unwrap()); // the session is due to slide
        let now = w.clock.now();
        let id = w.key.id;
        let clock = w.clock.clone();
        w.interleaved
            .before_next_apply(move |store| assert!(store.expire(&id, &*clock).unwrap()));
        // The check passed and decided a slide; the key read back after the write is expired.
        let rejection = w.authority.authenticate(&w.token, "").unwrap_err();
        let expired_at = Timestamp::from_unix_micros(now.unix_micros() - 1);
        assert_eq!(
            rejection,
            Error::from(tokenward::Rejection::expired(expired_at)),
            "{store}"
        );
        assert_eq!(
            w.stored().expires_at,
            expired_at,
            "{store}: the expire stands"
        );
        assert_eq!(w.expired_a_moment_later(), Ok(()), "{store}");
    });
}

#[test]
fn a_delete_between_an_authenticates_check_and_its_write_rejects_it_as_unknown() {
    each_store(|store, keys| {
        let w = SessionWorld::new(keys);
        w.clock.advance(Duration::from_hours(2).unwrap());
        let id = w.key.id;
        w.interleaved
            .before_next_apply(move |store| assert!(store.delete(&id).unwrap()));
        let rejection = w.authority.authenticate(&w.token, "").unwrap_err();
        assert_eq!(rejection.code(), Code::UnknownKey, "{store}");
        assert_eq!(w.authority.store().get(&id).unwrap(), None, "{store}");
    });
}

#[test]
fn an_expire_of_a_lapsed_session_stands_against_a_refresh_decided_before_it() {
    /// Reads `first` once (the check), then `then` (the write), as a request straddling the lapse.
    struct Straddling {
        reads: AtomicUsize,
        first: Timestamp,
        then: Timestamp,
    }
    impl Clock for Straddling {
        fn now(&self) -> Timestamp {
            if self.reads.fetch_add(1, SeqCst) == 0 {
                self.first
            } else {
                self.then
            }
        }
    }
    each_store(|store, keys| {
        let w = SessionWorld::new(keys);
        let lapses = w.key.expires_at;
        // A request a minute before the session lapses: valid, and due to slide. Its write is
        // issued after the session lapsed and an Owner expired it.
        let expired_at = lapses.saturating_add(Duration::MINUTE);
        let clock = Straddling {
            reads: AtomicUsize::new(0),
            first: lapses.saturating_sub(Duration::MINUTE),
            then: expired_at,
        };
        let straddling = Authority::new(w.interleaved.store.clone(), Settings::default())
            .unwrap()
            .with_clock(Arc::new(clock));
        let id = w.key.id;
        w.interleaved.before_next_apply(move |store| {
            assert!(
                store.expire(&id, &ManualClock::new(expired_at)).unwrap(),
                "the expire returned Ok"
            );
        });
        let rejection = straddling.authenticate(&w.token, "").unwrap_err();
        assert_eq!(rejection.code(), Code::Expired, "{store}");
        let stored = w.stored();
        assert!(
            stored.expires_at <= expired_at,
            "{store}: expired at {expired_at}, yet expires_at is {}",
            stored.expires_at
        );
        w.clock.set(expired_at);
        assert_eq!(w.expired_a_moment_later(), Ok(()), "{store}");
    });
}

#[test]
fn an_expire_stands_against_an_authenticate_in_the_same_microsecond() {
    each_store(|store, keys| {
        let w = SessionWorld::new(keys);
        w.clock.advance(Duration::from_hours(2).unwrap()); // due to slide
        let now = w.clock.now();
        w.authority.expire(&w.alice, &w.key.id).unwrap();
        let expired = w.stored();
        assert_eq!(
            expired.expires_at,
            Timestamp::from_unix_micros(now.unix_micros() - 1),
            "{store}"
        );
        // The clock has not moved: the same microsecond as the expire.
        let rejection = w.authority.authenticate(&w.token, "").unwrap_err();
        assert_eq!(rejection.code(), Code::Expired, "{store}");
        assert_eq!(
            w.stored(),
            expired,
            "{store}: the authenticate wrote nothing"
        );
        assert_eq!(w.expired_a_moment_later(), Ok(()), "{store}");
    });
}

/// Eight threads authenticate `keys` sessions that are due to slide, around the one another
/// thread is expiring (one by one), on the system clock. Returns `(accepted, slides, raced)`: authenticates
/// accepted, how many of them slid, and authenticates rejected though they began before the
/// expire returned.
fn expire_race(store: &str, store_keys: Arc<dyn KeyStore>, keys: usize) -> (u64, u64, u64) {
    let authority = Authority::new(store_keys, Settings::default()).unwrap();
    let owner = User::new("owner", &["owner"]);
    // Created 23 hours ago with a 24-hour lifetime: an hour left, so the first use slides.
    let created = authority
        .now()
        .saturating_sub(Duration::from_hours(23).unwrap());
    let minted: Vec<NewKey> = (0..keys)
        .map(|n| {
            let minted = tokenward::issue::session_key(
                &format!("user-{n}"),
                LoginType::Password,
                Duration::from_hours(24).unwrap(),
                "",
                created,
            )
            .unwrap();
            authority.store().insert(&minted.key).unwrap();
            minted
        })
        .collect();
    let frontier = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    // The system clock read after each expire returned; i64::MAX before.
    let returned: Vec<AtomicI64> = (0..keys).map(|_| AtomicI64::new(i64::MAX)).collect();
    let (accepted, slides, raced) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let violations = Mutex::new(Vec::<String>::new());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (authority, minted, frontier, finished) =
                (&authority, &minted, &frontier, &finished);
            let (returned, accepted, slides, raced, violations) =
                (&returned, &accepted, &slides, &raced, &violations);
            scope.spawn(move || {
                let mut rng = Rng::new(t as u64);
                while !finished.load(SeqCst) {
                    let i = (frontier.load(SeqCst) + rng.below(3) as usize).min(keys - 1);
                    let began = authority.now();
                    let expire_returned = returned[i].load(SeqCst) != i64::MAX;
                    match authority.authenticate(&minted[i].token.expose(), "") {
                        Ok(auth) => {
                            count(accepted);
                            if auth
                                .update
                                .is_some_and(|u| u.expires_at > u.previous_expires_at)
                            {
                                count(slides);
                            }
                            if expire_returned || auth.key.expires_at < began {
                                violations.lock().unwrap().push(format!(
                                    "{store}: key {i} accepted with expires_at {} by an \
                                     authenticate that began at {began}, expire returned: \
                                     {expire_returned}",
                                    auth.key.expires_at
                                ));
                            }
                        }
                        Err(r) if r.code() == Code::Expired => {
                            if !expire_returned {
                                count(raced);
                            }
                        }
                        Err(r) => violations
                            .lock()
                            .unwrap()
                            .push(format!("{store}: key {i}: {r}")),
                    }
                }
            });
        }
        for (i, key) in minted.iter().enumerate() {
            frontier.store(i, SeqCst);
            // Let the threads use the key (and slide it) around the expire.
            let spin = Instant::now();
            while spin.elapsed() < StdDuration::from_micros(200) {
                std::hint::spin_loop();
            }
            authority.expire(&owner, &key.key.id).unwrap();
            returned[i].store(authority.now().unix_micros(), SeqCst);
        }
        finished.store(true, SeqCst);
    });
    let violations = violations.into_inner().unwrap();
    assert!(
        violations.is_empty(),
        "{} violations, first ones:\n{}",
        violations.len(),
        violations[..violations.len().min(20)].join("\n")
    );
    for (i, key) in minted.iter().enumerate() {
        let stored = authority.store().get(&key.key.id).unwrap().unwrap();
        let returned = Timestamp::from_unix_micros(returned[i].load(SeqCst));
        assert!(
            stored.expires_at < returned,
            "{store}: key {i} ended with expires_at {}, after its expire returned at {returned}",
            stored.expires_at
        );
        let rejection = authority.authenticate(&key.token.expose(), "").unwrap_err();
        assert_eq!(rejection.code(), Code::Expired, "{store}: key {i}");
    }
    let n = |c: AtomicU64| c.into_inner();
    (n(accepted), n(slides), n(raced))
}

#[test]
fn no_authenticate_begun_after_an_expire_returned_accepts_or_slides_the_key_on_a_real_clock() {
    each_store(|store, keys| {
        // SQLite writes (the expires, the slides) wait for an fsync each: fewer keys there.
        let count = if store == "sqlite" { 80 } else { 400 };
        let (accepted, slides, raced) = expire_race(store, keys, count);
        eprintln!(
            "{store}: {accepted} accepted ({slides} slides), {raced} rejected while their \
             expire was in flight"
        );
        assert!(slides > 0, "{store}: no slide raced an expire");
    });
}

// ---------------------------------------------------------------------------------------------
// Bounded read connections

/// `<directory>\n<max_readers>` for [`burst_child_authenticates`].
const BURST_PARAMS: &str = "TOKENWARD_RELIABILITY_BURST";
const BURST_THREADS: usize = 800;
/// Authenticates per thread.
const BURST_ROUNDS: usize = 4;
/// Tokens each thread lists before authenticating.
const BURST_TOKENS: usize = 1_000;
/// What a burst child prints last: its descriptor limit and how many authenticates failed.
const BURST_OUTCOME: &str = "burst outcome: ";

/// Runs [`burst_child_authenticates`] under `ulimit -n 1024`; returns its outcome line.
fn burst_under_a_descriptor_limit(max_readers: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([
            "--ignored",
            "--exact",
            "burst_child_authenticates",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            BURST_PARAMS,
            format!("{}\n{max_readers}", dir.path().display()),
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", describe(&output));
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        if ["at most", "first error", "created"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            eprintln!("{line}");
        }
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix(BURST_OUTCOME).map(str::to_owned))
        .unwrap_or_else(|| panic!("{}", describe(&output)))
}

/// With `max_readers` unbounded (the old pool) this child reached 1,024 descriptors and 300
/// operations failed with "unable to open database file"; bounded, it stays near 40.
#[test]
fn eight_hundred_threads_authenticate_under_a_1024_descriptor_limit_without_errors() {
    let outcome = burst_under_a_descriptor_limit(SqliteOptions::default().max_readers);
    assert_eq!(outcome, "limit 1024, 0 errors");
}

/// Opens a store in the directory its parent names, creates tokens, then authenticates them
/// from 800 threads released at once while the file is locked for half a second, and prints
/// how many authenticates failed.
#[test]
#[ignore = "child process of eight_hundred_threads_authenticate_under_a_1024_descriptor_limit_without_errors"]
fn burst_child_authenticates() {
    let Ok(params) = std::env::var(BURST_PARAMS) else {
        return;
    };
    let (dir, max_readers) = params.split_once('\n').unwrap();
    let limit = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_owned))
        .unwrap();
    let mut options = SqliteOptions::default();
    options.max_readers = max_readers.parse().unwrap();
    // Descriptors are the point here, not speed: alongside other tests on two cores the
    // queue for 16 connections can outlast the default 5 seconds.
    options.busy_timeout = StdDuration::from_secs(60);
    let store = SqliteStore::open_with(Path::new(dir).join("keys.db"), options).unwrap();
    let authority = Authority::new(Arc::new(store), Settings::default()).unwrap();
    let alice = User::new("alice", &[]);
    let started = Instant::now();
    let tokens: Vec<String> = (0..BURST_TOKENS)
        .map(|n| {
            authority
                .create_token(&alice, &alice, &named(&format!("t{n}")), "")
                .unwrap()
                .token
                .expose()
        })
        .collect();
    eprintln!("created {BURST_TOKENS} tokens in {:?}", started.elapsed());
    let start = std::sync::Barrier::new(BURST_THREADS);
    let errors = Mutex::new(Vec::<String>::new());
    let done = AtomicBool::new(false);
    let most_fds = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(SeqCst) {
                if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
                    most_fds.fetch_max(fds.count(), SeqCst);
                }
                std::thread::sleep(StdDuration::from_millis(1));
            }
        });
        let workers: Vec<_> = (0..BURST_THREADS)
            .map(|t| {
                let (authority, alice, tokens) = (&authority, &alice, &tokens);
                let (start, errors) = (&start, &errors);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || {
                        start.wait();
                        // A long read first (every token), so that the threads' reads overlap
                        // even on a few cores, as they do under real load.
                        if let Err(e) = authority.list_tokens(alice, &ListTokens::default()) {
                            errors.lock().unwrap().push(e.to_string());
                        }
                        for n in 0..BURST_ROUNDS {
                            let token = &tokens[(t + n) % tokens.len()];
                            if let Err(r) = authority.authenticate(token, "") {
                                errors.lock().unwrap().push(r.to_string());
                            }
                        }
                    })
                    .unwrap()
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        done.store(true, SeqCst);
    });
    let errors = errors.into_inner().unwrap();
    eprintln!("at most {} descriptors open", most_fds.load(SeqCst));
    if let Some(first) = errors.first() {
        eprintln!("first error: {first}");
    }
    println!("\n{BURST_OUTCOME}limit {limit}, {} errors", errors.len());
}
