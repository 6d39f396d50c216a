//! Decoding a `T` from a parsed [`Value`], naming where in it the first error is.
//!
//! serde_json's own `Value` deserializer says what is wrong but not where, and
//! `serde_path_to_error`, which adds the where to any deserializer, wraps every visitor, seed and
//! access of every type it decodes: a second copy of each argument type's decoding in every
//! worker (19 KB of the queue service's wasm). This deserializer reads a `Value` as serde_json's
//! does — the same values accepted but for a struct from an array, the same messages — and keeps
//! the path itself, as a chain of borrowed segments on the stack, written out only when
//! something fails.
//!
//! Text as HTTP carries it (path segments, query parameters, headers, cookies, form fields) is
//! read by the same deserializer as strings that also spell numbers and booleans
//! ([`Strings::Text`]), so each argument type's decoding is compiled once, not once for JSON
//! and again for text.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Number, Value};

type Error = DecodeError;

/// What went wrong while decoding, worded as serde_json words it. Its own type rather than
/// serde_json's `Error`, whose "invalid type" and "invalid value" describe what was found through
/// serde's `Unexpected` display: that display formats floats with Rust's own float formatting,
/// which then sits in every worker (21 KB of the queue service's wasm, 10 KiB gzipped), though
/// serde_json itself writes floats with `zmij`, as this does.
#[derive(Debug)]
pub(crate) struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        DecodeError(format!(
            "invalid type: {}, expected {expected}",
            Found(unexpected)
        ))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        DecodeError(format!(
            "invalid value: {}, expected {expected}",
            Found(unexpected)
        ))
    }
}

/// What a value turned out to be, in serde_json's words (serde's, but `null` for the unit
/// value and floats written as serde_json writes them).
struct Found<'a>(Unexpected<'a>);

impl fmt::Display for Found<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Bool(flag) => write!(formatter, "boolean `{flag}`"),
            Unexpected::Unsigned(number) => write!(formatter, "integer `{number}`"),
            Unexpected::Signed(number) => write!(formatter, "integer `{number}`"),
            Unexpected::Float(number) => write!(
                formatter,
                "floating point `{}`",
                zmij::Buffer::new().format(number)
            ),
            Unexpected::Char(character) => write!(formatter, "character `{character}`"),
            Unexpected::Str(text) => write!(formatter, "string {text:?}"),
            Unexpected::Bytes(_) => formatter.write_str("byte array"),
            Unexpected::Unit => formatter.write_str("null"),
            Unexpected::Option => formatter.write_str("Option value"),
            Unexpected::NewtypeStruct => formatter.write_str("newtype struct"),
            Unexpected::Seq => formatter.write_str("sequence"),
            Unexpected::Map => formatter.write_str("map"),
            Unexpected::Enum => formatter.write_str("enum"),
            Unexpected::UnitVariant => formatter.write_str("unit variant"),
            Unexpected::NewtypeVariant => formatter.write_str("newtype variant"),
            Unexpected::TupleVariant => formatter.write_str("tuple variant"),
            Unexpected::StructVariant => formatter.write_str("struct variant"),
            Unexpected::Other(other) => formatter.write_str(other),
        }
    }
}

/// A JSON number to `visitor`, as serde_json's `Number` gives it, with this module's errors.
fn visit_number<'de, V: Visitor<'de>>(number: &Number, visitor: V) -> Result<V::Value, Error> {
    if let Some(unsigned) = number.as_u64() {
        visitor.visit_u64(unsigned)
    } else if let Some(signed) = number.as_i64() {
        visitor.visit_i64(signed)
    } else {
        visitor.visit_f64(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// Why a value did not decode, and where in it: `path` as `serde_path_to_error` writes paths
/// (`.` for the value itself, `items[2].name` inside it).
#[derive(Debug)]
pub struct ValueError {
    path: String,
    error: serde_json::Error,
}

impl ValueError {
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the path.
    pub fn inner(&self) -> &serde_json::Error {
        &self.error
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path == "." {
            write!(formatter, "{}", self.error)
        } else {
            write!(formatter, "at `{}`: {}", self.path, self.error)
        }
    }
}

impl std::error::Error for ValueError {}

/// `value` as a `T`, or what is wrong with it and where.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    decode(value, Strings::Json)
}

/// How a value's strings read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strings {
    /// JSON's strings: text, and nothing else.
    Json,
    /// As text that HTTP carries (a path segment, query parameter, header, cookie or form
    /// field): a string also spells a number (`"42"`, as JSON writes numbers) or a boolean
    /// (`"true"`), and an array is the values one name was given, in the order sent
    /// (`?tag=a&tag=b`), which a sequence takes whole and anything else takes the last of; one
    /// value is a sequence of one. An object is a form's fields, each a string or such an array.
    Text,
}

/// `value` as a `T`, its strings read as `strings` says: the one decoding of each type.
pub(crate) fn decode<T: DeserializeOwned>(value: Value, strings: Strings) -> Result<T, ValueError> {
    let track = Track::default();
    let decoded = T::deserialize(Tracked {
        value,
        place: Place {
            at: &Segment::Root,
            track: &track,
            text: strings == Strings::Text,
        },
    });
    decoded.map_err(|error| track.into_error(error))
}

/// Where a value is inside the one being decoded.
enum Segment<'a> {
    Root,
    Member {
        parent: &'a Segment<'a>,
        name: &'a str,
    },
    Element {
        parent: &'a Segment<'a>,
        index: usize,
    },
}

impl Segment<'_> {
    fn write(&self, path: &mut String) {
        match self {
            Segment::Root => {}
            Segment::Member { parent, name } => {
                parent.write(path);
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            Segment::Element { parent, index } => {
                parent.write(path);
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
}

/// The path of the first error, which is the innermost: each level records its own path as an
/// error passes out through it, and only the first record is kept.
#[derive(Default)]
struct Track {
    path: RefCell<Option<String>>,
}

impl Track {
    fn into_error(self, error: Error) -> ValueError {
        ValueError {
            // The value itself (or no level recorded one) is `.`, as serde_path_to_error writes it.
            path: self
                .path
                .into_inner()
                .filter(|path| !path.is_empty())
                .unwrap_or_else(|| ".".to_owned()),
            error: de::Error::custom(error.0),
        }
    }

    fn failed(&self, at: &Segment<'_>, error: Error) -> Error {
        let mut path = self.path.borrow_mut();
        if path.is_none() {
            let mut written = String::new();
            at.write(&mut written);
            *path = Some(written);
        }
        error
    }
}

struct Tracked<'a> {
    value: Value,
    place: Place<'a>,
}

/// Where a value is and how its strings read, handed down to the values inside it.
#[derive(Clone, Copy)]
struct Place<'a> {
    at: &'a Segment<'a>,
    track: &'a Track,
    /// Whether the value is text ([`Strings::Text`]).
    text: bool,
}

impl Tracked<'_> {
    /// Reads the value with `read`, placing an error from it here.
    fn read<T>(self, read: impl FnOnce(Value, Place<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let place = self.place;
        read(self.value, place).map_err(|error| place.failed(error))
    }
}

/// What a deserializer method reads a text value as.
#[derive(Clone, Copy)]
enum Spelled {
    Text,
    Number,
    Bool,
}

impl<'a> Place<'a> {
    /// The place `at`, inside this one.
    fn inside<'b>(self, at: &'b Segment<'b>) -> Place<'b>
    where
        'a: 'b,
    {
        Place { at, ..self }
    }

    /// `error`, placed here.
    fn failed(self, error: Error) -> Error {
        self.track.failed(self.at, error)
    }

    /// The one value that whatever is not a sequence reads, as the JSON value it spells. In
    /// text, an array is one name's values, and the last one sent wins; a number or boolean
    /// is spelled in a string. Not generic: it is called from every type's decoding, once
    /// compiled, and JSON passes through it untouched.
    fn one(
        self,
        value: &mut Value,
        spelled: Spelled,
        expected: &dyn de::Expected,
    ) -> Result<(), Error> {
        if !self.text {
            return Ok(());
        }
        if let Value::Array(values) = value {
            *value = values.pop().unwrap_or(Value::Null);
        }
        let Value::String(text) = value else {
            return Ok(());
        };
        let read = match spelled {
            Spelled::Text => return Ok(()),
            Spelled::Number => spelled_number(text).map(Value::Number),
            Spelled::Bool => match text.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
        };
        match read {
            Some(read) => {
                *value = read;
                Ok(())
            }
            None => Err(de::Error::invalid_value(Unexpected::Str(text), expected)),
        }
    }

    /// The value a sequence reads: in text, a name sent once is a sequence of that one value.
    fn elements(self, value: Value) -> Value {
        match value {
            Value::String(one) if self.text => Value::Array(vec![Value::String(one)]),
            value => value,
        }
    }
}

/// A number spelled in text as JSON writes numbers (`42`, `-1.5`, `1e3`), read by the JSON
/// parser every worker has: Rust's own float parser would add its tables (14 KiB of a
/// worker's gzipped wasm).
fn spelled_number(spelled: &str) -> Option<serde_json::Number> {
    match super::parse(spelled) {
        Ok(Value::Number(number)) => Some(number),
        _ => None,
    }
}

/// Each method reads the kinds of value its type can be and calls only the visitor methods
/// for those, as serde_json's deserializer does: forwarding all of them to `deserialize_any`
/// would compile every `visit_*` of every type.
/// All but `deserialize_seq` read one value: the last of a name's values, in text.
macro_rules! read_as {
    ($($method:ident)*: $spelled:ident; $visitor:ident, $value:ident, $place:ident => $arms:tt) => {
        $( read_as!(@one $method, $spelled, $visitor, $value, $place, $arms); )*
    };
    (@one $method:ident, $spelled:ident, $visitor:ident, $value:ident, $place:ident, { $($arm:tt)* }) => {
        fn $method<V: Visitor<'de>>(self, $visitor: V) -> Result<V::Value, Error> {
            self.read(|mut $value, $place| {
                $place.one(&mut $value, Spelled::$spelled, &$visitor)?;
                match $value {
                    $($arm)*
                    other => Err(invalid_type(&other, &$visitor)),
                }
            })
        }
    };
}

impl<'de> de::Deserializer<'de> for Tracked<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.read(|mut value, place| {
            place.one(&mut value, Spelled::Text, &visitor)?;
            match value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(flag) => visitor.visit_bool(flag),
                Value::Number(number) => visit_number(&number, visitor),
                Value::String(text) => visitor.visit_string(text),
                Value::Array(elements) => visit_elements(elements, place, visitor),
                Value::Object(members) => visit_members(members, place, visitor),
            }
        })
    }

    read_as! { deserialize_bool: Bool; visitor, value, place => {
        Value::Bool(flag) => visitor.visit_bool(flag),
    } }

    read_as! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64: Number; visitor, value, place => {
            Value::Number(number) => visit_number(&number, visitor),
        }
    }

    read_as! {
        deserialize_char deserialize_str deserialize_string deserialize_identifier:
        Text; visitor, value, place => {
            Value::String(text) => visitor.visit_string(text),
        }
    }

    read_as! { deserialize_bytes deserialize_byte_buf: Text; visitor, value, place => {
        Value::String(text) => visitor.visit_string(text),
        Value::Array(elements) => visit_elements(elements, place, visitor),
    } }

    read_as! { deserialize_unit: Text; visitor, value, place => {
        Value::Null => visitor.visit_unit(),
    } }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.read(|value, place| match place.elements(value) {
            Value::Array(elements) => visit_elements(elements, place, visitor),
            other => Err(invalid_type(&other, &visitor)),
        })
    }

    read_as! { deserialize_map: Text; visitor, value, place => {
        Value::Object(members) => visit_members(members, place, visitor),
    } }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    /// A struct is an object, as its schema says. serde_json also takes an array of its fields
    /// in order, which no schema of ours describes; refusing it spares every struct's array
    /// decoding (2 KiB of the email service's gzipped wasm).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// Text is never null: a name sent with an empty value (`?cursor=`) is `Some`, and its
    /// value read like any other.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let place = self.place;
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|error| place.failed(error))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let place = self.place;
        visitor
            .visit_newtype_struct(self)
            .map_err(|error| place.failed(error))
    }

    /// An enum is its variant's name, or an object of one member: the variant's name and its
    /// content, as serde_json writes enums.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.read(|mut value, place| {
            place.one(&mut value, Spelled::Text, &visitor)?;
            let (name, content) = match value {
                Value::String(name) => (name, None),
                Value::Object(members) if members.len() == 1 => {
                    let (name, content) = members.into_iter().next().expect("one member");
                    (name, Some(content))
                }
                Value::Object(_) => {
                    return Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"map with a single key",
                    ));
                }
                other => return Err(invalid_type(&other, &"string or map")),
            };
            visitor.visit_enum(Variant {
                name,
                content,
                place,
            })
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        drop(self.value);
        visitor.visit_unit()
    }
}

/// "invalid type", worded as serde_json words it.
fn invalid_type(value: &Value, expected: &dyn de::Expected) -> Error {
    de::Error::invalid_type(unexpected(value), expected)
}

/// The kind of `value`, for an error's "invalid type" (serde_json words it the same).
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(flag) => Unexpected::Bool(*flag),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => Unexpected::Unsigned(unsigned),
            (None, Some(signed)) => Unexpected::Signed(signed),
            (None, None) => Unexpected::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => Unexpected::Str(text),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn visit_elements<'de, V: Visitor<'de>>(
    elements: Vec<Value>,
    place: Place<'_>,
    visitor: V,
) -> Result<V::Value, Error> {
    let length = elements.len();
    let mut access = Elements {
        elements: elements.into_iter(),
        index: 0,
        place,
    };
    let decoded = visitor.visit_seq(&mut access)?;
    match access.elements.len() {
        0 => Ok(decoded),
        _ => Err(de::Error::invalid_length(
            length,
            &"fewer elements in array",
        )),
    }
}

fn visit_members<'de, V: Visitor<'de>>(
    members: Map<String, Value>,
    place: Place<'_>,
    visitor: V,
) -> Result<V::Value, Error> {
    let length = members.len();
    let mut access = Members {
        members: members.into_iter(),
        pending: None,
        place,
    };
    let decoded = visitor.visit_map(&mut access)?;
    match access.members.len() {
        0 => Ok(decoded),
        _ => Err(de::Error::invalid_length(length, &"fewer elements in map")),
    }
}

struct Elements<'a> {
    elements: std::vec::IntoIter<Value>,
    index: usize,
    place: Place<'a>,
}

impl<'de> SeqAccess<'de> for Elements<'_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some(value) = self.elements.next() else {
            return Ok(None);
        };
        let at = Segment::Element {
            parent: self.place.at,
            index: self.index,
        };
        self.index += 1;
        decode_at(seed, value, self.place.inside(&at)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.elements.len())
    }
}

struct Members<'a> {
    members: serde_json::map::IntoIter,
    /// The member whose name was just read, until its value is.
    pending: Option<(String, Value)>,
    place: Place<'a>,
}

impl<'de> MapAccess<'de> for Members<'_> {
    type Error = Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((name, value)) = self.members.next() else {
            return Ok(None);
        };
        let key = seed.deserialize(MemberName(&name)).map_err(|error| {
            let at = Segment::Member {
                parent: self.place.at,
                name: &name,
            };
            self.place.inside(&at).failed(error)
        })?;
        self.pending = Some((name, value));
        Ok(Some(key))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let Some((name, value)) = self.pending.take() else {
            return Err(de::Error::custom("value is missing"));
        };
        let at = Segment::Member {
            parent: self.place.at,
            name: &name,
        };
        decode_at(seed, value, self.place.inside(&at))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// Decodes `value` at `at`; an error that arose outside any deserializer call (a type's own
/// check after reading) is placed there too.
fn decode_at<'de, S: DeserializeSeed<'de>>(
    seed: S,
    value: Value,
    place: Place<'_>,
) -> Result<S::Value, Error> {
    seed.deserialize(Tracked { value, place })
        .map_err(|error| place.failed(error))
}

/// An enum's variant: its name, then its content, at a path that names the variant (as
/// `serde_path_to_error` does).
struct Variant<'a> {
    name: String,
    content: Option<Value>,
    place: Place<'a>,
}

impl<'de, 'a> EnumAccess<'de> for Variant<'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let variant = seed.deserialize(MemberName(&self.name))?;
        Ok((variant, self))
    }
}

impl<'a> Variant<'a> {
    /// The content of a variant that must have one (a unit variant's name alone is an error),
    /// and its name for the path.
    fn required(self, expected: &str) -> Result<(Value, String, Place<'a>), Error> {
        match self.content {
            Some(value) => Ok((value, self.name, self.place)),
            None => {
                let error = de::Error::invalid_type(Unexpected::UnitVariant, &expected);
                let at = Segment::Member {
                    parent: self.place.at,
                    name: &self.name,
                };
                Err(self.place.inside(&at).failed(error))
            }
        }
    }
}

impl<'de> VariantAccess<'de> for Variant<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.content {
            None => Ok(()),
            Some(value) => {
                let at = Segment::Member {
                    parent: self.place.at,
                    name: &self.name,
                };
                decode_at(PhantomData::<()>, value, self.place.inside(&at))
            }
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        let (value, name, parent) = self.required("newtype variant")?;
        let at = Segment::Member {
            parent: parent.at,
            name: &name,
        };
        decode_at(seed, value, parent.inside(&at))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let (value, name, parent) = self.required("tuple variant")?;
        let at = Segment::Member {
            parent: parent.at,
            name: &name,
        };
        match value {
            Value::Array(elements) if elements.is_empty() => visitor.visit_unit(),
            Value::Array(elements) => visit_elements(elements, parent.inside(&at), visitor),
            other => Err(invalid_type(&other, &"tuple variant")),
        }
        .map_err(|error| parent.inside(&at).failed(error))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (value, name, parent) = self.required("struct variant")?;
        let at = Segment::Member {
            parent: parent.at,
            name: &name,
        };
        match value {
            Value::Object(members) => visit_members(members, parent.inside(&at), visitor),
            other => Err(invalid_type(&other, &"struct variant")),
        }
        .map_err(|error| parent.inside(&at).failed(error))
    }
}

/// An object member's name (or an enum variant's), read as serde_json reads map keys: as text,
/// or as the number or boolean it spells when the key's type is one.
struct MemberName<'a>(&'a str);

impl MemberName<'_> {
    fn not_a<T>(&self, visitor: &dyn de::Expected) -> Result<T, Error> {
        Err(de::Error::invalid_type(Unexpected::Str(self.0), visitor))
    }
}

macro_rules! integer_names {
    ($($method:ident: $parse:ty => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.0.parse::<$parse>() {
                    Ok(number) => visitor.$visit(number),
                    Err(_) => self.not_a(&visitor),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for MemberName<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.0)
    }

    integer_names! {
        deserialize_i8: i64 => visit_i64,
        deserialize_i16: i64 => visit_i64,
        deserialize_i32: i64 => visit_i64,
        deserialize_i64: i64 => visit_i64,
        deserialize_i128: i128 => visit_i128,
        deserialize_u8: u64 => visit_u64,
        deserialize_u16: u64 => visit_u64,
        deserialize_u32: u64 => visit_u64,
        deserialize_u64: u64 => visit_u64,
        deserialize_u128: u128 => visit_u128,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => self.not_a(&visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A name is never null.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        IntoDeserializer::<Error>::into_deserializer(self.0)
            .deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Order {
        id: u32,
        customer: Customer,
        #[serde(default)]
        items: Vec<Item>,
        note: Option<String>,
        #[serde(default)]
        tags: BTreeMap<String, u8>,
        #[serde(default)]
        by_number: BTreeMap<i16, bool>,
        #[serde(default)]
        by_flag: BTreeMap<bool, u8>,
        kind: Kind,
        #[serde(default)]
        pair: Option<(bool, i8)>,
        #[serde(default)]
        status: Option<Status>,
        #[serde(default)]
        even: Option<Even>,
        #[serde(default)]
        event: Option<Event>,
        #[serde(default)]
        either: Option<Either>,
        #[serde(default)]
        unit: Option<Unit>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Customer {
        name: String,
        email: Option<String>,
        #[serde(flatten)]
        extra: BTreeMap<String, Value>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Item {
        sku: String,
        quantity: u16,
        price: f64,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Gift { message: String },
        Split(u8, u8),
        Ref(String),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Status {
        Open,
        Closed,
    }

    /// A type whose own check fails after it read its value.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(try_from = "u32")]
    struct Even(u32);

    impl TryFrom<u32> for Even {
        type Error = String;
        fn try_from(number: u32) -> Result<Self, String> {
            if number % 2 == 0 {
                Ok(Even(number))
            } else {
                Err(format!("{number} is odd"))
            }
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Event {
        Created { at: u64 },
        Deleted,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u8),
        Text(String),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Unit;

    fn good() -> Value {
        json!({
            "id": 7,
            "customer": {"name": "Ada", "email": null, "vip": true},
            "items": [{"sku": "a", "quantity": 2, "price": 1.5}, {"sku": "b", "quantity": 1, "price": 3}],
            "note": "leave at the door",
            "tags": {"x": 1},
            "by_number": {"-3": true, "12": false},
            "by_flag": {"true": 1},
            "kind": {"gift": {"message": "hi"}},
            "pair": [true, -1],
            "status": "open",
            "even": 4,
            "event": {"type": "created", "at": 5},
            "either": "text",
            "unit": null,
        })
    }

    /// `value` decoded here and by `serde_path_to_error` over serde_json's deserializer: the
    /// same value, or the same path and message.
    fn decodes_as_serde_path_to_error_does<T>(value: Value)
    where
        T: DeserializeOwned + PartialEq + fmt::Debug,
    {
        let ours = from_value::<T>(value.clone());
        let theirs = serde_path_to_error::deserialize::<_, T>(value.clone());
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{value}"),
            (Err(ours), Err(theirs)) => {
                assert_eq!(ours.path(), theirs.path().to_string(), "{value}");
                assert_eq!(
                    ours.inner().to_string(),
                    theirs.inner().to_string(),
                    "{value}"
                );
            }
            (ours, theirs) => panic!("{value}: ours {ours:?}, theirs {theirs:?}"),
        }
    }

    fn with(pointer: &str, replacement: Value) -> Value {
        let mut value = good();
        *value.pointer_mut(pointer).unwrap() = replacement;
        value
    }

    #[test]
    fn good_values_decode_as_serde_json_decodes_them() {
        decodes_as_serde_path_to_error_does::<Order>(good());
        for kind in [
            json!("plain"),
            json!({"split": [1, 2]}),
            json!({"ref": "r"}),
            json!({"plain": null}),
        ] {
            decodes_as_serde_path_to_error_does::<Order>(with("/kind", kind));
        }
        assert_eq!(from_value::<Order>(good()).unwrap().even, Some(Even(4)));
        decodes_as_serde_path_to_error_does::<Vec<u8>>(json!([1, 2]));
        decodes_as_serde_path_to_error_does::<Option<u8>>(json!(null));
        decodes_as_serde_path_to_error_does::<()>(json!(null));
        decodes_as_serde_path_to_error_does::<(u8, String)>(json!([1, "a"]));
    }

    #[test]
    fn errors_name_the_same_place_and_say_the_same_as_serde_path_to_error() {
        let cases = [
            ("/id", json!("seven")),
            ("/id", json!(-1)),
            ("/id", json!(1.5)),
            ("/id", json!(5_000_000_000_u64)),
            ("/customer", json!("Ada")),
            ("/customer/name", json!(5)),
            ("/customer/email", json!([])),
            ("/items", json!({})),
            ("/items/1/quantity", json!(70_000)),
            ("/items/1/price", json!("3")),
            ("/items/0", json!({"sku": "a", "quantity": 2})),
            ("/note", json!(true)),
            ("/tags/x", json!(300)),
            ("/by_number", json!({"1": "yes"})),
            ("/kind", json!("gift")),
            ("/kind", json!("parcel")),
            ("/kind", json!({"gift": {"message": 5}})),
            ("/kind", json!({"gift": "hi"})),
            ("/kind", json!({"split": [1]})),
            ("/kind", json!({"split": [1, 2, 3]})),
            ("/kind", json!({"split": 1})),
            ("/kind", json!({"ref": 5})),
            ("/kind", json!({"gift": {"message": "a"}, "ref": "b"})),
            ("/kind", json!({})),
            ("/kind", json!(5)),
            ("/kind", json!({"plain": 1})),
            ("/pair", json!([true])),
            ("/pair", json!([true, 1, 2])),
            ("/pair", json!([1, 1])),
            ("/status", json!("lost")),
            ("/status", json!(1)),
            ("/even", json!(3)),
            ("/event", json!({"type": "moved"})),
            ("/event", json!({"type": "created", "at": "now"})),
            ("/event", json!({"at": 1})),
            ("/either", json!([])),
            ("/unit", json!(1)),
        ];
        for (pointer, replacement) in cases {
            decodes_as_serde_path_to_error_does::<Order>(with(pointer, replacement));
        }
        let mut unknown = good();
        unknown["surprise"] = json!(1);
        decodes_as_serde_path_to_error_does::<Order>(unknown);
        let mut missing = good();
        missing.as_object_mut().unwrap().remove("kind");
        decodes_as_serde_path_to_error_does::<Order>(missing);
        decodes_as_serde_path_to_error_does::<Order>(json!(null));
        decodes_as_serde_path_to_error_does::<Vec<Item>>(json!([{"sku": 1}]));
        decodes_as_serde_path_to_error_does::<Vec<Vec<u8>>>(json!([[1], [2, -2]]));
    }

    /// Where serde_path_to_error cannot name a key that is not a string (`?`), this names it,
    /// and says what it expected as for any other value.
    #[test]
    fn a_key_that_is_not_the_number_or_boolean_its_type_wants_is_named() {
        let cases = [
            (
                "/by_number",
                json!({"twelve": true}),
                "by_number.twelve",
                "invalid type: string \"twelve\", expected i16",
            ),
            (
                "/by_number",
                json!({"40000": true}),
                "by_number.40000",
                "invalid value: integer `40000`, expected i16",
            ),
            (
                "/by_flag",
                json!({"maybe": 1}),
                "by_flag.maybe",
                "invalid type: string \"maybe\", expected a boolean",
            ),
        ];
        for (pointer, replacement, path, message) in cases {
            let error = from_value::<Order>(with(pointer, replacement)).unwrap_err();
            assert_eq!(
                (error.path(), error.inner().to_string().as_str()),
                (path, message)
            );
        }
    }

    /// serde_json takes a struct from an array of its fields; a schema says object, and so
    /// does this.
    #[test]
    fn a_struct_is_an_object_not_an_array() {
        assert!(serde_json::from_value::<Item>(json!(["a", 1, 2.5])).is_ok());
        let error = from_value::<Item>(json!(["a", 1, 2.5])).unwrap_err();
        assert_eq!(error.path(), ".");
        assert_eq!(
            error.inner().to_string(),
            "invalid type: sequence, expected struct Item"
        );
        let nested = from_value::<Order>(with("/items/1", json!(["b", 1, 3]))).unwrap_err();
        assert_eq!(nested.path(), "items[1]");
        let empty = from_value::<Order>(json!([])).unwrap_err();
        assert_eq!(
            empty.inner().to_string(),
            "invalid type: sequence, expected struct Order"
        );
        let variant = from_value::<Kind>(json!({"gift": ["hi"]})).unwrap_err();
        assert_eq!(variant.path(), "gift");
    }

    #[test]
    fn the_path_is_written_where_the_error_is() {
        let error = from_value::<Order>(with("/items/1/price", json!("3"))).unwrap_err();
        assert_eq!(error.path(), "items[1].price");
        assert_eq!(
            error.to_string(),
            "at `items[1].price`: invalid type: string \"3\", expected f64"
        );
        let at_the_top = from_value::<u8>(json!("x")).unwrap_err();
        assert_eq!(at_the_top.path(), ".");
        assert_eq!(
            at_the_top.to_string(),
            "invalid type: string \"x\", expected u8"
        );
    }

    /// One value as a string, several as an array: as the arguments hand text over.
    fn text<T: DeserializeOwned>(values: &[&str]) -> Result<T, ValueError> {
        match values {
            [one] => decode(json!(one), Strings::Text),
            many => decode(json!(many), Strings::Text),
        }
    }

    #[test]
    fn text_spells_numbers_and_booleans_and_a_name_given_twice_fills_a_sequence() {
        assert_eq!(text::<Vec<u32>>(&["1", "2", "3"]).unwrap(), [1, 2, 3]);
        assert_eq!(text::<Vec<String>>(&["a"]).unwrap(), ["a"]);
        assert_eq!(
            text::<u32>(&["1", "2"]).unwrap(),
            2,
            "a scalar takes the last"
        );
        assert_eq!(text::<Status>(&["closed", "open"]).unwrap(), Status::Open);
        assert_eq!(text::<(u8, bool)>(&["7", "true"]).unwrap(), (7, true));
        assert_eq!(text::<f64>(&["-1.5"]).unwrap(), -1.5);
        assert_eq!(text::<i8>(&["-3"]).unwrap(), -3);
        assert_eq!(
            text::<Value>(&["5"]).unwrap(),
            json!("5"),
            "text is text to `any`"
        );
        assert_eq!(
            text::<Option<String>>(&[""]).unwrap().as_deref(),
            Some(""),
            "a name sent empty is present"
        );
        let cases: [(Result<(), ValueError>, &str, &str); 5] = [
            (
                text::<Option<u32>>(&[""]).map(drop),
                ".",
                "invalid value: string \"\", expected u32",
            ),
            (
                text::<Vec<u32>>(&["1", "x"]).map(drop),
                "[1]",
                "invalid value: string \"x\", expected u32",
            ),
            (
                text::<u8>(&["300"]).map(drop),
                ".",
                "invalid value: integer `300`, expected u8",
            ),
            (
                text::<bool>(&["yes"]).map(drop),
                ".",
                "invalid value: string \"yes\", expected a boolean",
            ),
            (
                text::<Item>(&["a"]).map(drop),
                ".",
                "invalid type: string \"a\", expected struct Item",
            ),
        ];
        for (decoded, path, message) in cases {
            let error = decoded.unwrap_err();
            assert_eq!(
                (error.path(), error.inner().to_string().as_str()),
                (path, message)
            );
        }
        assert!(
            from_value::<u32>(json!("5")).is_err(),
            "a JSON string is not a number"
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
    fn form_fields_fill_a_struct_and_an_error_names_its_field() {
        let form = json!({
            "email": "a@b.c",
            "interests": ["rust", "workers"],
            "newsletter": "true",
        });
        let expected = Signup {
            email: "a@b.c".into(),
            age: None,
            interests: vec!["rust".into(), "workers".into()],
            newsletter: true,
        };
        assert_eq!(decode::<Signup>(form, Strings::Text).unwrap(), expected);
        let missing = decode::<Signup>(json!({"email": "x"}), Strings::Text).unwrap_err();
        assert_eq!(missing.path(), ".");
        assert_eq!(missing.inner().to_string(), "missing field `newsletter`");
        let wrong = json!({"email": "x", "newsletter": "true", "age": ["9", "old"]});
        let error = decode::<Signup>(wrong, Strings::Text).unwrap_err();
        assert_eq!(error.path(), "age");
        let map = decode::<BTreeMap<String, u8>>(json!({"a": "1"}), Strings::Text).unwrap();
        assert_eq!(map["a"], 1);
    }
}
