//! `tests/c/check_vectors.h` is `tests/vectors/check.json` as a C table, for the C test
//! program (tests/c/test.c), which has no JSON parser. Regenerate it with
//! `TOKENWARD_BLESS=1 cargo test --test c_vectors`.

use std::fmt::Write;
mod common;

use std::path::Path;

use serde_json::Value;
use tokenward::{Code, Timestamp};

/// A C string literal of `text`'s bytes: printable ASCII as is, everything else (and `"`,
/// `\`, `?`) as a three-digit octal escape, so nothing runs into the next character.
fn c_string(text: &str) -> String {
    let mut out = String::from("\"");
    for &b in text.as_bytes() {
        if (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'?') {
            out.push(b as char);
        } else {
            write!(out, "\\{b:03o}").unwrap();
        }
    }
    out.push('"');
    out
}

/// A literal and its length in bytes: `"...", n`.
fn c_text(text: &str) -> String {
    format!("{}, {}", c_string(text), text.len())
}

fn micros(v: &Value) -> i64 {
    Timestamp::parse_rfc3339(v.as_str().expect("a timestamp"))
        .expect("an RFC 3339 timestamp")
        .unix_micros()
}

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/vectors/check.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["schema"], "tokenward-vectors/1");
    assert_eq!(doc["kind"], "check");
    let mut out = String::from(
        "/* Generated from tests/vectors/check.json by tests/c_vectors.rs. Do not edit:\n   \
         TOKENWARD_BLESS=1 cargo test --test c_vectors */\n\n\
         static const struct check_case CHECK_CASES[] = {\n",
    );
    for case in doc["cases"].as_array().unwrap() {
        let text = |field: &str| case[field].as_str().unwrap_or_else(|| panic!("{field}"));
        let record = match &case["record"] {
            Value::Null => "NULL, 0".to_owned(),
            record => c_text(&record.to_string()),
        };
        let expect = &case["expect"];
        let (code, message, detail, challenge, update) = match expect.get("rejection") {
            Some(r) => {
                let name = r["code"].as_str().unwrap();
                let code = Code::ALL
                    .iter()
                    .find(|c| c.name() == name)
                    .unwrap_or_else(|| panic!("unknown code {name}"));
                (
                    code.number(),
                    c_text(r["message"].as_str().unwrap()),
                    c_text(r["detail"].as_str().unwrap()),
                    c_text(r["www_authenticate"].as_str().unwrap()),
                    "false, 0, 0, \"\", 0".to_owned(),
                )
            }
            None => {
                let u = &expect["verified"]["update"];
                let update = if u.is_null() {
                    "false, 0, 0, \"\", 0".to_owned()
                } else {
                    format!(
                        "true, {}, {}, {}",
                        micros(&u["last_used"]),
                        micros(&u["expires_at"]),
                        c_text(u["ip_address"].as_str().unwrap())
                    )
                };
                let empty = "\"\", 0".to_owned();
                (0, empty.clone(), empty.clone(), empty, update)
            }
        };
        writeln!(
            out,
            "    {{{name},\n     {presented},\n     {record},\n     {settings},\n     \
             {now}, {remote},\n     {code}, {message},\n     {detail},\n     {challenge},\n     \
             {update}}},",
            name = c_string(text("name")),
            presented = c_text(text("presented")),
            settings = c_text(&case["settings"].to_string()),
            now = micros(&case["now"]),
            remote = c_text(text("remote_addr")),
        )
        .unwrap();
    }
    out.push_str("};\n");
    out
}

#[test]
fn committed_c_vectors_are_current() {
    common::assert_committed(
        "tests/c/check_vectors.h",
        &generate(),
        "tests/vectors/check.json",
        "c_vectors",
    );
}
