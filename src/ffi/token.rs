//! The stateless surface: tokens, secret hashes and Go durations.

use std::ffi::c_char;

use super::boundary::{Fail, boundary, tw_status};
use super::strings::{check_out, text_in, tw_str, write_str};
use crate::duration::Duration;
use crate::error::Code;
use crate::hash::{HASH_LENGTH, SecretHash};
use crate::token::{ParseError, Token};

/// Bytes in a SHA-256 secret hash: the size `tw_hash_secret` needs.
pub const TW_HASH_LENGTH: usize = 32;
/// Bytes in a token: `<10-byte id>-<22-byte secret>`.
pub const TW_TOKEN_LENGTH: usize = 33;

// Literals, so the header shows numbers; they must stay the core's.
const _: () =
    assert!(TW_HASH_LENGTH == HASH_LENGTH && TW_TOKEN_LENGTH == crate::token::TOKEN_LENGTH);

/// Generates a token from the operating system's CSPRNG with Coder's sampler and writes its
/// text (`TW_TOKEN_LENGTH` bytes, `<id>-<secret>`) to `*out`, which the caller releases with
/// `tw_str_free` (it is wiped on release). Show it to its owner once; store only
/// `tw_hash_secret` of the secret. Thread-safe. `TW_RANDOM` if the OS source fails.
///
/// # Safety
///
/// `out` is NULL (`TW_NULL_ARGUMENT`) or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_generate(out: *mut tw_str) -> tw_status {
    boundary(|| {
        check_out(out, "out")?;
        let token = Token::generate()?;
        // SAFETY: `out` is not NULL and the caller vouches that it is writable.
        unsafe { write_str(out, "out", &token.expose()) }
    })
}

/// Splits a presented token exactly as Coder's `SplitAPIToken` does (every `-`, exactly two
/// parts of 10 and 22 bytes, characters not checked) and writes the id and the secret to
/// `*id_out` and `*secret_out`, both released by the caller with `tw_str_free`. On failure
/// `TW_INVALID_TOKEN`, with Coder's words in `tw_last_error_detail`, and nothing written.
/// Thread-safe.
///
/// # Safety
///
/// `token` points to `token_len` readable bytes (or is NULL: `TW_NULL_ARGUMENT`); `id_out`
/// and `secret_out` are NULL or point to writable `tw_str`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_parse(
    token: *const c_char,
    token_len: usize,
    id_out: *mut tw_str,
    secret_out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { parse_with(Token::parse, token, token_len, id_out, secret_out) }
}

/// `tw_parse`, and also refuses a token whose characters are not all of the alphabet tokens
/// are generated from (`0-9A-Za-z`): for checking a token before storing or showing it.
/// Authentication takes what `tw_parse` takes, as Coder does. Thread-safe.
///
/// # Safety
///
/// As `tw_parse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_parse_strict(
    token: *const c_char,
    token_len: usize,
    id_out: *mut tw_str,
    secret_out: *mut tw_str,
) -> tw_status {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { parse_with(Token::parse_strict, token, token_len, id_out, secret_out) }
}

/// `tw_parse` with `parse` splitting the text.
///
/// # Safety
///
/// As `tw_parse`.
unsafe fn parse_with(
    parse: fn(&str) -> Result<Token, ParseError>,
    token: *const c_char,
    token_len: usize,
    id_out: *mut tw_str,
    secret_out: *mut tw_str,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `token_len` bytes at `token`.
        let text = unsafe { text_in(token, token_len, "token") }?;
        check_out(id_out, "id_out")?;
        check_out(secret_out, "secret_out")?;
        let parsed = parse(text)?;
        // Cut from `text` at ASCII `-` or its ends: whole UTF-8 characters.
        let secret = std::str::from_utf8(parsed.secret().as_bytes())
            .map_err(|e| Fail::new(Code::InvalidUtf8, e.to_string()))?;
        // SAFETY: both out-pointers are checked not NULL and vouched writable.
        unsafe {
            write_str(id_out, "id_out", parsed.id().as_str())?;
            write_str(secret_out, "secret_out", secret)
        }
    })
}

/// Writes SHA-256 of the secret's UTF-8 bytes (the `hashed_secret` Coder stores) to
/// `out[0..32]`. `out_len` is the size of the caller's array: below `TW_HASH_LENGTH` it is
/// `TW_BUFFER_TOO_SMALL` and nothing is written. Thread-safe.
///
/// # Safety
///
/// `secret` points to `secret_len` readable bytes (or is NULL); `out` is NULL or points to
/// `out_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_hash_secret(
    secret: *const c_char,
    secret_len: usize,
    out: *mut u8,
    out_len: usize,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `secret_len` bytes at `secret`.
        let secret = unsafe { text_in(secret, secret_len, "secret") }?;
        check_out(out, "out")?;
        if out_len < HASH_LENGTH {
            return Err(Fail::new(
                Code::BufferTooSmall,
                format!("the hash needs {HASH_LENGTH} bytes, the buffer has {out_len}"),
            ));
        }
        let hash = SecretHash::of_bytes(secret.as_bytes());
        // SAFETY: `out` is not NULL and holds at least `out_len >= 32` writable bytes, which
        // cannot overlap the hash, a local.
        unsafe { std::ptr::copy_nonoverlapping(hash.as_bytes().as_ptr(), out, HASH_LENGTH) };
        Ok(())
    })
}

/// Parses a Go duration (`"90m"`, `"1h30m"`, plus Coder's `d` = 24h and `y` = 8760h) into
/// `*out_nanos`, in nanoseconds. On failure `TW_INVALID_DURATION` with Go's message in
/// `tw_last_error_detail`. Thread-safe.
///
/// # Safety
///
/// `text` points to `text_len` readable bytes (or is NULL); `out_nanos` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_duration_parse(
    text: *const c_char,
    text_len: usize,
    out_nanos: *mut i64,
) -> tw_status {
    boundary(|| {
        // SAFETY: the caller vouches for `text_len` bytes at `text`.
        let text = unsafe { text_in(text, text_len, "text") }?;
        check_out(out_nanos, "out_nanos")?;
        let duration = Duration::parse(text)?;
        // SAFETY: checked not NULL; the caller vouches that it is writable.
        unsafe { out_nanos.write(duration.as_nanos()) };
        Ok(())
    })
}

/// Formats `nanos` nanoseconds as Go's `Duration.String()` does (`"1h30m0s"`, `"1.5µs"`,
/// `"0s"`) into `*out`, released by the caller with `tw_str_free`. Thread-safe.
///
/// # Safety
///
/// `out` is NULL (`TW_NULL_ARGUMENT`) or points to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_duration_format(nanos: i64, out: *mut tw_str) -> tw_status {
    boundary(|| {
        let text = Duration::from_nanos(nanos).to_string();
        // SAFETY: `write_str` checks NULL; the caller vouches that `out` is writable.
        unsafe { write_str(out, "out", &text) }
    })
}
