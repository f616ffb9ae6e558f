//! The Batch API: many requests at higher rate limits, answered within 24 hours.

use futures_util::Stream;
use nanobanana_wire::Endpoint;
use nanobanana_wire::{
    BatchGenerateContentRequest, GenerateContentBatch, GenerateContentRequest, InlinedRequest,
    InlinedRequests, InputConfig, ListOperationsResponse, Operation,
};
use reqwest::Method;

use crate::client::{Client, RequestOptions, encode, preflight};
use crate::error::Error;
use crate::http::Call;
use crate::paging::paginate;
use crate::urls::{model_id, resource_id};

/// The Batch API of a [`Client`]: `client.batches()`.
///
/// Batch names are accepted as `batches/ID` or `ID`.
#[derive(Clone, Copy, Debug)]
pub struct Batches<'c> {
    client: &'c Client,
}

impl<'c> Batches<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Creates a batch of inline requests:
    /// `POST /{version}/models/{model}:batchGenerateContent` with
    /// `{"batch": {"displayName", "inputConfig": {"requests": {"requests": [...]}}}}`. Every
    /// request is validated first (the refusal names the first bad one). Returns the operation
    /// (`batches/ID`) to poll with [`get`](Self::get).
    pub async fn create_inline(
        &self,
        model: &str,
        display_name: &str,
        requests: impl IntoIterator<Item = InlinedRequest>,
    ) -> Result<Operation, Error> {
        let batch = BatchGenerateContentRequest::new().with_batch(
            GenerateContentBatch::new()
                .with_display_name(display_name)
                .with_input_config(
                    InputConfig::new()
                        .with_requests(InlinedRequests::new().with_requests(requests)),
                ),
        );
        self.create_with(model, &batch, &RequestOptions::new())
            .await
    }

    /// Creates a batch whose requests are in an uploaded JSONL file (`files/ID` or `ID`; see
    /// [`encode_jsonl`] and [`Files::upload`](crate::Files::upload)):
    /// `{"batch": {"displayName", "inputConfig": {"fileName": "files/ID"}}}`.
    pub async fn create_from_file(
        &self,
        model: &str,
        display_name: &str,
        file_name: &str,
    ) -> Result<Operation, Error> {
        let file = format!("files/{}", resource_id(file_name, "files")?);
        let batch = BatchGenerateContentRequest::new().with_batch(
            GenerateContentBatch::new()
                .with_display_name(display_name)
                .with_input_config(InputConfig::new().with_file_name(file)),
        );
        self.create_with(model, &batch, &RequestOptions::new())
            .await
    }

    /// Creates a batch from a body built by hand, with per-call options. Inline requests are
    /// validated unless the options skip validation.
    pub async fn create_with(
        &self,
        model: &str,
        batch: &BatchGenerateContentRequest,
        options: &RequestOptions,
    ) -> Result<Operation, Error> {
        let model = model_id(model)?;
        let inline = batch
            .batch
            .as_ref()
            .and_then(|batch| batch.input_config.as_ref())
            .and_then(|input| input.requests.as_ref())
            .map(|requests| requests.requests.as_slice())
            .unwrap_or_default();
        for (index, inlined) in inline.iter().enumerate() {
            if let Some(request) = &inlined.request {
                preflight(
                    model,
                    request,
                    options,
                    &self.client.transport.config.validation,
                    Some(index),
                )?;
            }
        }
        let call = Call::new(
            Method::POST,
            self.client
                .transport
                .endpoints
                .batch_generate_content(model),
            Endpoint::BatchCreate,
        )
        .with_model(model)
        .with_json(encode(batch)?);
        let answer = self.client.execute(&call, options).await?;
        self.client.transport.decode(&answer.body, &call)
    }

    /// Gets a batch: `GET /{version}/batches/{id}`.
    pub async fn get(&self, name: &str) -> Result<Operation, Error> {
        let id = resource_id(name, "batches")?;
        let call = Call::new(
            Method::GET,
            self.client.transport.endpoints.batches(Some(id)),
            Endpoint::BatchGet,
        );
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        self.client.transport.decode(&answer.body, &call)
    }

    /// Lists batches, newest first as the service orders them, fetching pages as the stream is
    /// read (`page_size`: per request; `None` leaves it to the service).
    pub fn list(
        &self,
        page_size: Option<u32>,
    ) -> impl Stream<Item = Result<Operation, Error>> + Send + Unpin + use<> {
        paginate(
            self.client.transport.clone(),
            self.client.transport.endpoints.batches(None),
            Endpoint::BatchList,
            page_size,
            |page: ListOperationsResponse| (page.operations, page.next_page_token),
        )
    }

    /// Asks the service to cancel a batch: `POST /{version}/batches/{id}:cancel`.
    pub async fn cancel(&self, name: &str) -> Result<(), Error> {
        let id = resource_id(name, "batches")?;
        let call = Call::new(
            Method::POST,
            self.client.transport.endpoints.batch_cancel(id),
            Endpoint::BatchCancel,
        );
        self.client.execute(&call, &RequestOptions::new()).await?;
        Ok(())
    }

    /// Deletes a batch: `DELETE /{version}/batches/{id}`.
    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        let id = resource_id(name, "batches")?;
        let call = Call::new(
            Method::DELETE,
            self.client.transport.endpoints.batches(Some(id)),
            Endpoint::BatchDelete,
        );
        self.client.execute(&call, &RequestOptions::new()).await?;
        Ok(())
    }
}

/// Encodes requests as the JSONL input file of a batch, one `{"key": ..., "request": ...}`
/// line each, validating every request for `model` first (the refusal names the first bad one,
/// 0-based). Upload the result with `files().upload(jsonl, "application/jsonl", ...)`, then
/// [`Batches::create_from_file`].
///
/// ```
/// use nanobanana_transport::encode_jsonl;
/// use nanobanana_transport::wire::{Content, GenerateContentRequest, Part};
///
/// let banana = GenerateContentRequest::new()
///     .with_contents([Content::user([Part::from_text("A banana")])]);
/// let jsonl = encode_jsonl("gemini-2.5-flash-image", [("first", &banana)])?;
/// assert_eq!(
///     std::str::from_utf8(&jsonl).unwrap(),
///     "{\"key\":\"first\",\"request\":{\"contents\":[{\"parts\":[{\"text\":\"A banana\"}],\"role\":\"user\"}]}}\n"
/// );
/// # Ok::<(), nanobanana_transport::Error>(())
/// ```
pub fn encode_jsonl<'r, K: AsRef<str>>(
    model: &str,
    requests: impl IntoIterator<Item = (K, &'r GenerateContentRequest)>,
) -> Result<Vec<u8>, Error> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        key: &'a str,
        request: &'a GenerateContentRequest,
    }
    let model = model_id(model)?;
    let mut out = Vec::new();
    for (index, (key, request)) in requests.into_iter().enumerate() {
        preflight(
            model,
            request,
            &RequestOptions::new(),
            &crate::config::client_validation(),
            Some(index),
        )?;
        let line = Line {
            key: key.as_ref(),
            request,
        };
        serde_json::to_writer(&mut out, &line)
            .map_err(|e| Error::config(format!("request {index} cannot be encoded: {e}")))?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientConfig, ErrorKind};
    use nanobanana_wire::{Content, GenerationConfig, ImageConfig, Part};

    fn request(size: &str) -> GenerateContentRequest {
        GenerateContentRequest::new()
            .with_contents([Content::user([Part::from_text("A banana")])])
            .with_generation_config(
                GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size(size)),
            )
    }

    #[tokio::test]
    async fn inline_batches_are_validated_request_by_request() {
        let client =
            Client::new(ClientConfig::new("k").with_base_url("http://127.0.0.1:9")).unwrap();
        let requests = [request("2K"), request("2K"), request("4k")]
            .map(|r| InlinedRequest::new().with_request(r));
        let error = client
            .batches()
            .create_inline("gemini-3-pro-image", "three", requests)
            .await
            .unwrap_err();
        let ErrorKind::Validation { request_index, .. } = error.kind() else {
            panic!("{error:?}")
        };
        assert_eq!(*request_index, Some(2));
        assert!(
            error.to_string().starts_with(
                "request refused before sending: inline request 2: [image-size-casing]"
            ),
            "{error}"
        );
    }

    #[test]
    fn jsonl_lines_are_validated_too() {
        let good = request("2K");
        let bad = request("2k");
        let error = encode_jsonl("gemini-3-pro-image", [("a", &good), ("b", &bad)]).unwrap_err();
        assert!(error.to_string().contains("inline request 1"), "{error}");
        let jsonl = encode_jsonl(
            "models/gemini-3-pro-image",
            [("a".to_owned(), &good), ("b".to_owned(), &good)],
        )
        .unwrap();
        let lines: Vec<serde_json::Value> = jsonl
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["key"], "b");
        assert_eq!(
            lines[1]["request"]["generationConfig"]["imageConfig"]["imageSize"],
            "2K"
        );
    }

    #[tokio::test]
    async fn names_are_checked() {
        let client =
            Client::new(ClientConfig::new("k").with_base_url("http://127.0.0.1:9")).unwrap();
        for name in ["", "batches/", "batches/a/b", "files/x"] {
            let error = client.batches().get(name).await.unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Config), "{name}: {error}");
        }
        let error = client
            .batches()
            .create_from_file("gemini-2.5-flash-image", "x", "batches/1")
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Config), "{error}");
    }
}
