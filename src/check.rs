//! The checks on a presented token, in Coder's order (compatibility §6 rows 1-5): missing, malformed,
//! unknown id, invalid secret, expired. Pure: the caller fetches the record.

use std::borrow::Borrow;
use std::fmt;

use crate::error::{Code, Error};
use crate::gofmt::quote;
use crate::hash::SecretHash;
use crate::key::ApiKey;
use crate::refresh::{KeyUpdate, refresh};
use crate::settings::Settings;
use crate::time::Timestamp;
use crate::token::{KeyId, ParseError, Token, split};

/// Coder's `SignedOutErrorMessage`, the message of every soft rejection (compatibility §6).
pub const SIGNED_OUT_MESSAGE: &str =
    "You are signed out or your session has expired. Please sign in again to continue.";

/// Which check failed. Each kind has its own [`Code`]. The last three come from stores that
/// know users (Coder's database): the checks Coder's middleware makes on the key's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No token in the request (row 1).
    Missing,
    /// Not `<10 bytes>-<22 bytes>` (row 2).
    Malformed,
    /// No key has this id (row 3).
    UnknownKey,
    /// The secret's hash differs from the stored one (row 4).
    InvalidSecret,
    /// `expires_at < now` (row 5).
    Expired,
    /// The owner was deleted (Coder's open PR #28634, checked right after row 5).
    UserDeleted,
    /// A `github` or `oidc` key whose owner has no link to that provider (row 7).
    NoUserLink,
    /// The owner's status is not `active` (row 11).
    UserInactive,
}

impl RejectionKind {
    /// The stable code: `missing`, `malformed`, `unknown_key`, `invalid_secret`, `expired`,
    /// `user_deleted`, `no_user_link`, `user_inactive`.
    pub const fn code(self) -> Code {
        match self {
            RejectionKind::Missing => Code::Missing,
            RejectionKind::Malformed => Code::Malformed,
            RejectionKind::UnknownKey => Code::UnknownKey,
            RejectionKind::InvalidSecret => Code::InvalidSecret,
            RejectionKind::Expired => Code::Expired,
            RejectionKind::UserDeleted => Code::UserDeleted,
            RejectionKind::NoUserLink => Code::NoUserLink,
            RejectionKind::UserInactive => Code::UserInactive,
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code().name())
    }
}

/// A presented token that does not authenticate, with Coder's answer for it (compatibility §6).
/// Never contains the secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct Rejection {
    kind: RejectionKind,
    /// Coder's message when it is not `SignedOutErrorMessage` (boxed: errors stay small).
    message: Option<Box<str>>,
    detail: String,
}

impl Rejection {
    /// Row 1: no token was presented.
    pub fn missing() -> Rejection {
        Self::new(
            RejectionKind::Missing,
            "Cookie \"coder_session_token\" or query parameter must be provided.".into(),
        )
    }

    /// Row 2: the token does not split as Coder's does.
    pub fn malformed(error: ParseError) -> Rejection {
        Self::new(
            RejectionKind::Malformed,
            format!("Invalid API key format: {error}"),
        )
    }

    /// Row 3: no key has this id.
    pub fn unknown_key() -> Rejection {
        Self::new(RejectionKind::UnknownKey, "API key is invalid.".into())
    }

    /// Row 4: wrong secret.
    pub fn invalid_secret() -> Rejection {
        Self::new(
            RejectionKind::InvalidSecret,
            "API key secret is invalid.".into(),
        )
    }

    /// Row 5: the key expired at `expires_at`, printed as Go's `Time.String()`.
    pub fn expired(expires_at: Timestamp) -> Rejection {
        Self::new(
            RejectionKind::Expired,
            format!("API key expired at \"{}\".", expires_at.go_string()),
        )
    }

    /// The owner was deleted: Coder's open PR #28634, a soft 401 before any write.
    pub fn user_deleted() -> Rejection {
        Self::new(
            RejectionKind::UserDeleted,
            "API key belongs to a deleted user.".into(),
        )
    }

    /// Row 7: a `github` or `oidc` key, and its owner has no link to that provider.
    pub fn no_user_link() -> Rejection {
        Self::new(
            RejectionKind::NoUserLink,
            "You must re-authenticate with the login provider.".into(),
        )
    }

    /// Row 11: the owner's status (`suspended`, `dormant`) is not `active`. Coder's message
    /// names it, and there is no detail.
    pub fn user_inactive(status: &str) -> Rejection {
        Rejection {
            kind: RejectionKind::UserInactive,
            message: Some(
                format!(
                    "User is not active (status = {}). Contact an admin to reactivate your account.",
                    quote(status)
                )
                .into(),
            ),
            detail: String::new(),
        }
    }

    fn new(kind: RejectionKind, detail: String) -> Rejection {
        Rejection {
            kind,
            message: None,
            detail,
        }
    }

    /// Which check failed.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The stable code of [`kind`](Rejection::kind).
    pub fn code(&self) -> Code {
        self.kind.code()
    }

    /// Coder's `message`: `SignedOutErrorMessage` for every rejection but an inactive owner's
    /// (compatibility §6).
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or(SIGNED_OUT_MESSAGE)
    }

    /// Coder's `detail`: which check failed, in Coder's words.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The HTTP status: 401.
    pub fn status(&self) -> u16 {
        self.code().status()
    }
}

/// A token that passed every check: the key (as fetched: a reference, an `Arc`, or an owned
/// [`ApiKey`]), with the refresh the caller should persist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified<K> {
    /// The key as it was fetched (before `update`).
    pub key: K,
    /// What to write back, if anything (compatibility §7).
    pub update: Option<KeyUpdate>,
}

impl<K: Borrow<ApiKey>> Verified<K> {
    /// The key as it is once `update` is written at `now`.
    pub fn updated_key(&self, now: Timestamp) -> ApiKey {
        let mut key = self.key.borrow().clone();
        if let Some(update) = &self.update {
            key.apply(update, now);
        }
        key
    }
}

/// Checks a parsed token against the record fetched for its id (rows 3-5), then decides the
/// refresh. `remote_addr` is the request's address, used only when `last_used` moves.
pub fn check<K: Borrow<ApiKey>>(
    token: &Token,
    key: K,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Result<Verified<K>, Rejection> {
    check_parts(
        token.id(),
        token.secret().as_bytes(),
        key,
        now,
        settings,
        remote_addr,
    )
}

fn check_parts<K: Borrow<ApiKey>>(
    id: KeyId,
    secret: &[u8],
    key: K,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Result<Verified<K>, Rejection> {
    let record = key.borrow();
    // fine points: a record for another id is no record at all.
    if record.id != id {
        return Err(Rejection::unknown_key());
    }
    if !SecretHash::of_bytes(secret).matches(&record.hashed_secret) {
        return Err(Rejection::invalid_secret());
    }
    // Strictly before: a key is still valid at the microsecond it expires.
    if record.is_expired(now) {
        return Err(Rejection::expired(record.expires_at));
    }
    let update = refresh(record, now, settings, remote_addr);
    Ok(Verified { key, update })
}

/// Every check on the text of a presented token (rows 1-5): `lookup` returns the stored key for
/// the parsed id (a reference, an `Arc` or an owned row), or `None` when there is none.
pub fn verify<K: Borrow<ApiKey>>(
    presented: &str,
    lookup: impl FnOnce(KeyId) -> Option<K>,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Result<Verified<K>, Rejection> {
    // Rows 1-2, written out here and in `try_verify`: a shared helper returning the parts
    // cost 25 instructions per check (callgrind). The secret is hashed where it lies.
    if presented.is_empty() {
        return Err(Rejection::missing());
    }
    let (id, secret) = split(presented).map_err(Rejection::malformed)?;
    let key = lookup(id).ok_or_else(Rejection::unknown_key)?;
    check_parts(id, secret, key, now, settings, remote_addr)
}

/// [`verify`] for a host with its own key table: `record` is the row it fetched for the
/// presented token's id (`None` when there is none). Not generic, for bindings.
pub fn verify_record<'k>(
    presented: &str,
    record: Option<&'k ApiKey>,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Result<Verified<&'k ApiKey>, Rejection> {
    verify(presented, |_| record, now, settings, remote_addr)
}

/// [`verify`] with a lookup that can fail: a failure is passed on as the error it is (for a
/// store, Coder's 500, compatibility §6 row 3b), never a 401, so a database outage is not reported as
/// an invalid key.
pub fn try_verify<K: Borrow<ApiKey>, E: Into<Error>>(
    presented: &str,
    lookup: impl FnOnce(KeyId) -> Result<Option<K>, E>,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Result<Verified<K>, Error> {
    // Rows 1-2, as in `verify`.
    if presented.is_empty() {
        return Err(Rejection::missing().into());
    }
    let (id, secret) = split(presented).map_err(Rejection::malformed)?;
    let key = lookup(id)
        .map_err(Into::into)?
        .ok_or_else(Rejection::unknown_key)?;
    Ok(check_parts(id, secret, key, now, settings, remote_addr)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::LoginType;

    const SECRET: &str = "abcdefghijklmnopqrstuv";
    const TOKEN: &str = "0123456789-abcdefghijklmnopqrstuv";

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn record(expires_at: &str) -> ApiKey {
        let mut key = ApiKey::new(
            KeyId::parse("0123456789").unwrap(),
            SecretHash::of_bytes(SECRET.as_bytes()).as_bytes(),
            "u",
            LoginType::Token,
            ts("2026-03-01T00:00:00Z"),
            ts(expires_at),
        );
        key.last_used = ts("2026-03-01T11:30:00Z");
        key.token_name = "t".into();
        key
    }

    fn run(
        presented: &str,
        key: Option<&ApiKey>,
        now: &str,
    ) -> Result<Option<KeyUpdate>, Rejection> {
        verify(presented, |_| key, ts(now), &Settings::default(), "1.1.1.1").map(|v| v.update)
    }

    #[test]
    fn valid_token_verifies_without_writes_when_recently_used() {
        let key = record("2026-03-02T12:00:00Z");
        assert_eq!(run(TOKEN, Some(&key), "2026-03-01T12:00:00Z"), Ok(None));
    }

    #[test]
    fn rejections_come_in_coders_order() {
        let key = record("2026-03-01T00:00:00Z"); // expired at now
        let expired_wrong_secret = run(
            "0123456789-abcdefghijklmnopqrstuX",
            Some(&key),
            "2026-03-01T12:00:00Z",
        );
        assert_eq!(
            expired_wrong_secret.unwrap_err().kind(),
            RejectionKind::InvalidSecret
        );
        assert_eq!(
            run("", Some(&key), "2026-03-01T12:00:00Z")
                .unwrap_err()
                .kind(),
            RejectionKind::Missing
        );
        assert_eq!(
            run("a-b-c", Some(&key), "2026-03-01T12:00:00Z")
                .unwrap_err()
                .kind(),
            RejectionKind::Malformed
        );
        assert_eq!(
            run(TOKEN, None, "2026-03-01T12:00:00Z").unwrap_err().kind(),
            RejectionKind::UnknownKey
        );
        assert_eq!(
            run(TOKEN, Some(&key), "2026-03-01T12:00:00Z")
                .unwrap_err()
                .kind(),
            RejectionKind::Expired
        );
    }

    #[test]
    fn expired_when_expires_at_is_one_microsecond_past() {
        let key = record("2026-03-01T12:00:00Z");
        assert!(
            run(TOKEN, Some(&key), "2026-03-01T12:00:00Z").is_ok(),
            "equal is still valid"
        );
        let err = run(TOKEN, Some(&key), "2026-03-01T12:00:00.000001Z").unwrap_err();
        assert_eq!(
            err.detail(),
            "API key expired at \"2026-03-01 12:00:00 +0000 UTC\"."
        );
        assert_eq!(err.message(), SIGNED_OUT_MESSAGE);
        assert_eq!(err.status(), 401);
    }

    #[test]
    fn record_for_another_id_is_an_unknown_key() {
        let key = record("2026-03-02T12:00:00Z");
        let err = run(
            "9876543210-abcdefghijklmnopqrstuv",
            Some(&key),
            "2026-03-01T12:00:00Z",
        )
        .unwrap_err();
        assert_eq!(
            (err.code(), err.detail()),
            (Code::UnknownKey, "API key is invalid.")
        );
    }

    #[test]
    fn malformed_detail_carries_coders_split_error() {
        let err = run("test-wow", None, "2026-03-01T12:00:00Z").unwrap_err();
        assert_eq!(
            err.detail(),
            "Invalid API key format: invalid API key ID length, expected 10 got 4"
        );
    }

    #[test]
    fn failing_lookup_is_a_500_not_an_invalid_key() {
        use crate::error::{Coded, INTERNAL_ERROR_MESSAGE, Operation, StoreError, StoreErrorKind};
        let err = try_verify(
            TOKEN,
            |_| {
                Err::<Option<&ApiKey>, _>(StoreError::new(
                    StoreErrorKind::Io,
                    Operation::Get,
                    "connection refused",
                ))
            },
            ts("2026-03-01T12:00:00Z"),
            &Settings::default(),
            "",
        )
        .unwrap_err();
        assert_eq!((err.code(), err.status()), (Code::StoreIo, 500));
        assert_eq!(
            err.detail(),
            "Internal error fetching API key by id. connection refused"
        );
        assert_eq!(err.message(), INTERNAL_ERROR_MESSAGE);
    }

    #[test]
    fn updated_key_is_the_record_after_the_refresh() {
        let key = record("2026-03-02T12:00:00Z");
        let now = ts("2026-03-01T13:00:00Z"); // last_used 11:30: more than an hour ago
        let verified = verify(TOKEN, |_| Some(&key), now, &Settings::default(), "1.1.1.1").unwrap();
        let updated = verified.updated_key(now);
        assert_eq!(
            (updated.last_used, updated.ip_address.to_string()),
            (now, "1.1.1.1".into())
        );
        assert_eq!(verified.key.last_used, key.last_used);
    }
}
