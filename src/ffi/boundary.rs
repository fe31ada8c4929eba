//! The status type, the panic boundary every entry point runs in, and the thread's last
//! error detail.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use std::borrow::Cow;

use super::settings::{default_settings, tw_settings};
use super::strings::{check_out, tw_str, write_str};
use crate::error::{Code, Coded};
use crate::http::answer;

/// What every function returns: `TW_OK` (0) or the number of what went wrong, grouped by
/// range (1000 a presented token does not authenticate, 2000 invalid input, 3000 a limit,
/// 4000 access, 5000 the key store, 6000 internal). Numbers are stable and never reused.
/// Name one with `tw_status_name`.
#[allow(non_camel_case_types)]
pub type tw_status = Code;

/// The detail of a panic caught at the boundary.
const PANIC_DETAIL: &str = "tokenward panicked; the call did not complete";

/// Why an entry point failed: the status it returns, and what it leaves for
/// `tw_last_error_detail`, `tw_last_error_message` and `tw_last_error_answer`. Boxed, so that
/// a `Result<_, Fail>` is as small as its success and costs the call that succeeds nothing.
#[derive(Clone, Debug)]
pub(crate) struct Fail(Box<Failure>);

/// What a [`Fail`] holds.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) code: Code,
    /// Coder's message for an error of the core; empty for the ABI's own (NULL, UTF-8).
    pub(crate) message: String,
    pub(crate) detail: String,
    validations: &'static [(&'static str, &'static str)],
}

impl std::ops::Deref for Fail {
    type Target = Failure;

    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl Fail {
    /// A failure of the ABI itself (a NULL, bytes that are not UTF-8, ...): no message.
    #[cold]
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Fail {
        Fail(Box::new(Failure {
            code,
            message: String::new(),
            detail: detail.into(),
            validations: &[],
        }))
    }

    /// `TW_NULL_ARGUMENT` for the argument `name`.
    #[cold]
    pub(crate) fn null(name: &str) -> Fail {
        Fail::new(Code::NullArgument, format!("argument `{name}` is NULL"))
    }

    /// The failure an error of the core is: its code, Coder's message and detail.
    #[cold]
    pub(crate) fn of(e: &(impl Coded + ?Sized)) -> Fail {
        Fail(Box::new(Failure {
            code: e.code(),
            message: e.message().into_owned(),
            detail: e.detail().into_owned(),
            validations: e.validations(),
        }))
    }
}

impl<E: Coded> From<E> for Fail {
    fn from(e: E) -> Fail {
        Fail::of(&e)
    }
}

/// A recorded failure, for [`answer`]. (`Fail` itself cannot be `Coded`: it is `From` every
/// `Coded` error.)
struct Recorded<'a>(&'a Failure);

impl Coded for Recorded<'_> {
    fn code(&self) -> Code {
        self.0.code
    }

    fn message(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.message)
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.detail)
    }

    fn validations(&self) -> &'static [(&'static str, &'static str)] {
        self.0.validations
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Fail>> = const { RefCell::new(None) };
}

fn set_last_error(fail: Fail) {
    // During thread teardown the slot may be gone; the status still tells what happened.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(fail));
}

/// Runs `read` on this thread's last failure (None when no call has failed), outside the
/// boundary so that reading it never replaces it.
fn read_last_error(read: impl FnOnce(Option<&Fail>) -> Result<(), Fail>) -> tw_status {
    match catch_unwind(AssertUnwindSafe(|| {
        let last = LAST_ERROR
            .try_with(|slot| slot.borrow().clone())
            .ok()
            .flatten();
        read(last.as_ref())
    })) {
        Ok(Ok(())) => Code::Ok,
        Ok(Err(fail)) => fail.code,
        Err(_) => Code::Panic,
    }
}

/// Runs one entry point's body: `Ok` is `TW_OK`; a failure's code is returned and its detail
/// kept for `tw_last_error_detail`; a panic becomes `TW_PANIC` and never unwinds into C.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), Fail>) -> tw_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Code::Ok,
        Ok(Err(fail)) => {
            let code = fail.code;
            set_last_error(fail);
            code
        }
        Err(_) => {
            set_last_error(Fail::new(Code::Panic, PANIC_DETAIL));
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
    read_last_error(|fail| {
        // SAFETY: the caller passes NULL or a writable `tw_str`; `write_str` checks NULL.
        unsafe { write_str(out, "out", fail.map_or("", |f| &f.detail)) }
    })
}

/// Copies Coder's `message` for the most recent call on this thread that did not return
/// `TW_OK` (`"Invalid API key."`, `"Failed to create API key."`, ...) into `*out`, released
/// with `tw_str_free`. Empty for a failure of the ABI itself (a NULL, bytes that are not
/// UTF-8), which Coder has no words for, and when no call on this thread has failed.
///
/// # Safety
///
/// `out` must be NULL (`TW_NULL_ARGUMENT`) or point to a writable `tw_str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_last_error_message(out: *mut tw_str) -> tw_status {
    read_last_error(|fail| {
        // SAFETY: the caller passes NULL or a writable `tw_str`; `write_str` checks NULL.
        unsafe { write_str(out, "out", fail.map_or("", |f| &f.message)) }
    })
}

/// Coder's HTTP answer to the most recent failure on this thread, whatever the call: writes
/// its status to `*out_status` (401, 400, 403, 404, 409, 500), its JSON body (with
/// `Content-Type: application/json; charset=utf-8`) to `*out_body` and its
/// `WWW-Authenticate` value (empty when Coder sends none) to `*out_www_authenticate`, both
/// released with `tw_str_free`. `settings` (NULL for the defaults) gives the access URL of
/// the challenge. When no call on this thread has failed: 200 and empty strings.
///
/// # Safety
///
/// `settings` is NULL or a live handle; each out-pointer is NULL (`TW_NULL_ARGUMENT`) or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tw_last_error_answer(
    settings: *const tw_settings,
    out_status: *mut u16,
    out_body: *mut tw_str,
    out_www_authenticate: *mut tw_str,
) -> tw_status {
    read_last_error(|fail| {
        check_out(out_status, "out_status")?;
        check_out(out_body, "out_body")?;
        check_out(out_www_authenticate, "out_www_authenticate")?;
        // SAFETY: NULL or a live handle, the caller's guarantee.
        let settings = unsafe { settings.as_ref() }.map_or_else(default_settings, |s| &s.settings);
        let (status, body, www) = match fail {
            None => (200, String::new(), String::new()),
            Some(fail) => {
                let mut answer = answer(&Recorded(fail), settings);
                let www = answer
                    .header("WWW-Authenticate")
                    .unwrap_or_default()
                    .to_owned();
                (answer.status, std::mem::take(&mut answer.body), www)
            }
        };
        // SAFETY: all three checked not NULL; the caller vouches that they are writable.
        unsafe {
            write_str(out_body, "out_body", &body)?;
            if let Err(fail) = write_str(out_www_authenticate, "out_www_authenticate", &www) {
                super::tw_str_free(out_body.read());
                return Err(fail);
            }
            out_status.write(status);
        }
        Ok(())
    })
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
        let detail = LAST_ERROR.with(|slot| slot.borrow().as_ref().map(|f| f.detail.clone()));
        assert_eq!(detail.as_deref(), Some("bad"));
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
