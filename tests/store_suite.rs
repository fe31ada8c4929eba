//! One behaviour suite for every `KeyStore` implementation (Coder's queries, compatibility §3).

mod common;

use std::sync::Arc;

use common::{Wrapped, key, ts};
use tokenward::Coded;
use tokenward::store::{KeyStore, ListFilter, MemoryStore};
use tokenward::{ApiKey, Error, KeyId, KeyUpdate, LoginType, ManualClock, Scope, Timestamp};

fn token(n: u32, user: &str, name: &str) -> ApiKey {
    key(n, user, LoginType::Token, name, "2026-04-01T00:00:00Z")
}

/// A clock standing at `text`.
fn at(text: &str) -> ManualClock {
    ManualClock::new(ts(text))
}

/// One microsecond before `text`: what an expire at `text` stores.
fn just_before(text: &str) -> Timestamp {
    Timestamp::from_unix_micros(ts(text).unix_micros() - 1)
}

fn ids(keys: &[ApiKey]) -> Vec<String> {
    keys.iter().map(|k| k.id.to_string()).collect()
}

macro_rules! store_suite {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;

            /// A new empty store; `None` when this kind cannot run here (no server), and the
            /// test then returns, having said why.
            fn store() -> Option<impl KeyStore> {
                $make
            }

            #[test]
            fn insert_then_get_returns_every_column() {
                let Some(store) = store() else { return };
                let mut k = token(1, "alice", "ci");
                k.hashed_secret = vec![1, 2, 3]; // a wrong-length hash survives as stored
                k.ip_address = "2001:db8::7".parse().unwrap();
                k.last_used = ts("0001-01-01T00:00:00Z"); // Go's zero time, older rows
                k.lifetime_seconds = -5;
                k.scopes = vec![
                    Scope::public("workspace:read").unwrap(),
                    Scope::public("template:*").unwrap(),
                ];
                k.allow_list = vec![
                    "workspace:6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f"
                        .parse()
                        .unwrap(),
                ];
                k.expires_at = ts("2026-04-01T00:00:00.123456Z");
                store.insert(&k).unwrap();
                assert_eq!(store.get(&k.id).unwrap().as_deref(), Some(&k));
            }

            #[test]
            fn insert_applies_coders_column_rules() {
                // §3: a lifetime of 0 is stored as 86400; the allow-list may not be empty.
                let Some(store) = store() else { return };
                let mut k = token(1, "alice", "zero");
                k.lifetime_seconds = 0;
                store.insert(&k).unwrap();
                assert_eq!(store.get(&k.id).unwrap().unwrap().lifetime_seconds, 86_400);
                let mut open = token(2, "alice", "open");
                open.allow_list.clear();
                assert_eq!(store.insert(&open).unwrap_err().code(), "invalid_key");
                assert_eq!(store.get(&open.id).unwrap(), None);
            }

            #[test]
            fn get_by_name_prefers_the_token_key() {
                let Some(store) = store() else { return };
                store
                    .insert(&key(
                        1,
                        "alice",
                        LoginType::Password,
                        "ci",
                        "2026-04-01T00:00:00Z",
                    ))
                    .unwrap();
                store.insert(&token(2, "alice", "ci")).unwrap();
                assert_eq!(
                    store
                        .get_by_name("alice", "ci")
                        .unwrap()
                        .unwrap()
                        .id
                        .as_str(),
                    "key0000002"
                );
                assert!(store.delete(&KeyId::parse("key0000002").unwrap()).unwrap());
                assert_eq!(
                    store
                        .get_by_name("alice", "ci")
                        .unwrap()
                        .unwrap()
                        .id
                        .as_str(),
                    "key0000001"
                );
            }

            #[test]
            fn unknown_id_is_none() {
                let Some(store) = store() else { return };
                assert_eq!(
                    store.get(&KeyId::parse("nosuchkey0").unwrap()).unwrap(),
                    None
                );
            }

            #[test]
            fn duplicate_id_is_a_store_constraint_error_naming_nothing_given() {
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "a")).unwrap();
                let err = store.insert(&token(1, "bob", "b")).unwrap_err();
                assert_eq!(err.code(), "store_constraint", "{err}");
                assert_eq!(err.message(), "Failed to create API key.");
                for given in ["key0000001", "bob", "alice"] {
                    assert!(!err.to_string().contains(given), "{err}");
                }
            }

            #[test]
            fn token_names_are_unique_per_user_among_token_keys() {
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "ci")).unwrap();
                assert_eq!(
                    store.insert(&token(2, "alice", "ci")).unwrap_err(),
                    Error::NameConflict { name: "ci".into() }
                );
                store.insert(&token(3, "bob", "ci")).unwrap();
                // Only `token` keys are constrained (idx_api_key_name ... WHERE login_type = 'token').
                for (n, name) in [(4, "ci"), (5, ""), (6, "")] {
                    let session = key(
                        n,
                        "alice",
                        LoginType::Password,
                        name,
                        "2026-04-01T00:00:00Z",
                    );
                    store.insert(&session).unwrap();
                }
            }

            #[test]
            fn the_same_token_record_twice_is_a_name_conflict() {
                let Some(store) = store() else { return };
                let record = token(1, "alice", "ci");
                store.insert(&record).unwrap();
                assert_eq!(
                    store.insert(&record).unwrap_err(),
                    Error::NameConflict { name: "ci".into() }
                );
                // A session has no unique name: the id is what clashes.
                let session = key(2, "alice", LoginType::Password, "", "2026-04-01T00:00:00Z");
                store.insert(&session).unwrap();
                assert_eq!(
                    store.insert(&session).unwrap_err().code(),
                    "store_constraint"
                );
            }

            #[test]
            fn two_unnamed_token_keys_of_one_user_conflict_as_in_coders_index() {
                // idx_api_key_name covers the empty name too; only other users' and
                // non-token keys may share it.
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "")).unwrap();
                assert_eq!(
                    store.insert(&token(2, "alice", "")).unwrap_err(),
                    Error::NameConflict { name: "".into() }
                );
                assert_eq!(
                    store.get(&KeyId::parse("key0000002").unwrap()).unwrap(),
                    None
                );
                store.insert(&token(3, "bob", "")).unwrap();
                let session = key(4, "alice", LoginType::Password, "", "2026-04-01T00:00:00Z");
                store.insert(&session).unwrap();
                assert!(store.delete(&KeyId::parse("key0000001").unwrap()).unwrap());
                store.insert(&token(2, "alice", "")).unwrap();
                assert_eq!(store.get_by_name("alice", "").unwrap(), None);
            }

            #[test]
            fn deleting_a_token_frees_its_name() {
                let Some(store) = store() else { return };
                let first = token(1, "alice", "ci");
                store.insert(&first).unwrap();
                assert!(store.delete(&first.id).unwrap());
                store.insert(&token(2, "alice", "ci")).unwrap();
            }

            #[test]
            fn get_by_name_finds_the_users_token_and_never_an_empty_name() {
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "ci")).unwrap();
                store.insert(&token(2, "bob", "ci")).unwrap();
                store
                    .insert(&key(
                        3,
                        "alice",
                        LoginType::Password,
                        "",
                        "2026-04-01T00:00:00Z",
                    ))
                    .unwrap();
                assert_eq!(
                    store
                        .get_by_name("alice", "ci")
                        .unwrap()
                        .unwrap()
                        .id
                        .as_str(),
                    "key0000001"
                );
                assert_eq!(
                    store.get_by_name("bob", "ci").unwrap().unwrap().id.as_str(),
                    "key0000002"
                );
                assert_eq!(store.get_by_name("alice", "").unwrap(), None);
                assert_eq!(store.get_by_name("carol", "ci").unwrap(), None);
            }

            #[test]
            fn list_filters_by_user_login_type_and_expiry() {
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "a")).unwrap();
                store
                    .insert(&key(
                        2,
                        "alice",
                        LoginType::Token,
                        "b",
                        "2026-03-10T00:00:00Z",
                    ))
                    .unwrap();
                store
                    .insert(&key(
                        3,
                        "alice",
                        LoginType::Password,
                        "",
                        "2026-04-01T00:00:00Z",
                    ))
                    .unwrap();
                store.insert(&token(4, "bob", "a")).unwrap();
                let all = store.list(&ListFilter::default()).unwrap();
                assert_eq!(
                    ids(&all),
                    ["key0000001", "key0000002", "key0000003", "key0000004"]
                );
                let alice_tokens = ListFilter {
                    user_id: Some("alice".into()),
                    login_type: Some(LoginType::Token),
                    hide_expired_at: None,
                };
                assert_eq!(
                    ids(&store.list(&alice_tokens).unwrap()),
                    ["key0000001", "key0000002"]
                );
                // Expired means expires_at < now: at the exact instant the key still shows.
                let at_expiry = ListFilter {
                    hide_expired_at: Some(ts("2026-03-10T00:00:00Z")),
                    ..alice_tokens.clone()
                };
                assert_eq!(
                    ids(&store.list(&at_expiry).unwrap()),
                    ["key0000001", "key0000002"]
                );
                let after = ListFilter {
                    hide_expired_at: Some(ts("2026-03-10T00:00:00.000001Z")),
                    ..alice_tokens
                };
                assert_eq!(ids(&store.list(&after).unwrap()), ["key0000001"]);
            }

            #[test]
            fn apply_writes_the_refresh_and_never_moves_backwards() {
                let Some(store) = store() else { return };
                let k = key(1, "alice", LoginType::Password, "", "2026-03-02T00:00:00Z");
                store.insert(&k).unwrap();
                let update = KeyUpdate {
                    id: k.id,
                    last_used: ts("2026-03-01T12:00:00Z"),
                    expires_at: ts("2026-03-02T12:00:00Z"),
                    ip_address: "1.1.1.1".parse().unwrap(),
                    previous_expires_at: k.expires_at,
                };
                assert!(store.apply(&update, &update.last_used).unwrap());
                let stored = store.get(&k.id).unwrap().unwrap();
                assert_eq!(
                    (stored.last_used, stored.expires_at, stored.ip_address),
                    (update.last_used, update.expires_at, update.ip_address)
                );
                assert_eq!(
                    stored.updated_at, k.updated_at,
                    "UpdateAPIKeyByID does not bump updated_at"
                );
                // A stale decision (older use, decided on the old expiry) changes nothing.
                let stale = KeyUpdate {
                    last_used: ts("2026-03-01T06:00:00Z"),
                    expires_at: ts("2026-03-02T06:00:00Z"),
                    ip_address: "9.9.9.9".parse().unwrap(),
                    ..update
                };
                store.apply(&stale, &stale.last_used).unwrap();
                assert_eq!(store.get(&k.id).unwrap().as_deref(), Some(&*stored));
                assert!(
                    !store
                        .apply(
                            &KeyUpdate {
                                id: KeyId::parse("nosuchkey0").unwrap(),
                                ..update
                            },
                            &update.last_used
                        )
                        .unwrap()
                );
            }

            #[test]
            fn a_refresh_decided_before_an_expire_does_not_revive_the_key() {
                let Some(store) = store() else { return };
                let k = key(1, "alice", LoginType::Password, "", "2026-03-02T00:00:00Z");
                store.insert(&k).unwrap();
                let now = ts("2026-03-01T12:00:00Z");
                assert!(store.expire(&k.id, &at("2026-03-01T12:00:00Z")).unwrap());
                let slide = KeyUpdate {
                    id: k.id,
                    last_used: now,
                    expires_at: ts("2026-03-02T12:00:00Z"),
                    ip_address: "1.1.1.1".parse().unwrap(),
                    previous_expires_at: k.expires_at,
                };
                store.apply(&slide, &now).unwrap();
                let stored = store.get(&k.id).unwrap().unwrap();
                assert_eq!(stored.expires_at, just_before("2026-03-01T12:00:00Z"));
                assert_eq!(stored.last_used, now, "last_used still records the use");
            }

            #[test]
            fn a_slide_written_after_the_key_lapsed_is_dropped() {
                let Some(store) = store() else { return };
                let k = key(1, "alice", LoginType::Password, "", "2026-03-02T00:00:00Z");
                store.insert(&k).unwrap();
                let slide = KeyUpdate {
                    id: k.id,
                    last_used: ts("2026-03-01T23:59:00Z"),
                    expires_at: ts("2026-03-02T23:59:00Z"),
                    ip_address: "1.1.1.1".parse().unwrap(),
                    previous_expires_at: k.expires_at,
                };
                // Written one microsecond after the lapse: last_used moves, the expiry does not.
                store
                    .apply(&slide, &ts("2026-03-02T00:00:00.000001Z"))
                    .unwrap();
                let stored = store.get(&k.id).unwrap().unwrap();
                assert_eq!(
                    (stored.last_used, stored.expires_at),
                    (slide.last_used, k.expires_at)
                );
                // At the lapse itself the key is still valid, so it slides.
                store.apply(&slide, &k.expires_at).unwrap();
                assert_eq!(
                    store.get(&k.id).unwrap().unwrap().expires_at,
                    slide.expires_at
                );
            }

            #[test]
            fn expire_sets_one_microsecond_before_now_once_and_is_idempotent() {
                let Some(store) = store() else { return };
                let k = token(1, "alice", "ci");
                store.insert(&k).unwrap();
                // Expired at the clock's own instant (expires_at < now), unlike Coder's `now`.
                assert!(store.expire(&k.id, &at("2026-03-05T00:00:00Z")).unwrap());
                assert!(store.expire(&k.id, &at("2026-03-06T00:00:00Z")).unwrap());
                let stored = store.get(&k.id).unwrap().unwrap();
                assert_eq!(stored.expires_at, just_before("2026-03-05T00:00:00Z"));
                assert!(stored.is_expired(ts("2026-03-05T00:00:00Z")));
                assert!(
                    !store
                        .expire(
                            &KeyId::parse("nosuchkey0").unwrap(),
                            &at("2026-03-06T00:00:00Z")
                        )
                        .unwrap()
                );
                // An expired key can still be deleted (§9.67).
                assert!(store.delete(&k.id).unwrap());
                assert_eq!(store.get(&k.id).unwrap(), None);
            }

            #[test]
            fn expiring_a_key_that_lapsed_earlier_keeps_its_expiry() {
                let Some(store) = store() else { return };
                let k = token(1, "alice", "ci"); // expires 2026-04-01
                store.insert(&k).unwrap();
                assert!(store.expire(&k.id, &at("2026-05-01T00:00:00Z")).unwrap());
                assert_eq!(store.get(&k.id).unwrap().unwrap().expires_at, k.expires_at);
            }

            #[test]
            fn delete_of_an_unknown_id_is_false() {
                let Some(store) = store() else { return };
                assert!(!store.delete(&KeyId::parse("nosuchkey0").unwrap()).unwrap());
            }

            #[test]
            fn delete_by_user_removes_only_that_users_keys() {
                let Some(store) = store() else { return };
                store.insert(&token(1, "alice", "a")).unwrap();
                store
                    .insert(&key(
                        2,
                        "alice",
                        LoginType::Password,
                        "",
                        "2026-04-01T00:00:00Z",
                    ))
                    .unwrap();
                store.insert(&token(3, "bob", "a")).unwrap();
                assert_eq!(store.delete_by_user("alice").unwrap(), 2);
                assert_eq!(
                    ids(&store.list(&ListFilter::default()).unwrap()),
                    ["key0000003"]
                );
                assert_eq!(store.delete_by_user("alice").unwrap(), 0);
                store.insert(&token(4, "alice", "a")).unwrap();
            }

            #[test]
            fn purge_deletes_keys_expired_before_the_cutoff_in_batches() {
                let Some(store) = store() else { return };
                for n in 0..25 {
                    store
                        .insert(&key(
                            n,
                            "alice",
                            LoginType::Password,
                            "",
                            "2026-03-01T00:00:00Z",
                        ))
                        .unwrap();
                }
                store
                    .insert(&key(
                        100,
                        "alice",
                        LoginType::Password,
                        "",
                        "2026-03-08T00:00:00Z",
                    ))
                    .unwrap();
                let cutoff = ts("2026-03-08T00:00:00Z"); // strictly before: key 100 stays
                assert_eq!(store.purge_expired(cutoff, 10).unwrap(), 10);
                assert_eq!(store.purge_expired(cutoff, 10).unwrap(), 10);
                assert_eq!(store.purge_expired(cutoff, 10).unwrap(), 5);
                assert_eq!(store.purge_expired(cutoff, 10).unwrap(), 0);
                assert_eq!(
                    ids(&store.list(&ListFilter::default()).unwrap()),
                    ["key0000100"]
                );
            }

            #[test]
            fn store_is_shareable_across_threads() {
                let Some(store) = store() else { return };
                let store: Arc<dyn KeyStore> = Arc::new(store);
                let handles: Vec<_> = (0..4)
                    .map(|t| {
                        let store = Arc::clone(&store);
                        std::thread::spawn(move || {
                            for n in 0..50 {
                                store
                                    .insert(&token(t * 1000 + n, "alice", &format!("t{t}-{n}")))
                                    .unwrap();
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().unwrap();
                }
                assert_eq!(store.list(&ListFilter::default()).unwrap().len(), 200);
            }
        }
    };
}

store_suite!(memory, Some(MemoryStore::new()));

/// A `SqliteStore` in a fresh file that lives as long as the store.
fn temp_sqlite() -> Wrapped {
    let dir = tempfile::tempdir().unwrap();
    let store = tokenward::SqliteStore::open(dir.path().join("keys.db")).unwrap();
    Wrapped::new(store).keeping(dir)
}

store_suite!(sqlite, Some(temp_sqlite()));

// PostgreSQL, owned mode, each test in a new database of the server scripts/postgres.sh starts;
// user ids become UUIDs on the way in (Coder's users.id) and names again on the way out.
#[cfg(feature = "postgres")]
store_suite!(postgres, common::postgres::suite_store());

#[test]
fn only_a_store_in_this_process_memory_never_blocks() {
    assert!(!MemoryStore::new().may_block());
    let dir = tempfile::tempdir().unwrap();
    let sqlite = tokenward::SqliteStore::open(dir.path().join("keys.db")).unwrap();
    assert!(sqlite.may_block());
}
