//! Per-server state: uploaded files (and uploads in progress), batches and interactions
//! ([`interactions`]), bounded.

mod interactions;

pub(crate) use self::interactions::{Interactions, Output, Run, StoredInteraction};

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A stored file.
pub(crate) struct StoredFile {
    pub(crate) resource: Value,
    pub(crate) bytes: Bytes,
}

/// A resumable upload in progress.
pub(crate) struct PendingUpload {
    pub(crate) display_name: Option<String>,
    pub(crate) mime_type: String,
    pub(crate) declared_size: Option<u64>,
    pub(crate) data: BytesMut,
    /// A cut asked for by a fault (`cut-upload-at`, `cut-upload-after`).
    pub(crate) cut: UploadCutState,
}

/// Where an upload stands with its fault cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum UploadCutState {
    /// No cut asked for (yet).
    #[default]
    None,
    /// Cut at this byte offset; answer `status` then, or drop the connection.
    Armed { at: u64, status: Option<u16> },
    /// Cut already: an upload is cut once.
    Done,
}

/// A finalized resumable upload, so a `query` after the finalize answers `final`.
pub(crate) struct FinishedUpload {
    pub(crate) size: u64,
    pub(crate) file_id: String,
}

/// How many finalized upload sessions are remembered for `query`.
const MAX_FINISHED_UPLOADS: usize = 1024;

/// A batch job.
pub(crate) struct Batch {
    pub(crate) name: String,
    pub(crate) model: String,
    pub(crate) display_name: Option<String>,
    pub(crate) state: BatchState,
    pub(crate) polls_left: u32,
    pub(crate) create_time: String,
    pub(crate) update_time: String,
    pub(crate) input: BatchInput,
    pub(crate) output: Option<Value>,
    pub(crate) request_count: usize,
    /// Items that ended in an error (known once the batch has run).
    pub(crate) failed_count: usize,
    /// Where the batch's completion event goes (`batch.webhookConfig`).
    pub(crate) webhook: Option<crate::webhooks::WebhookConfig>,
}

/// Where a batch is in its life: pending, running while it is polled, then succeeded (run on
/// the poll after its last) or cancelled. The wire's `BATCH_STATE_*` strings appear only at the
/// JSON boundary ([`wire`](Self::wire)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchState {
    Pending,
    Running,
    Succeeded,
    Cancelled,
}

impl BatchState {
    /// Whether the batch has finished (succeeded or cancelled).
    pub(crate) fn is_done(self) -> bool {
        match self {
            Self::Pending | Self::Running => false,
            Self::Succeeded | Self::Cancelled => true,
        }
    }

    /// The state after a poll that does not run the batch yet.
    pub(crate) fn polled(self) -> Self {
        match self {
            Self::Pending | Self::Running => Self::Running,
            done @ (Self::Succeeded | Self::Cancelled) => done,
        }
    }

    /// The state once the batch has run.
    pub(crate) fn finished(self) -> Self {
        match self {
            Self::Pending | Self::Running => Self::Succeeded,
            done @ (Self::Succeeded | Self::Cancelled) => done,
        }
    }

    /// The state after a cancel, or the finished state that refuses it.
    pub(crate) fn cancelled(self) -> Result<Self, Self> {
        match self {
            Self::Pending | Self::Running => Ok(Self::Cancelled),
            done @ (Self::Succeeded | Self::Cancelled) => Err(done),
        }
    }

    /// The state on the wire.
    pub(crate) fn wire(self) -> nanobanana_wire::BatchState {
        match self {
            Self::Pending => nanobanana_wire::BatchState::Pending,
            Self::Running => nanobanana_wire::BatchState::Running,
            Self::Succeeded => nanobanana_wire::BatchState::Succeeded,
            Self::Cancelled => nanobanana_wire::BatchState::Cancelled,
        }
    }
}

/// What a batch processes.
#[derive(Clone)]
pub(crate) enum BatchInput {
    /// Inline requests with their metadata.
    Inline(Vec<Value>),
    /// A JSONL file's lines (`{"key", "request"}`).
    File(Vec<Value>),
}

pub(crate) struct Store {
    pub(crate) files: BTreeMap<String, StoredFile>,
    pub(crate) uploads: HashMap<String, PendingUpload>,
    finished_uploads: HashMap<String, FinishedUpload>,
    pub(crate) batches: BTreeMap<String, Batch>,
    pub(crate) interactions: Interactions,
    stored_bytes: usize,
    counter: u64,
    max_files: usize,
    max_stored_bytes: usize,
    max_batches: usize,
}

impl Store {
    pub(crate) fn new(
        max_files: usize,
        max_stored_bytes: usize,
        max_batches: usize,
        max_interactions: usize,
    ) -> Self {
        Self {
            files: BTreeMap::new(),
            uploads: HashMap::new(),
            finished_uploads: HashMap::new(),
            batches: BTreeMap::new(),
            interactions: Interactions::new(max_interactions),
            stored_bytes: 0,
            counter: 0,
            max_files,
            max_stored_bytes,
            max_batches,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.files.clear();
        self.uploads.clear();
        self.finished_uploads.clear();
        self.batches.clear();
        self.interactions.clear();
        self.stored_bytes = 0;
    }

    /// A fresh id: 12 lower-case base-36 characters, unique per server.
    pub(crate) fn new_id(&mut self, salt: &str) -> String {
        self.counter += 1;
        let digest = Sha256::digest(format!("{salt}/{}", self.counter).as_bytes());
        let mut n = u128::from_le_bytes(digest[..16].try_into().unwrap_or([0; 16]));
        let mut id = String::with_capacity(12);
        for _ in 0..12 {
            let d = (n % 36) as u8;
            n /= 36;
            id.push(if d < 10 { b'0' + d } else { b'a' + d - 10 } as char);
        }
        id
    }

    /// Room for a new file of `len` bytes, or the error text.
    pub(crate) fn check_room(&self, len: usize) -> Result<(), String> {
        if self.files.len() + self.uploads.len() >= self.max_files {
            return Err(format!(
                "File storage quota exceeded: this nanobanana-mock server keeps at most {} files; delete some first.",
                self.max_files
            ));
        }
        self.check_bytes(len)
    }

    /// Room for `len` more bytes of an upload in progress (the storage quota, checked per
    /// chunk), or the error text.
    pub(crate) fn check_chunk(&self, len: usize) -> Result<(), String> {
        self.check_bytes(len)
    }

    /// Whether stored files, uploads in progress and `len` more bytes stay within the quota;
    /// saturating, so that a declared length of `u64::MAX` is refused, never wrapped past it.
    fn check_bytes(&self, len: usize) -> Result<(), String> {
        let pending = self
            .uploads
            .values()
            .fold(0usize, |sum, u| sum.saturating_add(u.data.len()));
        let total = self
            .stored_bytes
            .saturating_add(pending)
            .saturating_add(len);
        if total > self.max_stored_bytes {
            return Err(format!(
                "File storage quota exceeded: this nanobanana-mock server stores at most {} bytes of files; delete some first.",
                self.max_stored_bytes
            ));
        }
        Ok(())
    }

    /// Remembers a finalized upload session (bounded: the oldest are forgotten in bulk).
    pub(crate) fn finish_upload(&mut self, upload_id: String, finished: FinishedUpload) {
        if self.finished_uploads.len() >= MAX_FINISHED_UPLOADS {
            self.finished_uploads.clear();
        }
        self.finished_uploads.insert(upload_id, finished);
    }

    /// A finalized upload session, if remembered.
    pub(crate) fn finished_upload(&self, upload_id: &str) -> Option<&FinishedUpload> {
        self.finished_uploads.get(upload_id)
    }

    pub(crate) fn room_for_batch(&self) -> Result<(), String> {
        if self.batches.len() >= self.max_batches {
            return Err(format!(
                "Batch quota exceeded: this nanobanana-mock server keeps at most {} batches; delete some first.",
                self.max_batches
            ));
        }
        Ok(())
    }

    /// Stores a finished upload and returns its `File` resource.
    pub(crate) fn add_file(
        &mut self,
        base_uri: &str,
        id: String,
        display_name: Option<String>,
        mime_type: &str,
        bytes: Bytes,
    ) -> Value {
        let now = SystemTime::now();
        let created = rfc3339(now);
        let expires = rfc3339(now + Duration::from_secs(48 * 3600));
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut resource = json!({
            "name": format!("files/{id}"),
            "mimeType": mime_type,
            "sizeBytes": bytes.len().to_string(),
            "createTime": created,
            "updateTime": created,
            "expirationTime": expires,
            // The service sends base64 of the hex digest (as recorded).
            "sha256Hash": base64_standard(hex.as_bytes()),
            "uri": format!("{base_uri}/v1beta/files/{id}"),
            "state": "ACTIVE",
            "source": "UPLOADED",
        });
        if let Some(name) = display_name {
            resource["displayName"] = Value::String(name);
        }
        self.stored_bytes += bytes.len();
        self.files.insert(
            id,
            StoredFile {
                resource: resource.clone(),
                bytes,
            },
        );
        resource
    }

    pub(crate) fn remove_file(&mut self, id: &str) -> bool {
        match self.files.remove(id) {
            Some(file) => {
                self.stored_bytes -= file.bytes.len();
                true
            }
            None => false,
        }
    }

    /// The stored file a `fileUri` (`files/<id>` or a URL ending in it) names.
    pub(crate) fn file_by_uri(&self, uri: &str) -> Option<&StoredFile> {
        self.files.get(file_id_of_uri(uri)?)
    }
}

/// The id in `files/<id>` or `https://host/v1beta/files/<id>`.
pub(crate) fn file_id_of_uri(uri: &str) -> Option<&str> {
    let (_, id) = uri.rsplit_once("files/")?;
    let id = id.split(['?', '#', ':']).next()?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

pub(crate) fn base64_standard(bytes: &[u8]) -> String {
    nanobanana_wire::Base64Bytes::new(bytes.to_vec()).to_base64()
}

/// RFC 3339 with microseconds, UTC, like the service (`2026-03-05T08:45:30.118204Z`).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_micros(1_772_700_330_118_204);
        assert_eq!(rfc3339(t), "2026-03-05T08:45:30.118204Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn file_ids_come_from_names_and_urls() {
        assert_eq!(file_id_of_uri("files/abc"), Some("abc"));
        assert_eq!(
            file_id_of_uri("https://generativelanguage.googleapis.com/v1beta/files/g9ss"),
            Some("g9ss")
        );
        assert_eq!(file_id_of_uri("files/"), None);
        assert_eq!(file_id_of_uri("nothing"), None);
    }

    #[test]
    fn ids_are_unique_and_base36() {
        let mut store = Store::new(10, 100, 10, 10);
        let a = store.new_id("s");
        let b = store.new_id("s");
        assert_ne!(a, b);
        assert_eq!(a.len(), 12);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
    }
}
