//! `Token::parse` and `Token::parse_strict` against a plain model of Coder's `SplitAPIToken`
//! (compatibility §1): split on every `-`, exactly two parts, byte lengths 10 and 22.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::token::{ID_LENGTH, SECRET_LENGTH};
use tokenward::{ParseError, Token};

/// Coder's `SplitAPIToken`, written the way Go writes it, as the oracle.
fn coder_split(text: &str) -> Result<(&str, &str), ParseError> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 2 {
        return Err(ParseError::PartCount(parts.len()));
    }
    if parts[0].len() != ID_LENGTH {
        return Err(ParseError::IdLength(parts[0].len()));
    }
    if parts[1].len() != SECRET_LENGTH {
        return Err(ParseError::SecretLength(parts[1].len()));
    }
    Ok((parts[0], parts[1]))
}

/// Coder's message for each error, verbatim (compatibility §1).
fn coder_message(error: ParseError) -> String {
    match error {
        ParseError::PartCount(n) => {
            format!("incorrect amount of API key parts, expected 2 got {n}")
        }
        ParseError::IdLength(n) => format!("invalid API key ID length, expected 10 got {n}"),
        ParseError::SecretLength(n) => {
            format!("invalid API key secret length, expected 22 got {n}")
        }
        ParseError::OutsideAlphabet => "API key contains a character outside [0-9A-Za-z]".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = coder_split(text);
    let hyphens = text.bytes().filter(|&b| b == b'-').count();

    let lenient = Token::parse(text);
    match (&lenient, &expected) {
        (Ok(token), Ok((id, secret))) => {
            assert_eq!(token.expose(), text);
            assert_eq!(token.id().as_str(), *id);
            assert_eq!(token.id().as_str().len(), ID_LENGTH);
            assert_eq!(token.secret().as_bytes(), secret.as_bytes());
            // The secret never shows in Debug output.
            let debug = format!("{token:?}");
            assert!(debug.contains("<redacted>"), "{debug}");
        }
        (Err(error), Err(want)) => {
            assert_eq!(error, want, "input {text:?}");
            assert_eq!(error.to_string(), coder_message(*error));
            match *error {
                ParseError::PartCount(n) => assert!(n == hyphens + 1 && n != 2),
                ParseError::IdLength(n) => assert!(hyphens == 1 && n != ID_LENGTH),
                ParseError::SecretLength(n) => assert!(hyphens == 1 && n != SECRET_LENGTH),
                ParseError::OutsideAlphabet => panic!("lenient parse checked the alphabet"),
            }
        }
        (got, want) => panic!("input {text:?}: parse gave {got:?}, Coder gives {want:?}"),
    }

    // Strict: the same verdict, and on a well-formed split every byte must be [0-9A-Za-z].
    let strict = Token::parse_strict(text);
    match (&lenient, &strict) {
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(_), Ok(token)) => {
            assert!(text.bytes().all(|b| b == b'-' || b.is_ascii_alphanumeric()));
            assert_eq!(token.expose(), text);
        }
        (Ok(_), Err(error)) => {
            assert_eq!(*error, ParseError::OutsideAlphabet);
            assert!(!text.bytes().all(|b| b == b'-' || b.is_ascii_alphanumeric()));
        }
        (Err(a), Ok(_)) => panic!("input {text:?}: strict accepted what lenient refused ({a:?})"),
    }
});
