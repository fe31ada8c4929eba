//! Timing shared by the benchmarks: medians of repeated batches, so a noisy neighbour moves a
//! figure less than a mean would.

use std::time::Instant;

use tokenward::{ApiKey, KeyId, LoginType, SecretHash, Timestamp};

/// Samples per figure; the median is reported.
const SAMPLES: usize = 21;

/// Median nanoseconds per call of `f`, with batches sized to take about 20 ms each.
#[allow(dead_code)] // each benchmark uses one of the two
pub fn measure(mut f: impl FnMut()) -> f64 {
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        if start.elapsed().as_millis() >= 20 {
            break;
        }
        batch *= 2;
    }
    measure_batches(batch, f)
}

/// Median nanoseconds per call of each of `fs`, measured in turn batch by batch (one batch of
/// each per round), so that a machine that slows down or speeds up during the run moves every
/// figure alike and their ratios stay put. Batches are sized on the first.
#[allow(dead_code)] // not every benchmark compares
pub fn measure_interleaved<const N: usize>(fs: [&mut dyn FnMut(); N]) -> [f64; N] {
    let mut fs = fs;
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            (fs[0])();
        }
        if start.elapsed().as_millis() >= 20 {
            break;
        }
        batch *= 2;
    }
    let mut samples = [(); N].map(|_| Vec::with_capacity(SAMPLES));
    for _ in 0..SAMPLES {
        for (f, samples) in fs.iter_mut().zip(samples.iter_mut()) {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            samples.push(start.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    samples.map(|mut s| {
        s.sort_by(f64::total_cmp);
        s[SAMPLES / 2]
    })
}

/// Median nanoseconds per call of `f` over batches of `batch` calls.
pub fn measure_batches(batch: u64, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

/// The secret of [`PRESENTED`].
#[allow(dead_code)]
pub const SECRET: &str = "abcdefghijklmnopqrstuv";
/// The token the single-record benchmarks check.
#[allow(dead_code)]
pub const PRESENTED: &str = "0123456789-abcdefghijklmnopqrstuv";

/// The session record of [`PRESENTED`] at `now`: used ten minutes ago and a week from expiry,
/// so a check verifies it with nothing to write.
#[allow(dead_code)]
pub fn verified_session(now: Timestamp) -> ApiKey {
    let mut record = ApiKey::new(
        KeyId::parse("0123456789").unwrap(),
        SecretHash::of_bytes(SECRET.as_bytes()).as_bytes(),
        "b7d4c0a2-5f7e-4a43-9c55-2f1f7a3b6e10",
        LoginType::Password,
        now,
        Timestamp::from_unix_micros(now.unix_micros() + 86_400_000_000 * 7),
    );
    record.last_used = Timestamp::from_unix_micros(now.unix_micros() - 600_000_000);
    record.lifetime_seconds = 86_400 * 7;
    record.ip_address = "203.0.113.7".parse().unwrap();
    record
}
