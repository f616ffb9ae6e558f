//! The route table: every endpoint of the API, generated from the overlay's routes
//! (`crates/nanobanana-wire/overlay.json`) by `cargo xtask codegen`.
//!
//! [`route`] maps a request (method and path) to a [`Matched`]: the API version, and the
//! [`Route`] with the path parameters it captured (model id, batch id, file id).
//! [`Endpoint`] is the same without parameters, with each endpoint's metadata (method,
//! pattern, prefix, body types, a stable [`name`](Endpoint::name) for journals and tracing).
//! The fake server, the conformance runner and the transport's tracing all route with it, so
//! adding an endpoint is one overlay entry; every `match` on [`Endpoint`] or [`Route`] then
//! names the places that must handle it.
//!
//! ```
//! use nanobanana_wire::routes::{Matched, route};
//! use nanobanana_wire::{Endpoint, Route};
//!
//! let matched = route("POST", "/v1beta/models/gemini-3-pro-image-preview:generateContent").unwrap();
//! assert_eq!(matched.version, "v1beta");
//! assert_eq!(matched.route, Route::GenerateContent { model: "gemini-3-pro-image-preview" });
//! assert_eq!(matched.endpoint(), Endpoint::GenerateContent);
//! assert_eq!(Endpoint::GenerateContent.name(), "generateContent");
//! assert_eq!(Endpoint::BatchGet.name(), "batches.get");
//! assert!(route("PUT", "/v1beta/models/x:generateContent").is_none());
//! ```

pub use crate::generated::{Endpoint, Route};

/// What comes before the version in a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// `/v1beta/...`: the API itself.
    Api,
    /// `/upload/v1beta/...` or `/resumable/upload/v1beta/...`: media upload.
    Upload,
    /// `/download/v1beta/...`: media download.
    Download,
}

/// A path taken apart (see [`split_path`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathParts<'a> {
    /// What came before the version.
    pub prefix: Prefix,
    /// The API version, e.g. `v1beta` or `v1`.
    pub version: &'a str,
    /// The path after the version, e.g. `models/x:generateContent`.
    pub rest: &'a str,
}

/// Splits `/v1beta/models/x` into its prefix, version and rest. Any `v<digit>...` version is
/// accepted, so `/v1/` (what recent official SDKs call) and `/v1beta/` are served alike.
pub fn split_path(path: &str) -> Option<PathParts<'_>> {
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
        version.len() > 1 && version.starts_with('v') && version.as_bytes()[1].is_ascii_digit();
    is_version.then_some(PathParts {
        prefix,
        version,
        rest,
    })
}

/// A request routed to an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    /// The API version of the path, e.g. `v1beta`.
    pub version: &'a str,
    /// The endpoint with the path parameters it captured.
    pub route: Route<'a>,
}

impl<'a> Matched<'a> {
    /// The endpoint, without its parameters.
    pub fn endpoint(&self) -> Endpoint {
        self.route.endpoint()
    }

    /// The model id of a `models/{model}...` route.
    pub fn model(&self) -> Option<&'a str> {
        self.route.model()
    }
}

/// The endpoint serving `method` on `path` (a full path such as
/// `/v1beta/models/gemini-3-pro-image-preview:generateContent`, without the query), with the
/// version and the path parameters; `None` for anything that is not an endpoint. A trailing
/// `/` is ignored.
pub fn route<'a>(method: &str, path: &'a str) -> Option<Matched<'a>> {
    let parts = split_path(path)?;
    let segments = Segments::parse(parts.rest)?;
    let route = crate::generated::match_route(parts.prefix, method, segments)?;
    Some(Matched {
        version: parts.version,
        route,
    })
}

/// The path after the version in the shape every pattern has:
/// `collection[/name[/action]][:verb]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segments<'a> {
    pub(crate) collection: &'a str,
    /// A non-empty name without `/` or `:`.
    pub(crate) name: Option<&'a str>,
    /// A sub-resource segment after the name (`interactions/{interaction}/cancel`).
    pub(crate) action: Option<&'a str>,
    pub(crate) verb: Option<&'a str>,
}

impl<'a> Segments<'a> {
    fn parse(rest: &'a str) -> Option<Self> {
        let rest = rest.trim_end_matches('/');
        let (head, verb) = match rest.split_once(':') {
            Some((head, verb)) => (head, Some(verb)),
            None => (rest, None),
        };
        let (collection, name, action) = match head.split_once('/') {
            Some((collection, rest)) => match rest.split_once('/') {
                Some((name, action))
                    if !name.is_empty() && !action.is_empty() && !action.contains('/') =>
                {
                    (collection, Some(name), Some(action))
                }
                Some(_) => return None,
                None if !rest.is_empty() => (collection, Some(rest), None),
                None => return None,
            },
            None => (head, None, None),
        };
        (!collection.is_empty()).then_some(Self {
            collection,
            name,
            action,
            verb,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_paths_route_with_their_cancel_segment() {
        let m = route("POST", "/v1/interactions").unwrap();
        assert_eq!(m.endpoint(), Endpoint::InteractionCreate);
        let m = route("GET", "/v1beta/interactions/v1_abc").unwrap();
        assert_eq!(
            m.route,
            Route::InteractionGet {
                interaction: "v1_abc"
            }
        );
        let m = route("POST", "/v1/interactions/v1_abc/cancel").unwrap();
        assert_eq!(
            m.route,
            Route::InteractionCancel {
                interaction: "v1_abc"
            }
        );
        assert_eq!(m.route.param(), Some("v1_abc"));
        assert!(route("POST", "/v1/interactions/v1_abc:cancel").is_none());
        assert!(route("POST", "/v1/interactions/v1_abc/cancel/x").is_none());
        assert!(route("POST", "/v1/interactions//cancel").is_none());
    }

    #[test]
    fn paths_route_under_every_version_and_prefix() {
        for version in ["v1beta", "v1", "v2alpha"] {
            let path = format!("/{version}/models/gemini-3-pro-image:generateContent");
            let m = route("POST", &path).unwrap();
            assert_eq!(m.version, version);
            assert_eq!(m.model(), Some("gemini-3-pro-image"));
            assert_eq!(m.endpoint(), Endpoint::GenerateContent);
            for prefix in ["upload", "resumable/upload"] {
                let path = format!("/{prefix}/{version}/files");
                assert_eq!(route("POST", &path).unwrap().route, Route::FileUpload);
            }
        }
        let cases = [
            (
                "GET",
                "/v1beta/batches/abc",
                Route::BatchGet { batch: "abc" },
            ),
            (
                "POST",
                "/v1beta/batches/abc:cancel",
                Route::BatchCancel { batch: "abc" },
            ),
            (
                "DELETE",
                "/v1beta/files/abc",
                Route::FileDelete { file: "abc" },
            ),
            (
                "GET",
                "/download/v1beta/files/abc:download",
                Route::FileDownload { file: "abc" },
            ),
            ("GET", "/v1beta/models", Route::ModelList),
            ("GET", "/v1beta/models/", Route::ModelList),
            ("GET", "/v1/files/abc/", Route::FileGet { file: "abc" }),
        ];
        for (method, path, want) in cases {
            assert_eq!(route(method, path).map(|m| m.route), Some(want), "{path}");
        }
    }

    #[test]
    fn what_is_not_an_endpoint_has_no_route() {
        for (method, path) in [
            ("GET", "/nothing"),
            ("GET", "/vx/models"),
            ("GET", "/v/models"),
            ("PUT", "/v1beta/models/x:generateContent"),
            ("GET", "/v1beta/models/a/b"),
            ("POST", "/v1beta/models/a:b:generateContent"),
            ("POST", "/v1beta/batches/:cancel"),
            ("GET", "/upload/v1beta/files"),
            ("POST", "/v1beta/files"),
            ("GET", "/v1beta/files/abc:download"),
        ] {
            assert_eq!(route(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn endpoint_metadata_comes_from_the_overlay() {
        let e = Endpoint::FileUpload;
        assert_eq!(
            (e.method(), e.pattern(), e.prefix()),
            ("POST", "files", Prefix::Upload)
        );
        assert_eq!(e.request(), Some(crate::BodyType::CreateFileRequest));
        assert_eq!(Endpoint::FileDownload.response(), None);
        for &e in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(e.name()), Some(e));
        }
        let names: std::collections::BTreeSet<_> = Endpoint::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), Endpoint::ALL.len());
    }
}
