//! PostgreSQL benchmark: `Authority::authenticate` on a PostgresStore over loopback, through
//! its connection pool, next to SqliteStore and MemoryStore in one table, on 1 and 4 threads.
//!
//! Run: `cargo bench --bench postgres`. With `TOKENWARD_POSTGRES_URL` set (a superuser, as
//! `eval "$(scripts/postgres.sh start)"` prints) that server is used; without it the benchmark
//! starts a private cluster with `scripts/postgres.sh start` and stops it at the end. Either
//! way the keys go into a new database, `bench_<pid>`, dropped at the end.
//! `TOKENWARD_BENCH_SECONDS` sets each phase's length (default 3).
//!
//! PostgreSQL is measured twice: `sslmode=disable` (plain TCP), and `sslmode=require` (TLS,
//! when the server offers it; scripts/postgres.sh's cluster does) on the same keys. The
//! store's default, `prefer`, is the one or the other depending on the server.
//!
//! Workload: 10,000 password sessions of distinct users (UUIDs, as Coder's `users.id`) in each
//! store, each used once so its `last_used` is set. The clock is the real one, so no
//! authenticate of the run writes (Coder writes `last_used` once an hour): every call is one
//! read. Then for 1 and 4 threads, each thread authenticates the tokens round robin (from its
//! own offset) for the phase's length, timing every call; p50 and p99 are taken from every
//! call's latency, throughput is the calls of all threads per second. Printed beside: one
//! thread's median of 21 batches (`support::measure_batches`, the other benchmarks' figure);
//! PostgreSQL's authenticate measured in turn (`support::measure_interleaved`) with the bare
//! round trips of its `SELECT` and of `SELECT 1` on one `postgres::Client`; and each phase's
//! CPU time per call in this process and in the PostgreSQL server's processes (read from
//! `/proc` when the server runs on this machine) and the share of the machine's CPUs busy, to
//! show where a call's time goes.
//!
//! Baseline in the same run: PostgreSQL's own client. `pgbench` (libpq, `-M prepared`) runs the
//! store's `SELECT` by id on the same server, database and keys, with as many clients as the
//! store has threads, for the phase's length; its per-transaction log gives p50 and p99. The
//! ratio of the store's p50 to libpq's is printed: what tokenward, the Rust driver and the pool
//! add to the statement itself. `pgbench` is found beside the server (`TOKENWARD_POSTGRES_BIN`)
//! or on `PATH`; without it that row is left out, saying so.

use std::collections::HashMap;
use std::hint::black_box;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration as StdDuration, Instant};

mod support;

use support::{measure_batches, measure_interleaved};
use tokenward::store::{PostgresMode, PostgresStore};
use tokenward::{Authority, KeyStore, LoginType, MemoryStore, Settings, SqliteStore, Token, User};

const KEYS: usize = 10_000;
const ADDRESS: &str = "203.0.113.7";
const THREADS: [usize; 2] = [1, 4];
/// The goals for PostgreSQL at 4 threads.
const GOAL_P50_US: f64 = 150.0;
const GOAL_RATE: f64 = 10_000.0;
/// The baseline's row: `pgbench` running the store's `SELECT`.
const LIBPQ: &str = "libpq (pgbench), the store's SELECT";

/// The columns `PostgresStore::get` reads, for the bare round trip beside it.
const GET: &str = "SELECT id, hashed_secret, user_id::text, last_used, expires_at, created_at, \
     updated_at, login_type::text, lifetime_seconds, host(ip_address), token_name, \
     scopes::text[], allow_list FROM api_keys WHERE id = $1";

/// A private cluster (`scripts/postgres.sh start`), stopped and deleted when dropped.
struct Cluster {
    env: Vec<(String, String)>,
}

impl Cluster {
    fn script() -> String {
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh").to_owned()
    }

    fn start() -> Cluster {
        let out = Command::new(Self::script())
            .arg("start")
            .output()
            .expect("run scripts/postgres.sh start");
        assert!(
            out.status.success(),
            "scripts/postgres.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8(out.stdout)
            .expect("postgres.sh prints UTF-8")
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        Cluster { env }
    }

    fn url(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TOKENWARD_POSTGRES_URL")
            .expect("postgres.sh prints TOKENWARD_POSTGRES_URL")
            .1
            .clone()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stopped = Command::new(Self::script())
            .arg("stop")
            .envs(self.env.iter().cloned())
            .status();
        if !matches!(stopped, Ok(s) if s.success()) {
            eprintln!("scripts/postgres.sh stop failed: {stopped:?}");
        }
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| i + scheme_end);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An authority on the real clock over `store`, with `KEYS` password sessions of distinct
/// users, each used once (its `last_used` written), and their tokens.
fn populated(store: Arc<dyn KeyStore>) -> (Authority, Vec<String>) {
    let authority = Authority::new(store, Settings::default()).unwrap();
    let tokens = (0..KEYS)
        .map(|n| {
            let user = User::new(format!("00000000-0000-4000-8000-{n:012x}"), &[]);
            let minted = authority
                .create_session(&user, LoginType::Password, ADDRESS)
                .unwrap();
            let token = minted.token.expose();
            authority.authenticate(&token, ADDRESS).unwrap(); // first use writes last_used
            token
        })
        .collect();
    (authority, tokens)
}

/// What one phase measured.
struct Phase {
    /// Every call's latency, ns, sorted.
    latencies: Vec<u32>,
    /// Calls per second, all threads.
    rate: f64,
    /// Calls that wrote a refresh (expected: none).
    writes: u64,
    /// This process's CPU time per call, µs (the client's side: tokenward, the driver, the
    /// system calls).
    client_cpu_us: f64,
    /// The database server's CPU time per call, µs: its processes serving the store, when
    /// they run on this machine.
    server_cpu_us: Option<f64>,
    /// The share of the machine's CPUs busy during the phase (this process, the database
    /// server, and whatever else runs).
    machine_busy: f64,
}

impl Phase {
    /// The latency (µs) `fraction` of calls stayed at or below (nearest rank).
    fn quantile_us(&self, fraction: f64) -> f64 {
        let n = self.latencies.len();
        let rank = ((n as f64 * fraction).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1] as f64 / 1e3
    }
}

/// `threads` threads authenticating `tokens` round robin for `length`, every call timed.
fn phase(authority: &Authority, tokens: &[String], threads: usize, length: StdDuration) -> Phase {
    let barrier = Barrier::new(threads);
    let (cpu_before, machine_before) = (process_ticks(), machine_ticks());
    let per_thread: Vec<(Vec<u32>, f64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut latencies = Vec::with_capacity(1 << 20);
                    let mut writes = 0u64;
                    let mut next = t * tokens.len() / threads;
                    barrier.wait();
                    let started = Instant::now();
                    let end = started + length;
                    loop {
                        let before = Instant::now();
                        if before >= end {
                            break;
                        }
                        let verdict = authority
                            .authenticate(black_box(&tokens[next]), black_box(ADDRESS))
                            .unwrap();
                        let ns = before.elapsed().as_nanos();
                        latencies.push(u32::try_from(ns).unwrap_or(u32::MAX));
                        writes += u64::from(verdict.update.is_some());
                        next = (next + 1) % tokens.len();
                    }
                    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
                    (latencies, rate, writes)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (cpu_after, machine_after) = (process_ticks(), machine_ticks());
    let rate = per_thread.iter().map(|(_, rate, _)| rate).sum();
    let writes = per_thread.iter().map(|(_, _, writes)| writes).sum();
    let mut latencies: Vec<u32> = per_thread.into_iter().flat_map(|(l, _, _)| l).collect();
    latencies.sort_unstable();
    let client_cpu_us =
        (cpu_after - cpu_before) as f64 * 1e6 / TICKS_PER_SECOND / latencies.len() as f64;
    let machine_busy = (machine_after.0 - machine_before.0) as f64
        / (machine_after.1 - machine_before.1).max(1) as f64;
    Phase {
        latencies,
        rate,
        writes,
        client_cpu_us,
        server_cpu_us: None,
        machine_busy,
    }
}

/// Linux's `USER_HZ`, the unit of `/proc`'s CPU times.
const TICKS_PER_SECOND: f64 = 100.0;

/// This process's user + system CPU time, in ticks (`/proc/self/stat`), 0 off Linux.
fn process_ticks() -> u64 {
    ticks_of("self").unwrap_or(0)
}

/// The user + system CPU time of process `pid` (or `self`), in ticks, if `/proc` has it and
/// `comm` names it (`None` for another program that reuses the number).
fn ticks_of_named(pid: &str, comm: &str) -> Option<u64> {
    let named = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    if named.trim() != comm {
        return None;
    }
    ticks_of(pid)
}

fn ticks_of(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's name, in parentheses: field 3 (state) on; utime and stime are 14, 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
}

/// The CPU time of each of the server's processes serving `application` in `database`, in
/// ticks: the server processes of a store on this machine (none for a remote server).
fn server_ticks(
    admin: &mut postgres::Client,
    database: &str,
    application: &str,
) -> HashMap<i32, u64> {
    admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
            &[&database, &application],
        )
        .unwrap()
        .iter()
        .filter_map(|row| {
            let pid: i32 = row.get(0);
            Some((pid, ticks_of_named(&pid.to_string(), "postgres")?))
        })
        .collect()
}

/// The machine's busy and total CPU time, in ticks (`/proc/stat`), 0 off Linux.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
    let idle = at(3) + at(4);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    (busy, busy + idle)
}

/// Median ns per authenticate on one thread, over batches of `batch` calls.
fn batches(authority: &Authority, tokens: &[String], batch: u64) -> f64 {
    let mut next = 0usize;
    measure_batches(batch, || {
        next = (next + 1) % tokens.len();
        black_box(
            authority
                .authenticate(black_box(&tokens[next]), black_box(ADDRESS))
                .is_ok(),
        );
    })
}

fn rate_text(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2} M", rate / 1e6)
    } else if rate >= 1e4 {
        format!("{:.1} k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

fn us_text(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.2}")
    } else {
        format!("{us:.1}")
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let length = StdDuration::from_secs_f64(
        std::env::var("TOKENWARD_BENCH_SECONDS")
            .map(|s| {
                s.parse()
                    .expect("TOKENWARD_BENCH_SECONDS is a number of seconds")
            })
            .unwrap_or(3.0),
    );
    let load_before = load_average();

    // The server: the one named, or a private cluster for this run.
    let (cluster, server_url) = match std::env::var("TOKENWARD_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => (None, url),
        _ => {
            eprintln!("starting a private PostgreSQL cluster (scripts/postgres.sh start)");
            let cluster = Cluster::start();
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let server = if cluster.is_some() {
        "a private cluster"
    } else {
        "TOKENWARD_POSTGRES_URL"
    };
    let database = format!("bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server_url, postgres::NoTls)
        .expect("connect to TOKENWARD_POSTGRES_URL");
    let version: String = admin.query_one("SHOW server_version", &[]).unwrap().get(0);
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .expect("create the benchmark's database");
    let url = with_database(&server_url, &database);
    // Plain TCP, and TLS when the server offers it: the store's default (`prefer`) follows
    // the server, so each is asked for by name.
    let plain_url = with_sslmode(&url, "disable", "bench_plain");
    let tls_url = with_sslmode(&url, "require", "bench_tls");

    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut singles = Vec::new();
    let mut notes = Vec::new();
    let mut writes = 0u64;
    let stores: [(&str, Arc<dyn KeyStore>, u64); 3] = [
        ("MemoryStore", Arc::new(MemoryStore::new()), 100_000),
        (
            "SqliteStore",
            Arc::new(SqliteStore::open(dir.path().join("bench.db")).unwrap()),
            2_000,
        ),
        (
            "PostgresStore",
            Arc::new(open_postgres(&plain_url).unwrap()),
            200,
        ),
    ];
    let mut runs = Vec::new();
    for (name, store, batch) in stores {
        eprintln!("{name}: creating and using {KEYS} session keys");
        let (authority, tokens) = populated(store);
        runs.push((name, authority, tokens, batch));
    }
    // The same keys (already used) through a second store whose connections are TLS.
    match open_postgres(&tls_url) {
        Ok(store) => {
            let authority = Authority::new(Arc::new(store), Settings::default()).unwrap();
            let tokens = runs[2].2.clone();
            runs.push(("PostgresStore, TLS", authority, tokens, 200));
        }
        Err(e) => notes.push(format!("PostgresStore over TLS not measured: {e}")),
    }
    for (name, authority, tokens, batch) in &runs {
        eprintln!("{name}: measuring");
        // One thread, medians of batches; also the warm-up of the timed phases.
        singles.push((*name, batches(authority, tokens, *batch)));
        let application = if name.ends_with("TLS") {
            "bench_tls"
        } else {
            "bench_plain"
        };
        for threads in THREADS {
            let before = server_ticks(&mut admin, &database, application);
            let mut measured = phase(authority, tokens, threads, length);
            let after = server_ticks(&mut admin, &database, application);
            if name.starts_with("PostgresStore") && !after.is_empty() {
                let ticks: u64 = after
                    .iter()
                    .map(|(pid, t)| t - before.get(pid).copied().unwrap_or(0).min(*t))
                    .sum();
                measured.server_cpu_us =
                    Some(ticks as f64 * 1e6 / TICKS_PER_SECOND / measured.latencies.len() as f64);
            }
            writes += measured.writes;
            rows.push((*name, threads, measured));
        }
        if name.starts_with("PostgresStore") {
            // Which of the store's connections are TLS, as the server sees them.
            let row = admin
                .query_one(
                    "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a \
                     JOIN pg_stat_ssl s USING (pid) \
                     WHERE a.datname = $1 AND a.application_name = $2",
                    &[&database, &application],
                )
                .unwrap();
            let (tls, all): (i64, i64) = (row.get(0), row.get(1));
            notes.push(format!("{name}: {tls} of its {all} connections TLS"));
        }
    }

    // The baseline: PostgreSQL's own client on the store's SELECT, same server and keys.
    let program = std::env::var("TOKENWARD_POSTGRES_BIN")
        .ok()
        .or_else(|| {
            cluster.as_ref().and_then(|c| {
                c.env
                    .iter()
                    .find(|(k, _)| k == "TOKENWARD_POSTGRES_BIN")
                    .map(|(_, v)| v.clone())
            })
        })
        .map_or_else(|| "pgbench".to_owned(), |bin| format!("{bin}/pgbench"));
    let key_id = Token::parse(&runs[2].2[0])
        .unwrap()
        .id()
        .as_str()
        .to_owned();
    let libpq_url = with_sslmode(&url, "disable", "bench_pgbench");
    for threads in THREADS {
        eprintln!("libpq (pgbench): {threads} clients");
        match pgbench(&program, &libpq_url, &key_id, threads, length) {
            Ok(measured) => rows.push((LIBPQ, threads, measured)),
            Err(e) => {
                notes.push(format!("libpq baseline not measured: {e}"));
                break;
            }
        }
    }

    // Where a PostgreSQL call's time goes: authenticate against the bare round trips on one
    // plain client (no pool, no check), one thread, measured in turn batch by batch.
    let mut runs = runs.into_iter().skip(2);
    let (_, plain, tokens, _) = runs.next().expect("PostgreSQL was measured");
    let tls = runs.next().map(|(_, authority, _, _)| authority);
    let mut client = postgres::Client::connect(&plain_url, postgres::NoTls).unwrap();
    let select_one = client.prepare("SELECT 1").unwrap();
    let get = client.prepare(GET).unwrap();
    let ids: Vec<String> = tokens
        .iter()
        .map(|t| Token::parse(t).unwrap().id().as_str().to_owned())
        .collect();
    let (mut next_plain, mut next_tls, mut next_get) = (0usize, 0usize, 0usize);
    let client = std::cell::RefCell::new(client);
    let [plain_ns, tls_ns, get_ns, select_one_ns] = measure_interleaved([
        &mut || {
            next_plain = (next_plain + 1) % tokens.len();
            black_box(
                plain
                    .authenticate(black_box(&tokens[next_plain]), black_box(ADDRESS))
                    .is_ok(),
            );
        },
        &mut || {
            if let Some(tls) = &tls {
                next_tls = (next_tls + 1) % tokens.len();
                black_box(
                    tls.authenticate(black_box(&tokens[next_tls]), black_box(ADDRESS))
                        .is_ok(),
                );
            }
        },
        &mut || {
            next_get = (next_get + 1) % ids.len();
            let row = client
                .borrow_mut()
                .query_one(&get, &[black_box(&ids[next_get])])
                .unwrap();
            black_box(row);
        },
        &mut || {
            black_box(client.borrow_mut().query_one(&select_one, &[]).unwrap());
        },
    ]);
    let measured_tls = tls.is_some();
    drop((plain, tls, client));
    admin
        .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .expect("drop the benchmark's database");
    drop(admin);
    drop(cluster);

    println!(
        "PostgreSQL {version} on loopback ({server}); {KEYS} keys per store; {:.0} s per phase; \
         load average {load_before} before, {} after",
        length.as_secs_f64(),
        load_average(),
    );
    println!();
    println!("| store | threads | p50 µs | p99 µs | auth/s |");
    println!("|---|---|---:|---:|---:|");
    for (name, threads, p) in &rows {
        println!(
            "| {name} | {threads} | {} | {} | {} |",
            us_text(p.quantile_us(0.5)),
            us_text(p.quantile_us(0.99)),
            rate_text(p.rate),
        );
    }
    println!();
    println!(
        "| store | threads | this process's CPU µs/call | PostgreSQL's CPU µs/call | machine CPUs busy |"
    );
    println!("|---|---|---:|---:|---:|");
    for (name, threads, p) in &rows {
        println!(
            "| {name} | {threads} | {} | {} | {:.0}% |",
            if p.client_cpu_us.is_nan() {
                "-".into()
            } else {
                us_text(p.client_cpu_us)
            },
            p.server_cpu_us.map_or_else(|| "-".into(), us_text),
            100.0 * p.machine_busy
        );
    }
    println!();
    println!("One thread, median of 21 batches (support::measure_batches):");
    for (name, ns) in &singles {
        println!(
            "- authenticate, {name}: {} µs/op, {}/s",
            us_text(ns / 1e3),
            rate_text(1e9 / ns)
        );
    }
    println!();
    println!("Where a PostgreSQL authenticate's time goes (one thread, measured in turn):");
    println!(
        "- authenticate, PostgresStore: {} µs",
        us_text(plain_ns / 1e3)
    );
    if measured_tls {
        println!(
            "- authenticate, PostgresStore, TLS: {} µs",
            us_text(tls_ns / 1e3)
        );
    }
    println!(
        "- the store's SELECT by id, bare, on one plain postgres::Client: {} µs",
        us_text(get_ns / 1e3)
    );
    println!(
        "- SELECT 1, bare, on one plain postgres::Client: {} µs",
        us_text(select_one_ns / 1e3)
    );
    println!();
    for note in &notes {
        println!("{note}");
    }
    println!("Refresh writes during the timed phases: {writes} (expected 0: every call a read)");
    println!();
    let libpq_p50 = |threads: usize| {
        rows.iter()
            .find(|(name, t, _)| *name == LIBPQ && *t == threads)
            .map(|(_, _, p)| p.quantile_us(0.5))
    };
    for (name, threads, p) in &rows {
        // pgbench's connections are plain TCP: the store on plain TCP is its match.
        if let (true, Some(base)) = (*name == "PostgresStore", libpq_p50(*threads)) {
            println!(
                "{name}, plain TCP, {threads} thread(s): p50 {:.2}x libpq's on the same SELECT",
                p.quantile_us(0.5) / base
            );
        }
    }
    println!();
    let verdict = |met: bool| if met { "met" } else { "not met" };
    for (name, threads, p) in &rows {
        if !name.starts_with("PostgresStore") || *threads != 4 {
            continue;
        }
        let p50 = p.quantile_us(0.5);
        println!(
            "Goal: {name}, p50 at 4 threads <= {GOAL_P50_US:.0} µs: {} µs: {}",
            us_text(p50),
            verdict(p50 <= GOAL_P50_US)
        );
        println!(
            "Goal: {name}, throughput at 4 threads >= {:.0} k/s: {:.1} k/s: {}",
            GOAL_RATE / 1e3,
            p.rate / 1e3,
            verdict(p.rate >= GOAL_RATE)
        );
    }
}

/// `pgbench` (libpq, prepared statements) running the store's `SELECT` for one key, `clients`
/// connections, for `length` rounded up to whole seconds: its log's latencies and its rate.
/// `Err` says why it could not run.
fn pgbench(
    program: &str,
    url: &str,
    key_id: &str,
    clients: usize,
    length: StdDuration,
) -> Result<Phase, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let script = dir.path().join("get.sql");
    std::fs::write(&script, format!("{};\n", GET.replace("$1", ":id")))
        .map_err(|e| e.to_string())?;
    let seconds = length.as_secs_f64().ceil().max(1.0) as u64;
    let machine_before = machine_ticks();
    let out = Command::new(program)
        .args(["--no-vacuum", "--protocol=prepared", "--log"])
        .arg(format!("--log-prefix={}", dir.path().join("log").display()))
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={clients}"))
        .arg(format!("--time={seconds}"))
        .arg(format!("--define=id={key_id}"))
        .arg(format!("--file={}", script.display()))
        .arg(url)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    let machine_after = machine_ticks();
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // Each line of a log: client, transaction, latency in µs, script, epoch seconds, µs.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir.path()).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        for line in text.lines() {
            let us: u64 = line
                .split_whitespace()
                .nth(2)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| format!("pgbench log line {line:?}"))?;
            latencies.push(u32::try_from(us * 1000).unwrap_or(u32::MAX));
        }
    }
    if latencies.is_empty() {
        return Err("pgbench logged no transaction".into());
    }
    latencies.sort_unstable();
    let rate = latencies.len() as f64 / seconds as f64;
    Ok(Phase {
        latencies,
        rate,
        writes: 0,
        client_cpu_us: f64::NAN,
        server_cpu_us: None,
        machine_busy: (machine_after.0 - machine_before.0) as f64
            / (machine_after.1 - machine_before.1).max(1) as f64,
    })
}

/// A PostgresStore on `url`, in the owned schema.
fn open_postgres(url: &str) -> Result<PostgresStore, tokenward::Error> {
    let store = PostgresStore::open(url)?;
    assert_eq!(store.mode(), PostgresMode::Owned);
    Ok(store)
}

/// `url` with its `sslmode` set to `mode` and its connections named `application`.
fn with_sslmode(url: &str, mode: &str, application: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|p| {
            !p.is_empty() && !p.starts_with("sslmode=") && !p.starts_with("application_name=")
        })
        .collect();
    let added = format!("sslmode={mode}&application_name={application}");
    pairs.push(&added);
    format!("{base}?{}", pairs.join("&"))
}
