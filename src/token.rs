//! Coder's token format `<id>-<secret>` (compatibility §1): generation, parsing, and the parts.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Coder's 62-symbol alphabet (cryptorand `Default`), in Coder's order (compatibility §1).
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Bytes in a key id.
pub const ID_LENGTH: usize = 10;
/// Bytes in a secret.
pub const SECRET_LENGTH: usize = 22;
/// Bytes in a whole token: id, `-`, secret.
pub const TOKEN_LENGTH: usize = ID_LENGTH + 1 + SECRET_LENGTH;

/// Why a presented string is not a token. The `Display` texts are Coder's, verbatim (compatibility §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Splitting on every `-` did not give exactly two parts.
    #[error("incorrect amount of API key parts, expected 2 got {0}")]
    PartCount(usize),
    /// The id is not 10 bytes.
    #[error("invalid API key ID length, expected 10 got {0}")]
    IdLength(usize),
    /// The secret is not 22 bytes.
    #[error("invalid API key secret length, expected 22 got {0}")]
    SecretLength(usize),
    /// Strict parsing only: a byte outside [`ALPHABET`]. Coder itself does not check this.
    #[error("API key contains a character outside [0-9A-Za-z]")]
    OutsideAlphabet,
}

/// The public half of a token: the 10-byte primary key of the key record. Not secret.
///
/// Holds exactly 10 bytes of UTF-8; a parsed id need not be in the alphabet (Coder does not
/// check, compatibility §1), so an odd id simply finds no key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; ID_LENGTH]);

impl KeyId {
    /// A key id from its text, which must be exactly 10 bytes (Coder's rule).
    pub fn parse(text: &str) -> Result<KeyId, ParseError> {
        let bytes: [u8; ID_LENGTH] = text
            .as_bytes()
            .try_into()
            .map_err(|_| ParseError::IdLength(text.len()))?;
        Ok(KeyId(bytes))
    }

    /// The id's 10 bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LENGTH] {
        &self.0
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Built only from 10-byte slices of a `str` cut at ASCII `-` or at its ends, or from
        // the alphabet, so the bytes are whole UTF-8 characters.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({:?})", self.as_str())
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        KeyId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The secret half of a token: 22 bytes whose SHA-256 is all the server keeps (compatibility §2).
///
/// Deliberately has no `Display`, a redacted `Debug`, and is overwritten with zeros on drop.
pub struct Secret(Wiped<SECRET_LENGTH>);

impl Secret {
    /// The secret's bytes, for hashing.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.0
    }
}

/// Bytes of secret material, overwritten with zeros when dropped, on every path out.
pub(crate) struct Wiped<const N: usize>(pub(crate) [u8; N]);

impl<const N: usize> Drop for Wiped<N> {
    fn drop(&mut self) {
        // SAFETY: `&mut self.0` is a valid, aligned, exclusive pointer to the array. Volatile, so
        // the compiler cannot drop the store as dead; one array store, not N byte stores.
        unsafe { std::ptr::write_volatile(&mut self.0, [0; N]) };
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A token: key id plus secret. Print it with [`Token::expose`], once, to its owner.
pub struct Token {
    id: KeyId,
    secret: Secret,
}

impl Token {
    /// A fresh token from the operating system's CSPRNG, sampled without bias (compatibility §1).
    pub fn generate() -> Result<Token, Error> {
        Self::generate_from(|buf| getrandom::fill(buf).map_err(Error::from))
    }

    /// A token sampled from `random`, which fills a buffer with uniformly random bytes.
    ///
    /// This is Coder's sampler exactly (compatibility §1): per character a big-endian `u32` `v`, index
    /// `(v * 62) >> 32`, and a fresh 4 bytes while the low half is below `2^32 mod 62`. Given
    /// the same byte stream it produces Coder's token, which is what test vectors need.
    pub fn generate_from(
        mut random: impl FnMut(&mut [u8]) -> Result<(), Error>,
    ) -> Result<Token, Error> {
        let mut pool = Wiped([0u8; 4 * (ID_LENGTH + SECRET_LENGTH)]);
        random(&mut pool.0)?;
        let mut id = [0u8; ID_LENGTH];
        let mut secret = Wiped([0u8; SECRET_LENGTH]);
        let targets = id.iter_mut().chain(secret.0.iter_mut());
        for (c, word) in targets.zip(pool.0.chunks_exact(4)) {
            *c = ALPHABET[sample_index(word, &mut random)?];
        }
        Ok(Token {
            id: KeyId(id),
            secret: Secret(secret),
        })
    }

    /// Parses a presented token exactly as Coder's `SplitAPIToken` does (compatibility §1): split on
    /// every `-`, exactly two parts, byte lengths 10 and 22, characters not checked.
    pub fn parse(text: &str) -> Result<Token, ParseError> {
        let (id, secret) = split(text)?;
        Ok(Token {
            id,
            secret: Secret(Wiped(*secret)),
        })
    }

    /// [`Token::parse`], and every character must be in [`ALPHABET`]. Use it where a token
    /// can only have come from a generator; Coder's own check is the lenient one.
    pub fn parse_strict(text: &str) -> Result<Token, ParseError> {
        let token = Self::parse(text)?;
        if token
            .id
            .0
            .iter()
            .chain(token.secret.as_bytes().iter())
            .all(|b| b.is_ascii_alphanumeric())
        {
            Ok(token)
        } else {
            Err(ParseError::OutsideAlphabet)
        }
    }

    /// The key id (public).
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The full `<id>-<secret>` text. Give it to the token's owner once; never log it.
    pub fn expose(&self) -> String {
        let mut text = String::with_capacity(TOKEN_LENGTH);
        text.push_str(self.id.as_str());
        text.push('-');
        // Generated or parsed from a `str`: the secret is whole UTF-8 characters.
        text.push_str(std::str::from_utf8(self.secret.as_bytes()).unwrap_or_default());
        text
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Coder's `SplitAPIToken` (compatibility §1) without copying the secret: the id, and the secret as a
/// view into `text`. The checks hash the view, so no second copy of the secret exists.
pub(crate) fn split(text: &str) -> Result<(KeyId, &[u8; SECRET_LENGTH]), ParseError> {
    let bytes = text.as_bytes();
    // The well-formed shape first: fixed-size, branch-free scans the compiler vectorizes.
    if let Ok(whole) = <&[u8; TOKEN_LENGTH]>::try_from(bytes) {
        let (id, rest) = whole.split_at(ID_LENGTH);
        let (id, secret): (&[u8; ID_LENGTH], &[u8; SECRET_LENGTH]) = (
            id.try_into().unwrap_or(&[b'-'; ID_LENGTH]),
            rest[1..].try_into().unwrap_or(&[b'-'; SECRET_LENGTH]),
        );
        if rest[0] == b'-' && !has_hyphen(id) && !has_hyphen(secret) {
            return Ok((KeyId(*id), secret));
        }
    }
    let Some(dash) = bytes.iter().position(|&b| b == b'-') else {
        return Err(ParseError::PartCount(1));
    };
    let (id, secret) = (&bytes[..dash], &bytes[dash + 1..]);
    if secret.contains(&b'-') {
        let parts = 2 + secret.iter().filter(|&&b| b == b'-').count();
        return Err(ParseError::PartCount(parts));
    }
    let id: [u8; ID_LENGTH] = id.try_into().map_err(|_| ParseError::IdLength(id.len()))?;
    let secret: &[u8; SECRET_LENGTH] = secret
        .try_into()
        .map_err(|_| ParseError::SecretLength(secret.len()))?;
    Ok((KeyId(id), secret))
}

/// Whether `bytes` contains `-`, without an early exit (so it vectorizes).
fn has_hyphen<const N: usize>(bytes: &[u8; N]) -> bool {
    bytes.iter().fold(false, |found, &b| found | (b == b'-'))
}

/// One unbiased index into the alphabet from a 4-byte word (Lemire's multiply-shift).
fn sample_index(
    word: &[u8],
    random: &mut impl FnMut(&mut [u8]) -> Result<(), Error>,
) -> Result<usize, Error> {
    const N: u64 = ALPHABET.len() as u64;
    let mut v = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    let mut product = u64::from(v) * N;
    if (product as u32 as u64) < N {
        let threshold = (u64::from(u32::MAX) + 1 - N) % N;
        while (product as u32 as u64) < threshold {
            let mut fresh = Wiped([0u8; 4]);
            random(&mut fresh.0)?;
            v = u32::from_be_bytes(fresh.0);
            product = u64::from(v) * N;
        }
    }
    Ok((product >> 32) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte source that replays `bytes`, then fails.
    fn replay(bytes: Vec<u8>) -> impl FnMut(&mut [u8]) -> Result<(), Error> {
        let mut at = 0;
        move |buf: &mut [u8]| {
            let end = at + buf.len();
            let chunk = bytes
                .get(at..end)
                .ok_or_else(|| Error::Random("stream exhausted".into()))?;
            buf.copy_from_slice(chunk);
            at = end;
            Ok(())
        }
    }

    #[test]
    fn generated_tokens_have_coder_shape_and_alphabet() {
        for _ in 0..200 {
            let token = Token::generate().unwrap();
            let text = token.expose();
            assert_eq!(text.len(), TOKEN_LENGTH);
            assert_eq!(&text[10..11], "-");
            assert!(
                text.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| ALPHABET.contains(&b))
            );
            let again = Token::parse_strict(&text).unwrap();
            assert_eq!(again.id(), token.id());
            assert_eq!(again.secret().as_bytes(), token.secret().as_bytes());
        }
    }

    #[test]
    fn sampler_maps_big_endian_words_by_multiply_shift() {
        // index = (v * 62) >> 32:
        // v = 0xFFFF_FFFF -> 61 (z); v = 0x1000_0000 -> 62 / 16 = 3.875 -> 3 (the digit 3).
        let mut stream = Vec::new();
        for _ in 0..32 {
            stream.extend_from_slice(&0xFFFF_FFFFu32.to_be_bytes());
        }
        stream[4..8].copy_from_slice(&0x1000_0000u32.to_be_bytes());
        let token = Token::generate_from(replay(stream)).unwrap();
        assert_eq!(
            token.expose(),
            format!("z3{}-{}", "z".repeat(8), "z".repeat(22))
        );
    }

    #[test]
    fn sampler_redraws_when_the_low_half_is_below_the_threshold() {
        // v = 0x8000_0000: v * 62 = 31 << 32, low half 0 < 4 -> redraw; the fresh word
        // 0xFFFF_FFFF gives 'z'. Without the redraw the first character would be 'V' (31).
        let mut stream = 0x8000_0000u32.to_be_bytes().to_vec();
        for _ in 1..32 {
            stream.extend_from_slice(&0x0000_0005u32.to_be_bytes()); // (5*62)>>32 = 0 -> '0', low 310 >= 62
        }
        stream.extend_from_slice(&0xFFFF_FFFFu32.to_be_bytes());
        let token = Token::generate_from(replay(stream)).unwrap();
        assert_eq!(
            token.expose(),
            format!("z{}-{}", "0".repeat(9), "0".repeat(22))
        );
    }

    #[test]
    fn random_source_failure_is_a_typed_error() {
        let err = Token::generate_from(|_| Err(Error::Random("no entropy".into()))).unwrap_err();
        assert_eq!(err, Error::Random("no entropy".into()));
    }

    #[test]
    fn generated_characters_are_spread_over_the_whole_alphabet() {
        let mut counts = [0u32; 62];
        for _ in 0..2000 {
            for b in Token::generate()
                .unwrap()
                .expose()
                .bytes()
                .filter(|&b| b != b'-')
            {
                counts[ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
            }
        }
        // 64 000 draws, 1032 expected per symbol; a biased or truncated sampler leaves gaps.
        assert!(
            counts.iter().all(|&n| (800..1300).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn parse_reports_coders_errors() {
        assert_eq!(
            Token::parse("test-wow-hello").unwrap_err().to_string(),
            "incorrect amount of API key parts, expected 2 got 3"
        );
        assert_eq!(
            Token::parse("test-wow").unwrap_err().to_string(),
            "invalid API key ID length, expected 10 got 4"
        );
        assert_eq!(
            Token::parse("testtestid-wow").unwrap_err().to_string(),
            "invalid API key secret length, expected 22 got 3"
        );
        assert_eq!(Token::parse("").unwrap_err(), ParseError::PartCount(1));
        assert_eq!(Token::parse("--").unwrap_err(), ParseError::PartCount(3));
    }

    #[test]
    fn parse_counts_bytes_not_characters() {
        let id = "é".repeat(5); // 10 bytes
        let token = Token::parse(&format!("{id}-{}", "a".repeat(22))).unwrap();
        assert_eq!(token.id().as_str(), id);
        assert_eq!(
            Token::parse_strict(&format!("{id}-{}", "a".repeat(22))).unwrap_err(),
            ParseError::OutsideAlphabet
        );
        assert_eq!(
            Token::parse(&format!("{}-{}", "é".repeat(10), "a".repeat(22))).unwrap_err(),
            ParseError::IdLength(20)
        );
    }

    #[test]
    fn secret_is_redacted_in_debug_output() {
        let token = Token::parse("0123456789-abcdefghijklmnopqrstuv").unwrap();
        let debug = format!("{token:?}");
        assert!(debug.contains("0123456789"));
        assert!(!debug.contains("abcdefghij"), "{debug}");
    }

    #[test]
    fn hyphen_scan_finds_a_hyphen_at_every_position() {
        for n in 0..22 {
            let mut secret = [b'a'; 22];
            assert!(!has_hyphen(&secret));
            secret[n] = b'-';
            assert!(has_hyphen(&secret), "position {n}");
            // Bytes whose XOR with '-' borrow across lanes must not be mistaken for one.
            let mut near = [b'.'; 22];
            near[n] = b',';
            assert!(!has_hyphen(&near), "position {n}");
        }
        let mut id = [0xFFu8; 10];
        assert!(!has_hyphen(&id));
        id[9] = b'-';
        assert!(has_hyphen(&id));
    }

    #[test]
    fn key_id_must_be_ten_bytes() {
        assert_eq!(KeyId::parse("0123456789").unwrap().as_str(), "0123456789");
        assert_eq!(
            KeyId::parse("012345678").unwrap_err(),
            ParseError::IdLength(9)
        );
    }
}
