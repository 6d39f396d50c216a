//! A raw request body as an argument: bytes for `Vec<u8>` (and byte buffers), UTF-8 text for
//! `String`. Every other kind of value an argument takes is read by [`crate::json`]'s
//! deserializer; a body is not turned into a JSON value, which would be a value per byte.

use serde::de::value::SeqDeserializer;
use serde::de::{self, Visitor};
use serde::forward_to_deserialize_any;

use crate::json::DecodeError as Error;

/// A raw body: bytes for `Vec<u8>` (and byte buffers), UTF-8 text for `String`.
pub(crate) struct Body<'v>(pub &'v [u8]);

impl<'de, 'v: 'de> de::Deserializer<'de> for Body<'v> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.0)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        SeqDeserializer::new(self.0.iter().copied()).deserialize_seq(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => visitor.visit_borrowed_str(text),
            Err(_) => Err(de::Error::custom("the body is not valid UTF-8 text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn a_raw_body_is_bytes_or_text() {
        let bytes = Vec::<u8>::deserialize(Body(b"\xff\x00ok")).unwrap();
        assert_eq!(bytes, b"\xff\x00ok");
        assert_eq!(String::deserialize(Body(b"hello")).unwrap(), "hello");
        let error = String::deserialize(Body(b"\xff")).unwrap_err();
        assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    }
}
