//! Property tests: whatever bytes arrive, parsing, extraction, checking and duration parsing
//! return a typed result and never panic.

use proptest::prelude::*;
use tokenward::check::verify;
use tokenward::extract::{extract_token, reads_header};
use tokenward::{
    ApiKey, Duration, KeyId, LoginType, ParseError, SecretHash, Settings, Timestamp, Token,
};

/// Text the way it reaches a binding: arbitrary bytes, decoded strictly (a binding rejects
/// invalid UTF-8 with a typed error) or lossily.
fn decoded(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![String::from_utf8_lossy(bytes).into_owned()];
    if let Ok(text) = std::str::from_utf8(bytes) {
        out.push(text.to_owned());
    }
    out
}

/// A token-like string: mostly the right shape, with hyphens, NULs and unicode mixed in.
fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-Za-z]{10}-[0-9A-Za-z]{22}",
        "[0-9A-Za-z\\-\u{0}é😀 ]{0,40}",
        ".{0,64}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn record_for(
    id: &str,
    stored_hash: Vec<u8>,
    lifetime_seconds: i64,
    times: [i64; 4],
    login: usize,
) -> ApiKey {
    let mut key = ApiKey::new(
        KeyId::parse(id).unwrap_or_else(|_| KeyId::parse("0123456789").unwrap()),
        stored_hash,
        "u",
        LoginType::ALL[login % LoginType::ALL.len()],
        Timestamp::from_unix_micros(times[2]),
        Timestamp::from_unix_micros(times[1]),
    );
    key.last_used = Timestamp::from_unix_micros(times[0]);
    key.lifetime_seconds = lifetime_seconds;
    key
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn parse_never_panics_and_errors_are_coders(bytes in any::<Vec<u8>>()) {
        for text in decoded(&bytes) {
            match Token::parse(&text) {
                Ok(token) => {
                    prop_assert_eq!(token.id().as_str().len(), 10);
                    prop_assert_eq!(token.expose(), text.clone());
                }
                Err(ParseError::PartCount(n)) => prop_assert_eq!(n, text.matches('-').count() + 1),
                Err(ParseError::IdLength(n)) => prop_assert_ne!(n, 10),
                Err(ParseError::SecretLength(n)) => prop_assert_ne!(n, 22),
                Err(ParseError::OutsideAlphabet) => prop_assert!(false, "plain parse checked the alphabet"),
            }
            let _ = Token::parse_strict(&text);
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_records(
        presented in token_like(),
        stored_hash in proptest::collection::vec(any::<u8>(), 0..40),
        lifetime_seconds in any::<i64>(),
        times in any::<[i64; 4]>(),
        login in any::<usize>(),
        remote in ".{0,50}",
        refresh_disabled in any::<bool>(),
    ) {
        let id = presented.get(..10).unwrap_or("0123456789");
        let record = record_for(id, stored_hash, lifetime_seconds, times, login);
        let settings = { let mut s = Settings::default(); s.disable_session_expiry_refresh = refresh_disabled; s };
        let now = Timestamp::from_unix_micros(times[3]);
        match verify(&presented, |_| Some(&record), now, &settings, &remote) {
            Ok(v) => {
                prop_assert!(!record.is_expired(now));
                if let Some(update) = v.update {
                    prop_assert!(update.last_used == now || update.last_used == record.last_used);
                }
            }
            Err(r) => {
                prop_assert!(["missing", "malformed", "unknown_key", "invalid_secret", "expired"].contains(&r.code().name()));
                prop_assert_eq!(r.status(), 401);
                prop_assert!(!r.detail().is_empty());
            }
        }
    }

    #[test]
    fn a_real_token_always_verifies_against_its_own_hash(now in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
        let token = Token::generate().unwrap();
        let mut record = record_for(token.id().as_str(), SecretHash::of(token.secret()).as_bytes().to_vec(), 86_400, [now, now, now, now], 0);
        record.expires_at = Timestamp::from_unix_micros(now);
        prop_assert!(verify(&token.expose(), |_| Some(&record), Timestamp::from_unix_micros(now), &Settings::default(), "").is_ok());
    }

    #[test]
    fn extraction_never_panics(
        headers in proptest::collection::vec(("[A-Za-z\\-]{1,20}|Cookie|Authorization|coder-session-token", ".{0,40}"), 0..6),
        query in ".{0,80}",
    ) {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let found = extract_token(&pairs, &query);
        if let Some(found) = &found {
            prop_assert!(!found.token.is_empty());
        }
        // Only the headers it reads can change its answer.
        let read: Vec<(&str, &str)> = pairs.iter().copied().filter(|(name, _)| reads_header(name)).collect();
        prop_assert_eq!(extract_token(&read, &query), found);
    }

    #[test]
    fn duration_parse_never_panics(text in "[-+]?[0-9.]{0,25}(ns|us|µs|ms|s|m|h|d|y|x)?([0-9.]{0,5}(h|m|s))?|.{0,30}") {
        if let Ok(d) = Duration::parse(&text) {
            prop_assert_eq!(Duration::parse(&d.to_string()), Ok(d));
        }
    }

    #[test]
    fn any_remote_address_is_recorded_without_panicking(text in ".{0,60}") {
        let minted = tokenward::issue::session_key("u", LoginType::Password, Duration::HOUR, &text, tokenward::Timestamp::UNIX_EPOCH).unwrap();
        let _ = minted.key.ip_address.to_string();
    }
}

#[test]
fn one_mebibyte_inputs_are_rejected_with_typed_errors() {
    let secret = "a".repeat(1 << 20);
    let long = format!("0123456789-{secret}");
    assert_eq!(
        Token::parse(&long).unwrap_err(),
        ParseError::SecretLength(1 << 20)
    );
    let hyphens = "-".repeat(1 << 20);
    assert_eq!(
        Token::parse(&hyphens).unwrap_err(),
        ParseError::PartCount((1 << 20) + 1)
    );
    let nuls = "\0".repeat(1 << 20);
    assert_eq!(Token::parse(&nuls).unwrap_err(), ParseError::PartCount(1));
    let rejection = verify(
        &long,
        |_| None::<&ApiKey>,
        Timestamp::UNIX_EPOCH,
        &Settings::default(),
        "",
    )
    .unwrap_err();
    assert_eq!(rejection.code(), "malformed");
    let header = format!("Bearer {long}");
    let found = extract_token(&[("Authorization", &header)], "").unwrap();
    assert_eq!(found.token.len(), long.len());
    assert!(Duration::parse(&"9".repeat(1 << 20)).is_err());
}

#[test]
fn durations_that_overflow_are_errors() {
    for text in [
        "9223372036854775808ns",
        "2562048h",
        "106752d",
        "293y",
        "99999999999999999999h",
        "-2562048h",
    ] {
        assert!(Duration::parse(text).is_err(), "{text}");
    }
    assert_eq!(Duration::parse("-9223372036854775808ns"), Ok(Duration::MIN));
    assert_eq!(Duration::parse("9223372036854775807ns"), Ok(Duration::MAX));
}
