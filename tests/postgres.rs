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
    Authority, Code, Coded, CreateTokenRequest, Error, KeyStore, ListTokens, LoginType,
    ManualClock, Settings, Timestamp, User,
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
            WHERE (login_type = 'token'::login_type);
        CREATE FUNCTION insert_apikey_fail_if_user_deleted() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF (NEW.user_id IS NOT NULL) THEN
                IF (SELECT deleted FROM users WHERE id = NEW.user_id LIMIT 1) THEN
                    RAISE EXCEPTION 'Cannot create API key for deleted user';
                END IF;
            END IF;
            RETURN NEW;
        END;
        $$;
        CREATE TRIGGER trigger_insert_apikeys BEFORE INSERT ON api_keys
            FOR EACH ROW EXECUTE FUNCTION insert_apikey_fail_if_user_deleted();",
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

    // The lifecycle on Coder's rows: list, get by name, expire, delete, a user's keys.
    let count = |db: &mut postgres::Client, id: &str| -> i64 {
        db.query_one("SELECT count(*) FROM api_keys WHERE id = $1", &[&id])
            .unwrap()
            .get(0)
    };
    let listed = authority
        .list_tokens(&alice(), &ListTokens::default())
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|k| k.token_name.as_str())
            .collect::<Vec<_>>(),
        ["ci"]
    );
    let by_name = authority.get_token_by_name(&alice(), ALICE, "ci").unwrap();
    assert_eq!(by_name.id, minted.key.id);
    let minted_token = minted.token.expose().to_string();
    authority.authenticate(&minted_token, "").unwrap();
    authority.expire(&alice(), &minted.key.id).unwrap();
    assert_eq!(
        authority
            .authenticate(&minted_token, "")
            .unwrap_err()
            .code(),
        Code::Expired.name()
    );
    let expired: bool = db
        .query_one(
            "SELECT expires_at <= now() FROM api_keys WHERE id = $1",
            &[&minted.key.id.as_str()],
        )
        .unwrap()
        .get(0);
    assert!(expired, "expiring keeps Coder's row, its expires_at now");
    authority.delete(&alice(), &minted.key.id).unwrap();
    assert_eq!(count(&mut db, minted.key.id.as_str()), 0);
    assert_eq!(
        authority
            .authenticate(&minted_token, "")
            .unwrap_err()
            .code(),
        Code::UnknownKey.name()
    );
    assert_eq!(authority.delete_user_keys(ALICE).unwrap(), 1);
    assert_eq!(
        count(&mut db, &id),
        0,
        "Coder's own session row went with them"
    );
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
    // Several connections in the pool, all of which a stop will leave dead.
    let fill_pool = || {
        let busy = Barrier::new(4);
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    busy.wait();
                    for _ in 0..50 {
                        authority.authenticate(&token, "").unwrap();
                    }
                });
            }
        });
        let pooled: i64 = client(&url)
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tokenward'",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(pooled >= 2, "{pooled} connections in the pool");
    };

    // A restart between two checks: the next check meets only dead connections at first,
    // and works.
    fill_pool();
    cluster.ctl(&["halt"]);
    cluster.ctl(&["resume"]);
    authority.authenticate(&token, "").unwrap();

    fill_pool();
    cluster.ctl(&["halt"]);
    for n in 0..4 {
        let started = std::time::Instant::now();
        let e = authority.authenticate(&token, "").unwrap_err();
        assert_eq!(e.code(), Code::StoreIo.name(), "{e}");
        assert_eq!(
            tokenward::http::answer(&e, &Settings::default()).status,
            500
        );
        // The first connect that fails ends the wait: every call, the first included,
        // answers in a moment (at most about 300 ms), not after the 5-second connect timeout.
        assert!(
            started.elapsed() < StdDuration::from_secs(3),
            "call {n}: {:?}",
            started.elapsed()
        );
    }
    let e = Authority::open(&url, Settings::default()).unwrap_err();
    assert_eq!(e.code(), Code::StoreIo.name());
    assert!(e.to_string().contains("cannot connect"), "{e}");

    cluster.ctl(&["resume"]);
    // The pool's connections died with the server; the first check after it is back works,
    // however many of them it meets first.
    authority.authenticate(&token, "").unwrap();
    authority.expire(&alice(), &minted.key.id).unwrap();
    assert_eq!(
        authority.authenticate(&token, "").unwrap_err().code(),
        Code::Expired.name()
    );
}

/// `f` on another thread, which must end within `limit`: a call that hangs fails the test
/// instead of holding it.
fn within<T: Send + 'static>(limit: StdDuration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || sender.send(f()));
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still waiting after {limit:?}: the call hangs"))
}

#[test]
fn a_server_that_stops_answering_is_a_500_by_the_deadline_and_is_used_again_when_back() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let mut options = PostgresOptions::default();
    options.statement_timeout = StdDuration::from_millis(500);
    options.connect_timeout = StdDuration::from_secs(1);
    let store = PostgresStore::open_with(&cluster.url(), options).unwrap();
    let authority = Arc::new(Authority::new(Arc::new(store), Settings::default()).unwrap());
    let minted = authority
        .create_token(&alice(), &alice(), &named("ci"), "")
        .unwrap();
    let token = minted.token.expose().to_string();
    authority.authenticate(&token, "").unwrap();

    // Every process of the server stopped: its connections stay open, and nothing answers,
    // not even the statement_timeout PostgreSQL would apply itself.
    cluster.ctl(&["freeze"]);
    for _ in 0..3 {
        let (authority, presented) = (authority.clone(), token.clone());
        // The deadline is 1.5 s (statement_timeout + 1 s) on a connection in the pool, 1 s
        // for a new one; 20 s only says that the call came back at all.
        let e = within(StdDuration::from_secs(20), move || {
            authority.authenticate(&presented, "").unwrap_err()
        });
        assert_eq!(e.code(), Code::StoreIo.name(), "{e}");
        assert_eq!(
            tokenward::http::answer(&e, &Settings::default()).status,
            500
        );
        assert!(!e.to_string().contains(&token[11..]), "{e}");
    }

    cluster.ctl(&["thaw"]);
    let authority_again = authority.clone();
    within(StdDuration::from_secs(20), move || {
        authority_again.authenticate(&token, "").unwrap();
    });
    authority.expire(&alice(), &minted.key.id).unwrap();
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

/// A user of Coder's database with one browser session key, written as Coder writes them,
/// used two hours ago so that a check writes a refresh: `(token, key id)`.
fn coder_user_with_key(
    db: &mut postgres::Client,
    user: &str,
    status: &str,
    deleted: bool,
    login_type: &str,
) -> (String, String) {
    db.execute(
        "INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, status,
             login_type, deleted)
         VALUES ($1::text::uuid, $1 || '@example.com', $1, '', now(), now(),
             $2::text::user_status, $3::text::login_type, false)",
        &[&user, &status, &login_type],
    )
    .unwrap();
    let (id, secret, hash) = python_token();
    db.execute(
        "INSERT INTO api_keys (id, lifetime_seconds, hashed_secret, ip_address, user_id, last_used,
             expires_at, created_at, updated_at, login_type, scopes, token_name, allow_list)
         VALUES ($1, 86400, decode($2, 'hex'), '192.0.2.1', $3::text::uuid,
             now() - interval '2 hours', now() + interval '20 hours', now() - interval '4 hours',
             now() - interval '4 hours', $4::text::login_type, '{coder:all}', '', '{*:*}')",
        &[&id, &hash, &user, &login_type],
    )
    .unwrap();
    // Deleted after its key was made (trigger_insert_apikeys refuses a key for a deleted
    // user): the race Coder's open PR #28634 closes.
    db.execute(
        "UPDATE users SET deleted = $2 WHERE id = $1::text::uuid",
        &[&user, &deleted],
    )
    .unwrap();
    (format!("{id}-{secret}"), id)
}

fn last_used_moved(db: &mut postgres::Client, id: &str) -> bool {
    db.query_one(
        "SELECT now() - last_used < interval '1 hour' FROM api_keys WHERE id = $1",
        &[&id],
    )
    .unwrap()
    .get(0)
}

const SIGNED_OUT: &str =
    "You are signed out or your session has expired. Please sign in again to continue.";
const INTERNAL: &str =
    "An internal error occurred. Please try again or contact the system administrator.";

#[test]
fn in_coders_database_the_owner_is_checked_as_coders_middleware_does() {
    let Some(url) = coder_database() else { return };
    let mut db = client(&url);
    let user = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let authority = open(&url);
    let settings = Settings::default();
    let answer = |e: &Error| tokenward::http::answer(e, &settings);

    // Not active: Coder writes the refresh, then refuses (row 11), naming the status.
    for (n, status) in [(1, "suspended"), (2, "dormant")] {
        let (token, id) = coder_user_with_key(&mut db, &user(n), status, false, "password");
        let e = authority.authenticate(&token, "198.51.100.4").unwrap_err();
        assert_eq!(e.code(), Code::UserInactive.name());
        let a = answer(&e);
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            format!(
                "{{\"message\":\"User is not active (status = \\\"{status}\\\"). Contact an admin to reactivate your account.\"}}\n"
            )
        );
        assert!(
            a.header("WWW-Authenticate")
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
        assert!(
            last_used_moved(&mut db, &id),
            "{status}: the refresh is written first"
        );
    }

    // Deleted (Coder's open PR #28634): refused before any write.
    let (token, id) = coder_user_with_key(&mut db, &user(3), "active", true, "password");
    let e = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(e.code(), Code::UserDeleted.name());
    assert_eq!(
        answer(&e).body,
        format!(
            "{{\"message\":\"{SIGNED_OUT}\",\"detail\":\"API key belongs to a deleted user.\"}}\n"
        )
    );
    assert!(!last_used_moved(&mut db, &id));

    // A github key without a link to GitHub (row 7): re-authenticate, before any write.
    let (token, id) = coder_user_with_key(&mut db, &user(4), "active", false, "github");
    let e = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(e.code(), Code::NoUserLink.name());
    assert_eq!(
        answer(&e).body,
        format!(
            "{{\"message\":\"{SIGNED_OUT}\",\"detail\":\"You must re-authenticate with the login provider.\"}}\n"
        )
    );
    assert!(!last_used_moved(&mut db, &id));

    // An oidc key whose link's OAuth token expired (row 7a): Coder without OAuth settings
    // answers 500, with no challenge, and writes nothing.
    let (token, id) = coder_user_with_key(&mut db, &user(5), "active", false, "oidc");
    db.execute(
        "INSERT INTO user_links (user_id, login_type, oauth_expiry)
         VALUES ($1::text::uuid, 'oidc', now() - interval '1 minute')",
        &[&user(5)],
    )
    .unwrap();
    let e = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(e.code(), Code::OAuthUnavailable.name());
    let a = answer(&e);
    assert_eq!(a.status, 500);
    assert_eq!(
        a.body,
        format!(
            "{{\"message\":\"{INTERNAL}\",\"detail\":\"Unable to refresh OAuth token for login type \\\"oidc\\\". No OAuth2Configs provided. Contact an administrator to configure this login type.\"}}\n"
        )
    );
    assert_eq!(a.header("WWW-Authenticate"), None);
    assert!(!last_used_moved(&mut db, &id));

    // Links that pass: no OAuth expiry (Go's zero time), or one still ahead.
    for (n, login_type, expiry) in [
        (6, "github", "0001-01-01 00:00:00+00"),
        (7, "oidc", "2999-01-01 00:00:00+00"),
    ] {
        let (token, id) = coder_user_with_key(&mut db, &user(n), "active", false, login_type);
        db.execute(
            "INSERT INTO user_links (user_id, login_type, oauth_expiry)
             VALUES ($1::text::uuid, $2::text::login_type, $3::text::timestamptz)",
            &[&user(n), &login_type, &expiry],
        )
        .unwrap();
        let checked = authority.authenticate(&token, "").unwrap();
        assert_eq!(checked.key.user_id, user(n));
        assert!(last_used_moved(&mut db, &id));
    }

    // Coder's trigger refuses a key for a deleted user: a database rule, not an I/O error.
    db.execute(
        "UPDATE users SET deleted = true WHERE id = $1::text::uuid",
        &[&user(1)],
    )
    .unwrap();
    let gone = User::new(user(1), &[]);
    let e = authority
        .create_token(&gone, &gone, &named("late"), "")
        .unwrap_err();
    assert_eq!(e.code(), Code::StoreConstraint.name(), "{e}");
    assert!(
        e.to_string()
            .contains("Cannot create API key for deleted user"),
        "{e}"
    );

    // Without a users table to read, Coder mode is refused at open, naming it.
    let bare = new_database().unwrap();
    client(&bare)
        .batch_execute(
            &coder_schema()
                .replace("REFERENCES users(id) ON DELETE CASCADE,\n            login_type", "NOT NULL,\n            login_type")
                .replace("CONSTRAINT api_keys_user_id_uuid_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "CONSTRAINT no_fk CHECK (true)")
                .replace("deleted boolean DEFAULT false NOT NULL", "removed boolean DEFAULT false NOT NULL"),
        )
        .unwrap();
    let e = PostgresStore::open(&bare).unwrap_err();
    assert!(e.to_string().contains("users.deleted is missing"), "{e}");
}

/// The CA of the test server's certificate (scripts/postgres.sh makes both).
fn server_ca() -> String {
    std::env::var("TOKENWARD_POSTGRES_CA")
        .expect("TOKENWARD_POSTGRES_CA, set by scripts/postgres.sh")
}

/// Whether the connections of `application_name` to the server are encrypted: `Some(true)`
/// when all are, `Some(false)` when none is, `None` when there is none.
fn encrypted(admin_url: &str, application_name: &str) -> Option<bool> {
    let rows = client(admin_url)
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.application_name = $1",
            &[&application_name],
        )
        .unwrap();
    let all: Vec<bool> = rows.iter().map(|r| r.get(0)).collect();
    if all.is_empty() {
        None
    } else if all.iter().all(|&ssl| ssl) {
        Some(true)
    } else {
        assert!(all.iter().all(|&ssl| !ssl), "{all:?}");
        Some(false)
    }
}

#[test]
fn tls_is_libpqs_sslmode_with_the_servers_certificate_verified_against_sslrootcert() {
    let Some(url) = new_database() else { return };
    let ca = server_ca();
    let admin = common::postgres::server().unwrap();
    let with = |query: &str| format!("{url}?{query}");
    for (n, (query, tls)) in [
        (format!("sslmode=verify-full&sslrootcert={ca}"), true),
        (format!("sslmode=verify-ca&sslrootcert={ca}"), true),
        ("sslmode=require".to_owned(), true),
        ("sslmode=prefer".to_owned(), true),
        (String::new(), true), // libpq's default is prefer
        ("sslmode=disable".to_owned(), false),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("tw_tls_{n}");
        let store = PostgresStore::open(&with(&format!("{query}&application_name={name}")))
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        // A call leaves its connection in the pool, where the server can be asked about it.
        store.list(&tokenward::ListFilter::default()).unwrap();
        assert_eq!(encrypted(&admin, &name), Some(tls), "{query}");
        drop(store);
    }

    // A root that did not sign the server's certificate: refused, saying why.
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.crt");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(made.status.success());
    for mode in ["verify-full", "verify-ca"] {
        let e = PostgresStore::open(&with(&format!(
            "sslmode={mode}&sslrootcert={}",
            other_ca.display()
        )))
        .unwrap_err();
        assert_eq!(e.code(), Code::StoreIo.name(), "{e}");
        assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    }
    // verify-full checks the name: the certificate names 127.0.0.1 and localhost only, so
    // the same server reached as another name is refused; verify-ca checks the chain alone.
    let as_named = |host: &str, mode: &str| {
        with(&format!(
            "hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}"
        ))
        .replace("@127.0.0.1:", &format!("@{host}:"))
    };
    let e = PostgresStore::open(&as_named("db.example", "verify-full")).unwrap_err();
    assert!(
        e.to_string().contains("certificate not valid for name"),
        "{e}"
    );
    PostgresStore::open(&as_named("db.example", "verify-ca")).unwrap();
    PostgresStore::open(&as_named("localhost", "verify-full")).unwrap();

    // Verifying needs a root; a root file that is not one is a clear error.
    for (query, says) in [
        ("sslmode=verify-full".to_owned(), "needs sslrootcert"),
        ("sslmode=verify-ca".to_owned(), "needs sslrootcert"),
        ("sslmode=bogus".to_owned(), "sslmode must be"),
    ] {
        let e = PostgresStore::open(&with(&query)).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument.name());
        assert!(e.to_string().contains(says), "{e}");
    }
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let e = PostgresStore::open(&with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        not_pem.display()
    )))
    .unwrap_err();
    assert!(e.to_string().contains("no certificate"), "{e}");
}

/// How many values `api_key_scope` has in the database `url`.
fn enum_size(url: &str) -> usize {
    let row = client(url)
        .query_one(
            "SELECT count(*) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typname = 'api_key_scope'",
            &[],
        )
        .unwrap();
    usize::try_from(row.get::<_, i64>(0)).unwrap()
}

#[test]
fn any_scope_the_other_stores_keep_is_kept_in_an_owned_database_and_refused_by_coders() {
    // Coder's enum lists every RBAC pair, the owned schema starts with the public scopes;
    // the memory and SQLite stores keep any stored scope name.
    let view_insights = tokenward::Scope::from_db("template:view_insights").unwrap();
    let mut key = common::key(1, ALICE, LoginType::Token, "one", "2026-04-01T00:00:00Z");
    key.scopes = vec![view_insights.clone(), tokenward::Scope::all()];

    let Some(url) = new_database() else { return };
    let owned = PostgresStore::open(&url).unwrap();
    owned.insert(&key).unwrap();
    assert_eq!(*owned.get(&key.id).unwrap().unwrap(), key);
    assert_eq!(enum_size(&url), tokenward::Scope::PUBLIC.len() + 1);
    // Another key with it: the enum already has it.
    let mut again = common::key(2, ALICE, LoginType::Token, "two", "2026-04-01T00:00:00Z");
    again.scopes = vec![view_insights.clone()];
    owned.insert(&again).unwrap();
    assert_eq!(enum_size(&url), tokenward::Scope::PUBLIC.len() + 1);

    // Coder's database is never altered: a scope its enum lacks is refused.
    let Some(url) = coder_database() else { return };
    let coder = PostgresStore::open(&url).unwrap();
    let e = coder.insert(&key).unwrap_err();
    assert_eq!(e.code(), Code::InvalidKey.name(), "{e}");
    assert!(e.to_string().contains("api_key_scope"), "{e}");
    assert_eq!(enum_size(&url), tokenward::Scope::PUBLIC.len());
}

#[test]
fn values_the_columns_do_not_take_are_refused_as_invalid_keys() {
    let Some(url) = new_database() else { return };
    let store = PostgresStore::open(&url).unwrap();
    let key =
        |n: u32, user: &str| common::key(n, user, LoginType::Token, "", "2026-04-01T00:00:00Z");
    // Coder's users.id is a uuid.
    let e = store.insert(&key(1, "jane")).unwrap_err();
    assert_eq!(e.code(), Code::InvalidKey.name());
    assert!(e.to_string().contains("UUID"), "{e}");
    // A name that is no scope at all (only deserializing makes one) is not added to the
    // enum: the insert refuses it, and the enum is as it was.
    let mut odd = key(2, ALICE);
    odd.scopes = vec![serde_json::from_str("\"workspace:read'); --\"").unwrap()];
    let e = store.insert(&odd).unwrap_err();
    assert_eq!(e.code(), Code::InvalidKey.name());
    assert!(e.to_string().contains("api_key_scope"), "{e}");
    assert_eq!(enum_size(&url), tokenward::Scope::PUBLIC.len());
    // Neither left a row behind.
    assert!(
        store
            .list(&tokenward::ListFilter::default())
            .unwrap()
            .is_empty()
    );
}
