//! `tw_settings`: Coder's deployment settings.

use std::ffi::c_char;

use super::boundary::{Fail, boundary, boundary_void, tw_status};
use super::strings::{check_out, text_in, tw_str, write_str};
use crate::error::Code;
use crate::settings::Settings;

/// Coder's deployment settings, opaque. Create it with `tw_settings_default`,
/// `tw_settings_from_env` or `tw_settings_from_json`, change one setting with
/// `tw_settings_set` before sharing it, release it with `tw_settings_free`. Once shared it is
/// only read: any number of threads may use one.
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
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { new_handle(out, settings) };
        Ok(())
    })
}

/// Writes a new handle holding `settings` to `*out`.
///
/// # Safety
///
/// `out` is not NULL and writable.
unsafe fn new_handle(out: *mut *mut tw_settings, settings: Settings) {
    let handle = Box::into_raw(Box::new(tw_settings { settings }));
    // SAFETY: the caller's guarantee.
    unsafe { out.write(handle) };
}

/// Writes Coder's default settings to `*out` as a new handle, released with
/// `tw_settings_free`.
///
/// # Safety
///
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_default(out: *mut *mut tw_settings) -> tw_status {
    boundary(|| {
        check_out(out, "out")?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { new_handle(out, Settings::default()) };
        Ok(())
    })
}

/// Reads settings from the process environment and writes a new handle to `*out`, released
/// with `tw_settings_free`: for each setting `TOKENWARD_<NAME>` when set, else Coder's own
/// `CODER_<NAME>` (`CODER_SESSION_DURATION`, `CODER_DISABLE_SESSION_EXPIRY_REFRESH`,
/// `CODER_DEFAULT_TOKEN_LIFETIME`, `CODER_MAX_TOKEN_LIFETIME`,
/// `CODER_MAX_ADMIN_TOKEN_LIFETIME`, `CODER_API_KEYS_RETENTION`, `CODER_ACCESS_URL`), else
/// the default. `TW_INVALID_SETTINGS` names the variable and what is wrong with it.
///
/// # Safety
///
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_from_env(out: *mut *mut tw_settings) -> tw_status {
    boundary(|| {
        check_out(out, "out")?;
        let settings = Settings::from_env()?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { new_handle(out, settings) };
        Ok(())
    })
}

/// Sets one setting by its name (`session_duration`), Coder's flag (`session-duration`) or
/// its variable (`CODER_SESSION_DURATION`), from text as the environment holds it: a Go
/// duration (`"168h"`, `"7d"`), a Go boolean (`"true"`, `"1"`), a URL (empty for none).
/// `TW_INVALID_SETTINGS` for an unknown name or a bad value, and the settings are unchanged.
/// Not while another thread uses the settings.
///
/// # Safety
///
/// `settings` is NULL or a live handle no other thread uses; `name` and `value` point to
/// their lengths in readable bytes (or are NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_set(
    settings: *mut tw_settings,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> tw_status {
    boundary(|| {
        // SAFETY: NULL or live and not shared, the caller's guarantee.
        let settings = unsafe { settings.as_mut() }.ok_or_else(|| Fail::null("settings"))?;
        // SAFETY: the caller vouches for both lengths.
        let (name, value) = unsafe {
            (
                text_in(name, name_len, "name")?,
                text_in(value, value_len, "value")?,
            )
        };
        settings.settings.set(name, value)?;
        Ok(())
    })
}

/// Writes the settings as a JSON object (durations as Go strings such as `"24h0m0s"`, what
/// `tw_settings_from_json` reads) to `*out`, released with `tw_str_free`.
///
/// # Safety
///
/// `settings` is NULL or a live handle; `out` is NULL or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_to_json(
    settings: *const tw_settings,
    out: *mut tw_str,
) -> tw_status {
    boundary(|| {
        // SAFETY: NULL or live, the caller's guarantee.
        let settings = unsafe { settings.as_ref() }.ok_or_else(|| Fail::null("settings"))?;
        let json = serde_json::to_string(&settings.settings).map_err(|e| {
            Fail::new(
                Code::InvalidSettings,
                format!("settings do not encode: {e}"),
            )
        })?;
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &json) }
    })
}

/// Releases settings. NULL is ignored. Not while another thread uses them.
///
/// # Safety
///
/// `settings` is NULL or a settings handle, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_settings_free(settings: *mut tw_settings) {
    boundary_void(|| {
        if !settings.is_null() {
            // SAFETY: made by `Box::into_raw` in `new_handle`, freed once.
            drop(unsafe { Box::from_raw(settings) });
        }
    });
}

/// Coder's defaults, built once: what a NULL settings handle means.
pub(crate) fn default_settings() -> &'static Settings {
    static DEFAULTS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(Settings::default)
}
