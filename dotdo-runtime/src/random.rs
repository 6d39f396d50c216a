//! Randomness from the operating system's CSPRNG (Web Crypto on Workers): for ids, keys and
//! tokens.

use crate::Error;

/// Fills `bytes` with random bytes.
pub fn fill(bytes: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(bytes).map_err(|error| Error::internal(format!("no randomness: {error}")))
}

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from `A-Z a-z 0-9` (rejection sampling, so no character is
/// likelier than another).
pub fn alphanumeric(len: usize) -> Result<String, Error> {
    let mut out = String::with_capacity(len);
    let mut buffer = [0u8; 64];
    while out.len() < len {
        fill(&mut buffer)?;
        for byte in buffer {
            // 248 = 62 * 4: bytes at or above it would favour the first characters.
            if byte < 248 && out.len() < len {
                out.push(ALPHANUMERIC[(byte % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_strings_have_the_length_and_alphabet_asked_for() {
        let token = alphanumeric(32).unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(token, alphanumeric(32).unwrap());
    }
}
