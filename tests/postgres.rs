//! `PostgresStore` against a live server (`scripts/postgres.sh`; scripts/test.sh starts one):
//! opening by URL with no password in any error, the modes and the schema check, Coder's own
//! tables with rows written as Coder writes them, many authorities sharing one database, and
//! a server that stops and comes back.
#![cfg(feature = "postgres")]

mod common;

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration as StdDuration;

use common::postgres::{new_database, with_database};
use tokenward::store::{PostgresMode, PostgresOptions, PostgresStore};
use tokenward::{
    Authority, Code, Coded, CreateTokenRequest, Error, KeyStore, LoginType, ManualClock, Settings,
    Timestamp, User,
};

const ALICE: &str = "6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f";

fn alice() -> User {
    User::new(ALICE, &[])
}

fn named(name: &str) -> CreateTokenRequest {
    CreateTokenRequest {
        token_name: name.into(),
        ..CreateTokenRequest::default()
    }
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

fn tables(url: &str) -> Vec<String> {
    client(url)
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Coder's tables as Coder's migrations define them (compatibility §3): the enums, `users`
/// and `user_links` with the columns a check reads, `api_keys` with its foreign key, check
/// constraint and partial unique index, and golang-migrate's `schema_migrations`.
/// `api_key_scope` lists the public scopes (Coder's enum has more).
fn coder_schema() -> String {
    let scopes: Vec<String> = tokenward::Scope::PUBLIC
        .iter()
        .map(|s| format!("'{s}'"))
        .collect();
    format!(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
        INSERT INTO schema_migrations VALUES (371, false);
        CREATE TYPE login_type AS ENUM ('password', 'github', 'oidc', 'token', 'none', 'oauth2_provider_app');
        CREATE TYPE api_key_scope AS ENUM ({});
        CREATE TYPE user_status AS ENUM ('active', 'suspended', 'dormant');
        CREATE TABLE users (
            id uuid NOT NULL PRIMARY KEY,
            email text NOT NULL,
            username text DEFAULT ''::text NOT NULL,
            hashed_password bytea NOT NULL,
            created_at timestamp with time zone NOT NULL,
            updated_at timestamp with time zone NOT NULL,
            status user_status DEFAULT 'dormant'::user_status NOT NULL,
            rbac_roles text[] DEFAULT '{{}}'::text[] NOT NULL,
            login_type login_type DEFAULT 'password'::login_type NOT NULL,
            deleted boolean DEFAULT false NOT NULL
        );
        CREATE TABLE user_links (
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            login_type login_type NOT NULL,
            linked_id text DEFAULT ''::text NOT NULL,
            oauth_access_token text DEFAULT ''::text NOT NULL,
            oauth_refresh_token text DEFAULT ''::text NOT NULL,
            oauth_expiry timestamp with time zone DEFAULT '0001-01-01 00:00:00+00'::timestamp with time zone NOT NULL,
            PRIMARY KEY (user_id, login_type)
        );
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
            CONSTRAINT api_keys_allow_list_not_empty CHECK ((array_length(allow_list, 1) > 0)),
            CONSTRAINT api_keys_user_id_uuid_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
        );
        CREATE INDEX idx_api_keys_user ON api_keys USING btree (user_id);
        CREATE INDEX api_keys_last_used_idx ON api_keys USING btree (last_used DESC);
        CREATE UNIQUE INDEX idx_api_key_name ON api_keys USING btree (user_id, token_name)
            WHERE (login_type = 'token'::login_type);",
        scopes.join(", ")
    )
}

/// A new database holding Coder's schema and one active user, alice.
fn coder_database() -> Option<String> {
    let url = new_database()?;
    let mut db = client(&url);
    db.batch_execute(&coder_schema()).unwrap();
    db.execute(
        "INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, status)
         VALUES ($1::text::uuid, 'alice@example.com', 'alice', '', now(), now(), 'active')",
        &[&ALICE],
    )
    .unwrap();
    Some(url)
}

fn open(url: &str) -> Authority {
    Authority::open(url, Settings::default()).expect("open")
}

#[test]
fn an_authority_opened_by_url_runs_the_lifecycle_and_revocation_is_final() {
    let Some(url) = new_database() else { return };
    for url in [url.clone(), url.replacen("postgres://", "postgresql://", 1)] {
        let authority = open(&url);
        let name = format!("ci-{}", url.len());
        let minted = authority
            .create_token(&alice(), &alice(), &named(&name), "203.0.113.7")
            .unwrap();
        let token = minted.token.expose().to_string();
        let checked = authority.authenticate(&token, "203.0.113.7").unwrap();
        assert_eq!(checked.key.id, minted.key.id);
        // Every column comes back as written, last_used now set by this first use.
        assert!(checked.key.last_used > minted.key.last_used);
        let mut written = minted.key.clone();
        written.last_used = checked.key.last_used;
        assert_eq!(*checked.key, written);
        authority.expire(&alice(), &minted.key.id).unwrap();
        let e = authority.authenticate(&token, "203.0.113.7").unwrap_err();
        assert_eq!(e.code(), Code::Expired.name());
    }
}

#[test]
fn no_error_carries_the_password() {
    let Some(url) = new_database() else { return };
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(auth, _)| auth.split_once(':'))
        .map(|(_, p)| p.to_owned())
        .unwrap();
    assert!(password.len() >= 8);
    let wrong = url.replace(&password, "hunter2-hunter2");
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let host_end = url.rfind('/').unwrap();
        let host_start = url.find('@').unwrap();
        format!(
            "{}127.0.0.1:{port}{}",
            &url[..=host_start],
            &url[host_end..]
        )
    };
    let cases = [
        (wrong.clone(), "hunter2-hunter2", Code::StoreIo),
        (
            with_database(&url, "no_such_database"),
            password.as_str(),
            Code::StoreIo,
        ),
        (closed_port, password.as_str(), Code::StoreIo),
        (
            format!("{url}?mode=ours"),
            password.as_str(),
            Code::InvalidArgument,
        ),
        (
            format!("{url}?sslmode=bogus"),
            password.as_str(),
            Code::InvalidArgument,
        ),
        (
            format!("{url}?no_such_parameter=1"),
            password.as_str(),
            Code::InvalidArgument,
        ),
    ];
    for (bad, secret, code) in cases {
        let e = Authority::open(&bad, Settings::default()).unwrap_err();
        assert_eq!(e.code(), code.name(), "{e}");
        for text in [e.to_string(), format!("{e:?}"), e.detail().into_owned()] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    // An open store shows where it is, never how it logs in.
    let store = PostgresStore::open(&url).unwrap();
    assert!(
        store.target().starts_with("postgres 127.0.0.1:"),
        "{}",
        store.target()
    );
    assert!(!format!("{store:?}").contains(&password));
}

#[test]
fn the_mode_follows_what_the_database_holds_and_a_forced_mode_must_fit() {
    let Some(empty) = new_database() else { return };
    // An empty database gets the owned schema, once.
    assert_eq!(
        PostgresStore::open(&empty).unwrap().mode(),
        PostgresMode::Owned
    );
    assert_eq!(tables(&empty), ["api_keys", "tokenward_schema"]);
    assert_eq!(
        PostgresStore::open(&empty).unwrap().mode(),
        PostgresMode::Owned
    );

    // Coder's database opens as Coder's, and nothing is created in it.
    let coder = coder_database().unwrap();
    let before = tables(&coder);
    assert_eq!(
        PostgresStore::open(&coder).unwrap().mode(),
        PostgresMode::Coder
    );
    assert_eq!(tables(&coder), before);
    let forced = format!("{coder}?mode=owned");
    let e = PostgresStore::open(&forced).unwrap_err();
    assert_eq!(e.code(), Code::StoreIncompatible.name(), "{e}");

    // A forced coder mode needs Coder's table.
    let bare = new_database().unwrap();
    let e = PostgresStore::open(&format!("{bare}?mode=coder")).unwrap_err();
    assert_eq!(e.code(), Code::StoreIncompatible.name());
    assert!(e.to_string().contains("no api_keys"), "{e}");
    assert!(
        tables(&bare).is_empty(),
        "mode coder created {:?}",
        tables(&bare)
    );

    // An api_keys table of unknown origin is not taken for either.
    let unknown = new_database().unwrap();
    client(&unknown)
        .batch_execute(&coder_schema().replace("schema_migrations", "other_migrations"))
        .unwrap();
    let e = PostgresStore::open(&unknown).unwrap_err();
    assert!(e.to_string().contains("?mode=coder"), "{e}");
    assert_eq!(
        PostgresStore::open(&format!("{unknown}?mode=coder"))
            .unwrap()
            .mode(),
        PostgresMode::Coder
    );
}

#[test]
fn a_schema_that_differs_is_refused_at_open_naming_each_difference() {
    let Some(url) = new_database() else { return };
    let schema = coder_schema()
        .replace("user_id uuid NOT NULL,\n            last_used", "user_id text NOT NULL,\n            last_used")
        .replace("CONSTRAINT api_keys_user_id_uuid_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "CONSTRAINT no_fk CHECK (true)")
        .replace("allow_list text[] NOT NULL,", "")
        .replace("CONSTRAINT api_keys_allow_list_not_empty CHECK ((array_length(allow_list, 1) > 0)),", "");
    assert!(schema.contains("user_id text NOT NULL"));
    client(&url).batch_execute(&schema).unwrap();
    let e = PostgresStore::open(&url).unwrap_err();
    assert_eq!(e.code(), Code::StoreIncompatible.name());
    let text = e.to_string();
    assert!(
        text.contains("api_keys.user_id is text, expected uuid"),
        "{text}"
    );
    assert!(text.contains("api_keys.allow_list is missing"), "{text}");
}

/// A token made by Python's `secrets` with Coder's alphabet, and SHA-256 of its secret from
/// `hashlib`: `(id, secret, sha256 hex)`.
fn python_token() -> (String, String, String) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib, secrets, string\n\
             a = string.ascii_letters + string.digits\n\
             i = ''.join(secrets.choice(a) for _ in range(10))\n\
             s = ''.join(secrets.choice(a) for _ in range(22))\n\
             print(i, s, hashlib.sha256(s.encode()).hexdigest())",
        ])
        .output()
        .expect("python3");
    let text = String::from_utf8(out.stdout).unwrap();
    let parts: Vec<&str> = text.split_whitespace().collect();
    (parts[0].into(), parts[1].into(), parts[2].into())
}

#[test]
fn a_key_coder_wrote_authenticates_and_its_refresh_writes_only_coders_columns() {
    let Some(url) = coder_database() else { return };
    let (id, secret, hash) = python_token();
    let mut db = client(&url);
    // As Coder's InsertAPIKey writes a browser session: used two hours ago, one hour left.
    db.execute(
        "INSERT INTO api_keys (id, lifetime_seconds, hashed_secret, ip_address, user_id, last_used,
             expires_at, created_at, updated_at, login_type, scopes, token_name, allow_list)
         VALUES ($1, 86400, decode($2, 'hex'), '192.0.2.1', $3::text::uuid, now() - interval '2 hours',
             now() + interval '1 hour', now() - interval '23 hours', now() - interval '23 hours',
             'password', '{coder:all}', '', '{*:*}')",
        &[&id, &hash, &ALICE],
    )
    .unwrap();
    let authority = open(&url);
    let token = format!("{id}-{secret}");
    let checked = authority.authenticate(&token, "198.51.100.4").unwrap();
    assert_eq!(checked.key.user_id, ALICE);
    assert!(
        checked.update.is_some(),
        "an hour-old use and a short expiry are refreshed"
    );
    let row = db
        .query_one(
            "SELECT now() - last_used < interval '1 minute',
                    expires_at - now() > interval '23 hours 59 minutes',
                    host(ip_address), ip_address = '198.51.100.4/32'::inet,
                    now() - updated_at > interval '22 hours'
             FROM api_keys WHERE id = $1",
            &[&id],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0), "last_used is now");
    assert!(row.get::<_, bool>(1), "expires_at slid a whole lifetime");
    assert_eq!(row.get::<_, String>(2), "198.51.100.4");
    assert!(
        row.get::<_, bool>(3),
        "an IPv4 address is stored with /32, as Coder stores it"
    );
    assert!(
        row.get::<_, bool>(4),
        "updated_at is not Coder's middleware's to write"
    );

    // Another secret for the id, and a token for no row.
    let wrong = format!("{id}-{}", "x".repeat(22));
    assert_eq!(
        authority.authenticate(&wrong, "").unwrap_err().code(),
        Code::InvalidSecret.name()
    );
    let (other, other_secret, _) = python_token();
    assert_eq!(
        authority
            .authenticate(&format!("{other}-{other_secret}"), "")
            .unwrap_err()
            .code(),
        Code::UnknownKey.name()
    );

    // Tokens made here land in Coder's table, for Coder's users only.
    let minted = authority
        .create_token(&alice(), &alice(), &named("ci"), "")
        .unwrap();
    let found: i64 = db
        .query_one(
            "SELECT count(*) FROM api_keys WHERE id = $1 AND token_name = 'ci' AND login_type = 'token'",
            &[&minted.key.id.as_str()],
        )
        .unwrap()
        .get(0);
    assert_eq!(found, 1);
    let stranger = User::new("00000000-0000-4000-8000-00000000dead", &[]);
    let e = authority
        .create_token(&stranger, &stranger, &named("ci"), "")
        .unwrap_err();
    assert_eq!(e.code(), Code::StoreConstraint.name(), "{e}");
    let e = authority
        .create_token(
            &User::new("jane", &[]),
            &User::new("jane", &[]),
            &named("ci"),
            "",
        )
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidKey.name(), "{e}");
}

#[test]
fn authorities_sharing_a_database_see_each_others_writes_at_once() {
    let Some(url) = new_database() else { return };
    let (first, second) = (open(&url), open(&url));
    let minted = first
        .create_token(&alice(), &alice(), &named("shared"), "")
        .unwrap();
    let token = minted.token.expose().to_string();
    second.authenticate(&token, "").unwrap();
    first.expire(&alice(), &minted.key.id).unwrap();
    assert_eq!(
        second.authenticate(&token, "").unwrap_err().code(),
        Code::Expired.name()
    );

    let minted = second
        .create_token(&alice(), &alice(), &named("other"), "")
        .unwrap();
    let token = minted.token.expose().to_string();
    first.authenticate(&token, "").unwrap();
    second.delete(&alice(), &minted.key.id).unwrap();
    assert_eq!(
        first.authenticate(&token, "").unwrap_err().code(),
        Code::UnknownKey.name()
    );
}

#[test]
fn creates_with_one_name_from_many_authorities_conflict_exactly_once() {
    let Some(url) = new_database() else { return };
    open(&url); // the schema, before the race
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let results: Vec<Result<_, Error>> = (0..threads)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            thread::spawn(move || {
                let authority = open(&url);
                barrier.wait();
                authority.create_token(&alice(), &alice(), &named("deploy"), "")
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code(), Code::Conflict.name(), "{e}");
    }
}

#[test]
fn concurrent_refreshes_from_many_servers_never_move_a_time_backwards() {
    let Some(url) = new_database() else { return };
    let start = Timestamp::now();
    let minted = open(&url)
        .create_session(&alice(), LoginType::Password, "")
        .unwrap();
    let token = minted.token.expose().to_string();
    // Servers whose clocks read 2, 4, ... 16 hours later, refreshing at once: whatever the
    // order, each finds the stored use more than an hour old, so each writes.
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let (url, barrier, token) = (url.clone(), barrier.clone(), token.clone());
            thread::spawn(move || {
                let later = start.unix_micros() + (2 * n as i64 + 2) * 3_600_000_000;
                let clock = Arc::new(ManualClock::new(Timestamp::from_unix_micros(later)));
                let authority = open(&url).with_clock(clock);
                barrier.wait();
                authority
                    .authenticate(&token, &format!("10.0.0.{n}"))
                    .unwrap();
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let store = PostgresStore::open(&url).unwrap();
    let key = store.get(&minted.key.id).unwrap().unwrap();
    let latest = Timestamp::from_unix_micros(start.unix_micros() + 16 * 3_600_000_000);
    assert_eq!(
        key.last_used, latest,
        "the latest use wins, whatever the order"
    );
    assert_eq!(key.ip_address.to_string(), "10.0.0.7", "with its address");
    // The first write slides the expiry a lifetime past its own clock; the others, made
    // against the expiry they read before it, leave it there (none moves it back).
    let slid: Vec<Timestamp> = (1..=8)
        .map(|n| Timestamp::from_unix_micros(start.unix_micros() + (2 * n + 24) * 3_600_000_000))
        .collect();
    assert!(slid.contains(&key.expires_at), "{:?}", key.expires_at);
}

/// A private cluster (scripts/postgres.sh), for tests that stop it; stopped when dropped.
struct Cluster {
    env: Vec<(String, String)>,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        common::postgres::server()?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh");
        let out = Command::new(script)
            .arg("start")
            .output()
            .expect("postgres.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        Some(Cluster { env })
    }

    fn url(&self) -> String {
        self.var("TOKENWARD_POSTGRES_URL")
    }

    fn var(&self, name: &str) -> String {
        self.env.iter().find(|(k, _)| k == name).unwrap().1.clone()
    }

    fn ctl(&self, args: &[&str]) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh");
        let status = Command::new(script)
            .args(args)
            .envs(self.env.iter().cloned())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.ctl(&["stop"]);
    }
}

#[test]
fn a_server_that_stops_is_a_500_never_an_answer_and_is_used_again_when_back() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.url();
    let authority = open(&url);
    let minted = authority
        .create_token(&alice(), &alice(), &named("ci"), "")
        .unwrap();
    let token = minted.token.expose().to_string();
    authority.authenticate(&token, "").unwrap();

    cluster.ctl(&["halt"]);
    for _ in 0..3 {
        let e = authority.authenticate(&token, "").unwrap_err();
        assert_eq!(e.code(), Code::StoreIo.name(), "{e}");
        assert_eq!(
            tokenward::http::answer(&e, &Settings::default()).status,
            500
        );
    }
    let e = Authority::open(&url, Settings::default()).unwrap_err();
    assert_eq!(e.code(), Code::StoreIo.name());
    assert!(e.to_string().contains("cannot connect"), "{e}");

    cluster.ctl(&["resume"]);
    // The pool's connections died with the server; the first check after it is back works.
    authority.authenticate(&token, "").unwrap();
    authority.expire(&alice(), &minted.key.id).unwrap();
    assert_eq!(
        authority.authenticate(&token, "").unwrap_err().code(),
        Code::Expired.name()
    );
}

#[test]
fn a_statement_that_waits_too_long_is_cut_short() {
    let Some(url) = new_database() else { return };
    let mut options = PostgresOptions::default();
    options.statement_timeout = StdDuration::from_millis(300);
    let store = PostgresStore::open_with(&url, options).unwrap();
    let authority = Authority::new(Arc::new(store), Settings::default()).unwrap();
    let minted = authority
        .create_token(&alice(), &alice(), &named("ci"), "")
        .unwrap();
    // Another session holds the row's lock and never lets go.
    let mut other = client(&url);
    let mut hold = other.transaction().unwrap();
    hold.execute(
        "SELECT 1 FROM api_keys WHERE id = $1 FOR UPDATE",
        &[&minted.key.id.as_str()],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = authority.expire(&alice(), &minted.key.id).unwrap_err();
    assert_eq!(e.code(), Code::StoreBusy.name(), "{e}");
    assert!(
        started.elapsed() < StdDuration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    hold.rollback().unwrap();
    authority.expire(&alice(), &minted.key.id).unwrap();
}
