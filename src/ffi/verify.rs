//! `tw_settings`, `tw_verify_record` and the `tw_verdict` it answers with.

use std::ffi::c_char;
use std::sync::Arc;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::key::tw_key;
use super::strings::{bytes_in, check_out, text_in, tw_str, write_str};
use crate::check::verify_record;
use crate::error::{Code, Coded};
use crate::http::{HttpAnswer, answer};
use crate::key::ApiKey;
use crate::refresh::KeyUpdate;
use crate::settings::Settings;
use crate::time::Timestamp;

/// Coder's deployment settings, opaque. Create it with `tw_settings_from_json`, release it
/// with `tw_settings_free`. Immutable: any number of threads may share one.
#[allow(non_camel_case_types)]
pub struct tw_settings {
    pub(crate) settings: Settings,
}

/// Reads settings from a JSON object (`session_duration`, `disable_session_expiry_refresh`,
/// `default_token_lifetime`, `max_token_lifetime`, `max_admin_token_lifetime`,
/// `api_keys_retention` as Go durations such as `"24h"`, `access_url` as a string or null);
/// an absent field takes its default, `{}` gives Coder's defaults. Writes a new handle to
/// `*out`, released with `tw_settings_free`. `TW_INVALID_SETTINGS` names what is wrong.
///
/// # Safety
///
/// `json` points to `json_len` readable bytes (or is NULL); `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut tw_settings,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `json_len` bytes at `json`.
        let json = unsafe { text_in(json, json_len, "json") }?;
        check_out(out, "out")?;
        let invalid = |e: serde_json::Error| {
            Fail::new(Code::InvalidSettings, format!("invalid settings: {e}"))
        };
        // An object only: serde would also read a struct from an array.
        let value: serde_json::Value = serde_json::from_str(json).map_err(invalid)?;
        if !value.is_object() {
            return Err(Fail::new(
                Code::InvalidSettings,
                "invalid settings: expected a JSON object",
            ));
        }
        let settings: Settings = serde_json::from_value(value).map_err(invalid)?;
        settings.validate()?;
        let handle = Box::into_raw(Box::new(tw_settings { settings }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Releases settings. NULL is ignored. Not while another thread uses them.
///
/// # Safety
///
/// `settings` is NULL or a handle from `tw_settings_from_json`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_free(settings: *mut tw_settings) {
    boundary_void(|| {
        if !settings.is_null() {
            // SAFETY: made by `Box::into_raw` in `tw_settings_from_json`, freed once.
            drop(unsafe { Box::from_raw(settings) });
        }
    });
}

/// The refresh a verified key needs written back (Coder's `UpdateAPIKeyByID`), by value.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct tw_update {
    /// Whether there is anything to write; when false the other fields are 0.
    pub present: bool,
    /// The new `last_used`, microseconds since the Unix epoch.
    pub last_used_micros: i64,
    /// The new `expires_at`, microseconds since the Unix epoch.
    pub expires_at_micros: i64,
    /// The `expires_at` the decision was made on: write `expires_at` only while the row still
    /// has this value, so a concurrent expire stands.
    pub previous_expires_at_micros: i64,
}

/// The answer of `tw_verify_record` or `tw_authority_authenticate`, opaque: verified (with
/// the key and the refresh to write back) or failed (with Coder's HTTP answer). Release it
/// with `tw_verdict_free`. Immutable: any number of threads may read one.
#[allow(non_camel_case_types)]
pub struct tw_verdict {
    outcome: Outcome,
}

enum Outcome {
    Verified(Box<(Arc<ApiKey>, Option<KeyUpdate>)>),
    Failed(Box<Failed>),
}

/// Coder's defaults, built once: what a NULL settings handle means.
fn default_settings() -> &'static Settings {
    static DEFAULTS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(Settings::default)
}

/// Why a token did not authenticate, and Coder's answer.
struct Failed {
    code: Code,
    message: String,
    detail: String,
    http: HttpAnswer,
}

impl tw_verdict {
    /// A verified token's verdict.
    pub(crate) fn verified(key: Arc<ApiKey>, update: Option<KeyUpdate>) -> tw_verdict {
        tw_verdict {
            outcome: Outcome::Verified(Box::new((key, update))),
        }
    }

    /// The verdict for a token that did not authenticate, with Coder's answer to `error`, and
    /// the failure its entry point returns.
    pub(crate) fn failed(error: &(impl Coded + ?Sized), settings: &Settings) -> (tw_verdict, Fail) {
        let failed = Failed {
            code: error.code(),
            message: error.message().into_owned(),
            detail: error.detail().into_owned(),
            http: answer(error, settings),
        };
        let fail = Fail::new(failed.code, failed.detail.clone());
        let verdict = tw_verdict {
            outcome: Outcome::Failed(Box::new(failed)),
        };
        (verdict, fail)
    }
}

/// Checks a presented token against the record the host fetched for its id, in Coder's
/// order: missing, malformed, unknown key, invalid secret, expired; then decides the refresh.
///
/// - `presented`: the token text as the request carried it (length 0: missing);
/// - `key`: the record fetched for the token's id, or NULL when there is none;
/// - `settings`: NULL for Coder's defaults;
/// - `now_micros`: the time of the check, microseconds since the Unix epoch;
/// - `remote_addr`: the request's remote address, recorded when `last_used` moves.
///
/// Returns `TW_OK` when the token authenticates, or the rejection (`TW_MISSING`,
/// `TW_MALFORMED`, `TW_UNKNOWN_KEY`, `TW_INVALID_SECRET`, `TW_EXPIRED`, Coder's detail in
/// `tw_last_error_detail`): in both cases `*out` receives a verdict, released with
/// `tw_verdict_free`. Any other status (`TW_NULL_ARGUMENT`, `TW_INVALID_UTF8`,
/// `TW_INVALID_TIMESTAMP`) writes nothing. Thread-safe; the key and settings are only read.
///
/// # Safety
///
/// `presented` and `remote_addr` point to their lengths in readable bytes (or are NULL);
/// `key` and `settings` are NULL or live handles; `out` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tw_verify_record(
    presented: *const c_char,
    presented_len: usize,
    key: *const tw_key,
    settings: *const tw_settings,
    now_micros: i64,
    remote_addr: *const c_char,
    remote_addr_len: usize,
    out: *mut *mut tw_verdict,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for the lengths of both texts.
        let presented = unsafe { bytes_in(presented, presented_len, "presented") }?;
        // SAFETY: as above.
        let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
        check_out(out, "out")?;
        let presented = std::str::from_utf8(presented).map_err(|e| {
            Fail::new(
                Code::InvalidUtf8,
                format!("argument `presented` is not UTF-8: {e}"),
            )
        })?;
        let now = Timestamp::try_from_unix_micros(now_micros)?;
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let shared = unsafe { key.as_ref() }.map(|k| &k.key);
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let settings = match unsafe { settings.as_ref() } {
            Some(s) => &s.settings,
            None => default_settings(),
        };
        let record = shared.map(|key| &**key);
        let (verdict, failure) = match verify_record(presented, record, now, settings, remote_addr)
        {
            // Only a record verifies, so `shared` is there: the verdict shares it, no copy.
            Ok(verified) => {
                let key = shared.map_or_else(|| Arc::new(verified.key.clone()), Arc::clone);
                (tw_verdict::verified(key, verified.update), None)
            }
            Err(rejection) => {
                let (verdict, failure) = tw_verdict::failed(&rejection, settings);
                (verdict, Some(failure))
            }
        };
        let handle = Box::into_raw(Box::new(verdict));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        failure.map_or(Ok(()), Err)
    })
}

/// Releases a verdict. NULL is ignored. Not while another thread uses it.
///
/// # Safety
///
/// `verdict` is NULL or a handle from `tw_verify_record` or `tw_authority_authenticate`, not
/// yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_free(verdict: *mut tw_verdict) {
    boundary_void(|| {
        if !verdict.is_null() {
            // SAFETY: made by `Box::into_raw` in `tw_verify_record` or
            // `tw_authority_authenticate`, freed once.
            drop(unsafe { Box::from_raw(verdict) });
        }
    });
}

/// The outcome behind a handle, or `TW_NULL_ARGUMENT`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle.
unsafe fn outcome<'a>(verdict: *const tw_verdict) -> Result<&'a Outcome, Fail> {
    // SAFETY: NULL or live, the caller's guarantee.
    unsafe { verdict.as_ref() }
        .map(|v| &v.outcome)
        .ok_or_else(|| Fail::null("verdict"))
}

/// Writes one text of a verdict: empty for a verified token.
///
/// # Safety
///
/// `verdict` is NULL or live; `out` is NULL or writable.
unsafe fn verdict_text(
    verdict: *const tw_verdict,
    out: *mut tw_str,
    text: impl FnOnce(&Failed) -> String,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let text = match unsafe { outcome(verdict) }? {
            Outcome::Verified(_) => String::new(),
            Outcome::Failed(failed) => text(failed),
        };
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &text) }
    })
}

/// Writes the verdict's status to `*out`: `TW_OK` for a verified token, else the rejection.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_code(
    verdict: *const tw_verdict,
    out: *mut tw_status,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let code = match unsafe { outcome(verdict) }? {
            Outcome::Verified(_) => Code::Ok,
            Outcome::Failed(failed) => failed.code,
        };
        check_out(out, "out")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(code) };
        Ok(())
    })
}

/// Writes the HTTP status Coder answers with to `*out`: 200 when verified, 401 for a
/// rejected token, 500 for a store failure in `tw_authority_authenticate`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_http_status(
    verdict: *const tw_verdict,
    out: *mut u16,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let status = match unsafe { outcome(verdict) }? {
            Outcome::Verified(_) => 200,
            Outcome::Failed(failed) => failed.http.status,
        };
        check_out(out, "out")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(status) };
        Ok(())
    })
}

/// Writes Coder's `message` for a rejection to `*out` (empty when verified), released with
/// `tw_str_free`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_message(
    verdict: *const tw_verdict,
    out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verdict_text(verdict, out, |f| f.message.clone()) }
}

/// Writes Coder's `detail` for a rejection to `*out` (empty when verified), released with
/// `tw_str_free`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_detail(
    verdict: *const tw_verdict,
    out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verdict_text(verdict, out, |f| f.detail.clone()) }
}

/// Writes the `WWW-Authenticate` value Coder sends with a rejection to `*out` (empty when
/// verified), released with `tw_str_free`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_www_authenticate(
    verdict: *const tw_verdict,
    out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe {
        verdict_text(verdict, out, |f| {
            f.http
                .header("WWW-Authenticate")
                .unwrap_or_default()
                .to_owned()
        })
    }
}

/// Writes the JSON body Coder answers a rejection with (`{"message":...,"detail":...}` and a
/// newline, `Content-Type: application/json; charset=utf-8`) to `*out` (empty when
/// verified), released with `tw_str_free`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_body(
    verdict: *const tw_verdict,
    out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verdict_text(verdict, out, |f| f.http.body.clone()) }
}

/// Writes the refresh to persist to `*out`: `present` false when there is nothing to write,
/// or when the token was rejected.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_update(
    verdict: *const tw_verdict,
    out: *mut tw_update,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let update = match unsafe { outcome(verdict) }? {
            Outcome::Verified(verified) => match &verified.1 {
                Some(u) => tw_update {
                    present: true,
                    last_used_micros: u.last_used.unix_micros(),
                    expires_at_micros: u.expires_at.unix_micros(),
                    previous_expires_at_micros: u.previous_expires_at.unix_micros(),
                },
                None => tw_update::default(),
            },
            Outcome::Failed(_) => tw_update::default(),
        };
        check_out(out, "out")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(update) };
        Ok(())
    })
}

/// Writes the `ip_address` of the refresh to `*out` (canonical, `0.0.0.0` when the remote
/// address was not a bare IP; empty when there is no refresh), released with `tw_str_free`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_update_ip(
    verdict: *const tw_verdict,
    out: *mut tw_str,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let ip = match unsafe { outcome(verdict) }? {
            Outcome::Verified(verified) => verified
                .1
                .as_ref()
                .map_or_else(String::new, |u| u.ip_address.to_string()),
            Outcome::Failed(_) => String::new(),
        };
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &ip) }
    })
}

/// Writes the verified key to `*out` as a new handle, released with `tw_key_free`: the record
/// `tw_verify_record` was given, or the key as `tw_authority_authenticate` left it stored
/// (after the refresh). A verdict that is not verified has no key: its own status (the
/// rejection, or the store failure), and nothing written.
///
/// # Safety
///
/// `verdict` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_key(
    verdict: *const tw_verdict,
    out: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = match unsafe { outcome(verdict) }? {
            Outcome::Verified(verified) => Arc::clone(&verified.0),
            Outcome::Failed(failed) => {
                return Err(Fail::new(failed.code, failed.detail.clone()));
            }
        };
        check_out(out, "out")?;
        let handle = Box::into_raw(Box::new(tw_key { key }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}
