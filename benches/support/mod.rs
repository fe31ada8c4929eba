//! Timing shared by the benchmarks: medians of repeated batches, so a noisy neighbour moves a
//! figure less than a mean would.

use std::time::Instant;

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
