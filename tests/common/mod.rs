//! Records shared by the store tests.
#![allow(dead_code)] // each test crate uses part of it

use tokenward::key::remote_ip;
use tokenward::{AllowEntry, ApiKey, KeyId, LoginType, Scope, SecretHash, Timestamp};

pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// A key with a distinct id; `n` also orders `created_at`.
pub fn key(n: u32, user: &str, login_type: LoginType, name: &str, expires_at: &str) -> ApiKey {
    ApiKey {
        id: KeyId::parse(&format!("key{n:07}")).unwrap(),
        hashed_secret: SecretHash::of_bytes(format!("secret{n}").as_bytes())
            .as_bytes()
            .to_vec(),
        user_id: user.into(),
        last_used: Timestamp::UNIX_EPOCH,
        expires_at: ts(expires_at),
        created_at: Timestamp::from_unix_micros(
            ts("2026-03-01T00:00:00Z").unix_micros() + i64::from(n),
        ),
        updated_at: ts("2026-03-01T00:00:00Z"),
        login_type,
        lifetime_seconds: 86_400,
        ip_address: remote_ip("203.0.113.7"),
        token_name: name.into(),
        scopes: vec![Scope::public("all").unwrap()],
        allow_list: vec![AllowEntry::wildcard()],
    }
}
