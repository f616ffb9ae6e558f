//! The hand-written overlay (`crates/nanobanana-wire/overlay.json`): what the fixtures cannot
//! say by themselves: which route a body belongs to, type names, enums, bytes fields, docs.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub(crate) struct Overlay {
    pub(crate) routes: Vec<Route>,
    /// The type of every non-2xx body and of `{"error": ...}` stream events.
    pub(crate) error_type: String,
    pub(crate) types: BTreeMap<String, TypeOverlay>,
    pub(crate) enums: BTreeMap<String, EnumOverlay>,
}

/// Which request and response types belong to an endpoint.
pub(crate) struct Route {
    pub(crate) method: String,
    /// Glob over the path after the version prefix; `*` matches one name (no `/` or `:`).
    pub(crate) pattern: String,
    /// Whether the route lives under `/upload/` (media upload).
    pub(crate) upload: bool,
    pub(crate) request: Option<String>,
    pub(crate) response: Option<String>,
}

#[derive(Default)]
pub(crate) struct TypeOverlay {
    pub(crate) doc: Option<String>,
    pub(crate) fields: BTreeMap<String, FieldOverlay>,
}

#[derive(Default)]
pub(crate) struct FieldOverlay {
    pub(crate) ty: Option<FieldType>,
    pub(crate) doc: Option<String>,
    pub(crate) rust_name: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum FieldType {
    /// A nested object (or array of objects) of the named type.
    Struct(String),
    /// base64 text on the wire, bytes in Rust.
    Bytes,
    /// A string enum (or array of them).
    Enum(String),
    /// An object with free-form keys and string values.
    StringMap,
    /// A proto JSON int64: a decimal string or a number on the wire.
    Int64,
    /// Any JSON value, kept as is.
    Any,
    /// Not a field of the API: the corpus has it only to show the service rejecting it, so it is
    /// left out of the types (it lands in `unknown_fields`) and the typed client cannot send it.
    Rejected,
}

pub(crate) struct EnumOverlay {
    pub(crate) doc: String,
    pub(crate) case_insensitive: bool,
    pub(crate) values: Vec<EnumValue>,
}

pub(crate) struct EnumValue {
    pub(crate) wire: String,
    pub(crate) variant: String,
    pub(crate) doc: String,
}

impl Overlay {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| format!("overlay.json: {e}"))?;
        let obj = as_object(&root, "overlay")?;

        let mut routes = Vec::new();
        for (i, route) in array(obj, "routes")?.iter().enumerate() {
            let ctx = format!("routes[{i}]");
            let r = as_object(route, &ctx)?;
            routes.push(Route {
                method: string(r, "method", &ctx)?,
                pattern: string(r, "pattern", &ctx)?,
                upload: r.get("upload").and_then(Value::as_bool).unwrap_or(false),
                request: opt_string(r, "request"),
                response: opt_string(r, "response"),
            });
        }

        let error_type = string(obj, "errorType", "overlay")?;

        let mut types = BTreeMap::new();
        for (name, ty) in as_object(obj.get("types").unwrap_or(&Value::Null), "types")? {
            let t = as_object(ty, name)?;
            let mut fields = BTreeMap::new();
            if let Some(f) = t.get("fields") {
                for (field, spec) in as_object(f, &format!("{name}.fields"))? {
                    let ctx = format!("{name}.{field}");
                    let spec = as_object(spec, &ctx)?;
                    let ty = match opt_string(spec, "type") {
                        None => None,
                        Some(t) => Some(parse_field_type(&t, &ctx)?),
                    };
                    fields.insert(
                        field.clone(),
                        FieldOverlay {
                            ty,
                            doc: opt_string(spec, "doc"),
                            rust_name: opt_string(spec, "rust"),
                        },
                    );
                }
            }
            types.insert(
                name.clone(),
                TypeOverlay {
                    doc: opt_string(t, "doc"),
                    fields,
                },
            );
        }

        let mut enums = BTreeMap::new();
        for (name, e) in as_object(obj.get("enums").unwrap_or(&Value::Null), "enums")? {
            let eo = as_object(e, name)?;
            let mut values = Vec::new();
            for (i, v) in array(eo, "values")?.iter().enumerate() {
                let ctx = format!("{name}.values[{i}]");
                let v = as_object(v, &ctx)?;
                values.push(EnumValue {
                    wire: string(v, "wire", &ctx)?,
                    variant: string(v, "variant", &ctx)?,
                    doc: string(v, "doc", &ctx)?,
                });
            }
            enums.insert(
                name.clone(),
                EnumOverlay {
                    doc: string(eo, "doc", name)?,
                    case_insensitive: eo
                        .get("caseInsensitive")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    values,
                },
            );
        }

        Ok(Overlay {
            routes,
            error_type,
            types,
            enums,
        })
    }

    pub(crate) fn field(&self, ty: &str, field: &str) -> Option<&FieldOverlay> {
        self.types.get(ty).and_then(|t| t.fields.get(field))
    }

    /// The route of a request, by method and path (with its `/v1beta`-style prefix).
    pub(crate) fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let (upload, rest) = strip_version(path)?;
        self.routes
            .iter()
            .find(|r| r.method == method && r.upload == upload && glob_match(&r.pattern, rest))
    }
}

fn parse_field_type(text: &str, ctx: &str) -> Result<FieldType, String> {
    Ok(match text {
        "bytes" => FieldType::Bytes,
        "map<string>" => FieldType::StringMap,
        "any" => FieldType::Any,
        "int64" => FieldType::Int64,
        "rejected" => FieldType::Rejected,
        t if t.starts_with("enum:") => FieldType::Enum(t["enum:".len()..].to_owned()),
        t if t.starts_with(|c: char| c.is_ascii_uppercase()) => FieldType::Struct(t.to_owned()),
        t => {
            return Err(format!(
                "{ctx}: unknown field type {t:?} (bytes, int64, map<string>, any, rejected, enum:Name, or a TypeName)"
            ));
        }
    })
}

/// Splits `/v1beta/models/x:generateContent` into (upload?, `models/x:generateContent`).
fn strip_version(path: &str) -> Option<(bool, &str)> {
    let (upload, rest) = match path
        .strip_prefix("/upload/")
        .or_else(|| path.strip_prefix("/resumable/upload/"))
    {
        Some(rest) => (true, rest),
        None => (false, path.strip_prefix('/')?),
    };
    let (version, rest) = rest.split_once('/')?;
    let is_version =
        version.starts_with('v') && version[1..].starts_with(|c: char| c.is_ascii_digit());
    is_version.then_some((upload, rest))
}

/// `*` matches a non-empty run of characters other than `/` and `:`.
fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            let end = rest.find(['/', ':']).unwrap_or(rest.len());
            end > 0 && glob_match(tail, &rest[end..])
        }
    }
}

fn as_object<'a>(v: &'a Value, ctx: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("overlay: {ctx} must be an object"))
}

fn array<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a Vec<Value>, String> {
    obj.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("overlay: {key} must be an array"))
}

fn string(obj: &Map<String, Value>, key: &str, ctx: &str) -> Result<String, String> {
    opt_string(obj, key).ok_or_else(|| format!("overlay: {ctx} needs a string {key:?}"))
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_one_name() {
        assert!(glob_match(
            "models/*:generateContent",
            "models/gemini-3-pro-image-preview:generateContent"
        ));
        assert!(!glob_match(
            "models/*:generateContent",
            "models/a/b:generateContent"
        ));
        assert!(!glob_match("models/*", "models/x:generateContent"));
        assert!(glob_match("batches/*:cancel", "batches/abc:cancel"));
        assert!(!glob_match("batches/*", "batches/"));
    }

    #[test]
    fn versions_are_stripped() {
        assert_eq!(strip_version("/v1beta/models"), Some((false, "models")));
        assert_eq!(strip_version("/v1/files/x"), Some((false, "files/x")));
        assert_eq!(strip_version("/upload/v1beta/files"), Some((true, "files")));
        assert_eq!(strip_version("/models"), None);
    }
}
