//! `check::verify` on a presented string and a record decoded from the fuzz input, against a
//! plain model of Coder's order of checks (compatibility §6 rows 1-5) and the refresh invariants (§7).

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tokenward::check::{self, SIGNED_OUT_MESSAGE};
use tokenward::token::{ALPHABET, ID_LENGTH};
use tokenward::{ApiKey, KeyId, LoginType, RejectionKind, SecretHash, Settings, Timestamp, Token};

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

/// A string of `len` characters from Coder's alphabet.
fn alphabet_text(u: &mut Unstructured, len: usize) -> Result<String> {
    (0..len)
        .map(|_| Ok(char::from(*u.choose(ALPHABET)?)))
        .collect()
}

/// The presented string: mostly token-shaped, so the later checks are reached.
fn presented(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u.arbitrary::<&str>()?.to_owned(),
        1 => format!("{}-{}", alphabet_text(u, 10)?, alphabet_text(u, 22)?),
        // Id and secret of any characters (Coder does not check the alphabet).
        2 => format!("{}-{}", u.arbitrary::<&str>()?, u.arbitrary::<&str>()?),
        _ => String::new(),
    })
}

/// A time: an arbitrary instant, or one near `now` at microsecond or millisecond scale, so
/// the one-hour and expiry boundaries are reachable.
fn time_near(u: &mut Unstructured, now: i64) -> Result<Timestamp> {
    Ok(Timestamp::from_unix_micros(
        match u.int_in_range(0..=2)? {
            0 => u.arbitrary::<i64>()?,
            1 => now.saturating_add(i64::from(u.arbitrary::<i32>()?)),
            _ => now.saturating_add(i64::from(u.arbitrary::<i32>()?) * 1_000),
        },
    ))
}

fn lifetime_seconds(u: &mut Unstructured) -> Result<i64> {
    const NOTABLE: [i64; 8] = [0, -1, 3_599, 3_600, 3_601, 86_400, 604_800, i64::MAX];
    Ok(match u.int_in_range(0..=2)? {
        0 => *u.choose(&NOTABLE)?,
        1 => i64::from(u.arbitrary::<i32>()?),
        _ => u.arbitrary::<i64>()?,
    })
}

fn ip(u: &mut Unstructured) -> Result<IpAddr> {
    Ok(if u.arbitrary::<bool>()? {
        IpAddr::V4(Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?))
    } else {
        IpAddr::V6(Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?))
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    let presented = presented(u)?;
    let secret_bytes = presented
        .as_bytes()
        .get(ID_LENGTH + 1..)
        .unwrap_or_default();

    // The record's id: the presented token's first 10 bytes when they are whole characters
    // (the record a store would find), otherwise or on request an arbitrary id.
    let own_id = presented
        .get(..ID_LENGTH)
        .and_then(|id| KeyId::parse(id).ok());
    let id = match own_id {
        Some(id) if u.ratio(7, 8)? => id,
        _ => KeyId::parse(&alphabet_text(u, ID_LENGTH)?).expect("10 ASCII bytes"),
    };
    // The stored hash: mostly SHA-256 of the presented secret, so verification can succeed.
    let hashed_secret = if u.ratio(3, 4)? {
        SecretHash::of_bytes(secret_bytes).as_bytes().to_vec()
    } else {
        u.arbitrary::<Vec<u8>>()?
    };
    let now_micros = u.arbitrary::<i64>()?;
    let now = Timestamp::from_unix_micros(now_micros);
    let user_id = u.arbitrary::<String>()?;
    let (last_used, expires_at) = (time_near(u, now_micros)?, time_near(u, now_micros)?);
    let (created_at, updated_at) = (time_near(u, now_micros)?, time_near(u, now_micros)?);
    let login_type = LoginType::ALL[usize::from(u.arbitrary::<u8>()?) % LoginType::ALL.len()];
    let mut record = ApiKey::new(
        id,
        hashed_secret,
        user_id,
        login_type,
        created_at,
        expires_at,
    );
    record.last_used = last_used;
    record.updated_at = updated_at;
    record.lifetime_seconds = lifetime_seconds(u)?;
    record.ip_address = ip(u)?;
    record.token_name = u.arbitrary::<String>()?;
    let settings = {
        let mut s = Settings::default();
        s.disable_session_expiry_refresh = u.ratio(1, 4)?;
        s
    };
    let remote = if u.arbitrary::<bool>()? {
        ip(u)?.to_string()
    } else {
        u.arbitrary::<String>()?
    };
    let found = u.ratio(15, 16)?;

    let outcome = check::verify(
        &presented,
        |_| found.then_some(&record),
        now,
        &settings,
        &remote,
    );

    // The model: Coder's checks in order, with Coder's details (compatibility §6), each computed
    // without the code under test.
    use RejectionKind::*;
    let expected: std::result::Result<(), (RejectionKind, String)> = if presented.is_empty() {
        Err((
            Missing,
            "Cookie \"coder_session_token\" or query parameter must be provided.".into(),
        ))
    } else if let Err(error) = Token::parse(&presented) {
        Err((Malformed, format!("Invalid API key format: {error}")))
    } else if !found || record.id.as_str() != &presented[..ID_LENGTH] {
        Err((UnknownKey, "API key is invalid.".into()))
    } else if record.hashed_secret.as_slice() != SecretHash::of_bytes(secret_bytes).as_bytes() {
        Err((InvalidSecret, "API key secret is invalid.".into()))
    } else if record.expires_at < now {
        let at = record.expires_at.go_string();
        Err((Expired, format!("API key expired at \"{at}\".")))
    } else {
        Ok(())
    };

    match outcome {
        Err(rejection) => {
            let got = (rejection.kind(), rejection.detail().to_owned());
            assert_eq!(Err(got), expected, "{presented:?}");
            assert!(matches!(
                rejection.code().name(),
                "missing" | "malformed" | "unknown_key" | "invalid_secret" | "expired"
            ));
            assert_eq!(rejection.status(), 401);
            assert_eq!(rejection.message(), SIGNED_OUT_MESSAGE);
            let challenge = tokenward::http::challenge(&rejection, &settings)
                .expect("a 401 has a challenge");
            assert!(challenge.starts_with("Bearer realm=\"coder\", error=\"invalid_token\""));
        }
        Ok(verified) => {
            assert_eq!(expected, Ok(()), "{presented:?} verified");
            assert!(std::ptr::eq(verified.key, &record));
            assert!(!record.is_expired(now));
            assert!(now <= record.expires_at);
            assert_eq!(record.id.as_str(), &presented[..ID_LENGTH]);
            assert_eq!(
                record.hashed_secret.as_slice(),
                SecretHash::of_bytes(secret_bytes).as_bytes()
            );
            check_update(&verified, &record, now, &settings, &remote);
        }
    }
    Ok(())
}

/// Compatibility §7: what a refresh may change, and that nothing moves backwards.
fn check_update(
    verified: &tokenward::Verified<&ApiKey>,
    record: &ApiKey,
    now: Timestamp,
    settings: &Settings,
    remote: &str,
) {
    if let Some(update) = verified.update {
        assert_eq!(update.id, record.id);
        assert_eq!(update.previous_expires_at, record.expires_at);
        assert!(
            update.last_used >= record.last_used,
            "last_used moved backwards"
        );
        assert!(
            update.expires_at >= record.expires_at,
            "expires_at moved backwards"
        );
        if update.last_used == record.last_used {
            assert_eq!(update.ip_address, record.ip_address);
        } else {
            assert_eq!(update.last_used, now);
            assert_eq!(update.ip_address, model_remote_ip(remote));
        }
        let never_slides = record.login_type == LoginType::Token
            || record.lifetime_seconds <= 0
            || settings.disable_session_expiry_refresh;
        if never_slides {
            assert_eq!(
                update.expires_at, record.expires_at,
                "a key that never slides slid"
            );
        }
        assert!(
            update.last_used != record.last_used || update.expires_at != record.expires_at,
            "an update that changes nothing"
        );
    }
    let updated = verified.updated_key(now);
    assert!(updated.last_used >= record.last_used);
    assert!(updated.expires_at >= record.expires_at);
    assert!(!updated.is_expired(now));
    let untouched = |k: &ApiKey| {
        (
            k.id,
            k.hashed_secret.clone(),
            k.user_id.clone(),
            k.created_at,
            k.updated_at,
            k.login_type,
            k.lifetime_seconds,
            k.token_name.clone(),
        )
    };
    assert_eq!(untouched(&updated), untouched(record));
}

/// The model of the address Coder records: a bare IP, canonical; anything else `0.0.0.0`.
fn model_remote_ip(remote: &str) -> std::net::IpAddr {
    remote
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_canonical())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}
