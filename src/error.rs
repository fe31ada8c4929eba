//! The one error model. [`Code`] numbers every way an operation can end, rejections of a
//! presented token included; [`Error`] carries the details, nested by concern; the [`Coded`]
//! trait answers code, status, message and detail for an [`Error`] and a bare
//! [`Rejection`] alike. Every binding's status, exception class or `err.code` comes from
//! [`Code`], so a new kind appears in every language at once.

use std::borrow::Cow;
use std::fmt;

use crate::check::Rejection;
use crate::duration::{Duration, DurationError};
use crate::gofmt::quote;
use crate::key::LoginType;
use crate::settings::SettingsError;
use crate::time::TimestampError;
use crate::token::ParseError;

/// A stable number for each outcome, grouped in ranges by kind. Numbers are never reused;
/// new kinds take the next free number in their range.
///
/// | range | kind | HTTP status |
/// |---|---|---|
/// | 0 | success | |
/// | 1000-1999 | a presented token does not authenticate | 401 |
/// | 2000-2999 | invalid input | 400 |
/// | 3000-3999 | a limit exceeded | 400 |
/// | 4000-4999 | access and conflicts | 403, 404, 409 |
/// | 5000-5999 | the key store failed | 500 |
/// | 6000-6999 | internal failures | 500 |
///
/// The C ABI's `tw_status` (`include/tokenward.h`) is this enum, its constants `TW_OK`,
/// `TW_EXPIRED`, ...; a few codes (marked "C ABI") are its own.
#[repr(u32)]
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Success.
    Ok = 0,

    /// No token in the request.
    Missing = 1000,
    /// Not `<10 bytes>-<22 bytes>`, as Coder splits it.
    Malformed = 1001,
    /// No key has this id.
    UnknownKey = 1002,
    /// The secret does not match the stored hash.
    InvalidSecret = 1003,
    /// The key expired.
    Expired = 1004,
    /// The key's owner was deleted (a store that knows users: Coder's database).
    UserDeleted = 1005,
    /// A `github` or `oidc` key whose owner has no link to that login provider.
    NoUserLink = 1006,
    /// The key's owner is not active (suspended, or dormant).
    UserInactive = 1007,

    /// An argument that makes no sense (an empty user id, a session of login type `token`).
    InvalidArgument = 2000,
    /// A text given as a token or key id that is not one (outside verification).
    InvalidToken = 2001,
    /// A text that is not a Go duration.
    InvalidDuration = 2002,
    /// Settings that do not parse or are not acceptable.
    InvalidSettings = 2003,
    /// A text that is not an RFC 3339 timestamp, or a time out of range.
    InvalidTimestamp = 2004,
    /// A scope that is not accepted.
    InvalidScope = 2005,
    /// An allow-list entry that is not `<type>:<uuid>`.
    InvalidAllowList = 2006,
    /// A login type Coder does not have.
    InvalidLoginType = 2007,
    /// A key record that cannot be stored or decoded.
    InvalidKey = 2008,
    /// A token lifetime of zero or less.
    InvalidLifetime = 2009,
    /// C ABI: a required pointer was NULL.
    NullArgument = 2100,
    /// C ABI: a string was not UTF-8.
    InvalidUtf8 = 2101,
    /// C ABI: the caller's buffer is too small; the size needed is reported.
    BufferTooSmall = 2102,

    /// A token lifetime above the target user's maximum.
    LifetimeTooLong = 3000,

    /// The actor may not do this.
    Forbidden = 4000,
    /// No such key, or one the actor may not see.
    NotFound = 4001,
    /// The user already has a token of this name.
    Conflict = 4002,

    /// The store stayed locked by others past the busy timeout.
    StoreBusy = 5000,
    /// The store's data is damaged.
    StoreCorrupt = 5001,
    /// The store cannot be written (permissions, a read-only file or medium).
    StoreReadOnly = 5002,
    /// The store could not be read or written (I/O, a missing directory, a lost server).
    StoreIo = 5003,
    /// The disk is full.
    StoreFull = 5004,
    /// The store refused a write that breaks one of its rules.
    StoreConstraint = 5005,
    /// The store is not a tokenward store, or one written by a newer version.
    StoreIncompatible = 5006,

    /// The operating system's random source failed.
    Random = 6000,
    /// C ABI: a panic was caught at the boundary.
    Panic = 6001,
    /// A `github` or `oidc` key whose owner's OAuth token expired: Coder would refresh it
    /// with the provider, which tokenward cannot (Coder's answer without OAuth settings).
    OAuthUnavailable = 6002,
}

impl Code {
    /// Every code, in numeric order (for bindings that generate their tables from it).
    pub const ALL: &'static [Code] = &[
        Code::Ok,
        Code::Missing,
        Code::Malformed,
        Code::UnknownKey,
        Code::InvalidSecret,
        Code::Expired,
        Code::UserDeleted,
        Code::NoUserLink,
        Code::UserInactive,
        Code::InvalidArgument,
        Code::InvalidToken,
        Code::InvalidDuration,
        Code::InvalidSettings,
        Code::InvalidTimestamp,
        Code::InvalidScope,
        Code::InvalidAllowList,
        Code::InvalidLoginType,
        Code::InvalidKey,
        Code::InvalidLifetime,
        Code::NullArgument,
        Code::InvalidUtf8,
        Code::BufferTooSmall,
        Code::LifetimeTooLong,
        Code::Forbidden,
        Code::NotFound,
        Code::Conflict,
        Code::StoreBusy,
        Code::StoreCorrupt,
        Code::StoreReadOnly,
        Code::StoreIo,
        Code::StoreFull,
        Code::StoreConstraint,
        Code::StoreIncompatible,
        Code::Random,
        Code::Panic,
        Code::OAuthUnavailable,
    ];

    /// The stable snake_case name: `expired`, `invalid_scope`, `store_busy`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::Missing => "missing",
            Code::Malformed => "malformed",
            Code::UnknownKey => "unknown_key",
            Code::InvalidSecret => "invalid_secret",
            Code::Expired => "expired",
            Code::UserDeleted => "user_deleted",
            Code::NoUserLink => "no_user_link",
            Code::UserInactive => "user_inactive",
            Code::InvalidArgument => "invalid_argument",
            Code::InvalidToken => "invalid_token",
            Code::InvalidDuration => "invalid_duration",
            Code::InvalidSettings => "invalid_settings",
            Code::InvalidTimestamp => "invalid_timestamp",
            Code::InvalidScope => "invalid_scope",
            Code::InvalidAllowList => "invalid_allow_list",
            Code::InvalidLoginType => "invalid_login_type",
            Code::InvalidKey => "invalid_key",
            Code::InvalidLifetime => "invalid_lifetime",
            Code::NullArgument => "null_argument",
            Code::InvalidUtf8 => "invalid_utf8",
            Code::BufferTooSmall => "buffer_too_small",
            Code::LifetimeTooLong => "lifetime_too_long",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::Conflict => "conflict",
            Code::StoreBusy => "store_busy",
            Code::StoreCorrupt => "store_corrupt",
            Code::StoreReadOnly => "store_read_only",
            Code::StoreIo => "store_io",
            Code::StoreFull => "store_full",
            Code::StoreConstraint => "store_constraint",
            Code::StoreIncompatible => "store_incompatible",
            Code::Random => "random",
            Code::Panic => "panic",
            Code::OAuthUnavailable => "oauth_unavailable",
        }
    }

    /// The code's number (the C ABI's `tw_status`).
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one.
    pub fn from_number(number: u32) -> Option<Code> {
        Self::ALL.iter().copied().find(|c| c.number() == number)
    }

    /// The HTTP status Coder answers with for this kind of outcome (200 for [`Code::Ok`]).
    pub const fn status(self) -> u16 {
        match self.number() {
            0 => 200,
            1000..=1999 => 401,
            2000..=3999 => 400,
            _ => match self {
                Code::Forbidden => 403,
                Code::NotFound => 404,
                Code::Conflict => 409,
                _ => 500,
            },
        }
    }

    /// Whether this code is a verdict on a presented token (the 1000 range).
    pub const fn is_rejection(self) -> bool {
        matches!(self.number(), 1000..=1999)
    }

    /// Whether this code is a failure of the key store (the 5000 range).
    pub const fn is_store(self) -> bool {
        matches!(self.number(), 5000..=5999)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A code compares equal to its [`name`](Code::name).
impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// What every error and every rejection answers, so a binding or an HTTP handler treats them
/// alike: the [`Code`], the HTTP status, and Coder's `message` and `detail`.
pub trait Coded {
    /// The stable code.
    fn code(&self) -> Code;

    /// The stable snake_case name of [`code`](Coded::code).
    fn name(&self) -> &'static str {
        self.code().name()
    }

    /// The HTTP status Coder answers with.
    fn status(&self) -> u16 {
        self.code().status()
    }

    /// The `message` of Coder's JSON answer.
    fn message(&self) -> Cow<'_, str>;

    /// The `detail` of Coder's JSON answer (empty when Coder sends none). Never names a file.
    fn detail(&self) -> Cow<'_, str>;

    /// The `validations` of Coder's JSON answer, as (field, detail) pairs.
    fn validations(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// Coder's internal-error message (compatibility §6 row 3b).
pub const INTERNAL_ERROR_MESSAGE: &str =
    "An internal error occurred. Please try again or contact the system administrator.";
/// Coder's `ResourceNotFoundResponse` message, for every 404 (compatibility §4.6).
pub const NOT_FOUND_MESSAGE: &str = "Resource not found or you do not have access to this resource";
/// Coder's `ResourceForbiddenResponse` message.
pub const FORBIDDEN_MESSAGE: &str = "Forbidden.";
/// Coder's `ResourceForbiddenResponse` detail.
pub const FORBIDDEN_DETAIL: &str = "You don't have permission to view this content. If you believe this is a mistake, please contact your administrator or try signing in with different credentials.";
/// The message of Coder's create handler for a failure it does not name (compatibility §4.2 step 8).
pub const CREATE_FAILED_MESSAGE: &str = "Failed to create API key.";
/// The message of Coder's create handler for a refused lifetime (compatibility §4.2 step 6).
pub const LIFETIME_REFUSED_MESSAGE: &str = "Failed to validate create API key request.";
/// The message for other invalid input.
pub const INVALID_REQUEST_MESSAGE: &str = "Invalid request.";

/// A failure to carry out an operation, or a presented token that does not authenticate.
/// Never contains a secret, a whole token or a password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A presented token does not authenticate (Coder's 401).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A text given as a token or key id is not one.
    #[error(transparent)]
    Token(#[from] ParseError),
    /// A text is not a Go duration.
    #[error(transparent)]
    Duration(Box<DurationError>),
    /// Settings that do not parse or are not acceptable; names the variable or field.
    #[error(transparent)]
    Settings(Box<SettingsError>),
    /// A text is not an RFC 3339 timestamp, or a time is out of range.
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
    /// A scope that is not accepted.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// An allow-list entry that is not `<resource type>:<uuid>` with `*` wildcards (compatibility §3).
    #[error("invalid allow_list entry {}: {reason}", quote(entry))]
    AllowEntry {
        /// The entry as given.
        entry: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A login type Coder does not have.
    #[error("unknown login type {}", quote(.0))]
    LoginType(String),
    /// A token lifetime outside the allowed range (compatibility §4.2 step 6).
    #[error(transparent)]
    Lifetime(#[from] LifetimeError),
    /// A key record that cannot be stored (an empty allow-list) or decoded.
    #[error("invalid key record: {0}")]
    InvalidKey(String),
    /// Any other argument that makes no sense.
    #[error("{0}")]
    InvalidArgument(String),
    /// The actor may not do this (compatibility §4.2 "Authorization"); the text says what was refused.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such key, or one the actor may not see (Coder answers 404 for both, compatibility §4.6).
    #[error("{what} {} not found", quote(.id))]
    NotFound {
        /// What was looked for: `API key` or `token`.
        what: &'static str,
        /// The id or name looked for.
        id: String,
    },
    /// The user already has a `token` key of this name (compatibility §4.2 step 8).
    #[error("A token with name {} already exists.", quote(name))]
    NameConflict {
        /// The conflicting name.
        name: String,
    },
    /// The key store failed. Boxed: it is rare, and keeps every `Result` small on the hot path.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// The operating system's random source failed.
    #[error("operating system random source failed: {0}")]
    Random(String),
    /// A `github` or `oidc` key whose owner's OAuth token expired, which Coder would refresh
    /// with the provider (compatibility §6 row 7a); tokenward has no OAuth settings, so it
    /// answers as Coder does without them: a 500.
    #[error(
        "Unable to refresh OAuth token for login type {}. No OAuth2Configs provided. Contact an administrator to configure this login type.",
        quote(.login_type.as_str())
    )]
    OAuthUnavailable {
        /// The key's login type.
        login_type: LoginType,
    },
}

impl Error {
    /// A key that is not there (or not visible to the actor).
    pub fn key_not_found(id: impl fmt::Display) -> Error {
        Error::NotFound {
            what: "API key",
            id: id.to_string(),
        }
    }

    /// The rejection, when this error is one.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Error::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

impl Error {
    /// The nested error that answers for this one, when there is one.
    fn nested(&self) -> Option<&dyn Coded> {
        match self {
            Error::Rejected(e) => Some(e),
            Error::Token(e) => Some(e),
            Error::Duration(e) => Some(&**e),
            Error::Settings(e) => Some(&**e),
            Error::Timestamp(e) => Some(e),
            Error::Scope(e) => Some(e),
            Error::Lifetime(e) => Some(e),
            Error::Store(e) => Some(&**e),
            _ => None,
        }
    }
}

impl Coded for Error {
    fn code(&self) -> Code {
        if let Some(nested) = self.nested() {
            return nested.code();
        }
        match self {
            Error::AllowEntry { .. } => Code::InvalidAllowList,
            Error::LoginType(_) => Code::InvalidLoginType,
            Error::InvalidKey(_) => Code::InvalidKey,
            Error::Forbidden(_) => Code::Forbidden,
            Error::NotFound { .. } => Code::NotFound,
            Error::NameConflict { .. } => Code::Conflict,
            Error::Random(_) => Code::Random,
            Error::OAuthUnavailable { .. } => Code::OAuthUnavailable,
            _ => Code::InvalidArgument,
        }
    }

    fn message(&self) -> Cow<'_, str> {
        if let Some(nested) = self.nested() {
            return nested.message();
        }
        match self {
            Error::AllowEntry { .. } | Error::Random(_) => CREATE_FAILED_MESSAGE.into(),
            Error::Forbidden(_) => FORBIDDEN_MESSAGE.into(),
            Error::NotFound { .. } => NOT_FOUND_MESSAGE.into(),
            Error::NameConflict { .. } => self.to_string().into(),
            Error::OAuthUnavailable { .. } => INTERNAL_ERROR_MESSAGE.into(),
            _ => INVALID_REQUEST_MESSAGE.into(),
        }
    }

    fn detail(&self) -> Cow<'_, str> {
        if let Some(nested) = self.nested() {
            return nested.detail();
        }
        match self {
            Error::Forbidden(_) => FORBIDDEN_DETAIL.into(),
            Error::NotFound { .. } | Error::NameConflict { .. } => "".into(),
            _ => self.to_string().into(),
        }
    }

    fn validations(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            // §4.2 step 8: the conflict names the field.
            Error::NameConflict { .. } => {
                &[("name", "This value is already in use and should be unique.")]
            }
            _ => &[],
        }
    }
}

impl Coded for Rejection {
    fn code(&self) -> Code {
        self.kind().code()
    }

    fn message(&self) -> Cow<'_, str> {
        Cow::Borrowed(Rejection::message(self))
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(Rejection::detail(self))
    }
}

/// Invalid input whose detail is its own text: Coder's 400 `Invalid request.`.
macro_rules! invalid_input {
    ($($error:ty => $code:ident),* $(,)?) => {$(
        impl Coded for $error {
            fn code(&self) -> Code {
                Code::$code
            }

            fn message(&self) -> Cow<'_, str> {
                INVALID_REQUEST_MESSAGE.into()
            }

            fn detail(&self) -> Cow<'_, str> {
                self.to_string().into()
            }
        }
    )*};
}

invalid_input! {
    ParseError => InvalidToken,
    DurationError => InvalidDuration,
    SettingsError => InvalidSettings,
    TimestampError => InvalidTimestamp,
}

impl Coded for ScopeError {
    fn code(&self) -> Code {
        Code::InvalidScope
    }

    fn message(&self) -> Cow<'_, str> {
        CREATE_FAILED_MESSAGE.into()
    }

    fn detail(&self) -> Cow<'_, str> {
        self.to_string().into()
    }
}

impl Coded for LifetimeError {
    fn code(&self) -> Code {
        match self {
            LifetimeError::NotPositive => Code::InvalidLifetime,
            LifetimeError::TooLong { .. } => Code::LifetimeTooLong,
        }
    }

    fn message(&self) -> Cow<'_, str> {
        LIFETIME_REFUSED_MESSAGE.into()
    }

    fn detail(&self) -> Cow<'_, str> {
        self.to_string().into()
    }
}

/// A scope that is not accepted, in Coder's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// A requested name outside the public list (compatibility §4.2 step 3).
    #[error("invalid or unsupported API key scope: {}", quote(.0))]
    Unsupported(String),
    /// A name outside Coder's stored `api_key_scope` enum, refused by the generator even when
    /// the scope came from deserialisation (compatibility §4.1 step 5).
    #[error("invalid API key scope: {}", quote(.0))]
    Unknown(String),
}

/// A token lifetime outside the allowed range, in Coder's words (compatibility §4.2 step 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LifetimeError {
    /// Zero or negative.
    #[error("lifetime must be positive number greater than 0")]
    NotPositive,
    /// Above the maximum; equal is allowed despite the wording.
    #[error("lifetime must be less than {max}")]
    TooLong {
        /// The target user's maximum.
        max: Duration,
    },
}

/// What went wrong in a key store, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Locked by others past the busy timeout.
    Busy,
    /// Damaged data, or a row that does not decode to a key.
    Corrupt,
    /// Cannot be written.
    ReadOnly,
    /// Reading or writing failed.
    Io,
    /// The disk is full.
    Full,
    /// A write broke one of the store's rules (a duplicate id, a check constraint).
    Constraint,
    /// Not a tokenward store, or one written by a newer version.
    Incompatible,
}

impl StoreErrorKind {
    /// The [`Code`] of this kind.
    pub const fn code(self) -> Code {
        match self {
            StoreErrorKind::Busy => Code::StoreBusy,
            StoreErrorKind::Corrupt => Code::StoreCorrupt,
            StoreErrorKind::ReadOnly => Code::StoreReadOnly,
            StoreErrorKind::Io => Code::StoreIo,
            StoreErrorKind::Full => Code::StoreFull,
            StoreErrorKind::Constraint => Code::StoreConstraint,
            StoreErrorKind::Incompatible => Code::StoreIncompatible,
        }
    }
}

/// The store operation that failed. Names the operation, never its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Opening (and migrating) the store.
    Open,
    /// Adding a key.
    Insert,
    /// Reading a key by id.
    Get,
    /// Reading a key by name.
    GetByName,
    /// Listing keys.
    List,
    /// Writing a refresh.
    Apply,
    /// Expiring a key.
    Expire,
    /// Deleting a key.
    Delete,
    /// Deleting a user's keys.
    DeleteByUser,
    /// Purging expired keys.
    Purge,
    /// Checking the store's integrity.
    Check,
}

impl Operation {
    /// The operation in words: `insert a key`, `read a key by id`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Open => "open the key store",
            Operation::Insert => "insert a key",
            Operation::Get => "read a key by id",
            Operation::GetByName => "read a key by name",
            Operation::List => "list keys",
            Operation::Apply => "update a key",
            Operation::Expire => "expire a key",
            Operation::Delete => "delete a key",
            Operation::DeleteByUser => "delete a user's keys",
            Operation::Purge => "purge expired keys",
            Operation::Check => "check the key store",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key store failure: its kind, the operation, and the store's own words for the cause.
/// Never contains a token, a secret, a name or a raw user id; ids that must appear are
/// escaped. A file path appears only in the `Display` of an [`Operation::Open`] failure, for
/// the operator, never in [`detail`](Coded::detail), which may reach an HTTP client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    operation: Operation,
    cause: String,
    location: Option<String>,
}

impl StoreError {
    /// A failure of `operation`, of `kind`, with `cause` in the store's words (which must
    /// not contain the operation's arguments).
    pub fn new(kind: StoreErrorKind, operation: Operation, cause: impl fmt::Display) -> StoreError {
        StoreError {
            kind,
            operation,
            cause: cause.to_string(),
            location: None,
        }
    }

    /// The same failure, naming the store's location (a file path, a server) for operators.
    pub fn at(mut self, location: impl fmt::Display) -> StoreError {
        self.location = Some(location.to_string());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The operation that failed.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The store's words for the cause.
    pub fn cause(&self) -> &str {
        &self.cause
    }

    /// The location, when the failure names one.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

impl Coded for StoreError {
    fn code(&self) -> Code {
        self.kind.code()
    }

    /// A failed insert is Coder's `Failed to create API key.` (compatibility §4.2 step 8).
    fn message(&self) -> Cow<'_, str> {
        match self.operation {
            Operation::Insert => CREATE_FAILED_MESSAGE.into(),
            _ => INTERNAL_ERROR_MESSAGE.into(),
        }
    }

    /// Coder's detail where Coder has one (compatibility §6 rows 3b and 8), else the operation and the
    /// cause; never the location.
    fn detail(&self) -> Cow<'_, str> {
        match self.operation {
            Operation::Get => format!("Internal error fetching API key by id. {}", self.cause),
            Operation::Apply => format!("API key couldn't update: {}.", self.cause),
            _ => format!("{}: {}", self.operation, self.cause),
        }
        .into()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(
                f,
                "key store {location}: {}: {}",
                self.operation, self.cause
            ),
            None => write!(f, "key store: {}: {}", self.operation, self.cause),
        }
    }
}

impl std::error::Error for StoreError {}

// The rare, large errors are boxed, so every `Result` on the hot path stays small.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(Box::new(e))
    }
}

impl From<DurationError> for Error {
    fn from(e: DurationError) -> Error {
        Error::Duration(Box::new(e))
    }
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Error {
        Error::Settings(Box::new(e))
    }
}

/// The OS random source failed while generating a token or a name.
impl From<getrandom::Error> for Error {
    fn from(e: getrandom::Error) -> Error {
        Error::Random(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_are_unique_and_stable() {
        let mut numbers: Vec<u32> = Code::ALL.iter().map(|c| c.number()).collect();
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!(numbers.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
        // Pinned: a change here breaks every binding's compiled-in numbers.
        assert_eq!(Code::Expired.number(), 1004);
        assert_eq!(Code::StoreBusy.number(), 5000);
        assert_eq!(Code::Panic.number(), 6001);
        for &code in Code::ALL {
            assert_eq!(Code::from_number(code.number()), Some(code));
        }
        assert_eq!(Code::from_number(7), None);
    }

    #[test]
    fn statuses_follow_the_ranges() {
        assert_eq!(Code::Expired.status(), 401);
        assert_eq!(Code::InvalidScope.status(), 400);
        assert_eq!(Code::LifetimeTooLong.status(), 400);
        assert_eq!(Code::Forbidden.status(), 403);
        assert_eq!(Code::NotFound.status(), 404);
        assert_eq!(Code::Conflict.status(), 409);
        assert_eq!(Code::StoreFull.status(), 500);
        assert_eq!(Code::Panic.status(), 500);
    }

    #[test]
    fn store_errors_name_the_operation_and_keep_paths_out_of_the_detail() {
        let e = Error::from(
            StoreError::new(StoreErrorKind::Io, Operation::Open, "disk I/O error")
                .at("/srv/keys.db"),
        );
        assert_eq!(e.code(), Code::StoreIo);
        assert!(e.to_string().contains("/srv/keys.db"), "{e}");
        assert!(!e.detail().contains("/srv"), "{}", e.detail());
        let lookup = Error::from(StoreError::new(
            StoreErrorKind::Busy,
            Operation::Get,
            "database is locked",
        ));
        assert_eq!(
            (lookup.status(), lookup.message(), lookup.detail()),
            (
                500,
                INTERNAL_ERROR_MESSAGE.into(),
                "Internal error fetching API key by id. database is locked".into()
            )
        );
        let insert = Error::from(StoreError::new(
            StoreErrorKind::Full,
            Operation::Insert,
            "disk full",
        ));
        assert_eq!(insert.message(), CREATE_FAILED_MESSAGE);
    }

    #[test]
    fn errors_stay_small_so_the_hot_path_moves_little() {
        // Large, rare errors are boxed; a new variant that grows the enum should be too.
        assert!(
            std::mem::size_of::<Error>() <= 48,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn nested_errors_answer_as_the_error_that_wraps_them() {
        fn same(nested: impl Coded + Clone + Into<Error>) {
            let wrapped: Error = nested.clone().into();
            assert_eq!(
                (
                    nested.code(),
                    nested.status(),
                    nested.message(),
                    nested.detail()
                ),
                (
                    wrapped.code(),
                    wrapped.status(),
                    wrapped.message(),
                    wrapped.detail()
                )
            );
        }
        same(StoreError::new(
            StoreErrorKind::Busy,
            Operation::Apply,
            "database is locked",
        ));
        same(ScopeError::Unsupported("test".into()));
        same(LifetimeError::NotPositive);
        same(ParseError::PartCount(3));
        same(DurationError::MissingUnit { input: "5".into() });
        same(crate::Rejection::unknown_key());
        assert_eq!(LifetimeError::NotPositive.code(), Code::InvalidLifetime);
    }

    #[test]
    fn forbidden_carries_coders_detail() {
        let e = Error::Forbidden("only an Owner may create tokens for another user");
        assert_eq!(
            (e.status(), e.message(), e.detail()),
            (403, FORBIDDEN_MESSAGE.into(), FORBIDDEN_DETAIL.into())
        );
    }
}
