//! Coder's HTTP answers (compatibility §6): status, JSON body and `WWW-Authenticate`, byte for byte, so
//! every language's middleware answers as Coder does by calling this one place.

use std::fmt::Write;

use crate::error::Coded;
use crate::gofmt::{json_body, query_escape, quote};
use crate::settings::Settings;

/// The `Content-Type` of every JSON answer.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// One HTTP answer: status, headers and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Headers to set, in order (`Content-Type`, `WWW-Authenticate`, `Location`).
    pub headers: Vec<(&'static str, String)>,
    /// The body; Go's `json.Encoder` output, newline included.
    pub body: String,
}

impl HttpAnswer {
    /// The value of header `name` (ASCII case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Coder's answer to any error or rejection: its status, `{"message","detail","validations"}`
/// as Go's encoder writes it, and for a rejected token the RFC 6750 challenge.
///
/// Takes an [`Error`](crate::Error) or a bare [`Rejection`](crate::Rejection); every binding's middleware and
/// handlers answer through this one function.
pub fn answer(error: &(impl Coded + ?Sized), settings: &Settings) -> HttpAnswer {
    let mut headers = vec![("Content-Type", CONTENT_TYPE.to_owned())];
    if let Some(challenge) = challenge(error, settings) {
        headers.push(("WWW-Authenticate", challenge));
    }
    HttpAnswer {
        status: error.status(),
        headers,
        body: json_body(&error.message(), &error.detail(), error.validations()),
    }
}

/// The `WWW-Authenticate` value Coder sends with `error`: a challenge for a rejected token,
/// none for anything else (only the key middleware challenges; handlers' 403, 404 and 409 do
/// not).
pub fn challenge(error: &(impl Coded + ?Sized), settings: &Settings) -> Option<String> {
    if !error.code().is_rejection() {
        return None;
    }
    www_authenticate(error.status(), &error.message(), &error.detail(), settings)
}

/// `RedirectToLogin` mode (compatibility §6, §9.8): 303 to `/login?message=<msg>&redirect=<path>`,
/// where `path_and_query` is the request's path with its query.
pub fn redirect_to_login(error: &(impl Coded + ?Sized), path_and_query: &str) -> HttpAnswer {
    // Go's url.Values.Encode: keys sorted, values query-escaped.
    let location = format!(
        "/login?message={}&redirect={}",
        query_escape(&error.message()),
        query_escape(path_and_query)
    );
    HttpAnswer {
        status: 303,
        headers: vec![("Location", location)],
        body: String::new(),
    }
}

/// The `WWW-Authenticate` value for an answer (compatibility §6): on 401 an `invalid_token` challenge,
/// on 403 an `insufficient_scope` one, otherwise none. `resource_metadata` is added when the
/// settings name an access URL.
pub fn www_authenticate(
    status: u16,
    message: &str,
    detail: &str,
    settings: &Settings,
) -> Option<String> {
    let (error, description) = match status {
        401 => ("invalid_token", invalid_token_description(message, detail)),
        403 => (
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
        ),
        _ => return None,
    };
    let mut value =
        format!("Bearer realm=\"coder\", error=\"{error}\", error_description=\"{description}\"");
    if let Some(url) = settings.resource_metadata_url() {
        let _ = write!(value, ", resource_metadata={}", quote(&url));
    }
    Some(value)
}

/// §6: "expired" anywhere wins (so every SignedOut answer says expired, §10); then audience.
fn invalid_token_description(message: &str, detail: &str) -> &'static str {
    if message.contains("expired") || detail.contains("expired") {
        "The access token has expired"
    } else if message.contains("audience") || message.contains("mismatch") {
        "The access token audience does not match this resource"
    } else {
        "The access token is invalid"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Rejection;
    use crate::check::SIGNED_OUT_MESSAGE;
    use crate::error::{Error, LifetimeError};
    use crate::time::Timestamp;

    const EXPIRED_CHALLENGE: &str = "Bearer realm=\"coder\", error=\"invalid_token\", error_description=\"The access token has expired\"";

    #[test]
    fn every_signed_out_rejection_is_labelled_expired() {
        // §10: the SignedOut message contains "expired", so the challenge says so for all.
        for r in [
            Rejection::missing(),
            Rejection::unknown_key(),
            Rejection::invalid_secret(),
        ] {
            let answer = answer(&r, &Settings::default());
            assert_eq!(answer.status, 401);
            assert_eq!(answer.header("www-authenticate"), Some(EXPIRED_CHALLENGE));
        }
    }

    #[test]
    fn body_is_gos_json_encoder_output() {
        let r = Rejection::expired(Timestamp::parse_rfc3339("2026-01-02T15:04:05.1234Z").unwrap());
        let answer = answer(&r, &Settings::default());
        assert_eq!(
            answer.body,
            format!(
                "{{\"message\":\"{SIGNED_OUT_MESSAGE}\",\"detail\":\"API key expired at \\\"2026-01-02 15:04:05.1234 +0000 UTC\\\".\"}}\n"
            )
        );
        assert_eq!(answer.header("Content-Type"), Some(CONTENT_TYPE));
    }

    #[test]
    fn resource_metadata_is_added_only_with_an_access_url() {
        let settings = Settings {
            access_url: Some("https://coder.example.com//".into()),
            ..Settings::default()
        };
        let challenge = challenge(&Rejection::missing(), &settings).unwrap();
        assert_eq!(
            challenge,
            format!(
                "{EXPIRED_CHALLENGE}, resource_metadata=\"https://coder.example.com/.well-known/oauth-protected-resource\""
            )
        );
    }

    #[test]
    fn challenge_descriptions_follow_coders_rules() {
        let s = Settings::default();
        assert!(
            www_authenticate(401, "bad", "worse", &s)
                .unwrap()
                .contains("The access token is invalid")
        );
        assert!(
            www_authenticate(401, "Token audience validation failed", "", &s)
                .unwrap()
                .contains("audience does not match")
        );
        assert!(
            www_authenticate(403, "Forbidden.", "", &s)
                .unwrap()
                .contains("error=\"insufficient_scope\"")
        );
        assert_eq!(www_authenticate(500, "x", "y", &s), None);
    }

    #[test]
    fn conflict_answer_names_the_field() {
        let answer = answer(
            &Error::NameConflict { name: "ci".into() },
            &Settings::default(),
        );
        assert_eq!(answer.status, 409);
        assert_eq!(
            answer.body,
            "{\"message\":\"A token with name \\\"ci\\\" already exists.\",\"validations\":[{\"field\":\"name\",\"detail\":\"This value is already in use and should be unique.\"}]}\n"
        );
    }

    #[test]
    fn lifetime_error_answer_is_a_400_with_coders_message() {
        let max = crate::Duration::from_hours(168).unwrap();
        let answer = answer(
            &Error::from(LifetimeError::TooLong { max }),
            &Settings::default(),
        );
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.body,
            "{\"message\":\"Failed to validate create API key request.\",\"detail\":\"lifetime must be less than 168h0m0s\"}\n"
        );
    }

    #[test]
    fn redirect_to_login_is_a_303_with_message_and_return_path() {
        // §9.8
        let answer = redirect_to_login(&Rejection::missing(), "/workspaces?x=1");
        assert_eq!(answer.status, 303);
        let location = answer.header("Location").unwrap();
        assert!(
            location.starts_with("/login?message=You+are+signed+out"),
            "{location}"
        );
        assert!(
            location.ends_with("&redirect=%2Fworkspaces%3Fx%3D1"),
            "{location}"
        );
    }
}
