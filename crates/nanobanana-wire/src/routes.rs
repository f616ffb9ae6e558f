//! Endpoints and the wire types of their bodies (the table itself is generated from the
//! overlay; see [`ROUTES`](crate::ROUTES)).

use crate::BodyType;

/// One endpoint of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path after the version prefix (`/v1beta/`, `/v1/`); `*` stands for one name
    /// (no `/` or `:`), e.g. `models/*:generateContent`.
    pub pattern: &'static str,
    /// Whether the endpoint lives under `/upload/` (media upload).
    pub upload: bool,
    /// Type of the JSON request body, if the endpoint takes one.
    pub request: Option<BodyType>,
    /// Type of a successful JSON response body, if the endpoint answers with one.
    pub response: Option<BodyType>,
}

impl Route {
    /// Whether this route serves `method` on `path` (a full path such as
    /// `/v1beta/models/gemini-3-pro-image-preview:generateContent`, without query).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        match split_version(path) {
            Some((upload, rest)) => {
                self.method == method && self.upload == upload && glob_match(self.pattern, rest)
            }
            None => false,
        }
    }
}

/// The route serving `method` on `path`, if any.
pub fn route(method: &str, path: &str) -> Option<&'static Route> {
    crate::ROUTES.iter().find(|r| r.matches(method, path))
}

/// Splits `/v1beta/models/x` into (upload?, `models/x`). Any `v<digit>...` version is accepted,
/// so `/v1/` (what recent official SDKs call) and `/v1beta/` are served alike.
pub fn split_version(path: &str) -> Option<(bool, &str)> {
    let (upload, rest) = match path
        .strip_prefix("/upload/")
        .or_else(|| path.strip_prefix("/resumable/upload/"))
    {
        Some(rest) => (true, rest),
        None => (false, path.strip_prefix('/')?),
    };
    let (version, rest) = rest.split_once('/')?;
    let is_version =
        version.len() > 1 && version.starts_with('v') && version.as_bytes()[1].is_ascii_digit();
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
