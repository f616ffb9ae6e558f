//! The Files API: upload media once, refer to it by URI (`fileData.fileUri`) in requests.

use bytes::Bytes;
use futures_util::Stream;
use nanobanana_wire::{CreateFileRequest, CreateFileResponse, File, ListFilesResponse};
use reqwest::Method;
use reqwest::header::HeaderValue;

use crate::client::{Client, RequestOptions, encode};
use crate::error::Error;
use crate::http::{Answer, Auth, Call};
use crate::paging::paginate;
use crate::urls::resource_id;

/// The Files API of a [`Client`]: `client.files()`.
///
/// File names are accepted as `files/ID` or `ID`.
#[derive(Clone, Copy, Debug)]
pub struct Files<'c> {
    client: &'c Client,
}

impl<'c> Files<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Uploads `data` as a file of type `mime_type`: `POST /upload/{version}/files`.
    ///
    /// Without a display name, data up to the [upload chunk
    /// size](crate::ClientConfig::with_upload_chunk_size) (8 MiB) goes in one simple request
    /// (`X-Goog-Upload-Protocol: raw`). Larger data, or any upload with a display name (a raw
    /// upload cannot carry one), uses the resumable protocol as the official SDKs do: a `start`
    /// request with the metadata, then chunks of the chunk size to the `X-Goog-Upload-URL` the
    /// service answers with (its origin replaced by the base URL's), the last one with
    /// `upload, finalize`. Each request is retried by the client's policy; chunks carry no key.
    pub async fn upload(
        &self,
        data: impl Into<Bytes>,
        mime_type: &str,
        display_name: Option<&str>,
    ) -> Result<File, Error> {
        let data = data.into();
        let content_type = HeaderValue::from_str(mime_type)
            .map_err(|_| Error::config(format!("{mime_type:?} is not a usable MIME type")))?;
        match display_name {
            None if data.len() <= self.client.config().upload_chunk_size => {
                self.upload_simple(data, content_type).await
            }
            _ => {
                self.upload_resumable(data, content_type, mime_type, display_name)
                    .await
            }
        }
    }

    async fn upload_simple(&self, data: Bytes, content_type: HeaderValue) -> Result<File, Error> {
        let call = Call::new(
            Method::POST,
            self.client.transport.endpoints.upload_files(),
            "files.upload",
        )
        .with_header("x-goog-upload-protocol", HeaderValue::from_static("raw"))
        .with_body(data, content_type);
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        self.file_of(&answer, &call)
    }

    async fn upload_resumable(
        &self,
        data: Bytes,
        content_type: HeaderValue,
        mime_type: &str,
        display_name: Option<&str>,
    ) -> Result<File, Error> {
        let transport = &self.client.transport;
        let mut file = File::new().with_mime_type(mime_type);
        if let Some(name) = display_name {
            file = file.with_display_name(name);
        }
        let start = Call::new(
            Method::POST,
            transport.endpoints.upload_files(),
            "files.upload",
        )
        .with_header(
            "x-goog-upload-protocol",
            HeaderValue::from_static("resumable"),
        )
        .with_header("x-goog-upload-command", HeaderValue::from_static("start"))
        .with_header(
            "x-goog-upload-header-content-length",
            HeaderValue::from(data.len()),
        )
        .with_header("x-goog-upload-header-content-type", content_type)
        .with_json(encode(&CreateFileRequest::new().with_file(file))?);
        let answer = self.client.execute(&start, &RequestOptions::new()).await?;
        let upload_url = answer
            .headers
            .get("x-goog-upload-url")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                transport.finish(
                    Error::protocol("the upload start answer has no X-Goog-Upload-URL header"),
                    &start,
                )
            })?;
        let session = transport
            .endpoints
            .upload_session(upload_url)
            .map_err(|e| transport.finish(e, &start))?;

        let chunk_size = self.client.config().upload_chunk_size;
        let mut offset = 0;
        loop {
            let end = data.len().min(offset + chunk_size);
            let last = end == data.len();
            let command = if last { "upload, finalize" } else { "upload" };
            let call = Call::new(Method::POST, session.as_str(), "files.upload")
                .with_auth(Auth::None)
                .with_header("x-goog-upload-command", HeaderValue::from_static(command))
                .with_header("x-goog-upload-offset", HeaderValue::from(offset))
                .with_body(
                    data.slice(offset..end),
                    HeaderValue::from_static("application/octet-stream"),
                );
            let answer = self.client.execute(&call, &RequestOptions::new()).await?;
            let status = answer
                .headers
                .get("x-goog-upload-status")
                .and_then(|value| value.to_str().ok())
                .map(str::to_ascii_lowercase);
            match status.as_deref() {
                Some("final") => return self.file_of(&answer, &call),
                Some("active") if !last => offset = end,
                Some(other) => {
                    return Err(transport.finish(
                        Error::protocol(format!(
                            "upload chunk at offset {offset} answered with X-Goog-Upload-Status {other:?}"
                        )),
                        &call,
                    ));
                }
                None => {
                    return Err(transport.finish(
                        Error::protocol(format!(
                            "upload chunk at offset {offset} answered without X-Goog-Upload-Status"
                        )),
                        &call,
                    ));
                }
            }
        }
    }

    fn file_of(&self, answer: &Answer, call: &Call) -> Result<File, Error> {
        let transport = &self.client.transport;
        let created: CreateFileResponse = transport.decode(&answer.body, call)?;
        created.file.ok_or_else(|| {
            transport.finish(Error::protocol("the upload answer has no \"file\""), call)
        })
    }

    /// Gets a file's metadata: `GET /{version}/files/{id}`.
    pub async fn get(&self, name: &str) -> Result<File, Error> {
        let id = resource_id(name, "files")?;
        let call = Call::new(
            Method::GET,
            self.client.transport.endpoints.files(Some(id)),
            "files.get",
        );
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        self.client.transport.decode(&answer.body, &call)
    }

    /// Downloads a file's content:
    /// `GET /download/{version}/files/{id}:download?alt=media`, e.g. the JSONL results of a
    /// batch whose output is a `responsesFile`. Retried and traced like every call.
    pub async fn download(&self, name: &str) -> Result<Bytes, Error> {
        let id = resource_id(name, "files")?;
        let call = Call::new(
            Method::GET,
            self.client.transport.endpoints.download_file(id),
            "files.download",
        );
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        Ok(answer.body)
    }

    /// Lists files, fetching pages as the stream is read.
    pub fn list(
        &self,
        page_size: Option<u32>,
    ) -> impl Stream<Item = Result<File, Error>> + Send + Unpin + use<> {
        paginate(
            self.client.transport.clone(),
            self.client.transport.endpoints.files(None),
            "files.list",
            page_size,
            |page: ListFilesResponse| (page.files, page.next_page_token),
        )
    }

    /// Deletes a file: `DELETE /{version}/files/{id}`.
    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        let id = resource_id(name, "files")?;
        let call = Call::new(
            Method::DELETE,
            self.client.transport.endpoints.files(Some(id)),
            "files.delete",
        );
        self.client.execute(&call, &RequestOptions::new()).await?;
        Ok(())
    }
}
