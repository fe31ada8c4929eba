//! Deployment settings with Coder's names and defaults (compatibility §4.7): the six key settings and
//! the access URL, read from `TOKENWARD_*` or `CODER_*` variables, as Go duration strings.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::duration::Duration;
use crate::gofmt::quote as go_quote;

/// Prefixes of the environment variables [`Settings::from_env`] reads, in order of precedence:
/// `TOKENWARD_*` wins over Coder's own `CODER_*`, so a service beside Coder can share its setup.
pub const ENV_PREFIXES: [&str; 2] = ["TOKENWARD_", "CODER_"];

/// The environment variable name of each setting after its prefix (see [`ENV_PREFIXES`]), in
/// field order; each is its [`Settings`] field name in upper case (compatibility §4.7).
pub fn env_names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|field| field.env)
}

/// The deployment settings that govern API keys, with Coder's names and defaults (compatibility §4.7).
///
/// In JSON, durations are written as Go strings and read as Go strings or integer nanoseconds;
/// missing fields take their defaults. Deserializing does not validate: call
/// [`Settings::validate`].
///
/// The struct may gain fields, so outside this crate start from `Settings::default()` (or
/// [`Settings::from_env`]) and set the fields you need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// Lifetime of a browser (password, OIDC, GitHub) session, and the length of its sliding
    /// refresh; `CODER_SESSION_DURATION`, default 24h.
    pub session_duration: Duration,
    /// Turns off the sliding refresh of session expiry; `CODER_DISABLE_SESSION_EXPIRY_REFRESH`,
    /// default false.
    pub disable_session_expiry_refresh: bool,
    /// Lifetime of a token created without one; `CODER_DEFAULT_TOKEN_LIFETIME`, default 168h.
    pub default_token_lifetime: Duration,
    /// Longest lifetime a member may request; `CODER_MAX_TOKEN_LIFETIME`, default 876600h.
    pub max_token_lifetime: Duration,
    /// Longest lifetime for a user with the owner role, replacing the member maximum
    /// (compatibility §4.2 step 7); `CODER_MAX_ADMIN_TOKEN_LIFETIME`, default 168h.
    pub max_admin_token_lifetime: Duration,
    /// How long expired keys are kept (and keep answering "expired") before they are purged;
    /// zero turns the purge off; `CODER_API_KEYS_RETENTION`, default 7d.
    pub api_keys_retention: Duration,
    /// The deployment's external URL, used for the `resource_metadata` of `WWW-Authenticate`;
    /// `CODER_ACCESS_URL`, default none.
    pub access_url: Option<String>,
}

/// One setting: its field name, its variable after the prefix, its default and what a valid
/// value is. Every operation on settings (defaults, environment, validation, printing) walks
/// this table, so a new setting is one row.
struct Field {
    name: &'static str,
    env: &'static str,
    default: Value,
    rule: Rule,
    get: fn(&Settings) -> Value,
    set: fn(&mut Settings, Value),
}

/// A setting's value, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Duration(Duration),
    Flag(bool),
    Url(Option<String>),
}

/// What a valid value of a field is.
#[derive(Clone, Copy)]
enum Rule {
    /// A duration greater than zero.
    Positive,
    /// A duration of zero or more.
    NotNegative,
    /// Any boolean.
    Any,
    /// `http://` or `https://` followed by a host, when set.
    AccessUrl,
}

const fn hours(hours: i64) -> Value {
    match Duration::from_hours(hours) {
        Some(d) => Value::Duration(d),
        None => panic!("a default out of Go's range"), // evaluated at compile time
    }
}

/// One row of [`FIELDS`]: the field, its variable, the [`Value`] kind it holds, its default
/// and its rule.
macro_rules! field {
    ($name:ident, $env:literal, $kind:ident, $default:expr, $rule:ident) => {
        Field {
            name: stringify!($name),
            env: $env,
            default: $default,
            rule: Rule::$rule,
            get: |s| Value::$kind(s.$name.clone()),
            set: |s, v| {
                if let Value::$kind(x) = v {
                    s.$name = x;
                }
            },
        }
    };
}

/// Coder's settings (compatibility §4.7), in field order.
static FIELDS: [Field; 7] = [
    field!(
        session_duration,
        "SESSION_DURATION",
        Duration,
        hours(24),
        Positive
    ),
    field!(
        disable_session_expiry_refresh,
        "DISABLE_SESSION_EXPIRY_REFRESH",
        Flag,
        Value::Flag(false),
        Any
    ),
    field!(
        default_token_lifetime,
        "DEFAULT_TOKEN_LIFETIME",
        Duration,
        hours(168),
        Positive
    ),
    field!(
        max_token_lifetime,
        "MAX_TOKEN_LIFETIME",
        Duration,
        hours(876_600),
        NotNegative
    ),
    field!(
        max_admin_token_lifetime,
        "MAX_ADMIN_TOKEN_LIFETIME",
        Duration,
        hours(168),
        NotNegative
    ),
    field!(
        api_keys_retention,
        "API_KEYS_RETENTION",
        Duration,
        hours(7 * 24),
        NotNegative
    ),
    field!(access_url, "ACCESS_URL", Url, Value::Url(None), AccessUrl),
];

impl Default for Settings {
    /// Coder's defaults (compatibility §4.7).
    fn default() -> Settings {
        let mut settings = Settings {
            session_duration: Duration::ZERO,
            disable_session_expiry_refresh: false,
            default_token_lifetime: Duration::ZERO,
            max_token_lifetime: Duration::ZERO,
            max_admin_token_lifetime: Duration::ZERO,
            api_keys_retention: Duration::ZERO,
            access_url: None,
        };
        for field in &FIELDS {
            (field.set)(&mut settings, field.default.clone());
        }
        settings
    }
}

impl Settings {
    /// Reads the settings from the process environment; see [`Settings::from_lookup`].
    ///
    /// A variable that would be used but is not valid UTF-8 is an error rather than ignored.
    pub fn from_env() -> Result<Settings, SettingsError> {
        for field in &FIELDS {
            for prefix in ENV_PREFIXES {
                let variable = format!("{prefix}{}", field.env);
                let Some(value) = std::env::var_os(&variable) else {
                    continue;
                };
                if value.is_empty() {
                    continue;
                }
                if value.to_str().is_none() {
                    return Err(SettingsError::InvalidVariable {
                        variable,
                        value: value.to_string_lossy().into_owned(),
                        reason: "not valid UTF-8".to_owned(),
                    });
                }
                break;
            }
        }
        Settings::from_lookup(|variable| std::env::var(variable).ok())
    }

    /// Builds settings from Coder's defaults and the variables `lookup` returns, then validates.
    ///
    /// For each setting, `TOKENWARD_<NAME>` is used when set, else `CODER_<NAME>` (names from
    /// [`env_names`]). An empty value counts as unset, so `TOKENWARD_X=` falls through to
    /// `CODER_X`. Durations parse with [`Duration::parse`], booleans as Go's `strconv.ParseBool`,
    /// and the access URL is kept as given. A bad value, or one that [`Settings::validate`]
    /// rejects, is a [`SettingsError::InvalidVariable`] naming the variable it came from.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        for field in &FIELDS {
            let Some((variable, text)) = ENV_PREFIXES.iter().find_map(|prefix| {
                let variable = format!("{prefix}{}", field.env);
                lookup(&variable)
                    .filter(|text| !text.is_empty())
                    .map(|text| (variable, text))
            }) else {
                continue;
            };
            let invalid = |reason: String| SettingsError::InvalidVariable {
                variable: variable.clone(),
                value: match field.default {
                    Value::Url(_) => without_userinfo(&text),
                    _ => text.clone(),
                },
                reason,
            };
            let value = parse_value(field, &text).map_err(invalid)?;
            (field.set)(&mut settings, value);
        }
        Ok(settings)
    }

    /// Sets one setting by its name (`session_duration`), Coder's flag (`session-duration`)
    /// or its environment variable (`CODER_SESSION_DURATION`, `TOKENWARD_SESSION_DURATION`),
    /// from text as the environment holds it: a Go duration, a Go boolean, a URL (empty for
    /// none). On error the settings are unchanged.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), SettingsError> {
        let wanted = ENV_PREFIXES
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .unwrap_or(name);
        let field = FIELDS
            .iter()
            .find(|f| {
                f.env == wanted
                    || f.name == wanted
                    || f.name.len() == wanted.len()
                        && f.name
                            .bytes()
                            .zip(wanted.bytes())
                            .all(|(a, b)| a == b || a == b'_' && b == b'-')
            })
            .ok_or_else(|| SettingsError::Unknown {
                name: name.to_owned(),
            })?;
        let value = if text.is_empty() && matches!(field.default, Value::Url(_)) {
            Value::Url(None)
        } else {
            parse_value(field, text).map_err(|reason| SettingsError::InvalidVariable {
                variable: name.to_owned(),
                value: match field.default {
                    Value::Url(_) => without_userinfo(text),
                    _ => text.to_owned(),
                },
                reason,
            })?
        };
        (field.set)(self, value);
        Ok(())
    }

    /// Rejects settings that make no sense: a session that is not positive, a default token
    /// lifetime that is not positive (keys would be born expired), a negative maximum or
    /// retention, or an access URL that is not `http://` or `https://` followed by a host.
    ///
    /// Zero retention is allowed (it turns the purge off), and so are zero maximums (only the
    /// default lifetime can then be used). The default may exceed the maximum, as in Coder,
    /// where a request without a lifetime is not checked against it (compatibility §10).
    pub fn validate(&self) -> Result<(), SettingsError> {
        for field in &FIELDS {
            check(field, &(field.get)(self)).map_err(|reason| SettingsError::Invalid {
                field: field.name,
                reason,
            })?;
        }
        Ok(())
    }

    /// The OAuth protected-resource metadata URL for `WWW-Authenticate`: the access URL without
    /// trailing slashes, then `/.well-known/oauth-protected-resource`; `None` without one.
    pub fn resource_metadata_url(&self) -> Option<String> {
        let base = self.access_url.as_deref()?.trim_end_matches('/');
        if base.is_empty() {
            return None;
        }
        Some(format!("{base}/.well-known/oauth-protected-resource"))
    }

    /// Each setting's field name and value as Go prints it (`168h0m0s`, `false`; an unset
    /// access URL is empty), in field order, for a `config` command.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        FIELDS
            .iter()
            .map(|field| {
                let text = match (field.get)(self) {
                    Value::Duration(d) => d.to_string(),
                    Value::Flag(f) => f.to_string(),
                    Value::Url(url) => url.unwrap_or_default(),
                };
                (field.name, text)
            })
            .collect()
    }
}

/// Whether `value` is acceptable for `field`; the reason when it is not.
/// Parses `text` as `field`'s kind and checks it against the field's rule; the error is the
/// reason (Go's parse error text for durations and booleans).
fn parse_value(field: &Field, text: &str) -> Result<Value, String> {
    let value = match field.default {
        Value::Duration(_) => Value::Duration(Duration::parse(text).map_err(|e| e.to_string())?),
        Value::Flag(_) => Value::Flag(parse_go_bool(text).ok_or_else(|| {
            format!(
                "strconv.ParseBool: parsing {}: invalid syntax",
                go_quote(text)
            )
        })?),
        Value::Url(_) => Value::Url(Some(text.to_owned())),
    };
    check(field, &value)?;
    Ok(value)
}

fn check(field: &Field, value: &Value) -> Result<(), String> {
    match (field.rule, value) {
        (Rule::Positive, Value::Duration(d)) if !d.is_positive() => {
            Err(format!("must be greater than zero, got {d}"))
        }
        (Rule::NotNegative, Value::Duration(d)) if d.is_negative() => {
            Err(format!("must not be negative, got {d}"))
        }
        (Rule::AccessUrl, Value::Url(Some(url))) => check_access_url(url),
        _ => Ok(()),
    }
}

/// Go's `strconv.ParseBool`: exactly these twelve spellings.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// An access URL must be `http://` or `https://` (scheme in any case) followed by a host.
fn check_access_url(url: &str) -> Result<(), String> {
    let after_scheme = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .and_then(|_| url.get(scheme.len()..))
    });
    // The host: what follows the scheme up to the path, query or fragment, after any
    // `user:password@`. Go's url.Parse refuses white space there.
    let host = after_scheme.map(|rest| {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        authority.rsplit('@').next().unwrap_or(authority)
    });
    match host {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        // Not echoed: a URL may carry a password.
        _ => Err("access URL must start with http:// or https:// followed by a host".to_owned()),
    }
}

/// `url` with any `user:password@` replaced by `***@`, for error messages.
fn without_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |at| at + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| start + at);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// Why settings could not be built or are not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// An environment variable holds a value that does not parse or is not acceptable:
    /// `invalid value "abc" for TOKENWARD_SESSION_DURATION: time: invalid duration "abc"`.
    #[error("invalid value {} for {variable}: {reason}", go_quote(.value))]
    InvalidVariable {
        /// The variable the value came from, such as `CODER_SESSION_DURATION`.
        variable: String,
        /// The value as found.
        value: String,
        /// What is wrong with it (Go's parse error text for durations and booleans).
        reason: String,
    },
    /// [`Settings::set`] was given a name that is no setting: `unknown setting "colour"`.
    #[error("unknown setting {}", go_quote(.name))]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// A field holds a value [`Settings::validate`] rejects: `invalid session_duration: ...`.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field name, such as `session_duration`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl SettingsError {
    /// The environment variable the bad value came from, when it came from one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            SettingsError::InvalidVariable { variable, .. } => Some(variable),
            SettingsError::Invalid { .. } | SettingsError::Unknown { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_bad_variable_is_named_by_the_error() {
        let err = Settings::from_lookup(|name| {
            (name == "CODER_SESSION_DURATION").then(|| "soon".to_owned())
        })
        .unwrap_err();
        assert_eq!(err.variable(), Some("CODER_SESSION_DURATION"));
        let err = crate::Error::from(err);
        assert_eq!(crate::Coded::code(&err), crate::Code::InvalidSettings);
        assert!(err.to_string().contains("CODER_SESSION_DURATION"), "{err}");
    }
    use super::*;

    #[test]
    fn set_takes_the_field_the_flag_and_the_variable() {
        let mut settings = Settings::default();
        settings.set("session_duration", "2h").unwrap();
        settings.set("default-token-lifetime", "7d").unwrap();
        settings.set("CODER_MAX_TOKEN_LIFETIME", "720h").unwrap();
        settings
            .set("TOKENWARD_DISABLE_SESSION_EXPIRY_REFRESH", "t")
            .unwrap();
        settings
            .set("access_url", "https://coder.example.com")
            .unwrap();
        assert_eq!(settings.session_duration, Duration::from_hours(2).unwrap());
        assert_eq!(
            settings.default_token_lifetime,
            Duration::from_hours(168).unwrap()
        );
        assert_eq!(
            settings.max_token_lifetime,
            Duration::from_hours(720).unwrap()
        );
        assert!(settings.disable_session_expiry_refresh);
        assert_eq!(
            settings.access_url.as_deref(),
            Some("https://coder.example.com")
        );
        settings.set("access_url", "").unwrap();
        assert_eq!(settings.access_url, None);
    }

    #[test]
    fn set_refuses_unknown_names_and_bad_values_and_changes_nothing() {
        let mut settings = Settings::default();
        let err = settings.set("colour", "blue").unwrap_err();
        assert_eq!(err.to_string(), "unknown setting \"colour\"");
        // A prefix alone, or a flag spelled with the variable's case, is no name.
        assert!(settings.set("CODER_", "1h").is_err());
        assert!(settings.set("SESSION-DURATION", "1h").is_err());
        let err = settings.set("session_duration", "soon").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"soon\" for session_duration: time: invalid duration \"soon\""
        );
        assert!(settings.set("session_duration", "0s").is_err());
        assert!(settings.set("max_token_lifetime", "-1h").is_err());
        assert!(
            settings
                .set("disable_session_expiry_refresh", "yes")
                .is_err()
        );
        let err = settings
            .set("access_url", "ftp://user:secret@coder.example.com")
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert_eq!(settings, Settings::default());
    }
    use std::collections::HashMap;

    const H: i64 = 3_600_000_000_000;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn settings_default_to_coder_values() {
        let s = Settings::default();
        assert_eq!(s.session_duration, Duration::from_nanos(24 * H));
        assert!(!s.disable_session_expiry_refresh);
        assert_eq!(s.default_token_lifetime, Duration::from_nanos(168 * H));
        assert_eq!(s.max_token_lifetime, Duration::from_nanos(876_600 * H));
        assert_eq!(s.max_admin_token_lifetime, Duration::from_nanos(168 * H));
        assert_eq!(s.api_keys_retention, Duration::from_nanos(168 * H));
        assert_eq!(s.access_url, None);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn settings_serde_round_trips_and_fills_defaults() {
        let s = Settings {
            access_url: Some("https://coder.example.com".to_owned()),
            disable_session_expiry_refresh: true,
            ..Settings::default()
        };
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert!(json.contains("\"session_duration\":\"24h0m0s\""), "{json}");
        assert_eq!(serde_json::from_str::<Settings>(&json).ok(), Some(s));

        let partial: Settings =
            serde_json::from_str(r#"{"session_duration":"1h","max_token_lifetime":3600000000000}"#)
                .unwrap_or_default();
        assert_eq!(partial.session_duration, Duration::HOUR);
        assert_eq!(partial.max_token_lifetime, Duration::HOUR);
        assert_eq!(
            partial.default_token_lifetime,
            Duration::from_nanos(168 * H)
        );

        assert!(serde_json::from_str::<Settings>(r#"{"session_duraton":"1h"}"#).is_err());
    }

    #[test]
    fn env_defaults_when_nothing_is_set() {
        assert_eq!(Settings::from_lookup(|_| None), Ok(Settings::default()));
    }

    #[test]
    fn env_reads_every_coder_variable() {
        let s = Settings::from_lookup(env(&[
            ("CODER_SESSION_DURATION", "12h"),
            ("CODER_DISABLE_SESSION_EXPIRY_REFRESH", "true"),
            ("CODER_DEFAULT_TOKEN_LIFETIME", "30d"),
            ("CODER_MAX_TOKEN_LIFETIME", "1y"),
            ("CODER_MAX_ADMIN_TOKEN_LIFETIME", "720h"),
            ("CODER_API_KEYS_RETENTION", "0"),
            ("CODER_ACCESS_URL", "https://coder.example.com/"),
        ]));
        assert_eq!(
            s,
            Ok(Settings {
                session_duration: Duration::from_nanos(12 * H),
                disable_session_expiry_refresh: true,
                default_token_lifetime: Duration::from_nanos(720 * H),
                max_token_lifetime: Duration::from_nanos(8760 * H),
                max_admin_token_lifetime: Duration::from_nanos(720 * H),
                api_keys_retention: Duration::ZERO,
                access_url: Some("https://coder.example.com/".to_owned()),
            })
        );
    }

    #[test]
    fn env_tokenward_variable_wins_over_coder_variable() {
        let s = Settings::from_lookup(env(&[
            ("TOKENWARD_SESSION_DURATION", "2h"),
            ("CODER_SESSION_DURATION", "3h"),
            ("TOKENWARD_DISABLE_SESSION_EXPIRY_REFRESH", "false"),
            ("CODER_DISABLE_SESSION_EXPIRY_REFRESH", "true"),
            ("TOKENWARD_ACCESS_URL", "https://tokenward.example.com"),
            ("CODER_ACCESS_URL", "https://coder.example.com"),
            ("CODER_MAX_TOKEN_LIFETIME", "48h"),
        ]))
        .unwrap_or_default();
        assert_eq!(s.session_duration, Duration::from_nanos(2 * H));
        assert!(!s.disable_session_expiry_refresh);
        assert_eq!(
            s.access_url.as_deref(),
            Some("https://tokenward.example.com")
        );
        assert_eq!(s.max_token_lifetime, Duration::from_nanos(48 * H));
    }

    #[test]
    fn env_tokenward_variable_wins_even_when_coder_one_is_invalid() {
        let s = Settings::from_lookup(env(&[
            ("TOKENWARD_SESSION_DURATION", "2h"),
            ("CODER_SESSION_DURATION", "nonsense"),
        ]));
        assert_eq!(
            s.map(|s| s.session_duration),
            Ok(Duration::from_nanos(2 * H))
        );
    }

    #[test]
    fn env_empty_value_counts_as_unset() {
        let s = Settings::from_lookup(env(&[
            ("TOKENWARD_SESSION_DURATION", ""),
            ("CODER_SESSION_DURATION", "3h"),
            ("TOKENWARD_MAX_TOKEN_LIFETIME", ""),
            ("CODER_ACCESS_URL", ""),
        ]))
        .unwrap_or_default();
        assert_eq!(s.session_duration, Duration::from_nanos(3 * H));
        assert_eq!(s.max_token_lifetime, Duration::from_nanos(876_600 * H));
        assert_eq!(s.access_url, None);
    }

    #[test]
    fn env_invalid_duration_names_the_variable() {
        let err = Settings::from_lookup(env(&[("TOKENWARD_SESSION_DURATION", "abc")]));
        assert_eq!(
            err,
            Err(SettingsError::InvalidVariable {
                variable: "TOKENWARD_SESSION_DURATION".to_owned(),
                value: "abc".to_owned(),
                reason: "time: invalid duration \"abc\"".to_owned(),
            })
        );
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some(
                "invalid value \"abc\" for TOKENWARD_SESSION_DURATION: \
                 time: invalid duration \"abc\""
                    .to_owned()
            )
        );
        let err = Settings::from_lookup(env(&[("CODER_API_KEYS_RETENTION", "7 days")]));
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some(
                "invalid value \"7 days\" for CODER_API_KEYS_RETENTION: \
                 time: unknown unit \" days\" in duration \"7 days\""
                    .to_owned()
            )
        );
    }

    #[test]
    fn env_booleans_parse_as_go_parse_bool() {
        for (value, want) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("TRUE", true),
            ("true", true),
            ("True", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("FALSE", false),
            ("false", false),
            ("False", false),
        ] {
            let s = Settings::from_lookup(env(&[("CODER_DISABLE_SESSION_EXPIRY_REFRESH", value)]));
            assert_eq!(
                s.map(|s| s.disable_session_expiry_refresh),
                Ok(want),
                "{value:?}"
            );
        }
    }

    #[test]
    fn env_rejects_other_boolean_spellings_with_go_message() {
        for value in ["yes", "no", "on", "tRUE", "2", " true", "true "] {
            let err =
                Settings::from_lookup(env(&[("CODER_DISABLE_SESSION_EXPIRY_REFRESH", value)]));
            assert_eq!(
                err.err().map(|e| e.to_string()),
                Some(format!(
                    "invalid value \"{value}\" for CODER_DISABLE_SESSION_EXPIRY_REFRESH: \
                     strconv.ParseBool: parsing \"{value}\": invalid syntax"
                )),
                "{value:?}"
            );
        }
    }

    #[test]
    fn env_error_quotes_values_as_go_percent_q() {
        let err = Settings::from_lookup(env(&[(
            "CODER_DISABLE_SESSION_EXPIRY_REFRESH",
            "yes\n\u{1}",
        )]));
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some(
                concat!(
                    r#"invalid value "yes\n\x01" for CODER_DISABLE_SESSION_EXPIRY_REFRESH: "#,
                    r#"strconv.ParseBool: parsing "yes\n\x01": invalid syntax"#
                )
                .to_owned()
            )
        );
    }

    #[test]
    fn env_out_of_range_value_names_the_variable() {
        let err = Settings::from_lookup(env(&[("CODER_SESSION_DURATION", "-1h")]));
        assert_eq!(
            err,
            Err(SettingsError::InvalidVariable {
                variable: "CODER_SESSION_DURATION".to_owned(),
                value: "-1h".to_owned(),
                reason: "must be greater than zero, got -1h0m0s".to_owned(),
            })
        );
        let err = Settings::from_lookup(env(&[("TOKENWARD_API_KEYS_RETENTION", "-1s")]));
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some(
                "invalid value \"-1s\" for TOKENWARD_API_KEYS_RETENTION: \
                 must not be negative, got -1s"
                    .to_owned()
            )
        );
    }

    #[test]
    fn env_rejects_access_url_without_http_scheme() {
        let err = Settings::from_lookup(env(&[("CODER_ACCESS_URL", "coder.example.com")]));
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some(
                "invalid value \"coder.example.com\" for CODER_ACCESS_URL: access URL must \
                 start with http:// or https:// followed by a host"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_bad_access_url_never_shows_its_password() {
        for url in ["ftp://admin:hunter2@h", "admin:hunter2@coder.example.com/x"] {
            let err = Settings::from_lookup(env(&[("CODER_ACCESS_URL", url)])).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(err.to_string().contains("***@"), "{err}");
            let s = Settings {
                access_url: Some(url.to_owned()),
                ..Settings::default()
            };
            let err = s.validate().unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn env_from_env_matches_lookup_of_the_process_environment() {
        assert_eq!(
            Settings::from_env(),
            Settings::from_lookup(|name| std::env::var(name).ok())
        );
    }

    #[test]
    fn validate_rejects_non_positive_session_duration() {
        for nanos in [0, -1] {
            let s = Settings {
                session_duration: Duration::from_nanos(nanos),
                ..Settings::default()
            };
            let err = s.validate();
            assert!(
                matches!(
                    err,
                    Err(SettingsError::Invalid {
                        field: "session_duration",
                        ..
                    })
                ),
                "{err:?}"
            );
        }
        let s = Settings {
            session_duration: Duration::ZERO,
            ..Settings::default()
        };
        assert_eq!(
            s.validate().err().map(|e| e.to_string()),
            Some("invalid session_duration: must be greater than zero, got 0s".to_owned())
        );
    }

    #[test]
    fn validate_rejects_non_positive_default_token_lifetime() {
        let s = Settings {
            default_token_lifetime: Duration::ZERO,
            ..Settings::default()
        };
        assert_eq!(
            s.validate(),
            Err(SettingsError::Invalid {
                field: "default_token_lifetime",
                reason: "must be greater than zero, got 0s".to_owned(),
            })
        );
    }

    #[test]
    fn validate_rejects_negative_maximums_and_retention() {
        let minus = Duration::from_nanos(-H);
        for (field, s) in [
            (
                "max_token_lifetime",
                Settings {
                    max_token_lifetime: minus,
                    ..Settings::default()
                },
            ),
            (
                "max_admin_token_lifetime",
                Settings {
                    max_admin_token_lifetime: minus,
                    ..Settings::default()
                },
            ),
            (
                "api_keys_retention",
                Settings {
                    api_keys_retention: minus,
                    ..Settings::default()
                },
            ),
        ] {
            assert_eq!(
                s.validate(),
                Err(SettingsError::Invalid {
                    field,
                    reason: "must not be negative, got -1h0m0s".to_owned(),
                })
            );
        }
    }

    #[test]
    fn validate_allows_zero_retention_and_zero_maximums() {
        let s = Settings {
            api_keys_retention: Duration::ZERO,
            max_token_lifetime: Duration::ZERO,
            max_admin_token_lifetime: Duration::ZERO,
            ..Settings::default()
        };
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn validate_allows_default_lifetime_above_maximum() {
        let s = Settings {
            default_token_lifetime: Duration::from_nanos(1000 * H),
            max_token_lifetime: Duration::HOUR,
            ..Settings::default()
        };
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn validate_checks_access_url_scheme_and_host() {
        let with = |url: &str| Settings {
            access_url: Some(url.to_owned()),
            ..Settings::default()
        };
        for good in [
            "https://coder.example.com",
            "http://localhost:3000/",
            "HTTPS://Coder.Example.com/base/",
            "https://user:pw@coder.example.com?x#f",
        ] {
            assert_eq!(with(good).validate(), Ok(()), "{good:?}");
        }
        for bad in [
            "",
            "coder.example.com",
            "ftp://x",
            "https://",
            "http:///x",
            "https:/x",
            "é",
            "https://@",
            "https://user:pw@",
            "https://user:pw@/base",
            "https://?x",
            "https://#f",
            "http:// ",
            "http://coder example.com",
        ] {
            assert!(
                matches!(
                    with(bad).validate(),
                    Err(SettingsError::Invalid {
                        field: "access_url",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn resource_metadata_url_strips_trailing_slashes() {
        let with = |url: Option<&str>| Settings {
            access_url: url.map(str::to_owned),
            ..Settings::default()
        };
        let want =
            Some("https://coder.example.com/.well-known/oauth-protected-resource".to_owned());
        assert_eq!(with(None).resource_metadata_url(), None);
        assert_eq!(
            with(Some("https://coder.example.com")).resource_metadata_url(),
            want
        );
        assert_eq!(
            with(Some("https://coder.example.com/")).resource_metadata_url(),
            want
        );
        assert_eq!(
            with(Some("https://coder.example.com///")).resource_metadata_url(),
            want
        );
        assert_eq!(
            with(Some("https://example.com/coder/")).resource_metadata_url(),
            Some("https://example.com/coder/.well-known/oauth-protected-resource".to_owned())
        );
        assert_eq!(with(Some("")).resource_metadata_url(), None);
    }

    #[test]
    fn describe_lists_fields_as_go_prints_them() {
        assert_eq!(
            Settings::default().describe(),
            vec![
                ("session_duration", "24h0m0s".to_owned()),
                ("disable_session_expiry_refresh", "false".to_owned()),
                ("default_token_lifetime", "168h0m0s".to_owned()),
                ("max_token_lifetime", "876600h0m0s".to_owned()),
                ("max_admin_token_lifetime", "168h0m0s".to_owned()),
                ("api_keys_retention", "168h0m0s".to_owned()),
                ("access_url", String::new()),
            ]
        );
    }

    #[test]
    fn env_names_match_field_names() {
        let fields: Vec<&str> = Settings::default()
            .describe()
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        let upper: Vec<String> = fields.iter().map(|f| f.to_ascii_uppercase()).collect();
        assert_eq!(upper, env_names().collect::<Vec<_>>());
        assert_eq!(ENV_PREFIXES, ["TOKENWARD_", "CODER_"]);
    }
}
