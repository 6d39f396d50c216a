//! `multipart/form-data` bodies, parsed by `multer` (axum's parser): text parts fill a route's
//! arguments as a form's fields do, file parts (those with a file name) fill arguments of type
//! [`Upload`]. The whole body is already in memory, read under the route's body limit.

use std::borrow::Cow;

use futures_util::FutureExt;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use crate::Error;

/// A file sent in a `multipart/form-data` request: bind it by naming an argument after its form
/// field (`photo: Upload`; `Option<Upload>` when it may be left out, `Vec<Upload>` for several
/// files under one name). `#[http]` only: JSON-RPC and MCP carry no files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    field: String,
    file_name: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl Upload {
    /// The form field it was sent under.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The file's name as the client gave it: untrusted, never a path to write to as is.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type the client declared for it, if any (a claim, not a check).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// One part of a multipart body.
pub(crate) enum Part {
    Text(String, String),
    File(Upload),
}

/// The parts of a `multipart/form-data` body; a malformed one is a 400 saying what is wrong.
pub(crate) fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, Error> {
    let malformed =
        |error: multer::Error| Error::bad_request(format!("malformed multipart body: {error}"));
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let chunk = multer::bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(chunk)]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    // The body is one chunk already in memory: every step completes at its first poll.
    let mut parts = Vec::new();
    while let Some(field) = ready(multipart.next_field())?.map_err(malformed)? {
        let name = field
            .name()
            .ok_or_else(|| Error::bad_request("a multipart part has no field name"))?
            .to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(ToString::to_string);
        let bytes = ready(field.bytes())?.map_err(malformed)?.to_vec();
        parts.push(match file_name {
            Some(file_name) => Part::File(Upload {
                field: name,
                file_name,
                content_type,
                bytes,
            }),
            None => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::bad_request(format!("the multipart field `{name}` is not UTF-8 text"))
                        .with_field(name.clone())
                })?;
                Part::Text(name, text)
            }
        });
    }
    Ok(parts)
}

fn ready<F: std::future::Future>(future: F) -> Result<F::Output, Error> {
    future
        .now_or_never()
        .ok_or_else(|| Error::internal("a multipart body held in memory was not ready"))
}

const FILE: &str = "a file sent as multipart/form-data";

/// The files bound to one argument, deserialized into `Upload`, `Option<Upload>` or `Vec<Upload>`.
pub(crate) struct Files(pub Vec<Upload>);

impl<'de> Deserializer<'de> for Files {
    type Error = crate::json::DecodeError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0.pop() {
            Some(last) => visitor.visit_map(UploadFields::new(last)),
            None => Err(de::Error::custom("no file was sent")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let files = self.0.into_iter().map(|file| Files(vec![file]));
        visitor.visit_seq(de::value::SeqDeserializer::new(files))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl<'de> de::IntoDeserializer<'de, crate::json::DecodeError> for Files {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// An upload presented as the map its `Deserialize` reads.
struct UploadFields {
    upload: Option<Upload>,
    key: usize,
}

const KEYS: [&str; 4] = ["field", "file_name", "content_type", "bytes"];

impl UploadFields {
    fn new(upload: Upload) -> Self {
        UploadFields {
            upload: Some(upload),
            key: 0,
        }
    }
}

impl<'de> MapAccess<'de> for UploadFields {
    type Error = crate::json::DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match KEYS.get(self.key) {
            Some(key) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let upload = self.upload.as_mut().expect("values follow their keys");
        let key = self.key;
        self.key += 1;
        match key {
            0 => seed.deserialize(de::value::StringDeserializer::new(std::mem::take(
                &mut upload.field,
            ))),
            1 => seed.deserialize(de::value::StringDeserializer::new(std::mem::take(
                &mut upload.file_name,
            ))),
            2 => seed.deserialize(OptionalText(upload.content_type.take())),
            _ => seed.deserialize(de::value::BytesDeserializer::new(&upload.bytes)),
        }
    }
}

struct OptionalText(Option<String>);

impl<'de> Deserializer<'de> for OptionalText {
    type Error = crate::json::DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Some(text) => visitor.visit_some(de::value::StringDeserializer::new(text)),
            None => visitor.visit_none(),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> serde::Deserialize<'de> for Upload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UploadVisitor;

        impl<'de> Visitor<'de> for UploadVisitor {
            type Value = Upload;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str(FILE)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Upload, A::Error> {
                let (mut field, mut file_name, mut content_type, mut bytes) =
                    (None, None, None, None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "field" => field = Some(map.next_value()?),
                        "file_name" => file_name = Some(map.next_value()?),
                        "content_type" => content_type = map.next_value()?,
                        "bytes" => bytes = Some(map.next_value::<Bytes>()?.0),
                        _ => return Err(de::Error::custom(format!("expected {FILE}"))),
                    }
                }
                match (field, file_name, bytes) {
                    (Some(field), Some(file_name), Some(bytes)) => Ok(Upload {
                        field,
                        file_name,
                        content_type,
                        bytes,
                    }),
                    _ => Err(de::Error::custom(format!("expected {FILE}"))),
                }
            }
        }

        deserializer.deserialize_map(UploadVisitor)
    }
}

/// Bytes taken only as bytes, so JSON (an array of numbers) is not mistaken for a file.
struct Bytes(Vec<u8>);

impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = Bytes;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str(FILE)
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(bytes.to_vec()))
            }
        }
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

/// A file part: a binary string in OpenAPI's words.
impl JsonSchema for Upload {
    fn schema_name() -> Cow<'static, str> {
        "Upload".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/octet-stream",
            "description": "A file, sent as a part of a multipart/form-data body"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT_TYPE: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend(b"--XyZ\r\n");
            match file {
                Some(file) => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
                ),
                None => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend(*bytes);
            body.extend(b"\r\n");
        }
        body.extend(b"--XyZ--\r\n");
        body
    }

    #[test]
    fn text_parts_and_files_come_apart() {
        let parts = parse(
            CONTENT_TYPE,
            &body(&[
                ("title", None, b"Holiday"),
                ("photo", Some("a.png"), &[137, 80, 0, 255]),
            ]),
        )
        .unwrap();
        assert!(
            matches!(&parts[0], Part::Text(name, text) if name == "title" && text == "Holiday")
        );
        let Part::File(upload) = &parts[1] else {
            panic!("a file part")
        };
        assert_eq!(upload.field(), "photo");
        assert_eq!(upload.file_name(), "a.png");
        assert_eq!(upload.content_type(), Some("image/png"));
        assert_eq!(upload.bytes(), [137, 80, 0, 255]);
    }

    #[test]
    fn files_deserialize_as_one_an_option_or_several() {
        let file = |name: &str| Upload {
            field: "f".into(),
            file_name: name.into(),
            content_type: None,
            bytes: vec![1, 2],
        };
        let one: Upload = serde::Deserialize::deserialize(Files(vec![file("a")])).unwrap();
        assert_eq!(one, file("a"));
        let some: Option<Upload> = serde::Deserialize::deserialize(Files(vec![file("a")])).unwrap();
        assert_eq!(some, Some(file("a")));
        let all: Vec<Upload> =
            serde::Deserialize::deserialize(Files(vec![file("a"), file("b")])).unwrap();
        assert_eq!(all, [file("a"), file("b")]);
        let text: Result<String, _> = serde::Deserialize::deserialize(Files(vec![file("a")]));
        assert!(text.is_err(), "a file is not text");
    }

    #[test]
    fn json_is_never_taken_for_a_file() {
        let error = serde_json::from_value::<Upload>(serde_json::json!({
            "field": "f", "file_name": "a", "bytes": [1, 2]
        }))
        .unwrap_err();
        assert!(error.to_string().contains(FILE), "{error}");
        assert!(serde_json::from_value::<Upload>(serde_json::json!("aGk=")).is_err());
    }

    #[test]
    fn malformed_bodies_are_400s_that_say_why() {
        let no_boundary = parse("multipart/form-data", b"x").err().unwrap();
        assert_eq!(no_boundary.http_status(), 400);
        assert!(
            no_boundary.to_string().contains("multipart"),
            "{no_boundary}"
        );
        let truncated = parse(
            CONTENT_TYPE,
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
        )
        .err()
        .unwrap();
        assert_eq!(truncated.http_status(), 400, "{truncated}");
        let binary = parse(CONTENT_TYPE, &body(&[("title", None, &[0xff, 0xfe])]))
            .err()
            .unwrap();
        assert!(
            binary.to_string().contains("`title` is not UTF-8"),
            "{binary}"
        );
        let nameless = parse(
            CONTENT_TYPE,
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n",
        );
        assert!(nameless.is_err());
    }
}
