//! Building the URLs of the endpoints (WIRE.md, Endpoints), and checking the names that go
//! into them.

use reqwest::Url;

use crate::config::ApiVersion;
use crate::error::Error;

/// The URLs of one service: a checked base URL (without a trailing `/`) and a version.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    base: String,
    version: &'static str,
    loopback: bool,
}

impl Endpoints {
    /// Checks `base_url`: absolute, http or https, no query or fragment, no credentials.
    pub(crate) fn new(base_url: &str, version: ApiVersion) -> Result<Self, Error> {
        let parsed = Url::parse(base_url.trim())
            .map_err(|e| Error::config(format!("base URL `{}`: {e}", redact_url(base_url))))?;
        let problem = if !matches!(parsed.scheme(), "http" | "https") {
            Some("the scheme must be http or https")
        } else if parsed.query().is_some() || parsed.fragment().is_some() {
            Some("it must have no query or fragment (the key goes in a header)")
        } else if !parsed.username().is_empty() || parsed.password().is_some() {
            Some("it must hold no credentials")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::config(format!(
                "base URL `{}`: {problem}",
                redact_url(base_url)
            )));
        }
        let loopback = parsed.host_str().is_some_and(|host| {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        Ok(Self {
            base: parsed.as_str().trim_end_matches('/').to_owned(),
            version: version.as_str(),
            loopback,
        })
    }

    /// Whether the service is on this machine (`localhost`, `127.0.0.0/8`, `[::1]`): a fake
    /// server, which no proxy of the environment should be asked to reach.
    pub(crate) fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// `{base}/{version}/{rest}`.
    fn url(&self, rest: &str) -> String {
        format!("{}/{}/{rest}", self.base, self.version)
    }

    /// `{base}/{version}/models/{model}:{method}`; `model` must be checked.
    pub(crate) fn model_method(&self, model: &str, method: &str) -> String {
        self.url(&format!("models/{model}:{method}"))
    }

    /// `.../models/{model}:generateContent`.
    pub(crate) fn generate_content(&self, model: &str) -> String {
        self.model_method(model, "generateContent")
    }

    /// `.../models/{model}:streamGenerateContent?alt=sse`.
    pub(crate) fn stream_generate_content(&self, model: &str) -> String {
        self.model_method(model, "streamGenerateContent?alt=sse")
    }

    /// `.../models/{model}:batchGenerateContent`.
    pub(crate) fn batch_generate_content(&self, model: &str) -> String {
        self.model_method(model, "batchGenerateContent")
    }

    /// `.../models` or `.../models/{model}`.
    pub(crate) fn models(&self, model: Option<&str>) -> String {
        self.collection("models", model)
    }

    /// `.../batches` or `.../batches/{id}`.
    pub(crate) fn batches(&self, id: Option<&str>) -> String {
        self.collection("batches", id)
    }

    /// `.../batches/{id}:cancel`.
    pub(crate) fn batch_cancel(&self, id: &str) -> String {
        self.url(&format!("batches/{id}:cancel"))
    }

    /// `.../interactions` or `.../interactions/{id}`.
    pub(crate) fn interactions(&self, id: Option<&str>) -> String {
        self.collection("interactions", id)
    }

    /// `.../interactions/{id}/cancel` (a path segment, not `:cancel`; INTERACTIONS.md §1).
    pub(crate) fn interaction_cancel(&self, id: &str) -> String {
        self.url(&format!("interactions/{id}/cancel"))
    }

    /// `.../files` or `.../files/{id}`.
    pub(crate) fn files(&self, id: Option<&str>) -> String {
        self.collection("files", id)
    }

    /// `{base}/download/{version}/files/{id}:download?alt=media`.
    pub(crate) fn download_file(&self, id: &str) -> String {
        format!(
            "{}/download/{}/files/{id}:download?alt=media",
            self.base, self.version
        )
    }

    /// `{base}/upload/{version}/files`.
    pub(crate) fn upload_files(&self) -> String {
        format!("{}/upload/{}/files", self.base, self.version)
    }

    fn collection(&self, collection: &str, id: Option<&str>) -> String {
        match id {
            Some(id) => self.url(&format!("{collection}/{id}")),
            None => self.url(collection),
        }
    }

    /// A list URL with its paging parameters.
    pub(crate) fn page(
        list_url: &str,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Url, Error> {
        let mut url = Url::parse(list_url)
            .map_err(|e| Error::config(format!("bad list URL {list_url}: {e}")))?;
        if page_size.is_some() || page_token.is_some() {
            let mut query = url.query_pairs_mut();
            if let Some(size) = page_size {
                query.append_pair("pageSize", &size.to_string());
            }
            if let Some(token) = page_token {
                query.append_pair("pageToken", token);
            }
        }
        Ok(url)
    }

    /// The URL to send upload chunks to: the `X-Goog-Upload-URL` the service gave, with its
    /// scheme, host and port replaced by the base URL's (as python-genai does), so that a proxy
    /// or a fake server in between is not bypassed. A relative URL is resolved against the base.
    pub(crate) fn upload_session(&self, upload_url: &str) -> Result<Url, Error> {
        let base = Url::parse(&self.base).map_err(|e| Error::config(format!("base URL: {e}")))?;
        let mut url = base
            .join(upload_url)
            .map_err(|e| Error::protocol(format!("unusable X-Goog-Upload-URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::protocol(
                "unusable X-Goog-Upload-URL: not an http(s) URL",
            ));
        }
        // Both schemes are http(s) and the base has a host, so none of these can fail.
        let _ = url.set_scheme(base.scheme());
        let _ = url.set_host(base.host_str());
        let _ = url.set_port(base.port());
        Ok(url)
    }
}

/// A model id for a path: `gemini-3-pro-image` or `models/gemini-3-pro-image`.
pub(crate) fn model_id(model: &str) -> Result<&str, Error> {
    resource_id(model, "models")
}

/// A resource id for a path, from `{collection}/{id}` or a bare `{id}`: non-empty, made of
/// ASCII letters, digits, `-`, `_` and `.` (nothing that would change the URL's meaning).
pub(crate) fn resource_id<'a>(name: &'a str, collection: &str) -> Result<&'a str, Error> {
    let id = name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(name);
    let valid = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(id)
    } else {
        let shown: String = name.chars().take(80).collect();
        Err(Error::config(format!(
            "{shown:?} is not a valid name: expected `{collection}/ID` or `ID`, with ID made of \
             letters, digits, '-', '_' and '.'"
        )))
    }
}

/// A URL as it may appear in a message: without query or credentials.
pub(crate) fn redact_url(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url
            .split(['?', '#', '@'])
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The method and path of a URL, for messages and logs (never the query, which may hold an
/// upload id).
pub(crate) fn describe(method: &reqwest::Method, url: &str) -> String {
    let path = Url::parse(url).map_or_else(
        |_| url.split('?').next().unwrap_or_default().to_owned(),
        |u| u.path().to_owned(),
    );
    format!("{method} {path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_a_server_on_this_machine() {
        for (base, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.8.9.10", true),
            ("http://localhost:1/prefix", true),
            ("http://LOCALHOST", true),
            ("http://[::1]:8080", true),
            (crate::config::DEFAULT_BASE_URL, false),
            ("http://10.0.0.1", false),
            ("http://localhost.example.com", false),
        ] {
            let endpoints = Endpoints::new(base, ApiVersion::V1Beta).unwrap();
            assert_eq!(endpoints.is_loopback(), loopback, "{base}");
        }
    }

    #[test]
    fn builds_every_endpoint_for_both_versions() {
        let beta = Endpoints::new(crate::config::DEFAULT_BASE_URL, ApiVersion::V1Beta).unwrap();
        let base = "https://generativelanguage.googleapis.com";
        let cases = [
            (
                beta.generate_content("gemini-3-pro-image"),
                "/v1beta/models/gemini-3-pro-image:generateContent",
            ),
            (
                beta.stream_generate_content("gemini-2.5-flash-image"),
                "/v1beta/models/gemini-2.5-flash-image:streamGenerateContent?alt=sse",
            ),
            (
                beta.batch_generate_content("m"),
                "/v1beta/models/m:batchGenerateContent",
            ),
            (beta.models(None), "/v1beta/models"),
            (beta.models(Some("m")), "/v1beta/models/m"),
            (beta.batches(None), "/v1beta/batches"),
            (beta.batches(Some("b1")), "/v1beta/batches/b1"),
            (beta.batch_cancel("b1"), "/v1beta/batches/b1:cancel"),
            (beta.files(None), "/v1beta/files"),
            (beta.files(Some("f1")), "/v1beta/files/f1"),
            (beta.upload_files(), "/upload/v1beta/files"),
            (
                beta.download_file("f1"),
                "/download/v1beta/files/f1:download?alt=media",
            ),
        ];
        for (url, path) in cases {
            assert_eq!(url, format!("{base}{path}"));
        }

        let v1 = Endpoints::new("http://127.0.0.1:8080/", ApiVersion::V1).unwrap();
        assert_eq!(
            v1.generate_content("gemini-3.1-flash-image"),
            "http://127.0.0.1:8080/v1/models/gemini-3.1-flash-image:generateContent"
        );
        assert_eq!(v1.upload_files(), "http://127.0.0.1:8080/upload/v1/files");
        assert_eq!(v1.files(Some("x")), "http://127.0.0.1:8080/v1/files/x");

        let prefixed = Endpoints::new("https://proxy.example/gemini/", ApiVersion::V1Beta).unwrap();
        assert_eq!(
            prefixed.models(None),
            "https://proxy.example/gemini/v1beta/models"
        );
    }

    #[test]
    fn refuses_unusable_base_urls_without_echoing_secrets() {
        for bad in [
            "generativelanguage.googleapis.com",
            "ftp://example.com",
            "https://example.com/?key=SECRET-IN-QUERY",
            "https://user:SECRET-IN-PASSWORD@example.com",
        ] {
            let error = Endpoints::new(bad, ApiVersion::V1Beta).unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with("invalid configuration: base URL"),
                "{text}"
            );
            assert!(!text.contains("SECRET"), "{text}");
        }
    }

    #[test]
    fn paging_parameters_are_encoded() {
        let url = Endpoints::page("http://h/v1beta/batches", Some(50), Some("a b/c=&d")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h/v1beta/batches?pageSize=50&pageToken=a+b%2Fc%3D%26d"
        );
        let url = Endpoints::page("http://h/v1beta/files", None, None).unwrap();
        assert_eq!(url.as_str(), "http://h/v1beta/files");
    }

    #[test]
    fn normalises_and_checks_model_ids() {
        assert_eq!(
            model_id("gemini-3-pro-image").unwrap(),
            "gemini-3-pro-image"
        );
        assert_eq!(
            model_id("models/gemini-3-pro-image").unwrap(),
            "gemini-3-pro-image"
        );
        assert_eq!(
            model_id("gemini-2.5-flash-image").unwrap(),
            "gemini-2.5-flash-image"
        );
        for bad in [
            "",
            "models/",
            "a/b",
            "m:generateContent",
            "m?x=1",
            "m#",
            "..",
            "m n",
            "é",
        ] {
            let error = model_id(bad).unwrap_err();
            assert!(
                error.to_string().contains("is not a valid name"),
                "{bad}: {error}"
            );
        }
        assert_eq!(resource_id("batches/abc-1", "batches").unwrap(), "abc-1");
        assert_eq!(resource_id("abc-1", "batches").unwrap(), "abc-1");
        assert!(resource_id("files/abc", "batches").is_err());
    }

    #[test]
    fn upload_urls_take_the_base_origin() {
        let endpoints = Endpoints::new("http://127.0.0.1:4000", ApiVersion::V1Beta).unwrap();
        let url = endpoints
            .upload_session("https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=XYZ&upload_protocol=resumable")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:4000/upload/v1beta/files?upload_id=XYZ&upload_protocol=resumable"
        );
        let relative = endpoints
            .upload_session("/upload/v1beta/files?upload_id=1")
            .unwrap();
        assert_eq!(
            relative.as_str(),
            "http://127.0.0.1:4000/upload/v1beta/files?upload_id=1"
        );
        let public = Endpoints::new(crate::config::DEFAULT_BASE_URL, ApiVersion::V1Beta).unwrap();
        assert_eq!(
            public
                .upload_session("http://localhost:1/u?upload_id=2")
                .unwrap()
                .as_str(),
            "https://generativelanguage.googleapis.com/u?upload_id=2"
        );
        assert!(endpoints.upload_session("mailto:x@y").is_err());
    }

    #[test]
    fn descriptions_hold_no_query() {
        assert_eq!(
            describe(
                &reqwest::Method::POST,
                "http://h/upload/v1beta/files?upload_id=SECRET"
            ),
            "POST /upload/v1beta/files"
        );
    }
}
