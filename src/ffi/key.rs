//! `tw_key`: one stored key record, read from its storage-form JSON.

use std::ffi::c_char;
use std::sync::Arc;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::strings::{bytes_in, check_out, tw_str, write_str};
use crate::error::Code;
use crate::key::ApiKey;

/// One key record (a row of Coder's `api_keys`), opaque. Create it with `tw_key_from_json`,
/// release it with `tw_key_free`. Immutable once made: any number of threads may read one
/// at the same time.
#[allow(non_camel_case_types)]
pub struct tw_key {
    /// Shared, so a verdict keeps the key it verified without copying it.
    pub(crate) key: Arc<ApiKey>,
}

/// The key behind a handle, or `TW_NULL_ARGUMENT`.
///
/// # Safety
///
/// `key` is NULL or a live handle from `tw_key_from_json`.
pub(crate) unsafe fn key_ref<'a>(key: *const tw_key) -> Result<&'a ApiKey, Fail> {
    // SAFETY: NULL or live, the caller's guarantee.
    unsafe { key.as_ref() }
        .map(|k| &*k.key)
        .ok_or_else(|| Fail::null("key"))
}

/// Reads a key record from its storage-form JSON (every column, `hashed_secret` as
/// lower-case hex, times as RFC 3339; the form tokenward's stores write) and writes a new
/// handle to `*out`, released with `tw_key_free`. On failure `TW_INVALID_KEY` (the JSON does
/// not decode to a record) or `TW_INVALID_UTF8`, and nothing written. Thread-safe.
///
/// # Safety
///
/// `json` points to `json_len` readable bytes (or is NULL); `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `json_len` bytes at `json`.
        let json = unsafe { bytes_in(json, json_len, "json") }?;
        check_out(out, "out")?;
        if let Err(e) = std::str::from_utf8(json) {
            return Err(Fail::new(
                Code::InvalidUtf8,
                format!("argument `json` is not UTF-8: {e}"),
            ));
        }
        let key: ApiKey = serde_json::from_slice(json)
            .map_err(|e| Fail::new(Code::InvalidKey, format!("invalid key record: {e}")))?;
        let handle = Box::into_raw(Box::new(tw_key { key: Arc::new(key) }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Releases a key handle. NULL is ignored. Not while another thread uses the handle.
///
/// # Safety
///
/// `key` is NULL or a handle from `tw_key_from_json`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_free(key: *mut tw_key) {
    boundary_void(|| {
        if !key.is_null() {
            // SAFETY: made by `Box::into_raw` in `tw_key_from_json` and freed once.
            drop(unsafe { Box::from_raw(key) });
        }
    });
}

/// Writes one text field of a key.
///
/// # Safety
///
/// `key` is NULL or live; `out` is NULL or writable.
unsafe fn text_field(
    key: *const tw_key,
    out: *mut tw_str,
    field: impl FnOnce(&ApiKey) -> String,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &field(key)) }
    })
}

/// Writes the key's id (10 bytes, not secret) to `*out`, released with `tw_str_free`.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_id(key: *const tw_key, out: *mut tw_str) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { text_field(key, out, |k| k.id.as_str().to_owned()) }
}

/// Writes the key's owner (`user_id`) to `*out`, released with `tw_str_free`.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_user_id(key: *const tw_key, out: *mut tw_str) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { text_field(key, out, |k| k.user_id.clone()) }
}

/// Writes the key's login type (`password`, `github`, `oidc`, `token`, `none`,
/// `oauth2_provider_app`) to `*out`, released with `tw_str_free`.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_login_type(key: *const tw_key, out: *mut tw_str) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { text_field(key, out, |k| k.login_type.as_str().to_owned()) }
}

/// Writes the codersdk `APIKey` JSON of the key (its public view: no hash, no IP address)
/// to `*out`, released with `tw_str_free`. The one form to return from an API.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_to_json(key: *const tw_key, out: *mut tw_str) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        let json = serde_json::to_string(&key.public())
            .map_err(|e| Fail::new(Code::InvalidKey, format!("key does not encode: {e}")))?;
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &json) }
    })
}

/// Writes the key's absolute expiry to `*out_micros`, in microseconds since the Unix epoch.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out_micros` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_expires_at(key: *const tw_key, out_micros: *mut i64) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        check_out(out_micros, "out_micros")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_micros.write(key.expires_at.unix_micros()) };
        Ok(())
    })
}
