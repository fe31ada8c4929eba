//! Go's formatting, wherever Coder's answers depend on it: `%q` quoting (compatibility §4.1, §4.2, §6),
//! `time.quote` in duration errors, `Duration.String()`, `Time.String()` and RFC 3339, and
//! `encoding/json` and `url.QueryEscape` output.

mod unprintable;

use std::cmp::Ordering;
use std::fmt::Write;

use chrono::{Datelike, Timelike};

use crate::time::Timestamp;

use unprintable::UNPRINTABLE;

/// `s` quoted as Go's `strconv.Quote` (and so `fmt`'s `%q`) writes it: a code point Go's
/// `unicode.IsPrint` accepts stays as it is, any other is escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`, by the Unicode tables of the Go release in `unprintable.rs`.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    UNPRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < u {
                Ordering::Less
            } else if lo > u {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_err()
}

/// Go's `Duration.String()` of `nanos`: `1.5µs`, `2.2ms`, `4m5.001s`, `168h0m0s`; never `d` or `y`.
pub(crate) fn duration(nanos: i64) -> String {
    const SECOND: u64 = 1_000_000_000;
    let magnitude = nanos.unsigned_abs();
    let mut out = String::with_capacity(32);
    if nanos < 0 {
        out.push('-');
    }
    if magnitude < SECOND {
        // Below a second Go switches to the largest unit that keeps an integer part.
        let (unit, precision) = match magnitude {
            0 => return "0s".to_owned(),
            1..1_000 => ("ns", 0),
            1_000..1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        let divisor = 10_u64.pow(precision);
        out.push_str(&(magnitude / divisor).to_string());
        push_fraction(&mut out, magnitude % divisor, precision);
        out.push_str(unit);
    } else {
        let seconds = magnitude / SECOND;
        let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
        // Go stops at hours because days can have different lengths.
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        if seconds >= 60 {
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&(seconds % 60).to_string());
        push_fraction(&mut out, magnitude % SECOND, 9);
        out.push('s');
    }
    out
}

/// Appends `.digits` for `fraction / 10^precision` without trailing zeros, nothing for zero.
fn push_fraction(out: &mut String, mut fraction: u64, mut precision: u32) {
    if fraction == 0 {
        return;
    }
    while fraction % 10 == 0 {
        fraction /= 10;
        precision -= 1;
    }
    out.push_str(&format!(".{fraction:0width$}", width = precision as usize));
}

/// Go's `time.quote`, used in duration errors: double quotes, a backslash before `"` and `\`,
/// and every byte of a control or non-ASCII character as `\xNN` (DEL stays as it is).
///
/// Go applies this to bytes; a `&str` is always valid UTF-8, so this is exact for every input.
pub(crate) fn quote_time(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0_u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `YYYY-MM-DD<sep>hh:mm:ss[.fraction]`, the fraction without trailing zeros, as Go prints.
pub(crate) fn date_and_time(at: Timestamp, separator: char) -> String {
    let t = at.to_datetime();
    let sign = if t.year() < 0 { "-" } else { "" };
    let mut out = format!(
        "{sign}{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
        t.year().unsigned_abs(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let micros = at.unix_micros().rem_euclid(1_000_000);
    if micros != 0 {
        out.push('.');
        out.push_str(format!("{micros:06}").trim_end_matches('0'));
    }
    out
}

/// codersdk's `Response` as Go's `json.Encoder` writes it: `message`, then `detail` and
/// `validations` when not empty, HTML-escaped, with a trailing newline.
pub(crate) fn json_body(message: &str, detail: &str, validations: &[(&str, &str)]) -> String {
    let mut body = String::from("{\"message\":");
    push_json_string(&mut body, message);
    if !detail.is_empty() {
        body.push_str(",\"detail\":");
        push_json_string(&mut body, detail);
    }
    if !validations.is_empty() {
        body.push_str(",\"validations\":[");
        for (i, (field, detail)) in validations.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str("{\"field\":");
            push_json_string(&mut body, field);
            body.push_str(",\"detail\":");
            push_json_string(&mut body, detail);
            body.push('}');
        }
        body.push(']');
    }
    body.push_str("}\n");
    body
}

/// A JSON string as Go's encoding/json writes it with HTML escaping (Go >= 1.22 for \b, \f).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `url.QueryEscape`: unreserved bytes as they are, space as `+`, the rest `%XX`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{json_body, quote};

    #[test]
    fn quotes_plain_text_in_double_quotes() {
        assert_eq!(quote("workspace:fly"), "\"workspace:fly\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters_as_go_does() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\n\t\r\x07\x08\x0b\x0c"), r#""\n\t\r\a\b\v\f""#);
        assert_eq!(quote("\0\x1b\x7f"), r#""\x00\x1b\x7f""#);
    }

    #[test]
    fn keeps_printable_unicode_and_escapes_invisible_characters() {
        assert_eq!(quote("héllo 世界"), "\"héllo 世界\"");
        assert_eq!(quote("\u{a0}\u{200b}\u{feff}"), r#""\u00a0\u200b\ufeff""#);
        assert_eq!(quote("\u{85}"), r#""\u0085""#);
        assert_eq!(quote("\u{10ffff}"), r#""\U0010ffff""#);
    }

    #[test]
    fn escapes_unassigned_and_format_code_points_as_go_does() {
        assert_eq!(
            quote("\u{378}\u{d7ff}\u{fdd0}\u{fffe}\u{890}"),
            r#""\u0378\ud7ff\ufdd0\ufffe\u0890""#
        );
        assert_eq!(
            quote("\u{110bd}\u{1d173}\u{13430}\u{e0001}"),
            r#""\U000110bd\U0001d173\U00013430\U000e0001""#
        );
        assert_eq!(
            quote("\u{ad}\u{e000} 😀 e\u{301}"),
            "\"\\u00ad\\ue000 😀 e\u{301}\""
        );
    }

    #[test]
    fn json_escapes_html_and_control_characters_like_go() {
        assert_eq!(
            json_body("a<b>&c", "x\u{1}\u{2028}\t\u{8}", &[]),
            "{\"message\":\"a\\u003cb\\u003e\\u0026c\",\"detail\":\"x\\u0001\\u2028\\t\\b\"}\n"
        );
        assert_eq!(json_body("m", "", &[]), "{\"message\":\"m\"}\n");
    }
}
