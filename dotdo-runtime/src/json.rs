//! Reading JSON text, and building JSON objects.
//!
//! serde_json has one parser for text (`from_str`) and another for bytes (`from_slice`), and a
//! worker carries a copy of each one it uses, and of every type's `Deserialize` code for each.
//! Request and response bodies arrive as bytes, so text is read through the byte parser too.
//! JSON passed on as it is goes as [`JsonText`], not serde_json's `RawValue`: its `raw_value`
//! feature gives `Value`'s deserializer a text parser of its own (about 12 KB of wasm).
//!
//! JSON values are written with [`to_text`], not `to_string()` or `format!`, and objects are
//! built with [`object`] (or `insert`), not `collect()`: a map's `FromIterator`
//! sorts its input first, with a stable sort compiled anew for each iterator type it is given,
//! about 2 KB of wasm per place that collects.
//!
//! JSON is parsed into a `Value` ([`parse`]) and decoded with [`from_value`] (or both at once,
//! [`from_text`]), which names where in it the first error is and compiles each type's decoding
//! once for everything a worker reads (arguments, text among them, rows, a dead letter's data,
//! stored JSON, an API's answers); never by serde_json's typed parsing.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

mod value;

pub(crate) use value::{DecodeError, Strings, decode};
pub use value::{ValueError, from_value};

/// `json` (text, or its bytes) as a JSON value, as `serde_json::from_str` reads it (the same
/// values and the same errors), through the byte parser every worker already has.
pub fn parse(json: impl AsRef<[u8]>) -> serde_json::Result<Value> {
    serde_json::from_slice(json.as_ref())
}

/// `json` (text, or its bytes) as a `T`: [`parse`]d, then decoded by [`from_value`], the one
/// decoding of each type a worker has. A syntax error is serde_json's, with its line and column;
/// a value that does not decode says where in it (``at `items[1].price`: invalid type: …``).
/// serde_json's typed parser would compile every type's decoding a second time, and describe
/// what it found through serde's display, which brings Rust's float formatting along (10 KiB of
/// every worker, gzipped).
pub fn from_text<T: DeserializeOwned>(json: impl AsRef<[u8]>) -> serde_json::Result<T> {
    from_value(parse(json)?).map_err(serde::de::Error::custom)
}

/// The text of one JSON value, passed on as it is (a method's result into a JSON-RPC envelope, a
/// native call's result to its caller), never parsed into values and written again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// `text`, when it is one JSON value.
    pub fn parse(text: &str) -> serde_json::Result<Self> {
        serde_json::from_slice::<serde::de::IgnoredAny>(text.as_bytes())?;
        Ok(JsonText(text.to_owned()))
    }

    /// Text serde_json wrote, so JSON without checking again.
    pub(crate) fn written(text: String) -> Self {
        JsonText(text)
    }

    pub fn get(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// `value` as compact JSON text, as its `to_string()` writes it, but through the serializer that
/// writes bodies: `Value`'s `Display` compiles a second copy of the serializer, and a pretty one.
pub fn to_text(value: &Value) -> String {
    // Writing a `Value` to memory cannot fail: its keys are strings, its numbers finite.
    serde_json::to_string(value).unwrap_or_default()
}

/// A JSON object of `fields`, a later field replacing an earlier one of the same name, as
/// `collect()` would build it, without a sort compiled for the call.
pub fn object(fields: impl IntoIterator<Item = (String, Value)>) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in fields {
        object.insert(name, value);
    }
    object
}

#[cfg(test)]
mod tests {
    use super::{from_text, object, parse};
    use serde_json::{Map, Value, json};

    #[test]
    fn json_text_is_one_json_value_kept_as_written() {
        let text = r#"{"b": [1, 2.50], "a": "é"}"#;
        assert_eq!(super::JsonText::parse(text).unwrap().get(), text);
        for bad in ["", "{", "1 2", "[1,]", "nul"] {
            assert!(super::JsonText::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_is_what_display_writes() {
        for value in [
            json!(null),
            json!("é \" \n \u{1F600}"),
            json!(-1.5e300),
            json!(u64::MAX),
            json!({"b": [1, {"c": true}], "a": {}}),
        ] {
            assert_eq!(super::to_text(&value), value.to_string());
        }
    }

    #[test]
    fn an_object_is_what_collecting_its_fields_gives() {
        let fields = || {
            [
                ("b", json!(1)),
                ("a", json!([2])),
                ("b", json!("later")),
                ("", json!(null)),
            ]
            .map(|(name, value)| (name.to_owned(), value))
        };
        let built = object(fields());
        assert_eq!(built, fields().into_iter().collect::<Map<String, Value>>());
        assert_eq!(
            Value::Object(built),
            json!({"": null, "a": [2], "b": "later"})
        );
        assert!(object([]).is_empty());
    }

    #[test]
    fn text_parses_as_from_str_parses_it() {
        for text in [
            r#"{"a": [1, 2.5, "é\u00e9", null, true]}"#,
            r#""\ud83d\ude00""#,
            "  42  ",
        ] {
            assert_eq!(
                parse(text).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
        for bad in ["{", "[1,]", r#""\ud800""#, "1 2", ""] {
            assert_eq!(
                parse(bad).unwrap_err().to_string(),
                serde_json::from_str::<Value>(bad).unwrap_err().to_string(),
                "{bad}"
            );
        }
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Item {
        name: String,
        price: f64,
    }

    #[test]
    fn typed_text_decodes_as_from_value_decodes_its_value() {
        let item: Item = from_text(r#"{"name": "lamp", "price": 12.5}"#).unwrap();
        assert_eq!(
            item,
            Item {
                name: "lamp".into(),
                price: 12.5
            }
        );
        let syntax = from_text::<Item>("{\"name\": ").unwrap_err();
        assert_eq!(
            syntax.to_string(),
            serde_json::from_str::<Item>("{\"name\": ")
                .unwrap_err()
                .to_string()
        );
        let wrong =
            from_text::<Vec<Item>>(r#"[{"name": "a", "price": 1}, {"name": "b", "price": "x"}]"#);
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "at `[1].price`: invalid type: string \"x\", expected f64"
        );
        let float = from_text::<u8>("1.5").unwrap_err();
        assert_eq!(
            float.to_string(),
            serde_json::from_str::<u8>("1.5")
                .unwrap_err()
                .to_string()
                .replace(" at line 1 column 3", ""),
            "a float is written as serde_json writes it"
        );
    }
}
