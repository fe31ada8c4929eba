//! tokenward for Node.js (N-API, through napi-rs): the core's types and errors in Node's
//! idiom. Every rule runs in the core crate; this addon converts values and errors only.

#![deny(clippy::all)]

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokenward::extract::reads_header;
use tokenward::{Code, Duration, Error as CoreError, SecretHash, Timestamp};

mod authority;
mod errors;
mod key;
mod settings;

use errors::{fail, to_error, to_error_default};
use key::{ApiKey, KeyUpdate};
use settings::{Settings, default_settings};

/// An instant as a `Date` (milliseconds; the microseconds are in the `...Micros` twin).
pub(crate) fn date(t: Timestamp) -> DateTime<Utc> {
    t.to_datetime()
}

/// An instant as exact microseconds since the Unix epoch, a `bigint`.
pub(crate) fn micros(t: Timestamp) -> i64n {
    i64n(t.unix_micros())
}

/// A duration of `ms` milliseconds, to the nearest nanosecond; `None` outside Go's range (or
/// not a number).
pub(crate) fn from_millis(ms: f64) -> Option<Duration> {
    let nanos = ms * 1e6;
    (nanos.is_finite() && nanos.abs() < 9.223_372_036_854_776e18)
        .then(|| Duration::from_nanos(nanos.round() as i64))
}

/// A duration from a Go duration string (`'168h'`, `'7d'`) or milliseconds.
pub(crate) fn duration_in(env: &Env, value: Either<String, f64>, name: &str) -> Result<Duration> {
    match value {
        Either::A(text) => {
            Duration::parse(&text).map_err(|e| to_error_default(env, &CoreError::from(e)))
        }
        Either::B(ms) => from_millis(ms).ok_or_else(|| {
            fail(
                env,
                Code::InvalidDuration,
                format!("{name} is outside Go's duration range (about 292 years)"),
            )
        }),
    }
}

/// A new token, `<10-character id>-<22-character secret>`, from the operating system's
/// random source. To mint a key and keep its record, use `Authority.createToken`.
#[napi]
pub fn generate(env: Env) -> Result<String> {
    tokenward::Token::generate()
        .map(|t| t.expose())
        .map_err(|e| to_error_default(&env, &e))
}

/// A token split as Coder splits it.
#[napi(object)]
pub struct ParsedToken {
    /// The key id: the first 10 characters. Not secret.
    pub id: String,
    /// The secret: the 22 characters after the `-`.
    pub secret: String,
}

/// Options of `parse`.
#[napi(object)]
pub struct ParseOptions {
    /// Also require the alphabet tokenward generates.
    pub strict: Option<bool>,
}

/// Splits a token as Coder does (`<10 bytes>-<22 bytes>`); `{strict: true}` also requires
/// the alphabet tokenward generates. Throws `TOKENWARD_INVALID_TOKEN`.
#[napi]
pub fn parse(
    env: Env,
    text: String,
    #[napi(ts_arg_type = "ParseOptions | undefined | null")] options: Option<Options<ParseOptions>>,
) -> Result<ParsedToken> {
    let strict = options.and_then(|o| o.0.strict).unwrap_or(false);
    let parsed = if strict {
        tokenward::Token::parse_strict(&text)
    } else {
        tokenward::Token::parse(&text)
    };
    let token = parsed.map_err(|e| to_error_default(&env, &CoreError::from(e)))?;
    Ok(ParsedToken {
        id: token.id().as_str().to_owned(),
        secret: String::from_utf8_lossy(token.secret().as_bytes()).into_owned(),
    })
}

/// SHA-256 of a secret (a string is hashed as UTF-8): the 32 bytes a store keeps.
#[napi]
pub fn hash_secret(secret: Either<String, Buffer>) -> Buffer {
    let digest = match &secret {
        Either::A(text) => SecretHash::of_bytes(text.as_bytes()),
        Either::B(bytes) => SecretHash::of_bytes(bytes),
    };
    Buffer::from(digest.as_bytes().to_vec())
}

/// Which of the addon's classes an object napi unwraps really is.
///
/// napi unwraps any wrapped object as whatever type is asked for: `this` of a method called on
/// an object of another class (`Settings.prototype.toJSON.call(key)`), or an argument whose
/// prototype was swapped so that `instanceof` says yes (`Object.setPrototypeOf(settings,
/// ApiKey.prototype)`). So every class is `#[repr(C)]`, 16 bytes, its brand first and then
/// one pointer (checked at compile time below): whatever class an unwrapped object really is,
/// its first 8 bytes are its brand, and they are read before anything else of it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Brand(u64);

/// A class of the addon, with its brand.
pub(crate) trait Branded: Sized + 'static {
    /// The brand every object of the class starts with.
    const BRAND: Brand;
    /// The class, for errors.
    const NAME: &'static str;
}

impl Brand {
    pub(crate) const API_KEY: Brand = Brand(0x9b4e_2f6a_d1c3_5a01);
    pub(crate) const SETTINGS: Brand = Brand(0x9b4e_2f6a_d1c3_5a02);
    pub(crate) const AUTHORITY: Brand = Brand(0x9b4e_2f6a_d1c3_5a03);
}

/// `this` when it is the `T` it is typed as; an object of another class is refused with
/// napi's `InvalidArg`, nothing of it read but its brand.
pub(crate) fn own<T: Branded>(this: &T) -> Result<&T> {
    // SAFETY: every class starts with its `Brand` and is as large as any other (see `Brand`),
    // so the first 8 bytes of whatever object `this` really is are a brand.
    let brand = unsafe { std::ptr::read((this as *const T).cast::<Brand>()) };
    if brand == T::BRAND {
        Ok(this)
    } else {
        Err(not_a::<T>())
    }
}

fn not_a<T: Branded>() -> Error {
    Error::new(
        Status::InvalidArg,
        format!("expected a tokenward {} object", T::NAME),
    )
}

macro_rules! same_shape {
    ($($class:ty),*) => {
        $(const _: () = assert!(
            std::mem::size_of::<$class>() == 16
                && std::mem::align_of::<$class>() == 8
                && std::mem::offset_of!($class, brand) == 0
        );)*
    };
}
same_shape!(ApiKey, Settings, authority::Authority);

/// An object of the tokenward class `T`, checked by its brand before it is read: an object of
/// another class (whatever its prototype says) or a plain object is refused with napi's
/// `InvalidArg`, never read as a `T`. (An object another N-API addon wrapped is refused too,
/// once its first 8 bytes are read as a brand: napi cannot tell whose wrap it is.)
pub struct Checked<T: 'static>(pub &'static T);

impl<T: Branded> FromNapiValue for Checked<T> {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let mut wrapped = std::ptr::null_mut();
        // SAFETY: live handles of this call.
        let status = unsafe { napi::sys::napi_unwrap(env, value, &mut wrapped) };
        if status != napi::sys::Status::napi_ok || wrapped.is_null() {
            return Err(not_a::<T>());
        }
        // SAFETY: napi wrapped this object around one of this addon's classes, each starting
        // with its brand (see `Brand`); `own` reads that alone before anything is read as a
        // `T`. The object lives at least as long as this call, which holds the value.
        let object = unsafe { &*wrapped.cast::<T>() };
        own(object).map(Checked)
    }
}

impl<T: 'static> TypeName for Checked<T> {
    fn type_name() -> &'static str {
        "object"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl<T: Branded> ValidateNapiValue for Checked<T> {}

/// An options argument: an object, read as `T`. Anything else (a string, a number, an array)
/// is refused with napi's `ObjectExpected`, where napi-rs would read its properties and take
/// it as no options at all.
pub struct Options<T>(pub T);

impl<T: FromNapiValue> FromNapiValue for Options<T> {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let mut kind = napi::sys::ValueType::napi_undefined;
        let mut is_array = false;
        // SAFETY: live handles of this call.
        unsafe {
            napi::sys::napi_typeof(env, value, &mut kind);
            napi::sys::napi_is_array(env, value, &mut is_array);
        }
        if kind != napi::sys::ValueType::napi_object || is_array {
            return Err(Error::new(
                Status::ObjectExpected,
                "options must be an object ({name: value, ...})",
            ));
        }
        // SAFETY: an object of this call.
        unsafe { T::from_napi_value(env, value) }.map(Options)
    }
}

impl<T> TypeName for Options<T> {
    fn type_name() -> &'static str {
        "object"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl<T> ValidateNapiValue for Options<T> {}

/// An instant given as a `Date` or as `bigint` microseconds since the Unix epoch; an invalid
/// `Date` (`new Date(NaN)`) is `TOKENWARD_INVALID_TIMESTAMP`, never the epoch.
pub struct Instant(pub Timestamp);

impl FromNapiValue for Instant {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let js = Env::from_raw(env);
        let mut is_date = false;
        // SAFETY: live handles of this call.
        unsafe { napi::sys::napi_is_date(env, value, &mut is_date) };
        if is_date {
            let mut ms = 0.0;
            // SAFETY: a Date.
            unsafe { napi::sys::napi_get_date_value(env, value, &mut ms) };
            if !ms.is_finite() {
                return Err(fail(&js, Code::InvalidTimestamp, "now is an invalid Date"));
            }
            return Timestamp::try_from_unix_micros((ms * 1000.0) as i64)
                .map(Instant)
                .map_err(|e| to_error_default(&js, &CoreError::from(e)));
        }
        let mut kind = napi::sys::ValueType::napi_undefined;
        // SAFETY: live handles of this call.
        unsafe { napi::sys::napi_typeof(env, value, &mut kind) };
        if kind == napi::sys::ValueType::napi_bigint {
            let (mut micros, mut lossless) = (0i64, false);
            // SAFETY: a bigint.
            unsafe {
                napi::sys::napi_get_value_bigint_int64(env, value, &mut micros, &mut lossless)
            };
            if !lossless {
                return Err(fail(
                    &js,
                    Code::InvalidTimestamp,
                    "microseconds out of range",
                ));
            }
            return Timestamp::try_from_unix_micros(micros)
                .map(Instant)
                .map_err(|e| to_error_default(&js, &CoreError::from(e)));
        }
        Err(fail(
            &js,
            Code::InvalidTimestamp,
            "now must be a Date or bigint microseconds since the epoch",
        ))
    }
}

impl TypeName for Instant {
    fn type_name() -> &'static str {
        "Date | bigint"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

/// Options of `verifyRecord`.
#[napi(object, object_to_js = false)]
pub struct VerifyOptions {
    /// The time of the check: a `Date`, or `bigint` microseconds since the epoch; now when
    /// absent.
    #[napi(ts_type = "Date | bigint")]
    pub now: Option<Instant>,
    /// The settings (Coder's defaults when absent).
    #[napi(ts_type = "Settings")]
    pub settings: Option<Checked<Settings>>,
    /// The request's address, a bare IP.
    pub remote_addr: Option<String>,
}

/// A per-request text (a presented token, an address), read in one N-API call into a buffer
/// on the stack when it is short (a token is 33 bytes), with no allocation.
pub struct TokenText {
    inline: [u8; 128],
    len: usize,
    heap: Option<String>,
}

impl TokenText {
    pub(crate) fn as_str(&self) -> &str {
        match &self.heap {
            Some(text) => text,
            // N-API wrote UTF-8 (an unpaired surrogate as U+FFFD).
            None => std::str::from_utf8(&self.inline[..self.len]).unwrap_or(""),
        }
    }
}

impl TypeName for TokenText {
    fn type_name() -> &'static str {
        "String"
    }
    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for TokenText {}

impl FromNapiValue for TokenText {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let mut text = TokenText {
            inline: [0; 128],
            len: 0,
            heap: None,
        };
        let mut written = 0;
        // SAFETY: `inline` has room for 128 bytes, the terminating NUL included.
        let status = unsafe {
            napi::sys::napi_get_value_string_utf8(
                env,
                value,
                text.inline.as_mut_ptr().cast(),
                text.inline.len(),
                &mut written,
            )
        };
        if status != napi::sys::Status::napi_ok {
            return Err(Error::new(
                Status::StringExpected,
                "the token must be a string",
            ));
        }
        if written + 1 < text.inline.len() {
            text.len = written;
        } else {
            // Perhaps cut short: read it whole.
            // SAFETY: the same value, read as an owned string.
            text.heap = Some(unsafe { String::from_napi_value(env, value) }?);
        }
        Ok(text)
    }
}

/// Checks a presented token against the record the host fetched for its id (`null`: no
/// row), as Coder's middleware does: the id, the secret's hash (in constant time), the
/// expiry; then decides the refresh. Returns the refresh to write back, `null` when there is
/// nothing to write; a token that does not authenticate throws an `Error` whose `code` says
/// why (`'TOKENWARD_EXPIRED'`, ...), carrying Coder's answer. `verifyRecord` (index.js) is
/// this with the key beside the update: `{key, update}`.
#[napi(
    ts_args_type = "token: string, key: ApiKey | null, options?: VerifyOptions | undefined | null"
)]
pub fn verify_record_update(
    env: Env,
    token: TokenText,
    key: Option<Checked<ApiKey>>,
    options: Option<Options<VerifyOptions>>,
) -> Result<Either<KeyUpdate, Null>> {
    let (now, settings, remote_addr) = match options {
        Some(Options(o)) => (o.now, o.settings, o.remote_addr),
        None => (None, None, None),
    };
    let now = match now {
        Some(now) => now.0,
        None => Timestamp::now(),
    };
    let settings = match &settings {
        Some(s) => &*s.0.settings,
        None => default_settings(),
    };
    let record = key.as_ref().map(|k| &*k.0.key);
    match tokenward::check::verify_record(
        token.as_str(),
        record,
        now,
        settings,
        remote_addr.as_deref().unwrap_or(""),
    ) {
        Ok(passed) => Ok(match passed.update {
            Some(update) => Either::A(KeyUpdate::wrap(update)),
            None => Either::B(Null),
        }),
        Err(rejection) => Err(to_error(&env, &rejection, settings)),
    }
}

/// A token found in a request, and where.
#[napi(object)]
pub struct Extracted {
    /// The token, as presented (never empty).
    pub token: String,
    /// Where it was found: `'cookie'`, `'query'`, `'header'`, `'bearer'` or `'access_token'`.
    pub source: String,
}

/// The parts of a request `extractToken` reads.
#[napi(object, object_to_js = false)]
pub struct RequestParts {
    /// `IncomingMessage.rawHeaders` (`[name, value, name, value, ...]`, every header line in
    /// order: the fast form) or `IncomingMessage.headers` (values a string or an array).
    #[napi(ts_type = "string[] | Record<string, string | string[] | undefined>")]
    pub headers: Option<Headers>,
    /// The raw query string, without `?`.
    #[napi(ts_type = "string")]
    pub query: Option<TokenText>,
}

/// `IncomingMessage.headers`: a value is a string or, for repeated headers, an array.
pub type HashMapHeaders = std::collections::HashMap<String, Either<String, Vec<String>>>;

/// The headers of a request, in either of the forms Node gives them.
pub enum Headers {
    /// `rawHeaders`.
    Raw(HeaderList),
    /// `headers`.
    Map(HashMapHeaders),
}

impl FromNapiValue for Headers {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let mut is_array = false;
        // SAFETY: live handles of this call.
        unsafe { napi::sys::napi_is_array(env, value, &mut is_array) };
        if is_array {
            // SAFETY: an array of this call.
            return unsafe { HeaderList::from_napi_value(env, value) }.map(Headers::Raw);
        }
        let mut kind = napi::sys::ValueType::napi_undefined;
        // SAFETY: live handles of this call.
        unsafe { napi::sys::napi_typeof(env, value, &mut kind) };
        if kind != napi::sys::ValueType::napi_object {
            return Err(Error::new(
                Status::ObjectExpected,
                "headers must be rawHeaders (an array) or an object of header values",
            ));
        }
        // SAFETY: an object of this call.
        unsafe { HashMapHeaders::from_napi_value(env, value) }.map(Headers::Map)
    }
}

impl TypeName for Headers {
    fn type_name() -> &'static str {
        "object"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// `rawHeaders` as the core needs them: every name, and the value of each header the core's
/// `extract_token` reads (`Cookie`, `Coder-Session-Token`, `Authorization`), read into one
/// buffer: two N-API calls a string and one allocation for the whole list, where
/// `Vec<String>` makes one per string and reads every value.
pub struct HeaderList {
    text: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl HeaderList {
    /// Appends the string `value` to the buffer.
    ///
    /// # Safety
    ///
    /// `env` and `value` are live N-API handles of this call.
    unsafe fn push(
        &mut self,
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<()> {
        let start = self.text.len();
        self.text.reserve(256);
        let mut room = self.text.capacity() - start;
        let mut written = 0;
        for _ in 0..2 {
            // SAFETY: `room` bytes of spare capacity follow `start`.
            let status = unsafe {
                napi::sys::napi_get_value_string_utf8(
                    env,
                    value,
                    self.text.as_mut_ptr().add(start).cast(),
                    room,
                    &mut written,
                )
            };
            if status != napi::sys::Status::napi_ok {
                return Err(Error::new(
                    Status::StringExpected,
                    "rawHeaders must hold strings",
                ));
            }
            if written + 1 < room {
                break;
            }
            // Perhaps cut short: make room for the whole string and read it again.
            let mut needed = 0;
            // SAFETY: a NULL buffer asks for the length only.
            unsafe {
                napi::sys::napi_get_value_string_utf8(
                    env,
                    value,
                    std::ptr::null_mut(),
                    0,
                    &mut needed,
                )
            };
            self.text.reserve(needed + 1);
            room = self.text.capacity() - start;
        }
        // SAFETY: N-API wrote `written` bytes there.
        unsafe { self.text.set_len(start + written) };
        self.spans.push((start, start + written));
        Ok(())
    }

    /// The (name, value) pairs; N-API writes UTF-8, so no span fails.
    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        let text = |(a, b): (usize, usize)| std::str::from_utf8(&self.text[a..b]).unwrap_or("");
        self.spans
            .chunks_exact(2)
            .map(|pair| (text(pair[0]), text(pair[1])))
            .collect()
    }
}

impl TypeName for HeaderList {
    fn type_name() -> &'static str {
        "Array<string>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for HeaderList {
    unsafe fn validate(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<napi::sys::napi_value> {
        let mut is_array = false;
        // SAFETY: live handles of this call.
        unsafe { napi::sys::napi_is_array(env, value, &mut is_array) };
        if is_array {
            Ok(std::ptr::null_mut())
        } else {
            Err(Error::new(Status::ArrayExpected, "not an array"))
        }
    }
}

impl FromNapiValue for HeaderList {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> Result<Self> {
        let mut length = 0;
        // SAFETY: live handles of this call.
        let status = unsafe { napi::sys::napi_get_array_length(env, value, &mut length) };
        if status != napi::sys::Status::napi_ok {
            return Err(Error::new(
                Status::ArrayExpected,
                "rawHeaders must be an array",
            ));
        }
        if length % 2 != 0 {
            return Err(Error::new(
                Status::InvalidArg,
                "rawHeaders must hold name, value pairs",
            ));
        }
        let mut list = HeaderList {
            text: Vec::new(),
            spans: Vec::with_capacity(length as usize),
        };
        for i in (0..length).step_by(2) {
            let name = list.text.len();
            // SAFETY: `i` is within the array.
            unsafe { list.push(env, element(env, value, i)) }?;
            let span = list.spans[list.spans.len() - 1];
            // Only the headers the core reads are copied, so their values alone are read.
            if std::str::from_utf8(&list.text[span.0..span.1]).is_ok_and(reads_header) {
                // SAFETY: `i + 1` is within the array (its length is even).
                unsafe { list.push(env, element(env, value, i + 1)) }?;
            } else {
                list.text.truncate(name);
                list.spans.pop();
            }
        }
        Ok(list)
    }
}

/// The element `i` of the array `array`.
///
/// # Safety
///
/// `env` and `array` are live N-API handles of this call; `i` is within the array.
unsafe fn element(
    env: napi::sys::napi_env,
    array: napi::sys::napi_value,
    i: u32,
) -> napi::sys::napi_value {
    let mut element = std::ptr::null_mut();
    // SAFETY: as the caller promises.
    unsafe { napi::sys::napi_get_element(env, array, i, &mut element) };
    element
}

/// The token a request presents, found as Coder finds it: the `coder_session_token` cookie,
/// the `coder_session_token` query parameter, the `Coder-Session-Token` header,
/// `Authorization: Bearer`, then the `access_token` query parameter. Returns `null` when
/// there is none.
#[napi(ts_args_type = "parts: RequestParts")]
pub fn extract_token(parts: Option<Options<RequestParts>>) -> Result<Option<Extracted>> {
    let Options(parts) = parts.ok_or_else(|| {
        Error::new(
            Status::ObjectExpected,
            "extractToken takes the request's parts: {headers, query}",
        )
    })?;
    let owned: Vec<(String, String)>;
    let list: HeaderList;
    let pairs: Vec<(&str, &str)> = match parts.headers {
        Some(Headers::Raw(raw)) => {
            list = raw;
            list.pairs()
        }
        Some(Headers::Map(map)) => {
            owned = map
                .into_iter()
                .flat_map(|(name, value)| match value {
                    Either::A(value) => vec![(name, value)],
                    Either::B(values) => values.into_iter().map(|v| (name.clone(), v)).collect(),
                })
                .collect();
            owned
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect()
        }
        None => Vec::new(),
    };
    let query = parts.query.as_ref().map_or("", TokenText::as_str);
    Ok(
        tokenward::extract::extract_token(&pairs, query).map(|found| Extracted {
            token: found.token.into_owned(),
            source: found.source.name().to_owned(),
        }),
    )
}

/// A Go duration (`'168h'`, `'1h30m'`, plus Coder's `d` and `y`) in milliseconds (a
/// fraction for sub-millisecond parts; `parseDurationNs` is exact).
#[napi]
pub fn parse_duration(env: Env, text: String) -> Result<f64> {
    Duration::parse(&text)
        .map(|d| d.as_nanos() as f64 / 1e6)
        .map_err(|e| to_error_default(&env, &CoreError::from(e)))
}

/// A Go duration in nanoseconds, exactly, as a `bigint`.
#[napi]
pub fn parse_duration_ns(env: Env, text: String) -> Result<i64n> {
    Duration::parse(&text)
        .map(|d| i64n(d.as_nanos()))
        .map_err(|e| to_error_default(&env, &CoreError::from(e)))
}

/// A duration as Go prints it (`'168h0m0s'`): milliseconds, `bigint` nanoseconds, or a Go
/// duration string.
#[napi]
pub fn format_duration(env: Env, duration: Either3<f64, BigInt, String>) -> Result<String> {
    let d = match duration {
        Either3::A(ms) => duration_in(&env, Either::B(ms), "duration")?,
        Either3::B(big) => {
            let (nanos, lossless) = big.get_i64();
            if !lossless {
                return Err(fail(
                    &env,
                    Code::InvalidDuration,
                    "duration is outside Go's duration range (about 292 years)",
                ));
            }
            Duration::from_nanos(nanos)
        }
        Either3::C(text) => duration_in(&env, Either::A(text), "duration")?,
    };
    Ok(d.to_string())
}

/// One row of the core's error model.
#[napi(object)]
pub struct CodeInfo {
    /// The `code` of errors of this kind: `'TOKENWARD_EXPIRED'`, ...
    pub code: String,
    /// The stable snake_case name: `'expired'`, ...
    pub name: String,
    /// The stable number.
    pub number: u32,
    /// The HTTP status Coder answers with.
    pub status: u16,
    /// Whether a presented token was rejected (401).
    pub rejection: bool,
}

/// Every code of the core's error model, in numeric order.
#[napi]
pub fn codes() -> Vec<CodeInfo> {
    Code::ALL
        .iter()
        .filter(|c| **c != Code::Ok)
        .map(|c| CodeInfo {
            code: errors::code_name(*c),
            name: c.name().to_owned(),
            number: c.number(),
            status: c.status(),
            rejection: c.is_rejection(),
        })
        .collect()
}
