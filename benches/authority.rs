//! Lifecycle benchmark: `Authority::authenticate` on MemoryStore and SqliteStore, and token
//! creation, against the bare core check measured in the same run.
//!
//! Run: `cargo bench --bench authority`. Medians of 21 samples.
//!
//! Workload: 10,000 keys used round robin. For SQLite the clock advances 6 ms per request, so
//! each key is used once a simulated minute and its `last_used` is written once a simulated
//! hour (Coder's cadence, compatibility §7.1): about 1 request in 60 writes.

use std::hint::black_box;
use std::sync::Arc;

mod support;

use support::measure_batches as measure;
use tokenward::check::verify;
use tokenward::{
    Authority, Clock, CreateTokenRequest, Duration, KeyStore, LoginType, ManualClock, MemoryStore,
    Settings, SqliteStore, Timestamp, User,
};

const KEYS: usize = 10_000;

/// An authority over `store` with `KEYS` session tokens for distinct users. Their first uses
/// are spread over an hour from `start`, and the clock is left at `start + 1h`, so refresh
/// writes come at a steady hourly rate rather than all at once.
fn populated(
    store: Arc<dyn KeyStore>,
    clock: Arc<ManualClock>,
    start: Timestamp,
) -> (Authority, Vec<String>) {
    let authority = Authority::new(store, Settings::default())
        .unwrap()
        .with_clock(clock.clone());
    let spacing = 3_600_000_000 / KEYS as i64;
    let tokens: Vec<String> = (0..KEYS)
        .map(|n| {
            clock.set(Timestamp::from_unix_micros(
                start.unix_micros() + n as i64 * spacing,
            ));
            let user = User::new(format!("user-{n}"), &[]);
            let minted = authority
                .create_session(&user, LoginType::Password, "203.0.113.7")
                .unwrap();
            let token = minted.token.expose();
            authority.authenticate(&token, "203.0.113.7").unwrap(); // first use writes last_used
            token
        })
        .collect();
    clock.set(start.saturating_add(Duration::HOUR));
    (authority, tokens)
}

fn main() {
    let start = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Baseline: the pure check on a record already in hand.
    let memory_clock = Arc::new(ManualClock::new(start));
    let memory = Arc::new(MemoryStore::new());
    let (memory_authority, memory_tokens) = populated(memory.clone(), memory_clock.clone(), start);
    let record = memory
        .get(&tokenward::Token::parse(&memory_tokens[0]).unwrap().id())
        .unwrap()
        .unwrap();
    let settings = Settings::default();
    let check = measure(200_000, || {
        let now = memory_clock.now();
        let verdict = verify(
            black_box(&memory_tokens[0]),
            |_| Some(&*record),
            now,
            &settings,
            "203.0.113.7",
        );
        black_box(verdict.is_ok());
    });

    let mut next = 0usize;
    let memory_auth = measure(200_000, || {
        next = (next + 1) % KEYS;
        black_box(
            memory_authority
                .authenticate(&memory_tokens[next], "203.0.113.7")
                .is_ok(),
        );
    });

    let sqlite_clock = Arc::new(ManualClock::new(start));
    let sqlite = Arc::new(SqliteStore::open(dir.path().join("bench.db")).unwrap());
    let (sqlite_authority, sqlite_tokens) = populated(sqlite, sqlite_clock.clone(), start);
    let mut writes = 0u64;
    let mut requests = 0u64;
    let sqlite_auth = measure(20_000, || {
        next = (next + 1) % KEYS;
        sqlite_clock.advance(Duration::from_nanos(6_000_000));
        let verdict = sqlite_authority
            .authenticate(&sqlite_tokens[next], "203.0.113.7")
            .unwrap();
        requests += 1;
        writes += u64::from(verdict.update.is_some());
    });

    let owner = User::new("owner", &["owner"]);
    let mut created = 0u64;
    let mut create = |authority: &Authority| {
        created += 1;
        let request = CreateTokenRequest {
            token_name: format!("bench-{created}"),
            ..CreateTokenRequest::default()
        };
        black_box(
            authority
                .create_token(&owner, &owner, &request, "203.0.113.7")
                .unwrap(),
        );
    };
    let sqlite_create = measure(100, || create(&sqlite_authority));
    let memory_create = measure(2_000, || create(&memory_authority));

    println!("| operation | ns/op | ops/s (one thread) |");
    println!("|---|---:|---:|");
    for (name, ns) in [
        ("core check, record in hand (baseline)", check),
        ("authenticate, MemoryStore", memory_auth),
        (
            "authenticate, SqliteStore (hourly refresh writes)",
            sqlite_auth,
        ),
        ("create token, MemoryStore", memory_create),
        (
            "create token, SqliteStore (synchronous=FULL)",
            sqlite_create,
        ),
    ] {
        println!("| {name} | {ns:.0} | {:.0} k |", 1e6 / ns);
    }
    println!();
    println!(
        "authenticate MemoryStore / core check: {:.2}x; {:.2} M/s (target >= 4 M/s)",
        memory_auth / check,
        1e3 / memory_auth
    );
    println!(
        "authenticate SqliteStore / core check: {:.1}x; {:.0} k/s (target >= 150 k/s); {:.1}% of requests wrote a refresh",
        sqlite_auth / check,
        1e6 / sqlite_auth,
        100.0 * writes as f64 / requests as f64
    );
    println!(
        "create SqliteStore / MemoryStore: {:.1}x",
        sqlite_create / memory_create
    );
}
