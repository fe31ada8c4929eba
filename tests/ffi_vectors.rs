//! Runs the conformance vectors `tests/vectors/*.json` (schema in tests/vectors/README.md)
//! through the C ABI: every check calls the `extern "C"` functions of `tokenward::ffi` with
//! pointer-plus-length strings, out-parameters and `tw_str_free`, as a C caller does, and
//! never the Rust core API. tests/vectors.rs runs the same files against the core.
//!
//! `check.json` runs through the ABI in tests/c (a C driver, `check_vectors.h`), and here as
//! well. Every case or part of a case that has no path through the ABI is skipped below with
//! the reason, and each runner asserts how many cases it ran and skipped, so a file that
//! silently stops running fails.

mod common;

use common::hex;

use std::collections::BTreeSet;
use std::ffi::{CStr, c_char};
use std::path::Path;
use std::ptr;

use serde_json::{Value, json};
use tokenward::ffi::{
    TW_HASH_LENGTH, TW_SOURCE_ACCESS_TOKEN, TW_SOURCE_BEARER, TW_SOURCE_COOKIE, TW_SOURCE_HEADER,
    TW_SOURCE_QUERY, tw_authority, tw_authority_create_session, tw_authority_create_token,
    tw_authority_free, tw_authority_open, tw_authority_token_config, tw_duration_format,
    tw_duration_parse, tw_extract_token, tw_hash_secret, tw_header, tw_key, tw_key_expires_at,
    tw_key_free, tw_key_from_json, tw_key_ip_address, tw_key_to_json, tw_last_error_detail,
    tw_last_error_message, tw_parse, tw_parse_strict, tw_settings_free, tw_settings_from_json,
    tw_status, tw_status_http, tw_status_name, tw_str, tw_str_free, tw_verdict, tw_verdict_body,
    tw_verdict_code, tw_verdict_detail, tw_verdict_free, tw_verdict_http_status,
    tw_verdict_message, tw_verdict_new, tw_verdict_update, tw_verdict_update_ip,
    tw_verdict_www_authenticate, tw_verify_record,
};

// ---------------------------------------------------------------------------------------------
// The files and the runner.

/// One vector file, after checking its envelope.
fn document(file: &str, kind: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        doc["schema"], "tokenward-vectors/1",
        "{file}: unknown schema"
    );
    assert_eq!(doc["kind"], kind, "{file}");
    doc
}

/// What a case function did with its case.
enum Outcome {
    /// Every check it makes passed.
    Ran,
    /// It has no path through the C ABI (the reason is at the call site).
    Skipped,
}

/// Runs `case_fn` on every case of `file`, fails once listing every case that failed, and
/// checks that `ran` cases ran and `skipped` were skipped (update both when a file gains
/// cases; tests/vectors/README.md lists each file's count).
fn run(
    file: &str,
    kind: &str,
    ran: usize,
    skipped: usize,
    case_fn: impl Fn(&Value) -> Result<Outcome, String>,
) {
    let doc = document(file, kind);
    let cases = doc["cases"].as_array().unwrap();
    let (mut got_ran, mut got_skipped) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        match case_fn(case) {
            Ok(Outcome::Ran) => got_ran += 1,
            Ok(Outcome::Skipped) => got_skipped += 1,
            Err(e) => failures.push(format!("{}: {e}", case["name"].as_str().unwrap_or("?"))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {file} cases failed through the C ABI:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(ran > 0, "{file}: a runner must run something");
    assert_eq!(
        (got_ran, got_skipped),
        (ran, skipped),
        "{file}: (cases run, cases skipped) of {}",
        cases.len()
    );
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

/// An RFC 3339 timestamp as microseconds since the Unix epoch (chrono, not the crate's own
/// parser, so nothing of the core is used here).
fn micros(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text(v))
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .timestamp_micros()
}

// ---------------------------------------------------------------------------------------------
// Calling the ABI.

/// A text argument's pointer; its length is `s.len()`. Never NULL, even for `""`.
fn p(s: &str) -> *const c_char {
    s.as_ptr().cast()
}

/// `{NULL, 0}`, what an out-string starts as.
fn empty() -> tw_str {
    tw_str {
        ptr: ptr::null_mut(),
        len: 0,
    }
}

/// A string the library wrote, released with `tw_str_free` when dropped.
struct Owned(tw_str);

impl Owned {
    /// Its text, after checking the NUL the ABI promises after `len` bytes.
    fn text(&self) -> String {
        assert!(!self.0.ptr.is_null(), "the library wrote a NULL string");
        // SAFETY: the library wrote `len` bytes and a NUL at `ptr`, not yet freed.
        let bytes = unsafe { std::slice::from_raw_parts(self.0.ptr.cast::<u8>(), self.0.len + 1) };
        assert_eq!(bytes[self.0.len], 0, "no NUL after the string");
        String::from_utf8(bytes[..self.0.len].to_vec()).expect("the library wrote UTF-8")
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let s = std::mem::replace(&mut self.0, empty());
        // SAFETY: written by the library, unchanged, freed only here.
        unsafe { tw_str_free(s) };
    }
}

/// A call that did not return `TW_OK`: its status, `tw_last_error_detail` and
/// `tw_last_error_message`.
struct Failure {
    status: tw_status,
    detail: String,
    message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({:?})", self.status, self.detail)
    }
}

/// `tw_last_error_detail` on this thread.
fn last_detail() -> String {
    let mut out = empty();
    // SAFETY: `out` is a writable `tw_str`, released by `Owned`.
    let status = unsafe { tw_last_error_detail(&mut out) };
    assert_eq!(status, tw_status::Ok, "tw_last_error_detail");
    Owned(out).text()
}

/// `Ok` for `TW_OK`, else the status with its detail.
fn check(status: tw_status) -> Result<(), Failure> {
    if status == tw_status::Ok {
        Ok(())
    } else {
        let mut message = empty();
        // SAFETY: `message` is a writable `tw_str`, released by `Owned`.
        let read = unsafe { tw_last_error_message(&mut message) };
        assert_eq!(read, tw_status::Ok, "tw_last_error_message");
        Err(Failure {
            status,
            detail: last_detail(),
            message: Owned(message).text(),
        })
    }
}

/// Fails unless `f` failed with `status` and left `detail`.
fn expect_failure(
    got: Result<impl std::fmt::Debug, Failure>,
    status: tw_status,
    detail: &str,
) -> Result<(), String> {
    match got {
        Err(f) if f.status == status => expect_eq("detail", f.detail.as_str(), detail),
        Err(f) => Err(format!("got {f}, want {status:?} ({detail:?})")),
        Ok(v) => Err(format!("got success {v:?}, want {status:?} ({detail:?})")),
    }
}

/// An `Ok` from the ABI, or the failure as text.
fn ok<T>(got: Result<T, Failure>) -> Result<T, String> {
    got.map_err(|f| format!("failed: {f}"))
}

/// A settings handle from JSON, released when dropped.
struct Settings(*mut tokenward::ffi::tw_settings);

impl Settings {
    fn from_json(json: &str) -> Result<Settings, Failure> {
        let mut out = ptr::null_mut();
        // SAFETY: `json` is `json.len()` readable bytes; `out` is writable.
        check(unsafe { tw_settings_from_json(p(json), json.len(), &mut out) })?;
        Ok(Settings(out))
    }
}

impl Drop for Settings {
    fn drop(&mut self) {
        // SAFETY: a live handle from `tw_settings_from_json`, freed only here.
        unsafe { tw_settings_free(self.0) };
    }
}

/// An authority over a new in-memory store, released when dropped.
struct Authority(*mut tw_authority);

/// The user every authority case acts as, and for: `{"id", "roles"}`.
fn user_json(roles: &Value) -> String {
    json!({"id": "vector-user", "roles": roles}).to_string()
}

impl Authority {
    /// Opens `:memory:` with the settings `settings_json` (a partial Settings object).
    fn open(settings_json: &str) -> Result<Authority, Failure> {
        let settings = Settings::from_json(settings_json)?;
        let url = ":memory:";
        let mut out = ptr::null_mut();
        // SAFETY: `url` is `url.len()` readable bytes; `settings.0` is live (the authority
        // copies it); `out` is writable.
        check(unsafe { tw_authority_open(p(url), url.len(), settings.0, &mut out) })?;
        Ok(Authority(out))
    }

    /// `tw_authority_token_config` for `user`: the longest lifetime in nanoseconds.
    fn token_config(&self, user: &str) -> Result<i64, Failure> {
        let mut max = 0;
        // SAFETY: `self.0` is live; `user` is `user.len()` readable bytes; `max` is writable.
        check(unsafe { tw_authority_token_config(self.0, p(user), user.len(), &mut max) })?;
        Ok(max)
    }

    /// `tw_authority_create_token` with `user` as actor and target: the created key's
    /// codersdk JSON and its `tw_key_expires_at`.
    fn create_token(&self, user: &str, request: &Value) -> Result<(Value, i64), Failure> {
        let request = request.to_string();
        let remote_addr = "203.0.113.7";
        let mut token = empty();
        let mut key: *mut tw_key = ptr::null_mut();
        // SAFETY: `self.0` is live; every text is its length in readable bytes; both outs
        // are writable.
        let status = unsafe {
            tw_authority_create_token(
                self.0,
                p(user),
                user.len(),
                p(user),
                user.len(),
                p(&request),
                request.len(),
                p(remote_addr),
                remote_addr.len(),
                &mut token,
                &mut key,
            )
        };
        if let Err(f) = check(status) {
            assert!(token.ptr.is_null() && key.is_null(), "written on failure");
            return Err(f);
        }
        let token = Owned(token);
        assert_eq!(token.text().len(), tokenward::ffi::TW_TOKEN_LENGTH);
        let mut json = empty();
        let mut expires_at = 0;
        // SAFETY: `key` is the live handle just written; the outs are writable.
        let statuses = unsafe {
            [
                tw_key_to_json(key, &mut json),
                tw_key_expires_at(key, &mut expires_at),
            ]
        };
        // SAFETY: `key` came from the library and is freed once, here.
        unsafe { tw_key_free(key) };
        let json = Owned(json);
        assert_eq!(statuses, [tw_status::Ok; 2], "reading the key");
        Ok((serde_json::from_str(&json.text()).unwrap(), expires_at))
    }

    /// `tw_authority_create_session` for `user` with the login type `login_type` (raw) from
    /// `remote_addr`: the session's key.
    fn create_session(
        &self,
        user: &str,
        login_type: &str,
        remote_addr: &str,
    ) -> Result<Key, Failure> {
        let mut token = empty();
        let mut key: *mut tw_key = ptr::null_mut();
        // SAFETY: `self.0` is live; every text is its length in readable bytes; both outs
        // are writable.
        let status = unsafe {
            tw_authority_create_session(
                self.0,
                p(user),
                user.len(),
                p(login_type),
                login_type.len(),
                p(remote_addr),
                remote_addr.len(),
                &mut token,
                &mut key,
            )
        };
        let _token = Owned(token);
        let key = Key(key);
        check(status)?;
        Ok(key)
    }
}

impl Drop for Authority {
    fn drop(&mut self) {
        // SAFETY: a live handle from `tw_authority_open`, freed only here.
        unsafe { tw_authority_free(self.0) };
    }
}

// ---------------------------------------------------------------------------------------------
// The runners.

/// The signature of `tw_parse` and `tw_parse_strict`.
type ParseFn = unsafe extern "C" fn(*const c_char, usize, *mut tw_str, *mut tw_str) -> tw_status;

/// `tw_parse` (or `tw_parse_strict`) of `input`: the id and the secret.
fn parse(input: &str, parse_fn: ParseFn) -> Result<(String, String), Failure> {
    let (mut id, mut secret) = (empty(), empty());
    // SAFETY: `input` is `input.len()` readable bytes; both outs are writable.
    let status = unsafe { parse_fn(p(input), input.len(), &mut id, &mut secret) };
    if let Err(f) = check(status) {
        assert!(
            id.ptr.is_null() && secret.ptr.is_null(),
            "written on failure"
        );
        return Err(f);
    }
    Ok((Owned(id).text(), Owned(secret).text()))
}

#[test]
fn parse_vectors() {
    run("parse.json", "parse", 48, 0, |case| {
        let input = text(&case["input"]);
        let want = &case["expect"];
        match want.get("error") {
            None => {
                let (id, secret) = ok(parse(input, tw_parse))?;
                expect_eq("id", id.as_str(), text(&want["id"]))?;
                expect_eq("secret", secret.as_str(), text(&want["secret"]))?;
            }
            Some(error) => {
                expect_failure(parse(input, tw_parse), tw_status::InvalidToken, text(error))?
            }
        }
        // `strict`: whether `tw_parse_strict` accepts it too (a lenient failure fails both).
        let strict = parse(input, tw_parse_strict);
        match (case["strict"].as_bool().unwrap(), strict) {
            (true, Ok(parts)) => expect_eq("strict parts", parts, ok(parse(input, tw_parse))?)?,
            (false, Err(f)) if f.status == tw_status::InvalidToken => {}
            (want, got) => {
                return Err(format!(
                    "strict: want accepted = {want}, got {:?}",
                    got.map_err(|f| f.to_string())
                ));
            }
        }
        Ok(Outcome::Ran)
    });
}

/// A reusable verdict, released when dropped.
struct Verdict(*mut tw_verdict);

impl Verdict {
    fn new() -> Verdict {
        let mut out = ptr::null_mut();
        // SAFETY: `out` is writable.
        assert_eq!(unsafe { tw_verdict_new(&mut out) }, tw_status::Ok);
        Verdict(out)
    }

    /// One text getter of the verdict.
    fn text(
        &self,
        get: unsafe extern "C" fn(*const tw_verdict, *mut tw_str) -> tw_status,
    ) -> String {
        let mut out = empty();
        // SAFETY: `self.0` is live; `out` is a writable `tw_str`, released by `Owned`.
        assert_eq!(unsafe { get(self.0, &mut out) }, tw_status::Ok);
        Owned(out).text()
    }
}

impl Drop for Verdict {
    fn drop(&mut self) {
        // SAFETY: a live handle from `tw_verdict_new`, freed only here.
        unsafe { tw_verdict_free(self.0) };
    }
}

/// A key handle from its storage-form JSON, released when dropped.
struct Key(*mut tw_key);

impl Key {
    fn from_json(json: &str) -> Result<Key, Failure> {
        let mut out = ptr::null_mut();
        // SAFETY: `json` is `json.len()` readable bytes; `out` is writable.
        check(unsafe { tw_key_from_json(p(json), json.len(), &mut out) })?;
        Ok(Key(out))
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: NULL or a live handle from the library, freed only here.
        unsafe { tw_key_free(self.0) };
    }
}

/// `tw_verify_record` into `verdict`; `key` NULL for no record.
fn verify_record(
    verdict: &Verdict,
    presented: &str,
    key: Option<&Key>,
    settings: Option<&Settings>,
    now: i64,
    remote_addr: &str,
) -> Result<(), Failure> {
    // SAFETY: both texts are their lengths in readable bytes; the handles are live or NULL;
    // the verdict is this thread's.
    check(unsafe {
        tw_verify_record(
            p(presented),
            presented.len(),
            key.map_or(ptr::null(), |k| k.0),
            settings.map_or(ptr::null(), |s| s.0),
            now,
            p(remote_addr),
            remote_addr.len(),
            verdict.0,
        )
    })
}

#[test]
fn hash_vectors() {
    let verdict = Verdict::new();
    run("hash.json", "hash", 26, 2, |case| {
        let secret = text(&case["secret"]);
        let Some(digest) = case.get("sha256") else {
            // A comparison case: a record holding `stored` checks the token with `secret`
            // through `tw_verify_record`, and verifies exactly when the case matches.
            if secret.len() != 22 {
                // No token carries a secret of another length: it is malformed before any
                // comparison, so the comparison cannot be reached through the ABI.
                return Ok(Outcome::Skipped);
            }
            let record = json!({
                "id": "0123456789", "hashed_secret": text(&case["stored"]), "user_id": "u",
                "last_used": "2026-03-01T12:00:00Z", "expires_at": "2026-03-02T12:00:00Z",
                "created_at": "2026-03-01T12:00:00Z", "updated_at": "2026-03-01T12:00:00Z",
                "login_type": "token", "lifetime_seconds": 86400, "ip_address": "0.0.0.0",
                "token_name": "t", "scopes": ["coder:all"],
                "allow_list": [{"type": "*", "id": "*"}],
            });
            let key = ok(Key::from_json(&record.to_string()))?;
            let now = 1_772_370_000_000_000; // 2026-03-01T13:00:00Z
            let got = verify_record(
                &verdict,
                &format!("0123456789-{secret}"),
                Some(&key),
                None,
                now,
                "",
            );
            return match (case["matches"].as_bool().unwrap(), got) {
                (true, Ok(())) => Ok(Outcome::Ran),
                (false, Err(f)) if f.status == tw_status::InvalidSecret => Ok(Outcome::Ran),
                (want, got) => Err(format!(
                    "matches: want {want}, got {:?}",
                    got.map_err(|f| f.to_string())
                )),
            };
        };
        let mut out = [0xAA_u8; TW_HASH_LENGTH + 1];
        // SAFETY: `secret` is `secret.len()` readable bytes; `out` has `out.len()` writable.
        let status =
            unsafe { tw_hash_secret(p(secret), secret.len(), out.as_mut_ptr(), out.len()) };
        ok(check(status))?;
        expect_eq("byte after the hash", out[TW_HASH_LENGTH], 0xAA)?;
        expect_eq("sha256", hex(&out[..TW_HASH_LENGTH]).as_str(), text(digest))?;
        Ok(Outcome::Ran)
    });
}

#[test]
fn check_vectors() {
    // One verdict for every case, as the header advises: each call replaces the last answer.
    let verdict = Verdict::new();
    run("check.json", "check", 86, 0, |case| {
        let key = match case.get("record").filter(|r| !r.is_null()) {
            Some(record) => Some(ok(Key::from_json(&record.to_string()))?),
            None => None,
        };
        let settings = ok(Settings::from_json(
            &case
                .get("settings")
                .cloned()
                .unwrap_or(json!({}))
                .to_string(),
        ))?;
        let got = verify_record(
            &verdict,
            text(&case["presented"]),
            key.as_ref(),
            Some(&settings),
            micros(&case["now"]),
            case["remote_addr"].as_str().unwrap_or(""),
        );
        let want = &case["expect"];
        let mut code = tw_status::Panic;
        // SAFETY: the verdict is live; `code` is writable.
        assert_eq!(
            unsafe { tw_verdict_code(verdict.0, &mut code) },
            tw_status::Ok
        );
        let mut http = 0;
        // SAFETY: as above.
        assert_eq!(
            unsafe { tw_verdict_http_status(verdict.0, &mut http) },
            tw_status::Ok
        );
        if let Some(error) = want.get("rejection") {
            let f = got.err().ok_or("verified, want a rejection")?;
            expect_eq(
                "status name",
                status_name(f.status),
                text(&error["code"]).to_owned(),
            )?;
            expect_eq("verdict code", code, f.status)?;
            expect_eq("http", u64::from(http), error["status"].as_u64().unwrap())?;
            expect_eq(
                "message",
                verdict.text(tw_verdict_message),
                text(&error["message"]).to_owned(),
            )?;
            expect_eq("last message", f.message.as_str(), text(&error["message"]))?;
            expect_eq(
                "detail",
                verdict.text(tw_verdict_detail),
                text(&error["detail"]).to_owned(),
            )?;
            expect_eq("last detail", f.detail.as_str(), text(&error["detail"]))?;
            expect_eq(
                "WWW-Authenticate",
                verdict.text(tw_verdict_www_authenticate),
                text(&error["www_authenticate"]).to_owned(),
            )?;
            let body: Value = serde_json::from_str(&verdict.text(tw_verdict_body))
                .map_err(|e| format!("body: {e}"))?;
            expect_eq("body message", &body["message"], &error["message"])?;
            expect_eq("body detail", &body["detail"], &error["detail"])?;
            return Ok(Outcome::Ran);
        }
        ok(got)?;
        expect_eq("verdict code", code, tw_status::Ok)?;
        expect_eq("http", http, 200)?;
        let mut update = tokenward::ffi::tw_update::default();
        // SAFETY: the verdict is live; `update` is writable.
        assert_eq!(
            unsafe { tw_verdict_update(verdict.0, &mut update) },
            tw_status::Ok
        );
        match want["verified"].get("update").filter(|u| !u.is_null()) {
            None => expect_eq("update present", update.present, false)?,
            Some(u) => {
                expect_eq("update present", update.present, true)?;
                expect_eq(
                    "last_used",
                    update.last_used_micros,
                    micros(&u["last_used"]),
                )?;
                expect_eq(
                    "expires_at",
                    update.expires_at_micros,
                    micros(&u["expires_at"]),
                )?;
                expect_eq(
                    "ip_address",
                    verdict.text(tw_verdict_update_ip),
                    text(&u["ip_address"]).to_owned(),
                )?;
            }
        }
        Ok(Outcome::Ran)
    });
}

#[test]
fn ip_vectors() {
    let authority = Authority::open("{}").unwrap_or_else(|f| panic!("open: {f}"));
    let user = user_json(&json!([]));
    run("ip.json", "ip", 30, 0, |case| {
        // The address a new key records for the request's remote address.
        let key = ok(authority.create_session(&user, "password", text(&case["input"])))?;
        let mut ip = empty();
        // SAFETY: the key is live; `ip` is a writable `tw_str`, released by `Owned`.
        ok(check(unsafe { tw_key_ip_address(key.0, &mut ip) }))?;
        expect_eq("ip", Owned(ip).text(), text(&case["expect"]).to_owned())?;
        Ok(Outcome::Ran)
    });
}

/// The name `tw_status_name` gives `status`.
fn status_name(status: tw_status) -> String {
    // SAFETY: `tw_status_name` returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(tw_status_name(status as u32)) }
        .to_str()
        .unwrap()
        .to_owned()
}

/// A case's `headers`, `[[name, value], ...]`.
fn header_pairs(case: &Value) -> Vec<(&str, &str)> {
    case["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (text(&pair[0]), text(&pair[1])))
        .collect()
}

/// `tw_extract_token` on a case's headers and query: the token and its `TW_SOURCE_*`, or
/// `None` for `TW_MISSING` (after checking Coder's detail).
fn extract(case: &Value) -> Result<Option<(String, u32)>, String> {
    let pairs = header_pairs(case);
    let headers: Vec<tw_header> = pairs
        .iter()
        .map(|(name, value)| tw_header {
            name: p(name),
            name_len: name.len(),
            value: p(value),
            value_len: value.len(),
        })
        .collect();
    let query = text(&case["query"]);
    let mut token = empty();
    let mut source = 0;
    // SAFETY: `headers` holds `headers.len()` headers (its pointer is not NULL even when it
    // is empty), each naming bytes of `case` that outlive the call; `query` is `query.len()`
    // readable bytes; both outs are writable.
    let status = unsafe {
        tw_extract_token(
            headers.as_ptr(),
            headers.len(),
            p(query),
            query.len(),
            &mut token,
            &mut source,
        )
    };
    match check(status) {
        Ok(()) => Ok(Some((Owned(token).text(), source))),
        Err(f) => {
            if !token.ptr.is_null() || source != 0 {
                return Err("written on failure".into());
            }
            expect_failure(
                Err::<(), _>(f),
                tw_status::Missing,
                "Cookie \"coder_session_token\" or query parameter must be provided.",
            )?;
            Ok(None)
        }
    }
}

#[test]
fn extract_vectors() {
    run("extract.json", "extract", 68, 0, |case| {
        let got = extract(case)?.map(|(token, _)| token);
        expect_eq("token", got.as_deref(), case["expect"].as_str())?;
        Ok(Outcome::Ran)
    });
}

/// The `source` field of extract_grammar.json as the `TW_SOURCE_*` it names.
fn source_constant(v: &Value) -> Option<u32> {
    Some(match v.as_str()? {
        "cookie" => TW_SOURCE_COOKIE,
        "query" => TW_SOURCE_QUERY,
        "header" => TW_SOURCE_HEADER,
        "bearer" => TW_SOURCE_BEARER,
        "access_token" => TW_SOURCE_ACCESS_TOKEN,
        other => panic!("unknown source {other:?}"),
    })
}

#[test]
fn extract_grammar_vectors() {
    let doc = document("extract_grammar.json", "extract_grammar");
    assert!(
        doc["go_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("go"))
    );
    run("extract_grammar.json", "extract_grammar", 138, 0, |case| {
        let got = extract(case)?;
        expect_eq(
            "token",
            got.as_ref().map(|(token, _)| token.as_str()),
            case["expect"].as_str(),
        )?;
        expect_eq(
            "source",
            got.map(|(_, source)| source),
            source_constant(&case["source"]),
        )?;
        Ok(Outcome::Ran)
    });
}

#[test]
fn duration_vectors() {
    run("duration.json", "duration", 127, 0, |case| {
        if let Some(nanos) = case.get("nanos") {
            let mut out = empty();
            // SAFETY: `out` is a writable `tw_str`, released by `Owned`.
            let status = unsafe { tw_duration_format(nanos.as_i64().unwrap(), &mut out) };
            let out = Owned(out);
            ok(check(status))?;
            expect_eq("formatted", out.text().as_str(), text(&case["formatted"]))?;
            return Ok(Outcome::Ran);
        }
        let input = text(&case["input"]);
        let mut nanos = 0;
        // SAFETY: `input` is `input.len()` readable bytes; `nanos` is writable.
        let got = check(unsafe { tw_duration_parse(p(input), input.len(), &mut nanos) });
        let want = &case["expect"];
        match want.get("error") {
            None => {
                ok(got)?;
                expect_eq("nanos", nanos, want["nanos"].as_i64().unwrap())?;
            }
            Some(error) => {
                expect_failure(got, tw_status::InvalidDuration, text(error))?;
                expect_eq("nanos written on failure", nanos, 0)?;
            }
        }
        Ok(Outcome::Ran)
    });
}

#[test]
fn code_vectors() {
    let doc = document("codes.json", "codes");
    // Every number the ABI names is listed, and nothing else: a status outside the table
    // would have no vector. Statuses are grouped below 7000; the scan goes further.
    let named: BTreeSet<u32> = (0..=u32::from(u16::MAX))
        .filter(|&n| {
            // SAFETY: `tw_status_name` returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(tw_status_name(n)) }.to_bytes() != b"unknown"
        })
        .collect();
    let listed: BTreeSet<u32> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| u32::try_from(c["number"].as_u64().unwrap()).unwrap())
        .collect();
    assert_eq!(named, listed, "the statuses tw_status_name names");
    run("codes.json", "codes", 36, 0, |case| {
        let number = u32::try_from(case["number"].as_u64().unwrap()).unwrap();
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(tw_status_name(number)) };
        expect_eq("name", name.to_str(), Ok(text(&case["name"])))?;
        expect_eq(
            "status",
            u64::from(tw_status_http(number)),
            case["status"].as_u64().unwrap(),
        )?;
        // No function answers "is this a rejection"; the header documents the range instead
        // (`tw_status`: 1000 a presented token does not authenticate), so check that.
        expect_eq(
            "rejection (in 1000..2000)",
            (1000..2000).contains(&number),
            case["rejection"].as_bool().unwrap(),
        )?;
        Ok(Outcome::Ran)
    });
}

#[test]
fn lifetime_vectors() {
    run("lifetime.json", "lifetime", 32, 0, |case| {
        let authority = ok(Authority::open(&case["settings"].to_string()))?;
        let user = user_json(&case["target_roles"]);
        expect_eq(
            "max_token_lifetime_ns",
            ok(authority.token_config(&user))?,
            case["max_token_lifetime_ns"].as_i64().unwrap(),
        )?;
        let request = json!({
            "lifetime": case["lifetime_ns"],
            "token_name": case["name"],
        });
        let got = authority.create_token(&user, &request);
        let want = &case["expect"];
        if let Some(error) = want.get("error") {
            // The vectors name no code: either lifetime status, answered with their HTTP status.
            return match got {
                Err(
                    f @ Failure {
                        status: tw_status::InvalidLifetime | tw_status::LifetimeTooLong,
                        ..
                    },
                ) => {
                    expect_eq(
                        "status",
                        u64::from(tw_status_http(f.status as u32)),
                        error["status"].as_u64().unwrap(),
                    )?;
                    expect_eq("detail", f.detail.as_str(), text(&error["detail"]))?;
                    expect_eq("message", f.message.as_str(), text(&error["message"]))?;
                    Ok(Outcome::Ran)
                }
                Err(f) => Err(format!("got {f}, want a lifetime status, {error}")),
                Ok(v) => Err(format!("got success {v:?}, want {error}")),
            };
        }
        let (key, expires_at) = ok(got)?;
        expect_eq("expires_at (JSON)", micros(&key["expires_at"]), expires_at)?;
        // The authority reads the system clock, which the ABI cannot set: compare the span
        // from the key's `created_at` (its "now") with the span the case expects from `now`.
        expect_eq(
            "expires_at - created_at, µs",
            expires_at - micros(&key["created_at"]),
            micros(&want["expires_at"]) - micros(&case["now"]),
        )?;
        // Through the ABI the key is the stored one: a lifetime of 0 whole seconds is stored
        // as 86400 (README: "That substitution belongs to the store").
        let want_seconds = match want["lifetime_seconds"].as_i64().unwrap() {
            0 => 86400,
            seconds => seconds,
        };
        expect_eq(
            "lifetime_seconds",
            key["lifetime_seconds"].as_i64(),
            Some(want_seconds),
        )?;
        Ok(Outcome::Ran)
    });
}

#[test]
fn scopes_vectors() {
    let authority = Authority::open("{}").unwrap_or_else(|f| panic!("open: {f}"));
    let user = user_json(&json!([]));
    run("scopes.json", "scopes", 31, 0, |case| {
        let request = json!({
            "scope": case["scope"],
            "scopes": case["scopes"],
            "token_name": case["name"],
        });
        let got = authority.create_token(&user, &request);
        let want = &case["expect"];
        if let Some(error) = want.get("error") {
            if let Err(f) = &got {
                expect_eq("message", f.message.as_str(), text(&error["message"]))?;
            }
            expect_eq(
                "status",
                u64::from(tw_status_http(tw_status::InvalidScope as u32)),
                error["status"].as_u64().unwrap(),
            )?;
            expect_failure(got, tw_status::InvalidScope, text(&error["detail"]))?;
            return Ok(Outcome::Ran);
        }
        let (key, _) = ok(got)?;
        expect_eq("scopes", &key["scopes"], &want["scopes"])?;
        expect_eq("scope", &key["scope"], &want["scope"])?;
        Ok(Outcome::Ran)
    });
}

/// Where the ABI carries Go's `%q` of caller input. (Not `tw_duration_parse`: its details
/// quote with Go's `time.quote`, which writes bytes >= 0x80 as `\xNN`.)
struct Quoter {
    authority: Authority,
    user: String,
}

impl Quoter {
    fn new() -> Quoter {
        Quoter {
            authority: Authority::open("{}").unwrap_or_else(|f| panic!("open: {f}")),
            user: user_json(&json!([])),
        }
    }

    /// `s` as `tw_authority_create_session` quotes a login type it does not know:
    /// `unknown login type %q`. The text goes in raw, as pointer and length.
    fn by_login_type(&self, s: &str) -> Result<String, String> {
        let got = self.authority.create_session(&self.user, s, "").map(drop);
        strip(got, tw_status::InvalidLoginType, "unknown login type ", "")
    }

    /// `s` as `tw_authority_create_token` quotes a scope it does not accept:
    /// `invalid or unsupported API key scope: %q`.
    fn by_scope(&self, s: &str) -> Result<String, String> {
        let got = self
            .authority
            .create_token(&self.user, &json!({"scopes": [s]}));
        strip(
            got,
            tw_status::InvalidScope,
            "invalid or unsupported API key scope: ",
            "",
        )
    }
}

/// The quoted part of a failure's detail, between `prefix` and `suffix`.
fn strip(
    got: Result<impl std::fmt::Debug, Failure>,
    status: tw_status,
    prefix: &str,
    suffix: &str,
) -> Result<String, String> {
    match got {
        Err(f) if f.status == status => f
            .detail
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .map(str::to_owned)
            .ok_or_else(|| format!("unexpected detail {:?}", f.detail)),
        Err(f) => Err(format!("got {f}, want {status:?}")),
        Ok(v) => Err(format!("got success {v:?}, want {status:?}")),
    }
}

#[test]
fn quote_vectors() {
    let quoter = Quoter::new();
    run("quote.json", "quote", 100, 0, |case| {
        let input = text(&case["input"]);
        let quoted = text(&case["quoted"]);
        expect_eq("quoted (scope)", quoter.by_scope(input)?.as_str(), quoted)?;
        expect_eq(
            "quoted (login type)",
            quoter.by_login_type(input)?.as_str(),
            quoted,
        )?;
        Ok(Outcome::Ran)
    });
}

/// Every code point a `char` can hold comes back raw from the ABI's `%q` exactly when Go's
/// `unicode.IsPrint` accepts it.
#[test]
fn quote_escapes_exactly_what_go_finds_unprintable() {
    let doc = document("quote.json", "quote");
    let ranges: Vec<(u32, u32)> = doc["unprintable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let bound = |i: usize| u32::try_from(pair[i].as_u64().unwrap()).unwrap();
            (bound(0), bound(1))
        })
        .collect();
    // The walk below relies on this order.
    assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0) && ranges.iter().all(|r| r.0 <= r.1));
    assert!(!ranges.is_empty());

    let quoter = Quoter::new();
    let mut wrong = Vec::new();
    let mut walked = 0;
    let mut next = ranges.iter().peekable();
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        let u = c as u32;
        while next.next_if(|r| r.1 < u).is_some() {}
        let go_printable = next.peek().is_none_or(|r| u < r.0);
        let quoted = quoter
            .by_login_type(&c.to_string())
            .unwrap_or_else(|e| panic!("U+{u:04X}: {e}"));
        let raw = quoted == format!("\"{c}\"");
        // Go escapes '"' and '\\' although it can print them.
        if raw != (go_printable && !matches!(c, '"' | '\\')) {
            wrong.push(format!(
                "U+{u:04X} (raw: {raw}, Go printable: {go_printable})"
            ));
        }
        walked += 1;
    }
    // Every scalar value: all code points but the 2048 surrogates.
    assert_eq!(walked, 0x11_0000 - 0x800);
    assert!(
        wrong.is_empty(),
        "{} code points quoted unlike Go {} through the C ABI, first: {:?}",
        wrong.len(),
        doc["go_version"],
        &wrong[..wrong.len().min(20)]
    );
}
