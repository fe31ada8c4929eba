//! Strings across the boundary: in as pointer plus length, out as a library-owned [`tw_str`].

use std::ffi::c_char;

use super::boundary::{Fail, boundary_void};
use crate::error::Code;
use crate::token::TOKEN_LENGTH;

/// A string the library allocated: `len` bytes of UTF-8 at `ptr`, followed by a NUL that
/// `len` does not count (the text itself may contain NUL: use `len`). The caller owns it and
/// releases it once with `tw_str_free`; do not change `ptr` or `len`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct tw_str {
    /// The first byte; never NULL in a string the library wrote.
    pub ptr: *mut c_char,
    /// The length in bytes, without the trailing NUL.
    pub len: usize,
}

impl tw_str {
    /// `{NULL, 0}`: what to initialise an out-parameter with; `tw_str_free` ignores it.
    #[cfg(test)]
    pub(crate) const EMPTY: tw_str = tw_str {
        ptr: std::ptr::null_mut(),
        len: 0,
    };

    fn new(text: &str) -> tw_str {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        let len = text.len();
        let ptr = Box::into_raw(bytes.into_boxed_slice()).cast::<c_char>();
        tw_str { ptr, len }
    }

    /// The text, for tests.
    ///
    /// # Safety
    ///
    /// `self` was written by the library and not yet freed.
    #[cfg(test)]
    pub(crate) unsafe fn as_str(&self) -> &str {
        // SAFETY: the library wrote `len` bytes of UTF-8 at `ptr`, still allocated.
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr.cast(), self.len))
        }
    }
}

/// Writes `text` as a new library-owned string to `*out`.
///
/// # Safety
///
/// `out` is NULL (an error) or points to a writable `tw_str`.
pub(crate) unsafe fn write_str(out: *mut tw_str, name: &str, text: &str) -> Result<(), Fail> {
    if out.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: `out` is not NULL and the caller vouches that it is writable. `write` does not
    // read (or drop) what was there.
    unsafe { out.write(tw_str::new(text)) };
    Ok(())
}

/// Checks that an out-pointer is not NULL, before any work whose result it is to receive.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> Result<(), Fail> {
    if out.is_null() {
        Err(Fail::null(name))
    } else {
        Ok(())
    }
}

/// The `len` bytes at `ptr`, which must not be NULL.
///
/// # Safety
///
/// `ptr` is NULL or points to `len` readable bytes that stay unchanged during the call.
#[inline]
pub(crate) unsafe fn bytes_in<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Fail> {
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(refused(ptr, name));
    }
    // SAFETY: not NULL, `len` fits in `isize`, and the caller vouches for `len` readable
    // bytes; a `c_char` is a byte.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Why `bytes_in` refused its argument: NULL, or a length no object has.
#[cold]
fn refused(ptr: *const c_char, name: &str) -> Fail {
    if ptr.is_null() {
        Fail::null(name)
    } else {
        Fail::new(
            Code::InvalidArgument,
            format!("argument `{name}_len` is larger than any object"),
        )
    }
}

/// The UTF-8 text of `len` bytes at `ptr`. Inlined for the usual case, ASCII (tokens and
/// addresses are): one word-at-a-time pass.
///
/// # Safety
///
/// As [`bytes_in`].
#[inline]
pub(crate) unsafe fn text_in<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> Result<&'a str, Fail> {
    // SAFETY: the caller's guarantee, passed on.
    let bytes = unsafe { bytes_in(ptr, len, name) }?;
    if all_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    utf8_in(bytes, name)
}

/// Whether every byte is ASCII: the high bits of 8-byte words ORed together (the last word
/// overlapping the one before), one test at the end. For the short texts of a call (a 33-byte
/// token, an address) a third of the instructions of `<[u8]>::is_ascii`, which checks word by
/// word and then byte by byte (callgrind, `benches/README.md`).
#[inline]
fn all_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
    // A token's length: straight-line code, four words and the last byte.
    if let Ok(token) = <&[u8; TOKEN_LENGTH]>::try_from(bytes) {
        let words = token[..32].chunks_exact(8).fold(0, |acc, w| acc | word(w));
        return words & HIGH == 0 && token[32] < 0x80;
    }
    match bytes.last_chunk::<8>() {
        Some(last) => {
            let words = bytes.chunks_exact(8);
            words.fold(word(last), |acc, w| acc | word(w)) & HIGH == 0
        }
        None => bytes.iter().fold(0, |acc, &b| acc | b) < 0x80,
    }
}

/// `text_in` for text that is not all ASCII.
#[cold]
fn utf8_in<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Fail> {
    std::str::from_utf8(bytes).map_err(|e| {
        Fail::new(
            Code::InvalidUtf8,
            format!("argument `{name}` is not UTF-8: {e}"),
        )
    })
}

/// Releases a string the library returned, zeroing its bytes first (it may be a secret).
/// A string whose `ptr` is NULL is ignored. Thread-safe; frees each string once.
///
/// # Safety
///
/// `s` is `{NULL, _}` or a string the library wrote, unchanged and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_str_free(s: tw_str) {
    boundary_void(|| {
        if s.ptr.is_null() {
            return;
        }
        let total = s.len + 1;
        for i in 0..total {
            // SAFETY: `ptr` holds `len + 1` bytes allocated by `tw_str::new`; volatile so the
            // wipe is not removed as a dead store before the free.
            unsafe { s.ptr.add(i).write_volatile(0) };
        }
        // SAFETY: `ptr` and `len + 1` are those of the boxed slice `tw_str::new` leaked, and
        // the caller frees it once.
        drop(unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                s.ptr.cast::<u8>(),
                total,
            ))
        });
    });
}

#[cfg(test)]
mod tests {
    use super::all_ascii;

    #[test]
    fn all_ascii_agrees_with_the_standard_library() {
        for len in 0..=70 {
            let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(all_ascii(&bytes), "length {len}");
            for at in 0..len {
                for high in [0x80, 0xC3, 0xFF] {
                    let keep = bytes[at];
                    bytes[at] = high;
                    assert_eq!(all_ascii(&bytes), bytes.is_ascii(), "length {len}, at {at}");
                    assert!(!all_ascii(&bytes));
                    bytes[at] = keep;
                }
            }
        }
    }
}
