//! [`Bounded`]: a whole number within a range, checked as it is bound and stated in its schema,
//! so a page size or a count is refused by the document's rules and the method's alike.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A whole number in `MIN..=MAX`: `limit: Option<Bounded<1, 100>>` takes 1 to 100 (absent:
/// `None`), answers anything else with 422 naming the argument and the range, and documents the
/// range in OpenAPI and MCP schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    /// `value` if it is in range.
    pub fn new(value: u64) -> Result<Self, OutOfRange> {
        if (MIN..=MAX).contains(&value) {
            Ok(Bounded(value))
        } else {
            Err(OutOfRange {
                value,
                min: MIN,
                max: MAX,
            })
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl<const MIN: u64, const MAX: u64> From<Bounded<MIN, MAX>> for u64 {
    fn from(bounded: Bounded<MIN, MAX>) -> u64 {
        bounded.0
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

/// A number outside a [`Bounded`]'s range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    value: u64,
    min: u64,
    max: u64,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "must be {} to {}, got {}",
            self.min, self.max, self.value
        )
    }
}

impl std::error::Error for OutOfRange {}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(deserializer)?;
        Bounded::new(value).map_err(serde::de::Error::custom)
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<const MIN: u64, const MAX: u64> JsonSchema for Bounded<MIN, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Bounded_{MIN}_{MAX}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": MIN,
            "maximum": MAX,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type PageSize = Bounded<1, 100>;

    #[test]
    fn values_in_range_pass_and_others_say_the_range() {
        assert_eq!(PageSize::new(1).unwrap().get(), 1);
        assert_eq!(PageSize::new(100).unwrap().get(), 100);
        assert_eq!(
            PageSize::new(0).unwrap_err().to_string(),
            "must be 1 to 100, got 0"
        );
        assert!(serde_json::from_str::<PageSize>("101").is_err());
        assert!(serde_json::from_str::<PageSize>("-1").is_err());
        assert!(serde_json::from_str::<PageSize>("\"5\"").is_err());
        assert_eq!(serde_json::from_str::<PageSize>("5").unwrap().get(), 5);
        assert_eq!(
            serde_json::to_string(&PageSize::new(7).unwrap()).unwrap(),
            "7"
        );
    }

    #[test]
    fn the_schema_states_the_range() {
        let schema = schemars::schema_for!(PageSize);
        assert_eq!(schema.get("minimum"), Some(&1.into()));
        assert_eq!(schema.get("maximum"), Some(&100.into()));
    }
}
