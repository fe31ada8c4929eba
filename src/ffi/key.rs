//! `tw_key`: one stored key record, read from its storage-form JSON or built from its columns.

use std::ffi::c_char;
use std::sync::Arc;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::strings::{bytes_in, check_out, text_in, tw_str, write_str};
use crate::error::Code;
use crate::hash::HASH_LENGTH;
use crate::key::{ApiKey, LoginType};
use crate::time::Timestamp;
use crate::token::KeyId;

/// One key record (a row of Coder's `api_keys`), opaque. Create it with `tw_key_from_json` or
/// `tw_key_new`,
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

/// Writes one time field of a key, in microseconds since the Unix epoch.
///
/// # Safety
///
/// `key` is NULL or live; `out_micros` is NULL or writable.
unsafe fn micros_field(
    key: *const tw_key,
    out_micros: *mut i64,
    field: impl FnOnce(&ApiKey) -> i64,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        check_out(out_micros, "out_micros")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_micros.write(field(key)) };
        Ok(())
    })
}

/// Writes the key's last authenticated use to `*out_micros` (microseconds since the Unix
/// epoch; 0, the epoch, for a key never used).
///
/// # Safety
///
/// `key` is NULL or a live handle; `out_micros` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_last_used(key: *const tw_key, out_micros: *mut i64) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { micros_field(key, out_micros, |k| k.last_used.unix_micros()) }
}

/// Writes the key's creation time to `*out_micros`, microseconds since the Unix epoch.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out_micros` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_created_at(key: *const tw_key, out_micros: *mut i64) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { micros_field(key, out_micros, |k| k.created_at.unix_micros()) }
}

/// Writes the last change of the key's settings to `*out_micros` (microseconds since the Unix
/// epoch; refreshes do not move it).
///
/// # Safety
///
/// `key` is NULL or a live handle; `out_micros` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_updated_at(key: *const tw_key, out_micros: *mut i64) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { micros_field(key, out_micros, |k| k.updated_at.unix_micros()) }
}

/// Writes the lifetime a sliding refresh extends the key by to `*out_seconds`, in seconds.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out_seconds` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_lifetime_seconds(
    key: *const tw_key,
    out_seconds: *mut i64,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { micros_field(key, out_seconds, |k| k.lifetime_seconds) }
}

/// Writes the key's token name to `*out` (empty for a session), released with `tw_str_free`.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_token_name(key: *const tw_key, out: *mut tw_str) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { text_field(key, out, |k| k.token_name.clone()) }
}

/// Writes the address of the key's last refresh (or creation) to `*out`, canonical, `0.0.0.0`
/// when unknown, released with `tw_str_free`. Not part of the public JSON view.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_ip_address(key: *const tw_key, out: *mut tw_str) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { text_field(key, out, |k| k.ip_address.to_canonical().to_string()) }
}

/// Writes the storage form of the key (every column, `hashed_secret` as lower-case hex, times
/// as RFC 3339; what `tw_key_from_json` reads) to `*out`, released with `tw_str_free`. It
/// holds the hash: store it, never return it from an API (that is `tw_key_to_json`).
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_to_storage_json(key: *const tw_key, out: *mut tw_str) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        let json = serde_json::to_string(&key.storage())
            .map_err(|e| Fail::new(Code::InvalidKey, format!("key does not encode: {e}")))?;
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &json) }
    })
}

/// The columns of a new key record, for `tw_key_new`. Texts are pointer plus length; a NULL
/// optional text takes Coder's column default.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct tw_key_fields {
    /// The key id, the token's first 10 bytes (`tw_parse`). Required.
    pub id: *const c_char,
    /// The length of `id` in bytes.
    pub id_len: usize,
    /// SHA-256 of the secret (`tw_hash_secret`), `TW_HASH_LENGTH` bytes. Required.
    pub hashed_secret: *const u8,
    /// The length of `hashed_secret` in bytes.
    pub hashed_secret_len: usize,
    /// The owner's id, not empty. Required.
    pub user_id: *const c_char,
    /// The length of `user_id` in bytes.
    pub user_id_len: usize,
    /// `password`, `github`, `oidc`, `token`, `none` or `oauth2_provider_app`. Required.
    pub login_type: *const c_char,
    /// The length of `login_type` in bytes.
    pub login_type_len: usize,
    /// Creation time, microseconds since the Unix epoch; also `updated_at`.
    pub created_at_micros: i64,
    /// Absolute expiry, microseconds since the Unix epoch.
    pub expires_at_micros: i64,
    /// Last use, microseconds since the Unix epoch; 0 (the epoch) for never used.
    pub last_used_micros: i64,
    /// The sliding lifetime in seconds; 0 stores Coder's 86400.
    pub lifetime_seconds: i64,
    /// The token's name; NULL for none (a session).
    pub token_name: *const c_char,
    /// The length of `token_name` in bytes.
    pub token_name_len: usize,
    /// The creating request's IP address (stored canonical: an IPv4-mapped IPv6 address as
    /// IPv4); NULL for `0.0.0.0`.
    pub ip_address: *const c_char,
    /// The length of `ip_address` in bytes.
    pub ip_address_len: usize,
}

/// Builds a key record from its columns (scopes `[coder:all]` and allow-list `*:*`, Coder's
/// defaults; `tw_key_from_json` takes any other) and writes a new handle to `*out`, released
/// with `tw_key_free`. `TW_INVALID_KEY` names a field that is not valid (an id that is not 10
/// bytes, a hash that is not 32, an empty user id), `TW_INVALID_LOGIN_TYPE`,
/// `TW_INVALID_TIMESTAMP` or `TW_INVALID_ARGUMENT` (an IP address) the others; nothing is
/// written then. Thread-safe.
///
/// # Safety
///
/// `fields` is NULL or points to a readable `tw_key_fields` whose texts point to their
/// lengths in readable bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_new(
    fields: *const tw_key_fields,
    out: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: NULL or readable, the caller's guarantee.
        let f = unsafe { fields.as_ref() }.ok_or_else(|| Fail::null("fields"))?;
        check_out(out, "out")?;
        // SAFETY: the caller vouches for each text's length.
        let (id, hash, user_id, login_type) = unsafe {
            (
                text_in(f.id, f.id_len, "fields.id")?,
                bytes_in(
                    f.hashed_secret.cast(),
                    f.hashed_secret_len,
                    "fields.hashed_secret",
                )?,
                text_in(f.user_id, f.user_id_len, "fields.user_id")?,
                text_in(f.login_type, f.login_type_len, "fields.login_type")?,
            )
        };
        // SAFETY: as above; NULL means the default.
        let optional = |ptr: *const c_char, len, name| -> Result<Option<&str>, Fail> {
            if ptr.is_null() {
                Ok(None)
            } else {
                // SAFETY: not NULL; the caller vouches for its length.
                unsafe { text_in(ptr, len, name) }.map(Some)
            }
        };
        let token_name = optional(f.token_name, f.token_name_len, "fields.token_name")?;
        let ip_address = optional(f.ip_address, f.ip_address_len, "fields.ip_address")?;
        let invalid = |detail: String| Fail::new(Code::InvalidKey, detail);
        let id = KeyId::parse(id).map_err(|e| invalid(format!("invalid key id: {e}")))?;
        if hash.len() != HASH_LENGTH {
            return Err(invalid(format!(
                "hashed_secret is {} bytes, not {HASH_LENGTH}",
                hash.len()
            )));
        }
        if user_id.is_empty() {
            return Err(invalid("user_id is empty".to_owned()));
        }
        let login_type: LoginType = login_type.parse()?;
        let mut key = ApiKey::new(
            id,
            hash,
            user_id,
            login_type,
            Timestamp::try_from_unix_micros(f.created_at_micros)?,
            Timestamp::try_from_unix_micros(f.expires_at_micros)?,
        );
        key.last_used = Timestamp::try_from_unix_micros(f.last_used_micros)?;
        if f.lifetime_seconds < 0 {
            return Err(invalid("lifetime_seconds is negative".to_owned()));
        }
        if f.lifetime_seconds > 0 {
            key.lifetime_seconds = f.lifetime_seconds;
        }
        if let Some(name) = token_name {
            key.token_name = name.to_owned();
        }
        if let Some(ip) = ip_address {
            key.ip_address = ip
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|e| {
                    Fail::new(
                        Code::InvalidArgument,
                        format!("fields.ip_address is not an IP address: {e}"),
                    )
                })?;
        }
        let handle = Box::into_raw(Box::new(tw_key { key: Arc::new(key) }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Writes the key's `hashed_secret` (SHA-256 of its secret, normally `TW_HASH_LENGTH` bytes)
/// to `out[0..]` and its length to `*out_len_needed`. `out_len` is the size of the caller's
/// array: when it is smaller than the hash, `TW_BUFFER_TOO_SMALL`, with only the size needed
/// written.
///
/// # Safety
///
/// `key` is NULL or a live handle; `out` is NULL or points to `out_len` writable bytes;
/// `out_len_needed` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_key_hashed_secret(
    key: *const tw_key,
    out: *mut u8,
    out_len: usize,
    out_len_needed: *mut usize,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let key = unsafe { key_ref(key) }?;
        check_out(out, "out")?;
        check_out(out_len_needed, "out_len_needed")?;
        let hash = &key.hashed_secret;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_len_needed.write(hash.len()) };
        if out_len < hash.len() {
            return Err(Fail::new(
                Code::BufferTooSmall,
                format!(
                    "the hash needs {} bytes, the buffer holds {out_len}",
                    hash.len()
                ),
            ));
        }
        // SAFETY: `out` holds `out_len >= hash.len()` writable bytes, the caller's guarantee;
        // the key's memory cannot overlap the caller's buffer.
        unsafe { std::ptr::copy_nonoverlapping(hash.as_ptr(), out, hash.len()) };
        Ok(())
    })
}
