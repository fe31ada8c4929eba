//! `extract::extract_token` on arbitrary headers and query strings: never an empty token,
//! trimmed Bearer and `access_token` values, and Coder's precedence (compatibility §5).

#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tokenward::extract::{
    ACCESS_TOKEN_QUERY, SESSION_TOKEN_COOKIE, SESSION_TOKEN_HEADER, SESSION_TOKEN_QUERY,
    TokenSource, cookie_value, extract_token, query_value,
};

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

/// `name` with the case of each ASCII letter flipped where `mask` has a bit set.
fn recase(name: &str, mask: u32) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 32) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn header(u: &mut Unstructured) -> Result<(String, String)> {
    let name = match u.int_in_range(0..=3)? {
        0 => "Cookie".to_owned(),
        1 => "Authorization".to_owned(),
        2 => SESSION_TOKEN_HEADER.to_owned(),
        _ => u.arbitrary::<String>()?,
    };
    let name = recase(&name, u.arbitrary()?);
    let prefix = match u.int_in_range(0..=4)? {
        0 => "Bearer ",
        1 => "coder_session_token=",
        2 => "coder_session_token=\"",
        3 => "a=b; coder_session_token=",
        _ => "",
    };
    Ok((name, format!("{prefix}{}", u.arbitrary::<&str>()?)))
}

fn query(u: &mut Unstructured) -> Result<String> {
    if u.arbitrary::<bool>()? {
        return u.arbitrary::<String>();
    }
    let pairs = u.int_in_range(0..=4)?;
    let mut out = Vec::new();
    for _ in 0..pairs {
        let key = match u.int_in_range(0..=2)? {
            0 => SESSION_TOKEN_QUERY.to_owned(),
            1 => ACCESS_TOKEN_QUERY.to_owned(),
            _ => u.arbitrary::<String>()?,
        };
        out.push(format!("{key}={}", u.arbitrary::<&str>()?));
    }
    Ok(out.join("&"))
}

/// The first header called `name`, compared ASCII case-insensitively (Go's `Header.Get`).
fn first_header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// The token after `Bearer ` (any case, exactly one space), trimmed, as Coder reads it.
fn bearer(value: &str) -> Option<&str> {
    let scheme = value.as_bytes().get(..7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| value[7..].trim())
}

/// Whether `inner` lies inside `outer`'s memory (a borrowed sub-slice).
fn within(inner: &str, outer: &str) -> bool {
    let (start, end) = (
        outer.as_ptr() as usize,
        outer.as_ptr() as usize + outer.len(),
    );
    let p = inner.as_ptr() as usize;
    p >= start && p + inner.len() <= end
}

fn run(u: &mut Unstructured) -> Result<()> {
    let count = u.int_in_range(0..=6)?;
    let owned: Vec<(String, String)> = (0..count).map(|_| header(u)).collect::<Result<_>>()?;
    let query = query(u)?;
    let headers: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();

    let found = extract_token(&headers, &query);
    let _ = format!("{found:?}");

    let session_header = first_header(&headers, SESSION_TOKEN_HEADER).filter(|v| !v.is_empty());
    let authorization = first_header(&headers, "Authorization");
    let bearer_token = authorization.and_then(bearer);
    let cookie = cookie_value(&headers, SESSION_TOKEN_COOKIE).filter(|v| !v.is_empty());
    let session_query = query_value(&query, SESSION_TOKEN_QUERY).filter(|v| !v.is_empty());

    let Some(found) = found else {
        // No token: every source before `access_token` came up empty.
        assert!(cookie.is_none() && session_query.is_none());
        assert!(
            session_header.is_none(),
            "header {session_header:?} ignored"
        );
        assert!(
            bearer_token.is_none_or(str::is_empty),
            "bearer {bearer_token:?} ignored"
        );
        return Ok(());
    };
    let token: &str = &found.token;
    assert!(!token.is_empty(), "empty token from {:?}", found.source);

    // Precedence: each source is reached only when the ones before it gave nothing.
    match found.source {
        TokenSource::Cookie => {
            assert_eq!(Some(token), cookie.as_deref());
            assert!(matches!(found.token, Cow::Borrowed(_)));
            assert!(headers.iter().any(|(_, v)| within(token, v)));
            assert!(
                token
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && !b"\";\\".contains(&b))
            );
        }
        TokenSource::Query => {
            assert!(cookie.is_none());
            assert_eq!(Some(token), session_query.as_deref());
        }
        TokenSource::Header => {
            assert!(cookie.is_none() && session_query.is_none());
            assert_eq!(Some(token), session_header);
            assert!(matches!(found.token, Cow::Borrowed(_)));
        }
        TokenSource::Bearer => {
            assert!(cookie.is_none() && session_query.is_none() && session_header.is_none());
            assert_eq!(token, token.trim(), "bearer token not trimmed");
            assert_eq!(Some(token), bearer_token);
            assert!(within(token, authorization.unwrap_or_default()));
        }
        TokenSource::AccessToken => {
            assert!(cookie.is_none() && session_query.is_none() && session_header.is_none());
            assert_eq!(token, token.trim(), "access_token not trimmed");
            // A Bearer header, even an empty one, ends the search before `access_token`.
            assert!(
                bearer_token.is_none(),
                "access_token read after {authorization:?}"
            );
            let raw = query_value(&query, ACCESS_TOKEN_QUERY).expect("access_token present");
            assert_eq!(token, raw.trim());
        }
    }
    Ok(())
}
