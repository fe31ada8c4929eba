//! The C ABI's cost: `tw_verify_record` through the ABI (the record as a `tw_key` handle, one
//! `tw_verdict` reused call after call, as the header advises) against
//! `check::verify_record` on the same record, in the same run. Target: the ABI's rate at
//! least 0.9x Rust's.
//!
//! Two loops each: one record checked again and again (the verdict keeps the key it already
//! holds), and two records in turn (each call moves the verdict to the other key, which costs
//! a reference count), the host's usual case.

mod support;

use std::hint::black_box;
use std::ptr;

use support::{PRESENTED, measure_interleaved, verified_session};
use tokenward::check::verify_record;
use tokenward::ffi::{tw_key, tw_key_free, tw_key_from_json, tw_verdict, tw_verdict_free};
use tokenward::ffi::{tw_verdict_new, tw_verify_record};
use tokenward::{Settings, Timestamp};

const REMOTE: &str = "203.0.113.7";

/// A `tw_key` handle loaded from `json`.
fn load(json: &str) -> *mut tw_key {
    let mut handle = ptr::null_mut();
    // SAFETY: `json` is `json.len()` readable bytes; `handle` is writable.
    let status = unsafe { tw_key_from_json(json.as_ptr().cast(), json.len(), &mut handle) };
    assert_eq!(status.number(), 0, "the record loads");
    handle
}

/// One check through the ABI.
fn check(key: *const tw_key, now: Timestamp, verdict: *mut tw_verdict) {
    let (presented, remote) = (black_box(PRESENTED), black_box(REMOTE));
    // SAFETY: both texts are their lengths in readable bytes; `key` is live; NULL settings
    // are the defaults; `verdict` is live and used by this thread only.
    let status = unsafe {
        tw_verify_record(
            presented.as_ptr().cast(),
            presented.len(),
            key,
            ptr::null(),
            black_box(now).unix_micros(),
            remote.as_ptr().cast(),
            remote.len(),
            verdict,
        )
    };
    black_box(status);
}

fn main() {
    let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
    let records = [verified_session(now), verified_session(now)];
    let settings = Settings::default();
    let json = serde_json::to_string(&records[0].storage()).unwrap();
    let handles = [load(&json), load(&json)];
    let mut verdict = ptr::null_mut();
    // SAFETY: `verdict` is writable; freed once below.
    assert_eq!(unsafe { tw_verdict_new(&mut verdict) }.number(), 0);

    let (mut rust_turn, mut abi_turn) = (0, 0);
    let [rust_one, abi_one, rust_two, abi_two] = measure_interleaved([
        &mut || {
            let verdict = verify_record(
                black_box(PRESENTED),
                Some(black_box(&records[0])),
                black_box(now),
                black_box(&settings),
                black_box(REMOTE),
            );
            black_box(verdict.is_ok());
        },
        &mut || check(handles[0], now, verdict),
        &mut || {
            rust_turn ^= 1;
            let record = black_box(&records[rust_turn]);
            let verdict = verify_record(
                black_box(PRESENTED),
                Some(record),
                black_box(now),
                black_box(&settings),
                black_box(REMOTE),
            );
            black_box(verdict.is_ok());
        },
        &mut || {
            abi_turn ^= 1;
            check(black_box(handles[abi_turn]), now, verdict);
        },
    ]);

    // SAFETY: the handles from `tw_verdict_new` and `tw_key_from_json`, each freed once.
    unsafe {
        tw_verdict_free(verdict);
        handles.into_iter().for_each(|h| tw_key_free(h));
    }

    println!("| operation | one record, ns/op | two records in turn, ns/op |");
    println!("|---|---:|---:|");
    println!("| check::verify_record (Rust) | {rust_one:.1} | {rust_two:.1} |");
    println!("| tw_verify_record (C ABI, verdict reused) | {abi_one:.1} | {abi_two:.1} |");
    println!();
    println!(
        "C ABI rate / Rust rate: {:.2}x one record, {:.2}x two records in turn (target >= 0.90x)",
        rust_one / abi_one,
        rust_two / abi_two
    );
}
