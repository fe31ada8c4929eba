//! The C ABI's cost: `tw_verify_record` through the ABI (the record as a `tw_key` handle, a
//! `tw_verdict` out and freed) against `check::verify_record` on the same record, in the same
//! run. Target: the ABI's rate at least 0.9x Rust's.

mod support;

use std::hint::black_box;
use std::ptr;

use support::{PRESENTED, measure, verified_session};
use tokenward::check::verify_record;
use tokenward::ffi::{tw_key_free, tw_key_from_json, tw_verdict_free, tw_verify_record};
use tokenward::{Settings, Timestamp};

fn main() {
    let presented = PRESENTED;
    let remote = "203.0.113.7";
    let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
    let record = verified_session(now);
    let settings = Settings::default();

    let json = serde_json::to_string(&record.storage()).unwrap();
    let mut handle = ptr::null_mut();
    // SAFETY: `json` is `json.len()` readable bytes; `handle` is writable.
    let status = unsafe { tw_key_from_json(json.as_ptr().cast(), json.len(), &mut handle) };
    assert_eq!(status.number(), 0, "the record loads");

    let rust = measure(|| {
        let verdict = verify_record(black_box(presented), Some(&record), now, &settings, remote);
        black_box(verdict.is_ok());
    });
    let abi = measure(|| {
        let mut verdict = ptr::null_mut();
        // SAFETY: both texts are their lengths in readable bytes; `handle` is live; NULL
        // settings are the defaults; `verdict` is writable and freed once below.
        let status = unsafe {
            tw_verify_record(
                black_box(presented).as_ptr().cast(),
                presented.len(),
                handle,
                ptr::null(),
                now.unix_micros(),
                remote.as_ptr().cast(),
                remote.len(),
                &mut verdict,
            )
        };
        black_box(status);
        // SAFETY: written by `tw_verify_record`, freed once.
        unsafe { tw_verdict_free(verdict) };
    });
    // SAFETY: the handle from `tw_key_from_json`, freed once.
    unsafe { tw_key_free(handle) };

    println!("| operation | ns/op | ops/s |");
    println!("|---|---:|---:|");
    for (name, ns) in [
        ("check::verify_record (Rust)", rust),
        ("tw_verify_record (C ABI, verdict freed)", abi),
    ] {
        println!("| {name} | {ns:.1} | {:.2} M |", 1e3 / ns);
    }
    println!();
    println!(
        "C ABI rate / Rust rate: {:.2}x (target >= 0.90x)",
        rust / abi
    );
}
