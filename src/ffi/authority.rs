//! `tw_authority`: a key store, the settings and the system clock, with the lifecycle a host
//! calls when tokenward keeps the keys (create, authenticate, list, expire, delete, purge).

use std::ffi::c_char;
use std::sync::Arc;

use serde::Deserialize;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::key::tw_key;
use super::settings::tw_settings;
use super::strings::{check_out, text_in, tw_str, write_str};
use super::verify::{tw_verdict, verdict_out};
use crate::authority::{Authority, ListTokens};
use crate::error::Code;
use crate::issue::{CreateTokenRequest, NewKey, User};
use crate::key::AllowEntry;
use crate::key::{ApiKey, LoginType};
use crate::settings::Settings;
use crate::token::KeyId;

/// An authority over one key store, opaque. Create it with `tw_authority_open`, release it
/// with `tw_authority_free`. Safe to share across threads: any number may call the other
/// `tw_authority_*` functions on one handle at the same time.
#[allow(non_camel_case_types)]
pub struct tw_authority {
    authority: Authority,
}

/// The authority behind a handle, or `TW_NULL_ARGUMENT`.
///
/// # Safety
///
/// `authority` is NULL or a live handle from `tw_authority_open`.
unsafe fn authority_ref<'a>(authority: *const tw_authority) -> Result<&'a Authority, Fail> {
    // SAFETY: NULL or live, the caller's guarantee.
    unsafe { authority.as_ref() }
        .map(|a| &a.authority)
        .ok_or_else(|| Fail::null("authority"))
}

/// A user from its JSON, `{"id": "...", "roles": ["owner", ...]}`, or `TW_INVALID_ARGUMENT`.
fn user_from_json(json: &str, name: &str) -> Result<User, Fail> {
    serde_json::from_str(json).map_err(|e| {
        Fail::new(
            Code::InvalidArgument,
            format!("argument `{name}` is not a user: {e}"),
        )
    })
}

/// Writes a minted key: the token text and a key handle, both or neither.
///
/// # Safety
///
/// `out_token` and `out_key` were checked not NULL and are writable.
unsafe fn write_minted(minted: NewKey, out_token: *mut tw_str, out_key: *mut *mut tw_key) {
    let token = minted.token.expose();
    let handle = Box::into_raw(Box::new(tw_key {
        key: Arc::new(minted.key),
    }));
    // SAFETY: checked not NULL by the caller; writable, the C caller's guarantee.
    unsafe { out_key.write(handle) };
    // SAFETY: as above; `write_str` cannot fail on a pointer that is not NULL.
    let _ = unsafe { write_str(out_token, "out_token", &token) };
}

/// Opens an authority over the store `url` names and writes a new handle to `*out`, released
/// with `tw_authority_free`:
/// - `:memory:`: a new in-memory store, gone with the handle;
/// - `sqlite:<path>`, `sqlite://<path>` or a plain file path: a SQLite file, created when
///   missing (builds with the `sqlite` feature, the default).
///
/// `settings` is NULL for Coder's defaults; it is copied, and may be freed after the call.
/// Fails with `TW_INVALID_ARGUMENT` (an empty or unsupported URL, never echoed: it may hold
/// a password), `TW_INVALID_SETTINGS`, or a store status (`TW_STORE_IO`, ...). Thread-safe.
///
/// # Safety
///
/// `url` points to `url_len` readable bytes (or is NULL); `settings` is NULL or a live
/// handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_open(
    url: *const c_char,
    url_len: usize,
    settings: *const tw_settings,
    out: *mut *mut tw_authority,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `url_len` bytes at `url`.
        let url = unsafe { text_in(url, url_len, "url") }?;
        check_out(out, "out")?;
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let settings = match unsafe { settings.as_ref() } {
            Some(s) => s.settings.clone(),
            None => Settings::default(),
        };
        let authority = Authority::open(url, settings)?;
        let handle = Box::into_raw(Box::new(tw_authority { authority }));
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Releases an authority (closing its store). NULL is ignored. Not while another thread uses
/// the handle.
///
/// # Safety
///
/// `authority` is NULL or a handle from `tw_authority_open`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_free(authority: *mut tw_authority) {
    boundary_void(|| {
        if !authority.is_null() {
            // SAFETY: made by `Box::into_raw` in `tw_authority_open`, freed once.
            drop(unsafe { Box::from_raw(authority) });
        }
    });
}

/// Mints a named API token for `target` and stores it (Coder's `POST
/// /users/{user}/keys/tokens`). The actor must be the target or hold the `owner` role; the
/// lifetime is limited by the target's roles.
///
/// - `actor_json`, `target_json`: users as JSON, `{"id": "...", "roles": ["owner"]}`
///   (`roles` may be left out);
/// - `request_json`: codersdk's `CreateTokenRequest` (`lifetime` in nanoseconds or a Go
///   duration, `scope`, `scopes`, `token_name`, `allow_list`), or an empty string for the
///   defaults;
/// - `remote_addr`: the request's remote address, recorded on the key.
///
/// On `TW_OK` writes the token text to `*out_token` (released with `tw_str_free`; show it to
/// its owner once, never log it) and the stored key to `*out_key` (released with
/// `tw_key_free`). Otherwise nothing: `TW_INVALID_ARGUMENT` (JSON that is not a user or a
/// request), `TW_FORBIDDEN`, `TW_LIFETIME_TOO_LONG`, `TW_INVALID_LIFETIME`,
/// `TW_INVALID_SCOPE`, `TW_CONFLICT` (the name is taken), a store status, ... Thread-safe.
///
/// # Safety
///
/// Each text points to its length in readable bytes (or is NULL); `authority` is NULL or a
/// live handle; `out_token` and `out_key` are NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tw_authority_create_token(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    target_json: *const c_char,
    target_json_len: usize,
    request_json: *const c_char,
    request_json_len: usize,
    remote_addr: *const c_char,
    remote_addr_len: usize,
    out_token: *mut tw_str,
    out_key: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for the lengths of every text.
        let actor = unsafe { text_in(actor_json, actor_json_len, "actor_json") }?;
        // SAFETY: as above.
        let target = unsafe { text_in(target_json, target_json_len, "target_json") }?;
        // SAFETY: as above.
        let request = unsafe { text_in(request_json, request_json_len, "request_json") }?;
        // SAFETY: as above.
        let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
        check_out(out_token, "out_token")?;
        check_out(out_key, "out_key")?;
        let actor = user_from_json(actor, "actor_json")?;
        let target = user_from_json(target, "target_json")?;
        let request = token_request(request)?;
        let minted = authority.create_token(&actor, &target, &request, remote_addr)?;
        // SAFETY: both checked not NULL; the caller vouches that they are writable.
        unsafe { write_minted(minted, out_token, out_key) };
        Ok(())
    })
}

/// Mints a login session for `user` (JSON as in `tw_authority_create_token`) lasting the
/// settings' `session_duration`, and stores it. `login_type` is `password`, `github`,
/// `oidc`, `none` or `oauth2_provider_app` (`TW_INVALID_LOGIN_TYPE` otherwise; `token` is
/// `TW_INVALID_ARGUMENT`). On `TW_OK` writes the token text to `*out_token` (released with
/// `tw_str_free`) and the stored key to `*out_key` (released with `tw_key_free`); otherwise
/// nothing. Thread-safe.
///
/// # Safety
///
/// Each text points to its length in readable bytes (or is NULL); `authority` is NULL or a
/// live handle; `out_token` and `out_key` are NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tw_authority_create_session(
    authority: *const tw_authority,
    user_json: *const c_char,
    user_json_len: usize,
    login_type: *const c_char,
    login_type_len: usize,
    remote_addr: *const c_char,
    remote_addr_len: usize,
    out_token: *mut tw_str,
    out_key: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for the lengths of every text.
        let user = unsafe { text_in(user_json, user_json_len, "user_json") }?;
        // SAFETY: as above.
        let login_type = unsafe { text_in(login_type, login_type_len, "login_type") }?;
        // SAFETY: as above.
        let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
        check_out(out_token, "out_token")?;
        check_out(out_key, "out_key")?;
        let user = user_from_json(user, "user_json")?;
        let login_type: LoginType = login_type.parse()?;
        let minted = authority.create_session(&user, login_type, remote_addr)?;
        // SAFETY: both checked not NULL; the caller vouches that they are writable.
        unsafe { write_minted(minted, out_token, out_key) };
        Ok(())
    })
}

/// Authenticates a presented token against the store, in Coder's order (missing, malformed,
/// unknown key, invalid secret, expired), and writes the refresh it decides to the store.
///
/// Returns `TW_OK` when the token authenticates, the rejection (`TW_MISSING`,
/// `TW_MALFORMED`, `TW_UNKNOWN_KEY`, `TW_INVALID_SECRET`, `TW_EXPIRED`), or the store's
/// failure (`TW_STORE_*`, Coder's 500): in all these cases `verdict` (from `tw_verdict_new`)
/// holds the answer: `tw_verdict_key` is the key as stored after the refresh, and the HTTP
/// getters give Coder's answer. `TW_NULL_ARGUMENT` and `TW_INVALID_UTF8` leave it empty.
/// Thread-safe; the verdict is the caller's own.
///
/// # Safety
///
/// `presented` and `remote_addr` point to their lengths in readable bytes (or are NULL);
/// `authority` is NULL or a live handle; `verdict` is NULL or a live handle that no other
/// thread uses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_authenticate(
    authority: *const tw_authority,
    presented: *const c_char,
    presented_len: usize,
    remote_addr: *const c_char,
    remote_addr_len: usize,
    verdict: *mut tw_verdict,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let verdict = unsafe { verdict_out(verdict) }?;
        let (authority, presented, remote_addr) = verdict.unless_failed((|| {
            // SAFETY: the caller's guarantee, passed on.
            let authority = unsafe { authority_ref(authority) }?;
            // SAFETY: the caller vouches for the lengths of both texts.
            let presented = unsafe { text_in(presented, presented_len, "presented") }?;
            // SAFETY: as above.
            let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
            Ok((authority, presented, remote_addr))
        })())?;
        match authority.authenticate(presented, remote_addr) {
            Ok(auth) => {
                verdict.set_verified(Some(auth.key), auth.update);
                Ok(())
            }
            Err(error) => Err(verdict.set_failed(&error, authority.settings())),
        }
    })
}

/// The `CreateTokenRequest` in `text` ("" for the defaults). An allow-list entry that is not
/// valid is the core's `TW_INVALID_ALLOW_LIST`, with Coder's answer, not a decoding failure.
fn token_request(text: &str) -> Result<CreateTokenRequest, Fail> {
    if text.is_empty() {
        return Ok(CreateTokenRequest::default());
    }
    let not_a_request = |e: serde_json::Error| {
        Fail::new(
            Code::InvalidArgument,
            format!("argument `request_json` is not a CreateTokenRequest: {e}"),
        )
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(not_a_request)?;
    if let Some(entries) = value
        .get("allow_list")
        .and_then(serde_json::Value::as_array)
    {
        for entry in entries {
            AllowEntry::from_json(entry)?;
        }
    }
    serde_json::from_value(value).map_err(not_a_request)
}

/// What `tw_authority_list_tokens` reads from `options_json`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ListOptions {
    user_id: Option<String>,
    all: bool,
    include_expired: bool,
}

/// Writes the named tokens (login type `token`) `actor` may see, oldest first, to `*out` as a
/// JSON array of codersdk `APIKey` objects (the public view: no hash, no IP address),
/// released with `tw_str_free`. `actor_json` is a user as in `tw_authority_create_token`;
/// `options_json` is empty for the actor's own unexpired tokens, or an object with
/// `user_id` (whose tokens), `all` (every user's; only an owner sees others') and
/// `include_expired` (booleans). JSON that does not read is `TW_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL); `authority` is NULL or
/// a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_list_tokens(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    options_json: *const c_char,
    options_json_len: usize,
    out: *mut tw_str,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for the lengths of both texts.
        let actor = unsafe { text_in(actor_json, actor_json_len, "actor_json") }?;
        // SAFETY: as above.
        let options = unsafe { text_in(options_json, options_json_len, "options_json") }?;
        check_out(out, "out")?;
        let actor = user_from_json(actor, "actor_json")?;
        let options: ListOptions = if options.is_empty() {
            ListOptions::default()
        } else {
            serde_json::from_str(options).map_err(|e| {
                Fail::new(
                    Code::InvalidArgument,
                    format!("argument `options_json` is not list options: {e}"),
                )
            })?
        };
        let keys = authority.list_tokens(
            &actor,
            &ListTokens {
                user_id: options.user_id,
                all: options.all,
                include_expired: options.include_expired,
            },
        )?;
        let public: Vec<_> = keys.iter().map(|k| k.public()).collect();
        let json = serde_json::to_string(&public)
            .map_err(|e| Fail::new(Code::InvalidKey, format!("keys do not encode: {e}")))?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { write_str(out, "out", &json) }
    })
}

/// The actor and key id of `tw_authority_expire` and `tw_authority_delete`.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL).
unsafe fn actor_and_id(
    actor_json: *const c_char,
    actor_json_len: usize,
    id: *const c_char,
    id_len: usize,
) -> Result<(User, KeyId), Fail> {
    // SAFETY: the caller vouches for the lengths of both texts.
    let actor = unsafe { text_in(actor_json, actor_json_len, "actor_json") }?;
    // SAFETY: as above.
    let id = unsafe { text_in(id, id_len, "id") }?;
    let actor = user_from_json(actor, "actor_json")?;
    Ok((actor, KeyId::parse(id)?))
}

/// Ends the key `id` (10 bytes) now, keeping its row for audit: a token of it presented after
/// this returns is `TW_EXPIRED`. Expiring an expired key changes nothing. The actor (JSON as
/// in `tw_authority_create_token`) must own the key or hold the `owner` role: another user's
/// key is `TW_NOT_FOUND`, as is a missing one. `TW_INVALID_TOKEN` when `id` is not a key id.
/// Thread-safe.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL); `authority` is NULL or
/// a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_expire(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    id: *const c_char,
    id_len: usize,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller's guarantee, passed on.
        let (actor, id) = unsafe { actor_and_id(actor_json, actor_json_len, id, id_len) }?;
        Ok(authority.expire(&actor, &id)?)
    })
}

/// Deletes the key `id` (10 bytes): a token of it presented after this returns is
/// `TW_UNKNOWN_KEY`. Access and errors as `tw_authority_expire`. Thread-safe.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL); `authority` is NULL or
/// a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_delete(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    id: *const c_char,
    id_len: usize,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller's guarantee, passed on.
        let (actor, id) = unsafe { actor_and_id(actor_json, actor_json_len, id, id_len) }?;
        Ok(authority.delete(&actor, &id)?)
    })
}

/// Deletes the keys that expired longer than the settings' `api_keys_retention` ago (a
/// retention of zero disables the purge) and writes how many to `*out_count`. Thread-safe.
///
/// # Safety
///
/// `authority` is NULL or a live handle; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_purge(
    authority: *const tw_authority,
    out_count: *mut u64,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        check_out(out_count, "out_count")?;
        let count = authority.purge_expired()?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_count.write(count) };
        Ok(())
    })
}

/// Writes a key handle to `*out`, released with `tw_key_free`.
///
/// # Safety
///
/// `out` was checked not NULL and is writable.
unsafe fn write_key(key: ApiKey, out: *mut *mut tw_key) {
    let handle = Box::into_raw(Box::new(tw_key { key: Arc::new(key) }));
    // SAFETY: checked not NULL by the caller; writable, the C caller's guarantee.
    unsafe { out.write(handle) };
}

/// Mints a "new session key" for `user` (JSON as in `tw_authority_create_token`), Coder's
/// `POST /users/{user}/keys`: login type `password`, lasting the settings'
/// `default_token_lifetime`, scopes `[coder:all]`, no name; and stores it. On `TW_OK` writes
/// the token text to `*out_token` (released with `tw_str_free`) and the stored key to
/// `*out_key` (released with `tw_key_free`); otherwise nothing: `TW_INVALID_ARGUMENT` (JSON
/// that is not a user), a store status, ... Thread-safe.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL); `authority` is NULL or
/// a live handle; `out_token` and `out_key` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_create_session_key(
    authority: *const tw_authority,
    user_json: *const c_char,
    user_json_len: usize,
    remote_addr: *const c_char,
    remote_addr_len: usize,
    out_token: *mut tw_str,
    out_key: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for the lengths of both texts.
        let user = unsafe { text_in(user_json, user_json_len, "user_json") }?;
        // SAFETY: as above.
        let remote_addr = unsafe { text_in(remote_addr, remote_addr_len, "remote_addr") }?;
        check_out(out_token, "out_token")?;
        check_out(out_key, "out_key")?;
        let user = user_from_json(user, "user_json")?;
        let minted = authority.create_session_key(&user, remote_addr)?;
        // SAFETY: both checked not NULL; the caller vouches that they are writable.
        unsafe { write_minted(minted, out_token, out_key) };
        Ok(())
    })
}

/// Writes the longest lifetime `user` (JSON as in `tw_authority_create_token`) may request
/// for a token to `*out_max_lifetime_nanos`, in nanoseconds (Coder's `tokenconfig`: the
/// settings' `max_admin_token_lifetime` for an owner, `max_token_lifetime` otherwise).
/// `TW_INVALID_ARGUMENT` for JSON that is not a user. Thread-safe.
///
/// # Safety
///
/// `user_json` points to `user_json_len` readable bytes (or is NULL); `authority` is NULL or
/// a live handle; `out_max_lifetime_nanos` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_token_config(
    authority: *const tw_authority,
    user_json: *const c_char,
    user_json_len: usize,
    out_max_lifetime_nanos: *mut i64,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for `user_json_len` bytes at `user_json`.
        let user = unsafe { text_in(user_json, user_json_len, "user_json") }?;
        check_out(out_max_lifetime_nanos, "out_max_lifetime_nanos")?;
        let user = user_from_json(user, "user_json")?;
        let max = authority.token_config(&user);
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_max_lifetime_nanos.write(max.as_nanos()) };
        Ok(())
    })
}

/// Reads the key `id` (10 bytes) and writes it to `*out_key` (released with `tw_key_free`).
/// The actor (JSON as in `tw_authority_create_token`) must own the key or hold the `owner`
/// role: another user's key is `TW_NOT_FOUND`, as is a missing one. `TW_INVALID_TOKEN` when
/// `id` is not a key id. Writes nothing unless `TW_OK`. Thread-safe.
///
/// # Safety
///
/// Both texts point to their lengths in readable bytes (or are NULL); `authority` is NULL or
/// a live handle; `out_key` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_get_key(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    id: *const c_char,
    id_len: usize,
    out_key: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller's guarantee, passed on.
        let (actor, id) = unsafe { actor_and_id(actor_json, actor_json_len, id, id_len) }?;
        check_out(out_key, "out_key")?;
        let key = authority.get_key(&actor, &id)?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { write_key(key, out_key) };
        Ok(())
    })
}

/// Resolves what an operator typed, as Coder's `tokens rm` does: a token name of `user_id`
/// first, then the text before the first `-` as a key id (so a whole token works too), and
/// writes the key to `*out_key` (released with `tw_key_free`). The actor (JSON as in
/// `tw_authority_create_token`) must own the key or hold the `owner` role. `TW_NOT_FOUND`
/// when nothing matches (the detail never echoes a secret). Writes nothing unless `TW_OK`.
/// Thread-safe.
///
/// # Safety
///
/// Each text points to its length in readable bytes (or is NULL); `authority` is NULL or a
/// live handle; `out_key` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tw_authority_find_token(
    authority: *const tw_authority,
    actor_json: *const c_char,
    actor_json_len: usize,
    user_id: *const c_char,
    user_id_len: usize,
    name_or_id: *const c_char,
    name_or_id_len: usize,
    out_key: *mut *mut tw_key,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for the lengths of every text.
        let actor = unsafe { text_in(actor_json, actor_json_len, "actor_json") }?;
        // SAFETY: as above.
        let user_id = unsafe { text_in(user_id, user_id_len, "user_id") }?;
        // SAFETY: as above.
        let name_or_id = unsafe { text_in(name_or_id, name_or_id_len, "name_or_id") }?;
        check_out(out_key, "out_key")?;
        let actor = user_from_json(actor, "actor_json")?;
        let key = authority.find_token(&actor, user_id, name_or_id)?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { write_key(key, out_key) };
        Ok(())
    })
}

/// Deletes every key of the user `user_id`, as Coder does when a user is deleted, and writes
/// how many to `*out_count`. No access check: the host calls it when it deletes the user.
/// Thread-safe.
///
/// # Safety
///
/// `user_id` points to `user_id_len` readable bytes (or is NULL); `authority` is NULL or a
/// live handle; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_authority_delete_user_keys(
    authority: *const tw_authority,
    user_id: *const c_char,
    user_id_len: usize,
    out_count: *mut u64,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, passed on.
        let authority = unsafe { authority_ref(authority) }?;
        // SAFETY: the caller vouches for `user_id_len` bytes at `user_id`.
        let user_id = unsafe { text_in(user_id, user_id_len, "user_id") }?;
        check_out(out_count, "out_count")?;
        let count = authority.delete_user_keys(user_id)?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_count.write(count) };
        Ok(())
    })
}
