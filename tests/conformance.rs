//! Conformance: the checklist of `docs/compatibility.md` §9, item by item.
//!
//! Middleware items (§9.7-§9.51) run end to end through the pure pieces a host middleware
//! chains: `extract::extract_token` -> `check::verify` -> on rejection `http::answer`
//! (or `http::redirect_to_login`), on success `ApiKey::apply` of the `KeyUpdate`. Generator and
//! handler items run through `issue`.
//!
//! Every expectation is written from `docs/compatibility.md`, never copied from tokenward's output.
//! Seeded keys carry SHA-256 digests computed with Python's `hashlib` (see [`Seed`]); digests of
//! freshly generated secrets are recomputed with `ring`, an implementation independent of the
//! `sha2` crate tokenward uses.

mod common;

use common::{hex, unhex};

use std::collections::HashMap;

use serde_json::Value;
use tokenward::check;
use tokenward::extract::{self, TokenSource};
use tokenward::http::{self, HttpAnswer};
use tokenward::issue::{self, CreateTokenRequest, KeyParams, NewKey, User};
use tokenward::{
    AllowEntry, ApiKey, Duration, Error, KeyId, KeyUpdate, LoginType, Operation, Scope, Settings,
    StoreError, StoreErrorKind, Timestamp,
};

/// Coder's `SignedOutErrorMessage` (compatibility §6), verbatim.
const SIGNED_OUT: &str =
    "You are signed out or your session has expired. Please sign in again to continue.";
/// Coder's internal-error message (compatibility §6), verbatim.
const INTERNAL: &str =
    "An internal error occurred. Please try again or contact the system administrator.";
/// The challenge of every SignedOut 401 without an access URL (compatibility §6, §10).
const EXPIRED_CHALLENGE: &str = "Bearer realm=\"coder\", error=\"invalid_token\", error_description=\"The access token has expired\"";
/// Coder's JSON content type (`httpapi.Write`).
const JSON: &str = "application/json; charset=utf-8";

/// "now" for every test: a fraction of a second, so printed times show Go's formatting.
const NOW: &str = "2026-03-01T12:00:00.123456Z";
const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

fn now() -> Timestamp {
    Timestamp::parse_rfc3339(NOW).unwrap()
}

/// `now` plus `seconds` (negative for the past), computed on raw microseconds.
fn at(seconds: i64) -> Timestamp {
    at_micros(seconds * 1_000_000)
}

fn at_micros(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(now().unix_micros() + micros)
}

fn seconds(n: i64) -> Duration {
    Duration::from_nanos(n * NANOS_PER_SECOND)
}

fn hours(n: i64) -> Duration {
    seconds(n * HOUR)
}

fn days(n: i64) -> Duration {
    seconds(n * DAY)
}

fn scope(name: &str) -> Scope {
    Scope::public(name).unwrap()
}

/// SHA-256 by `ring`, independent of the `sha2` crate tokenward hashes with.
fn sha256_by_ring(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A key seeded into the host's store. `sha256` is
/// `python3 -c 'import hashlib; print(hashlib.sha256(b"<secret>").hexdigest())'`.
struct Seed {
    id: &'static str,
    secret: &'static str,
    sha256: &'static str,
    user: &'static str,
}

const ALICE: Seed = Seed {
    id: "A1ic3Key01",
    secret: "aliceSecretAliceSecret",
    sha256: "11c0d405e890121c6442f4f080b8a7b1001da0beee0c7ba92070096d5e827efb",
    user: "alice",
};
const BOB: Seed = Seed {
    id: "B0bKey0002",
    secret: "bobSecretBobSecretBob1",
    sha256: "a82bdb1f1902b05e5954604614fbb800ff3db6818ee640730343c2b478562252",
    user: "bob",
};
const CAROL: Seed = Seed {
    id: "C4rolKey03",
    secret: "carolSecretCarolSecret",
    sha256: "cb4fc87487ff64ec2a2ee4d4ae119d3fa8142cd6705c31402a134ea62d7ca101",
    user: "carol",
};
const DAVE: Seed = Seed {
    id: "D4veKey004",
    secret: "daveSecretDaveSecret01",
    sha256: "c1ca9f3e291dfa0f3d273973c41fe25121c9fb2ebe13d137fa2f3146dd6769fb",
    user: "dave",
};
const ERIN: Seed = Seed {
    id: "Er1nKey005",
    secret: "erinSecretErinSecret02",
    sha256: "9b153befa2cb56516651a25bb6506c60ab45cd3fa181f3719870ad7bbd3f5e07",
    user: "erin",
};

impl Seed {
    fn token(&self) -> String {
        format!("{}-{}", self.id, self.secret)
    }

    /// The row as httpmw's tests seed it: login `password`, lifetime 86400, used just now,
    /// expiring in a day.
    fn key(&self) -> ApiKey {
        {
            let mut key = ApiKey::new(
                KeyId::parse(self.id).unwrap(),
                unhex(self.sha256),
                self.user,
                LoginType::Password,
                at(-DAY),
                at(DAY),
            );
            key.last_used = now();
            key.updated_at = at(-DAY);
            key.lifetime_seconds = 86_400;
            key.ip_address = "0.0.0.0".parse().unwrap();
            key.token_name = String::new();
            key.scopes = vec![scope("coder:all")];
            key.allow_list = vec![AllowEntry::wildcard()];
            key
        }
    }

    fn key_with(&self, change: impl FnOnce(&mut ApiKey)) -> ApiKey {
        let mut key = self.key();
        change(&mut key);
        key
    }
}

/// What the host middleware did with one request.
#[derive(Debug)]
struct Response {
    status: u16,
    /// The authenticated key, after its update was applied (the "key in context").
    key: Option<ApiKey>,
    /// The write-back the host persisted, if any.
    update: Option<KeyUpdate>,
    /// The error answer; `None` when the request went through to the handler.
    answer: Option<HttpAnswer>,
}

impl Response {
    fn user(&self) -> &str {
        &self.key.as_ref().expect("an authenticated request").user_id
    }

    fn answer(&self) -> &HttpAnswer {
        self.answer.as_ref().expect("an error answer")
    }

    fn body(&self) -> Value {
        serde_json::from_str(&self.answer().body).unwrap()
    }

    fn message(&self) -> String {
        self.body()["message"].as_str().unwrap().to_owned()
    }

    fn detail(&self) -> String {
        self.body()["detail"].as_str().unwrap().to_owned()
    }

    fn challenge(&self) -> &str {
        self.answer()
            .header("WWW-Authenticate")
            .expect("a WWW-Authenticate challenge")
    }
}

/// A host that keeps its keys in a map by id and chains tokenward's pure pieces.
struct Host {
    keys: HashMap<KeyId, ApiKey>,
    settings: Settings,
    remote_addr: &'static str,
    /// When set, the store fails every lookup with this error.
    store_error: Option<&'static str>,
}

impl Host {
    fn new(keys: impl IntoIterator<Item = ApiKey>) -> Host {
        Host {
            keys: keys.into_iter().map(|k| (k.id, k)).collect(),
            settings: Settings::default(),
            remote_addr: "",
            store_error: None,
        }
    }

    /// A request carrying `token` in the `Coder-Session-Token` header, as httpmw's tests send it.
    fn with_header(&mut self, token: &str, now: Timestamp) -> Response {
        self.request(&[("Coder-Session-Token", token)], "", now)
    }

    /// extract -> verify -> answer, or apply and persist the update.
    fn request(&mut self, headers: &[(&str, &str)], query: &str, now: Timestamp) -> Response {
        let presented = extract::extract_token(headers, query)
            .map(|found| found.token.into_owned())
            .unwrap_or_default();
        let verdict = check::try_verify(
            &presented,
            |id| match self.store_error {
                Some(cause) => Err(StoreError::new(StoreErrorKind::Io, Operation::Get, cause)),
                None => Ok(self.keys.get(&id)),
            },
            now,
            &self.settings,
            self.remote_addr,
        )
        .map(|verified| (verified.key.clone(), verified.update));
        match verdict {
            Ok((mut key, update)) => {
                if let Some(update) = &update {
                    key.apply(update, now);
                    self.keys.insert(key.id, key.clone());
                }
                Response {
                    status: 200,
                    key: Some(key),
                    update,
                    answer: None,
                }
            }
            Err(rejection) => {
                let answer = http::answer(&rejection, &self.settings);
                Response {
                    status: answer.status,
                    key: None,
                    update: None,
                    answer: Some(answer),
                }
            }
        }
    }
}

/// One request against a host holding `keys`, with Coder's default settings.
fn request(headers: &[(&str, &str)], query: &str, keys: &[ApiKey], now: Timestamp) -> Response {
    Host::new(keys.iter().cloned()).request(headers, query, now)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn cookie(token: &str) -> String {
    format!("coder_session_token={token}")
}

/// [`Host::with_header`] against a host holding `keys`, with Coder's default settings.
fn with_header(token: &str, keys: &[ApiKey], now: Timestamp) -> Response {
    Host::new(keys.iter().cloned()).with_header(token, now)
}

fn with_bearer(token: &str, keys: &[ApiKey], now: Timestamp) -> Response {
    request(&[("Authorization", &bearer(token))], "", keys, now)
}

fn assert_signed_out_401(response: &Response, detail: &str) {
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(response.message(), SIGNED_OUT);
    assert_eq!(response.detail(), detail);
    assert!(response.key.is_none());
}

fn params() -> KeyParams {
    KeyParams {
        user_id: "alice".into(),
        login_type: LoginType::Password,
        default_lifetime: Duration::ZERO,
        expires_at: None,
        lifetime_seconds: 0,
        scopes: Vec::new(),
        token_name: String::new(),
        remote_addr: String::new(),
        allow_list: Vec::new(),
    }
}

fn member() -> User {
    User::new("member-1", &[])
}

fn owner() -> User {
    User::new("owner-1", &["owner"])
}

fn create(request: CreateTokenRequest, user: &User, settings: &Settings) -> NewKey {
    issue::token_key(&request, user, settings, now(), "203.0.113.7").unwrap()
}

fn lifetime(d: Duration) -> CreateTokenRequest {
    CreateTokenRequest {
        lifetime: d,
        ..CreateTokenRequest::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Generator (§9.1-§9.6)
// ---------------------------------------------------------------------------------------------

#[test]
fn item_1_generate_with_explicit_expiry_keeps_every_input() {
    // Given as 15:00 at +02:00: the record must hold the same instant in UTC.
    let expires = Timestamp::parse_rfc3339("2026-03-01T15:00:00.123456+02:00").unwrap();
    let minted = issue::generate(
        KeyParams {
            login_type: LoginType::Oidc,
            expires_at: Some(expires),
            lifetime_seconds: 3600,
            scopes: vec![scope("application_connect")],
            token_name: "hello".into(),
            remote_addr: "1.2.3.4".into(),
            ..params()
        },
        now(),
    )
    .unwrap();
    let key = &minted.key;
    let text = minted.token.expose();

    let parts: Vec<&str> = text.split('-').collect();
    assert_eq!(parts.len(), 2, "{text}");
    assert_eq!(parts[0], key.id.as_str());
    assert_eq!(key.hashed_secret, sha256_by_ring(parts[1].as_bytes()));
    assert_eq!(key.user_id, "alice");
    // `now` is explicit, so "within 5s of now" is exactly now.
    assert_eq!((key.created_at, key.updated_at), (now(), now()));
    assert_eq!(key.lifetime_seconds, 3600);
    assert_eq!(key.expires_at.to_rfc3339(), "2026-03-01T13:00:00.123456Z");
    assert_eq!(key.ip_address.to_string(), "1.2.3.4");
    assert!(key.scopes.contains(&scope("coder:application_connect")));
    assert_eq!(key.token_name, "hello");
    assert_eq!(key.login_type, LoginType::Oidc);
    // §4.1 step 6: a new key was never used.
    assert_eq!(key.last_used, Timestamp::UNIX_EPOCH);
}

#[test]
fn item_2_scope_test_is_rejected() {
    // `generate` takes already-validated `Scope`s and cannot be handed "test" at all: the only
    // public constructor is `Scope::public`, which refuses it. Requests are validated by
    // `issue::requested_scopes`, and `issue::token_key` calls it.
    assert_eq!(Scope::public("test"), None);
    let err = issue::requested_scopes(Some("test"), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid or unsupported API key scope: \"test\""
    );
    let err = issue::requested_scopes(None, &["test".to_owned()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid or unsupported API key scope: \"test\""
    );

    let request = CreateTokenRequest {
        scope: Some("test".into()),
        ..CreateTokenRequest::default()
    };
    let err = issue::token_key(&request, &member(), &Settings::default(), now(), "").unwrap_err();
    let answer = http::answer(&err, &Settings::default());
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        "{\"message\":\"Failed to create API key.\",\"detail\":\"invalid or unsupported API key scope: \\\"test\\\"\"}\n"
    );
}

#[test]
fn item_3_default_lifetime_sets_expiry_and_lifetime_seconds() {
    let key = issue::generate(
        KeyParams {
            default_lifetime: hours(1),
            ..params()
        },
        now(),
    )
    .unwrap()
    .key;
    assert_eq!(key.expires_at, at(HOUR));
    assert_eq!(key.lifetime_seconds, 3600);
}

#[test]
fn item_4_lifetime_seconds_without_expiry_sets_expiry() {
    let key = issue::generate(
        KeyParams {
            lifetime_seconds: 3600,
            ..params()
        },
        now(),
    )
    .unwrap()
    .key;
    assert_eq!(key.expires_at, at(3600));
    assert_eq!(key.lifetime_seconds, 3600);
}

#[test]
fn item_5_empty_remote_addr_is_stored_as_0_0_0_0() {
    let ip_for = |remote_addr: &str| {
        issue::generate(
            KeyParams {
                remote_addr: remote_addr.into(),
                default_lifetime: hours(1),
                ..params()
            },
            now(),
        )
        .unwrap()
        .key
        .ip_address
        .to_string()
    };
    assert_eq!(ip_for(""), "0.0.0.0");
    // §4.1 step 4: `ip:port` is not a bare IP either.
    assert_eq!(ip_for("1.2.3.4:80"), "0.0.0.0");
}

#[test]
fn item_6_empty_scopes_mean_coder_all() {
    let key = issue::generate(
        KeyParams {
            default_lifetime: hours(1),
            ..params()
        },
        now(),
    )
    .unwrap()
    .key;
    assert_eq!(key.scopes, vec![scope("coder:all")]);
    assert_eq!(key.scopes[0].as_str(), "coder:all");
    assert_eq!(
        issue::requested_scopes(None, &[]).unwrap(),
        vec![scope("coder:all")]
    );
}

// ---------------------------------------------------------------------------------------------
// Middleware (§9.7-§9.31)
// ---------------------------------------------------------------------------------------------

#[test]
fn item_7_no_token_is_401() {
    let response = request(&[], "", &[ALICE.key()], now());
    assert_signed_out_401(
        &response,
        "Cookie \"coder_session_token\" or query parameter must be provided.",
    );
}

#[test]
fn item_8_no_token_with_redirect_to_login_is_303_to_login_with_a_message() {
    let presented = extract::extract_token(&[], "").map(|found| found.token.into_owned());
    assert_eq!(presented, None);
    let rejection =
        check::verify("", |_| None::<&ApiKey>, now(), &Settings::default(), "").unwrap_err();
    let answer = http::redirect_to_login(&rejection, "/workspaces?x=1");

    assert_eq!(answer.status, 303);
    let location = answer.header("Location").unwrap();
    let (path, query) = location.split_once('?').unwrap();
    assert_eq!(path, "/login");
    let message = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("message="))
        .unwrap();
    assert!(!message.is_empty(), "{location}");
    // Go's url.QueryEscape of SignedOut: spaces as `+`, `.` kept.
    assert!(message.starts_with("You+are+signed+out+or+your+session+has+expired."));
    assert!(
        query
            .split('&')
            .any(|pair| pair == "redirect=%2Fworkspaces%3Fx%3D1")
    );
    // Redirects carry no challenge (compatibility §6: only when not redirecting).
    assert_eq!(answer.header("WWW-Authenticate"), None);
}

#[test]
fn item_9_three_parts_is_401() {
    assert_signed_out_401(
        &with_header("test-wow-hello", &[ALICE.key()], now()),
        "Invalid API key format: incorrect amount of API key parts, expected 2 got 3",
    );
}

#[test]
fn item_10_id_of_length_4_is_401() {
    assert_signed_out_401(
        &with_header("test-wow", &[ALICE.key()], now()),
        "Invalid API key format: invalid API key ID length, expected 10 got 4",
    );
}

#[test]
fn item_11_secret_of_length_3_is_401() {
    assert_signed_out_401(
        &with_header("testtestid-wow", &[ALICE.key()], now()),
        "Invalid API key format: invalid API key secret length, expected 22 got 3",
    );
}

#[test]
fn item_12_well_formed_token_with_unknown_id_is_401() {
    // Bob's token against a store that only knows Alice.
    assert_signed_out_401(
        &with_header(&BOB.token(), &[ALICE.key()], now()),
        "API key is invalid.",
    );
}

#[test]
fn item_13_store_error_on_lookup_is_500_with_internal_message() {
    let rejection = Error::from(StoreError::new(
        StoreErrorKind::Io,
        Operation::Get,
        "connection refused",
    ));
    let answer = http::answer(&rejection, &Settings::default());
    assert_eq!(answer.status, 500);
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["message"], INTERNAL);
    assert_ne!(body["message"], SIGNED_OUT);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Internal error fetching API key by id")
    );
    // A 500 is not a 401 or 403: no challenge (compatibility §6).
    assert_eq!(answer.header("WWW-Authenticate"), None);

    // The same through the host chain, whose store fails.
    let mut host = Host::new([ALICE.key()]);
    host.store_error = Some("connection refused");
    let response = host.with_header(&ALICE.token(), now());
    assert_eq!(response.status, 500);
    assert_eq!(response.message(), INTERNAL);
    assert_eq!(
        response.detail(),
        "Internal error fetching API key by id. connection refused"
    );
}

#[test]
fn item_15_stored_hash_of_a_different_secret_is_401() {
    let key = ALICE.key_with(|k| k.hashed_secret = unhex(BOB.sha256));
    assert_signed_out_401(
        &with_header(&ALICE.token(), &[key], now()),
        "API key secret is invalid.",
    );
}

#[test]
fn item_16_expired_key_is_401_with_detail_api_key_expired() {
    let key = ALICE.key_with(|k| k.expires_at = at(-HOUR));
    let response = with_header(&ALICE.token(), &[key], now());
    assert!(response.detail().starts_with("API key expired"));
    // fine points: expires_at as Go's Time.String() in UTC.
    assert_signed_out_401(
        &response,
        "API key expired at \"2026-03-01 11:00:00.123456 +0000 UTC\".",
    );
}

#[test]
fn expiry_is_strict_a_key_is_valid_at_the_microsecond_it_expires() {
    // §6 row 5: `expires_at < now`; equal is still valid.
    let key = ALICE.key_with(|k| k.expires_at = now());
    assert_eq!(
        with_header(&ALICE.token(), std::slice::from_ref(&key), now()).status,
        200
    );
    let response = with_header(&ALICE.token(), &[key], at_micros(1));
    assert_eq!(response.status, 401);
    assert!(response.detail().starts_with("API key expired"));
}

#[test]
fn item_17_valid_key_is_200_with_key_in_context_and_expiry_unchanged() {
    let response = with_header(&ALICE.token(), &[ALICE.key()], now());
    assert_eq!(response.status, 200);
    let key = response.key.as_ref().unwrap();
    assert_eq!(key.id.as_str(), ALICE.id);
    assert_eq!(response.user(), "alice");
    assert_eq!(key.expires_at, at(DAY));
    assert_eq!(response.update, None);
}

#[test]
fn item_18_application_connect_key_sent_as_cookie_keeps_its_scope() {
    let key = ALICE.key_with(|k| k.scopes = vec![scope("coder:application_connect")]);
    let response = request(&[("Cookie", &cookie(&ALICE.token()))], "", &[key], now());
    assert_eq!(response.status, 200);
    assert_eq!(
        response.key.unwrap().scopes,
        vec![scope("coder:application_connect")]
    );
}

#[test]
fn item_19_token_in_query_parameter_coder_session_token_is_200() {
    let query = format!("coder_session_token={}", ALICE.token());
    let response = request(&[], &query, &[ALICE.key()], now());
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_20_last_used_a_day_ago_is_updated_and_expiry_unchanged() {
    let key = ALICE.key_with(|k| k.last_used = at(-DAY));
    let response = with_header(&ALICE.token(), &[key], now());
    assert_eq!(response.status, 200);
    let key = response.key.unwrap();
    assert_eq!(key.last_used, now());
    assert_eq!(key.expires_at, at(DAY));
}

#[test]
fn item_21_password_session_near_expiry_slides_to_now_plus_lifetime() {
    let key = ALICE.key_with(|k| k.expires_at = at(MINUTE));
    let response = with_header(&ALICE.token(), &[key], now());
    assert_eq!(response.status, 200);
    let key = response.key.unwrap();
    assert_eq!(key.last_used, now(), "last_used unchanged");
    assert_eq!(key.expires_at, at(DAY), "now + 86400s");
}

#[test]
fn item_22_token_key_near_expiry_does_not_slide() {
    // PR #26376: `token` keys never slide.
    let key = ALICE.key_with(|k| {
        k.login_type = LoginType::Token;
        k.expires_at = at(MINUTE);
    });
    let response = with_header(&ALICE.token(), &[key], now());
    assert_eq!(response.status, 200);
    assert_eq!(response.update, None);
    let key = response.key.unwrap();
    assert_eq!((key.last_used, key.expires_at), (now(), at(MINUTE)));
}

#[test]
fn item_23_disabled_refresh_updates_last_used_but_not_expiry() {
    let run = |expires_at: Timestamp| {
        let key = ALICE.key_with(|k| {
            k.last_used = at(-DAY);
            k.expires_at = expires_at;
        });
        let mut host = Host::new([key]);
        host.settings.disable_session_expiry_refresh = true;
        host.with_header(&ALICE.token(), now())
    };
    let key = run(at(DAY)).key.unwrap();
    assert_eq!((key.last_used, key.expires_at), (now(), at(DAY)));
    // Also where a refresh would otherwise slide it (compare item 21).
    let key = run(at(MINUTE)).key.unwrap();
    assert_eq!((key.last_used, key.expires_at), (now(), at(MINUTE)));
}

#[test]
fn item_29_refresh_records_the_remote_address() {
    let key = ALICE.key_with(|k| k.last_used = at(-DAY));
    let mut host = Host::new([key]);
    host.remote_addr = "1.1.1.1";
    let response = host.with_header(&ALICE.token(), now());
    assert_eq!(response.status, 200);
    assert_eq!(response.key.unwrap().ip_address.to_string(), "1.1.1.1");
    assert_eq!(
        host.keys[&KeyId::parse(ALICE.id).unwrap()]
            .ip_address
            .to_string(),
        "1.1.1.1"
    );
}

#[test]
fn item_31_recently_used_token_key_is_200_and_nothing_changes() {
    let key = ALICE.key_with(|k| k.login_type = LoginType::Token);
    let response = with_header(&ALICE.token(), std::slice::from_ref(&key), now());
    assert_eq!(response.status, 200);
    assert_eq!(response.update, None);
    let after = response.key.unwrap();
    assert_eq!(after, key);
    assert_eq!(after.login_type, LoginType::Token);
}

// ---------------------------------------------------------------------------------------------
// RFC 6750 (§9.37-§9.51)
// ---------------------------------------------------------------------------------------------

#[test]
fn item_37_bearer_token_is_200() {
    let response = with_bearer(&ALICE.token(), &[ALICE.key()], now());
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_38_access_token_query_parameter_is_200() {
    let query = format!("access_token={}", ALICE.token());
    let response = request(&[], &query, &[ALICE.key()], now());
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_39_session_token_header_beats_bearer() {
    let response = request(
        &[
            ("Coder-Session-Token", &ALICE.token()),
            ("Authorization", &bearer(&BOB.token())),
        ],
        "",
        &[ALICE.key(), BOB.key()],
        now(),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_40_extractor_precedence() {
    let found = |headers: &[(&str, &str)], query: &str| {
        extract::extract_token(headers, query).map(|f| (f.token.into_owned(), f.source))
    };
    // Cookie beats Bearer.
    assert_eq!(
        found(
            &[
                ("Authorization", "Bearer bearer-token"),
                ("Cookie", "coder_session_token=cookie-token")
            ],
            ""
        ),
        Some(("cookie-token".into(), TokenSource::Cookie))
    );
    // No credentials: no token ("").
    assert_eq!(found(&[], ""), None);
    // Basic is ignored.
    assert_eq!(found(&[("Authorization", "Basic dXNlcjpwYXNz")], ""), None);
    assert_eq!(
        found(&[("Authorization", "Bearer x")], ""),
        Some(("x".into(), TokenSource::Bearer))
    );
    assert_eq!(
        found(&[], "access_token=x"),
        Some(("x".into(), TokenSource::AccessToken))
    );
}

#[test]
fn item_41_invalid_bearer_is_401_with_invalid_token_challenge() {
    let response = with_bearer("invalid-token", &[ALICE.key()], now());
    assert_eq!(response.status, 401);
    let challenge = response.challenge();
    assert!(challenge.contains("Bearer"), "{challenge}");
    assert!(challenge.contains("realm=\"coder\""), "{challenge}");
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[test]
fn item_42_expired_bearer_is_401_with_expired_challenge() {
    let key = ALICE.key_with(|k| k.expires_at = at(-HOUR));
    let response = with_bearer(&ALICE.token(), &[key], now());
    assert_eq!(response.status, 401);
    assert!(
        response
            .challenge()
            .contains("error_description=\"The access token has expired\"")
    );
    assert_eq!(response.challenge(), EXPIRED_CHALLENGE);
}

#[test]
fn item_43_no_token_is_401_with_bearer_realm_challenge() {
    let response = request(&[], "", &[ALICE.key()], now());
    assert_eq!(response.status, 401);
    assert!(response.challenge().starts_with("Bearer realm=\"coder\""));

    // fine points: with an access URL the challenge names the resource metadata.
    let mut host = Host::new([ALICE.key()]);
    host.settings.access_url = Some("https://coder.example.com/".into());
    let response = host.request(&[], "", now());
    assert_eq!(
        response.challenge(),
        format!(
            "{EXPIRED_CHALLENGE}, resource_metadata=\"https://coder.example.com/.well-known/oauth-protected-resource\""
        )
    );
}

#[test]
fn item_44_each_users_token_resolves_to_that_user() {
    let keys = [ALICE.key(), BOB.key()];
    assert_eq!(with_bearer(&ALICE.token(), &keys, now()).user(), "alice");
    assert_eq!(with_bearer(&BOB.token(), &keys, now()).user(), "bob");
}

#[test]
fn item_45_id_of_one_key_with_secret_of_another_is_401() {
    let spliced = format!("{}-{}", ALICE.id, BOB.secret);
    let response = with_bearer(&spliced, &[ALICE.key(), BOB.key()], now());
    assert_signed_out_401(&response, "API key secret is invalid.");
    assert!(response.challenge().contains("invalid_token"));
}

#[test]
fn item_46_garbage_bearer_tokens_are_all_401_with_a_challenge() {
    for token in [
        "invalid-token-1".to_owned(),
        "a".to_owned(),
        "x".repeat(100),
    ] {
        let response = with_bearer(&token, &[ALICE.key()], now());
        assert_eq!(response.status, 401, "{token}");
        assert!(response.challenge().starts_with("Bearer "), "{token}");
    }
}

#[test]
fn item_47_malformed_authorization_values_are_401_with_realm_challenge() {
    for value in [
        "invalid-token",
        "bearer token",
        "Bearer  token-with-extra-spaces",
        "Bearer ",
        "Bearer",
        "Bearer token1 Bearer token2",
        "Bearer !!!invalid-base64!!!",
    ] {
        let response = request(&[("Authorization", value)], "", &[ALICE.key()], now());
        assert_eq!(response.status, 401, "{value:?}");
        assert!(
            response.challenge().contains("realm=\"coder\""),
            "{value:?}"
        );
    }
    // Lower-case scheme is accepted and the token trimmed (§5): a valid token goes through.
    let value = format!("bearer   {}  ", ALICE.token());
    let response = request(&[("Authorization", &value)], "", &[ALICE.key()], now());
    assert_eq!(response.status, 200);
}

#[test]
fn item_48_valid_cookie_with_bad_bearer_uses_the_cookie() {
    let response = request(
        &[
            ("Cookie", &cookie(&ALICE.token())),
            ("Authorization", "Bearer invalid-token"),
        ],
        "",
        &[ALICE.key()],
        now(),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_49_valid_session_query_with_bad_bearer_is_200() {
    let query = format!("coder_session_token={}", ALICE.token());
    let response = request(
        &[("Authorization", "Bearer invalid-token")],
        &query,
        &[ALICE.key()],
        now(),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

#[test]
fn item_50_bearer_alone_or_access_token_alone_is_200() {
    assert_eq!(
        with_bearer(&ALICE.token(), &[ALICE.key()], now()).status,
        200
    );
    let query = format!("access_token={}", ALICE.token());
    assert_eq!(request(&[], &query, &[ALICE.key()], now()).status, 200);
}

#[test]
fn item_51_every_method_at_once_uses_the_cookie() {
    let keys = [ALICE.key(), BOB.key(), CAROL.key(), DAVE.key(), ERIN.key()];
    let query = format!(
        "access_token={}&coder_session_token={}",
        ERIN.token(),
        BOB.token()
    );
    let response = request(
        &[
            ("Authorization", &bearer(&DAVE.token())),
            ("Coder-Session-Token", &CAROL.token()),
            ("Cookie", &cookie(&ALICE.token())),
        ],
        &query,
        &keys,
        now(),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.user(), "alice");
}

// ---------------------------------------------------------------------------------------------
// Handlers (§9.52-§9.65)
// ---------------------------------------------------------------------------------------------

#[test]
fn item_52_token_from_an_empty_request_has_coders_defaults() {
    let minted = create(
        CreateTokenRequest::default(),
        &member(),
        &Settings::default(),
    );
    let text = minted.token.expose();
    let key = &minted.key;

    // §1: `<10 id>-<22 secret>` over the 62-symbol alphabet; the id is a prefix of the key.
    assert!(text.len() > 2);
    assert_eq!(text.len(), 33);
    assert_eq!(&text[10..11], "-");
    assert!(
        text.bytes()
            .enumerate()
            .all(|(i, b)| i == 10 || b.is_ascii_alphanumeric()),
        "{text}"
    );
    assert!(text.starts_with(key.id.as_str()));
    assert!(text.starts_with(&format!("{}-", key.id)));

    assert!(key.expires_at > at(6 * DAY) && key.expires_at < at(8 * DAY));
    assert_eq!(key.expires_at, at(7 * DAY));
    assert_eq!(key.login_type, LoginType::Token);

    let view = serde_json::to_value(key.public()).unwrap();
    assert_eq!(view["scope"], "all");
    assert_eq!(view["scopes"], serde_json::json!(["coder:all"]));
    assert_eq!(
        view["allow_list"],
        serde_json::json!([{"type": "*", "id": "*"}])
    );
    assert_eq!(view["id"], key.id.as_str());

    // §4.2 step 4: an empty name gets `adjective_surname` plus one digit.
    let (adjective, surname) = key.token_name.split_once('_').unwrap();
    let (letters, digit) = surname.split_at(surname.len() - 1);
    assert!(!adjective.is_empty() && adjective.bytes().all(|b| b.is_ascii_lowercase()));
    assert!(!letters.is_empty() && letters.bytes().all(|b| b.is_ascii_lowercase()));
    assert!(
        digit.bytes().all(|b| b.is_ascii_digit()),
        "{}",
        key.token_name
    );
}

#[test]
fn item_54_application_connect_token_reads_as_application_connect() {
    let minted = create(
        CreateTokenRequest {
            scope: Some("application_connect".into()),
            ..CreateTokenRequest::default()
        },
        &member(),
        &Settings::default(),
    );
    let view = serde_json::to_value(minted.key.public()).unwrap();
    assert_eq!(view["scope"], "application_connect");
    assert_eq!(
        view["allow_list"],
        serde_json::json!([{"type": "*", "id": "*"}])
    );
}

#[test]
fn item_55_legacy_scopes_map_to_canonical_names() {
    for (legacy, canonical) in [
        ("all", "coder:all"),
        ("application_connect", "coder:application_connect"),
    ] {
        let minted = create(
            CreateTokenRequest {
                scope: Some(legacy.into()),
                ..CreateTokenRequest::default()
            },
            &member(),
            &Settings::default(),
        );
        let view = serde_json::to_value(minted.key.public()).unwrap();
        assert_eq!(view["scope"], legacy);
        assert_eq!(view["scopes"], serde_json::json!([canonical]));
    }
}

#[test]
fn item_56_lifetime_of_7_days_expires_between_6_and_8_days() {
    let key = create(lifetime(days(7)), &member(), &Settings::default()).key;
    assert!(key.expires_at > at(6 * DAY) && key.expires_at < at(8 * DAY));
    assert_eq!(key.lifetime_seconds, 7 * DAY);
}

/// `Ok(lifetime_seconds)` or the error's detail, for a token of `lifetime` for `user`.
fn try_create(user: &User, settings: &Settings, d: Duration) -> Result<i64, String> {
    issue::token_key(&lifetime(d), user, settings, now(), "")
        .map(|minted| minted.key.lifetime_seconds)
        .map_err(|err| err.to_string())
}

#[test]
fn item_57_member_maximum_of_7_days_allows_6_and_refuses_8() {
    let settings = {
        let mut s = Settings::default();
        s.max_token_lifetime = days(7);
        s
    };
    assert_eq!(try_create(&member(), &settings, days(6)), Ok(6 * DAY));
    let err = try_create(&member(), &settings, days(8)).unwrap_err();
    assert!(err.contains("lifetime must be less"), "{err}");
    // fine points: the maximum printed as Go prints a Duration.
    assert_eq!(err, "lifetime must be less than 168h0m0s");
    // §4.2 step 6: equal to the maximum is allowed despite the wording.
    assert_eq!(try_create(&member(), &settings, days(7)), Ok(7 * DAY));

    let failure =
        issue::token_key(&lifetime(days(8)), &member(), &settings, now(), "").unwrap_err();
    assert_eq!(
        http::answer(&failure, &Settings::default()).body,
        "{\"message\":\"Failed to validate create API key request.\",\"detail\":\"lifetime must be less than 168h0m0s\"}\n"
    );
}

#[test]
fn item_58_owner_gets_the_larger_admin_maximum() {
    let settings = {
        let mut s = Settings::default();
        s.max_token_lifetime = days(7);
        s.max_admin_token_lifetime = days(14);
        s
    };
    assert_eq!(issue::max_token_lifetime(&settings, &owner()), days(14));
    assert_eq!(issue::max_token_lifetime(&settings, &member()), days(7));
    assert_eq!(try_create(&owner(), &settings, days(10)), Ok(10 * DAY));
    assert_eq!(
        try_create(&owner(), &settings, days(15)),
        Err("lifetime must be less than 336h0m0s".into())
    );
    assert_eq!(
        try_create(&member(), &settings, days(8)),
        Err("lifetime must be less than 168h0m0s".into())
    );
    assert_eq!(try_create(&member(), &settings, days(6)), Ok(6 * DAY));
}

#[test]
fn item_59_owner_maximum_replaces_the_member_maximum_even_when_smaller() {
    let settings = {
        let mut s = Settings::default();
        s.max_token_lifetime = days(14);
        s.max_admin_token_lifetime = days(7);
        s
    };
    assert_eq!(issue::max_token_lifetime(&settings, &owner()), days(7));
    assert_eq!(issue::max_token_lifetime(&settings, &member()), days(14));
    assert_eq!(
        try_create(&owner(), &settings, days(8)),
        Err("lifetime must be less than 168h0m0s".into())
    );
    assert_eq!(try_create(&owner(), &settings, days(6)), Ok(6 * DAY));
    assert_eq!(try_create(&member(), &settings, days(10)), Ok(10 * DAY));
    assert_eq!(
        try_create(&member(), &settings, days(15)),
        Err("lifetime must be less than 336h0m0s".into())
    );
}

#[test]
fn item_60_default_token_lifetime_of_12h_gives_43200_seconds() {
    let settings = {
        let mut s = Settings::default();
        s.default_token_lifetime = hours(12);
        s
    };
    let key = create(CreateTokenRequest::default(), &member(), &settings).key;
    assert_eq!(key.lifetime_seconds, 43_200);
    assert_eq!(key.expires_at, at(12 * HOUR));

    let expiry = issue::token_expiry(&settings, &member(), Duration::ZERO, now()).unwrap();
    assert_eq!(
        (expiry.lifetime_seconds, expiry.expires_at),
        (43_200, at(12 * HOUR))
    );
}

#[test]
fn lifetime_zero_takes_the_default_even_above_the_maximum() {
    // §10: `lifetime = 0` bypasses the maximum check.
    let settings = {
        let mut s = Settings::default();
        s.max_token_lifetime = hours(1);
        s
    };
    assert_eq!(
        try_create(&member(), &settings, Duration::ZERO),
        Ok(7 * DAY)
    );
    assert_eq!(
        try_create(&member(), &settings, seconds(-1)),
        Err("lifetime must be positive number greater than 0".into())
    );
}

#[test]
fn item_61_one_second_session_expires_and_then_answers_session_has_expired() {
    let settings = {
        let mut s = Settings::default();
        s.session_duration = seconds(1);
        s
    };
    let minted = issue::session_key(
        "alice",
        LoginType::Password,
        settings.session_duration,
        "203.0.113.7",
        now(),
    )
    .unwrap();
    let key = minted.key;
    assert_eq!(key.lifetime_seconds, 1);
    assert_eq!(
        key.expires_at.unix_micros(),
        key.created_at.unix_micros() + 1_000_000
    );

    let token = minted.token.expose();
    let mut host = Host::new([key]);
    host.settings = settings;
    let response = host.request(&[("Cookie", &cookie(&token))], "", at(2));
    assert_eq!(response.status, 401);
    assert!(response.message().contains("session has expired"));
    assert!(response.detail().starts_with("API key expired"));
}

#[test]
fn item_65_session_key_with_12h_default_token_lifetime_gives_43200_seconds() {
    let settings = {
        let mut s = Settings::default();
        s.default_token_lifetime = hours(12);
        s
    };
    let key = issue::session_key(
        "alice",
        LoginType::Password,
        settings.default_token_lifetime,
        "203.0.113.7",
        now(),
    )
    .unwrap()
    .key;
    assert_eq!(key.lifetime_seconds, 43_200);
    assert_eq!(key.expires_at, at(12 * HOUR));
    // §4.3: login `password`, the request's address, `[coder:all]`, no name.
    assert_eq!(key.login_type, LoginType::Password);
    assert_eq!(key.ip_address.to_string(), "203.0.113.7");
    assert_eq!(key.scopes, vec![scope("coder:all")]);
    assert_eq!(key.token_name, "");
}

// ---------------------------------------------------------------------------------------------
// last_used interval (§9.80, with main's 1-hour interval)
// ---------------------------------------------------------------------------------------------

#[test]
fn item_80_last_used_moves_only_when_older_than_the_interval() {
    let interval = HOUR * 1_000_000;
    for (age_micros, moves) in [
        (2 * interval, true),
        (interval / 2, false),
        (interval - 1, false),
        (interval, false),
        (interval + 1_000_000, true),
    ] {
        // A `token` key, so only last_used can move.
        let key = ALICE.key_with(|k| {
            k.login_type = LoginType::Token;
            k.last_used = at_micros(-age_micros);
        });
        let response = with_header(&ALICE.token(), &[key], now());
        assert_eq!(response.status, 200);
        let last_used = response.key.unwrap().last_used;
        let expected = if moves { now() } else { at_micros(-age_micros) };
        assert_eq!(last_used, expected, "age {age_micros}µs");
        assert_eq!(response.update.is_some(), moves, "age {age_micros}µs");
    }
}

// ---------------------------------------------------------------------------------------------
// What the issue asks to be shown
// ---------------------------------------------------------------------------------------------

#[test]
fn secrets_never_appear_in_debug_output() {
    let minted = create(
        CreateTokenRequest::default(),
        &member(),
        &Settings::default(),
    );
    let text = minted.token.expose();
    let secret = &text[11..];
    let hash_hex = hex(&minted.key.hashed_secret);
    let hash_list = format!("{:?}", minted.key.hashed_secret);
    for debug in [
        format!("{:?}", minted.token),
        format!("{:?}", minted.token.secret()),
        format!("{:?}", minted.key),
        format!("{minted:?}"),
        format!("{minted:#?}"),
    ] {
        assert!(!debug.contains(secret), "{debug}");
        assert!(!debug.contains(&hash_hex), "{debug}");
        assert!(!debug.contains(&hash_list), "{debug}");
    }
}

#[test]
fn a_rejection_never_repeats_the_presented_secret() {
    let key = ALICE.key();
    let wrong = format!("{}-{}", ALICE.id, BOB.secret);
    let rejection =
        check::verify(&wrong, |_| Some(&key), now(), &Settings::default(), "").unwrap_err();
    let answer = http::answer(&rejection, &Settings::default());
    for text in [
        format!("{rejection:?}"),
        rejection.to_string(),
        answer.body.clone(),
        format!("{answer:?}"),
    ] {
        assert!(!text.contains(BOB.secret), "{text}");
    }
}

#[test]
fn rejection_answers_are_coders_json_byte_for_byte() {
    let settings = Settings::default();
    let key = ALICE.key_with(|k| k.expires_at = at(-HOUR));
    let wrong_secret = format!("{}-{}", ALICE.id, BOB.secret);
    let body = |presented: &str, key: Option<&ApiKey>| {
        let rejection = check::verify(presented, |_| key, now(), &settings, "").unwrap_err();
        let answer = http::answer(&rejection, &settings);
        assert_eq!(answer.header("Content-Type"), Some(JSON));
        answer.body
    };
    let signed_out =
        |detail: &str| format!("{{\"message\":\"{SIGNED_OUT}\",\"detail\":\"{detail}\"}}\n");

    assert_eq!(
        body("", None),
        signed_out("Cookie \\\"coder_session_token\\\" or query parameter must be provided.")
    );
    assert_eq!(
        body("test-wow", None),
        signed_out("Invalid API key format: invalid API key ID length, expected 10 got 4")
    );
    assert_eq!(
        body(&ALICE.token(), None),
        signed_out("API key is invalid.")
    );
    assert_eq!(
        body(&wrong_secret, Some(&key)),
        signed_out("API key secret is invalid.")
    );
    assert_eq!(
        body(&ALICE.token(), Some(&key)),
        signed_out("API key expired at \\\"2026-03-01 11:00:00.123456 +0000 UTC\\\".")
    );
    // Go's json.Encoder escapes HTML characters.
    let answer = http::answer(
        &Error::from(StoreError::new(
            StoreErrorKind::Io,
            Operation::Get,
            "<db> & co",
        )),
        &settings,
    );
    assert_eq!(
        answer.body,
        format!(
            "{{\"message\":\"{INTERNAL}\",\"detail\":\"Internal error fetching API key by id. \\u003cdb\\u003e \\u0026 co\"}}\n"
        )
    );
}

#[test]
fn rejection_codes_are_missing_malformed_unknown_key_invalid_secret_expired() {
    let settings = Settings::default();
    let valid = ALICE.key();
    let expired = ALICE.key_with(|k| k.expires_at = at(-HOUR));
    let wrong_secret = format!("{}-{}", ALICE.id, BOB.secret);
    let code = |presented: &str, key: Option<&ApiKey>| {
        check::verify(presented, |_| key, now(), &settings, "")
            .unwrap_err()
            .code()
    };
    assert_eq!(code("", None), "missing");
    assert_eq!(code("test-wow-hello", None), "malformed");
    assert_eq!(code(&ALICE.token(), None), "unknown_key");
    // fine points: a record for another id is no record at all.
    assert_eq!(code(&ALICE.token(), Some(&BOB.key())), "unknown_key");
    assert_eq!(code(&wrong_secret, Some(&valid)), "invalid_secret");
    assert_eq!(code(&ALICE.token(), Some(&expired)), "expired");
}

#[test]
fn public_view_never_contains_the_hash() {
    let minted = create(
        CreateTokenRequest::default(),
        &member(),
        &Settings::default(),
    );
    let json = serde_json::to_string(&minted.key.public()).unwrap();
    assert!(!json.contains("hashed_secret"), "{json}");
    assert!(!json.contains(&hex(&minted.key.hashed_secret)), "{json}");
    assert!(!json.contains(&minted.token.expose()[11..]), "{json}");

    // Exactly codersdk's `APIKey` fields (compatibility §3).
    let view: Value = serde_json::from_str(&json).unwrap();
    let mut fields: Vec<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "allow_list",
            "created_at",
            "expires_at",
            "id",
            "last_used",
            "lifetime_seconds",
            "login_type",
            "scope",
            "scopes",
            "token_name",
            "updated_at",
            "user_id",
        ]
    );
}

#[test]
fn stored_hash_is_plain_sha256_of_the_secret() {
    // §2: SHA-256 of the 22 secret bytes only, 32 raw bytes; digests from Python's hashlib.
    for seed in [ALICE, BOB, CAROL, DAVE, ERIN] {
        let token = tokenward::Token::parse(&seed.token()).unwrap();
        let hash = tokenward::SecretHash::of(token.secret());
        assert_eq!(hex(hash.as_bytes()), seed.sha256, "{}", seed.id);
        assert!(hash.matches(&unhex(seed.sha256)));
    }
}
