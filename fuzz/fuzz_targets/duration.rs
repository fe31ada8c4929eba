//! `Duration::parse` on arbitrary text, and Go's `Duration.String()` on arbitrary values: what
//! prints parses back to the same value (compatibility, fine points).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::Duration;

/// Printed as Go prints: never Coder's `d` or `y`, and parsed back to the same value.
fn assert_round_trips(d: Duration) {
    let text = d.to_string();
    assert!(!text.contains(['d', 'y']), "{d:?} printed as {text:?}");
    assert_eq!(Duration::parse(&text), Ok(d), "{d:?} printed as {text:?}");
}

fuzz_target!(|data: &[u8]| {
    // Every i64 is a duration, so the first 8 bytes test the printer over the whole range.
    if let Some(bytes) = data.first_chunk::<8>() {
        assert_round_trips(Duration::from_nanos(i64::from_le_bytes(*bytes)));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Duration::parse(text) {
        Ok(d) => {
            assert_round_trips(d);
            // A sign flips the value; `-` of the most negative value does not fit.
            if let Some(unsigned) = text
                .strip_prefix('-')
                .filter(|t| !t.starts_with(['-', '+']))
                && d != Duration::MIN
            {
                assert_eq!(
                    Duration::parse(unsigned),
                    Ok(Duration::from_nanos(-d.as_nanos()))
                );
            }
        }
        Err(error) => assert!(error.to_string().starts_with("time: "), "{error}"),
    }
});
