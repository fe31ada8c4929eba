//! Creation rules (compatibility §4.1-§4.4): expiry resolution, lifetime limits by the target's roles,
//! scopes, allow-list, names, and the generator that turns them into a key and its token.

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::error::{Error, LifetimeError, ScopeError};
use crate::hash::SecretHash;
use crate::key::{AllowEntry, ApiKey, LoginType, Scope, ZERO_LIFETIME_STORED_AS, remote_ip};
use crate::settings::Settings;
use crate::time::Timestamp;
use crate::token::Token;

/// The site role whose token maximum is `max_admin_token_lifetime` (compatibility §4.2 step 7).
pub const OWNER_ROLE: &str = "owner";

/// A user as the host knows it: an opaque id and its site roles. tokenward keeps no users.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    /// The user id (a UUID in Coder, `user:default/jane` in Backstage); never empty.
    pub id: String,
    /// Site roles; [`OWNER_ROLE`] is the one tokenward knows.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl User {
    /// A user with these roles.
    pub fn new(id: impl Into<String>, roles: &[&str]) -> User {
        User {
            id: id.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    /// Whether the user holds the Owner role (may act for others; compatibility §4.2).
    pub fn is_owner(&self) -> bool {
        self.roles.iter().any(|r| r == OWNER_ROLE)
    }
}

/// The body of `POST /users/{user}/keys/tokens` (codersdk `CreateTokenRequest`, compatibility §4.2).
/// Unknown JSON fields are ignored, as Coder's decoder ignores them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateTokenRequest {
    /// Requested lifetime; zero means the default token lifetime. JSON: integer nanoseconds,
    /// as codersdk sends it (a Go duration string is accepted on input too).
    #[serde(serialize_with = "nanoseconds")]
    pub lifetime: Duration,
    /// Deprecated single scope (`all`, `application_connect`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Requested scopes; wins over `scope` when not empty.
    pub scopes: Vec<String>,
    /// The name; empty gets a generated `adjective_surnameN`.
    pub token_name: String,
    /// Allow-list entries; empty means `*:*`.
    pub allow_list: Vec<AllowEntry>,
}

/// codersdk's JSON form of a duration: integer nanoseconds.
fn nanoseconds<S: serde::Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(d.as_nanos())
}

/// The inputs of Coder's generator `apikey.Generate` (compatibility §4.1), already validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyParams {
    /// The owner.
    pub user_id: String,
    /// How the key is obtained.
    pub login_type: LoginType,
    /// Used when neither `expires_at` nor `lifetime_seconds` is given.
    pub default_lifetime: Duration,
    /// Absolute expiry, if chosen by the caller.
    pub expires_at: Option<Timestamp>,
    /// Sliding lifetime; 0 means "derive it" (compatibility §4.1 step 2).
    pub lifetime_seconds: i64,
    /// Canonical scopes; empty means `[coder:all]`.
    pub scopes: Vec<Scope>,
    /// The token name (empty for sessions).
    pub token_name: String,
    /// The request's remote address, kept when it is a bare IP.
    pub remote_addr: String,
    /// Allow-list; empty means `*:*`.
    pub allow_list: Vec<AllowEntry>,
}

/// A freshly minted key: the record to store and the token to hand out, once.
#[derive(Debug)]
pub struct NewKey {
    /// The record (what the store keeps).
    pub key: ApiKey,
    /// The token; [`Token::expose`] it to its owner and drop it.
    pub token: Token,
}

/// When a new key expires and by how much it slides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// Whole seconds of lifetime, truncated (may be 0 for sub-second lifetimes).
    pub lifetime_seconds: i64,
}

/// Coder's generator (compatibility §4.1): a new token and its record.
pub fn generate(params: KeyParams, now: Timestamp) -> Result<NewKey, Error> {
    if params.user_id.is_empty() {
        return Err(Error::InvalidArgument("user id must not be empty".into()));
    }
    let token = Token::generate()?;
    let Expiry {
        expires_at,
        lifetime_seconds,
    } = resolve_expiry(
        params.expires_at,
        params.lifetime_seconds,
        params.default_lifetime,
        now,
    );
    let scopes = stored_scopes(params.scopes)?;
    let key = ApiKey {
        id: token.id(),
        hashed_secret: SecretHash::of(token.secret()).as_bytes().to_vec(),
        user_id: params.user_id,
        last_used: Timestamp::UNIX_EPOCH,
        expires_at,
        created_at: now,
        updated_at: now,
        login_type: params.login_type,
        // §3: the insert turns 0 into 86400.
        lifetime_seconds: if lifetime_seconds == 0 {
            ZERO_LIFETIME_STORED_AS
        } else {
            lifetime_seconds
        },
        ip_address: remote_ip(&params.remote_addr),
        token_name: params.token_name,
        scopes,
        allow_list: normalize_allow_list(params.allow_list),
    };
    Ok(NewKey { key, token })
}

/// §4.1 step 5: `[coder:all]` when empty; aliases mapped to canonical names; every name a
/// member of Coder's stored enum (checked here too, since a [`Scope`] may come from
/// deserialisation), else `invalid API key scope: %q` with the name as given; duplicates
/// dropped, keeping the first.
fn stored_scopes(requested: Vec<Scope>) -> Result<Vec<Scope>, Error> {
    if requested.is_empty() {
        return Ok(vec![Scope::all()]);
    }
    let canonical = requested
        .iter()
        .map(|scope| {
            Scope::from_db(Scope::canonical_name(scope.as_str()))
                .map_err(|_| Error::from(ScopeError::Unknown(scope.as_str().to_owned())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dedup(canonical))
}

/// §4.1 step 2: expiry from an explicit time, a lifetime in seconds, or the default.
pub fn resolve_expiry(
    expires_at: Option<Timestamp>,
    lifetime_seconds: i64,
    default_lifetime: Duration,
    now: Timestamp,
) -> Expiry {
    match (expires_at, lifetime_seconds) {
        (Some(expires_at), 0) => {
            // Truncated toward zero; negative for a past expiry (compatibility §10).
            Expiry {
                expires_at,
                lifetime_seconds: expires_at.micros_since(now) / 1_000_000,
            }
        }
        (Some(expires_at), lifetime_seconds) => Expiry {
            expires_at,
            lifetime_seconds,
        },
        (None, 0) => Expiry {
            expires_at: now.saturating_add(default_lifetime),
            lifetime_seconds: default_lifetime.whole_seconds(),
        },
        (None, lifetime_seconds) => Expiry {
            expires_at: now.saturating_add_seconds(lifetime_seconds),
            lifetime_seconds,
        },
    }
}

/// The longest token lifetime the target user may get (compatibility §4.2 step 7, tokenconfig §4.6):
/// the owner maximum *replaces* the member maximum for owners, even when it is smaller.
pub fn max_token_lifetime(settings: &Settings, target: &User) -> Duration {
    if target.is_owner() {
        settings.max_admin_token_lifetime
    } else {
        settings.max_token_lifetime
    }
}

/// §4.2 step 6: a requested lifetime against the target's maximum. Equal to the maximum is
/// allowed, despite Coder's wording.
pub fn validate_lifetime(lifetime: Duration, max: Duration) -> Result<(), Error> {
    if lifetime <= Duration::ZERO {
        return Err(LifetimeError::NotPositive.into());
    }
    if lifetime > max {
        return Err(LifetimeError::TooLong { max }.into());
    }
    Ok(())
}

/// §4.2 steps 6-7: the expiry of a new named token. A zero lifetime takes the default token
/// lifetime and is *not* checked against the maximum (compatibility §10).
pub fn token_expiry(
    settings: &Settings,
    target: &User,
    lifetime: Duration,
    now: Timestamp,
) -> Result<Expiry, Error> {
    if lifetime == Duration::ZERO {
        return Ok(resolve_expiry(
            None,
            0,
            settings.default_token_lifetime,
            now,
        ));
    }
    validate_lifetime(lifetime, max_token_lifetime(settings, target))?;
    Ok(Expiry {
        expires_at: now.saturating_add(lifetime),
        lifetime_seconds: lifetime.whole_seconds(),
    })
}

/// §4.2 step 3: the scopes of a token request. `scopes` wins when not empty, then `scope`,
/// then `coder:all`; every name must be public; aliases map to canonical names; duplicates
/// are dropped, keeping the first.
pub fn requested_scopes(scope: Option<&str>, scopes: &[String]) -> Result<Vec<Scope>, Error> {
    let names: Vec<&str> = if !scopes.is_empty() {
        scopes.iter().map(String::as_str).collect()
    } else if let Some(scope) = scope.filter(|s| !s.is_empty()) {
        vec![scope]
    } else {
        vec![Scope::ALL]
    };
    let canonical = names
        .into_iter()
        .map(|name| {
            Scope::public(name).ok_or_else(|| Error::from(ScopeError::Unsupported(name.to_owned())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dedup(canonical))
}

/// §4.1 step 3 and §4.2 step 5: an empty allow-list is `*:*`; duplicates are dropped; a list
/// that contains `*:*` is just `*:*` (it allows everything).
pub fn normalize_allow_list(entries: Vec<AllowEntry>) -> Vec<AllowEntry> {
    if entries.is_empty() || entries.iter().any(AllowEntry::is_wildcard) {
        return vec![AllowEntry::wildcard()];
    }
    dedup(entries)
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// §4.2: a named API token (login type `token`) for `target`, from a validated request.
/// Authorization (who may act for `target`) and the insert are the caller's.
pub fn token_key(
    request: &CreateTokenRequest,
    target: &User,
    settings: &Settings,
    now: Timestamp,
    remote_addr: &str,
) -> Result<NewKey, Error> {
    let scopes = requested_scopes(request.scope.as_deref(), &request.scopes)?;
    let token_name = if request.token_name.is_empty() {
        generated_name()?
    } else {
        request.token_name.clone()
    };
    let expiry = token_expiry(settings, target, request.lifetime, now)?;
    generate(
        KeyParams {
            user_id: target.id.clone(),
            login_type: LoginType::Token,
            default_lifetime: settings.default_token_lifetime,
            expires_at: Some(expiry.expires_at),
            // A sub-second lifetime is 0 whole seconds of the exact span; Coder's generator then
            // measures the time left until the expiry, still under a second, so 0 again, which
            // the insert stores as 86400. Never measure the microsecond-rounded expiry.
            lifetime_seconds: match expiry.lifetime_seconds {
                0 => ZERO_LIFETIME_STORED_AS,
                seconds => seconds,
            },
            scopes,
            token_name,
            remote_addr: remote_addr.to_owned(),
            allow_list: request.allow_list.clone(),
        },
        now,
    )
}

/// §4.3/§4.4: a session key (no name, `coder:all`) lasting `lifetime`: `session_duration`
/// for logins, `default_token_lifetime` for `POST /users/{user}/keys`.
pub fn session_key(
    user_id: &str,
    login_type: LoginType,
    lifetime: Duration,
    remote_addr: &str,
    now: Timestamp,
) -> Result<NewKey, Error> {
    if login_type == LoginType::Token {
        return Err(Error::InvalidArgument(
            "a session cannot have login type \"token\"; create a token".into(),
        ));
    }
    generate(
        KeyParams {
            user_id: user_id.to_owned(),
            login_type,
            default_lifetime: lifetime,
            expires_at: None,
            lifetime_seconds: 0,
            scopes: Vec::new(),
            token_name: String::new(),
            remote_addr: remote_addr.to_owned(),
            allow_list: Vec::new(),
        },
        now,
    )
}

/// Coder's name for an unnamed token (compatibility §4.2 step 4): `adjective_surname` and one digit.
pub fn generated_name() -> Result<String, Error> {
    // Names are labels, not secrets: the digit's slight modulo bias (256 % 10) is harmless.
    let mut random = [0u8; 3];
    getrandom::fill(&mut random)?;
    let [a, s, digit] = random.map(usize::from);
    let (adjective, surname) = (
        ADJECTIVES[a % ADJECTIVES.len()],
        SURNAMES[s % SURNAMES.len()],
    );
    Ok(format!("{adjective}_{surname}{}", digit % 10))
}

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "ample", "bold", "brave", "breezy", "bright", "calm", "candid", "cheerful",
    "clever", "cosmic", "crisp", "curious", "daring", "deft", "eager", "earnest", "fair",
    "fearless", "fervent", "fond", "frank", "gentle", "glad", "golden", "graceful", "hardy",
    "hearty", "humble", "jolly", "keen", "kind", "lively", "loyal", "lucid", "mellow", "merry",
    "mighty", "modest", "nimble", "noble", "patient", "placid", "plucky", "polite", "proud",
    "quick", "quiet", "radiant", "ready", "serene", "sharp", "shiny", "steady", "sturdy", "sunny",
    "swift", "tidy", "trusty", "vivid", "warm", "witty", "zesty",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "ampere",
    "babbage",
    "bardeen",
    "bohr",
    "boole",
    "cantor",
    "curie",
    "darwin",
    "dijkstra",
    "dirac",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "fourier",
    "franklin",
    "galileo",
    "gauss",
    "germain",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hilbert",
    "hopper",
    "hypatia",
    "joule",
    "kepler",
    "knuth",
    "lamarr",
    "laplace",
    "leibniz",
    "lovelace",
    "maxwell",
    "meitner",
    "mendel",
    "mirzakhani",
    "morse",
    "napier",
    "newton",
    "noether",
    "ohm",
    "pascal",
    "pasteur",
    "planck",
    "poincare",
    "ramanujan",
    "riemann",
    "ritchie",
    "shannon",
    "somerville",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "volta",
    "wiles",
    "wozniak",
    "wu",
    "yalow",
    "zuse",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    #[test]
    fn token_request_json_uses_codersdk_names_and_nanoseconds() {
        let request = CreateTokenRequest {
            lifetime: Duration::HOUR,
            token_name: "ci".into(),
            ..CreateTokenRequest::default()
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"lifetime": 3_600_000_000_000i64, "scopes": [], "token_name": "ci", "allow_list": []})
        );
        assert_eq!(
            serde_json::from_value::<CreateTokenRequest>(json).unwrap(),
            request
        );
        let from_text: CreateTokenRequest =
            serde_json::from_str(r#"{"lifetime": "1h", "token_name": "ci"}"#).unwrap();
        assert_eq!(from_text, request);
        // Coder's decoder ignores fields it does not know.
        let with_extra: CreateTokenRequest =
            serde_json::from_str(r#"{"token_name": "ci", "lifetime": "1h", "expires": 5}"#)
                .unwrap();
        assert_eq!(with_extra, request);
    }

    fn jane() -> User {
        User::new("jane", &[])
    }

    #[test]
    fn lifetime_seconds_come_from_the_exact_span_not_the_rounded_expiry() {
        let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
        let request = |nanos| CreateTokenRequest {
            lifetime: Duration::from_nanos(nanos),
            ..CreateTokenRequest::default()
        };
        let settings = Settings::default();
        // 999,999,999 ns rounds to a whole second of expiry but is 0 whole seconds: 86400.
        let sub_second = token_key(&request(999_999_999), &jane(), &settings, now, "").unwrap();
        assert_eq!(sub_second.key.lifetime_seconds, 86_400);
        assert_eq!(sub_second.key.expires_at, now.saturating_add_seconds(1));
        let one = token_key(&request(1_000_000_000), &jane(), &settings, now, "").unwrap();
        assert_eq!(one.key.lifetime_seconds, 1);
        // Go's float64 Seconds(): 4800h59m59.999999999s is 17283600 (rounded up, as in Go).
        let long = Duration::from_nanos(4800 * 3_600_000_000_000 + 3_599_999_999_999);
        assert_eq!(long.whole_seconds(), 17_283_600);
        // And the expiry rounds half away from zero to the microsecond (Go's Duration.Round).
        let half = token_key(&request(1_000_000_500), &jane(), &settings, now, "").unwrap();
        assert_eq!(half.key.expires_at.micros_since(now), 1_000_001);
        let under = token_key(&request(1_000_000_499), &jane(), &settings, now, "").unwrap();
        assert_eq!(under.key.expires_at.micros_since(now), 1_000_000);
    }

    #[test]
    fn the_generator_refuses_a_scope_outside_the_stored_enum_even_when_deserialised() {
        let scopes: Vec<Scope> =
            serde_json::from_value(serde_json::json!(["workspace:read", "test"])).unwrap();
        let params = KeyParams {
            user_id: "jane".into(),
            login_type: LoginType::Token,
            default_lifetime: Duration::HOUR,
            expires_at: None,
            lifetime_seconds: 0,
            scopes,
            token_name: "t".into(),
            remote_addr: String::new(),
            allow_list: Vec::new(),
        };
        let err = generate(params.clone(), Timestamp::UNIX_EPOCH).unwrap_err();
        assert_eq!(err.to_string(), "invalid API key scope: \"test\"");
        assert_eq!(err.code(), crate::Code::InvalidScope);
        // Aliases are canonicalised; internal enum members the HTTP layer refuses are kept.
        let aliases: Vec<Scope> = serde_json::from_value(serde_json::json!([
            "all",
            "application_connect",
            "coder:all",
            "system:read"
        ]))
        .unwrap();
        let minted = generate(
            KeyParams {
                scopes: aliases,
                ..params
            },
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        let names: Vec<&str> = minted.key.scopes.iter().map(Scope::as_str).collect();
        assert_eq!(
            names,
            ["coder:all", "coder:application_connect", "system:read"]
        );
    }

    #[test]
    fn expiry_resolution_follows_the_generator() {
        // §4.1 step 2
        let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
        let later = now.saturating_add_seconds(90);
        let resolve = |at, secs| resolve_expiry(at, secs, Duration::HOUR, now);
        assert_eq!(
            resolve(None, 0),
            Expiry {
                expires_at: now.saturating_add(Duration::HOUR),
                lifetime_seconds: 3600
            }
        );
        assert_eq!(
            resolve(None, 60),
            Expiry {
                expires_at: now.saturating_add_seconds(60),
                lifetime_seconds: 60
            }
        );
        assert_eq!(
            resolve(Some(later), 0),
            Expiry {
                expires_at: later,
                lifetime_seconds: 90
            }
        );
        assert_eq!(
            resolve(Some(later), 5),
            Expiry {
                expires_at: later,
                lifetime_seconds: 5
            }
        );
        let past = now.saturating_add_seconds(-30);
        assert_eq!(
            resolve(Some(past), 0).lifetime_seconds,
            -30,
            "a past expiry gives a negative lifetime"
        );
    }

    #[test]
    fn generated_names_are_adjective_surname_digit() {
        for _ in 0..100 {
            let name = generated_name().unwrap();
            let (adjective, rest) = name.split_once('_').unwrap();
            assert!(ADJECTIVES.contains(&adjective), "{name}");
            let (surname, digit) = rest.split_at(rest.len() - 1);
            assert!(SURNAMES.contains(&surname), "{name}");
            assert!(digit.chars().all(|c| c.is_ascii_digit()), "{name}");
        }
    }

    #[test]
    fn sessions_cannot_be_token_keys_and_need_a_user() {
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            session_key("u", LoginType::Token, Duration::HOUR, "", now)
                .unwrap_err()
                .code(),
            "invalid_argument"
        );
        assert_eq!(
            session_key("", LoginType::Password, Duration::HOUR, "", now)
                .unwrap_err()
                .code(),
            "invalid_argument"
        );
        let session = session_key("u", LoginType::Github, Duration::HOUR, "10.0.0.1", now).unwrap();
        assert_eq!(
            (session.key.lifetime_seconds, session.key.scopes[0].as_str()),
            (3600, "coder:all")
        );
        assert_eq!(session.key.allow_list, vec![AllowEntry::wildcard()]);
    }
}
