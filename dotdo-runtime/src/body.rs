//! Request bodies read with a bound: a declared `Content-Length` over the limit is refused before
//! a byte is read, and a body without one (chunked) is read through a counter that stops at the
//! limit, so a worker's memory holds at most the limit whatever a client sends.

use crate::{Error, ErrorKind};

/// The 413 for a body of `size` bytes (at least) against `max`.
pub fn too_large(size: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::PayloadTooLarge,
        format!("the body is over {max} bytes (at least {size}); the limit is {max} bytes"),
    )
}

/// Refuses a declared length (the request's `Content-Length`, as
/// [`Context::header_bytes`](crate::Context::header_bytes) gives it) over `max` (413) and a
/// malformed one (400), before reading.
pub fn check_content_length(declared: Option<&[u8]>, max: usize) -> Result<(), Error> {
    let Some(declared) = declared else {
        return Ok(());
    };
    let declared = crate::wire::header_text(declared)
        .and_then(|text| text.trim().parse::<u64>().ok())
        .ok_or_else(|| Error::bad_request("Content-Length is not a number"))?;
    if declared > max as u64 {
        return Err(too_large(
            usize::try_from(declared).unwrap_or(usize::MAX),
            max,
        ));
    }
    Ok(())
}

/// A body being collected chunk by chunk, refused as soon as it passes its limit.
pub struct LimitedBody {
    max: Option<usize>,
    bytes: Vec<u8>,
}

impl LimitedBody {
    /// Collects at most `max` bytes (`None`: no limit beyond the platform's).
    pub fn new(max: Option<usize>) -> Self {
        LimitedBody {
            max,
            bytes: Vec::new(),
        }
    }

    /// Adds a chunk; past the limit, the 413 to answer (nothing more should be read).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let size = self.bytes.len() + chunk.len();
        if let Some(max) = self.max.filter(|max| size > *max) {
            return Err(too_large(size, max));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A body that could not be read: the client went away or sent a broken stream. Never an empty
/// body, which a handler would take for a real one.
pub fn read_error(detail: impl std::fmt::Display) -> Error {
    Error::bad_request(format!("the request body could not be read: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let error = check_content_length(Some("1048577".as_bytes()), 1 << 20).unwrap_err();
        assert_eq!(error.http_status(), 413);
        assert!(check_content_length(Some("1048576".as_bytes()), 1 << 20).is_ok());
        assert!(
            check_content_length(None, 1).is_ok(),
            "chunked: counted while read"
        );
        assert_eq!(
            check_content_length(Some("lots".as_bytes()), 1)
                .unwrap_err()
                .http_status(),
            400
        );
        assert_eq!(
            check_content_length(Some("99999999999999999999999".as_bytes()), 1)
                .unwrap_err()
                .http_status(),
            400
        );
    }

    #[test]
    fn a_body_is_refused_at_the_chunk_that_passes_the_limit() {
        let mut body = LimitedBody::new(Some(10));
        body.push(b"0123").unwrap();
        body.push(b"456789").unwrap();
        let error = body.push(b"x").unwrap_err();
        assert_eq!(error.http_status(), 413);
        assert!(
            error.message().contains("the limit is 10 bytes"),
            "{}",
            error.message()
        );
        let mut unlimited = LimitedBody::new(None);
        unlimited.push(&[0; 4096]).unwrap();
        assert_eq!(unlimited.into_bytes().len(), 4096);
    }
}
