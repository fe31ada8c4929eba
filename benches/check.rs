//! Core benchmark: bare SHA-256 of a 22-byte secret (sha2 and ring), parse, the full check,
//! and generation, measured in one run so the ratios are meaningful on a noisy machine.
//!
//! Run: `cargo bench --bench check`. Each figure is the median of 21 samples; the ratios
//! compare medians from this same run.

use std::hint::black_box;

mod support;

use support::{PRESENTED, SECRET, measure, measure_interleaved, verified_session};
use tokenward::check::verify;
use tokenward::{SecretHash, Settings, Timestamp, Token};

fn main() {
    let (secret, presented) = (SECRET, PRESENTED);
    let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
    let record = verified_session(now);
    let settings = Settings::default();

    // In turn, batch by batch: the ratios below compare figures taken side by side.
    let [sha2, sha2_digest, ring, parse, check] = measure_interleaved([
        &mut || {
            black_box(SecretHash::of_bytes(black_box(secret.as_bytes())));
        },
        &mut || {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(black_box(secret.as_bytes())));
        },
        &mut || {
            black_box(ring::digest::digest(
                &ring::digest::SHA256,
                black_box(secret.as_bytes()),
            ));
        },
        &mut || {
            black_box(Token::parse(black_box(presented)).is_ok());
        },
        &mut || {
            let verdict = verify(
                black_box(presented),
                |_| Some(&record),
                black_box(now),
                black_box(&settings),
                black_box("203.0.113.7"),
            );
            black_box(verdict.is_ok());
        },
    ]);
    let generate = measure(|| {
        black_box(Token::generate().is_ok());
    });

    let fastest_hash = sha2.min(sha2_digest).min(ring);
    println!("| operation | ns/op | ops/s |");
    println!("|---|---:|---:|");
    for (name, ns) in [
        (
            "SHA-256, 22-byte secret (sha2's compression, one block: the core's)",
            sha2,
        ),
        ("SHA-256, 22-byte secret (sha2's Digest API)", sha2_digest),
        ("SHA-256, 22-byte secret (ring)", ring),
        ("parse", parse),
        (
            "full check (parse + hash + compare + expiry + refresh decision)",
            check,
        ),
        ("generate", generate),
    ] {
        println!("| {name} | {ns:.1} | {:.2} M |", 1e3 / ns);
    }
    println!();
    println!("sha2 / ring: {:.2}x (the core uses sha2)", sha2 / ring);
    println!(
        "one block / Digest API: {:.2}x (the core hashes one block)",
        sha2 / sha2_digest
    );
    println!(
        "check / bare hash: {:.2}x (target <= 1.30x)",
        check / fastest_hash
    );
    println!(
        "generate: {:.2} M tokens/s (target >= 1 M/s)",
        1e3 / generate
    );
}
