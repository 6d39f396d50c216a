//! Deserializers for what HTTP carries as text and bytes rather than JSON: the values of a
//! repeated query parameter or header (`?tag=a&tag=b` into a `Vec`, the last one into a
//! scalar), the fields of a form (into a struct), and a raw body (into `Vec<u8>` or `String`).
//! Scalars are parsed by `serde_plain`, as single values always were.

use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

type Error = serde_plain::Error;

/// All the values one name was given, in order. The last is held apart: most names have one
/// value, and then no list is allocated.
pub struct TextValues<'v> {
    earlier: Vec<&'v str>,
    last: Option<&'v str>,
}

impl<'v> TextValues<'v> {
    pub fn new(mut values: Vec<&'v str>) -> Self {
        let last = values.pop();
        TextValues {
            earlier: values,
            last,
        }
    }

    /// `last`, after the values the name was given before it.
    pub fn after(earlier: Vec<&'v str>, last: &'v str) -> Self {
        TextValues {
            earlier,
            last: Some(last),
        }
    }

    fn last(&self) -> serde_plain::Deserializer<'v> {
        serde_plain::Deserializer::new(self.last.unwrap_or_default())
    }
}

/// One value as an element of a sequence.
struct Plain<'v>(&'v str);

impl<'de, 'v: 'de> IntoDeserializer<'de, Error> for Plain<'v> {
    type Deserializer = serde_plain::Deserializer<'de>;

    fn into_deserializer(self) -> Self::Deserializer {
        serde_plain::Deserializer::new(self.0)
    }
}

macro_rules! forward_to_last {
    ($($method:ident),*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                de::Deserializer::$method(self.last(), visitor)
            }
        )*
    };
}

impl<'de, 'v: 'de> de::Deserializer<'de> for TextValues<'v> {
    type Error = Error;

    forward_to_last!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
        deserialize_map
    );

    /// Present is `Some`, an empty value (`?cursor=`) included: it is parsed like any other,
    /// so `?limit=` is refused as the number it is not, as the document says.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let values = self.earlier.into_iter().chain(self.last);
        SeqDeserializer::new(values.map(Plain)).deserialize_seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.last().deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.last().deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.last().deserialize_enum(name, variants, visitor)
    }
}

/// The fields of a form (or a query string), each with all its values, as a map or a struct.
pub struct Fields<'v> {
    fields: Vec<(&'v str, Vec<&'v str>)>,
}

impl<'v> Fields<'v> {
    /// Groups `pairs` by name, keeping each name's values in order.
    pub fn new(pairs: impl IntoIterator<Item = (&'v str, &'v str)>) -> Self {
        let mut fields: Vec<(&str, Vec<&str>)> = Vec::new();
        for (name, value) in pairs {
            match fields.iter_mut().find(|(known, _)| *known == name) {
                Some((_, values)) => values.push(value),
                None => fields.push((name, vec![value])),
            }
        }
        Fields { fields }
    }
}

struct FieldsAccess<'v> {
    fields: std::vec::IntoIter<(&'v str, Vec<&'v str>)>,
    pending: Option<Vec<&'v str>>,
}

impl<'de, 'v: 'de> MapAccess<'de> for FieldsAccess<'v> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, values)) = self.fields.next() else {
            return Ok(None);
        };
        self.pending = Some(values);
        seed.deserialize(serde_plain::Deserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let values = self.pending.take().unwrap_or_default();
        seed.deserialize(TextValues::new(values))
    }
}

impl<'de, 'v: 'de> de::Deserializer<'de> for Fields<'v> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(FieldsAccess {
            fields: self.fields.into_iter(),
            pending: None,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// No value at all: an empty sequence for a `Vec` (a query key or header sent zero times),
/// an error for anything else.
pub struct NoValues;

impl<'de> de::Deserializer<'de> for NoValues {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("no value"))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        SeqDeserializer::new(std::iter::empty::<Plain<'de>>()).deserialize_seq(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A raw body: bytes for `Vec<u8>` (and byte buffers), UTF-8 text for `String`.
pub struct Body<'v>(pub &'v [u8]);

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
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    fn values<T: for<'de> Deserialize<'de>>(values: &[&str]) -> Result<T, Error> {
        T::deserialize(TextValues::new(values.to_vec()))
    }

    #[test]
    fn repeated_values_fill_a_sequence_and_the_last_fills_a_scalar() {
        assert_eq!(values::<Vec<u32>>(&["1", "2", "3"]).unwrap(), [1, 2, 3]);
        assert_eq!(values::<Vec<String>>(&["a"]).unwrap(), ["a"]);
        assert_eq!(values::<u32>(&["1", "2"]).unwrap(), 2);
        assert_eq!(
            values::<Option<String>>(&[""]).unwrap().as_deref(),
            Some("")
        );
        assert!(
            values::<Option<u32>>(&[""]).is_err(),
            "an empty number is not a number"
        );
        assert_eq!(
            values::<Option<String>>(&["a"]).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(values::<(u8, bool)>(&["7", "true"]).unwrap(), (7, true));
        assert!(values::<Vec<u32>>(&["1", "x"]).is_err());
        assert_eq!(
            Vec::<u32>::deserialize(NoValues).unwrap(),
            Vec::<u32>::new()
        );
        assert!(
            String::deserialize(NoValues).is_err(),
            "a missing scalar is not an empty one"
        );
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Signup {
        email: String,
        age: Option<u8>,
        #[serde(default)]
        interests: Vec<String>,
        newsletter: bool,
    }

    #[test]
    fn form_fields_fill_a_struct() {
        let fields = Fields::new([
            ("email", "a@b.c"),
            ("interests", "rust"),
            ("newsletter", "true"),
            ("interests", "workers"),
        ]);
        let signup = Signup::deserialize(fields).unwrap();
        let expected = Signup {
            email: "a@b.c".into(),
            age: None,
            interests: vec!["rust".into(), "workers".into()],
            newsletter: true,
        };
        assert_eq!(signup, expected);
        let error = Signup::deserialize(Fields::new([("email", "x")])).unwrap_err();
        assert!(error.to_string().contains("newsletter"), "{error}");
        let map = BTreeMap::<String, String>::deserialize(Fields::new([("a", "1")])).unwrap();
        assert_eq!(map["a"], "1");
    }

    #[test]
    fn a_raw_body_is_bytes_or_text() {
        let bytes = Vec::<u8>::deserialize(Body(b"\xff\x00ok")).unwrap();
        assert_eq!(bytes, b"\xff\x00ok");
        assert_eq!(String::deserialize(Body(b"hello")).unwrap(), "hello");
        let error = String::deserialize(Body(b"\xff")).unwrap_err();
        assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    }
}
