//! The lifecycle through `Authority` (compatibility §4, §6, §7), on the in-memory store with a manual
//! clock. Item numbers are compatibility §9's.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use common::Wrapped;

use tokenward::Coded;
use tokenward::store::{KeyStore, ListFilter};
use tokenward::{
    ApiKey, Authority, Clock, CreateTokenRequest, Duration, Error, KeyId, KeyUpdate, ListTokens,
    LoginType, ManualClock, MemoryStore, Operation, Settings, StoreError, StoreErrorKind,
    Timestamp, User,
};

const START: &str = "2026-03-01T12:00:00Z";

struct World {
    authority: Authority,
    clock: Arc<ManualClock>,
    owner: User,
    alice: User,
    bob: User,
}

fn world_with(settings: Settings) -> World {
    let clock = Arc::new(ManualClock::new(Timestamp::parse_rfc3339(START).unwrap()));
    let authority = Authority::new(Arc::new(MemoryStore::new()), settings)
        .unwrap()
        .with_clock(clock.clone());
    World {
        authority,
        clock,
        owner: User::new("owner-1", &["owner"]),
        alice: User::new("alice", &[]),
        bob: User::new("bob", &[]),
    }
}

fn world() -> World {
    world_with(Settings::default())
}

fn hours(n: i64) -> Duration {
    Duration::from_hours(n).unwrap()
}

fn named(name: &str) -> CreateTokenRequest {
    CreateTokenRequest {
        token_name: name.into(),
        ..CreateTokenRequest::default()
    }
}

impl World {
    fn now(&self) -> Timestamp {
        self.authority.now()
    }

    fn token(&self, actor: &User, target: &User, request: CreateTokenRequest) -> (String, ApiKey) {
        let minted = self
            .authority
            .create_token(actor, target, &request, "203.0.113.7")
            .unwrap();
        (minted.token.expose(), minted.key)
    }
}

#[test]
fn created_token_authenticates_and_its_first_use_is_recorded() {
    let w = world();
    let (token, key) = w.token(&w.alice, &w.alice, named("ci"));
    assert_eq!(key.login_type, LoginType::Token);
    // §9.52: default lifetime 7 days.
    assert_eq!(key.expires_at, w.now().saturating_add(hours(168)));
    let first = w.authority.authenticate(&token, "198.51.100.1").unwrap();
    assert_eq!(first.key.user_id, "alice");
    assert_eq!(
        first.key.last_used,
        w.now(),
        "a new key's first use always writes (§7.1)"
    );
    assert_eq!(first.key.ip_address.to_string(), "198.51.100.1");
    let stored = w.authority.store().get(&key.id).unwrap().unwrap();
    assert_eq!(
        (stored.last_used, stored.ip_address),
        (first.key.last_used, first.key.ip_address)
    );
    // Within the hour nothing is written.
    w.clock.advance(Duration::MINUTE);
    assert_eq!(
        w.authority
            .authenticate(&token, "198.51.100.2")
            .unwrap()
            .update,
        None
    );
}

#[test]
fn token_keys_do_not_slide_but_sessions_do() {
    // §9.21, §9.22
    let w = world();
    let (token, key) = w.token(&w.alice, &w.alice, named("ci"));
    let session = w
        .authority
        .create_session(&w.alice, LoginType::Password, "")
        .unwrap();
    let session_token = session.token.expose();
    w.authority.authenticate(&token, "").unwrap();
    w.authority.authenticate(&session_token, "").unwrap();
    w.clock.advance(hours(2));
    let t = w.authority.authenticate(&token, "").unwrap();
    assert_eq!(t.key.expires_at, key.expires_at);
    let s = w.authority.authenticate(&session_token, "").unwrap();
    assert_eq!(
        s.key.expires_at,
        w.now().saturating_add(hours(24)),
        "session slid to now + 24h"
    );
    assert_eq!(
        w.authority
            .store()
            .get(&session.key.id)
            .unwrap()
            .unwrap()
            .expires_at,
        s.key.expires_at
    );
}

#[test]
fn sessions_last_the_session_duration_and_have_no_name() {
    // §4.4, §9.61
    let w = world_with({
        let mut s = Settings::default();
        s.session_duration = Duration::SECOND;
        s
    });
    let session = w
        .authority
        .create_session(&w.bob, LoginType::Oidc, "1.2.3.4")
        .unwrap();
    assert_eq!(session.key.lifetime_seconds, 1);
    assert_eq!(
        session.key.expires_at,
        session.key.created_at.saturating_add(Duration::SECOND)
    );
    assert_eq!(
        (session.key.token_name.as_str(), session.key.login_type),
        ("", LoginType::Oidc)
    );
    w.clock.advance(hours(1));
    let rejection = w
        .authority
        .authenticate(&session.token.expose(), "")
        .unwrap_err();
    assert_eq!(rejection.code(), "expired");
    assert!(rejection.message().contains("session has expired"));
    let err = w
        .authority
        .create_session(&w.bob, LoginType::Token, "")
        .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}

#[test]
fn rejections_are_coders() {
    let w = world();
    let (token, key) = w.token(&w.alice, &w.alice, named("ci"));
    assert_eq!(
        w.authority.authenticate("", "").unwrap_err().code(),
        "missing"
    );
    assert_eq!(
        w.authority.authenticate("test-wow", "").unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        w.authority
            .authenticate("abcdefghij-abcdefghijklmnopqrstuv", "")
            .unwrap_err()
            .code(),
        "unknown_key"
    );
    let forged = format!("{}-{}", key.id, "0".repeat(22));
    assert_eq!(
        w.authority.authenticate(&forged, "").unwrap_err().code(),
        "invalid_secret"
    );
    w.authority.expire(&w.alice, &key.id).unwrap();
    w.clock.advance(Duration::from_nanos(1_000));
    let expired = w.authority.authenticate(&token, "").unwrap_err();
    assert_eq!(expired.code(), "expired");
    assert!(
        expired
            .detail()
            .starts_with("API key expired at \"2026-03-01 11:59:59.999999 +0000 UTC\""),
        "{}",
        expired.detail()
    );
}

#[test]
fn only_an_owner_creates_tokens_for_someone_else() {
    // §9.70, §9.71
    let w = world();
    let err = w
        .authority
        .create_token(&w.alice, &w.bob, &named("x"), "")
        .unwrap_err();
    assert_eq!((err.name(), err.status()), ("forbidden", 403));
    // Coder's httpapi.Forbidden body.
    assert_eq!(
        tokenward::http::answer(&err, &Settings::default()).body,
        "{\"message\":\"Forbidden.\",\"detail\":\"You don't have permission to view this content. If you believe this is a mistake, please contact your administrator or try signing in with different credentials.\"}\n"
    );
    let (_, key) = w.token(&w.owner, &w.bob, named("x"));
    assert_eq!(key.user_id, "bob");
}

#[test]
fn lifetime_is_limited_by_the_targets_roles() {
    // §9.58/59: the owner maximum replaces the member maximum, for the target.
    let settings = {
        let mut s = Settings::default();
        s.max_token_lifetime = hours(14 * 24);
        s.max_admin_token_lifetime = hours(7 * 24);
        s
    };
    let w = world_with(settings);
    let asking = |days: i64| CreateTokenRequest {
        lifetime: hours(days * 24),
        ..CreateTokenRequest::default()
    };
    assert!(
        w.authority
            .create_token(&w.owner, &w.bob, &asking(10), "")
            .is_ok(),
        "member target: 14d max"
    );
    let err = w
        .authority
        .create_token(&w.owner, &w.owner, &asking(8), "")
        .unwrap_err();
    assert_eq!(err.to_string(), "lifetime must be less than 168h0m0s");
    assert_eq!(err.status(), 400);
    assert_eq!(w.authority.token_config(&w.owner), hours(168));
    assert_eq!(w.authority.token_config(&w.bob), hours(336));
}

#[test]
fn a_duplicate_token_name_is_a_conflict() {
    let w = world();
    w.token(&w.alice, &w.alice, named("ci"));
    let err = w
        .authority
        .create_token(&w.alice, &w.alice, &named("ci"), "")
        .unwrap_err();
    assert_eq!(
        (err.status(), err.to_string()),
        (409, "A token with name \"ci\" already exists.".into())
    );
    w.token(&w.bob, &w.bob, named("ci"));
}

#[test]
fn unnamed_tokens_get_a_generated_name() {
    let w = world();
    let (_, a) = w.token(&w.alice, &w.alice, CreateTokenRequest::default());
    let (_, b) = w.token(&w.alice, &w.alice, CreateTokenRequest::default());
    for name in [&a.token_name, &b.token_name] {
        let (adjective, rest) = name.split_once('_').unwrap();
        assert!(adjective.chars().all(|c| c.is_ascii_lowercase()), "{name}");
        assert!(rest.chars().last().unwrap().is_ascii_digit(), "{name}");
    }
}

#[test]
fn listing_shows_own_tokens_all_for_owners_and_hides_expired() {
    // §9.53, §9.74, §9.77
    let w = world();
    // Listings are oldest first.
    let (_, a1) = w.token(&w.alice, &w.alice, named("a1"));
    w.clock.advance(Duration::SECOND);
    let (_, a2) = w.token(&w.alice, &w.alice, named("a2"));
    w.clock.advance(Duration::SECOND);
    let (_, b1) = w.token(&w.bob, &w.bob, named("b1"));
    w.authority
        .create_session(&w.alice, LoginType::Password, "")
        .unwrap();
    let names = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.token_name).collect::<Vec<_>>();
    let mine = ListTokens::default();
    assert_eq!(
        names(w.authority.list_tokens(&w.alice, &mine).unwrap()),
        ["a1", "a2"],
        "sessions are not tokens"
    );
    let all = ListTokens {
        all: true,
        ..ListTokens::default()
    };
    assert_eq!(
        names(w.authority.list_tokens(&w.alice, &all).unwrap()),
        ["a1", "a2"],
        "a member sees only their own"
    );
    assert_eq!(
        names(w.authority.list_tokens(&w.owner, &all).unwrap()),
        ["a1", "a2", "b1"]
    );
    let bobs = ListTokens {
        user_id: Some("bob".into()),
        ..ListTokens::default()
    };
    assert!(w.authority.list_tokens(&w.alice, &bobs).unwrap().is_empty());
    assert_eq!(
        names(w.authority.list_tokens(&w.owner, &bobs).unwrap()),
        ["b1"]
    );
    w.authority.expire(&w.alice, &a2.id).unwrap();
    w.clock.advance(Duration::SECOND);
    assert_eq!(
        names(w.authority.list_tokens(&w.alice, &mine).unwrap()),
        ["a1"]
    );
    let with_expired = ListTokens {
        include_expired: true,
        ..ListTokens::default()
    };
    assert_eq!(
        names(w.authority.list_tokens(&w.alice, &with_expired).unwrap()),
        ["a1", "a2"]
    );
    assert!(a1.created_at < a2.created_at && a2.created_at < b1.created_at);
}

#[test]
fn members_cannot_see_or_touch_other_users_keys() {
    // §9.67, §9.75: another user's key is "not found" for a member; an owner may act.
    let w = world();
    let (_, owners) = w.token(&w.owner, &w.owner, named("admin"));
    for result in [
        w.authority.get_key(&w.alice, &owners.id).map(|_| ()),
        w.authority.expire(&w.alice, &owners.id),
        w.authority.delete(&w.alice, &owners.id),
    ] {
        assert_eq!(result.unwrap_err().code(), "not_found");
    }
    let (_, alices) = w.token(&w.alice, &w.alice, named("mine"));
    w.authority.expire(&w.owner, &alices.id).unwrap();
    assert!(
        w.authority
            .get_key(&w.alice, &alices.id)
            .unwrap()
            .expires_at
            <= w.now()
    );
}

#[test]
fn expire_is_idempotent_and_an_expired_key_can_be_deleted() {
    // §9.67
    let w = world();
    let (_, key) = w.token(&w.alice, &w.alice, named("ci"));
    w.authority.expire(&w.alice, &key.id).unwrap();
    let first = w.authority.get_key(&w.alice, &key.id).unwrap().expires_at;
    // One microsecond before the expire's clock reading, so expired at that very instant.
    assert_eq!(first, w.now().saturating_sub(Duration::MICROSECOND));
    w.clock.advance(hours(1));
    w.authority.expire(&w.alice, &key.id).unwrap();
    assert_eq!(
        w.authority.get_key(&w.alice, &key.id).unwrap().expires_at,
        first
    );
    w.authority.delete(&w.alice, &key.id).unwrap();
    assert_eq!(
        w.authority.get_key(&w.alice, &key.id).unwrap_err().code(),
        "not_found"
    );
    let unknown = KeyId::parse("nosuchkey0").unwrap();
    assert_eq!(
        w.authority.expire(&w.alice, &unknown).unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        w.authority.delete(&w.alice, &unknown).unwrap_err().code(),
        "not_found"
    );
}

#[test]
fn find_token_takes_a_name_an_id_or_the_whole_token() {
    // §4.8 `tokens rm <name|id|token>`
    let w = world();
    let (token, key) = w.token(&w.alice, &w.alice, named("ci"));
    for text in ["ci", key.id.as_str(), token.as_str()] {
        assert_eq!(
            w.authority.find_token(&w.alice, "alice", text).unwrap().id,
            key.id,
            "{text}"
        );
    }
    assert_eq!(
        w.authority
            .find_token(&w.alice, "alice", "nope")
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        w.authority
            .find_token(&w.bob, "bob", key.id.as_str())
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[test]
fn purge_removes_keys_expired_longer_than_the_retention() {
    let w = world();
    let (old, old_key) = w.token(&w.alice, &w.alice, named("old"));
    let (_, recent_key) = w.token(&w.alice, &w.alice, named("recent"));
    w.authority.expire(&w.alice, &old_key.id).unwrap();
    w.clock.advance(hours(24 * 2));
    w.authority.expire(&w.alice, &recent_key.id).unwrap();
    w.clock.advance(hours(24 * 6)); // old expired 8 days ago, recent 6 days ago
    // Until the purge an expired key answers "expired", not "invalid" (§7.7).
    assert_eq!(
        w.authority.authenticate(&old, "").unwrap_err().code(),
        "expired"
    );
    assert_eq!(w.authority.purge_expired().unwrap(), 1);
    assert_eq!(
        w.authority.authenticate(&old, "").unwrap_err().code(),
        "unknown_key"
    );
    assert!(w.authority.get_key(&w.alice, &recent_key.id).is_ok());
}

#[test]
fn zero_retention_disables_the_purge() {
    let w = world_with({
        let mut s = Settings::default();
        s.api_keys_retention = Duration::ZERO;
        s
    });
    let (_, key) = w.token(&w.alice, &w.alice, named("x"));
    w.authority.expire(&w.alice, &key.id).unwrap();
    w.clock.advance(hours(24 * 365));
    assert_eq!(w.authority.purge_expired().unwrap(), 0);
    assert!(w.authority.get_key(&w.alice, &key.id).is_ok());
}

#[test]
fn deleting_a_users_keys_logs_them_out() {
    let w = world();
    let (token, _) = w.token(&w.alice, &w.alice, named("x"));
    w.authority
        .create_session(&w.alice, LoginType::Github, "")
        .unwrap();
    assert_eq!(w.authority.delete_user_keys("alice").unwrap(), 2);
    assert_eq!(
        w.authority.authenticate(&token, "").unwrap_err().code(),
        "unknown_key"
    );
}

/// A store whose every operation fails, to show failures become 500s and typed errors.
struct BrokenStore;

fn broken(kind: StoreErrorKind, operation: Operation) -> Error {
    let cause = match kind {
        StoreErrorKind::Full => "database or disk is full",
        _ => "disk I/O error",
    };
    StoreError::new(kind, operation, cause).into()
}

impl KeyStore for BrokenStore {
    fn insert(&self, _: &ApiKey) -> Result<(), Error> {
        Err(broken(StoreErrorKind::Full, Operation::Insert))
    }
    fn get(&self, _: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        Err(broken(StoreErrorKind::Io, Operation::Get))
    }
    fn get_by_name(&self, _: &str, _: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        Err(broken(StoreErrorKind::Io, Operation::GetByName))
    }
    fn list(&self, _: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        Err(broken(StoreErrorKind::Io, Operation::List))
    }
    fn apply(&self, _: &KeyUpdate, _: &dyn Clock) -> Result<bool, Error> {
        Err(broken(StoreErrorKind::Full, Operation::Apply))
    }
    fn expire(&self, _: &KeyId, _: &dyn Clock) -> Result<bool, Error> {
        Err(broken(StoreErrorKind::Full, Operation::Expire))
    }
    fn delete(&self, _: &KeyId) -> Result<bool, Error> {
        Err(broken(StoreErrorKind::Full, Operation::Delete))
    }
    fn delete_by_user(&self, _: &str) -> Result<u64, Error> {
        Err(broken(StoreErrorKind::Full, Operation::DeleteByUser))
    }
    fn purge_expired(&self, _: Timestamp, _: usize) -> Result<u64, Error> {
        Err(broken(StoreErrorKind::Full, Operation::Purge))
    }
}

#[test]
fn a_failing_store_is_a_500_never_an_invalid_key() {
    // §9.13
    let authority = Authority::new(Arc::new(BrokenStore), Settings::default()).unwrap();
    let rejection = authority
        .authenticate("abcdefghij-abcdefghijklmnopqrstuv", "")
        .unwrap_err();
    assert_eq!((rejection.name(), rejection.status()), ("store_io", 500));
    assert_eq!(
        rejection.detail(),
        "Internal error fetching API key by id. disk I/O error"
    );
    assert_eq!(
        rejection.message(),
        "An internal error occurred. Please try again or contact the system administrator."
    );
    assert!(
        rejection.rejection().is_none(),
        "a store failure is not a verdict"
    );
    let alice = User::new("alice", &[]);
    let err = authority
        .create_token(&alice, &alice, &CreateTokenRequest::default(), "")
        .unwrap_err();
    // §4.2 step 8: a failed insert is Coder's "Failed to create API key.", not the generic 500.
    assert_eq!((err.name(), err.status()), ("store_full", 500));
    assert_eq!(
        (err.message(), err.detail()),
        (
            "Failed to create API key.".into(),
            "insert a key: database or disk is full".into()
        )
    );
    assert_eq!(
        authority
            .list_tokens(&alice, &ListTokens::default())
            .unwrap_err()
            .code(),
        "store_io"
    );
}

#[test]
fn a_failed_refresh_write_is_a_500() {
    // §6 row 8: "API key couldn't update".
    let read_only = Wrapped::new(MemoryStore::new()).before_apply(|_| {
        Err(StoreError::new(StoreErrorKind::ReadOnly, Operation::Apply, "read-only").into())
    });
    let authority = Authority::new(Arc::new(read_only), Settings::default()).unwrap();
    let alice = User::new("alice", &[]);
    let token = authority
        .create_token(&alice, &alice, &CreateTokenRequest::default(), "")
        .unwrap()
        .token
        .expose();
    let rejection = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(
        (rejection.name(), rejection.status()),
        ("store_read_only", 500)
    );
    assert_eq!(rejection.detail(), "API key couldn't update: read-only.");
}

#[test]
fn settings_that_would_purge_live_keys_are_refused() {
    let negative = {
        let mut s = Settings::default();
        s.api_keys_retention = Duration::from_nanos(-1);
        s
    };
    let err = Authority::new(Arc::new(MemoryStore::new()), negative)
        .err()
        .unwrap();
    assert_eq!(err.code(), "invalid_settings");
    assert!(err.to_string().contains("api_keys_retention"), "{err}");
    let no_sessions = {
        let mut s = Settings::default();
        s.session_duration = Duration::ZERO;
        s
    };
    assert!(Authority::new(Arc::new(MemoryStore::new()), no_sessions).is_err());
}

#[test]
fn a_taken_generated_name_is_replaced_but_a_chosen_one_is_a_conflict() {
    // A store whose first `conflicts` inserts report a name conflict.
    let crowded = |conflicts: u32| {
        let left = AtomicU32::new(conflicts);
        let store = Wrapped::new(MemoryStore::new()).before_insert(move |key| {
            match left.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)) {
                Ok(_) => Err(Error::NameConflict {
                    name: key.token_name.clone(),
                }),
                Err(_) => Ok(()),
            }
        });
        Authority::new(Arc::new(store), Settings::default()).unwrap()
    };
    let alice = User::new("alice", &[]);
    let minted = crowded(3)
        .create_token(&alice, &alice, &CreateTokenRequest::default(), "")
        .unwrap();
    assert!(!minted.key.token_name.is_empty());
    let err = crowded(1)
        .create_token(&alice, &alice, &named("ci"), "")
        .unwrap_err();
    assert_eq!(err, Error::NameConflict { name: "ci".into() });
    // Bounded: a store that always conflicts ends in the conflict, not a loop.
    let err = crowded(u32::MAX)
        .create_token(&alice, &alice, &CreateTokenRequest::default(), "")
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
}

#[test]
fn a_new_session_key_is_a_password_key_lasting_the_default_token_lifetime() {
    // §4.3, §9.65: POST /users/{user}/keys with a 12h default token lifetime gives 43200.
    let w = world_with({
        let mut s = Settings::default();
        s.default_token_lifetime = hours(12);
        s
    });
    let minted = w
        .authority
        .create_session_key(&w.alice, "198.51.100.4")
        .unwrap();
    let key = &minted.key;
    assert_eq!(
        (
            key.login_type,
            key.lifetime_seconds,
            key.token_name.as_str()
        ),
        (LoginType::Password, 43_200, "")
    );
    assert_eq!(key.expires_at, w.now().saturating_add(hours(12)));
    assert_eq!(key.ip_address.to_string(), "198.51.100.4");
    assert_eq!(key.scopes[0].as_str(), "coder:all");
    let verified = w
        .authority
        .authenticate(&minted.token.expose(), "")
        .unwrap();
    assert_eq!(verified.key.id, key.id);
}

#[test]
fn open_takes_memory_a_sqlite_url_or_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let alice = User::new("alice", &[]);
    let memory = Authority::open(":memory:", Settings::default()).unwrap();
    let token = memory
        .create_token(&alice, &alice, &named("m"), "")
        .unwrap()
        .token
        .expose();
    assert!(memory.authenticate(&token, "").is_ok());
    let url = format!("sqlite://{}", path.display());
    let token = Authority::open(&url, Settings::default())
        .unwrap()
        .create_token(&alice, &alice, &named("f"), "")
        .unwrap()
        .token
        .expose();
    // The same file by plain path sees the token written through the URL.
    let by_path = Authority::open(path.to_str().unwrap(), Settings::default()).unwrap();
    assert!(by_path.authenticate(&token, "").is_ok());
    assert!(format!("{by_path:?}").starts_with("Authority {"));
    // A PostgreSQL URL opens a PostgresStore (none listens on port 1), or is refused by a
    // build without it; either way the password is not repeated.
    let refused = Authority::open(
        "postgres://u:hunter2@127.0.0.1:1/coder",
        Settings::default(),
    )
    .unwrap_err();
    let code = if cfg!(feature = "postgres") {
        "store_io"
    } else {
        "invalid_argument"
    };
    assert_eq!(refused.code(), code, "{refused}");
    assert!(
        !format!("{refused} {refused:?}").contains("hunter2"),
        "{refused}"
    );
}

#[test]
fn a_session_that_lapsed_just_before_its_expire_never_slides_after_it() {
    // An authenticate checks at the very microsecond the session lapses (still valid, as in
    // Coder) and decides a slide; before its write the clock moves on and an expire lands,
    // which changes nothing since the key already lapsed. The write must not revive it.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = tokenward::SqliteStore::open(dir.path().join("keys.db")).unwrap();
    run_lapse_then_expire("memory", MemoryStore::new());
    run_lapse_then_expire("sqlite", sqlite);
}

fn run_lapse_then_expire(name: &str, inner: impl KeyStore + 'static) {
    let clock = Arc::new(ManualClock::new(Timestamp::parse_rfc3339(START).unwrap()));
    let victim = Arc::new(std::sync::Mutex::new(None::<KeyId>));
    let (hook_clock, hook_victim) = (clock.clone(), victim.clone());
    let store = Wrapped::new(inner).before_apply(move |store| {
        hook_clock.advance(Duration::MICROSECOND);
        let id = hook_victim.lock().unwrap().expect("a victim");
        store.expire(&id, &*hook_clock).map(drop)
    });
    let authority = Authority::new(Arc::new(store), Settings::default())
        .unwrap()
        .with_clock(clock.clone());
    let alice = User::new("alice", &[]);
    let minted = authority
        .create_session(&alice, LoginType::Password, "")
        .unwrap();
    *victim.lock().unwrap() = Some(minted.key.id);
    let lapses_at = minted.key.expires_at;
    clock.set(lapses_at);
    let err = authority
        .authenticate(&minted.token.expose(), "")
        .unwrap_err();
    assert_eq!(err.code(), "expired", "{name}");
    let stored = authority.store().get(&minted.key.id).unwrap().unwrap();
    assert_eq!(stored.expires_at, lapses_at, "{name}: no slide landed");
}

/// An authority over a store that reports `owner` for every key, as Coder's database does,
/// with a session of `login_type` used two hours ago (a check writes a refresh): the
/// authority, the token, and the store to read the key back.
fn owned(
    owner: tokenward::store::Owner,
    login_type: LoginType,
) -> (Authority, String, Arc<dyn KeyStore>) {
    let clock = Arc::new(ManualClock::new(Timestamp::parse_rfc3339(START).unwrap()));
    let inner: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let plain = Authority::new(inner.clone(), Settings::default())
        .unwrap()
        .with_clock(clock.clone());
    let minted = plain
        .create_session(&User::new("alice", &[]), login_type, "")
        .unwrap();
    let token = minted.token.expose().to_string();
    plain.authenticate(&token, "").unwrap();
    clock.advance(hours(2));
    let store = Wrapped {
        inner: inner.clone(),
        before_insert: None,
        before_apply: None,
        guard: None,
        owner: None,
    }
    .owned_by(owner);
    let authority = Authority::new(Arc::new(store), Settings::default())
        .unwrap()
        .with_clock(clock);
    (authority, token, inner)
}

fn owner(status: &str, deleted: bool, link: Option<&str>) -> tokenward::store::Owner {
    tokenward::store::Owner {
        status: status.into(),
        deleted,
        link_oauth_expiry: link.map(|t| Timestamp::parse_rfc3339(t).unwrap()),
    }
}

/// Whether the key of `token` was used at the authority's "now" (a refresh was written).
fn refreshed(authority: &Authority, token: &str, store: &Arc<dyn KeyStore>) -> bool {
    let id = KeyId::parse(&token[..10]).unwrap();
    store.get(&id).unwrap().unwrap().last_used == authority.now()
}

#[test]
fn a_store_that_knows_users_has_the_owner_checked_in_coders_order() {
    // The clock stands at 14:00 after the two hours.
    // Active, and a provider key with a link that never or not yet expires: accepted.
    for (owner, login_type) in [
        (owner("active", false, None), LoginType::Password),
        (
            owner("active", false, Some("0001-01-01T00:00:00Z")),
            LoginType::Github,
        ),
        (
            owner("active", false, Some("2026-03-01T14:00:00Z")),
            LoginType::Oidc,
        ),
    ] {
        let (authority, token, store) = owned(owner, login_type);
        assert!(authority.authenticate(&token, "").is_ok(), "{login_type:?}");
        assert!(refreshed(&authority, &token, &store));
    }
    // Deleted (before the write), whatever the status and login type.
    let (authority, token, store) = owned(owner("suspended", true, None), LoginType::Github);
    assert_eq!(
        authority.authenticate(&token, "").unwrap_err().code(),
        "user_deleted"
    );
    assert!(!refreshed(&authority, &token, &store));
    // A provider key without a link, or with an expired OAuth token: before the write.
    let (authority, token, store) = owned(owner("suspended", false, None), LoginType::Oidc);
    assert_eq!(
        authority.authenticate(&token, "").unwrap_err().code(),
        "no_user_link"
    );
    assert!(!refreshed(&authority, &token, &store));
    let (authority, token, store) = owned(
        owner("active", false, Some("2026-03-01T13:59:59.999999Z")),
        LoginType::Github,
    );
    let e = authority.authenticate(&token, "").unwrap_err();
    assert_eq!(e.code(), "oauth_unavailable");
    assert_eq!(e.status(), 500);
    assert!(!refreshed(&authority, &token, &store));
    // A password key needs no link. Not active: refused after the write, naming the status.
    for status in ["suspended", "dormant", ""] {
        let (authority, token, store) = owned(owner(status, false, None), LoginType::Password);
        let e = authority.authenticate(&token, "").unwrap_err();
        assert_eq!(e.code(), "user_inactive");
        assert_eq!(
            e.message(),
            format!(
                "User is not active (status = \"{status}\"). Contact an admin to reactivate your account."
            )
        );
        assert_eq!(e.detail(), "");
        assert!(refreshed(&authority, &token, &store), "{status}");
        // And again with nothing left to write: still refused.
        assert_eq!(
            authority.authenticate(&token, "").unwrap_err().code(),
            "user_inactive"
        );
    }
}
