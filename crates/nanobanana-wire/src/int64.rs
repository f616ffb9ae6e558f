//! Proto JSON `int64`/`uint64` fields (e.g. `File.sizeBytes`): the service writes them as decimal
//! strings, and accepts numbers or strings (python-genai sends `size_bytes` as a number).

use std::fmt;

/// A 64-bit integer that travels as a JSON string (canonical proto JSON) or a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Int64(pub i64);

impl Int64 {
    /// The value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Int64 {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

impl fmt::Display for Int64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for Int64 {
    /// Writes the canonical proto JSON form: a decimal string.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Int64 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Int64Visitor)
    }
}

struct Int64Visitor;

impl serde::de::Visitor<'_> for Int64Visitor {
    type Value = Int64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 64-bit integer as a number or a decimal string")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Int64, E> {
        Ok(Int64(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Int64, E> {
        i64::try_from(v)
            .map(Int64)
            .map_err(|_| E::custom(format!("{v} does not fit in a signed 64-bit integer")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Int64, E> {
        v.trim()
            .parse()
            .map(Int64)
            .map_err(|_| E::custom(format!("{v:?} is not a decimal 64-bit integer")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_and_strings_writes_strings() {
        assert_eq!(serde_json::from_str::<Int64>("4161").unwrap(), Int64(4161));
        assert_eq!(
            serde_json::from_str::<Int64>("\"4161\"").unwrap(),
            Int64(4161)
        );
        assert_eq!(serde_json::to_string(&Int64(4161)).unwrap(), "\"4161\"");
        let err = serde_json::from_str::<Int64>("\"12kb\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"12kb\" is not a decimal 64-bit integer"),
            "{err}"
        );
    }
}
