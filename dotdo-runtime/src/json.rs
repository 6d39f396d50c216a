//! Reading JSON text.
//!
//! serde_json has one parser for text (`from_str`) and another for bytes (`from_slice`), and a
//! worker carries a copy of each one it uses, and of every type's `Deserialize` code for each.
//! Request and response bodies arrive as bytes, so text is read through the byte parser too.
//! (serde_json's `Value` keeps a small text parser of its own, for `RawValue`.)

use serde::Deserialize;

/// `text` as a `T`, as `serde_json::from_str` reads it (the same values and the same errors),
/// through the byte parser every worker already has.
pub fn from_text<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::from_text;
    use serde_json::Value;

    #[test]
    fn text_reads_as_from_str_reads_it() {
        for text in [
            r#"{"a": [1, 2.5, "é\u00e9", null, true]}"#,
            r#""\ud83d\ude00""#,
            "  42  ",
        ] {
            assert_eq!(
                from_text::<Value>(text).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
        for bad in ["{", "[1,]", r#""\ud800""#, "1 2", ""] {
            assert_eq!(
                from_text::<Value>(bad).unwrap_err().to_string(),
                serde_json::from_str::<Value>(bad).unwrap_err().to_string(),
                "{bad}"
            );
        }
    }

    #[test]
    fn borrowed_strings_borrow_from_the_text() {
        let text = r#"{"name": "items"}"#.to_owned();
        let read: std::collections::BTreeMap<&str, &str> = from_text(&text).unwrap();
        assert_eq!(read["name"], "items");
    }
}
