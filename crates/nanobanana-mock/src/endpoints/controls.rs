//! What every request is checked for before an endpoint sees it: the API key and the control
//! headers (`x-nanobanana-fault`, `-mode`, `-image-format`).

use serde_json::json;

use crate::fault::{FAULT_HEADER, Fault};
use crate::image::{self, ImageFormat};
use crate::reply::{self, Reply};
use crate::server::{IMAGE_FORMAT_HEADER, MODE_HEADER, Mode, Request, Shared};

// The headers every request is checked for, parsed once.
static FAULT_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(FAULT_HEADER);
static MODE_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(MODE_HEADER);
static IMAGE_FORMAT_HEADER_NAME: http::HeaderName =
    http::HeaderName::from_static(IMAGE_FORMAT_HEADER);
static API_KEY_HEADER_NAME: http::HeaderName = http::HeaderName::from_static("x-goog-api-key");

/// The control headers of a request, parsed, over the server's settings.
pub(super) struct Controls<'r> {
    /// The fault header's text and the fault it says.
    pub(super) fault: Option<(&'r str, Fault)>,
    pub(super) mode: Mode,
    pub(super) format: Option<ImageFormat>,
}

impl<'r> Controls<'r> {
    /// Reads the control headers; a header that is not text or does not parse is a 400.
    pub(super) fn read(shared: &Shared, request: &'r Request) -> Result<Self, Reply> {
        // A control header whose value is not text is a bad header (400), never ignored.
        for name in [
            &FAULT_HEADER_NAME,
            &MODE_HEADER_NAME,
            &IMAGE_FORMAT_HEADER_NAME,
        ] {
            if let Some(reply) = not_text(request, name) {
                return Err(reply);
            }
        }
        let fault = match request.header(&FAULT_HEADER_NAME) {
            Some(text) => match Fault::parse(text) {
                Ok(fault) => Some((text, fault)),
                Err(e) => return Err(reply::invalid_argument(&e.to_string())),
            },
            None => None,
        };
        let mode = match request.header(&MODE_HEADER_NAME) {
            None => shared.settings().mode,
            Some(text) => text.parse::<Mode>().map_err(|e| {
                reply::invalid_argument(&format!("Invalid {MODE_HEADER} header: {e}."))
            })?,
        };
        let format = match request.header(&IMAGE_FORMAT_HEADER_NAME) {
            None => shared.config.image_format,
            Some(text) => Some(image::output_format(text).map_err(|_| {
                reply::invalid_argument(&format!(
                    "Invalid {IMAGE_FORMAT_HEADER} header \"{}\": allowed are png, jpeg.",
                    text.trim()
                ))
            })?),
        };
        Ok(Self {
            fault,
            mode,
            format,
        })
    }
}

/// The 400 for a control header (`x-nanobanana-*`) whose value is not visible ASCII text.
fn not_text(request: &Request, name: &http::HeaderName) -> Option<Reply> {
    let value = request.headers.get(name)?;
    if value.to_str().is_ok() {
        return None;
    }
    let allowed = match name.as_str() {
        FAULT_HEADER => "directives such as \"status=503; times=1\"",
        MODE_HEADER => "simulate, replay, hybrid",
        _ => "png, jpeg",
    };
    Some(reply::invalid_argument(&format!(
        "Invalid {name} header: its value is not text (bytes outside visible ASCII, {} bytes). Allowed: {allowed}.",
        value.len()
    )))
}

/// The 403 without a key, the 400 for a key that is not the server's.
pub(super) fn check_auth(shared: &Shared, request: &Request) -> Option<Reply> {
    let key = request
        .header(&API_KEY_HEADER_NAME)
        .or_else(|| request.query("key"))
        .filter(|k| !k.is_empty());
    match (key, &shared.config.api_key) {
        (None, _) => Some(reply::error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            Vec::new(),
        )),
        (Some(sent), Some(expected)) if sent != expected => Some(reply::error(
            400,
            "API key not valid. Please pass a valid API key.",
            vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}
            })],
        )),
        _ => None,
    }
}
