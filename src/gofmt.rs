//! Go's `%q` string quoting, for the messages Coder formats with it (spec §4.1, §4.2, §6).

use std::fmt::Write;

/// `s` quoted as Go's `strconv.Quote` (and so `fmt`'s `%q`) writes it.
///
/// Printability follows Go's `unicode.IsPrint` for everything but unassigned code points,
/// which Rust cannot tell apart without Unicode tables; those are printed as they are.
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

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    // Cc, Zs/Zl/Zp (other than ' '), the common Cf format characters, private use, and the
    // noncharacters U+FFFE/U+FFFF of every plane.
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E)
        || matches!(u, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF)
        || matches!(u, 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
        || matches!(u, 0xE0001 | 0xE0020..=0xE007F)
        || u & 0xFFFE == 0xFFFE)
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
}
