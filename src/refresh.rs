//! The refresh policy (compatibility §7): when a verified key's `last_used` moves, and when its expiry
//! slides forward. Decides only; the caller (or `Authority`) persists the [`KeyUpdate`].

use std::net::IpAddr;

use crate::duration::Duration;
use crate::key::{ApiKey, LoginType, remote_ip};
use crate::settings::Settings;
use crate::time::Timestamp;
use crate::token::KeyId;

/// `last_used` is rewritten only when it is older than this, strictly (compatibility §7.1, §9.80).
pub const LAST_USED_INTERVAL: Duration = Duration::HOUR;

/// [`LAST_USED_INTERVAL`] in microseconds.
const LAST_USED_MICROS: i64 = LAST_USED_INTERVAL.as_nanos() / 1000;
/// The slide waits until an hour of the lifetime has passed (compatibility §7.2), a constant of its own.
const HOUR_MICROS: i64 = 3_600_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

/// The new values of the three columns `UpdateAPIKeyByID` writes (compatibility §3, §7.3). Unchanged
/// columns carry the record's current values, so one write persists the whole decision.
///
/// Apply it as [`ApiKey::apply`] does, so concurrent requests never move a column backwards
/// and a refresh never undoes a concurrent expire: `last_used` (with `ip_address`) only moves
/// forward, and `expires_at` only changes while the row still has `previous_expires_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyUpdate {
    /// The key to update.
    pub id: KeyId,
    /// New `last_used`.
    pub last_used: Timestamp,
    /// New `expires_at`.
    pub expires_at: Timestamp,
    /// New `ip_address`.
    pub ip_address: IpAddr,
    /// The `expires_at` the decision was made on.
    pub previous_expires_at: Timestamp,
}

/// Writing a decision, beside the decision itself.
impl ApiKey {
    /// Writes a refresh decision into this record at `now` (the time of the write), as
    /// `UpdateAPIKeyByID` does (compatibility §3), but never backwards: `last_used` and its
    /// `ip_address` only move forward, and `expires_at` only slides while it still is the
    /// value the decision saw and the key has not lapsed by `now`. So an expire, or a lapse,
    /// between the decision and the write stands. An update of another key's id changes
    /// nothing. Returns whether anything changed.
    pub fn apply(&mut self, update: &KeyUpdate, now: Timestamp) -> bool {
        if update.id != self.id {
            return false;
        }
        let mut changed = false;
        if update.last_used > self.last_used {
            self.last_used = update.last_used;
            self.ip_address = update.ip_address;
            changed = true;
        }
        if self.expires_at == update.previous_expires_at
            && update.expires_at > self.expires_at
            && !self.is_expired(now)
        {
            self.expires_at = update.expires_at;
            changed = true;
        }
        changed
    }
}

/// What using `key` at `now` from `remote_addr` changes, if anything. Call it only for a key
/// that passed every check (compatibility §7: the policy runs after expiry is checked).
pub fn refresh(
    key: &ApiKey,
    now: Timestamp,
    settings: &Settings,
    remote_addr: &str,
) -> Option<KeyUpdate> {
    // §7.1: strictly more than an hour; exactly one hour does not write.
    let touch = now.micros_since(key.last_used) > LAST_USED_MICROS;
    let slid = now.saturating_add_seconds(key.lifetime_seconds);
    // `slid > expires_at` always holds when the rule applies, except at the saturated end of
    // time, where a slide would write nothing new.
    let slide = slides(key, now, settings) && slid > key.expires_at;
    if !touch && !slide {
        return None;
    }
    Some(KeyUpdate {
        id: key.id,
        last_used: if touch { now } else { key.last_used },
        ip_address: if touch {
            remote_ip(remote_addr)
        } else {
            key.ip_address
        },
        expires_at: if slide { slid } else { key.expires_at },
        previous_expires_at: key.expires_at,
    })
}

/// §7.2: sliding expiry, unless disabled or for `token` keys (PR #26376), once at least an
/// hour of the lifetime L has passed: `expires_at - now <= L - 1h`.
fn slides(key: &ApiKey, now: Timestamp, settings: &Settings) -> bool {
    let lifetime = key.lifetime_seconds;
    // fine points: a lifetime of 0 or less never slides.
    !settings.disable_session_expiry_refresh
        && key.login_type != LoginType::Token
        && lifetime > 0
        && key.expires_at.micros_since(now)
            <= lifetime
                .saturating_mul(MICROS_PER_SECOND)
                .saturating_sub(HOUR_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-03-01T12:00:00Z";

    fn at(offset_micros: i64) -> Timestamp {
        Timestamp::from_unix_micros(
            Timestamp::parse_rfc3339(NOW).unwrap().unix_micros() + offset_micros,
        )
    }

    fn key(
        login_type: LoginType,
        lifetime_seconds: i64,
        last_used: Timestamp,
        expires_at: Timestamp,
    ) -> ApiKey {
        let mut key = ApiKey::new(
            KeyId::parse("0123456789").unwrap(),
            [0; 32],
            "u",
            login_type,
            at(-HOUR_MICROS * 48),
            expires_at,
        );
        key.last_used = last_used;
        key.lifetime_seconds = lifetime_seconds;
        key.ip_address = remote_ip("9.9.9.9");
        key
    }

    fn decide(k: &ApiKey) -> Option<KeyUpdate> {
        refresh(k, at(0), &Settings::default(), "1.1.1.1")
    }

    #[test]
    fn an_update_is_never_written_into_another_keys_record() {
        let stale = key(
            LoginType::Password,
            86_400,
            at(-2 * HOUR_MICROS),
            at(HOUR_MICROS),
        );
        let update = decide(&stale).expect("a stale key refreshes");
        let mut other = stale.clone();
        other.id = crate::KeyId::parse("OtherKey01").unwrap();
        let before = other.clone();
        assert!(!other.apply(&update, at(0)));
        assert_eq!(other, before);
        let mut same = stale.clone();
        assert!(same.apply(&update, at(0)));
    }

    #[test]
    fn last_used_moves_only_when_strictly_older_than_an_hour() {
        let day = 24 * HOUR_MICROS;
        // §9.80: 2x interval, 1/2 interval, just under, exactly, and one microsecond past.
        for (age, writes) in [
            (2 * HOUR_MICROS, true),
            (HOUR_MICROS / 2, false),
            (HOUR_MICROS - 1, false),
            (HOUR_MICROS, false),
            (HOUR_MICROS + 1, true),
        ] {
            let k = key(LoginType::Token, 86_400, at(-age), at(day));
            let update = decide(&k);
            assert_eq!(update.is_some(), writes, "age {age}");
            if let Some(u) = update {
                assert_eq!(
                    (u.last_used, u.expires_at, u.ip_address.to_string()),
                    (at(0), at(day), "1.1.1.1".into())
                );
            }
        }
    }

    #[test]
    fn session_slides_at_exactly_lifetime_minus_one_hour_remaining() {
        let threshold = 23 * HOUR_MICROS; // L - 1h for L = 24h
        let slid = decide(&key(LoginType::Password, 86_400, at(0), at(threshold))).unwrap();
        assert_eq!(slid.expires_at, at(24 * HOUR_MICROS));
        assert_eq!(
            (slid.last_used, slid.ip_address.to_string()),
            (at(0), "9.9.9.9".into()),
            "only expiry moved"
        );
        assert_eq!(
            decide(&key(LoginType::Password, 86_400, at(0), at(threshold + 1))),
            None
        );
    }

    #[test]
    fn token_keys_never_slide() {
        // §9.22 (PR #26376)
        assert_eq!(
            decide(&key(LoginType::Token, 86_400, at(0), at(60_000_000))),
            None
        );
    }

    #[test]
    fn every_other_login_type_slides() {
        for t in [
            LoginType::Password,
            LoginType::Github,
            LoginType::Oidc,
            LoginType::None,
            LoginType::OAuth2ProviderApp,
        ] {
            assert!(
                decide(&key(t, 86_400, at(0), at(60_000_000))).is_some(),
                "{t}"
            );
        }
    }

    #[test]
    fn disabled_refresh_still_moves_last_used() {
        // §9.23
        let settings = Settings {
            disable_session_expiry_refresh: true,
            ..Settings::default()
        };
        let k = key(
            LoginType::Password,
            86_400,
            at(-24 * HOUR_MICROS),
            at(60_000_000),
        );
        let u = refresh(&k, at(0), &settings, "1.1.1.1").unwrap();
        assert_eq!((u.last_used, u.expires_at), (at(0), at(60_000_000)));
    }

    #[test]
    fn short_and_non_positive_lifetimes_do_not_slide_early() {
        // L = 1h: threshold 0, slides only when expires_at == now.
        assert!(decide(&key(LoginType::Password, 3_600, at(0), at(0))).is_some());
        assert_eq!(decide(&key(LoginType::Password, 3_600, at(0), at(1))), None);
        assert_eq!(decide(&key(LoginType::Password, 3_599, at(0), at(0))), None);
        assert_eq!(decide(&key(LoginType::Password, 0, at(0), at(0))), None);
        assert_eq!(
            decide(&key(LoginType::Password, -5, at(0), at(-HOUR_MICROS * 9))),
            None
        );
    }

    #[test]
    fn a_slide_that_saturates_to_the_same_instant_writes_nothing() {
        // Found by the `verify` fuzz target: now + L clamps to Timestamp::MAX = expires_at.
        let k = key(LoginType::None, i64::MAX, Timestamp::MAX, Timestamp::MAX);
        assert_eq!(refresh(&k, Timestamp::MAX, &Settings::default(), ""), None);
    }

    #[test]
    fn extreme_values_saturate_without_panicking() {
        let k = key(
            LoginType::Password,
            i64::MAX,
            Timestamp::MIN,
            Timestamp::MIN,
        );
        let u = decide(&k).unwrap();
        assert_eq!(u.expires_at, Timestamp::MAX);
        let k = key(
            LoginType::Password,
            i64::MIN,
            Timestamp::MAX,
            Timestamp::MAX,
        );
        assert_eq!(decide(&k), None);
    }
}
