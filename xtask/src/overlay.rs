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
    pub(crate) unions: BTreeMap<String, UnionOverlay>,
}

/// An open union of object types told apart by a tag member (`{"type": "thought", ...}`): a
/// Rust enum with one variant per known tag and an `Unknown` variant that keeps the JSON of any
/// other tag unchanged.
pub(crate) struct UnionOverlay {
    pub(crate) doc: String,
    /// The tag member's wire name (`type`, `event_type`).
    pub(crate) tag: String,
    pub(crate) variants: Vec<UnionVariant>,
}

pub(crate) struct UnionVariant {
    /// The tag's value on the wire.
    pub(crate) wire: String,
    /// The Rust variant name.
    pub(crate) variant: String,
    /// The struct holding the variant's other members.
    pub(crate) ty: String,
    pub(crate) doc: String,
}

/// One endpoint of the route table: its names, where it lives, and its body types.
pub(crate) struct Route {
    /// The `Endpoint` variant, e.g. `GenerateContent`.
    pub(crate) endpoint: String,
    /// The stable name for journals and tracing, e.g. `generateContent` or `batches.get`.
    pub(crate) name: String,
    pub(crate) method: String,
    /// The path after the version prefix, e.g. `models/{model}:generateContent`.
    pub(crate) pattern: String,
    pub(crate) prefix: Prefix,
    pub(crate) request: Option<String>,
    pub(crate) response: Option<String>,
    /// The type of each server-sent event of a streaming answer; the response type when absent.
    pub(crate) events: Option<String>,
    /// The type of the route's error bodies; the overlay's `errorType` when absent.
    pub(crate) error: Option<String>,
}

/// What comes before the version in a route's path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Prefix {
    /// `/v1beta/...`
    Api,
    /// `/upload/v1beta/...` or `/resumable/upload/v1beta/...`
    Upload,
    /// `/download/v1beta/...`
    Download,
}

impl Prefix {
    /// The variant of the generated `Prefix` enum.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Api => "Api",
            Self::Upload => "Upload",
            Self::Download => "Download",
        }
    }
}

/// A route pattern taken apart: `collection[/{param}][:verb]`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Pattern {
    pub(crate) collection: String,
    /// The name of the one captured path parameter, e.g. `model`.
    pub(crate) param: Option<String>,
    /// A sub-resource segment after the parameter (`interactions/{interaction}/cancel`).
    pub(crate) action: Option<String>,
    pub(crate) verb: Option<String>,
}

impl Pattern {
    /// Parses `models/{model}:generateContent`; the shape is what the generated `route()`
    /// matches, so anything else is refused here rather than generated wrong.
    pub(crate) fn parse(text: &str, ctx: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "overlay: {ctx}: pattern {text:?} is not collection, collection/{{param}}, collection:verb, collection/{{param}}:verb or collection/{{param}}/action (letters only)"
            )
        };
        let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic());
        let (head, verb) = match text.split_once(':') {
            Some((head, verb)) => (head, Some(verb)),
            None => (text, None),
        };
        let (collection, param, action) = match head.split_once('/') {
            Some((collection, rest)) => {
                let (param, action) = match rest.split_once('/') {
                    Some((param, action)) => (param, Some(action)),
                    None => (rest, None),
                };
                let name = param
                    .strip_prefix('{')
                    .and_then(|p| p.strip_suffix('}'))
                    .filter(|p| word(p) && p.chars().all(|c| c.is_ascii_lowercase()))
                    .ok_or_else(bad)?;
                (collection, Some(name.to_owned()), action)
            }
            None => (head, None, None),
        };
        if !word(collection)
            || verb.is_some_and(|v| !word(v))
            || action.is_some_and(|a| !word(a) || verb.is_some())
        {
            return Err(bad());
        }
        Ok(Self {
            collection: collection.to_owned(),
            param,
            action: action.map(str::to_owned),
            verb: verb.map(str::to_owned),
        })
    }

    /// Whether the path after the version (`models/x:generateContent`) fits.
    fn matches(&self, rest: &str) -> bool {
        let (head, verb) = match rest.split_once(':') {
            Some((head, verb)) => (head, Some(verb)),
            None => (rest, None),
        };
        let (collection, name) = match head.split_once('/') {
            Some((collection, name)) => (collection, Some(name)),
            None => (head, None),
        };
        let (name, action) = match name.and_then(|n| n.split_once('/')) {
            Some((name, action)) => (Some(name), Some(action)),
            None => (name, None),
        };
        let name_fits = match (&self.param, name) {
            (None, None) => true,
            (Some(_), Some(name)) => !name.is_empty(),
            _ => false,
        };
        collection == self.collection
            && name_fits
            && action == self.action.as_deref()
            && verb == self.verb.as_deref()
    }
}

#[derive(Default)]
pub(crate) struct TypeOverlay {
    pub(crate) doc: Option<String>,
    /// Whether the wire spells the type's fields in snake_case (the Interactions API) rather
    /// than camelCase; the other spelling is still accepted on decode.
    pub(crate) snake: bool,
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
    /// An open tagged union of object types (or array of them).
    Union(String),
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
            let pattern = string(r, "pattern", &ctx)?;
            Pattern::parse(&pattern, &ctx)?;
            let prefix = match opt_string(r, "prefix").as_deref() {
                None => Prefix::Api,
                Some("upload") => Prefix::Upload,
                Some("download") => Prefix::Download,
                Some(other) => {
                    return Err(format!(
                        "overlay: {ctx}: unknown prefix {other:?} (upload, download, or none)"
                    ));
                }
            };
            let endpoint = string(r, "endpoint", &ctx)?;
            if !endpoint.starts_with(|c: char| c.is_ascii_uppercase())
                || !endpoint.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "overlay: {ctx}: endpoint {endpoint:?} must be an UpperCamelCase name"
                ));
            }
            let name = string(r, "name", &ctx)?;
            if routes
                .iter()
                .any(|other: &Route| other.endpoint == endpoint || other.name == name)
            {
                return Err(format!(
                    "overlay: {ctx}: endpoint {endpoint:?} or name {name:?} is already taken by another route"
                ));
            }
            routes.push(Route {
                endpoint,
                name,
                method: string(r, "method", &ctx)?,
                pattern,
                prefix,
                request: opt_string(r, "request"),
                response: opt_string(r, "response"),
                events: opt_string(r, "events"),
                error: opt_string(r, "error"),
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
                    snake: match opt_string(t, "case").as_deref() {
                        None | Some("camel") => false,
                        Some("snake") => true,
                        Some(other) => {
                            return Err(format!(
                                "overlay: {name}.case is {other:?}; use \"snake\" or \"camel\""
                            ));
                        }
                    },
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

        let mut unions = BTreeMap::new();
        let no_unions = Map::new();
        let union_specs = match obj.get("unions") {
            Some(u) => as_object(u, "unions")?,
            None => &no_unions,
        };
        for (name, u) in union_specs {
            let uo = as_object(u, name)?;
            let mut variants = Vec::new();
            for (i, v) in array(uo, "variants")?.iter().enumerate() {
                let ctx = format!("{name}.variants[{i}]");
                let v = as_object(v, &ctx)?;
                variants.push(UnionVariant {
                    wire: string(v, "wire", &ctx)?,
                    variant: string(v, "variant", &ctx)?,
                    ty: string(v, "type", &ctx)?,
                    doc: string(v, "doc", &ctx)?,
                });
            }
            unions.insert(
                name.clone(),
                UnionOverlay {
                    doc: string(uo, "doc", name)?,
                    tag: string(uo, "tag", name)?,
                    variants,
                },
            );
        }

        Ok(Overlay {
            routes,
            error_type,
            types,
            enums,
            unions,
        })
    }

    pub(crate) fn field(&self, ty: &str, field: &str) -> Option<&FieldOverlay> {
        self.types.get(ty).and_then(|t| t.fields.get(field))
    }

    /// The route of a request, by method and path (with its `/v1beta`-style prefix).
    pub(crate) fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let (prefix, rest) = strip_version(path)?;
        self.routes.iter().find(|r| {
            r.method == method
                && r.prefix == prefix
                && Pattern::parse(&r.pattern, "route").is_ok_and(|p| p.matches(rest))
        })
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
        t if t.starts_with("union:") => FieldType::Union(t["union:".len()..].to_owned()),
        t if t.starts_with(|c: char| c.is_ascii_uppercase()) => FieldType::Struct(t.to_owned()),
        t => {
            return Err(format!(
                "{ctx}: unknown field type {t:?} (bytes, int64, map<string>, any, rejected, enum:Name, union:Name, or a TypeName)"
            ));
        }
    })
}

/// Splits `/v1beta/models/x:generateContent` into (prefix, `models/x:generateContent`).
fn strip_version(path: &str) -> Option<(Prefix, &str)> {
    let (prefix, rest) = if let Some(rest) = path
        .strip_prefix("/upload/")
        .or_else(|| path.strip_prefix("/resumable/upload/"))
    {
        (Prefix::Upload, rest)
    } else if let Some(rest) = path.strip_prefix("/download/") {
        (Prefix::Download, rest)
    } else {
        (Prefix::Api, path.strip_prefix('/')?)
    };
    let (version, rest) = rest.split_once('/')?;
    let is_version =
        version.starts_with('v') && version[1..].starts_with(|c: char| c.is_ascii_digit());
    is_version.then_some((prefix, rest))
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

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text, "test").unwrap()
    }

    #[test]
    fn patterns_match_one_name() {
        let generate = pattern("models/{model}:generateContent");
        assert_eq!(generate.param.as_deref(), Some("model"));
        assert!(generate.matches("models/gemini-3-pro-image-preview:generateContent"));
        assert!(!generate.matches("models/a/b:generateContent"));
        assert!(!pattern("models/{model}").matches("models/x:generateContent"));
        assert!(pattern("batches/{batch}:cancel").matches("batches/abc:cancel"));
        assert!(!pattern("batches/{batch}").matches("batches/"));
        assert!(pattern("files").matches("files"));
        let cancel = pattern("interactions/{interaction}/cancel");
        assert_eq!(cancel.action.as_deref(), Some("cancel"));
        assert!(cancel.matches("interactions/v1_abc/cancel"));
        assert!(!cancel.matches("interactions/v1_abc"));
        assert!(!pattern("interactions/{interaction}").matches("interactions/v1_abc/cancel"));
    }

    #[test]
    fn patterns_outside_the_generated_shape_are_refused() {
        for bad in [
            "models/*",
            "models/{model}/x/y",
            "models/{model}/x:verb",
            "models/{model}/",
            "a-b",
            "models/{Model}",
            ":verb",
        ] {
            let err = Pattern::parse(bad, "routes[0]").unwrap_err();
            assert!(err.contains("routes[0]") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn versions_are_stripped() {
        assert_eq!(
            strip_version("/v1beta/models"),
            Some((Prefix::Api, "models"))
        );
        assert_eq!(strip_version("/v1/files/x"), Some((Prefix::Api, "files/x")));
        assert_eq!(
            strip_version("/upload/v1beta/files"),
            Some((Prefix::Upload, "files"))
        );
        assert_eq!(
            strip_version("/download/v1/files/x:download"),
            Some((Prefix::Download, "files/x:download"))
        );
        assert_eq!(strip_version("/models"), None);
    }
}
