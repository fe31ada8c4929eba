//! `tw_verify_record` and the `tw_verdict` it answers with.

use std::ffi::c_char;
use std::sync::Arc;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::key::tw_key;
use super::settings::{default_settings, tw_settings};
use super::strings::{check_out, text_in, tw_str, write_str};
use crate::check::verify_record;
use crate::error::{Code, Coded};
use crate::http::{HttpAnswer, answer};
use crate::key::ApiKey;
use crate::refresh::KeyUpdate;
use crate::settings::Settings;
use crate::time::Timestamp;

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
/// the key and the refresh to write back) or failed (with Coder's HTTP answer). Create one
/// with `tw_verdict_new` and reuse it for call after call: a verified token fills it without
/// allocating. Each call replaces what it held, so read it before the next. One thread at a
/// time (give each thread its own); release it with `tw_verdict_free`.
#[allow(non_camel_case_types)]
pub struct tw_verdict {
    outcome: Outcome,
}

enum Outcome {
    /// New, or the last call failed before it had an answer.
    Empty,
    /// The key as `tw_authority_authenticate` left it stored; none for `tw_verify_record`,
    /// which verified the caller's own record (holding it would cost a reference count).
    Verified {
        key: Option<Arc<ApiKey>>,
        update: Option<KeyUpdate>,
    },
    Failed(Box<Failed>),
}

/// Why a token did not authenticate, and Coder's answer.
struct Failed {
    fail: Fail,
    http: HttpAnswer,
}

impl tw_verdict {
    /// Holds a verified token: the stored key (none for a caller's record) and the refresh.
    pub(crate) fn set_verified(&mut self, key: Option<Arc<ApiKey>>, update: Option<KeyUpdate>) {
        // The usual case, a verdict reused for the caller's records: nothing to drop.
        if key.is_none()
            && let Outcome::Verified {
                key: None,
                update: slot,
            } = &mut self.outcome
        {
            *slot = update;
        } else {
            self.outcome = Outcome::Verified { key, update };
        }
    }

    /// Passes on `inputs`, or empties the verdict when they failed: a call that fails before
    /// it has an answer never leaves the previous call's answer to be read as its own.
    pub(crate) fn unless_failed<T>(&mut self, inputs: Result<T, Fail>) -> Result<T, Fail> {
        if inputs.is_err() {
            self.outcome = Outcome::Empty;
        }
        inputs
    }

    /// Holds Coder's answer to `error`, a token that did not authenticate, and returns the
    /// failure its entry point returns.
    pub(crate) fn set_failed(
        &mut self,
        error: &(impl Coded + ?Sized),
        settings: &Settings,
    ) -> Fail {
        let fail = Fail::of(error);
        self.outcome = Outcome::Failed(Box::new(Failed {
            fail: fail.clone(),
            http: answer(error, settings),
        }));
        fail
    }
}

/// The verdict a call fills.
///
/// # Safety
///
/// `verdict` is NULL or a live handle no other thread uses.
pub(crate) unsafe fn verdict_out<'a>(verdict: *mut tw_verdict) -> Result<&'a mut tw_verdict, Fail> {
    // SAFETY: NULL or live and not shared, the caller's guarantee.
    unsafe { verdict.as_mut() }.ok_or_else(|| Fail::null("verdict"))
}

/// Writes a new, empty verdict to `*out`, for `tw_verify_record` and
/// `tw_authority_authenticate` to fill, released with `tw_verdict_free`. Its getters answer
/// `TW_INVALID_ARGUMENT` until a call fills it.
///
/// # Safety
///
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_new(out: *mut *mut tw_verdict) -> tw_status {
    boundary(|| {
        check_out(out, "out")?;
        let handle = Box::into_raw(Box::new(tw_verdict {
            outcome: Outcome::Empty,
        }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
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
/// `tw_last_error_detail`): in both cases `verdict` holds the answer (the refresh to write, or
/// Coder's HTTP answer). Any other status (`TW_NULL_ARGUMENT`, `TW_INVALID_UTF8`,
/// `TW_INVALID_TIMESTAMP`) leaves `verdict` empty. A verified token allocates nothing.
/// Thread-safe; the key and settings are only read, the verdict is the caller's own.
///
/// # Safety
///
/// `presented` and `remote_addr` point to their lengths in readable bytes (or are NULL);
/// `key` and `settings` are NULL or live handles; `verdict` is NULL or a live handle that no
/// other thread uses during the call.
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
    verdict: *mut tw_verdict,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let verdict = unsafe { verdict_out(verdict) }?;
        let (presented, remote_addr, now) = verdict.unless_failed((|| {
            // SAFETY: the caller vouches for the lengths of both texts.
            let presented = unsafe { text_in(presented, presented_len, "presented") }?;
            // SAFETY: as above.
            let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
            Ok((
                presented,
                remote_addr,
                Timestamp::try_from_unix_micros(now_micros)?,
            ))
        })())?;
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let record = unsafe { key.as_ref() }.map(|k| &*k.key);
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let settings = match unsafe { settings.as_ref() } {
            Some(s) => &s.settings,
            None => default_settings(),
        };
        match verify_record(presented, record, now, settings, remote_addr) {
            Ok(verified) => {
                // Nothing to write is the usual answer: then only the variant is stored, not
                // the whole (mostly unwritten) update copied through the stack.
                match verified.update {
                    None => verdict.set_verified(None, None),
                    Some(update) => verdict.set_verified(None, Some(update)),
                }
                Ok(())
            }
            Err(rejection) => Err(verdict.set_failed(&rejection, settings)),
        }
    })
}

/// Empties a verdict, dropping what it held (a verified key, Coder's answer) as when it was
/// new: for a verdict that would otherwise keep a key until its next call. NULL is ignored.
/// Not while another thread uses it.
///
/// # Safety
///
/// `verdict` is NULL or a live handle no other thread uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_clear(verdict: *mut tw_verdict) {
    boundary_void(|| {
        // SAFETY: NULL or live and not shared, the caller's guarantee.
        if let Some(verdict) = unsafe { verdict.as_mut() } {
            verdict.outcome = Outcome::Empty;
        }
    });
}

/// Releases a verdict. NULL is ignored. Not while another thread uses it.
///
/// # Safety
///
/// `verdict` is NULL or a handle from `tw_verdict_new`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_verdict_free(verdict: *mut tw_verdict) {
    boundary_void(|| {
        if !verdict.is_null() {
            // SAFETY: made by `Box::into_raw` in `tw_verdict_new`, freed once.
            drop(unsafe { Box::from_raw(verdict) });
        }
    });
}

/// The outcome behind a handle, or `TW_NULL_ARGUMENT`.
///
/// # Safety
///
/// `verdict` is NULL or a live handle.
unsafe fn outcome<'a>(verdict: *const tw_verdict) -> Result<Answer<'a>, Fail> {
    // SAFETY: NULL or live, the caller's guarantee.
    match unsafe { verdict.as_ref() }.map(|v| &v.outcome) {
        None => Err(Fail::null("verdict")),
        Some(Outcome::Empty) => Err(Fail::new(
            Code::InvalidArgument,
            "the verdict holds no answer: no call has filled it, or the last one failed first",
        )),
        Some(Outcome::Verified { key, update }) => {
            Ok(Answer::Verified(key.as_ref(), update.as_ref()))
        }
        Some(Outcome::Failed(failed)) => Ok(Answer::Failed(failed)),
    }
}

/// A filled verdict's answer.
enum Answer<'a> {
    Verified(Option<&'a Arc<ApiKey>>, Option<&'a KeyUpdate>),
    Failed(&'a Failed),
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
            Answer::Verified(..) => String::new(),
            Answer::Failed(failed) => text(failed),
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
            Answer::Verified(..) => Code::Ok,
            Answer::Failed(failed) => failed.fail.code,
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
            Answer::Verified(..) => 200,
            Answer::Failed(failed) => failed.http.status,
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
    unsafe { verdict_text(verdict, out, |f| f.fail.message.clone()) }
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
    unsafe { verdict_text(verdict, out, |f| f.fail.detail.clone()) }
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
            Answer::Verified(_, update) => match update {
                Some(u) => tw_update {
                    present: true,
                    last_used_micros: u.last_used.unix_micros(),
                    expires_at_micros: u.expires_at.unix_micros(),
                    previous_expires_at_micros: u.previous_expires_at.unix_micros(),
                },
                None => tw_update::default(),
            },
            Answer::Failed(_) => tw_update::default(),
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
            Answer::Verified(_, update) => {
                update.map_or_else(String::new, |u| u.ip_address.to_string())
            }
            Answer::Failed(_) => String::new(),
        };
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &ip) }
    })
}

/// Writes the key a `tw_authority_authenticate` verdict verified to `*out` as a new handle,
/// released with `tw_key_free`: the key as it is stored after the refresh. A verdict that is
/// not verified has no key: its own status (the rejection, or the store failure), and nothing
/// written. A `tw_verify_record` verdict has none either (`TW_INVALID_ARGUMENT`): the key it
/// verified is the caller's own record, the handle it was given.
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
        check_out(out, "out")?;
        // SAFETY: the caller's guarantee, passed on.
        let key = match unsafe { outcome(verdict) }? {
            Answer::Verified(Some(key), _) => Arc::clone(key),
            Answer::Verified(None, _) => {
                return Err(Fail::new(
                    Code::InvalidArgument,
                    "a verdict of tw_verify_record holds no key: it verified the record it was given",
                ));
            }
            Answer::Failed(failed) => {
                return Err(failed.fail.clone());
            }
        };
        let handle = Box::into_raw(Box::new(tw_key { key }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}
