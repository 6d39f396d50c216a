//! Arguments bound by name, whatever interface they arrived on.
//!
//! Every interface turns its input into [`Args`]: HTTP path segments and query parameters (text),
//! a JSON body (whole, or its fields), JSON-RPC `params` (by name or position), MCP `arguments`,
//! a queue message's `data`. Generated code then takes each argument by name with
//! [`Args::take`], so the binding logic and its error messages live here, once.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;
use crate::json::{Strings, ValueError};
use crate::raw_body::Body;

/// Where an argument's value came from; it decides how text is parsed and what an error says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A `:name` or `*name` path segment (percent-decoded text).
    Path,
    /// A query-string parameter (text). Unknown query parameters are ignored.
    Query,
    /// The whole JSON request body.
    Body,
    /// A field of a JSON object (request body, JSON-RPC params, MCP arguments).
    Field,
    /// A queue message's `data`.
    Message,
    /// An HTTP request header (text), by its name.
    Header(&'static str),
    /// An HTTP request cookie (text), by its name.
    Cookie(&'static str),
}

#[derive(Debug)]
enum Raw<'a> {
    Text(Cow<'a, str>),
    Json(Value),
    /// A request body exactly as sent.
    Bytes(&'a [u8]),
    /// The fields of an `application/x-www-form-urlencoded` body, as one argument.
    Form(Vec<(Cow<'a, str>, Cow<'a, str>)>),
    /// A file part of a `multipart/form-data` body. Boxed: arguments are moved about on every
    /// call, and an upload is three times the size of any other value.
    #[cfg(feature = "multipart")]
    File(Box<crate::multipart::Upload>),
}

#[derive(Debug)]
struct Entry<'a> {
    name: Cow<'a, str>,
    raw: Raw<'a>,
    source: Source,
}

/// The arguments of one call, taken out one by one by the generated code. Text values may
/// borrow from the request (`'a`), so binding a path segment copies it once, into the argument.
#[derive(Debug)]
pub struct Args<'a> {
    expected: &'static [&'static str],
    entries: Vec<Entry<'a>>,
    /// Arguments whose header or cookie the request did not carry.
    absent: Vec<(&'static str, Source)>,
}

impl<'a> Args<'a> {
    /// Empty arguments for a method whose parameters are `expected`.
    pub fn new(expected: &'static [&'static str]) -> Self {
        Args {
            expected,
            // Room for the expected values at once: growing from empty costs a reallocation.
            entries: Vec::with_capacity(expected.len()),
            absent: Vec::new(),
        }
    }

    /// Adds a text value (path segment or query parameter). Later additions win over earlier
    /// ones of the same name, so callers add the weakest source first.
    pub fn push_text(
        &mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
        source: Source,
    ) {
        self.entries.push(Entry {
            name: name.into(),
            raw: Raw::Text(value.into()),
            source,
        });
    }

    /// Adds a JSON value.
    pub fn push_json(&mut self, name: impl Into<Cow<'a, str>>, mut value: Value, source: Source) {
        integral_floats_as_integers(&mut value);
        self.entries.push(Entry {
            name: name.into(),
            raw: Raw::Json(value),
            source,
        });
    }

    /// Adds a request body exactly as sent: `Vec<u8>` takes its bytes, `String` its text.
    pub fn push_bytes(&mut self, name: &'static str, body: &'a [u8]) {
        self.entries.push(Entry {
            name: name.into(),
            raw: Raw::Bytes(body),
            source: Source::Body,
        });
    }

    /// Adds the fields of a form as one argument (a struct, or a map).
    pub fn push_form(&mut self, name: &'static str, fields: Vec<(Cow<'a, str>, Cow<'a, str>)>) {
        self.entries.push(Entry {
            name: name.into(),
            raw: Raw::Form(fields),
            source: Source::Body,
        });
    }

    /// Adds a file of a multipart body, under its field's name.
    #[cfg(feature = "multipart")]
    pub(crate) fn push_file(&mut self, upload: crate::multipart::Upload) {
        self.entries.push(Entry {
            name: upload.field().to_owned().into(),
            raw: Raw::File(Box::new(upload)),
            source: Source::Field,
        });
    }

    /// Whether a value for `name` has been added.
    #[cfg(feature = "multipart")]
    pub(crate) fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|entry| entry.name == name)
    }

    /// Records that the header or cookie argument `name` is bound from was not sent, so its
    /// absence is reported as that.
    pub fn note_absent(&mut self, name: &'static str, source: Source) {
        self.absent.push((name, source));
    }

    /// Adds every field of a JSON object; anything else is an error that names what was sent.
    pub fn push_object(&mut self, value: Value, what: &str) -> Result<(), Error> {
        match value {
            Value::Object(fields) => {
                for (name, value) in fields {
                    self.push_json(name, value, Source::Field);
                }
                Ok(())
            }
            other => Err(Error::bad_request(format!(
                "{what} must be a JSON object, got {}",
                json_type(&other)
            ))),
        }
    }

    /// Binds JSON-RPC style params: an object by name, an array by position, or nothing.
    pub fn push_params(&mut self, params: Option<Value>) -> Result<(), Error> {
        match params {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(items)) => {
                if items.len() > self.expected.len() {
                    return Err(Error::invalid_field(
                        "params",
                        format!(
                            "expected at most {} positional params ({}), got {}",
                            self.expected.len(),
                            self.expected_list(),
                            items.len()
                        ),
                    ));
                }
                for (name, value) in self.expected.iter().zip(items) {
                    self.push_json(*name, value, Source::Field);
                }
                Ok(())
            }
            Some(object @ Value::Object(_)) => self.push_object(object, "params"),
            Some(other) => Err(Error::invalid_field(
                "params",
                format!(
                    "params must be an object or an array, got {}",
                    json_type(&other)
                ),
            )),
        }
    }

    /// Takes the argument `name` and decodes it as `T`.
    ///
    /// A missing argument is `None` for an `Option` (any type that decodes from `null`), empty
    /// for a `Vec`, and an error naming the argument for anything else.
    pub fn take<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        self.take_as::<T, ANY_KIND>(name)
    }

    /// [`take`](Self::take) for an argument no route reads from its body: it arrives as text (a
    /// path segment, a query parameter, an MCP resource URI's or prompt's argument) or as JSON,
    /// and the body decoders are not compiled for its type.
    pub fn take_text_or_json<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        self.take_as::<T, TEXT_OR_JSON>(name)
    }

    /// [`take`](Self::take) for an argument whose method has no HTTP route, MCP resource or
    /// prompt: it arrives as JSON alone (JSON-RPC params, MCP tool arguments, a queue message,
    /// an email), and only the JSON decoding is compiled for its type.
    pub fn take_json<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        self.take_as::<T, JSON_ONLY>(name)
    }

    fn take_as<T: DeserializeOwned, const KINDS: u8>(&mut self, name: &str) -> Result<T, Error> {
        // Only the decoding is generic: finding the value and wording the error are compiled
        // once, not once per argument type (worker size).
        match self.remove(name) {
            None => accepts_absence::<T>().ok_or_else(|| self.missing(name)),
            Some(taken) => taken.decode::<T, KINDS>(name),
        }
    }

    /// Takes the argument `name` that a `#[header]` or `#[cookie]` binds: that header's or
    /// cookie's values alone, never a query parameter or body field of the same name (those are
    /// dropped). Decoded as text, the only form they come in, so the other sources' decoding is
    /// not compiled for the argument's type.
    pub fn take_extracted<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        // Headers and cookies are bound after query parameters and body fields, so a sent one is
        // the entry `remove` takes, with the others of its name dropped.
        match self.remove(name) {
            Some(
                taken @ Taken {
                    raw: Raw::Text(_),
                    source: Source::Header(_) | Source::Cookie(_),
                    ..
                },
            ) => taken.decode::<T, TEXT_OR_JSON>(name),
            _ => accepts_absence::<T>().ok_or_else(|| self.missing(name)),
        }
    }

    /// Removes the argument `name` with every value it was given, and its lower-priority
    /// duplicates (a query parameter shadowed by a path segment).
    fn remove(&mut self, name: &str) -> Option<Taken<'a>> {
        let index = self.entries.iter().rposition(|entry| entry.name == name)?;
        // `remove`, not `swap_remove`: repeated values keep the order they were sent in.
        let entry = self.entries.remove(index);
        let mut repeated = Vec::new();
        #[cfg(feature = "multipart")]
        let mut files = Vec::new();
        // Most names have one value: the earlier ones are looked for only when there are some.
        if self.entries.iter().any(|other| other.name == name) {
            let (same, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.entries)
                .into_iter()
                .partition(|other| other.name == name);
            self.entries = others;
            for other in same {
                match other.raw {
                    // A repeated text value (`?tag=a&tag=b`, a header sent twice) is all of that
                    // source's values, in order: a sequence takes them all, a scalar the last.
                    Raw::Text(text) if other.source == entry.source => repeated.push(text),
                    // Several files under one name, likewise: a `Vec<Upload>` takes them all.
                    #[cfg(feature = "multipart")]
                    Raw::File(file) if matches!(entry.raw, Raw::File(_)) => files.push(*file),
                    // Lower-priority duplicates (a query parameter shadowed by a path segment)
                    // are dropped.
                    _ => {}
                }
            }
        }
        Some(Taken {
            raw: entry.raw,
            source: entry.source,
            repeated,
            #[cfg(feature = "multipart")]
            files,
        })
    }

    /// Checks that nothing is left but query parameters: an unknown named argument is an error
    /// that lists the expected ones, so a caller (or a model) can correct itself.
    pub fn finish(self) -> Result<(), Error> {
        match self
            .entries
            .iter()
            .find(|entry| entry.source == Source::Field)
        {
            None => Ok(()),
            Some(entry) => Err(Error::invalid_field(
                entry.name.clone().into_owned(),
                if self.expected.is_empty() {
                    format!(
                        "unknown argument `{}`: this method takes no arguments",
                        entry.name
                    )
                } else {
                    format!(
                        "unknown argument `{}`, expected one of {}",
                        entry.name,
                        self.expected_list()
                    )
                },
            )),
        }
    }

    fn expected_list(&self) -> String {
        self.expected
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The value of `T` for an absent argument, if `T` has one: `None` for an `Option`, empty for a
/// `Vec`. The one rule for binding and for schemas' `required`. `null` and `[]` are decoded
/// through the same deserializer as present values, so each argument type's decoding code is
/// compiled once, not once more for absence: this is worker size.
pub(crate) fn accepts_absence<T: DeserializeOwned>() -> Option<T> {
    crate::json::from_value::<T>(Value::Null)
        .ok()
        .or_else(|| crate::json::from_value::<T>(Value::Array(Vec::new())).ok())
}

/// The kinds of value an argument can arrive as, by its method's interfaces, which the macro
/// knows: a type's decoding is compiled for each kind it is taken as, and only those.
const JSON_ONLY: u8 = 0;
const TEXT_OR_JSON: u8 = 1;
const ANY_KIND: u8 = 2;

/// One argument's values, removed from [`Args`] to be decoded.
struct Taken<'a> {
    raw: Raw<'a>,
    source: Source,
    /// Earlier text values of the same name and source.
    repeated: Vec<Cow<'a, str>>,
    /// Earlier files of the same name.
    #[cfg(feature = "multipart")]
    files: Vec<crate::multipart::Upload>,
}

/// What an argument is decoded from, once the kinds of value its interfaces give are checked.
enum Input<'a> {
    /// A JSON value, or text made one, decoded by [`crate::json`]'s deserializer.
    Value(Value, Read),
    /// A raw body.
    Bytes(&'a [u8]),
    /// The files sent under the argument's name.
    #[cfg(feature = "multipart")]
    Files(Vec<crate::multipart::Upload>),
}

/// What a value was made from, which words its error.
#[derive(Clone, Copy)]
enum Read {
    Json,
    Text,
    Form,
}

impl<'a> Taken<'a> {
    /// Decodes the value as `T`, from the kinds of value `KINDS` allows. Only the decoding is
    /// generic: which kind the value is, and how an error is worded, are decided once for every
    /// argument type (worker size: each type's call site is one call).
    fn decode<T: DeserializeOwned, const KINDS: u8>(self, name: &str) -> Result<T, Error> {
        let source = self.source;
        match self.input(name, KINDS)? {
            Input::Value(value, read) => {
                let strings = match read {
                    Read::Json => Strings::Json,
                    Read::Text | Read::Form => Strings::Text,
                };
                crate::json::decode::<T>(value, strings)
                    .map_err(|error| value_error(name, source, read, &error))
            }
            Input::Bytes(body) if KINDS == ANY_KIND => {
                T::deserialize(Body(body)).map_err(|error| body_error(name, &error))
            }
            #[cfg(feature = "multipart")]
            Input::Files(files) if KINDS == ANY_KIND => {
                T::deserialize(crate::multipart::Files(files)).map_err(|error| {
                    Error::invalid_field(name, format!("invalid file for `{name}`: {error}"))
                })
            }
            _ => Err(unexpected_kind(name)),
        }
    }

    /// The value to decode, if it is of a kind in `kinds`.
    fn input(self, name: &str, kinds: u8) -> Result<Input<'a>, Error> {
        match self.raw {
            Raw::Json(value) => Ok(Input::Value(value, Read::Json)),
            Raw::Text(text) if kinds >= TEXT_OR_JSON => {
                Ok(Input::Value(text_value(self.repeated, text), Read::Text))
            }
            #[cfg(feature = "multipart")]
            Raw::File(file) if kinds == ANY_KIND => {
                let mut files = self.files;
                files.push(*file);
                Ok(Input::Files(files))
            }
            Raw::Bytes(body) if kinds == ANY_KIND => Ok(Input::Bytes(body)),
            Raw::Form(fields) if kinds == ANY_KIND => {
                Ok(Input::Value(form_value(fields), Read::Form))
            }
            // A multipart body's file goes under whatever name its part gives, so a caller can
            // send one where text is wanted (a query parameter's name): the caller's mistake.
            #[cfg(feature = "multipart")]
            Raw::File(_) => Err(Error::invalid_field(
                name,
                format!("`{name}` is not a file: send it as text"),
            )),
            _ => Err(unexpected_kind(name)),
        }
    }
}

fn value_error(name: &str, source: Source, read: Read, error: &ValueError) -> Error {
    match read {
        Read::Json => json_error(name, source, error.path(), &error.inner().to_string()),
        Read::Text => text_error(name, source, error),
        Read::Form => form_error(name, error),
    }
}

fn body_error(name: &str, error: &crate::json::DecodeError) -> Error {
    Error::bad_request(format!("invalid request body: {error}")).with_field(name)
}

/// An argument that arrived as a kind of value its method's interfaces do not give (the macro
/// chose the decoding from them): a bug, reported rather than decoded another way.
fn unexpected_kind(name: &str) -> Error {
    Error::internal(format!(
        "argument `{name}` arrived as a kind of value its method's interfaces do not give"
    ))
}

/// The text a name was given, as [`Strings::Text`] reads it: one value is a string, several
/// an array of them in the order sent.
fn text_value(earlier: Vec<Cow<'_, str>>, last: Cow<'_, str>) -> Value {
    let text = |value: Cow<'_, str>| Value::String(value.into_owned());
    if earlier.is_empty() {
        text(last)
    } else {
        Value::Array(earlier.into_iter().chain([last]).map(text).collect())
    }
}

/// A form's fields as an object of their text values, as [`Strings::Text`] reads it.
fn form_value(fields: Vec<(Cow<'_, str>, Cow<'_, str>)>) -> Value {
    let mut object = serde_json::Map::new();
    for (name, value) in fields {
        let value = Value::String(value.into_owned());
        match object.get_mut(name.as_ref()) {
            None => {
                object.insert(name.into_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    Value::Object(object)
}

/// A text value's error, naming the argument, or the one of its values that failed
/// (`tag[1]`).
fn text_error(name: &str, source: Source, error: &ValueError) -> Error {
    let field = qualified(name, error.path());
    let message = match source {
        Source::Header(header) => format!("invalid `{header}` header: {error}"),
        Source::Cookie(cookie) => format!("invalid `{cookie}` cookie: {error}"),
        _ => format!("invalid value for `{field}`: {}", error.inner()),
    };
    match source {
        Source::Path | Source::Header(_) | Source::Cookie(_) => {
            Error::bad_request(message).with_field(field)
        }
        _ => Error::invalid_field(field, message),
    }
}

/// The field at `path` inside the argument `name`.
fn qualified(name: &str, path: &str) -> String {
    match path {
        "." => name.to_owned(),
        element if element.starts_with('[') => format!("{name}{element}"),
        member => format!("{name}.{member}"),
    }
}

/// A form's error names the field it is in: where the value failed, or the field serde says
/// is missing or unknown.
fn form_error(name: &str, error: &ValueError) -> Error {
    let message = error.inner().to_string();
    let field = match error.path() {
        "." => named_field(&message),
        path => Some(path),
    };
    match field {
        Some(field) => Error::invalid_field(
            field.to_owned(),
            format!("invalid form field `{field}`: {message}"),
        ),
        None => Error::invalid_field(
            name.to_owned(),
            format!("invalid form for `{name}`: {message}"),
        ),
    }
}

/// A JSON value's error, naming the field at `path` ([`crate::json::from_value`]'s) inside the
/// argument.
fn json_error(name: &str, source: Source, path: &str, error: &str) -> Error {
    let mut inner = path.to_owned();
    // serde reports a missing or unknown field in its message, not in the path.
    if let Some(key) = named_field(error) {
        inner = if inner == "." {
            key.to_owned()
        } else {
            format!("{inner}.{key}")
        };
    }
    let field = match (source, inner.as_str()) {
        (Source::Body | Source::Message, ".") => None,
        (Source::Body | Source::Message, inner) => Some(inner.to_owned()),
        (_, inner) => Some(qualified(name, inner)),
    };
    let message = match &field {
        Some(field) => format!("invalid value at `{field}`: {error}"),
        None => format!("invalid {}: {error}", describe(source)),
    };
    let error = Error::new(crate::ErrorKind::InvalidField, message);
    match field {
        Some(field) => error.with_field(field),
        None => error,
    }
}

impl Args<'_> {
    /// The error for a required argument that was not given: what the caller must send.
    fn missing(&self, name: &str) -> Error {
        match self.absent.iter().find(|(absent, _)| *absent == name) {
            Some((_, Source::Header(header))) => {
                Error::bad_request(format!("the `{header}` header is required")).with_field(name)
            }
            Some((_, Source::Cookie(cookie))) => {
                Error::bad_request(format!("the `{cookie}` cookie is required")).with_field(name)
            }
            _ => Error::invalid_field(name, format!("missing required argument `{name}`")),
        }
    }
}

/// The field named by serde's "missing field `x`" and "unknown field `x`, expected …" errors.
fn named_field(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split_once('`').map(|(field, _)| field)
}

fn describe(source: Source) -> &'static str {
    match source {
        Source::Path => "path segment",
        Source::Query => "query parameter",
        Source::Body => "request body",
        Source::Field => "argument",
        Source::Message => "message data",
        Source::Header(_) => "header",
        Source::Cookie(_) => "cookie",
    }
}

/// JSON has one number type: `2.0` is the integer 2 to JSON Schema and to most clients
/// (JavaScript prints no other way), so an integral float is given to serde as an integer, which
/// an integer type takes and a float type still does.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The JSON type of a value, for messages.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde::Deserialize;
    use serde_json::json;

    const PARAMS: &[&str] = &["id", "limit"];

    #[test]
    fn an_integral_float_is_an_integer_as_json_schema_says() {
        let mut args = Args::new(&["price", "share", "items"]);
        args.push_object(
            json!({"price": 35231.0, "share": 2.0, "items": [{"name": "a", "price": 3.0}]}),
            "the body",
        )
        .unwrap();
        assert_eq!(args.take::<u32>("price").unwrap(), 35231);
        assert_eq!(args.take::<f64>("share").unwrap(), 2.0);
        let items: Vec<Item> = args.take("items").unwrap();
        assert_eq!(items[0].price, 3);
        let mut fractional = Args::new(&["price"]);
        fractional.push_json("price", json!(1.5), Source::Field);
        let error = fractional.take::<u32>("price").unwrap_err();
        assert_eq!(error.field(), Some("price"));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        name: String,
        price: u32,
    }

    #[test]
    fn narrower_takes_decode_the_kinds_they_are_for_and_refuse_others() {
        let mut args = Args::new(PARAMS);
        args.push_json("id", json!("a"), Source::Field);
        args.push_text("limit", "5", Source::Query);
        assert_eq!(args.take_json::<String>("id").unwrap(), "a");
        assert_eq!(args.take_text_or_json::<u32>("limit").unwrap(), 5);
        assert_eq!(args.take_json::<Option<u32>>("limit").unwrap(), None);

        let mut args = Args::new(PARAMS);
        args.push_text("id", "42", Source::Path);
        let error = args.take_json::<u64>("id").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert!(error.message().contains("`id`"), "{}", error.message());

        let mut args = Args::new(&["item"]);
        args.push_form("item", vec![("name".into(), "a".into())]);
        let error = args.take_text_or_json::<Item>("item").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
        let mut args = Args::new(&["item"]);
        args.push_form(
            "item",
            vec![("name".into(), "a".into()), ("price".into(), "3".into())],
        );
        assert_eq!(
            args.take::<Item>("item").unwrap(),
            Item {
                name: "a".into(),
                price: 3
            }
        );
    }

    #[test]
    fn text_values_parse_into_the_argument_type() {
        let mut args = Args::new(PARAMS);
        args.push_text("id", "42", Source::Path);
        args.push_text("limit", "5", Source::Query);
        assert_eq!(args.take::<u64>("id").unwrap(), 42);
        assert_eq!(args.take::<Option<u32>>("limit").unwrap(), Some(5));
        args.finish().unwrap();
    }

    #[test]
    fn a_text_or_form_value_that_does_not_decode_is_named_where_it_failed() {
        let mut args = Args::new(&["item", "ids", "none"]);
        args.push_form(
            "item",
            vec![("name".into(), "a".into()), ("price".into(), "x".into())],
        );
        args.push_text("ids", "1", Source::Query);
        args.push_text("ids", "x", Source::Query);
        let error = args.take::<Item>("item").unwrap_err();
        assert_eq!(error.field(), Some("price"));
        assert_eq!(
            error.message(),
            "invalid form field `price`: invalid value: string \"x\", expected u32"
        );
        let error = args.take::<Vec<u32>>("ids").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidField);
        assert_eq!(error.field(), Some("ids[1]"));
        assert_eq!(
            error.message(),
            "invalid value for `ids[1]`: invalid value: string \"x\", expected u32"
        );
        assert_eq!(args.take::<Vec<u32>>("none").unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn a_missing_option_is_none_and_a_missing_required_argument_is_named() {
        let mut args = Args::new(PARAMS);
        assert_eq!(args.take::<Option<u32>>("limit").unwrap(), None);
        let error = args.take::<String>("id").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidField);
        assert_eq!(error.field(), Some("id"));
        assert!(error.message().contains("missing required argument `id`"));
    }

    #[test]
    fn an_unparsable_path_segment_is_a_bad_request_naming_the_segment() {
        let mut args = Args::new(PARAMS);
        args.push_text("id", "abc", Source::Path);
        let error = args.take::<u64>("id").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BadRequest);
        assert_eq!(error.field(), Some("id"));
        assert!(error.message().contains("`id`"), "{}", error.message());
    }

    #[test]
    fn path_segments_win_over_query_parameters_of_the_same_name() {
        let mut args = Args::new(PARAMS);
        args.push_text("id", "from-query", Source::Query);
        args.push_text("id", "from-path", Source::Path);
        assert_eq!(args.take::<String>("id").unwrap(), "from-path");
        args.finish().unwrap();
    }

    #[test]
    fn nested_json_errors_name_the_path_inside_the_argument() {
        let mut args = Args::new(&["item"]);
        args.push_params(Some(json!({"item": {"name": "a", "price": "x"}})))
            .unwrap();
        let error = args.take::<Item>("item").unwrap_err();
        assert_eq!(error.field(), Some("item.price"));
        assert!(
            error.message().contains("item.price"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn whole_body_errors_name_the_field_relative_to_the_body() {
        let mut args = Args::new(&["item"]);
        args.push_json("item", json!({"name": 1, "price": 2}), Source::Body);
        let error = args.take::<Item>("item").unwrap_err();
        assert_eq!(error.field(), Some("name"));
    }

    #[test]
    fn positional_params_bind_in_order_and_too_many_are_rejected() {
        let mut args = Args::new(PARAMS);
        args.push_params(Some(json!(["a", 3]))).unwrap();
        assert_eq!(args.take::<String>("id").unwrap(), "a");
        assert_eq!(args.take::<u32>("limit").unwrap(), 3);

        let mut args = Args::new(PARAMS);
        let error = args.push_params(Some(json!(["a", 3, 4]))).unwrap_err();
        assert!(error.message().contains("at most 2"), "{}", error.message());
    }

    #[test]
    fn unknown_named_arguments_are_reported_with_the_expected_ones() {
        let mut args = Args::new(PARAMS);
        args.push_params(Some(json!({"id": "a", "lmit": 3})))
            .unwrap();
        args.take::<String>("id").unwrap();
        args.take::<Option<u32>>("limit").unwrap();
        let error = args.finish().unwrap_err();
        assert_eq!(error.field(), Some("lmit"));
        assert!(
            error.message().contains("expected one of `id`, `limit`"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn unknown_query_parameters_are_ignored() {
        let mut args = Args::new(PARAMS);
        args.push_text("_", "123", Source::Query);
        args.finish().unwrap();
    }

    #[test]
    fn params_of_the_wrong_shape_are_rejected() {
        let mut args = Args::new(PARAMS);
        let error = args.push_params(Some(json!("id"))).unwrap_err();
        assert!(
            error.message().contains("object or an array"),
            "{}",
            error.message()
        );
    }
}
