//! The Files API: upload media once, refer to it by URI (`fileData.fileUri`) in requests.

use std::fmt;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use nanobanana_wire::Endpoint;
use nanobanana_wire::{CreateFileRequest, CreateFileResponse, File, FileState, ListFilesResponse};
use reqwest::Method;
use reqwest::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::client::{Client, RequestOptions, encode};
use crate::error::{Error, ErrorKind};
use crate::http::{Answer, Auth, Call};
use crate::paging::paginate;
use crate::retry::{RetryPolicy, XorShift};
use crate::urls::resource_id;

/// How far an upload has got: the bytes the service has confirmed, of the total.
///
/// Reports of one upload never go down (a chunk lost to a failure is only counted once the
/// service has it), start at `sent == 0` and end at `sent == total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadProgress {
    /// Bytes the service has confirmed so far.
    pub sent: u64,
    /// The file's length.
    pub total: u64,
}

type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// How [`Files::upload_with`] and [`Files::upload_path`] upload: a display name, a progress
/// callback, and the [`RequestOptions`] of every request of the upload (timeout, retry policy,
/// extra headers).
///
/// ```
/// use nanobanana_transport::UploadOptions;
///
/// let options = UploadOptions::new()
///     .with_display_name("holiday.mp4")
///     .with_progress(|p| eprintln!("{} of {} bytes", p.sent, p.total));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct UploadOptions {
    display_name: Option<String>,
    progress: Option<ProgressFn>,
    request: RequestOptions,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("display_name", &self.display_name)
            .field("progress", &self.progress.is_some())
            .field("request", &self.request)
            .finish()
    }
}

impl UploadOptions {
    /// No display name, no progress, the client's request defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the file's display name (the upload then uses the resumable protocol).
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Calls `progress` as the upload goes: once with `sent == 0`, after every chunk the
    /// service confirms, and once with `sent == total` when the file is stored. It runs on the
    /// upload's task, so it should be quick (update a counter or a progress bar).
    pub fn with_progress(
        mut self,
        progress: impl Fn(UploadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Sets the options of every request of the upload. Its retry policy also bounds the
    /// resumes: that many failed chunks in a row end the upload.
    pub fn with_request_options(mut self, request: RequestOptions) -> Self {
        self.request = request;
        self
    }

    fn report(&self, sent: u64, total: u64) {
        if let Some(progress) = &self.progress {
            progress(UploadProgress { sent, total });
        }
    }
}

/// Where an upload's bytes come from.
enum Source {
    Memory(Bytes),
    Disk {
        file: tokio::fs::File,
        path: PathBuf,
        len: u64,
        /// Where the file's cursor is, so that a read in sequence needs no seek.
        position: u64,
    },
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Source::Memory(data) => data.len() as u64,
            Source::Disk { len, .. } => *len,
        }
    }

    /// The `len` bytes at `offset`: a slice of the data in memory, or read from disk (the
    /// only copy of the file's bytes in memory).
    async fn chunk(&mut self, offset: u64, len: usize) -> Result<Bytes, Error> {
        match self {
            Source::Memory(data) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let end = start.saturating_add(len).min(data.len());
                Ok(data.slice(start..end))
            }
            Source::Disk {
                file,
                path,
                position,
                ..
            } => {
                let failed = |e: std::io::Error| {
                    Error::config(format!(
                        "cannot read {} at byte {offset} to upload it: {e}; the file must stay as it was when the upload started",
                        path.display()
                    ))
                };
                if *position != offset {
                    file.seek(SeekFrom::Start(offset)).await.map_err(failed)?;
                    *position = offset;
                }
                let mut buffer = BytesMut::zeroed(len);
                file.read_exact(&mut buffer).await.map_err(failed)?;
                *position = offset + len as u64;
                Ok(buffer.freeze())
            }
        }
    }
}

/// What an upload query says: stored already, or received up to an offset.
enum Resume {
    Final(Answer, Call),
    At(u64, Call),
}

/// The `X-Goog-Upload-Status` of an answer, lower case.
fn upload_status(answer: &Answer) -> Option<String> {
    answer
        .headers
        .get("x-goog-upload-status")
        .and_then(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// Whether a failed chunk is worth a query and a resume: a status the policy retries, a
/// connection that failed or broke (the query tells what arrived), or a timeout.
fn resumable(policy: &RetryPolicy, error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Api(api) => policy.retryable_statuses().contains(&api.http_status()),
        ErrorKind::Connect | ErrorKind::Transport { .. } | ErrorKind::Timeout => true,
        _ => false,
    }
}

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
    /// `upload, finalize`. A chunk that fails (a broken connection, a timeout or a status the
    /// client's [`RetryPolicy`](crate::RetryPolicy) retries) is not sent again blindly: the
    /// client asks the service how much it received (`X-Goog-Upload-Command: query`) and
    /// continues from there, up to the policy's attempts in a row without a chunk getting
    /// through. Chunks carry no key.
    ///
    /// [`upload_with`](Self::upload_with) takes a progress callback and request options;
    /// [`upload_path`](Self::upload_path) streams a file from disk.
    pub async fn upload(
        &self,
        data: impl Into<Bytes>,
        mime_type: &str,
        display_name: Option<&str>,
    ) -> Result<File, Error> {
        let mut options = UploadOptions::new();
        if let Some(name) = display_name {
            options = options.with_display_name(name);
        }
        self.upload_with(data, mime_type, &options).await
    }

    /// [`upload`](Self::upload) with [`UploadOptions`]: a display name, a progress callback,
    /// and [`RequestOptions`] for every request of the upload.
    pub async fn upload_with(
        &self,
        data: impl Into<Bytes>,
        mime_type: &str,
        options: &UploadOptions,
    ) -> Result<File, Error> {
        let data = data.into();
        self.upload_source(Source::Memory(data), mime_type, options)
            .await
    }

    /// Uploads the file at `path` as type `mime_type`, read from disk as it is sent: at most
    /// one [chunk](crate::ClientConfig::with_upload_chunk_size) of it is in memory at a time,
    /// whatever its size (a 2 GB video streams with flat memory). Otherwise as
    /// [`upload_with`](Self::upload_with): small files without a display name go in one
    /// simple request, the others by the resumable protocol, which resumes after a failed
    /// chunk from the offset the service reports.
    ///
    /// The file must not change while it is uploaded: a file that ends before the length it
    /// had at the start is an error.
    pub async fn upload_path(
        &self,
        path: impl AsRef<Path>,
        mime_type: &str,
        options: &UploadOptions,
    ) -> Result<File, Error> {
        let path = path.as_ref().to_path_buf();
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            Error::config(format!("cannot open {} to upload it: {e}", path.display()))
        })?;
        let metadata = file.metadata().await.map_err(|e| {
            Error::config(format!("cannot read the size of {}: {e}", path.display()))
        })?;
        if !metadata.is_file() {
            return Err(Error::config(format!(
                "{} is not a regular file; only files can be uploaded",
                path.display()
            )));
        }
        let source = Source::Disk {
            file,
            path,
            len: metadata.len(),
            position: 0,
        };
        self.upload_source(source, mime_type, options).await
    }

    async fn upload_source(
        &self,
        mut source: Source,
        mime_type: &str,
        options: &UploadOptions,
    ) -> Result<File, Error> {
        let content_type = HeaderValue::from_str(mime_type).map_err(|_| {
            Error::config(format!(
                "{mime_type:?} is not a usable MIME type: it must be visible ASCII text, like image/png"
            ))
        })?;
        let total = source.len();
        let chunk_size = self.client.config().upload_chunk_size;
        let simple = options.display_name.is_none()
            && usize::try_from(total).is_ok_and(|len| len <= chunk_size);
        if simple {
            options.report(0, total);
            let data = source.chunk(0, total as usize).await?;
            let file = self
                .upload_simple(data, content_type, &options.request)
                .await?;
            options.report(total, total);
            return Ok(file);
        }
        self.upload_resumable(source, content_type, mime_type, options)
            .await
    }

    async fn upload_simple(
        &self,
        data: Bytes,
        content_type: HeaderValue,
        request: &RequestOptions,
    ) -> Result<File, Error> {
        let call = Call::new(
            Method::POST,
            self.client.transport.endpoints.upload_files(),
            Endpoint::FileUpload,
        )
        .with_header("x-goog-upload-protocol", HeaderValue::from_static("raw"))
        .with_body(data, content_type);
        let answer = self.client.execute(&call, request).await?;
        self.file_of(&answer, &call)
    }

    async fn upload_resumable(
        &self,
        mut source: Source,
        content_type: HeaderValue,
        mime_type: &str,
        options: &UploadOptions,
    ) -> Result<File, Error> {
        let transport = &self.client.transport;
        let total = source.len();
        let mut file = File::new().with_mime_type(mime_type);
        if let Some(name) = &options.display_name {
            file = file.with_display_name(name.as_str());
        }
        let start = Call::new(
            Method::POST,
            transport.endpoints.upload_files(),
            Endpoint::FileUpload,
        )
        .with_header(
            "x-goog-upload-protocol",
            HeaderValue::from_static("resumable"),
        )
        .with_header("x-goog-upload-command", HeaderValue::from_static("start"))
        .with_header(
            "x-goog-upload-header-content-length",
            HeaderValue::from(total),
        )
        .with_header("x-goog-upload-header-content-type", content_type)
        .with_json(encode(&CreateFileRequest::new().with_file(file))?);
        let answer = self.client.execute(&start, &options.request).await?;
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

        // Each chunk is tried once: after a failure the service says where to go on from.
        let policy = self.client.retry_policy(&options.request).clone();
        let chunk_options = options
            .request
            .clone()
            .with_retry_policy(RetryPolicy::none());
        let chunk_size = self.client.config().upload_chunk_size as u64;
        let mut random = XorShift::seeded();
        let mut failures = 0u32;
        let mut offset = 0u64;
        options.report(0, total);
        loop {
            let end = total.min(offset.saturating_add(chunk_size));
            let last = end == total;
            let command = if last { "upload, finalize" } else { "upload" };
            let data = source.chunk(offset, (end - offset) as usize).await?;
            let call = Call::new(Method::POST, session.as_str(), Endpoint::FileUpload)
                .with_auth(Auth::None)
                .with_header("x-goog-upload-command", HeaderValue::from_static(command))
                .with_header("x-goog-upload-offset", HeaderValue::from(offset))
                .with_body(data, HeaderValue::from_static("application/octet-stream"));
            let error = match self.client.execute(&call, &chunk_options).await {
                Ok(answer) => {
                    failures = 0;
                    match upload_status(&answer).as_deref() {
                        Some("final") if last => {
                            options.report(total, total);
                            return self.file_of(&answer, &call);
                        }
                        Some("active") if !last => {
                            offset = end;
                            options.report(offset, total);
                            continue;
                        }
                        other => {
                            return Err(transport.finish(
                                Error::protocol(format!(
                                    "upload chunk at offset {offset} answered with X-Goog-Upload-Status {other:?}; expected {:?}",
                                    if last { "final" } else { "active" }
                                )),
                                &call,
                            ));
                        }
                    }
                }
                Err(error) => error,
            };
            if !resumable(&policy, &error) {
                return Err(error);
            }
            failures += 1;
            if failures >= policy.max_attempts() {
                return Err(error.with_attempts(failures));
            }
            let delay = policy.delay(&error, failures, random.next_unit());
            tracing::warn!(
                offset,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "upload chunk failed; asking the service how much it received"
            );
            tokio::time::sleep(delay).await;
            match self
                .query_upload(session.as_str(), &options.request)
                .await?
            {
                Resume::Final(answer, call) => {
                    options.report(total, total);
                    return self.file_of(&answer, &call);
                }
                Resume::At(received, call) => {
                    if received > total {
                        return Err(transport.finish(
                            Error::protocol(format!(
                                "the upload query reports {received} bytes received, more than the file's {total}"
                            )),
                            &call,
                        ));
                    }
                    if received > offset {
                        options.report(received, total);
                    }
                    offset = received;
                }
            }
        }
    }

    /// Asks the service how much of an upload it has: `X-Goog-Upload-Command: query`.
    async fn query_upload(&self, session: &str, request: &RequestOptions) -> Result<Resume, Error> {
        let transport = &self.client.transport;
        let call = Call::new(Method::POST, session, Endpoint::FileUpload)
            .with_auth(Auth::None)
            .with_header("x-goog-upload-command", HeaderValue::from_static("query"));
        let answer = self.client.execute(&call, request).await?;
        match upload_status(&answer).as_deref() {
            Some("final") => Ok(Resume::Final(answer, call)),
            Some("active") => {
                let received = answer
                    .headers
                    .get("x-goog-upload-size-received")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|text| text.trim().parse::<u64>().ok());
                match received {
                    Some(received) => Ok(Resume::At(received, call)),
                    None => Err(transport.finish(
                        Error::protocol(
                            "the upload query answer has no usable X-Goog-Upload-Size-Received header (a byte count)",
                        ),
                        &call,
                    )),
                }
            }
            other => Err(transport.finish(
                Error::protocol(format!(
                    "the upload query answered with X-Goog-Upload-Status {other:?}; expected \"active\" or \"final\""
                )),
                &call,
            )),
        }
    }

    /// Waits until the file `name` is `ACTIVE` (ready to use in requests), polling
    /// [`get`](Self::get) every 100 ms at first, then less often (up to every 5 s), for at most
    /// `timeout`; returns its metadata. Uploaded images are usually `ACTIVE` at once; videos
    /// and large documents go through `PROCESSING` first.
    ///
    /// A file whose state becomes `FAILED` is an error (kind
    /// [`Protocol`](crate::ErrorKind::Protocol)); one still not `ACTIVE` after `timeout` is an
    /// error of kind [`Timeout`](crate::ErrorKind::Timeout) that names the last state seen.
    pub async fn wait_active(&self, name: &str, timeout: Duration) -> Result<File, Error> {
        let started = Instant::now();
        let mut interval = Duration::from_millis(100);
        loop {
            let file = self.get(name).await?;
            let state = file.state.clone();
            match state {
                Some(FileState::Active) => return Ok(file),
                Some(FileState::Failed) => {
                    return Err(Error::protocol(format!(
                        "file {name} FAILED processing on the service; upload it again"
                    )));
                }
                _ => {}
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                let seen = state.as_ref().map_or("none", FileState::as_str);
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "file {name} is not ACTIVE after {} ms (last state: {seen}); wait longer or check it with files.get",
                        timeout.as_millis()
                    ),
                ));
            }
            tokio::time::sleep(interval.min(timeout - elapsed)).await;
            interval = (interval * 2).min(Duration::from_secs(5));
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
            Endpoint::FileGet,
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
            Endpoint::FileDownload,
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
            Endpoint::FileList,
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
            Endpoint::FileDelete,
        );
        self.client.execute(&call, &RequestOptions::new()).await?;
        Ok(())
    }
}
