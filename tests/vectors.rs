//! Runs every case of `tests/vectors/*.json` (schema in tests/vectors/README.md) against the
//! core. Every binding's suite is to run the same files.

mod common;

use common::{hex, unhex};

use std::path::Path;

use serde_json::Value;
use tokenward::Coded;
use tokenward::check::verify;
use tokenward::extract::{TokenSource, extract_token, reads_header};
use tokenward::issue::{max_token_lifetime, requested_scopes, token_expiry};
use tokenward::key::legacy_scope;
use tokenward::{ApiKey, Code, Duration, SecretHash, Settings, Timestamp, Token, User};

/// One vector file, after checking its envelope.
fn document(file: &str, kind: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "tokenward-vectors/1", "{file}");
    assert_eq!(doc["kind"], kind, "{file}");
    doc
}

/// The cases of one vector file, after checking its envelope.
fn cases(file: &str, kind: &str) -> Vec<Value> {
    let cases = document(file, kind)["cases"].as_array().unwrap().clone();
    assert!(!cases.is_empty(), "{file} has no cases");
    cases
}

/// Runs `case_fn` on every case and fails once, listing every case that failed.
fn run(file: &str, kind: &str, case_fn: impl Fn(&Value) -> Result<(), String>) {
    let cases = cases(file, kind);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            case_fn(case)
                .err()
                .map(|e| format!("{}: {e}", case["name"].as_str().unwrap_or("?")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} {file} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// An operational error against `{"status", "message", "detail"}`, as Coder's HTTP answer.
fn expect_error(e: &tokenward::Error, want: &Value) -> Result<(), String> {
    let answer = tokenward::http::answer(e, &Settings::default());
    expect_eq(
        "status",
        u64::from(answer.status),
        want["status"].as_u64().unwrap(),
    )?;
    expect_eq("message", &*e.message(), text(&want["message"]))?;
    expect_eq("detail", &*e.detail(), text(&want["detail"]))
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn ts(v: &Value) -> Timestamp {
    Timestamp::parse_rfc3339(text(v)).unwrap()
}

fn settings(v: &Value) -> Settings {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn parse_vectors() {
    run("parse.json", "parse", |case| {
        let input = text(&case["input"]);
        let strict = Token::parse_strict(input).is_ok();
        expect_eq("strict", strict, case["strict"].as_bool().unwrap())?;
        match (Token::parse(input), case["expect"].get("error")) {
            (Ok(token), None) => {
                expect_eq("id", token.id().as_str(), text(&case["expect"]["id"]))?;
                let secret = String::from_utf8(token.secret().as_bytes().to_vec()).unwrap();
                expect_eq("secret", secret.as_str(), text(&case["expect"]["secret"]))
            }
            (Err(e), Some(want)) => expect_eq("error", e.to_string().as_str(), text(want)),
            (got, _) => Err(format!("got {got:?}, want {}", case["expect"])),
        }
    });
}

#[test]
fn hash_vectors() {
    run("hash.json", "hash", |case| {
        let hash = SecretHash::of_bytes(text(&case["secret"]).as_bytes());
        if let Some(digest) = case.get("sha256") {
            return expect_eq("sha256", hex(hash.as_bytes()).as_str(), text(digest));
        }
        let stored = unhex(text(&case["stored"]));
        expect_eq(
            "matches",
            hash.matches(&stored),
            case["matches"].as_bool().unwrap(),
        )
    });
}

#[test]
fn check_vectors() {
    run("check.json", "check", |case| {
        let record: Option<ApiKey> =
            serde_json::from_value(case["record"].clone()).map_err(|e| format!("record: {e}"))?;
        let settings = settings(&case["settings"]);
        let verdict = verify(
            text(&case["presented"]),
            |_| record.as_ref(),
            ts(&case["now"]),
            &settings,
            text(&case["remote_addr"]),
        );
        match (verdict, &case["expect"]) {
            (Ok(verified), want) if want.get("verified").is_some() => {
                let want = &want["verified"]["update"];
                match (verified.update, want.is_null()) {
                    (None, true) => Ok(()),
                    (Some(u), false) => {
                        expect_eq("last_used", u.last_used, ts(&want["last_used"]))?;
                        expect_eq("expires_at", u.expires_at, ts(&want["expires_at"]))?;
                        expect_eq(
                            "ip_address",
                            u.ip_address.to_string().as_str(),
                            text(&want["ip_address"]),
                        )
                    }
                    (got, _) => Err(format!("update: got {got:?}, want {want}")),
                }
            }
            (Err(r), want) if want.get("rejection").is_some() => {
                let want = &want["rejection"];
                expect_eq("code", r.code().name(), text(&want["code"]))?;
                expect_eq(
                    "status",
                    u64::from(r.status()),
                    want["status"].as_u64().unwrap(),
                )?;
                expect_eq("message", r.message(), text(&want["message"]))?;
                expect_eq("detail", r.detail(), text(&want["detail"]))?;
                expect_eq(
                    "www_authenticate",
                    tokenward::http::challenge(&r, &settings).as_deref(),
                    want["www_authenticate"].as_str(),
                )
            }
            (got, want) => Err(format!("got {got:?}, want {want}")),
        }
    });
}

#[test]
fn extract_vectors() {
    run("extract.json", "extract", |case| {
        let headers = header_pairs(case);
        let got = extract_token(&headers, text(&case["query"])).map(|e| e.token.into_owned());
        expect_eq("token", got.as_deref(), case["expect"].as_str())?;
        expect_eq("token, read headers only", only_read(&headers, case), got)
    });
}

/// The token `extract_token` finds in `case` when given only the headers it reads
/// (`reads_header`), as the bindings copy them.
fn only_read(headers: &[(&str, &str)], case: &Value) -> Option<String> {
    let read: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(name, _)| reads_header(name))
        .collect();
    extract_token(&read, text(&case["query"])).map(|e| e.token.into_owned())
}

/// A case's `headers`, `[[name, value], ...]`, as the pairs `extract_token` takes.
fn header_pairs(case: &Value) -> Vec<(&str, &str)> {
    case["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (text(&pair[0]), text(&pair[1])))
        .collect()
}

/// The `source` field of extract_grammar.json as the `TokenSource` it names.
fn token_source(v: &Value) -> Option<TokenSource> {
    Some(match v.as_str()? {
        "cookie" => TokenSource::Cookie,
        "query" => TokenSource::Query,
        "header" => TokenSource::Header,
        "bearer" => TokenSource::Bearer,
        "access_token" => TokenSource::AccessToken,
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
    run("extract_grammar.json", "extract_grammar", |case| {
        let headers = header_pairs(case);
        let got = extract_token(&headers, text(&case["query"]));
        expect_eq(
            "token",
            got.as_ref().map(|e| &*e.token),
            case["expect"].as_str(),
        )?;
        expect_eq(
            "token, read headers only",
            only_read(&headers, case),
            got.as_ref().map(|e| e.token.to_string()),
        )?;
        expect_eq(
            "source",
            got.map(|e| e.source),
            token_source(&case["source"]),
        )
    });
}

#[test]
fn lifetime_vectors() {
    run("lifetime.json", "lifetime", |case| {
        let settings = settings(&case["settings"]);
        let roles: Vec<&str> = case["target_roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(text)
            .collect();
        let target = User::new("target", &roles);
        let max = max_token_lifetime(&settings, &target);
        expect_eq(
            "max_token_lifetime_ns",
            max.as_nanos(),
            case["max_token_lifetime_ns"].as_i64().unwrap(),
        )?;
        let lifetime = Duration::from_nanos(case["lifetime_ns"].as_i64().unwrap());
        let want = &case["expect"];
        match token_expiry(&settings, &target, lifetime, ts(&case["now"])) {
            Ok(expiry) if want.get("expires_at").is_some() => {
                expect_eq("expires_at", expiry.expires_at, ts(&want["expires_at"]))?;
                expect_eq(
                    "lifetime_seconds",
                    expiry.lifetime_seconds,
                    want["lifetime_seconds"].as_i64().unwrap(),
                )
            }
            Err(e) if want.get("error").is_some() => expect_error(&e, &want["error"]),
            got => Err(format!("got {got:?}, want {want}")),
        }
    });
}

#[test]
fn duration_vectors() {
    run("duration.json", "duration", |case| {
        if let Some(nanos) = case.get("nanos") {
            let formatted = Duration::from_nanos(nanos.as_i64().unwrap()).to_string();
            return expect_eq("formatted", formatted.as_str(), text(&case["formatted"]));
        }
        let want = &case["expect"];
        match Duration::parse(text(&case["input"])) {
            Ok(d) if want.get("nanos").is_some() => {
                expect_eq("nanos", d.as_nanos(), want["nanos"].as_i64().unwrap())
            }
            Err(e) if want.get("error").is_some() => {
                expect_eq("error", e.to_string().as_str(), text(&want["error"]))
            }
            got => Err(format!("got {got:?}, want {want}")),
        }
    });
}

#[test]
fn ip_vectors() {
    run("ip.json", "ip", |case| {
        // The address a new key records for the request's remote address.
        let minted = tokenward::issue::session_key(
            "u",
            tokenward::LoginType::Password,
            Duration::HOUR,
            text(&case["input"]),
            Timestamp::UNIX_EPOCH,
        )
        .map_err(|e| e.to_string())?;
        expect_eq(
            "ip",
            minted.key.ip_address.to_string().as_str(),
            text(&case["expect"]),
        )
    });
}

#[test]
fn scopes_vectors() {
    run("scopes.json", "scopes", |case| {
        let scopes: Vec<String> = case["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| text(s).to_owned())
            .collect();
        let want = &case["expect"];
        match requested_scopes(case["scope"].as_str(), &scopes) {
            Ok(got) if want.get("scopes").is_some() => {
                let names: Vec<&str> = got.iter().map(|s| s.as_str()).collect();
                let want_names: Vec<&str> = want["scopes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(text)
                    .collect();
                expect_eq("scopes", names, want_names)?;
                expect_eq("scope", legacy_scope(&got), text(&want["scope"]))
            }
            Err(e) if want.get("error").is_some() => expect_error(&e, &want["error"]),
            got => Err(format!("got {got:?}, want {want}")),
        }
    });
}

/// `s` as the crate's `%q` writes it, read back from an error detail that uses it.
fn go_quoted(s: &str) -> String {
    let detail = tokenward::Error::NameConflict { name: s.to_owned() }.to_string();
    detail
        .strip_prefix("A token with name ")
        .and_then(|rest| rest.strip_suffix(" already exists."))
        .unwrap_or_else(|| panic!("unexpected detail {detail:?}"))
        .to_owned()
}

#[test]
fn quote_vectors() {
    run("quote.json", "quote", |case| {
        expect_eq(
            "quoted",
            go_quoted(text(&case["input"])).as_str(),
            text(&case["quoted"]),
        )
    });
}

/// Every code point a `char` can hold stays raw exactly when Go's `unicode.IsPrint` accepts it.
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

    let mut wrong = Vec::new();
    let mut next = ranges.iter().peekable();
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        let u = c as u32;
        while next.next_if(|r| r.1 < u).is_some() {}
        let go_printable = next.peek().is_none_or(|r| u < r.0);
        let raw = go_quoted(&c.to_string()) == format!("\"{c}\"");
        // Go escapes '"' and '\\' although it can print them.
        if raw != (go_printable && !matches!(c, '"' | '\\')) {
            wrong.push(format!(
                "U+{u:04X} (raw: {raw}, Go printable: {go_printable})"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} code points quoted unlike Go {}, first: {:?}",
        wrong.len(),
        doc["go_version"],
        &wrong[..wrong.len().min(20)]
    );
}

#[test]
fn code_vectors() {
    let listed = cases("codes.json", "codes");
    assert_eq!(listed.len(), Code::ALL.len(), "every code is listed once");
    run("codes.json", "codes", |case| {
        let number = u32::try_from(case["number"].as_u64().unwrap()).unwrap();
        let code = Code::from_number(number).ok_or(format!("no code numbered {number}"))?;
        expect_eq("name", code.name(), text(&case["name"]))?;
        expect_eq(
            "status",
            u64::from(code.status()),
            case["status"].as_u64().unwrap(),
        )?;
        expect_eq(
            "rejection",
            code.is_rejection(),
            case["rejection"].as_bool().unwrap(),
        )
    });
}
