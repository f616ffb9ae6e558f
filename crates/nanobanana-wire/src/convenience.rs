//! Hand-written constructors for the request shapes everyone writes; the generated `with_*`
//! builders cover the rest.

use crate::{Blob, Content, FileData, Part, Role};

impl Part {
    /// A text part.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self::new().with_text(text)
    }

    /// An inline image (or other media) part from raw bytes; they travel as base64.
    pub fn from_bytes(mime_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self::new().with_inline_data(
            Blob::new()
                .with_mime_type(mime_type)
                .with_data(bytes.into()),
        )
    }

    /// A part referencing an uploaded file by its URI (Files API).
    pub fn from_file_uri(mime_type: impl Into<String>, file_uri: impl Into<String>) -> Self {
        Self::new().with_file_data(
            FileData::new()
                .with_mime_type(mime_type)
                .with_file_uri(file_uri),
        )
    }

    /// Whether this part is a thought (`"thought": true`).
    pub fn is_thought(&self) -> bool {
        self.thought == Some(true)
    }
}

impl Content {
    /// A user turn.
    pub fn user<T: Into<Part>>(parts: impl IntoIterator<Item = T>) -> Self {
        Self::new().with_role(Role::User).with_parts(parts)
    }

    /// A model turn (for sending history back: use the parts exactly as received).
    pub fn model<T: Into<Part>>(parts: impl IntoIterator<Item = T>) -> Self {
        Self::new().with_role(Role::Model).with_parts(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_make_the_documented_shapes() {
        let content = Content::user([
            Part::from_text("Make it blue"),
            Part::from_bytes("image/png", vec![0x89, b'P']),
        ]);
        assert_eq!(
            serde_json::to_value(&content).unwrap(),
            serde_json::json!({"role": "user", "parts": [
                {"text": "Make it blue"},
                {"inlineData": {"mimeType": "image/png", "data": "iVA="}}
            ]})
        );
        let file = Part::from_file_uri("image/jpeg", "https://example.invalid/files/abc");
        assert_eq!(
            serde_json::to_value(&file).unwrap()["fileData"]["fileUri"],
            "https://example.invalid/files/abc"
        );
        assert!(!file.is_thought());
    }
}
