//! `verify_record` through CPython's fast calling convention.
//!
//! The wheel targets the stable ABI of Python 3.9 (abi3-py39), where PyO3 registers functions
//! with `METH_VARARGS | METH_KEYWORDS`: every call packs its arguments into a new tuple that
//! PyO3 unpacks again, about 80 ns of a 300 ns check (`bindings/python/bench.py`, measured
//! against an abi3-py310 build). `METH_FASTCALL | METH_KEYWORDS` passes them as an array
//! instead. It entered the stable ABI in 3.10, but every CPython an abi3-py39 wheel loads into
//! (3.9 on) has it, documented since 3.7, with this signature and these flag values. So the
//! one function a host calls per request, `verify_record`, is registered here by hand with it;
//! everything else stays with PyO3.

use std::ffi::{CStr, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyModule, PyString, PyTuple};

use crate::functions::verify;

/// `METH_FASTCALL` (CPython's `methodobject.h`, unchanged since 3.7).
const METH_FASTCALL: c_int = 0x0080;
/// `METH_KEYWORDS`.
const METH_KEYWORDS: c_int = 0x0002;

/// The parameters, in order; the first two are required.
const PARAMETERS: [&str; 5] = ["token", "key", "now", "settings", "remote_addr"];
const REQUIRED: usize = 2;

/// `_PyCFunctionFastWithKeywords`: (module, args, nargs, kwnames).
type FastWithKeywords = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// A `PyMethodDef` CPython may keep pointers to: immutable, and only ever read.
struct MethodDef(ffi::PyMethodDef);

// SAFETY: the definition is never written after it is built (a static), and holds pointers to
// static data only.
unsafe impl Sync for MethodDef {}

/// The signature line (`__text_signature__`, which `inspect.signature` reads) and the
/// documentation of `verify_record`.
const DOC: &CStr = c"verify_record(token, key, now=None, settings=None, remote_addr=None)
--

Checks a presented token against the record the host fetched for its id (`None`: no row),
as Coder's middleware does: the id, the secret's hash (in constant time), the expiry; then
decides the refresh. Returns `Verified(key, update)`: write `update` back when it is not
`None`. A token that does not authenticate raises a `Rejected` subclass carrying Coder's
answer (under `settings`, the defaults when `None`). `now`: an aware datetime, `None` for
the current time. `remote_addr`: the request's address, a bare IP.";

static VERIFY_RECORD: MethodDef = MethodDef(ffi::PyMethodDef {
    ml_name: c"verify_record".as_ptr(),
    ml_meth: ffi::PyMethodDefPointer {
        // SAFETY: CPython calls a `METH_FASTCALL | METH_KEYWORDS` function through this field
        // with the `FastWithKeywords` signature; the union only stores the pointer.
        PyCFunction: unsafe {
            std::mem::transmute::<FastWithKeywords, ffi::PyCFunction>(verify_record_fast)
        },
    },
    ml_flags: METH_FASTCALL | METH_KEYWORDS,
    ml_doc: DOC.as_ptr(),
});

/// Adds `verify_record` to `module`.
pub(crate) fn add_verify_record(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let name = module.name()?;
    // SAFETY: the definition is static; the module (the function's `__self__`, as for every
    // module function) and `name` (its `__module__`) are live.
    let function = unsafe {
        ffi::PyCFunction_NewEx(
            ptr::from_ref(&VERIFY_RECORD.0).cast_mut(),
            module.as_ptr(),
            name.as_ptr(),
        )
    };
    if function.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference.
    let function = unsafe { Bound::from_owned_ptr(py, function) };
    module.add("verify_record", function)
}

/// The arguments by parameter, from CPython's array and keyword names.
///
/// # Safety
///
/// `args` holds `nargs` borrowed references, then one per name in `kwnames` (a tuple of str or
/// NULL), as CPython passes them.
unsafe fn arguments<'a, 'py>(
    py: Python<'py>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<[Option<Borrowed<'a, 'py, PyAny>>; 5]> {
    let mut found: [Option<Borrowed<'a, 'py, PyAny>>; 5] = [None; 5];
    let positional = usize::try_from(nargs).unwrap_or(0);
    if positional > PARAMETERS.len() {
        return Err(PyTypeError::new_err(format!(
            "verify_record() takes at most {} positional arguments ({positional} given)",
            PARAMETERS.len()
        )));
    }
    for (i, slot) in found.iter_mut().enumerate().take(positional) {
        // SAFETY: `i < nargs`, a borrowed reference CPython keeps alive for the call.
        *slot = Some(unsafe { Borrowed::from_ptr(py, *args.add(i)) });
    }
    if !kwnames.is_null() {
        // SAFETY: a tuple of str, borrowed for the call.
        let names = unsafe { Borrowed::from_ptr(py, kwnames) };
        let names = names.cast::<PyTuple>()?;
        for (k, name) in names.iter().enumerate() {
            let name = name.cast_into::<PyString>()?;
            let name = name.to_cow()?;
            let Some(at) = PARAMETERS.iter().position(|p| *p == name) else {
                return Err(PyTypeError::new_err(format!(
                    "verify_record() got an unexpected keyword argument '{name}'"
                )));
            };
            if found[at].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "verify_record() got multiple values for argument '{name}'"
                )));
            }
            // SAFETY: keyword values follow the positional ones in `args`.
            found[at] = Some(unsafe { Borrowed::from_ptr(py, *args.add(positional + k)) });
        }
    }
    if let Some(missing) = (0..REQUIRED).find(|&i| found[i].is_none()) {
        return Err(PyTypeError::new_err(format!(
            "verify_record() missing required argument '{}' (pos {})",
            PARAMETERS[missing],
            missing + 1
        )));
    }
    Ok(found)
}

/// An optional argument: absent and `None` alike.
fn given<'a, 'py>(argument: Option<Borrowed<'a, 'py, PyAny>>) -> Option<Borrowed<'a, 'py, PyAny>> {
    argument.filter(|a| !a.is_none())
}

/// The entry point CPython calls: parses the arguments, runs `functions::verify` behind a
/// panic boundary (a panic becomes PyO3's `PanicException`, as for every other function).
unsafe extern "C" fn verify_record_fast(
    _module: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the thread attached to the interpreter.
    let py = unsafe { Python::assume_attached() };
    let outcome = catch_unwind(AssertUnwindSafe(|| -> PyResult<*mut ffi::PyObject> {
        // SAFETY: the arguments as CPython passes them.
        let [token, key, now, settings, remote_addr] =
            unsafe { arguments(py, args, nargs, kwnames) }?;
        let verified = verify(
            py,
            token.as_deref(),
            given(key).as_deref(),
            given(now).as_deref(),
            given(settings).as_deref(),
            given(remote_addr).as_deref(),
        )?;
        Ok(Bound::new(py, verified)?.into_ptr())
    }));
    let error = match outcome {
        Ok(Ok(result)) => return result,
        Ok(Err(error)) => error,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic in verify_record".to_owned());
            PanicException::new_err(text)
        }
    };
    error.restore(py);
    ptr::null_mut()
}
