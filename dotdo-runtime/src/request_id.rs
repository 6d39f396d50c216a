//! Request ids: reused from a trustworthy `X-Request-ID`, else generated.

use http::HeaderName;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request id we accept from a caller: short, and made only of characters that are safe in
/// headers and log lines.
pub fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new random id: 128 bits from the operating system's CSPRNG (Web Crypto on Workers), hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 16];
    let random = getrandom::fill(&mut bytes).is_ok();
    hex_id(bytes, random)
}

/// `count` new ids, their randomness drawn in one call: on Workers one crossing into Web
/// Crypto for a batch of queue messages, not one per message.
pub fn generate_many(count: usize) -> Vec<String> {
    let mut bytes = vec![0u8; count * 16];
    let random = getrandom::fill(&mut bytes).is_ok();
    bytes
        .chunks_exact(16)
        .map(|chunk| hex_id(chunk.try_into().expect("16-byte chunks"), random))
        .collect()
}

fn hex_id(mut bytes: [u8; 16], random: bool) -> String {
    // Without randomness an id can still be unique enough for tracing: fall back to a counter.
    if !random {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // The digits written as bytes, then one string: a `format!` per byte cost sixteen
    // allocations, and pushing `char`s encodes each as UTF-8 with a capacity check.
    let mut digits = [0u8; 32];
    for (pair, byte) in digits.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    // ASCII is UTF-8, so the error arm cannot run; unlike `expect`, it formats no error (whose
    // `Debug` would be linked into every worker).
    std::str::from_utf8(&digits)
        .map_or_else(|_| unreachable!("hex digits are ASCII"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_bytes_in_lowercase_hex() {
        let bytes = [
            0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76,
            0x54, 0x3f,
        ];
        assert_eq!(hex_id(bytes, true), "000123456789abcdeffedcba9876543f");
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(is_valid(&a), "{a}");
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "lowercase hex: {a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn ids_generated_together_are_valid_and_distinct() {
        let ids = generate_many(50);
        assert_eq!(ids.len(), 50);
        assert!(
            ids.iter().all(|id| is_valid(id) && id.len() == 32),
            "{ids:?}"
        );
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 50);
        assert!(generate_many(0).is_empty());
    }

    #[test]
    fn ids_with_unsafe_characters_are_rejected() {
        assert!(is_valid("req-123_abc.def:1"));
        assert!(!is_valid(""));
        assert!(!is_valid("a b"));
        assert!(!is_valid("a\nb"));
        assert!(!is_valid(&"a".repeat(129)));
    }
}
