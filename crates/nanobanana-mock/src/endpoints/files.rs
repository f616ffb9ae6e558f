//! The Files API: `files.get`, `files.list`, `files.delete` and the media download (uploads are
//! in [`uploads`](super::uploads)).

use serde_json::Value;

use super::{Ctx, page};
use crate::reply::{self, Reply, ReplyBody};
use crate::server::lock;

/// `GET files/{file}`.
pub(super) fn get(ctx: &Ctx<'_>, id: &str) -> Reply {
    match lock(&ctx.shared.store).files.get(id) {
        Some(file) => Reply::json(200, &file.resource),
        None => file_not_found(id),
    }
}

/// `DELETE files/{file}`.
pub(super) fn delete(ctx: &Ctx<'_>, id: &str) -> Reply {
    if lock(&ctx.shared.store).remove_file(id) {
        Reply::empty()
    } else {
        file_not_found(id)
    }
}

/// `GET /download/{version}/files/{file}:download`: the file's bytes with its MIME type.
pub(super) fn download(ctx: &Ctx<'_>, id: &str) -> Reply {
    match lock(&ctx.shared.store).files.get(id) {
        Some(file) => Reply {
            status: 200,
            headers: vec![(
                "content-type".into(),
                file.resource["mimeType"]
                    .as_str()
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
            )],
            body: ReplyBody::Full(file.bytes.clone()),
            reset_connection: false,
            fixed: false,
            note: None,
            replayed: false,
        },
        None => file_not_found(id),
    }
}

/// `GET files`: a page of the stored files.
pub(super) fn list(ctx: &Ctx<'_>) -> Reply {
    let store = lock(&ctx.shared.store);
    let files: Vec<&Value> = store.files.values().map(|f| &f.resource).collect();
    page(ctx.request, "files", files)
}

/// The service's answer for a file that does not exist (or is not the caller's): a 403.
pub(crate) fn file_not_found(id: &str) -> Reply {
    reply::error(
        403,
        &format!("You do not have permission to access the File {id} or it may not exist."),
        Vec::new(),
    )
}
