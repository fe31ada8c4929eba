//! Stall benchmark: does a long scan stall authentication? One thread authenticates in a loop
//! over 200,000 session keys while another runs `list` (every key) and `purge_expired`
//! back to back; the latency of every authenticate is recorded, and the worst and p99 are set
//! next to the same figures from a baseline phase of the same run with no scans.
//!
//! Run: `cargo bench --bench stall` (`TOKENWARD_STALL_SECONDS` sets each phase's length,
//! default 3; `TOKENWARD_STALL_SCANS=list` or `purge` runs one scan only). Figures are wall-clock latencies on a shared machine: compare the ratios.
//!
//! Workload: as `benches/authority.rs`, but 200,000 keys used round robin, the clock moving
//! 300 µs per request, so each key is used once a simulated minute and about 1 request in 60
//! writes a refresh (the writes are what queue behind a long read lock).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration as StdDuration, Instant};

use tokenward::check::verify;
use tokenward::issue::session_key;
use tokenward::store::PURGE_BATCH;
use tokenward::{
    ApiKey, Authority, Clock, Duration, KeyStore, ListFilter, LoginType, ManualClock, MemoryStore,
    Settings, SqliteStore, Timestamp, Token,
};

const KEYS: usize = 200_000;
/// How far the clock moves per request.
const STEP: Duration = Duration::from_nanos(300_000);

/// Latencies in buckets of 1/64 of a power of two (1.6% precision), plus the exact worst.
struct Histogram {
    counts: Vec<u64>,
    worst: u64,
    total: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; 64 * 64],
            worst: 0,
            total: 0,
        }
    }

    fn index(ns: u64) -> usize {
        if ns < 128 {
            return ns as usize;
        }
        let shift = 63 - ns.leading_zeros() as u64 - 6;
        (shift * 64 + (ns >> shift)) as usize
    }

    /// The largest value of bucket `index`.
    fn upper(index: usize) -> u64 {
        if index < 128 {
            return index as u64;
        }
        let shift = index as u64 / 64 - 1;
        ((index as u64 % 64 + 64 + 1) << shift) - 1
    }

    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.worst = self.worst.max(ns);
        self.total += 1;
    }

    /// The latency `fraction` of requests stayed at or below.
    fn quantile(&self, fraction: f64) -> u64 {
        let target = (self.total as f64 * fraction).ceil() as u64;
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= target {
                return Self::upper(index).min(self.worst);
            }
        }
        self.worst
    }
}

/// 200,000 password sessions, the n-th created and last used at `start + n * 18 ms`, so their
/// refreshes come due at a steady rate from `start + 1h` on.
fn sessions(start: Timestamp) -> Vec<(String, ApiKey)> {
    let spacing = 3_600_000_000 / KEYS as i64;
    (0..KEYS)
        .map(|n| {
            let at = Timestamp::from_unix_micros(start.unix_micros() + n as i64 * spacing);
            let minted = session_key(
                &format!("user-{n}"),
                LoginType::Password,
                Duration::from_hours(24).unwrap(),
                "203.0.113.7",
                at,
            )
            .unwrap();
            let mut key = minted.key;
            key.last_used = at;
            (minted.token.expose(), key)
        })
        .collect()
}

/// Writes `keys` straight into the store's file in one transaction (one fsync, not 200,000).
fn bulk_load(path: &std::path::Path, keys: &[(String, ApiKey)]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, \
                 created_at, updated_at, login_type, lifetime_seconds, ip_address, token_name, \
                 scopes, allow_list) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .unwrap();
        for (_, k) in keys {
            let allow: Vec<String> = k.allow_list.iter().map(|e| e.to_string()).collect();
            insert
                .execute(rusqlite::params![
                    k.id.as_str(),
                    k.hashed_secret,
                    k.user_id,
                    k.last_used.unix_micros(),
                    k.expires_at.unix_micros(),
                    k.created_at.unix_micros(),
                    k.updated_at.unix_micros(),
                    k.login_type.as_str(),
                    86_400,
                    k.ip_address.to_string(),
                    k.token_name,
                    serde_json::to_string(&k.scopes).unwrap(),
                    serde_json::to_string(&allow).unwrap(),
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// What one phase measured.
struct Phase {
    latencies: Histogram,
    scans: u64,
    scan_ms: f64,
}

/// Runs `op` on the tokens round robin for `length`, timing each call, while another thread
/// scans if `scanning`.
fn phase(
    authority: &Authority,
    clock: &ManualClock,
    tokens: &[String],
    length: StdDuration,
    scanning: bool,
    op: impl Fn(&str),
) -> Phase {
    let stop = AtomicBool::new(false);
    // `TOKENWARD_STALL_SCANS=list` or `=purge` runs only that scan, to tell their effects apart.
    let scans_run = std::env::var("TOKENWARD_STALL_SCANS").unwrap_or_else(|_| "list,purge".into());
    let scans = AtomicU64::new(0);
    let scan_ns = AtomicU64::new(0);
    let mut latencies = Histogram::new();
    std::thread::scope(|scope| {
        if scanning {
            scope.spawn(|| {
                let store = authority.store();
                while !stop.load(Relaxed) {
                    let started = Instant::now();
                    if scans_run.contains("list") {
                        black_box(store.list(&ListFilter::default()).unwrap().len());
                    }
                    if scans_run.contains("purge") {
                        let before = clock
                            .now()
                            .saturating_sub(Duration::from_hours(24 * 7).unwrap());
                        black_box(store.purge_expired(before, PURGE_BATCH).unwrap());
                    }
                    scan_ns.fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
                    scans.fetch_add(1, Relaxed);
                }
            });
            // Let the first scan start.
            std::thread::sleep(StdDuration::from_millis(5));
        }
        let end = Instant::now() + length;
        let mut next = 0;
        while Instant::now() < end {
            next = (next + 1) % tokens.len();
            clock.advance(STEP);
            let started = Instant::now();
            op(&tokens[next]);
            latencies.record(started.elapsed().as_nanos() as u64);
        }
        stop.store(true, Relaxed);
    });
    let scans = scans.into_inner();
    Phase {
        latencies,
        scans,
        scan_ms: scan_ns.into_inner() as f64 / 1e6 / scans.max(1) as f64,
    }
}

fn report(store: &str, baseline: &Phase, scanning: &Phase, control: &Phase) {
    let us = |ns: u64| ns as f64 / 1e3;
    for (name, p) in [
        ("authenticate, baseline", baseline),
        ("authenticate, during list + purge", scanning),
        (
            "control: core check, no store, during list + purge",
            control,
        ),
    ] {
        println!(
            "| {store} | {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            p.latencies.total,
            us(p.latencies.quantile(0.5)),
            us(p.latencies.quantile(0.99)),
            us(p.latencies.quantile(0.999)),
            us(p.latencies.worst),
        );
    }
}

fn ratios(store: &str, baseline: &Phase, scanning: &Phase, control: &Phase) {
    let ratio = |f: &dyn Fn(&Phase) -> u64| f(scanning) as f64 / f(baseline).max(1) as f64;
    println!(
        "{store}: authenticate during scans / baseline: worst {:.1}x, p99 {:.2}x, p99.9 {:.2}x; \
         {} list + purge rounds of {:.0} ms each; control worst during scans {:.1} ms",
        ratio(&|p| p.latencies.worst),
        ratio(&|p| p.latencies.quantile(0.99)),
        ratio(&|p| p.latencies.quantile(0.999)),
        scanning.scans,
        scanning.scan_ms,
        control.latencies.worst as f64 / 1e6,
    );
}

fn main() {
    let length = StdDuration::from_secs_f64(
        std::env::var("TOKENWARD_STALL_SECONDS")
            .map(|s| {
                s.parse()
                    .expect("TOKENWARD_STALL_SECONDS is a number of seconds")
            })
            .unwrap_or(3.0),
    );
    let start = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
    let keys = sessions(start);
    let tokens: Vec<String> = keys.iter().map(|(token, _)| token.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stall.db");
    let sqlite = SqliteStore::open(&path).unwrap();
    bulk_load(&path, &keys);
    let memory = MemoryStore::new();
    for (_, key) in &keys {
        memory.insert(key).unwrap();
    }
    drop(keys);
    println!("| store | phase | requests | p50 µs | p99 µs | p99.9 µs | worst µs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut summaries = Vec::new();
    for (name, store) in [
        ("MemoryStore", Arc::new(memory) as Arc<dyn KeyStore>),
        ("SqliteStore", Arc::new(sqlite)),
    ] {
        let clock = Arc::new(ManualClock::new(start.saturating_add(Duration::HOUR)));
        let authority = Authority::new(store, Settings::default())
            .unwrap()
            .with_clock(clock.clone());
        let authenticate = |token: &str| {
            black_box(authority.authenticate(token, "203.0.113.7").unwrap());
        };
        let baseline = phase(&authority, &clock, &tokens, length, false, authenticate);
        let scanning = phase(&authority, &clock, &tokens, length, true, authenticate);
        // Control: the same loop on a record in hand, no store. Its worst is what the machine
        // (preemption, page faults) adds during scans, not the store's locks.
        let record = authority
            .store()
            .get(&Token::parse(&tokens[0]).unwrap().id())
            .unwrap()
            .unwrap();
        let settings = Settings::default();
        let core = |_: &str| {
            let verdict = verify(&tokens[0], |_| Some(&*record), clock.now(), &settings, "");
            black_box(verdict.is_ok());
        };
        let control = phase(&authority, &clock, &tokens, length, true, core);
        report(name, &baseline, &scanning, &control);
        summaries.push((name, baseline, scanning, control));
    }
    println!();
    for (name, baseline, scanning, control) in &summaries {
        ratios(name, baseline, scanning, control);
    }
}
