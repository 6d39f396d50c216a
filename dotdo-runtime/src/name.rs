//! [`Name`]: the platform's identifier — a namespace, type or id in its URIs — validated where
//! it is decoded, so a method that takes one never sees a bad one, and its schema says so.
//!
//! Other validated arguments are written the same way with serde and schemars: a newtype with
//! `#[serde(try_from = "String")]` whose `TryFrom` is the check, and a `JsonSchema` that states
//! it. The check then runs at argument binding on every interface, and its message reaches the
//! caller with the argument's name (`invalid value at \`ns\`: …`).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// 1 to 128 of `A-Z a-z 0-9 _ . -`: safe in a URI path segment, a SQL `GLOB` and a log line
/// without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 128;
    /// The rule as a JSON Schema `pattern`.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_.-]{1,128}$";

    /// Whether `text` is a valid name.
    pub fn is_valid(text: &str) -> bool {
        (1..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"_.-".contains(&byte))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Why a text is not a [`Name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(String);

impl std::fmt::Display for InvalidName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.0.chars().take(Name::MAX_LEN + 1).collect();
        write!(
            formatter,
            "a name is 1 to {} of `A-Z a-z 0-9 _ . -`, got `{shown}`",
            Name::MAX_LEN
        )
    }
}

impl std::error::Error for InvalidName {}

impl From<InvalidName> for crate::Error {
    fn from(error: InvalidName) -> Self {
        crate::Error::new(crate::ErrorKind::InvalidField, error.to_string())
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidName;

    fn try_from(text: String) -> Result<Self, InvalidName> {
        if Name::is_valid(&text) {
            Ok(Name(text))
        } else {
            Err(InvalidName(text))
        }
    }
}

impl TryFrom<&str> for Name {
    type Error = InvalidName;

    fn try_from(text: &str) -> Result<Self, InvalidName> {
        Name::try_from(text.to_owned())
    }
}

impl std::str::FromStr for Name {
    type Err = InvalidName;

    fn from_str(text: &str) -> Result<Self, InvalidName> {
        Name::try_from(text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Name::MAX_LEN,
            "pattern": Name::PATTERN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_when_decoded() {
        assert_eq!(
            serde_json::from_str::<Name>("\"items-1.v2_x\"").unwrap(),
            "items-1.v2_x"
        );
        for bad in ["\"\"", "\"a b\"", "\"a/b\"", "\"é\"", "\"a*\""] {
            let error = serde_json::from_str::<Name>(bad).unwrap_err().to_string();
            assert!(error.contains("a name is 1 to 128"), "{bad}: {error}");
        }
        let long = format!("\"{}\"", "a".repeat(129));
        assert!(serde_json::from_str::<Name>(&long).is_err());
        let longest = format!("\"{}\"", "a".repeat(128));
        assert!(serde_json::from_str::<Name>(&longest).is_ok());
    }

    #[test]
    fn the_schema_states_the_rule_the_check_applies() {
        let schema = schemars::schema_for!(Name);
        assert_eq!(schema.get("pattern").unwrap(), Name::PATTERN);
        let pattern = Name::PATTERN;
        // The pattern and the check agree on the characters and the bounds.
        assert!(pattern.contains("A-Za-z0-9_.-") && pattern.contains("{1,128}"));
        assert_eq!(
            serde_json::to_string(&Name::try_from("x").unwrap()).unwrap(),
            "\"x\""
        );
    }
}
