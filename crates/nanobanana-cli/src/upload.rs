//! `nanobanana upload FILE`: a file to the Files API, by the resumable protocol, streamed from
//! disk (one chunk in memory), resumed from the service's offset after a failed chunk, with a
//! bar of the bytes the service has confirmed (only on a terminal); optionally waits until the
//! service has processed it. Prints the file's name and URI (`fileData.fileUri`).

use std::path::Path;

use nanobanana_transport::UploadOptions;
use serde_json::json;

use crate::cli::{Global, UploadArgs};
use crate::service;
use crate::ui::{Failure, Ui};

/// MIME types by file extension, for the files the Gemini API takes as input.
const TYPES: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("heif", "image/heif"),
    ("gif", "image/gif"),
    ("pdf", "application/pdf"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("txt", "text/plain"),
    ("json", "application/json"),
    ("jsonl", "application/jsonl"),
];

/// The MIME type of `path` by its extension, or a refusal that says how to give one.
fn mime_type(path: &Path) -> Result<&'static str, Failure> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    TYPES
        .iter()
        .find(|(known, _)| *known == extension)
        .map(|(_, mime)| *mime)
        .ok_or_else(|| {
            let known: Vec<&str> = TYPES.iter().map(|(e, _)| *e).collect();
            Failure::refused(format!(
                "{}: no MIME type for the extension {extension:?}; give one with --mime TYPE (known extensions: {})",
                path.display(),
                known.join(", ")
            ))
        })
}

pub(crate) async fn run(ui: &Ui, global: &Global, args: &UploadArgs) -> Result<(), Failure> {
    let path = &args.file;
    if !path.is_file() {
        return Err(Failure::refused(format!(
            "{}: not a file that can be uploaded",
            path.display()
        )));
    }
    let mime = match &args.mime {
        Some(mime) if mime.contains('/') => mime.clone(),
        Some(mime) => {
            return Err(Failure::refused(format!(
                "--mime {mime:?} is not a MIME type (type/subtype, e.g. video/mp4)"
            )));
        }
        None => mime_type(path)?.to_owned(),
    };
    let display_name = args.display_name.clone().unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    service::check(global)?;
    let service = service::connect(global).await?;
    let spinner = ui.spinner(format!("uploading {}", path.display()));
    let progress = spinner.progress_handle();
    let options = UploadOptions::new()
        .with_display_name(display_name)
        .with_progress(move |p| progress(p.sent, p.total));
    let files = service.client().files();
    let uploaded = files.upload_path(path, &mime, &options).await;
    spinner.stop();
    let mut file = uploaded.map_err(|e| Failure::from_client(&e))?;
    if let Some(timeout) = args.wait {
        let name = file.name.clone().unwrap_or_default();
        let spinner = ui.spinner(format!("waiting for {name} to be processed"));
        let active = files.wait_active(&name, timeout).await;
        spinner.stop();
        file = active.map_err(|e| Failure::from_client(&e))?;
    }
    let name = file.name.clone().unwrap_or_default();
    let uri = file.uri.clone().unwrap_or_default();
    ui.say(&format!("uploaded {} as {name}\n{uri}", path.display()));
    ui.document(&json!({
        "ok": true,
        "name": name,
        "uri": uri,
        "mimeType": mime,
        "file": file,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_extension_or_a_clear_refusal() {
        assert_eq!(mime_type(Path::new("a/holiday.MP4")).unwrap(), "video/mp4");
        assert_eq!(
            mime_type(Path::new("x.jsonl")).unwrap(),
            "application/jsonl"
        );
        let refused = mime_type(Path::new("notes.xyz")).unwrap_err().text();
        assert!(refused.contains("--mime"), "{refused}");
    }
}
