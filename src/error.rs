//! `Error`: operational failures (bad arguments, limits, conflicts, storage), kept apart from
//! [`crate::Rejection`], which is the verdict on a presented token.

use crate::gofmt::quote;

/// A failure to carry out an operation. Never contains a secret.
///
/// Each variant knows the HTTP status and message Coder answers with (spec §4.2, §4.6), so a
/// host's handler can answer exactly as Coder would; see [`crate::http::error_answer`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A token lifetime outside the allowed range (spec §4.2 step 6); `detail` is Coder's text,
    /// e.g. `lifetime must be less than 168h0m0s`.
    #[error("{detail}")]
    InvalidLifetime {
        /// Coder's detail text.
        detail: String,
    },
    /// A requested scope that is not in the public list (spec §4.2 step 3).
    #[error("invalid or unsupported API key scope: {}", quote(scope))]
    InvalidScope {
        /// The scope as the caller spelled it.
        scope: String,
    },
    /// An allow-list entry that is not `<resource type>:<uuid>` with `*` wildcards (spec §3).
    #[error("invalid allow_list entry {}: {reason}", quote(entry))]
    InvalidAllowEntry {
        /// The entry as given.
        entry: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Any other malformed input (an unknown login type, an empty user id, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// The user already has a `token` key of this name (spec §4.2 step 8).
    #[error("A token with name {} already exists.", quote(name))]
    NameConflict {
        /// The conflicting name.
        name: String,
    },
    /// No such key, or one the actor may not see (Coder answers 404 for both, spec §4.6).
    #[error("{0} not found")]
    NotFound(String),
    /// The actor may not do this (spec §4.2 "Authorization").
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The key store failed.
    #[error("key store: {0}")]
    Store(String),
    /// The operating system's random source failed.
    #[error("operating system random source failed: {0}")]
    Random(String),
}

impl Error {
    /// A stable, machine-readable name for the variant (the bindings' error `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidLifetime { .. } => "invalid_lifetime",
            Error::InvalidScope { .. } => "invalid_scope",
            Error::InvalidAllowEntry { .. } => "invalid_allow_list",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::NameConflict { .. } => "conflict",
            Error::NotFound(_) => "not_found",
            Error::Forbidden(_) => "forbidden",
            Error::Store(_) => "store",
            Error::Random(_) => "random",
        }
    }

    /// The HTTP status Coder answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidLifetime { .. }
            | Error::InvalidScope { .. }
            | Error::InvalidAllowEntry { .. }
            | Error::InvalidArgument(_) => 400,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::NameConflict { .. } => 409,
            Error::Store(_) | Error::Random(_) => 500,
        }
    }

    /// The `message` of Coder's JSON answer; [`Error`]'s `Display` is the `detail`.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidLifetime { .. } => "Failed to validate create API key request.".into(),
            Error::InvalidScope { .. } | Error::InvalidAllowEntry { .. } | Error::Random(_) => {
                "Failed to create API key.".into()
            }
            Error::InvalidArgument(_) => "Invalid request.".into(),
            Error::NameConflict { .. } => self.to_string(),
            Error::NotFound(_) => {
                "Resource not found or you do not have access to this resource".into()
            }
            Error::Forbidden(_) => "Forbidden.".into(),
            Error::Store(_) => {
                "An internal error occurred. Please try again or contact the system administrator."
                    .into()
            }
        }
    }
}

/// Settings that make no sense, from the environment or the host.
impl From<crate::settings::SettingsError> for Error {
    fn from(e: crate::settings::SettingsError) -> Error {
        Error::InvalidArgument(e.to_string())
    }
}

/// The OS random source failed while generating a token or a name.
impl From<getrandom::Error> for Error {
    fn from(e: getrandom::Error) -> Error {
        Error::Random(e.to_string())
    }
}
