//! Go's `time.Duration`: parse, print and serde.
//!
//! Coder configures its API keys with Go duration strings (`24h`, `168h`, `7d`) and prints
//! durations the way Go does (`168h0m0s`), also inside error messages (`lifetime must be less
//! than 168h0m0s`). [`Duration::parse`] is Go's `time.ParseDuration` plus Coder's `d` and `y`
//! units (compatibility §4.8); `Duration`'s `Display` is Go's `Duration.String`.

use std::fmt;
use std::num::TryFromIntError;
use std::str::FromStr;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

use crate::gofmt;

const NANOS_PER_MICRO: i64 = 1_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_MIN: i64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MIN;
const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;
const NANOS_PER_YEAR: i64 = 8760 * NANOS_PER_HOUR;

/// A span of time as Go's `time.Duration`: signed nanoseconds in an `i64` (about ±292 years).
///
/// It parses and prints exactly as Go does, so values taken from Coder's configuration, and the
/// messages that quote them, match Coder byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(i64);

impl Duration {
    /// No time at all; Go prints it as `0s`.
    pub const ZERO: Duration = Duration(0);
    /// One nanosecond, the resolution of a Go duration.
    pub const NANOSECOND: Duration = Duration(1);
    /// One microsecond, the resolution of Coder's stored timestamps.
    pub const MICROSECOND: Duration = Duration(NANOS_PER_MICRO);
    /// One millisecond.
    pub const MILLISECOND: Duration = Duration(NANOS_PER_MILLI);
    /// One second.
    pub const SECOND: Duration = Duration(NANOS_PER_SEC);
    /// One minute.
    pub const MINUTE: Duration = Duration(NANOS_PER_MIN);
    /// One hour, the largest unit Go prints.
    pub const HOUR: Duration = Duration(NANOS_PER_HOUR);
    /// Coder's `d` unit: always 24 hours (compatibility §4.8).
    pub const DAY: Duration = Duration(NANOS_PER_DAY);
    /// Coder's `y` unit: always 8760 hours, 365 days with no leap day (compatibility §4.8).
    pub const YEAR: Duration = Duration(NANOS_PER_YEAR);
    /// The longest duration, `2562047h47m16.854775807s`.
    pub const MAX: Duration = Duration(i64::MAX);
    /// The most negative duration, `-2562047h47m16.854775808s`.
    pub const MIN: Duration = Duration(i64::MIN);

    /// The duration of `nanos` nanoseconds (Go's `time.Duration(nanos)`).
    pub const fn from_nanos(nanos: i64) -> Duration {
        Duration(nanos)
    }

    /// The number of nanoseconds (Go's `int64(d)`).
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// The duration of `micros` microseconds, or `None` when it does not fit in a Go duration.
    pub const fn from_micros(micros: i64) -> Option<Duration> {
        match micros.checked_mul(NANOS_PER_MICRO) {
            Some(nanos) => Some(Duration(nanos)),
            None => None,
        }
    }

    /// The number of whole microseconds, truncated toward zero (Go's `d.Microseconds()`).
    pub const fn as_micros(self) -> i64 {
        self.0 / NANOS_PER_MICRO
    }

    /// The duration of `secs` seconds, or `None` when it does not fit in a Go duration.
    pub const fn from_secs(secs: i64) -> Option<Duration> {
        match secs.checked_mul(NANOS_PER_SEC) {
            Some(nanos) => Some(Duration(nanos)),
            None => None,
        }
    }

    /// The duration of `hours` hours, or `None` when it does not fit in a Go duration.
    pub const fn from_hours(hours: i64) -> Option<Duration> {
        match hours.checked_mul(NANOS_PER_HOUR) {
            Some(nanos) => Some(Duration(nanos)),
            None => None,
        }
    }

    /// Whole seconds as Coder computes `lifetime_seconds`: Go's `int64(d.Seconds())` (compatibility §4.1).
    ///
    /// This truncates toward zero, but through a float64 exactly as Go does, so a duration of
    /// more than about 104 days whose fraction is within a nanosecond or so of the next second
    /// rounds up to it (`4800h59m59.999999999s` gives 17283600, as in Go).
    pub fn whole_seconds(self) -> i64 {
        let secs = self.0 / NANOS_PER_SEC;
        let nanos = self.0 % NANOS_PER_SEC;
        let seconds = secs as f64 + nanos as f64 / 1e9;
        seconds as i64
    }

    /// The number of whole microseconds, rounded to the nearest with halves away from zero
    /// (Go's `d.Round(time.Microsecond)`), for adding to Coder's microsecond timestamps.
    pub fn as_micros_rounded(self) -> i64 {
        let micros = self.0 / NANOS_PER_MICRO;
        let rest = self.0 % NANOS_PER_MICRO;
        if rest >= NANOS_PER_MICRO / 2 {
            micros + 1
        } else if rest <= -NANOS_PER_MICRO / 2 {
            micros - 1
        } else {
            micros
        }
    }

    /// Whether the duration is longer than zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whether the duration is shorter than zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The same span as a `std::time::Duration`, or `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Parses a Go duration string: Go's `time.ParseDuration` plus Coder's `d` (24h) and `y`
    /// (8760h) units (compatibility §4.8), with Go's error messages.
    ///
    /// The grammar is `[-+]?([0-9]*(\.[0-9]*)?unit)+` or a bare `0`, with units `ns`, `us`,
    /// `µs` (U+00B5), `μs` (U+03BC), `ms`, `s`, `m`, `h`, `d`, `y`. Fraction digits beyond what
    /// fits in 63 bits are ignored and fractions are scaled through a float64, both as in Go.
    /// A total outside Go's range is an error; `-9223372036854775808ns` is the one value whose
    /// magnitude is 2^63. Unlike Go, whose sum wraps when two components of exactly 2^63 ns
    /// meet (`9223372036854775808ns9223372036854775808ns` parses as `0s` there), such input is
    /// rejected: any value outside the range is an error (compatibility, fine points).
    pub fn parse(s: &str) -> Result<Duration, DurationError> {
        const LIMIT: u64 = 1 << 63;
        let invalid = || DurationError::Invalid {
            input: s.to_owned(),
        };

        let mut rest = s.as_bytes();
        let mut negative = false;
        if let Some((&sign @ (b'-' | b'+'), tail)) = rest.split_first() {
            negative = sign == b'-';
            rest = tail;
        }
        // Go's special case: a bare "0" (signed or not) needs no unit.
        if rest == b"0" {
            return Ok(Duration::ZERO);
        }
        if rest.is_empty() {
            return Err(invalid());
        }

        let mut total: u64 = 0;
        while let Some(&first) = rest.first() {
            if !(first == b'.' || first.is_ascii_digit()) {
                return Err(invalid());
            }
            let (whole, tail) = leading_int(rest).ok_or_else(invalid)?;
            let has_whole = tail.len() != rest.len();
            rest = tail;

            let (mut fraction, mut scale, mut has_fraction) = (0_u64, 1.0_f64, false);
            if let Some((b'.', tail)) = rest.split_first() {
                let (digits, digits_scale, after) = leading_fraction(tail);
                has_fraction = after.len() != tail.len();
                fraction = digits;
                scale = digits_scale;
                rest = after;
            }
            if !has_whole && !has_fraction {
                return Err(invalid());
            }

            // The unit runs up to the next digit or dot: both ASCII, so it ends on a char boundary.
            let unit_len = rest
                .iter()
                .position(|&c| c == b'.' || c.is_ascii_digit())
                .unwrap_or(rest.len());
            if unit_len == 0 {
                return Err(DurationError::MissingUnit {
                    input: s.to_owned(),
                });
            }
            let (unit_bytes, after) = rest.split_at_checked(unit_len).ok_or_else(invalid)?;
            rest = after;
            let unit = unit_nanos(unit_bytes).ok_or_else(|| DurationError::UnknownUnit {
                unit: String::from_utf8_lossy(unit_bytes).into_owned(),
                input: s.to_owned(),
            })?;

            if whole > LIMIT / unit {
                return Err(invalid());
            }
            let mut value = whole * unit;
            if fraction > 0 {
                // As Go: a float64 keeps fractions of the largest units nanosecond-accurate.
                let fraction_nanos = (fraction as f64 * (unit as f64 / scale)) as u64;
                value = value.saturating_add(fraction_nanos);
                if value > LIMIT {
                    return Err(invalid());
                }
            }
            total = total.checked_add(value).ok_or_else(invalid)?;
            if total > LIMIT {
                return Err(invalid());
            }
        }

        if negative {
            // total <= 2^63, so this is exact, and 2^63 becomes i64::MIN.
            Ok(Duration(0_i64.wrapping_sub_unsigned(total)))
        } else {
            i64::try_from(total).map(Duration).map_err(|_| invalid())
        }
    }
}

/// Nanoseconds per unit, as Go's `unitMap` plus Coder's `d` and `y` (compatibility §4.8).
fn unit_nanos(unit: &[u8]) -> Option<u64> {
    let nanos = match unit {
        b"ns" => 1,
        b"us" => NANOS_PER_MICRO,
        // U+00B5 micro sign and U+03BC Greek small letter mu, as Go accepts both.
        [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => NANOS_PER_MICRO,
        b"ms" => NANOS_PER_MILLI,
        b"s" => NANOS_PER_SEC,
        b"m" => NANOS_PER_MIN,
        b"h" => NANOS_PER_HOUR,
        b"d" => NANOS_PER_DAY,
        b"y" => NANOS_PER_YEAR,
        _ => return None,
    };
    u64::try_from(nanos).ok()
}

/// Go's `leadingInt`: the leading decimal digits, or `None` when they exceed 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    const LIMIT: u64 = 1 << 63;
    let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (digits, rest) = s.split_at_checked(len)?;
    let mut x: u64 = 0;
    for &c in digits {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, rest))
}

/// Go's `leadingFraction`: the leading decimal digits as `x / scale`, ignoring the digits that
/// would overflow instead of failing.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    const LIMIT: u64 = 1 << 63;
    let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (digits, rest) = s.split_at_checked(len).unwrap_or((s, &[]));
    let mut x: u64 = 0;
    let mut scale = 1.0_f64;
    for &c in digits {
        if x > (LIMIT - 1) / 10 {
            break;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            break;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, rest)
}

impl fmt::Display for Duration {
    /// Go's `Duration.String()`: `1.5µs`, `2.2ms`, `4m5.001s`, `168h0m0s`; never `d` or `y`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&gofmt::duration(self.0))
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    /// Same as [`Duration::parse`].
    fn from_str(s: &str) -> Result<Duration, DurationError> {
        Duration::parse(s)
    }
}

impl TryFrom<std::time::Duration> for Duration {
    type Error = TryFromIntError;

    /// Converts a non-negative `std` duration; fails beyond `Duration::MAX` (about 292 years).
    fn try_from(d: std::time::Duration) -> Result<Duration, TryFromIntError> {
        i64::try_from(d.as_nanos()).map(Duration)
    }
}

impl Serialize for Duration {
    /// Writes the Go string (`168h0m0s`), readable by people and by [`Duration::parse`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    /// Reads a Go duration string or an integer number of nanoseconds, Coder's JSON form of a
    /// `time.Duration` (compatibility §4.2); a float is refused, as Go's `json` refuses it.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Accepts the two serialized forms of a [`Duration`].
struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Go duration string such as \"168h\" or an integer number of nanoseconds")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Duration, E> {
        Duration::parse(value).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Duration, E> {
        Ok(Duration(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Duration, E> {
        i64::try_from(value)
            .map(Duration)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
    }
}

/// Why a duration string did not parse; `Display` is Go's `time.ParseDuration` message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Bad syntax, no digits, or a value outside Go's range: `time: invalid duration "<input>"`.
    #[error("time: invalid duration {}", gofmt::quote_time(.input))]
    Invalid {
        /// The whole string given to the parser.
        input: String,
    },
    /// A unit Go (plus Coder's `d` and `y`) does not know:
    /// `time: unknown unit "<unit>" in duration "<input>"`.
    #[error("time: unknown unit {} in duration {}", gofmt::quote_time(.unit), gofmt::quote_time(.input))]
    UnknownUnit {
        /// The unrecognized unit text, up to the next digit or dot.
        unit: String,
        /// The whole string given to the parser.
        input: String,
    },
    /// A number with no unit after it: `time: missing unit in duration "<input>"`.
    #[error("time: missing unit in duration {}", gofmt::quote_time(.input))]
    MissingUnit {
        /// The whole string given to the parser.
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i64 = 1;
    const US: i64 = NANOS_PER_MICRO;
    const MS: i64 = NANOS_PER_MILLI;
    const S: i64 = NANOS_PER_SEC;
    const M: i64 = NANOS_PER_MIN;
    const H: i64 = NANOS_PER_HOUR;

    fn parse_ok(input: &str) -> i64 {
        match Duration::parse(input) {
            Ok(d) => d.as_nanos(),
            Err(err) => panic!("{input:?} should parse, got {err}"),
        }
    }

    fn parse_err(input: &str) -> String {
        match Duration::parse(input) {
            Ok(d) => panic!("{input:?} should fail, got {d}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn durations_convert_to_and_from_microseconds() {
        assert_eq!(
            Duration::from_micros(1_500_000),
            Some(Duration::from_nanos(1_500_000_000))
        );
        assert_eq!(Duration::from_micros(i64::MAX), None);
        assert_eq!(Duration::from_nanos(1_999).as_micros(), 1);
        assert_eq!(Duration::from_nanos(-1_999).as_micros(), -1);
        assert_eq!(Duration::MAX.as_micros(), i64::MAX / 1000);
    }

    /// Go's whole parseDurationTests table is in `tests/vectors/duration.json`; these are the
    /// behaviours it pins.
    #[test]
    fn parse_accepts_signs_fractions_both_micro_signs_and_chained_units() {
        let cases: &[(&str, i64)] = &[
            ("+5s", 5 * S),
            ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
            (".5s", 500 * MS),
            ("5.s", 5 * S),
            ("12\u{b5}s", 12 * US),
            ("12\u{3bc}s", 12 * US),
            (
                "1h2m3s4ms5us6ns",
                H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS,
            ),
            ("0.3333333333333333333h", 20 * M),
            ("-9223372036854775808ns", i64::MIN),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_ok(input), want, "{input:?}");
        }
    }

    #[test]
    fn parse_accepts_zero_with_or_without_sign_and_unit() {
        for input in ["0", "+0", "-0", "0s", "-0s", "0.0s", "-0.0h", "0d", "0y"] {
            assert_eq!(parse_ok(input), 0, "{input:?}");
        }
    }

    #[test]
    fn parse_accepts_coder_day_and_year_units() {
        assert_eq!(parse_ok("1d"), 24 * H);
        assert_eq!(parse_ok("7d"), 168 * H);
        assert_eq!(parse_ok("1y"), 8760 * H);
        assert_eq!(parse_ok("-1d"), -24 * H);
        assert_eq!(parse_ok("1y1d"), 8784 * H);
        assert_eq!(Duration::DAY.as_nanos(), 24 * H);
        assert_eq!(Duration::YEAR.as_nanos(), 8760 * H);
    }

    #[test]
    fn parse_accepts_chained_units_with_days() {
        assert_eq!(parse_ok("1d12h30m"), 36 * H + 30 * M);
        assert_eq!(parse_ok("2d2d"), 96 * H);
        assert_eq!(parse_ok("1h1h"), 2 * H);
        // A unit may repeat and come in any order, as in Go.
        assert_eq!(parse_ok("30m1d"), 24 * H + 30 * M);
    }

    #[test]
    fn parse_scales_fractions_as_go_does() {
        assert_eq!(parse_ok("1.5h"), H + 30 * M);
        assert_eq!(parse_ok("-1.5h"), -(H + 30 * M));
        assert_eq!(parse_ok(".5s"), 500 * MS);
        assert_eq!(parse_ok("5.s"), 5 * S);
        assert_eq!(parse_ok("1.5d"), 36 * H);
        assert_eq!(parse_ok("0.5y"), 4380 * H);
        assert_eq!(parse_ok("0.1h"), 6 * M);
        // Fraction digits past 63 bits of precision are ignored, not an error.
        assert_eq!(parse_ok("1.0000000000000000000001s"), S);
        assert_eq!(parse_ok("1.00000000000000000001s"), S);
        // 18 nines (the rest ignored) then float64 scaling lands exactly on the hour.
        assert_eq!(parse_ok(".99999999999999999999h"), H);
        // Below a nanosecond truncates.
        assert_eq!(parse_ok("0.5ns"), 0);
        assert_eq!(parse_ok("1.5ns"), 1);
        assert_eq!(parse_ok("0.0000000001s"), 0);
        assert_eq!(parse_ok("1.9999999999s"), 1_999_999_999);
        // A dot starts a new component after a unit.
        assert_eq!(parse_ok("3s.5h"), 30 * M + 3 * S);
    }

    #[test]
    fn parse_accepts_the_largest_values_of_each_unit() {
        assert_eq!(parse_ok("9223372036854775807ns"), i64::MAX);
        assert_eq!(parse_ok("2562047h"), 2_562_047 * H);
        assert_eq!(parse_ok("106751d"), 106_751 * 24 * H);
        assert_eq!(parse_ok("292y"), 292 * 8760 * H);
        assert_eq!(parse_ok("2562047h47m16.854775807s"), i64::MAX);
        assert_eq!(parse_ok("9223372036.854775807s"), i64::MAX);
        assert_eq!(parse_ok("-106751d"), -106_751 * 24 * H);
    }

    #[test]
    fn parse_rejects_values_past_the_go_range() {
        for input in [
            "9223372036854775808ns",
            "9223372036854775810ns",
            "-9223372036854775809ns",
            "9223372036854776us",
            "2562048h",
            "3000000h",
            "106752d",
            "293y",
            "2562047h47m16.854775808s",
            "-2562047h47m16.854775809s",
            "9223372036.854775808s",
            "9223372036854775.808us",
            "9223372036854ms775us808ns",
            "292y1y",
            "18446744073709551616ns",
        ] {
            assert_eq!(
                parse_err(input),
                format!("time: invalid duration \"{input}\""),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_two_halves_of_two_to_the_64_that_go_wraps_to_zero() {
        let input = "9223372036854775808ns9223372036854775808ns";
        assert_eq!(
            parse_err(input),
            format!("time: invalid duration \"{input}\"")
        );
        let input = "-9223372036854775808ns9223372036854775808ns";
        assert_eq!(
            parse_err(input),
            format!("time: invalid duration \"{input}\"")
        );
    }

    #[test]
    fn parse_rejects_missing_number_with_invalid_duration() {
        for input in [
            "", "-", "+", "s", ".", "-.", ".s", "+.s", "-.s", "- 1s", "--1s", "+-1s", "h1", " 1s",
        ] {
            assert_eq!(
                parse_err(input),
                format!("time: invalid duration \"{input}\""),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_missing_unit() {
        for input in [
            "3", "1", "00", "-5", "1.5", "1h30", "1.s2", "1.1.1s", "1..s",
        ] {
            assert_eq!(
                parse_err(input),
                format!("time: missing unit in duration \"{input}\""),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_unknown_unit_naming_it() {
        assert_eq!(
            parse_err("1x"),
            "time: unknown unit \"x\" in duration \"1x\""
        );
        assert_eq!(
            parse_err("1e3s"),
            "time: unknown unit \"e\" in duration \"1e3s\""
        );
        assert_eq!(
            parse_err("1s "),
            "time: unknown unit \"s \" in duration \"1s \""
        );
        assert_eq!(
            parse_err("5 s"),
            "time: unknown unit \" s\" in duration \"5 s\""
        );
        assert_eq!(
            parse_err("1H"),
            "time: unknown unit \"H\" in duration \"1H\""
        );
        assert_eq!(
            parse_err("1w"),
            "time: unknown unit \"w\" in duration \"1w\""
        );
        assert_eq!(
            parse_err("1sec"),
            "time: unknown unit \"sec\" in duration \"1sec\""
        );
    }

    #[test]
    fn parse_error_quotes_as_go_time_quote() {
        // Control and non-ASCII characters become \x escapes of their UTF-8 bytes.
        assert_eq!(
            parse_err("1\0s"),
            r#"time: unknown unit "\x00s" in duration "1\x00s""#
        );
        assert_eq!(
            parse_err("1\ts"),
            r#"time: unknown unit "\x09s" in duration "1\x09s""#
        );
        assert_eq!(
            parse_err("1\u{e9}"),
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#
        );
        assert_eq!(
            parse_err("1\u{ff53}"),
            r#"time: unknown unit "\xef\xbd\x93" in duration "1\xef\xbd\x93""#
        );
        assert_eq!(
            parse_err("\u{fffd}"),
            r#"time: invalid duration "\xef\xbf\xbd""#
        );
        assert_eq!(
            parse_err("\u{fffd} hello \u{fffd} world"),
            r#"time: invalid duration "\xef\xbf\xbd hello \xef\xbf\xbd world""#
        );
        // Quote and backslash get a backslash; DEL is left as it is.
        assert_eq!(
            parse_err("1\"s"),
            r#"time: unknown unit "\"s" in duration "1\"s""#
        );
        assert_eq!(
            parse_err("1\\s"),
            r#"time: unknown unit "\\s" in duration "1\\s""#
        );
        assert_eq!(
            parse_err("1\u{7f}s"),
            "time: unknown unit \"\u{7f}s\" in duration \"1\u{7f}s\""
        );
        assert_eq!(
            parse_err("\u{1F600}"),
            r#"time: invalid duration "\xf0\x9f\x98\x80""#
        );
    }

    #[test]
    fn parse_errors_carry_the_input_and_unit() {
        assert_eq!(
            Duration::parse("2q"),
            Err(DurationError::UnknownUnit {
                unit: "q".to_owned(),
                input: "2q".to_owned()
            })
        );
        assert_eq!(
            Duration::parse("2"),
            Err(DurationError::MissingUnit {
                input: "2".to_owned()
            })
        );
        assert_eq!(
            Duration::parse("x"),
            Err(DurationError::Invalid {
                input: "x".to_owned()
            })
        );
    }

    #[test]
    fn parse_survives_huge_and_hostile_inputs() {
        let nines = format!(".{}s", "9".repeat(100_000));
        assert_eq!(parse_ok(&nines), S);
        let ones = format!("{}s", "1".repeat(100_000));
        assert_eq!(
            parse_err(&ones),
            format!("time: invalid duration \"{ones}\"")
        );
        let many = "1ns".repeat(50_000);
        assert_eq!(parse_ok(&many), 50_000);
        let zeros = format!("{}1s", "0".repeat(100_000));
        assert_eq!(parse_ok(&zeros), S);

        // A deterministic walk over strings built from the grammar's pieces and some noise.
        let pieces = [
            "0",
            "1",
            "9",
            "12",
            ".",
            "-",
            "+",
            "s",
            "m",
            "h",
            "d",
            "y",
            "ns",
            "us",
            "\u{b5}s",
            "\u{3bc}s",
            "ms",
            "\u{b5}",
            "\u{3bc}",
            "\0",
            " ",
            "\u{e9}",
            "x",
            "9223372036854775808",
            "99999999999999999999",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut input = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = state % 8;
            for i in 0..len {
                let pick = (state >> (i * 5 + 3)) as usize % pieces.len();
                input.push_str(pieces[pick]);
            }
            if let Ok(d) = Duration::parse(&input) {
                // Whatever parses prints as something that parses back to the same value.
                assert_eq!(Duration::parse(&d.to_string()), Ok(d), "{input:?}");
            }
        }
    }

    #[test]
    fn from_str_is_parse() {
        assert_eq!("1d".parse::<Duration>(), Ok(Duration::DAY));
        assert_eq!(
            "1z".parse::<Duration>().map_err(|e| e.to_string()),
            Err("time: unknown unit \"z\" in duration \"1z\"".to_owned())
        );
    }

    /// Go's durationTests table (time/time_test.go) plus the values Coder prints.
    #[test]
    fn display_prints_as_go_duration_string() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1100, "1.1\u{b5}s"),
            (2200 * US, "2.2ms"),
            (3300 * MS, "3.3s"),
            (4 * M + 5 * S, "4m5s"),
            (4 * M + 5001 * MS, "4m5.001s"),
            (5 * H + 6 * M + 7001 * MS, "5h6m7.001s"),
            (8 * M + 1, "8m0.000000001s"),
            (168 * H, "168h0m0s"),
            (876_600 * H, "876600h0m0s"),
            (24 * H, "24h0m0s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (999, "999ns"),
            (1000, "1\u{b5}s"),
            (1001, "1.001\u{b5}s"),
            (999_999, "999.999\u{b5}s"),
            (1_000_000, "1ms"),
            (1_000_001, "1.000001ms"),
            (999_999_999, "999.999999ms"),
            (S, "1s"),
            (59 * S, "59s"),
            (60 * S, "1m0s"),
            (H, "1h0m0s"),
            (-1, "-1ns"),
            (-1500, "-1.5\u{b5}s"),
            (-(H + 1), "-1h0m0.000000001s"),
        ];
        for &(nanos, want) in cases {
            assert_eq!(Duration::from_nanos(nanos).to_string(), want, "{nanos}");
            if nanos > 0 {
                assert_eq!(Duration::from_nanos(-nanos).to_string(), format!("-{want}"));
            }
        }
    }

    #[test]
    fn display_never_prints_days_or_years() {
        assert_eq!(
            Duration::parse("7d").map(|d| d.to_string()),
            Ok("168h0m0s".into())
        );
        assert_eq!(Duration::DAY.to_string(), "24h0m0s");
        assert_eq!(Duration::YEAR.to_string(), "8760h0m0s");
        assert_eq!(
            Duration::parse("1y1d12h").map(|d| d.to_string()),
            Ok("8796h0m0s".into())
        );
    }

    #[test]
    fn display_honours_width_and_alignment() {
        assert_eq!(format!("{:>8}", Duration::SECOND), "      1s");
        assert_eq!(format!("{:<6}|", Duration::MINUTE), "1m0s  |");
    }

    #[test]
    fn parse_of_display_round_trips_over_the_whole_range() {
        let mut values = vec![
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            i64::MAX - 1,
            -1,
            0,
            1,
            999,
            1000,
            999_999,
            1_000_000,
            S - 1,
            S,
            M - 1,
            H,
            -H,
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for i in 0..100_000_u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Spread the magnitudes over every bit length, both signs.
            values.push((state as i64) >> (i % 64));
        }
        for nanos in values {
            let d = Duration::from_nanos(nanos);
            assert_eq!(Duration::parse(&d.to_string()), Ok(d), "{nanos}");
        }
    }

    #[test]
    fn constants_have_go_values() {
        assert_eq!(Duration::ZERO.as_nanos(), 0);
        assert_eq!(Duration::NANOSECOND.as_nanos(), 1);
        assert_eq!(Duration::MICROSECOND.as_nanos(), 1_000);
        assert_eq!(Duration::MILLISECOND.as_nanos(), 1_000_000);
        assert_eq!(Duration::SECOND.as_nanos(), 1_000_000_000);
        assert_eq!(Duration::MINUTE.as_nanos(), 60_000_000_000);
        assert_eq!(Duration::HOUR.as_nanos(), 3_600_000_000_000);
        assert_eq!(Duration::DAY.as_nanos(), 86_400_000_000_000);
        assert_eq!(Duration::MAX.as_nanos(), i64::MAX);
        assert_eq!(Duration::MIN.as_nanos(), i64::MIN);
        assert_eq!(Duration::default(), Duration::ZERO);
    }

    #[test]
    fn from_secs_and_from_hours_return_none_on_overflow() {
        assert_eq!(Duration::from_secs(90), Some(Duration::from_nanos(90 * S)));
        assert_eq!(Duration::from_secs(-1), Some(Duration::from_nanos(-S)));
        assert!(Duration::from_secs(9_223_372_036).is_some());
        assert_eq!(Duration::from_secs(9_223_372_037), None);
        assert_eq!(Duration::from_secs(-9_223_372_037), None);
        assert_eq!(
            Duration::from_hours(168),
            Some(Duration::from_nanos(168 * H))
        );
        assert!(Duration::from_hours(2_562_047).is_some());
        assert_eq!(Duration::from_hours(2_562_048), None);
        const WEEK: Option<Duration> = Duration::from_hours(168);
        assert_eq!(WEEK.map(|d| d.to_string()), Some("168h0m0s".to_owned()));
    }

    #[test]
    fn whole_seconds_truncates_toward_zero() {
        assert_eq!(Duration::from_nanos(1_999_999_999).whole_seconds(), 1);
        assert_eq!(Duration::from_nanos(-1_999_999_999).whole_seconds(), -1);
        assert_eq!(Duration::from_nanos(999_999_999).whole_seconds(), 0);
        assert_eq!(Duration::from_nanos(12 * H).whole_seconds(), 43_200);
        assert_eq!(Duration::from_nanos(168 * H).whole_seconds(), 604_800);
        assert_eq!(Duration::MAX.whole_seconds(), 9_223_372_036);
        assert_eq!(Duration::MIN.whole_seconds(), -9_223_372_036);
    }

    #[test]
    fn whole_seconds_rounds_through_float64_as_go_does() {
        // float64(17283599) + 0.999999999: the spacing of doubles near 1.7e7 is 2^-28, about
        // 3.7e-9, so the sum rounds to 17283600 and int64() keeps it.
        assert_eq!(parse_ok("4800h59m59.999999999s"), 17_283_599_999_999_999);
        let d = Duration::from_nanos(17_283_599_999_999_999);
        assert_eq!(d.whole_seconds(), 17_283_600);
        // Near 2^33 the spacing is 2^-19: the same effect.
        assert_eq!(
            Duration::from_nanos(8_589_934_592_999_999_999).whole_seconds(),
            8_589_934_593
        );
        assert_eq!(
            Duration::from_nanos(-8_589_934_592_999_999_999).whole_seconds(),
            -8_589_934_593
        );
        // At 9e6 seconds the spacing (2^-29) is still fine enough to stay below.
        assert_eq!(
            Duration::from_nanos(9_000_000_999_999_999).whole_seconds(),
            9_000_000
        );
    }

    #[test]
    fn as_micros_rounded_rounds_halves_away_from_zero() {
        assert_eq!(Duration::from_nanos(1_499).as_micros_rounded(), 1);
        assert_eq!(Duration::from_nanos(1_500).as_micros_rounded(), 2);
        assert_eq!(Duration::from_nanos(-1_499).as_micros_rounded(), -1);
        assert_eq!(Duration::from_nanos(-1_500).as_micros_rounded(), -2);
        assert_eq!(Duration::from_nanos(499).as_micros_rounded(), 0);
        assert_eq!(Duration::from_nanos(-499).as_micros_rounded(), 0);
        assert_eq!(Duration::from_nanos(500).as_micros_rounded(), 1);
        assert_eq!(Duration::MAX.as_micros_rounded(), 9_223_372_036_854_776);
        assert_eq!(Duration::MIN.as_micros_rounded(), -9_223_372_036_854_776);
    }

    #[test]
    fn is_positive_and_is_negative_exclude_zero() {
        assert!(Duration::SECOND.is_positive());
        assert!(!Duration::SECOND.is_negative());
        assert!(!Duration::ZERO.is_positive());
        assert!(!Duration::ZERO.is_negative());
        assert!(Duration::from_nanos(-1).is_negative());
    }

    #[test]
    fn std_conversions_reject_negative_and_too_long() {
        assert_eq!(
            Duration::from_nanos(1_500_000_000).to_std(),
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(Duration::ZERO.to_std(), Some(std::time::Duration::ZERO));
        assert_eq!(Duration::from_nanos(-1).to_std(), None);
        assert_eq!(
            Duration::try_from(std::time::Duration::from_secs(3600)),
            Ok(Duration::HOUR)
        );
        assert_eq!(
            Duration::try_from(std::time::Duration::from_nanos(i64::MAX as u64)),
            Ok(Duration::MAX)
        );
        assert!(Duration::try_from(std::time::Duration::from_nanos(1 << 63)).is_err());
        assert!(Duration::try_from(std::time::Duration::MAX).is_err());
    }

    #[test]
    fn serde_writes_the_go_string() {
        assert_eq!(
            serde_json::to_string(&Duration::HOUR).ok(),
            Some("\"1h0m0s\"".to_owned())
        );
        assert_eq!(
            serde_json::to_string(&Duration::MIN).ok(),
            Some("\"-2562047h47m16.854775808s\"".to_owned())
        );
    }

    #[test]
    fn serde_reads_go_strings_and_integer_nanoseconds() {
        let read = |json: &str| serde_json::from_str::<Duration>(json).map_err(|e| e.to_string());
        assert_eq!(read("\"7d\""), Ok(Duration::from_nanos(168 * H)));
        assert_eq!(read("\"168h0m0s\""), Ok(Duration::from_nanos(168 * H)));
        assert_eq!(read("604800000000000"), Ok(Duration::from_nanos(168 * H)));
        assert_eq!(read("-1"), Ok(Duration::from_nanos(-1)));
        assert_eq!(read("0"), Ok(Duration::ZERO));
        assert_eq!(read("9223372036854775807"), Ok(Duration::MAX));
        assert_eq!(read("-9223372036854775808"), Ok(Duration::MIN));
    }

    #[test]
    fn serde_rejects_floats_out_of_range_and_bad_strings() {
        let read = |json: &str| serde_json::from_str::<Duration>(json).map_err(|e| e.to_string());
        assert!(read("9223372036854775808").is_err());
        assert!(read("1.5").is_err());
        assert!(read("1e9").is_err());
        assert!(read("true").is_err());
        let err = read("\"bogus\"").err().unwrap_or_default();
        assert!(err.starts_with("time: invalid duration \"bogus\""), "{err}");
    }
}
