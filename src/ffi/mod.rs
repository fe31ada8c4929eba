//! The C ABI, in the style of rustls-ffi. Every function is prefixed `tw_` and returns a
//! [`tw_status`] ([`Code`](crate::Code)'s number, `TW_OK` = 0); results go to out-parameters,
//! written only on success. `include/tokenward.h` is generated from this module by cbindgen
//! (`cbindgen.toml`; `tests/header.rs` fails when the committed header is stale).
//!
//! Conventions, repeated in the header's preamble:
//! - strings in: pointer plus length in bytes, UTF-8, never NUL-terminated, never read past
//!   the length; a NULL pointer is `TW_NULL_ARGUMENT` even with length 0;
//! - strings out: a [`tw_str`] the library allocates and the caller releases with
//!   [`tw_str_free`], NUL-terminated for convenience (the text may hold
//!   NUL itself: use its length);
//! - times: `int64_t` microseconds since the Unix epoch; durations: `int64_t` nanoseconds;
//! - handles: `tw_<type>_new`/`_from_*` and `tw_<type>_free`, `_free(NULL)` does nothing;
//! - a panic never unwinds into C: it becomes `TW_PANIC`;
//! - a failure's detail stays readable with `tw_last_error_detail` on the same thread.

mod authority;
mod boundary;
mod extract;
mod key;
mod settings;
mod strings;
mod token;
mod verify;

pub use authority::tw_authority_purge;
pub use authority::{tw_authority, tw_authority_authenticate, tw_authority_create_session};
pub use authority::{tw_authority_create_session_key, tw_authority_delete_user_keys};
pub use authority::{tw_authority_create_token, tw_authority_delete, tw_authority_expire};
pub use authority::{tw_authority_find_token, tw_authority_get_key, tw_authority_token_config};
pub use authority::{tw_authority_free, tw_authority_list_tokens, tw_authority_open};
#[cfg(feature = "ffi-test")]
pub use boundary::tw_test_panic;
pub use boundary::{tw_last_error_answer, tw_last_error_message};
pub use boundary::{tw_last_error_detail, tw_status, tw_status_http, tw_status_name};
pub use extract::{TW_SOURCE_ACCESS_TOKEN, TW_SOURCE_BEARER, TW_SOURCE_COOKIE};
pub use extract::{TW_SOURCE_HEADER, TW_SOURCE_QUERY, tw_extract_token, tw_header};
pub use key::tw_key_user_id;
pub use key::{tw_key, tw_key_expires_at, tw_key_free, tw_key_from_json, tw_key_id};
pub use key::{tw_key_created_at, tw_key_fields, tw_key_hashed_secret, tw_key_ip_address};
pub use key::{tw_key_last_used, tw_key_lifetime_seconds, tw_key_new, tw_key_to_storage_json};
pub use key::{tw_key_login_type, tw_key_to_json, tw_key_token_name, tw_key_updated_at};
pub use settings::{tw_settings, tw_settings_default, tw_settings_free, tw_settings_from_env};
pub use settings::{tw_settings_from_json, tw_settings_set, tw_settings_to_json};
pub use strings::{tw_str, tw_str_free};
pub use token::tw_parse_strict;
pub use token::{TW_HASH_LENGTH, TW_TOKEN_LENGTH};
pub use token::{tw_duration_format, tw_duration_parse, tw_generate, tw_hash_secret, tw_parse};
pub use verify::tw_update;
pub use verify::tw_verify_record;
pub use verify::{tw_verdict, tw_verdict_body, tw_verdict_code, tw_verdict_detail};
pub use verify::{tw_verdict_clear, tw_verdict_key, tw_verdict_new};
pub use verify::{tw_verdict_free, tw_verdict_http_status, tw_verdict_message};
pub use verify::{tw_verdict_update, tw_verdict_update_ip, tw_verdict_www_authenticate};
