//! `SecretHash`: SHA-256 of the secret, the only thing a server stores (compatibility §2).

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::token::{Secret, Wiped};

/// Bytes in a SHA-256 digest, the length of a well-formed `hashed_secret`.
pub const HASH_LENGTH: usize = 32;

/// SHA-256 of a token's secret: 32 raw bytes, no salt, no HMAC (Coder's scheme since 2022,
/// compatibility §2; do not change it, Coder also uses it as key material for app proxying).
///
/// The hash is itself sensitive (compatibility §2), so `Debug` does not print it, and there is no
/// `==`: compare with [`SecretHash::matches`], in constant time.
#[derive(Clone, Copy)]
pub struct SecretHash([u8; HASH_LENGTH]);

impl SecretHash {
    /// The hash of a secret.
    pub fn of(secret: &Secret) -> SecretHash {
        Self::of_bytes(secret.as_bytes())
    }

    /// The hash of arbitrary bytes (a secret given as text, for instance).
    pub fn of_bytes(bytes: &[u8]) -> SecretHash {
        match one_block(bytes) {
            Some(hash) => SecretHash(hash),
            None => SecretHash(Sha256::digest(bytes).into()),
        }
    }

    /// The 32 raw bytes, as stored in `hashed_secret`.
    pub fn as_bytes(&self) -> &[u8; HASH_LENGTH] {
        &self.0
    }

    /// Whether `stored` (a record's `hashed_secret`) is this hash, compared in constant time.
    /// Stored bytes of any length other than 32 never match (compatibility §2).
    pub fn matches(&self, stored: &[u8]) -> bool {
        let Ok(stored) = <&[u8; HASH_LENGTH]>::try_from(stored) else {
            return false;
        };
        // Four 64-bit lanes: constant time, and a quarter of the per-byte work of [u8]::ct_eq.
        lanes(&self.0).ct_eq(&lanes(stored)).into()
    }
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of input that fits in one padded block (up to 55 bytes: every secret), with one
/// call of sha2's compression function: the padding written once, none of the streaming
/// buffer's bookkeeping, which costs as much again as the compression of a 22-byte secret.
/// `None` for longer input. Checked against `Sha256::digest` for every length by the tests.
fn one_block(bytes: &[u8]) -> Option<[u8; HASH_LENGTH]> {
    if bytes.len() > 55 {
        return None; // the input, its 0x80 and the 8-byte length must fit in 64 bytes
    }
    // The block holds the secret: wiped when dropped, as the token's own copy is.
    let mut block = Wiped([0u8; 64]);
    block.0[..bytes.len()].copy_from_slice(bytes);
    block.0[bytes.len()] = 0x80;
    block.0[56..].copy_from_slice(&(bytes.len() as u64 * 8).to_be_bytes());
    let mut state = INITIAL_STATE;
    sha2::block_api::compress256(&mut state, std::slice::from_ref(&block.0));
    let mut out = [0u8; HASH_LENGTH];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    Some(out)
}

fn lanes(bytes: &[u8; HASH_LENGTH]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (lane, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *lane = u64::from_ne_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
    }
    out
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// Lower-case hexadecimal, for the JSON storage form of `hashed_secret`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Bytes from hexadecimal (either case); `None` for odd lengths or non-hex characters.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// Serde adapter: `Vec<u8>` from a hex string (either case).
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        super::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("hashed_secret must be hexadecimal"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_block_is_sha256_for_every_length_it_takes() {
        let input: Vec<u8> = (0..=255u8).cycle().take(200).collect();
        for len in 0..=200 {
            let want: [u8; HASH_LENGTH] = Sha256::digest(&input[..len]).into();
            assert_eq!(SecretHash::of_bytes(&input[..len]).0, want, "length {len}");
            assert_eq!(
                one_block(&input[..len]).is_some(),
                len <= 55,
                "length {len}"
            );
        }
    }

    // Expected digests from Python: hashlib.sha256(b"...").hexdigest()
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hash_is_plain_sha256_of_the_bytes() {
        assert_eq!(to_hex(SecretHash::of_bytes(b"abc").as_bytes()), ABC);
        assert_eq!(to_hex(SecretHash::of_bytes(b"").as_bytes()), EMPTY);
    }

    #[test]
    fn matches_only_the_same_32_bytes() {
        let hash = SecretHash::of_bytes(b"abc");
        let stored = from_hex(ABC).unwrap();
        assert!(hash.matches(&stored));
        for bit in [0usize, 7, 100, 255] {
            let mut flipped = stored.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(!hash.matches(&flipped), "bit {bit}");
        }
    }

    #[test]
    fn stored_hash_of_the_wrong_length_never_matches() {
        let hash = SecretHash::of_bytes(b"abc");
        let stored = from_hex(ABC).unwrap();
        assert!(!hash.matches(&stored[..31]));
        assert!(!hash.matches(&[stored.as_slice(), &[0]].concat()));
        assert!(!hash.matches(&[]));
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        assert_eq!(from_hex("00ffA0").unwrap(), vec![0, 255, 160]);
        assert_eq!(to_hex(&[0, 255, 160]), "00ffa0");
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("é"), None);
    }

    #[test]
    fn debug_does_not_print_the_hash() {
        assert_eq!(
            format!("{:?}", SecretHash::of_bytes(b"abc")),
            "SecretHash(<redacted>)"
        );
    }
}
