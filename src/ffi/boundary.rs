//! The status type, the panic boundary every entry point runs in, and the thread's last
//! error detail.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::strings::{tw_str, write_str};
use crate::error::{Code, Coded};

/// What every function returns: `TW_OK` (0) or the number of what went wrong, grouped by
/// range (1000 a presented token does not authenticate, 2000 invalid input, 3000 a limit,
/// 4000 access, 5000 the key store, 6000 internal). Numbers are stable and never reused.
/// Name one with `tw_status_name`.
#[allow(non_camel_case_types)]
pub type tw_status = Code;

/// The detail of a panic caught at the boundary.
const PANIC_DETAIL: &str = "tokenward panicked; the call did not complete";

/// Why an entry point failed: the status it returns and the detail it leaves for
/// `tw_last_error_detail`.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) code: Code,
    pub(crate) detail: String,
}

impl Fail {
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Fail {
        Fail {
            code,
            detail: detail.into(),
        }
    }

    /// `TW_NULL_ARGUMENT` for the argument `name`.
    pub(crate) fn null(name: &str) -> Fail {
        Fail::new(Code::NullArgument, format!("argument `{name}` is NULL"))
    }
}

impl<E: Coded> From<E> for Fail {
    fn from(e: E) -> Fail {
        Fail::new(e.code(), e.detail())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(detail: String) {
    // During thread teardown the slot may be gone; the status still tells what happened.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = detail);
}

/// Runs one entry point's body: `Ok` is `TW_OK`; a failure's code is returned and its detail
/// kept for `tw_last_error_detail`; a panic becomes `TW_PANIC` and never unwinds into C.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), Fail>) -> tw_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Code::Ok,
        Ok(Err(fail)) => {
            set_last_error(fail.detail);
            fail.code
        }
        Err(_) => {
            set_last_error(PANIC_DETAIL.to_owned());
            Code::Panic
        }
    }
}

/// Runs a body that returns nothing (the `_free` functions): a panic is swallowed.
pub(crate) fn boundary_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// The stable snake_case name of a status (`"ok"`, `"expired"`, `"null_argument"`, ...), or
/// `"unknown"` for a number that is no status. The string is static and NUL-terminated: do
/// not free it. Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn tw_status_name(status: u32) -> *const c_char {
    let name: &'static std::ffi::CStr = match catch_unwind(|| Code::from_number(status)) {
        Ok(Some(code)) => static_name(code),
        _ => c"unknown",
    };
    name.as_ptr()
}

/// The HTTP status Coder answers `status` with (401 for a rejected token, 400 for invalid
/// input, 403, 404, 409, 500 for the store; 200 for `TW_OK`), or 500 for a number that is no
/// status. Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn tw_status_http(status: u32) -> u16 {
    catch_unwind(|| Code::from_number(status).map_or(500, Code::status)).unwrap_or(500)
}

/// Each code's name as a static C string, built from [`Code::name`].
fn static_name(code: Code) -> &'static std::ffi::CStr {
    use std::sync::OnceLock;
    static NAMES: OnceLock<Vec<std::ffi::CString>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Code::ALL
            .iter()
            .map(|c| std::ffi::CString::new(c.name()).unwrap_or_default())
            .collect()
    });
    Code::ALL
        .iter()
        .position(|&c| c == code)
        .and_then(|i| names.get(i))
        .map_or(c"unknown", |name| name.as_c_str())
}

/// Copies the detail of the most recent call on this thread that did not return `TW_OK`
/// (Coder's `detail` for a rejection, the reason for invalid input) into `*out`, a string
/// the caller releases with `tw_str_free`. Empty when no call on this thread has failed.
/// Successful calls leave it unchanged. Each thread has its own.
///
/// # Safety
///
/// `out` must be NULL (`TW_NULL_ARGUMENT`) or point to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_last_error_detail(out: *mut tw_str) -> tw_status {
    // Not through `boundary`: reading the detail must not replace it.
    match catch_unwind(AssertUnwindSafe(|| {
        let detail = LAST_ERROR
            .try_with(|slot| slot.borrow().clone())
            .unwrap_or_default();
        // SAFETY: the caller passes NULL or a writable `tw_str`; `write_str` checks NULL.
        unsafe { write_str(out, "out", &detail) }
    })) {
        Ok(Ok(())) => Code::Ok,
        Ok(Err(fail)) => fail.code,
        Err(_) => Code::Panic,
    }
}

/// Test only (cargo feature `ffi-test`, header guard `TOKENWARD_FFI_TEST`): panics inside
/// the boundary, so returns `TW_PANIC` with its detail in `tw_last_error_detail`. Never in a
/// release build of the library. Thread-safe.
#[cfg(feature = "ffi-test")]
#[doc(hidden)]
#[unsafe(no_mangle)]
pub extern "C" fn tw_test_panic() -> tw_status {
    boundary(|| panic!("tw_test_panic: a panic inside the C ABI, on purpose"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_tw_panic_with_a_detail() {
        let status = boundary(|| panic!("boom"));
        assert_eq!(status, Code::Panic);
        let mut out = tw_str::EMPTY;
        // SAFETY: `out` is a valid `tw_str`, freed below.
        assert_eq!(unsafe { tw_last_error_detail(&mut out) }, Code::Ok);
        // SAFETY: `out` was just written by the library.
        assert_eq!(unsafe { out.as_str() }, PANIC_DETAIL);
        // SAFETY: `out` came from the library and is freed once.
        unsafe { super::super::tw_str_free(out) };
    }

    #[test]
    fn failures_set_the_detail_and_successes_keep_it() {
        assert_eq!(
            boundary(|| Err(Fail::new(Code::InvalidDuration, "bad"))),
            Code::InvalidDuration
        );
        assert_eq!(boundary(|| Ok(())), Code::Ok);
        let detail = LAST_ERROR.with(|slot| slot.borrow().clone());
        assert_eq!(detail, "bad");
    }

    #[test]
    fn every_status_has_its_name() {
        for &code in Code::ALL {
            let name = tw_status_name(code.number());
            // SAFETY: `tw_status_name` returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(name) };
            assert_eq!(name.to_str().unwrap(), code.name());
        }
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(tw_status_name(7)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown");
        for &code in Code::ALL {
            assert_eq!(tw_status_http(code.number()), code.status());
        }
        assert_eq!(tw_status_http(7), 500);
    }
}
