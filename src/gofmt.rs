//! Go's `%q` string quoting, for the messages Coder formats with it (spec §4.1, §4.2, §6).

mod unprintable;

use std::cmp::Ordering;
use std::fmt::Write;

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

#[cfg(test)]
mod tests {
    use super::quote;

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
}
