//! Shape inference: every JSON body of the corpus, walked from its root type, contributes the
//! fields it has and the kinds of their values. Field identity is the camelCase wire name, so a
//! snake_case request (`inline_data`) and a camelCase one (`inlineData`) describe the same field.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::overlay::{FieldType, Overlay};

/// The kind of a field's value, merged over every observation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Bool,
    Int,
    Float,
    String,
    Bytes,
    Enum(String),
    Union(String),
    StringMap,
    Int64,
    Any,
    Object(String),
    Array(Box<Kind>),
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Bool => "a boolean".into(),
            Kind::Int => "an integer".into(),
            Kind::Float => "a number".into(),
            Kind::String => "a string".into(),
            Kind::Bytes => "base64 bytes".into(),
            Kind::Enum(name) => format!("enum {name}"),
            Kind::Union(name) => format!("union {name}"),
            Kind::StringMap => "a string map".into(),
            Kind::Int64 => "an int64".into(),
            Kind::Any => "any JSON".into(),
            Kind::Object(name) => format!("object {name}"),
            Kind::Array(inner) => format!("an array of {}", inner.describe()),
        }
    }

    /// Merges two observations of the same field; `None` when they cannot be reconciled.
    fn merge(&self, other: &Kind) -> Option<Kind> {
        match (self, other) {
            (a, b) if a == b => Some(a.clone()),
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Some(Kind::Float),
            (Kind::Array(a), Kind::Array(b)) => a.merge(b).map(|k| Kind::Array(Box::new(k))),
            // A field declared `any` that is sometimes an array (`input`: a string or a list)
            // stays any JSON.
            (Kind::Any, Kind::Array(inner)) | (Kind::Array(inner), Kind::Any)
                if **inner == Kind::Any =>
            {
                Some(Kind::Any)
            }
            _ => None,
        }
    }
}

/// One observed field: its merged kind and where it was first seen (for conflict messages).
#[derive(Debug)]
pub(crate) struct FieldShape {
    pub(crate) kind: Kind,
    pub(crate) first_seen: String,
}

/// One observed object type.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    pub(crate) fields: BTreeMap<String, FieldShape>,
}

/// Everything inferred from the corpus.
#[derive(Default)]
pub(crate) struct Model {
    pub(crate) types: BTreeMap<String, Shape>,
    /// Enum values seen per enum (wire spelling), to report values the overlay does not list.
    pub(crate) enum_values: BTreeMap<String, BTreeMap<String, String>>,
    /// `Type.field` names the overlay marks `rejected` that the corpus has (left out of the types).
    pub(crate) rejected: BTreeSet<String>,
    /// The unions the corpus uses, with the tags seen (known or not) and where first.
    pub(crate) unions: BTreeMap<String, BTreeMap<String, String>>,
}

impl Model {
    /// Records a body whose root type is `ty` (a struct or a union); `at` names the place for
    /// error messages.
    pub(crate) fn observe(
        &mut self,
        overlay: &Overlay,
        ty: &str,
        value: &Value,
        at: &str,
    ) -> Result<(), String> {
        if overlay.unions.contains_key(ty) {
            return self.observe_union(overlay, ty, value, at);
        }
        self.observe_struct(overlay, ty, value, None, at)
    }

    /// Records one member of a union: the tag picks the variant's struct, which gets every
    /// other member. A tag the overlay does not list is noted (it decodes as `Unknown`).
    fn observe_union(
        &mut self,
        overlay: &Overlay,
        name: &str,
        value: &Value,
        at: &str,
    ) -> Result<(), String> {
        let union = &overlay.unions[name];
        let tag = value
            .get(&union.tag)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!(
                    "{at}: a {name} is an object with a string {:?} member",
                    union.tag
                )
            })?;
        self.unions
            .entry(name.to_owned())
            .or_default()
            .entry(tag.to_owned())
            .or_insert_with(|| at.to_owned());
        match union.variants.iter().find(|v| v.wire == tag) {
            Some(variant) => {
                let ty = variant.ty.clone();
                let skip = union.tag.clone();
                self.observe_struct(overlay, &ty, value, Some(&skip), at)
            }
            None => Ok(()),
        }
    }

    fn observe_struct(
        &mut self,
        overlay: &Overlay,
        ty: &str,
        value: &Value,
        skip: Option<&str>,
        at: &str,
    ) -> Result<(), String> {
        let Value::Object(object) = value else {
            return Err(format!(
                "{at}: expected a {ty} object, found {}",
                json_kind(value)
            ));
        };
        self.types.entry(ty.to_owned()).or_default();
        for (key, field_value) in object {
            if Some(key.as_str()) == skip {
                continue;
            }
            let wire = camel_case(key);
            let field_at = format!("{at}/{key}");
            let declared = overlay.field(ty, &wire).and_then(|f| f.ty.clone());
            if declared == Some(FieldType::Rejected) {
                self.rejected.insert(format!("{ty}.{wire}"));
                continue;
            }
            let kind = self.classify(
                overlay,
                ty,
                &wire,
                declared.as_ref(),
                field_value,
                &field_at,
            )?;
            let shape = self.types.get_mut(ty).expect("inserted above");
            match shape.fields.get_mut(&wire) {
                None => {
                    shape.fields.insert(
                        wire,
                        FieldShape {
                            kind,
                            first_seen: field_at,
                        },
                    );
                }
                Some(existing) => {
                    let merged = existing.kind.merge(&kind).ok_or_else(|| {
                        format!(
                            "{ty}.{wire} is {} at {} but {} at {field_at}; fix the fixture or declare the field's type in overlay.json",
                            existing.kind.describe(),
                            existing.first_seen,
                            kind.describe()
                        )
                    })?;
                    existing.kind = merged;
                }
            }
        }
        Ok(())
    }

    fn classify(
        &mut self,
        overlay: &Overlay,
        parent: &str,
        wire: &str,
        declared: Option<&FieldType>,
        value: &Value,
        at: &str,
    ) -> Result<Kind, String> {
        match (declared, value) {
            (_, Value::Null) => Err(format!(
                "{at}: null is not proto JSON; omit the field instead"
            )),
            (_, Value::Array(items)) => {
                let mut merged: Option<Kind> = None;
                if items.is_empty() {
                    return Err(format!(
                        "{at}: empty array; proto JSON omits empty repeated fields"
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    if item.is_array() {
                        return Err(format!(
                            "{at}/{i}: nested arrays are not part of the wire format"
                        ));
                    }
                    let kind =
                        self.classify(overlay, parent, wire, declared, item, &format!("{at}/{i}"))?;
                    merged = Some(match merged {
                        None => kind,
                        Some(prev) => prev.merge(&kind).ok_or_else(|| {
                            format!(
                                "{at}: array mixes {} and {}",
                                prev.describe(),
                                kind.describe()
                            )
                        })?,
                    });
                }
                Ok(Kind::Array(Box::new(merged.expect("non-empty"))))
            }
            (Some(FieldType::Any), _) => Ok(Kind::Any),
            (Some(FieldType::Rejected), _) => Err(format!(
                "{at}: a rejected field inside an array is not supported"
            )),
            (Some(FieldType::Int64), Value::Number(n)) if n.is_i64() || n.is_u64() => {
                Ok(Kind::Int64)
            }
            (Some(FieldType::Int64), Value::String(s)) if s.parse::<i64>().is_ok() => {
                Ok(Kind::Int64)
            }
            (Some(FieldType::Int64), other) => Err(format!(
                "{at}: an int64 is a decimal string or an integer, found {other}"
            )),
            (Some(FieldType::Bytes), Value::String(_)) => Ok(Kind::Bytes),
            (Some(FieldType::Bytes), Value::Object(o))
                if o.len() == 1 && o.contains_key("$blob") =>
            {
                Ok(Kind::Bytes)
            }
            (Some(FieldType::Bytes), other) => Err(format!(
                "{at}: a bytes field needs a base64 string or a {{\"$blob\"}} reference, found {}",
                json_kind(other)
            )),
            (Some(FieldType::Enum(name)), Value::String(s)) => {
                self.enum_values
                    .entry(name.clone())
                    .or_default()
                    .entry(s.clone())
                    .or_insert_with(|| at.to_owned());
                Ok(Kind::Enum(name.clone()))
            }
            (Some(FieldType::Enum(name)), other) => Err(format!(
                "{at}: enum {name} travels as a string, found {}",
                json_kind(other)
            )),
            (Some(FieldType::StringMap), Value::Object(o)) => {
                if let Some((k, v)) = o.iter().find(|(_, v)| !v.is_string()) {
                    return Err(format!(
                        "{at}/{k}: a string map holds strings, found {}",
                        json_kind(v)
                    ));
                }
                Ok(Kind::StringMap)
            }
            (Some(FieldType::StringMap), other) => Err(format!(
                "{at}: expected a string map, found {}",
                json_kind(other)
            )),
            (Some(FieldType::Union(name)), Value::Object(_)) => {
                if !overlay.unions.contains_key(name) {
                    return Err(format!(
                        "{at}: overlay names union {name}, which has no entry under \"unions\""
                    ));
                }
                self.observe_union(overlay, name, value, at)?;
                Ok(Kind::Union(name.clone()))
            }
            (Some(FieldType::Union(name)), other) => Err(format!(
                "{at}: overlay says {parent}.{wire} is union {name}, found {}",
                json_kind(other)
            )),
            (Some(FieldType::Struct(name)), Value::Object(_)) => {
                self.observe(overlay, name, value, at)?;
                Ok(Kind::Object(name.clone()))
            }
            (Some(FieldType::Struct(name)), other) => Err(format!(
                "{at}: overlay says {parent}.{wire} is object {name}, found {}",
                json_kind(other)
            )),
            (None, Value::Object(_)) => {
                let name = format!("{parent}{}", pascal_case(wire));
                self.observe(overlay, &name, value, at)?;
                Ok(Kind::Object(name))
            }
            (None, Value::Bool(_)) => Ok(Kind::Bool),
            (None, Value::Number(n)) => Ok(if n.is_f64() { Kind::Float } else { Kind::Int }),
            (None, Value::String(_)) => Ok(Kind::String),
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `inline_data` → `inlineData`; camelCase names and `@type` are unchanged.
pub(crate) fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `inlineData` → `inline_data`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `inlineData` → `InlineData`.
pub(crate) fn pascal_case(name: &str) -> String {
    let mut chars = name.trim_start_matches('@').chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(camel_case("inline_data"), "inlineData");
        assert_eq!(camel_case("inlineData"), "inlineData");
        assert_eq!(camel_case("@type"), "@type");
        assert_eq!(snake_case("thoughtSignature"), "thought_signature");
        assert_eq!(snake_case("text"), "text");
        assert_eq!(pascal_case("inlineData"), "InlineData");
    }

    #[test]
    fn int_and_float_merge_to_float() {
        assert_eq!(Kind::Int.merge(&Kind::Float), Some(Kind::Float));
        assert_eq!(Kind::String.merge(&Kind::Int), None);
    }
}
