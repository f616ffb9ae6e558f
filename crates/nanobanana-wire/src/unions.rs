//! Serde support for the generated open tagged unions (`Step`, `Content`, `InteractionEvent`,
//! ...): objects told apart by a tag member, with an `Unknown` variant that keeps any other tag
//! losslessly.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde_json::Value;

use crate::UnknownReport;

/// Writes `value` (a struct) with the tag member `tag: tag_value` added.
pub(crate) fn serialize_tagged<S: serde::Serializer, T: serde::Serialize>(
    serializer: S,
    tag: &str,
    tag_value: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut object = match serde_json::to_value(value).map_err(S::Error::custom)? {
        Value::Object(object) => object,
        other => {
            return Err(S::Error::custom(format!(
                "a tagged union variant must be an object, found {other}"
            )));
        }
    };
    object.insert(tag.to_owned(), Value::String(tag_value.to_owned()));
    serde::Serialize::serialize(&object, serializer)
}

/// Reads one union member: the whole object and its tag (when it is a string).
pub(crate) fn split_tag<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    union: &str,
    tag: &str,
) -> Result<(Option<String>, Value), D::Error> {
    let value = <Value as serde::Deserialize>::deserialize(deserializer)?;
    if !value.is_object() {
        return Err(D::Error::custom(format!(
            "expected a {union} object with a {tag:?} member, found {}",
            kind(&value)
        )));
    }
    let tag = value.get(tag).and_then(Value::as_str).map(str::to_owned);
    Ok((tag, value))
}

/// Decodes a known variant's struct from the object, without its tag member.
pub(crate) fn variant<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    mut object: Value,
    tag: &str,
) -> Result<T, E> {
    if let Some(map) = object.as_object_mut() {
        map.remove(tag);
    }
    serde_json::from_value(object).map_err(E::custom)
}

/// Reports an unknown variant as an unknown value of its tag (`/steps/2/type`).
pub(crate) fn report_unknown(at: &str, tag: &str, value: &Value, report: &mut UnknownReport) {
    let sent = value.get(tag).and_then(Value::as_str).unwrap_or("");
    report.enum_value(&format!("{at}/{tag}"), sent, false);
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
