//! `Timestamp`: a UTC instant in whole microseconds, the precision Coder stores (compatibility §3), and
//! the clocks that produce "now".

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::Duration;
use crate::gofmt;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A UTC instant, microseconds since the Unix epoch.
///
/// Coder rounds "now" to the microsecond to match Postgres (compatibility §3); every time tokenward
/// stores or compares is a `Timestamp`. Arithmetic saturates at [`Timestamp::MIN`] and
/// [`Timestamp::MAX`] (the range chrono can print), so an absurd record never panics.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A text that is not an RFC 3339 timestamp, or a time tokenward cannot represent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not RFC 3339.
    #[error("invalid timestamp {text:?}: expected RFC 3339, e.g. 2026-01-02T15:04:05.123456Z")]
    Syntax {
        /// The rejected text.
        text: String,
    },
    /// Outside [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    #[error("timestamp {micros} µs from the Unix epoch is outside the range tokenward represents")]
    OutOfRange {
        /// The rejected microseconds since the epoch.
        micros: i64,
    },
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z: the `last_used` of a key that was never used (compatibility §3).
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);
    /// 0001-01-01T00:00:00Z, Go's zero `time.Time`: "no time" in Coder's columns (an OAuth
    /// link without an expiry, the `last_used` of older keys).
    pub const GO_ZERO: Timestamp = Timestamp(-62_135_596_800_000_000);
    /// The earliest instant tokenward represents (chrono's minimum, about 262 000 BC).
    pub const MIN: Timestamp = Timestamp(-8_334_601_228_800_000_000);
    /// The latest instant tokenward represents (chrono's maximum, about 262 000 AD).
    pub const MAX: Timestamp = Timestamp(8_210_266_876_799_999_999);

    /// The instant `micros` microseconds after the epoch, clamped to [`MIN`](Self::MIN)..=[`MAX`](Self::MAX).
    pub const fn from_unix_micros(micros: i64) -> Timestamp {
        if micros < Self::MIN.0 {
            Self::MIN
        } else if micros > Self::MAX.0 {
            Self::MAX
        } else {
            Timestamp(micros)
        }
    }

    /// The instant `micros` microseconds after the epoch, or an error outside
    /// [`MIN`](Self::MIN)..=[`MAX`](Self::MAX) (for values from outside: a C caller, a row).
    pub const fn try_from_unix_micros(micros: i64) -> Result<Timestamp, TimestampError> {
        if micros < Self::MIN.0 || micros > Self::MAX.0 {
            Err(TimestampError::OutOfRange { micros })
        } else {
            Ok(Timestamp(micros))
        }
    }

    /// Microseconds since the epoch (negative before 1970).
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The system time, rounded to the nearest microsecond as Coder's `dbtime.Now()` does.
    pub fn now() -> Timestamp {
        Self::from_system_time(SystemTime::now())
    }

    /// A `SystemTime`, rounded to the nearest microsecond.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            // The usual case, in 64-bit arithmetic: whole seconds are whole microseconds, so
            // only the sub-second nanoseconds round (the 128-bit division below costs more
            // than the rest of `now`).
            Ok(after) => i64::try_from(after.as_secs())
                .ok()
                .and_then(|secs| secs.checked_mul(1_000_000))
                .and_then(|micros| {
                    micros.checked_add(i64::from((after.subsec_nanos() + 500) / 1000))
                })
                .map(Self::from_unix_micros)
                .unwrap_or_else(|| {
                    Self::from_nanos_rounded(i128::try_from(after.as_nanos()).unwrap_or(i128::MAX))
                }),
            Err(before) => {
                let nanos = i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX);
                Self::from_nanos_rounded(-nanos)
            }
        }
    }

    fn from_nanos_rounded(nanos: i128) -> Timestamp {
        // Round half away from zero, as Go's Time.Round does for Postgres precision.
        let micros = if nanos >= 0 {
            (nanos + 500) / 1000
        } else {
            (nanos - 500) / 1000
        };
        Self::from_unix_micros(micros.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// `self + d`, with `d` rounded to the microsecond; saturating.
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        Self::from_unix_micros(self.0.saturating_add(d.as_micros_rounded()))
    }

    /// `self - d`, with `d` rounded to the microsecond; saturating.
    pub fn saturating_sub(self, d: Duration) -> Timestamp {
        Self::from_unix_micros(self.0.saturating_sub(d.as_micros_rounded()))
    }

    /// `self + seconds` whole seconds; saturating.
    pub fn saturating_add_seconds(self, seconds: i64) -> Timestamp {
        Self::from_unix_micros(
            self.0
                .saturating_add(seconds.saturating_mul(MICROS_PER_SECOND)),
        )
    }

    /// Microseconds from `earlier` to `self` (negative when `earlier` is later), saturating.
    pub const fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The time from `earlier` to `self` as a Go duration, saturating at ±292 years.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.micros_since(earlier).saturating_mul(1000))
    }

    /// The same instant as a chrono `DateTime<Utc>`.
    pub fn to_datetime(self) -> DateTime<Utc> {
        // In range by construction (MIN..=MAX are chrono's bounds).
        DateTime::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// A chrono `DateTime`, rounded to the nearest microsecond.
    pub fn from_datetime(t: DateTime<Utc>) -> Timestamp {
        let nanos =
            i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
        Self::from_nanos_rounded(nanos)
    }

    /// Parses RFC 3339 (any offset; converted to UTC, rounded to the microsecond).
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampError> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Self::from_datetime(t.with_timezone(&Utc)))
            .map_err(|_| TimestampError::Syntax {
                text: text.to_owned(),
            })
    }

    /// RFC 3339 in UTC as Go's `RFC3339Nano` prints it: `2026-01-02T15:04:05.1234Z`
    /// (trailing zeros of the fraction dropped). This is the JSON form codersdk uses.
    pub fn to_rfc3339(self) -> String {
        let mut out = gofmt::date_and_time(self, 'T');
        out.push('Z');
        out
    }

    /// RFC 3339 in UTC with exactly six fraction digits: `2026-01-02T15:04:05.123400Z`. A
    /// fixed width for bindings, logs and sorting as text; [`to_rfc3339`](Self::to_rfc3339)
    /// is the form codersdk writes.
    pub fn to_rfc3339_micros(self) -> String {
        let t = self.to_datetime();
        let sign = if t.year() < 0 { "-" } else { "" };
        format!(
            "{sign}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year().unsigned_abs(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            self.0.rem_euclid(MICROS_PER_SECOND)
        )
    }

    /// Go's `Time.String()` of this instant in UTC: `2026-01-02 15:04:05.1234 +0000 UTC`.
    /// Coder prints `expires_at` this way in the "API key expired" detail (fine points).
    pub fn go_string(self) -> String {
        let mut out = gofmt::date_and_time(self, ' ');
        out.push_str(" +0000 UTC");
        out
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Where [`crate::Authority`]-style callers read "now"; pure functions take `now` explicitly.
pub trait Clock: Send + Sync {
    /// The current instant, rounded to the microsecond.
    fn now(&self) -> Timestamp;
}

/// A fixed instant is a clock that always reads it: for tests, and for a host that decided
/// "now" itself.
impl Clock for Timestamp {
    fn now(&self) -> Timestamp {
        *self
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(start.unix_micros()))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.unix_micros(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `d` (backward when `d` is negative).
    pub fn advance(&self, d: Duration) {
        let now = Timestamp::from_unix_micros(self.0.load(Ordering::SeqCst));
        self.set(now.saturating_add(d));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_is_the_first_instant_of_year_one() {
        assert_eq!(
            Timestamp::parse_rfc3339("0001-01-01T00:00:00Z").unwrap(),
            Timestamp::GO_ZERO
        );
    }

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn system_times_round_to_the_microsecond_as_the_nanosecond_arithmetic_does() {
        let epoch = SystemTime::UNIX_EPOCH;
        for secs in [
            0,
            1,
            1_767_225_600,
            8_210_266_876_799,
            9_223_372_036_854,
            u64::MAX / 2,
        ] {
            for nanos in [
                0,
                1,
                499,
                500,
                501,
                123_456_789,
                999_999_499,
                999_999_500,
                999_999_999,
            ] {
                let after = std::time::Duration::new(secs, nanos);
                let Some(t) = epoch.checked_add(after) else {
                    continue;
                };
                let reference = Timestamp::from_nanos_rounded(
                    i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
                );
                assert_eq!(
                    Timestamp::from_system_time(t),
                    reference,
                    "{secs} s {nanos} ns"
                );
            }
        }
    }

    #[test]
    fn rfc3339_prints_like_go_rfc3339nano() {
        assert_eq!(
            ts("2026-01-02T15:04:05Z").to_rfc3339(),
            "2026-01-02T15:04:05Z"
        );
        assert_eq!(
            ts("2026-01-02T15:04:05.120Z").to_rfc3339(),
            "2026-01-02T15:04:05.12Z"
        );
        assert_eq!(
            ts("2026-01-02T15:04:05.000001Z").to_rfc3339(),
            "2026-01-02T15:04:05.000001Z"
        );
        assert_eq!(Timestamp::UNIX_EPOCH.to_rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn parse_converts_offsets_to_utc_and_rounds_to_the_microsecond() {
        assert_eq!(ts("2026-01-02T17:04:05+02:00"), ts("2026-01-02T15:04:05Z"));
        assert_eq!(
            ts("2026-01-02T15:04:05.0000005Z"),
            ts("2026-01-02T15:04:05.000001Z")
        );
        assert_eq!(
            ts("2026-01-02T15:04:05.0000004Z"),
            ts("2026-01-02T15:04:05Z")
        );
        assert!(Timestamp::parse_rfc3339("2026-01-02 15:04:05").is_err());
        assert!(Timestamp::parse_rfc3339("").is_err());
    }

    #[test]
    fn go_string_drops_trailing_fraction_zeros() {
        assert_eq!(
            ts("2026-01-02T15:04:05.1234Z").go_string(),
            "2026-01-02 15:04:05.1234 +0000 UTC"
        );
        assert_eq!(
            ts("2026-01-02T15:04:05.123456Z").go_string(),
            "2026-01-02 15:04:05.123456 +0000 UTC"
        );
        assert_eq!(
            ts("2026-01-02T15:04:05Z").go_string(),
            "2026-01-02 15:04:05 +0000 UTC"
        );
        assert_eq!(
            ts("1969-12-31T23:59:59.5Z").go_string(),
            "1969-12-31 23:59:59.5 +0000 UTC"
        );
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        assert_eq!(Timestamp::MAX.saturating_add(Duration::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::MIN.saturating_sub(Duration::MAX), Timestamp::MIN);
        assert_eq!(Timestamp::from_unix_micros(i64::MAX), Timestamp::MAX);
        assert_eq!(
            Timestamp::MAX.saturating_add_seconds(i64::MAX),
            Timestamp::MAX
        );
        assert_eq!(Timestamp::MIN.micros_since(Timestamp::MAX), i64::MIN);
        // The bounds print; nothing in range fails to format.
        assert!(Timestamp::MAX.to_rfc3339().starts_with("262142"));
        assert!(Timestamp::MIN.go_string().starts_with('-'));
    }

    #[test]
    fn adding_a_duration_rounds_nanoseconds_to_the_nearest_microsecond() {
        let t = Timestamp::from_unix_micros(0);
        assert_eq!(
            t.saturating_add(Duration::from_nanos(1_499)).unix_micros(),
            1
        );
        assert_eq!(
            t.saturating_add(Duration::from_nanos(1_500)).unix_micros(),
            2
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(ts("2026-01-01T00:00:00Z"));
        assert_eq!(clock.now(), ts("2026-01-01T00:00:00Z"));
        clock.advance(Duration::HOUR);
        assert_eq!(clock.now(), ts("2026-01-01T01:00:00Z"));
    }

    #[test]
    fn system_now_is_whole_microseconds_near_the_system_time() {
        let before = SystemTime::now();
        let now = Timestamp::now();
        let drift = now.micros_since(Timestamp::from_system_time(before));
        assert!((0..60_000_000).contains(&drift), "drift {drift}µs");
    }

    #[test]
    fn try_from_unix_micros_refuses_what_it_cannot_represent() {
        assert_eq!(
            Timestamp::try_from_unix_micros(1_767_225_600_000_000).map(Timestamp::to_rfc3339),
            Ok("2026-01-01T00:00:00Z".to_owned())
        );
        assert_eq!(
            Timestamp::try_from_unix_micros(Timestamp::MAX.unix_micros()),
            Ok(Timestamp::MAX)
        );
        for out in [i64::MAX, i64::MIN, Timestamp::MIN.unix_micros() - 1] {
            assert_eq!(
                Timestamp::try_from_unix_micros(out),
                Err(TimestampError::OutOfRange { micros: out })
            );
        }
    }

    #[test]
    fn rfc3339_micros_has_six_fraction_digits_always() {
        let t = |s| Timestamp::parse_rfc3339(s).unwrap().to_rfc3339_micros();
        assert_eq!(t("2026-01-02T15:04:05Z"), "2026-01-02T15:04:05.000000Z");
        assert_eq!(
            t("2026-01-02T15:04:05.1234Z"),
            "2026-01-02T15:04:05.123400Z"
        );
        assert_eq!(
            t("1969-12-31T23:59:59.999999Z"),
            "1969-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            t("2026-01-02T17:04:05.000001+02:00"),
            "2026-01-02T15:04:05.000001Z"
        );
    }
}
