//! Support for the generated wire enums: they travel as JSON strings.

use std::fmt;

/// Deserializes a wire enum from a JSON string through its `from_wire` constructor, so that an
/// unknown value never fails decoding.
#[doc(hidden)]
pub fn deserialize_wire_enum<'de, D, T>(
    deserializer: D,
    name: &'static str,
    from_wire: fn(&str) -> T,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct WireEnumVisitor<T> {
        name: &'static str,
        from_wire: fn(&str) -> T,
    }

    impl<T> serde::de::Visitor<'_> for WireEnumVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} string", self.name)
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
            Ok((self.from_wire)(value))
        }
    }

    deserializer.deserialize_str(WireEnumVisitor { name, from_wire })
}
