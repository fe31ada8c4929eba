//! Where a request carries its API key: Coder's `APITokenFromRequest` (compatibility §5).
//!
//! The first source that yields a non-empty token wins:
//! 1. the cookie `coder_session_token`, as sent;
//! 2. the query parameter `coder_session_token`, as sent;
//! 3. the header `Coder-Session-Token`, as sent;
//! 4. `Authorization: Bearer <token>`, trimmed; an empty token here ends the search (compatibility §10);
//! 5. the query parameter `access_token`, trimmed;
//! 6. otherwise there is no token.
//!
//! Only the first cookie, query value or header of a name counts, even when it is empty; header
//! names compare ASCII case-insensitively, cookie names and query keys case-sensitively; trimming
//! removes Unicode `White_Space` (compatibility, fine points).
//!
//! Cookies and query strings are read the way Go's `net/http` and `net/url` read them, because that
//! is what Coder sees:
//! - `Cookie` headers (`Request.Cookie`): every `Cookie` header in order, each split on `;`; a part
//!   is trimmed of space, tab, CR and LF (`textproto.TrimString`), empty parts are skipped, and the
//!   name is cut at the first `=` and trimmed again (a part with no `=` is a cookie with an empty
//!   value). The name must be an RFC 7230 token. The value is not trimmed; one pair of enclosing
//!   double quotes is removed, and every remaining byte must be 0x20..=0x7E other than `"`, `;` and
//!   `\` (`validCookieValueByte`). Space and comma are accepted anywhere in a value, its ends
//!   included, quoted or not: Go's rule about spaces and commas at the ends only ever applied to
//!   writing cookies. A part that breaks a rule is skipped, so a later cookie of the same name can
//!   still be the first one. More than 3000 cookies in all (counted as `;` + 1 per header) means no
//!   cookies at all (Go's `httpcookiemaxnum` default, from Go 1.25.2).
//! - The query string (`URL.Query`): split on `&`; a pair holding a `;` is skipped (Go 1.17 on);
//!   key and value are cut at the first `=` and unescaped (`+` is a space, `%XX` a byte); a pair
//!   with a malformed escape is skipped. More than 10000 parameters (counted as `&` + 1) means no
//!   parameters at all (Go's `urlmaxqueryparams` default, from Go 1.25.6).
//! - Go keeps unescaped bytes that are not UTF-8 as they are; a Rust string cannot, so each invalid
//!   sequence becomes U+FFFD (`String::from_utf8_lossy`). The pair still counts, as in Go, so a
//!   first value of `%FF` is still a non-empty token that no key matches, and a later source does
//!   not win. Only its byte length differs from Go's, which can change the length quoted in a
//!   format rejection.
//!
//! Header values are taken as given: HTTP parsers (Go's included) strip the white space around a
//! field value before Coder sees it.

use std::borrow::Cow;

/// The cookie that carries a session token (`codersdk.SessionTokenCookie`).
pub const SESSION_TOKEN_COOKIE: &str = "coder_session_token";
/// The query parameter that carries a session token; Coder reuses the cookie's name.
pub const SESSION_TOKEN_QUERY: &str = "coder_session_token";
/// The header that carries a session token (`codersdk.SessionTokenHeader`).
pub const SESSION_TOKEN_HEADER: &str = "Coder-Session-Token";
/// The RFC 6750 query parameter, read after every other source.
pub const ACCESS_TOKEN_QUERY: &str = "access_token";

const COOKIE_HEADER: &str = "Cookie";
const AUTHORIZATION_HEADER: &str = "Authorization";
/// Coder lower-cases the whole value and looks for this prefix: the scheme and exactly one space.
const BEARER_PREFIX: &str = "bearer ";
/// Go's `defaultCookieMaxNum`: above this many cookies `Request.Cookie` finds none.
const MAX_COOKIES: usize = 3000;
/// Go's `defaultMaxParams`: above this many parameters `URL.Query` is empty.
const MAX_QUERY_PARAMS: usize = 10_000;

/// Which part of the request the token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// The `coder_session_token` cookie.
    Cookie,
    /// The `coder_session_token` query parameter.
    Query,
    /// The `Coder-Session-Token` header.
    Header,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The `access_token` query parameter.
    AccessToken,
}

impl TokenSource {
    /// Every source, in Coder's order of precedence.
    pub const ALL: [TokenSource; 5] = [
        TokenSource::Cookie,
        TokenSource::Query,
        TokenSource::Header,
        TokenSource::Bearer,
        TokenSource::AccessToken,
    ];

    /// The stable snake_case name: `cookie`, `query`, `header`, `bearer`, `access_token`.
    pub const fn name(self) -> &'static str {
        match self {
            TokenSource::Cookie => "cookie",
            TokenSource::Query => "query",
            TokenSource::Header => "header",
            TokenSource::Bearer => "bearer",
            TokenSource::AccessToken => "access_token",
        }
    }
}

/// A token found in a request, and where it was found. `Debug` shows the key id of a text
/// shaped like a token and nothing else, whatever the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Extracted<'a> {
    /// The token, never empty. Borrowed from the request unless a query value had to be unescaped.
    pub token: Cow<'a, str>,
    /// The source that supplied it.
    pub source: TokenSource,
}

/// Shows the key id only when the text has a token's shape; anything else may be a secret
/// in another form, so it shows nothing of it.
impl std::fmt::Debug for Extracted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Extracted");
        match crate::token::split(&self.token) {
            Ok((id, _)) => out.field("token", &format_args!("{:?}-<redacted>", id.as_str())),
            Err(_) => out.field(
                "token",
                &format_args!("<redacted, {} bytes>", self.token.len()),
            ),
        };
        out.field("source", &self.source).finish()
    }
}

/// The API token a request presents, found as Coder's `APITokenFromRequest` finds it (compatibility §5).
///
/// `headers` are the (name, value) pairs in the order received, every `Cookie` header included;
/// `query` is the raw query string without the leading `?`. Returns `None` when there is no token,
/// including `Authorization: Bearer ` with nothing after the space, which hides any `access_token`
/// (compatibility §10). Never panics.
pub fn extract_token<'a>(headers: &[(&'a str, &'a str)], query: &'a str) -> Option<Extracted<'a>> {
    let found = |token: Cow<'a, str>, source| Some(Extracted { token, source });

    if let Some(token) = cookie_value(headers, SESSION_TOKEN_COOKIE).filter(|t| !t.is_empty()) {
        return found(token, TokenSource::Cookie);
    }
    if let Some(token) = query_value(query, SESSION_TOKEN_QUERY).filter(|t| !t.is_empty()) {
        return found(token, TokenSource::Query);
    }
    if let Some(token) = header_value(headers, SESSION_TOKEN_HEADER).filter(|t| !t.is_empty()) {
        return found(Cow::Borrowed(token), TokenSource::Header);
    }
    if let Some(rest) = header_value(headers, AUTHORIZATION_HEADER).and_then(strip_bearer) {
        // Compatibility §10: Coder returns here even when the token is empty, so `access_token` is unread.
        let token = rest.trim();
        if token.is_empty() {
            return None;
        }
        return found(Cow::Borrowed(token), TokenSource::Bearer);
    }
    let token = trim_cow(query_value(query, ACCESS_TOKEN_QUERY)?);
    if token.is_empty() {
        return None;
    }
    found(token, TokenSource::AccessToken)
}

/// Every header [`extract_token`] reads: `Cookie`, `Coder-Session-Token` and `Authorization`.
/// Headers of any other name cannot change its answer, so a binding copying a request's headers
/// out of its host language may copy only those for which [`reads_header`] is true, in order.
pub const HEADERS_READ: [&str; 3] = [COOKIE_HEADER, SESSION_TOKEN_HEADER, AUTHORIZATION_HEADER];

/// Whether [`extract_token`] reads headers called `name` (one of [`HEADERS_READ`], ASCII
/// case-insensitive).
pub fn reads_header(name: &str) -> bool {
    HEADERS_READ
        .iter()
        .any(|read| name.eq_ignore_ascii_case(read))
}

/// The byte a request's byte that is not part of UTF-8 becomes in [`request_text`]: DEL, which
/// is neither in the token alphabet nor `-` nor a cookie octet, so it cannot join, split or end
/// a token differently than in the bytes Coder sees.
pub const NOT_UTF8: u8 = 0x7f;

/// A header value or query string as bytes (what an HTTP server hands a binding) made text for
/// [`extract_token`]: borrowed when it is UTF-8, else a copy with each byte that is not part of
/// UTF-8 replaced by [`NOT_UTF8`], one for one, so every length Coder would quote stays the same.
pub fn request_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            let mut owned = bytes.to_vec();
            let mut rest = &mut owned[..];
            while let Err(e) = std::str::from_utf8(rest) {
                let start = e.valid_up_to();
                let bad = e.error_len().unwrap_or(rest.len() - start);
                rest[start..start + bad].fill(NOT_UTF8);
                rest = &mut rest[start + bad..];
            }
            Cow::Owned(String::from_utf8(owned).unwrap_or_default())
        }
    }
}

/// The value of the first header called `name` (ASCII case-insensitive), as Go's `Header.Get`
/// returns it. Later headers of that name are ignored even when the first is empty.
pub fn header_value<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|&(_, value)| value)
}

/// The value of the first well-formed cookie called `name` (case-sensitive) across all `Cookie`
/// headers, unquoted, as Go's `Request.Cookie` returns it; it may be empty. The module docs give
/// the parsing rules. Always borrowed from `headers`.
pub fn cookie_value<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<Cow<'a, str>> {
    let lines = || {
        headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(COOKIE_HEADER))
            .map(|&(_, line)| line)
    };
    let cookies: usize = lines().map(|line| line.matches(';').count() + 1).sum();
    if cookies > MAX_COOKIES {
        return None;
    }
    lines()
        .flat_map(|line| line.split(';'))
        .find_map(|part| cookie_in_part(part, name))
        .map(Cow::Borrowed)
}

/// The first value of the query parameter `key` (case-sensitive, compared after unescaping), as
/// Go's `URL.Query().Get` returns it; it may be empty. `query` is the raw query string without the
/// leading `?`. Borrowed unless the value needed unescaping. The module docs give the parsing rules.
pub fn query_value<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    if query.matches('&').count() + 1 > MAX_QUERY_PARAMS {
        return None;
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.contains(';'))
        .find_map(|pair| {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            if unescapes_to(raw_key, key) {
                query_unescape(raw_value)
            } else {
                None
            }
        })
}

/// The text after a case-insensitive `bearer ` prefix. Only ASCII letters lower-case to the
/// letters of `bearer` under Go's `strings.ToLower`, so an ASCII comparison of the first seven bytes
/// is the same test; a multibyte character across byte 7 cannot match.
fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_at_checked(BEARER_PREFIX.len())?;
    scheme.eq_ignore_ascii_case(BEARER_PREFIX).then_some(rest)
}

fn trim_cow(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
        Cow::Owned(text) if text.trim().len() == text.len() => Cow::Owned(text),
        Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
    }
}

/// The cookie's value when `part` (one `;`-separated piece of a `Cookie` header) is a well-formed
/// cookie called `name`.
fn cookie_in_part<'a>(part: &'a str, name: &str) -> Option<&'a str> {
    let part = trim_go_ascii_space(part);
    if part.is_empty() {
        return None;
    }
    let (raw_name, raw_value) = part.split_once('=').unwrap_or((part, ""));
    let cookie_name = trim_go_ascii_space(raw_name);
    if cookie_name != name || !is_token(cookie_name) {
        return None;
    }
    let value = raw_value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(raw_value);
    value.bytes().all(is_cookie_value_byte).then_some(value)
}

/// Go's `textproto.TrimString`: only space, tab, CR and LF.
fn trim_go_ascii_space(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// An RFC 7230 token: one or more tchar.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Go's `validCookieValueByte`.
fn is_cookie_value_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b';' && b != b'\\'
}

/// Whether `raw` unescapes (`QueryUnescape`) to exactly `want`; false when an escape is malformed.
fn unescapes_to(raw: &str, want: &str) -> bool {
    QueryUnescape::new(raw).eq(want.bytes().map(Some))
}

/// Go's `QueryUnescape`, or `None` for a malformed escape; invalid UTF-8 becomes U+FFFD.
fn query_unescape(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains(['%', '+']) {
        return Some(Cow::Borrowed(raw));
    }
    let bytes: Vec<u8> = QueryUnescape::new(raw).collect::<Option<_>>()?;
    Some(Cow::Owned(String::from_utf8(bytes).unwrap_or_else(
        |invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned(),
    )))
}

/// The bytes of a query component after unescaping; yields `None` once, then stops, at a `%` not
/// followed by two hex digits.
struct QueryUnescape<'a> {
    rest: &'a [u8],
}

impl<'a> QueryUnescape<'a> {
    fn new(raw: &'a str) -> Self {
        QueryUnescape {
            rest: raw.as_bytes(),
        }
    }
}

impl Iterator for QueryUnescape<'_> {
    type Item = Option<u8>;

    fn next(&mut self) -> Option<Option<u8>> {
        let (byte, rest) = match self.rest {
            [] => return None,
            [b'%', high, low, rest @ ..] => match (hex_digit(*high), hex_digit(*low)) {
                (Some(high), Some(low)) => (Some((high << 4) | low), rest),
                _ => (None, &[][..]),
            },
            [b'%', ..] => (None, &[][..]),
            [b'+', rest @ ..] => (Some(b' '), rest),
            [byte, rest @ ..] => (Some(*byte), rest),
        };
        self.rest = rest;
        Some(byte)
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::TokenSource::{AccessToken, Bearer, Cookie, Header, Query};
    use super::*;

    type Outcome = Option<(String, TokenSource)>;

    fn extract(headers: &[(&str, &str)], query: &str) -> Outcome {
        extract_token(headers, query).map(|found| (found.token.into_owned(), found.source))
    }

    fn found(token: &str, source: TokenSource) -> Outcome {
        Some((token.to_owned(), source))
    }

    fn authorization(value: &str) -> Outcome {
        extract(&[("Authorization", value)], "")
    }

    fn cookies(lines: &[&str]) -> Outcome {
        let headers: Vec<(&str, &str)> = lines.iter().map(|line| ("Cookie", *line)).collect();
        extract(&headers, "")
    }

    fn query(query: &str) -> Outcome {
        extract(&[], query)
    }

    #[test]
    fn reads_header_names_exactly_the_headers_read_in_any_ascii_case() {
        for name in [
            "Cookie",
            "cookie",
            "COOKIE",
            "coder-session-token",
            "AUTHORIZATION",
        ] {
            assert!(reads_header(name), "{name}");
        }
        // Not a name it reads: another name, a prefix, a longer one, a non-ASCII fold.
        for name in [
            "",
            "Cookies",
            "Cooki",
            "X-Coder-Session-Token",
            "Authorisation",
            "Coo\u{212A}ie",
        ] {
            assert!(!reads_header(name), "{name}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let headers = [("Coder-Session-Token", "0123456789-abcdefghijklmnopqrstuv")];
        let found = extract_token(&headers, "").unwrap();
        let debug = format!("{found:?}");
        assert!(
            debug.contains("0123456789") && !debug.contains("abcdefghij"),
            "{debug}"
        );
    }

    #[test]
    fn bearer_token_is_found() {
        // §9.37
        assert_eq!(
            authorization("Bearer abcdefghij-0123456789abcdefghijkl"),
            found("abcdefghij-0123456789abcdefghijkl", Bearer)
        );
    }

    #[test]
    fn access_token_query_parameter_is_found() {
        // §9.38
        assert_eq!(query("access_token=abc-def"), found("abc-def", AccessToken));
    }

    #[test]
    fn session_header_beats_bearer() {
        // §9.39
        let headers = [
            ("Authorization", "Bearer from-bearer"),
            ("Coder-Session-Token", "from-header"),
        ];
        assert_eq!(extract(&headers, ""), found("from-header", Header));
    }

    #[test]
    fn cookie_beats_bearer() {
        // §9.40
        let headers = [
            ("Authorization", "Bearer from-bearer"),
            ("Cookie", "coder_session_token=from-cookie"),
        ];
        assert_eq!(extract(&headers, ""), found("from-cookie", Cookie));
    }

    #[test]
    fn no_credentials_is_no_token() {
        // §9.40
        assert_eq!(extract(&[], ""), None);
        assert_eq!(extract(&[("Accept", "*/*")], "page=2"), None);
    }

    #[test]
    fn basic_authorization_is_ignored() {
        // §9.40
        assert_eq!(authorization("Basic dXNlcjpwYXNz"), None);
        assert_eq!(
            extract(&[("Authorization", "Basic dXNlcjpwYXNz")], "access_token=x"),
            found("x", AccessToken)
        );
    }

    #[test]
    fn bearer_x_is_x_and_access_token_x_is_x() {
        // §9.40
        assert_eq!(authorization("Bearer x"), found("x", Bearer));
        assert_eq!(query("access_token=x"), found("x", AccessToken));
    }

    #[test]
    fn malformed_authorization_values_extract_as_coder_does() {
        // §9.47: each of these is a 401 in Coder; extraction decides which token is judged.
        assert_eq!(authorization("invalid-token"), None);
        assert_eq!(authorization("bearer token"), found("token", Bearer));
        assert_eq!(
            authorization("Bearer  token-with-extra-spaces"),
            found("token-with-extra-spaces", Bearer)
        );
        assert_eq!(authorization("Bearer "), None);
        assert_eq!(authorization("Bearer"), None);
        assert_eq!(
            authorization("Bearer token1 Bearer token2"),
            found("token1 Bearer token2", Bearer)
        );
        assert_eq!(
            authorization("Bearer !!!invalid-base64!!!"),
            found("!!!invalid-base64!!!", Bearer)
        );
    }

    #[test]
    fn cookie_beats_a_bad_bearer() {
        // §9.48
        let headers = [
            ("Cookie", "coder_session_token=good-cookie"),
            ("Authorization", "Bearer invalid-token"),
        ];
        assert_eq!(extract(&headers, ""), found("good-cookie", Cookie));
    }

    #[test]
    fn session_query_parameter_beats_a_bad_bearer() {
        // §9.49
        let headers = [("Authorization", "Bearer invalid-token")];
        assert_eq!(
            extract(&headers, "coder_session_token=good-query"),
            found("good-query", Query)
        );
    }

    #[test]
    fn bearer_alone_and_access_token_alone_are_found() {
        // §9.50
        assert_eq!(
            authorization("Bearer only-bearer"),
            found("only-bearer", Bearer)
        );
        assert_eq!(
            query("access_token=only-access"),
            found("only-access", AccessToken)
        );
    }

    #[test]
    fn all_sources_at_once_use_the_cookie() {
        // §9.51
        let headers = [
            ("Authorization", "Bearer from-bearer"),
            ("Coder-Session-Token", "from-header"),
            ("Cookie", "coder_session_token=from-cookie"),
        ];
        let query = "access_token=from-access&coder_session_token=from-query";
        assert_eq!(extract(&headers, query), found("from-cookie", Cookie));
    }

    #[test]
    fn every_source_beats_every_later_source() {
        // §5: every non-empty combination of the five sources yields the earliest one present.
        let sources = [
            (Cookie, "from-cookie"),
            (Query, "from-query"),
            (Header, "from-header"),
            (Bearer, "from-bearer"),
            (AccessToken, "from-access"),
        ];
        for mask in 1u32..32 {
            let present = |i: usize| mask & (1 << i) != 0;
            let mut headers = Vec::new();
            let mut query = Vec::new();
            if present(0) {
                headers.push(("Cookie", "coder_session_token=from-cookie"));
            }
            if present(1) {
                query.push("coder_session_token=from-query");
            }
            if present(2) {
                headers.push(("Coder-Session-Token", "from-header"));
            }
            if present(3) {
                headers.push(("Authorization", "Bearer from-bearer"));
            }
            if present(4) {
                query.push("access_token=from-access");
            }
            // Order within the request must not matter: try both orders.
            for reverse in [false, true] {
                if reverse {
                    headers.reverse();
                    query.reverse();
                }
                let query = query.join("&");
                let (source, token) = sources[mask.trailing_zeros() as usize];
                assert_eq!(
                    extract(&headers, &query),
                    found(token, source),
                    "{headers:?} {query:?}"
                );
            }
        }
    }

    #[test]
    fn empty_bearer_hides_a_valid_access_token() {
        // §10
        for value in ["Bearer ", "bearer    ", "BEARER \t", "Bearer \u{3000}"] {
            assert_eq!(
                extract(&[("Authorization", value)], "access_token=valid"),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn bearer_without_a_space_does_not_hide_access_token() {
        // §5 item 4: `Bearer` with no space falls through.
        assert_eq!(
            extract(&[("Authorization", "Bearer")], "access_token=valid"),
            found("valid", AccessToken)
        );
    }

    #[test]
    fn empty_first_session_query_value_falls_through_even_with_a_later_value() {
        // compatibility, fine points: only the first value of a query key counts.
        let headers = [("Coder-Session-Token", "from-header")];
        let query = "coder_session_token=&coder_session_token=later";
        assert_eq!(extract(&headers, query), found("from-header", Header));
        assert_eq!(extract(&[], query), None);
        // A key with no `=` has an empty value, and it is still the first.
        assert_eq!(
            extract(&[], "coder_session_token&coder_session_token=later"),
            None
        );
    }

    #[test]
    fn empty_first_access_token_is_no_token_even_with_a_later_value() {
        // compatibility, fine points; §5 item 5.
        assert_eq!(query("access_token=&access_token=later"), None);
    }

    #[test]
    fn empty_first_session_header_falls_through_even_with_a_later_one() {
        // compatibility, fine points: Go's Header.Get reads the first header only.
        let headers = [
            ("Coder-Session-Token", ""),
            ("Coder-Session-Token", "later"),
            ("Authorization", "Bearer from-bearer"),
        ];
        assert_eq!(extract(&headers, ""), found("from-bearer", Bearer));
    }

    #[test]
    fn only_the_first_authorization_header_counts() {
        // compatibility, fine points.
        let headers = [
            ("Authorization", "Basic dXNlcjpwYXNz"),
            ("Authorization", "Bearer second"),
        ];
        assert_eq!(extract(&headers, ""), None);
    }

    #[test]
    fn empty_cookie_falls_through() {
        // §5 item 1: Coder checks `cookie.Value != ""`.
        let headers = [
            ("Cookie", "coder_session_token="),
            ("Coder-Session-Token", "h"),
        ];
        assert_eq!(extract(&headers, ""), found("h", Header));
        assert_eq!(cookies(&["coder_session_token=\"\""]), None);
    }

    #[test]
    fn empty_first_cookie_hides_a_later_cookie_of_the_same_name() {
        // §5 item 1: only the first cookie of the name counts.
        assert_eq!(
            cookies(&["coder_session_token=; coder_session_token=later"]),
            None
        );
        assert_eq!(
            cookies(&["coder_session_token", "coder_session_token=later"]),
            None
        );
    }

    #[test]
    fn header_names_compare_ascii_case_insensitively() {
        // §5 item 3; compatibility, fine points.
        assert_eq!(
            extract(&[("coder-session-token", "a")], ""),
            found("a", Header)
        );
        assert_eq!(
            extract(&[("CODER-SESSION-TOKEN", "b")], ""),
            found("b", Header)
        );
        assert_eq!(
            extract(&[("aUTHORIZATION", "Bearer c")], ""),
            found("c", Bearer)
        );
        assert_eq!(
            extract(&[("cOOKIE", "coder_session_token=d")], ""),
            found("d", Cookie)
        );
        // Case-insensitive is ASCII only, and an underscore is not a hyphen.
        assert_eq!(extract(&[("Coder_Session_Token", "e")], ""), None);
        assert_eq!(extract(&[("Coder-Sesſion-Token", "f")], ""), None);
    }

    #[test]
    fn query_keys_and_cookie_names_are_case_sensitive() {
        // compatibility, fine points; Go's Values.Get and Request.Cookie compare exactly.
        assert_eq!(query("Coder_Session_Token=a"), None);
        assert_eq!(query("ACCESS_TOKEN=b"), None);
        assert_eq!(cookies(&["Coder_session_token=c"]), None);
    }

    #[test]
    fn bearer_scheme_compares_case_insensitively() {
        // §9.47 (`bearer token`), §5 item 4.
        assert_eq!(authorization("BEARER tok"), found("tok", Bearer));
        assert_eq!(authorization("bEaReR tok"), found("tok", Bearer));
    }

    // The cookie and query grammar tests below pin each behaviour with a few cases; the full
    // tables, with Go's own answers, are in tests/vectors/extract_grammar.json (written by
    // tests/vectors/gocheck from net/http and net/url, run by tests/vectors.rs).

    #[test]
    fn cookies_are_read_across_several_headers_in_order() {
        // §5 item 1: Go reads every Cookie header, in order.
        assert_eq!(
            cookies(&[
                "a=1; coder_session_token=first",
                "coder_session_token=second"
            ]),
            found("first", Cookie)
        );
        assert_eq!(
            cookies(&["a=1", "b=2; coder_session_token=second"]),
            found("second", Cookie)
        );
        assert_eq!(
            cookies(&[";;  ; coder_session_token=x;;"]),
            found("x", Cookie)
        );
    }

    #[test]
    fn quoted_cookie_values_lose_one_pair_of_quotes() {
        // §5 item 1: Go's parseCookieValue.
        assert_eq!(
            cookies(&["coder_session_token=\"abc\""]),
            found("abc", Cookie)
        );
        // Quotes are removed once; a quote left inside is an invalid byte.
        assert_eq!(cookies(&["coder_session_token=\"\"abc\"\""]), None);
        // A lone quote is not a pair.
        assert_eq!(cookies(&["coder_session_token=\""]), None);
    }

    #[test]
    fn malformed_cookie_parts_are_skipped() {
        // §5 item 1: a part that breaks Go's rules is skipped, so a later one is the first.
        for bad in ["coder_session_token=bad\\", "coder_session_token=caf\u{e9}"] {
            let line = format!("{bad}; coder_session_token=good");
            assert_eq!(cookies(&[&line]), found("good", Cookie), "{bad:?}");
            assert_eq!(
                cookies(&[bad, "coder_session_token=good"]),
                found("good", Cookie)
            );
        }
        // Parts whose name is not a token are skipped without disturbing the rest.
        assert_eq!(
            cookies(&["bad name=1; =3; coder_session_token=good"]),
            found("good", Cookie)
        );
    }

    #[test]
    fn cookie_parts_are_trimmed_but_values_are_not() {
        // §5 item 1: textproto.TrimString on the part and the name, never on the value.
        assert_eq!(
            cookies(&["\tcoder_session_token=abc \r\n;x=1"]),
            found("abc", Cookie)
        );
        assert_eq!(cookies(&["coder_session_token =abc"]), found("abc", Cookie));
        assert_eq!(
            cookies(&["coder_session_token= abc"]),
            found(" abc", Cookie)
        );
    }

    #[test]
    fn space_and_comma_are_allowed_anywhere_in_a_cookie_value() {
        // §5 item 1: Go's validCookieValueByte accepts 0x20 and ','; the "not at the ends"
        // rule belongs to writing cookies only.
        assert_eq!(
            cookies(&["coder_session_token=,a b, ; x=1"]),
            found(",a b,", Cookie)
        );
    }

    #[test]
    fn more_than_3000_cookies_means_no_cookies() {
        // Go's httpcookiemaxnum default: the count is `;` + 1 per Cookie header, over all of them.
        let at_limit = format!("coder_session_token=abc{}", ";".repeat(2998));
        assert_eq!(cookies(&["a=1", &at_limit]), found("abc", Cookie));
        let over_limit = format!("coder_session_token=abc{}", ";".repeat(2999));
        let headers = [
            ("Cookie", "a=1"),
            ("Cookie", over_limit.as_str()),
            ("Coder-Session-Token", "from-header"),
        ];
        assert_eq!(extract(&headers, ""), found("from-header", Header));
    }

    #[test]
    fn query_values_are_percent_decoded_and_plus_is_space() {
        // §5 item 2: Go's QueryUnescape.
        assert_eq!(query("coder_session_token=a+b%2Bc"), found("a b+c", Query));
        assert_eq!(query("coder_session_token=%c3%A9"), found("\u{e9}", Query));
        // Keys are unescaped before they are compared.
        assert_eq!(query("coder%5Fsession%5ftoken=x"), found("x", Query));
    }

    #[test]
    fn a_query_pair_with_a_semicolon_is_skipped() {
        // §5 item 2: Go 1.17 and later drop pairs that contain `;`.
        assert_eq!(query("x=1;coder_session_token=abc"), None);
        assert_eq!(
            query("coder_session_token=a;b&coder_session_token=second"),
            found("second", Query)
        );
    }

    #[test]
    fn a_query_pair_with_a_malformed_escape_is_skipped() {
        // §5 item 2: Go's parseQuery drops a pair it cannot unescape, so a later pair is the first.
        assert_eq!(query("coder_session_token=%zz"), None);
        assert_eq!(
            query("coder_session_token=abc%&coder_session_token=good"),
            found("good", Query)
        );
        assert_eq!(
            query("coder_session_token%=bad&coder_session_token=good"),
            found("good", Query)
        );
    }

    #[test]
    fn invalid_utf8_in_a_query_value_becomes_replacement_characters_and_still_counts() {
        // §5 item 2: Go keeps the raw bytes, so the pair is a non-empty (unusable) first value.
        // One U+FFFD per maximal invalid subsequence, as `String::from_utf8_lossy`.
        assert_eq!(
            query("coder_session_token=%FF%E2%82x"),
            found("\u{FFFD}\u{FFFD}x", Query)
        );
        let headers = [("Coder-Session-Token", "from-header")];
        assert_eq!(
            extract(
                &headers,
                "coder_session_token=%FFabc&coder_session_token=good"
            ),
            found("\u{FFFD}abc", Query)
        );
    }

    #[test]
    fn more_than_10000_query_parameters_means_no_parameters() {
        // Go's urlmaxqueryparams default: the count is `&` + 1.
        let at_limit = format!("coder_session_token=abc{}", "&".repeat(9999));
        assert_eq!(query(&at_limit), found("abc", Query));
        let headers = [("Coder-Session-Token", "from-header")];
        let over_limit = format!("coder_session_token=abc{}", "&".repeat(10_000));
        assert_eq!(extract(&headers, &over_limit), found("from-header", Header));
    }

    #[test]
    fn bearer_and_access_token_are_trimmed_of_unicode_white_space() {
        // §10; compatibility, fine points: Unicode White_Space, as Go's strings.TrimSpace.
        assert_eq!(
            authorization("Bearer \u{a0}tok\u{3000}"),
            found("tok", Bearer)
        );
        assert_eq!(
            authorization("Bearer \u{2028}tok\u{85}\u{2009}"),
            found("tok", Bearer)
        );
        assert_eq!(authorization("Bearer \ttok\t\r\n"), found("tok", Bearer));
        assert_eq!(authorization("Bearer tok en"), found("tok en", Bearer));
        // U+200B ZERO WIDTH SPACE is not White_Space.
        assert_eq!(
            authorization("Bearer \u{200b}tok"),
            found("\u{200b}tok", Bearer)
        );
        assert_eq!(
            query("access_token=%20%20abc%20"),
            found("abc", AccessToken)
        );
        assert_eq!(
            query("access_token=%E3%80%80tok%C2%A0"),
            found("tok", AccessToken)
        );
        assert_eq!(
            query("access_token=%E2%80%8Btok"),
            found("\u{200b}tok", AccessToken)
        );
        // Coder tests for emptiness before trimming, then returns the empty trimmed value.
        assert_eq!(query("access_token=+++"), None);
        assert_eq!(query("access_token=%E3%80%80"), None);
    }

    #[test]
    fn bearer_needs_exactly_an_ascii_space_after_the_scheme() {
        // §5 item 4: the prefix is "bearer" plus one ASCII space.
        for value in [
            "Bearer\ttok",
            "Bearer\u{a0}tok",
            "Bearer\u{3000}tok",
            "Bearertok",
            " Bearer tok",
        ] {
            assert_eq!(authorization(value), None, "{value:?}");
            assert_eq!(
                extract(&[("Authorization", value)], "access_token=fallback"),
                found("fallback", AccessToken),
                "{value:?}"
            );
        }
    }

    #[test]
    fn cookie_query_and_header_values_are_not_trimmed() {
        // §10: only Bearer and access_token values are trimmed.
        assert_eq!(
            extract(&[("Coder-Session-Token", " tok ")], ""),
            found(" tok ", Header)
        );
        assert_eq!(
            extract(&[("Coder-Session-Token", "   ")], ""),
            found("   ", Header)
        );
        assert_eq!(query("coder_session_token=+tok+"), found(" tok ", Query));
        assert_eq!(
            query("coder_session_token=%E3%80%80"),
            found("\u{3000}", Query)
        );
        assert_eq!(
            cookies(&["coder_session_token=\" tok \""]),
            found(" tok ", Cookie)
        );
    }

    #[test]
    fn multibyte_character_across_the_bearer_prefix_is_not_a_bearer() {
        // No panic when byte 7 falls inside a character; such a value has no `bearer ` prefix.
        assert_eq!(authorization("bearer\u{e9}x"), None);
        assert_eq!(authorization("beare\u{20ac}tok"), None);
        assert_eq!(authorization("Bearer\u{1d11e}"), None);
        assert_eq!(authorization("\u{e9}"), None);
        // Kelvin sign lower-cases to `k` in Go, but `bearer` has no `k`: still ASCII-only.
        assert_eq!(authorization("B\u{212a}arer tok"), None);
    }

    #[test]
    fn unescaping_allocates_only_when_needed() {
        let borrowed =
            |e: Option<Extracted<'_>>| matches!(e.map(|e| e.token), Some(Cow::Borrowed(_)));
        let owned = |e: Option<Extracted<'_>>| matches!(e.map(|e| e.token), Some(Cow::Owned(_)));
        assert!(borrowed(extract_token(
            &[("Cookie", "coder_session_token=\"c\"")],
            ""
        )));
        assert!(borrowed(extract_token(&[], "coder_session_token=plain")));
        assert!(owned(extract_token(&[], "coder_session_token=a%41")));
        assert!(owned(extract_token(&[], "coder_session_token=a+b")));
        assert!(borrowed(extract_token(&[("Coder-Session-Token", "h")], "")));
        assert!(borrowed(extract_token(
            &[("Authorization", "Bearer  b ")],
            ""
        )));
        assert!(borrowed(extract_token(&[], "access_token=plain")));
        let trimmed = extract_token(&[], "access_token=%20abc");
        assert_eq!(trimmed.map(|e| e.token), Some(Cow::Owned("abc".to_owned())));
    }

    #[test]
    fn helpers_return_the_first_value_even_when_empty() {
        // compatibility, fine points, for middleware that reads one source itself.
        let headers = [("X-Thing", ""), ("x-thing", "second")];
        assert_eq!(header_value(&headers, "X-THING"), Some(""));
        assert_eq!(header_value(&headers, "Other"), None);
        let headers = [("Cookie", "a=; a=1")];
        assert_eq!(cookie_value(&headers, "a"), Some(Cow::Borrowed("")));
        assert_eq!(cookie_value(&headers, "b"), None);
        assert_eq!(query_value("a=&a=1", "a"), Some(Cow::Borrowed("")));
        assert_eq!(query_value("a&a=1", "a"), Some(Cow::Borrowed("")));
        assert_eq!(query_value("", "a"), None);
        assert_eq!(query_value("b=1", "a"), None);
        // Go stores a pair with an empty key under "".
        assert_eq!(query_value("=x", ""), Some(Cow::Borrowed("x")));
    }

    /// Checks what must hold for any input, and that extraction returns at all.
    fn check_invariants(headers: &[(&str, &str)], query: &str) {
        if let Some(found) = extract_token(headers, query) {
            assert!(!found.token.is_empty(), "{headers:?} {query:?}");
            if matches!(found.source, Bearer | AccessToken) {
                assert_eq!(found.token.trim(), found.token, "{headers:?} {query:?}");
            }
            if found.source == Cookie {
                assert!(found.token.bytes().all(is_cookie_value_byte));
            }
        }
    }

    fn check_in_every_role(text: &str) {
        check_invariants(&[("Authorization", text)], text);
        check_invariants(&[("Cookie", text), ("Cookie", text)], "");
        check_invariants(&[("Coder-Session-Token", text)], "");
        check_invariants(&[(text, text)], text);
        let cookie = format!("coder_session_token={text}");
        let session = format!("coder_session_token={text}&access_token={text}");
        check_invariants(&[("Cookie", &cookie)], &session);
        let bearer = format!("Bearer {text}");
        check_invariants(
            &[("Authorization", &bearer)],
            &format!("access_token={text}"),
        );
        for key in ["k", "", "coder_session_token", "access_token"] {
            let _ = query_value(text, key);
            let _ = cookie_value(&[("Cookie", text)], key);
        }
    }

    #[test]
    fn arbitrary_input_never_panics_and_never_yields_an_empty_token() {
        const FRAGMENTS: [&str; 30] = [
            "",
            "a",
            "=",
            ";",
            "&",
            "%",
            "%4",
            "%41",
            "%zz",
            "%FF",
            "%C3",
            "%E2%82",
            "+",
            "\"",
            "\\",
            " ",
            "\t",
            "\r\n",
            "\u{a0}",
            "\u{3000}",
            "\u{e9}",
            "\u{20ac}",
            "\u{1d11e}",
            "bearer ",
            "Bearer",
            "coder_session_token",
            "access_token",
            "coder_session_token=",
            ",",
            "\u{0}",
        ];
        // A deterministic xorshift generator: the same strings on every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = next() % 9;
            let text: String = (0..len)
                .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
                .collect();
            check_in_every_role(&text);
        }

        // Every multibyte character at every split position of inputs near the interesting prefixes.
        let bases = [
            "Bearer token",
            "bearer ",
            "coder_session_token=abc",
            "access_token=%41bc",
            "\"quoted\"",
            "%E3%80%80",
        ];
        for base in bases {
            for wide in ["\u{e9}", "\u{20ac}", "\u{1d11e}", "\u{3000}", "\u{a0}"] {
                for at in (0..=base.len()).filter(|&i| base.is_char_boundary(i)) {
                    let text = format!("{}{wide}{}", &base[..at], &base[at..]);
                    for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                        check_in_every_role(&text[..cut]);
                    }
                }
            }
        }
    }

    #[test]
    fn debug_never_shows_more_than_the_key_id_whatever_the_shape() {
        let secret = "abcdefghijklmnopqrstuvwxyzABCDEF";
        for headers in [
            [("Authorization", format!("Bearer {secret}"))],
            [("Authorization", format!("Bearer x-{secret}"))],
            [("Coder-Session-Token", format!("{secret}-a-b"))],
            [(
                "Coder-Session-Token",
                "0123456789-abcdefghijklmnopqrstuv".to_owned(),
            )],
        ] {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let found = extract_token(&headers, "").unwrap();
            let shown = format!("{found:?}");
            assert!(!shown.contains("abcdefghij"), "{shown}");
            assert!(!shown.contains("klmnop"), "{shown}");
            assert_eq!(
                shown.contains("\"0123456789\"-<redacted>"),
                headers[0].1.starts_with("0123456789-")
            );
        }
    }

    #[test]
    fn request_text_replaces_each_byte_that_is_not_utf8_one_for_one() {
        assert!(matches!(request_text(b"abc"), Cow::Borrowed("abc")));
        assert_eq!(request_text("é€😀".as_bytes()), "é€😀");
        // A lone continuation byte, a truncated 3-byte sequence, an encoded surrogate, a
        // truncated sequence at the end: every byte of each is DEL, as Go's decoder meets them.
        let cases: [(&[u8], &str); 5] = [
            (b"a\x80b", "a\x7fb"),
            (b"\xe2\x82A", "\x7f\x7fA"),
            (b"\xed\xa0\x80z", "\x7f\x7f\x7fz"),
            (b"ok\xf0\x9f\x98", "ok\x7f\x7f\x7f"),
            (b"\xff\xfe\xc3\xa9", "\x7f\x7f\u{e9}"),
        ];
        for (bytes, want) in cases {
            let got = request_text(bytes);
            assert_eq!(got, want, "{bytes:?}");
            assert_eq!(got.len(), bytes.len(), "{bytes:?}");
        }
    }
}
