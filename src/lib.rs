//! # tokenward
//!
//! Coder's API keys and session tokens as an embeddable library: a server issues and verifies
//! Coder-format tokens (`<10-char id>-<22-char secret>`) in-process, with exactly Coder's
//! semantics, instead of asking Coder over HTTP for every request.
//!
//! What it does:
//! - generates tokens from the OS CSPRNG with Coder's unbiased sampler ([`Token`]);
//! - parses presented tokens exactly as Coder does, errors and all ([`Token::parse`]);
//! - keeps only SHA-256 of the secret, compared in constant time ([`SecretHash`]);
//! - applies Coder's creation rules: default and maximum lifetimes by the target's roles,
//!   scopes, allow-list, names ([`issue`]);
//! - checks a presented token in Coder's order and answers with Coder's exact messages,
//!   status and `WWW-Authenticate` ([`check`], [`http`]);
//! - decides `last_used` and sliding-expiry refreshes ([`refresh`]);
//! - finds the token in a request as Coder's middleware does ([`extract`]);
//! - keeps keys itself when the host has no key table: [`Authority`] over a [`KeyStore`]
//!   ([`MemoryStore`], or [`SqliteStore`], one file shared by threads and processes).
//!
//! What it deliberately does not do: keep users, roles or OAuth links (the host passes users in
//! and checks its own identity-provider links), or change Coder's hash scheme.
//!
//! The checks are pure functions of the record and `now`: a host with its own key table
//! fetches the row, calls [`check::check`], and writes back the [`KeyUpdate`] it gets.
//!
//! ```
//! use tokenward::{check, issue, Settings, Timestamp, User};
//!
//! let settings = Settings::default();
//! let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
//! let jane = User::new("jane", &[]);
//!
//! // Mint a named token: the plain text goes to Jane once; the record goes to your store.
//! let minted = issue::token_key(&Default::default(), &jane, &settings, now, "203.0.113.7").unwrap();
//! let presented = minted.token.expose();
//! let stored = minted.key;
//!
//! // Later, verify what a request presents. `lookup` is your store's get-by-id.
//! let verified = check::verify(&presented, |id| (id == stored.id).then_some(&stored), now, &settings, "203.0.113.7")
//!     .expect("a fresh token verifies");
//! assert_eq!(verified.key.user_id, "jane");
//! // A never-used key records its first use: persist the update.
//! assert_eq!(verified.update.unwrap().last_used, now);
//!
//! // A wrong secret is rejected with Coder's answer.
//! let forged = format!("{}-{}", stored.id, "x".repeat(22));
//! let rejection = check::verify(&forged, |_| Some(&stored), now, &settings, "").unwrap_err();
//! assert_eq!(rejection.code(), "invalid_secret");
//! assert_eq!(rejection.status(), 401);
//! ```

#![deny(missing_docs)]

pub mod authority;
pub mod check;
pub mod duration;
pub mod error;
pub mod extract;
pub mod ffi;
mod gofmt;
pub mod hash;
pub mod http;
pub mod issue;
pub mod key;
pub mod refresh;
pub mod settings;
pub mod store;
pub mod time;
pub mod token;

/// The README's Rust examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use authority::{Authenticated, Authority, ListTokens};
pub use check::{Rejection, RejectionKind, Verified};
pub use duration::{Duration, DurationError};
pub use error::{
    Code, Coded, Error, LifetimeError, Operation, ScopeError, StoreError, StoreErrorKind,
};
pub use hash::SecretHash;
pub use issue::{CreateTokenRequest, NewKey, User};
pub use key::{AllowEntry, ApiKey, LoginType, PublicApiKey, Scope};
pub use refresh::KeyUpdate;
pub use settings::{Settings, SettingsError};
pub use store::{KeyStore, ListFilter, MemoryStore};
#[cfg(feature = "sqlite")]
pub use store::{SqliteOptions, SqliteStore};
pub use time::{Clock, ManualClock, SystemClock, Timestamp, TimestampError};
pub use token::{KeyId, ParseError, Secret, Token};
