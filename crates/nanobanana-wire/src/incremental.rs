//! Decoding a response while it arrives: [`ResponseDecoder`].
//!
//! [`decode_response`](crate::decode_response) needs the whole body in memory, so a client that
//! uses it holds the base64 text of every image (28 MB for a 4K image) next to the decoded
//! image (21 MB), and decodes only after the last byte. [`ResponseDecoder`] takes the body in
//! whatever pieces the network delivers and runs the same single pass as they come: it follows
//! the JSON structure with a small resumable state machine, decodes each image string
//! (`candidates[].content.parts[].inlineData.data`) in the same 16 KiB windows as the single
//! pass while it streams by, and keeps only the rest of the body (the skeleton, a few kB) with
//! each image text replaced by a short reference. When the last piece is in, serde parses the
//! skeleton, exactly as `decode_response` does after its pass.
//!
//! Anything the fast path does not take (an escape inside an image string, the URL-safe
//! alphabet or missing padding in a multi-window string, a malformed body, an escaped key) makes
//! the decoder keep the body as received from then on; the windows it had already decoded are
//! turned back into their text (strict padded base64 of whole groups re-encodes to the very
//! same text), and `finish` hands the rebuilt body to `decode_response`. So the result is
//! `decode_response`'s on the concatenated pieces, bit for bit and error for error, whatever
//! the piece boundaries.

use std::ops::Range;

use bytes::Bytes;

use crate::bytes::{CHUNK, encode_into};
use crate::fast::{next_call, parse_skeleton, write_reference};
use crate::skim::{MAX_DEPTH, Piece};
use crate::{GenerateContentResponse, Interaction, InteractionEvent};

/// A `GenerateContentResponse` body decoded as it arrives, piece by piece.
///
/// Feed it the body's pieces in order with [`feed`](Self::feed) (network chunks of any size,
/// down to single bytes), then call [`finish`](Self::finish). The result equals
/// [`decode_response`](crate::decode_response) on the whole body, errors included, while
/// the decoder holds only the decoded images, the JSON outside them and one 16 KiB window: the
/// images' base64 text is never held whole.
///
/// ```
/// let body = br#"{"candidates": [{"content": {"role": "model", "parts": [
///     {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
/// ]}}]}"#;
/// let mut decoder = nanobanana_wire::ResponseDecoder::with_size_hint(body.len());
/// for piece in body.chunks(7) {
///     decoder.feed(piece);
/// }
/// let response = decoder.finish()?;
/// assert_eq!(response, nanobanana_wire::decode_response(body)?);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug)]
pub struct ResponseDecoder {
    /// The body fed so far, minus the image texts decoded on the fast path (each replaced by a
    /// reference); the whole body from where the decoder fell back to keeping it.
    kept: Vec<u8>,
    /// Open objects and arrays.
    stack: Vec<Frame>,
    state: State,
    /// The fast path was left: everything from then on is kept as received.
    raw: bool,
    /// Images taken out of the body, in document order; the last one is in progress while
    /// `state` is [`State::Image`].
    images: Vec<Image>,
    /// Reference numbers of this decoder (taken at the first image).
    call: Option<u64>,
    /// Bytes fed so far.
    fed: usize,
    /// The whole body's length, when known (`Content-Length`).
    size_hint: Option<usize>,
    /// The part of the current image window that arrived in earlier pieces.
    window: Vec<u8>,
    /// Where a window is decoded before it is appended (stays in cache).
    scratch: Vec<u8>,
    /// The kind of the root object: a `generateContent` answer, or an Interactions API body.
    root: Kind,
}

/// One image taken out of the body.
#[derive(Debug)]
struct Image {
    /// Its reference in `kept`.
    reference: Range<usize>,
    /// Decoded bytes.
    bytes: Vec<u8>,
    /// How many of `bytes` came from whole middle windows (strict base64 without padding,
    /// which re-encodes to the text it came from).
    middle: usize,
    /// The text of the last window (at most 16 KiB), kept as received, for rebuilding the body.
    tail: Vec<u8>,
}

/// What a value stands for, by where it is in the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Other,
    Candidates,
    Candidate,
    Content,
    Parts,
    Part,
    InlineData,
    Data,
    /// A value of an Interactions API body that may hold images: an object looked into, or an
    /// array of such objects.
    Interaction,
}

/// An open container.
#[derive(Clone, Copy, Debug)]
enum Frame {
    /// An object of this kind, and which of its tracked members were seen (bits).
    Object(Kind, u8),
    /// An array whose items stand for this slot.
    Array(Slot),
}

/// Objects the single pass looks into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    Candidate,
    Content,
    Part,
    Blob,
    /// An object of an Interactions API body (an interaction, a step, a content, an event, a
    /// delta): its `data` string is an image.
    Interaction,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the root object.
    Start,
    /// Before a value.
    Value(Slot),
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,` in an object: a key.
    Key,
    /// Inside a key, whose text starts at this offset of `kept`.
    InKey(usize),
    /// After a key: `:` then a value of this slot.
    Colon(Slot),
    /// After `[`: `]` or a value of this slot.
    FirstItem(Slot),
    /// After a value: `,` or the end of its container.
    After,
    /// Inside a string that is skipped; `true` right after a backslash.
    InString(bool),
    /// Inside a number or a literal.
    Scalar,
    /// Inside an image string.
    Image,
    /// After the root object.
    End,
}

impl Default for ResponseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseDecoder {
    /// A decoder for a body of unknown length (a chunked answer, an event of a stream).
    pub fn new() -> Self {
        Self {
            kept: Vec::new(),
            stack: Vec::new(),
            state: State::Start,
            raw: false,
            images: Vec::new(),
            call: None,
            fed: 0,
            size_hint: None,
            window: Vec::new(),
            scratch: Vec::new(),
            root: Kind::Root,
        }
    }

    /// A decoder for an Interactions API body: an interaction (create, get, cancel) or one
    /// event of its stream. The images are the `data` strings of the objects under `steps`,
    /// `content`, `summary`, `delta`, `step` and `interaction`, as
    /// [`decode_interaction`](crate::decode_interaction) finds them; finish with
    /// [`finish_interaction`](Self::finish_interaction) or
    /// [`finish_interaction_event`](Self::finish_interaction_event).
    ///
    /// ```
    /// let body = br#"{"event_type": "step.delta", "event_id": "evt_9", "index": 1,
    ///     "delta": {"type": "image", "mime_type": "image/jpeg", "data": "/9j/4AAQ"}}"#;
    /// let mut decoder = nanobanana_wire::ResponseDecoder::for_interactions();
    /// for piece in body.chunks(5) {
    ///     decoder.feed(piece);
    /// }
    /// let event = decoder.finish_interaction_event()?;
    /// assert_eq!(event, nanobanana_wire::decode_interaction_event(body)?);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn for_interactions() -> Self {
        Self {
            root: Kind::Interaction,
            ..Self::new()
        }
    }

    /// A decoder for a body of `len` bytes (the answer's `Content-Length`): each image's buffer
    /// is sized once from it, so it is never grown (and copied) while the image arrives. A
    /// wrong hint costs only memory or copies, never correctness.
    pub fn with_size_hint(len: usize) -> Self {
        Self {
            size_hint: Some(len),
            ..Self::new()
        }
    }

    /// How many bytes were fed so far.
    pub fn fed(&self) -> usize {
        self.fed
    }

    /// Whether everything fed so far is ASCII whitespace (nothing, or an empty event).
    pub fn is_blank(&self) -> bool {
        self.images.is_empty() && self.kept.iter().all(u8::is_ascii_whitespace)
    }

    /// Takes the next piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        let at = self.scan(piece);
        self.fed += piece.len();
        if at < piece.len() {
            // The fast path was left at `at`: keep the rest as it is.
            self.kept.extend_from_slice(&piece[at..]);
        }
    }

    /// Ends the body and returns the response, exactly as
    /// [`decode_response`](crate::decode_response) returns it for the whole body.
    pub fn finish(self) -> serde_json::Result<GenerateContentResponse> {
        self.finish_with_body().0
    }

    /// [`finish`](Self::finish), also returning what the decoder kept of the body: the body
    /// exactly as received when the result is an error (so an error message can quote it at the
    /// error's line and column) or when no image was taken out of it; otherwise the body with
    /// each image's text replaced by a short reference (`#nb:...`).
    pub fn finish_with_body(self) -> (serde_json::Result<GenerateContentResponse>, Vec<u8>) {
        self.finish_as(crate::decode_response)
    }

    /// Ends an Interactions API answer ([`for_interactions`](Self::for_interactions)): the
    /// interaction, as [`decode_interaction`](crate::decode_interaction) returns it for the
    /// whole body.
    pub fn finish_interaction(self) -> serde_json::Result<Interaction> {
        self.finish_as(crate::decode_interaction).0
    }

    /// Ends one event of an Interactions API stream: the event, as
    /// [`decode_interaction_event`](crate::decode_interaction_event) returns it.
    pub fn finish_interaction_event(self) -> serde_json::Result<InteractionEvent> {
        self.finish_interaction_event_with_body().0
    }

    /// [`finish_interaction_event`](Self::finish_interaction_event), also returning what the
    /// decoder kept of the body (as [`finish_with_body`](Self::finish_with_body) does).
    pub fn finish_interaction_event_with_body(
        self,
    ) -> (serde_json::Result<InteractionEvent>, Vec<u8>) {
        self.finish_as(crate::decode_interaction_event)
    }

    /// The result as `whole` gives it for the whole body, and what was kept of the body.
    fn finish_as<T: serde::de::DeserializeOwned>(
        mut self,
        whole: fn(&[u8]) -> serde_json::Result<T>,
    ) -> (serde_json::Result<T>, Vec<u8>) {
        if self.raw || self.state != State::End || self.images.is_empty() {
            let body = self.into_body();
            return (whole(&body), body);
        }
        let images: Vec<Bytes> = self
            .images
            .iter_mut()
            .map(|image| Bytes::from(std::mem::take(&mut image.bytes)))
            .collect();
        let call = self.call.unwrap_or_default();
        if let Some(response) = parse_skeleton(&self.kept, call, images.clone()) {
            return (Ok(response), self.kept);
        }
        let body = rebuild(&self.kept, &self.images, &images);
        (whole(&body), body)
    }

    /// The body as received: the kept text with each image's text rebuilt.
    fn into_body(mut self) -> Vec<u8> {
        if self.state == State::Image {
            self.leave_image();
        }
        if self.images.is_empty() {
            return self.kept;
        }
        let bytes: Vec<Bytes> = self
            .images
            .iter_mut()
            .map(|image| Bytes::from(std::mem::take(&mut image.bytes)))
            .collect();
        rebuild(&self.kept, &self.images, &bytes)
    }

    /// Leaves the fast path: from now on, everything is kept as received.
    fn go_raw(&mut self) {
        if self.state == State::Image {
            self.leave_image();
        }
        self.raw = true;
    }

    /// Turns the image in progress back into its text in `kept`.
    fn leave_image(&mut self) {
        if let Some(image) = self.images.pop() {
            self.kept.truncate(image.reference.start);
            encode_into(&image.bytes[..image.middle], &mut self.kept);
            self.kept.extend_from_slice(&self.window);
            self.window.clear();
        }
        self.state = State::InString(false);
    }

    /// Runs the state machine over `piece`; returns where it left the fast path (the length of
    /// `piece` when it did not).
    fn scan(&mut self, piece: &[u8]) -> usize {
        let mut i = 0;
        while i < piece.len() {
            if self.raw {
                return i;
            }
            match self.state {
                State::Image => {
                    i = self.image(piece, i);
                    continue;
                }
                State::InString(escaped) => {
                    i = self.string(piece, i, escaped);
                    continue;
                }
                State::InKey(start) => {
                    i = self.key(piece, i, start);
                    continue;
                }
                _ => {}
            }
            let byte = piece[i];
            if self.state == State::Scalar
                && matches!(byte, b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}')
            {
                self.state = State::After;
                continue;
            }
            self.kept.push(byte);
            if matches!(byte, b' ' | b'\n' | b'\r' | b'\t') && self.state != State::Scalar {
                i += 1;
                continue;
            }
            let consumed = match self.state {
                State::Start => byte == b'{' && self.open(self.root),
                State::Value(slot) => self.value(slot, byte),
                State::FirstKey if byte == b'}' => self.close(b'}'),
                State::FirstKey | State::Key if byte == b'"' => {
                    self.state = State::InKey(self.kept.len());
                    true
                }
                State::Colon(slot) if byte == b':' => {
                    self.state = State::Value(slot);
                    true
                }
                State::FirstItem(_) if byte == b']' => self.close(b']'),
                State::FirstItem(slot) => self.value(slot, byte),
                State::After => self.after(byte),
                State::Scalar => true,
                _ => false,
            };
            if !consumed {
                self.kept.pop();
                self.go_raw();
                return i;
            }
            i += 1;
        }
        piece.len()
    }

    /// The start of a value of `slot`; whether `byte` was taken.
    fn value(&mut self, slot: Slot, byte: u8) -> bool {
        match (slot, byte) {
            (Slot::Other, b'{') => self.open(Kind::Other),
            (Slot::Candidate, b'{') => self.open(Kind::Candidate),
            (Slot::Content, b'{') => self.open(Kind::Content),
            (Slot::Part, b'{') => self.open(Kind::Part),
            (Slot::InlineData, b'{') => self.open(Kind::Blob),
            (Slot::Interaction, b'{') => self.open(Kind::Interaction),
            (Slot::Other | Slot::Candidates | Slot::Parts | Slot::Interaction, b'[') => {
                if self.stack.len() >= MAX_DEPTH {
                    return false;
                }
                let item = match slot {
                    Slot::Candidates => Slot::Candidate,
                    Slot::Parts => Slot::Part,
                    Slot::Interaction => Slot::Interaction,
                    _ => Slot::Other,
                };
                self.stack.push(Frame::Array(item));
                self.state = State::FirstItem(item);
                true
            }
            (Slot::Other, b'"') => {
                self.state = State::InString(false);
                true
            }
            (Slot::Data, b'"') => {
                self.begin_image();
                true
            }
            (Slot::Other | Slot::Interaction, b',' | b':' | b']' | b'}') => false,
            (Slot::Interaction, b'"') => {
                self.state = State::InString(false);
                true
            }
            (Slot::Other | Slot::Interaction, _) => {
                self.state = State::Scalar;
                true
            }
            // `null` in a member the single pass reads (serde checks the spelling).
            (
                Slot::Candidates | Slot::Content | Slot::Parts | Slot::InlineData | Slot::Data,
                b'n',
            ) => {
                self.state = State::Scalar;
                true
            }
            _ => false,
        }
    }

    fn open(&mut self, kind: Kind) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            return false;
        }
        self.stack.push(Frame::Object(kind, 0));
        self.state = State::FirstKey;
        true
    }

    fn close(&mut self, byte: u8) -> bool {
        match (self.stack.last(), byte) {
            (Some(Frame::Object(..)), b'}') | (Some(Frame::Array(_)), b']') => {
                self.stack.pop();
                self.state = if self.stack.is_empty() {
                    State::End
                } else {
                    State::After
                };
                true
            }
            _ => false,
        }
    }

    fn after(&mut self, byte: u8) -> bool {
        match (self.stack.last(), byte) {
            (Some(Frame::Object(..)), b',') => {
                self.state = State::Key;
                true
            }
            (Some(&Frame::Array(item)), b',') => {
                self.state = State::Value(item);
                true
            }
            (_, b'}' | b']') => self.close(byte),
            _ => false,
        }
    }

    /// Inside a skipped string, from `i`; returns where it stopped.
    fn string(&mut self, piece: &[u8], mut i: usize, escaped: bool) -> usize {
        if escaped {
            self.kept.push(piece[i]);
            i += 1;
        }
        match memchr::memchr2(b'"', b'\\', &piece[i..]) {
            Some(j) => {
                self.kept.extend_from_slice(&piece[i..=i + j]);
                self.state = if piece[i + j] == b'"' {
                    State::After
                } else {
                    State::InString(true)
                };
                i + j + 1
            }
            None => {
                self.kept.extend_from_slice(&piece[i..]);
                self.state = State::InString(false);
                piece.len()
            }
        }
    }

    /// Inside a key whose text starts at `kept[start]`, from `i`; returns where it stopped.
    fn key(&mut self, piece: &[u8], i: usize, start: usize) -> usize {
        match memchr::memchr2(b'"', b'\\', &piece[i..]) {
            Some(j) if piece[i + j] == b'"' => {
                self.kept.extend_from_slice(&piece[i..i + j]);
                let slot = self.member(start);
                self.kept.push(b'"');
                match slot {
                    Some(slot) => self.state = State::Colon(slot),
                    None => self.go_raw(),
                }
                i + j + 1
            }
            Some(j) => {
                // An escaped key: the single pass unescapes keys; leave that to it.
                self.kept.extend_from_slice(&piece[i..i + j]);
                self.go_raw();
                i + j
            }
            None => {
                self.kept.extend_from_slice(&piece[i..]);
                piece.len()
            }
        }
    }

    /// The slot of the member whose key is `kept[start..]`, or `None` for a repeated member the
    /// single pass refuses.
    fn member(&mut self, start: usize) -> Option<Slot> {
        let Some(Frame::Object(kind, seen)) = self.stack.last_mut() else {
            return None;
        };
        let (slot, bit) = match (*kind, &self.kept[start..]) {
            (Kind::Root, b"candidates") => (Slot::Candidates, 1),
            (Kind::Candidate, b"content") => (Slot::Content, 1),
            (Kind::Content, b"parts") => (Slot::Parts, 1),
            (Kind::Part, b"inlineData" | b"inline_data") => (Slot::InlineData, 1),
            (Kind::Part, b"thought") => (Slot::Other, 2),
            (Kind::Blob, b"data") => (Slot::Data, 1),
            (Kind::Blob, b"mimeType" | b"mime_type") => (Slot::Other, 2),
            (Kind::Interaction, b"data") => (Slot::Data, 1),
            (
                Kind::Interaction,
                b"steps" | b"content" | b"summary" | b"delta" | b"step" | b"interaction",
            ) => (Slot::Interaction, 0),
            _ => (Slot::Other, 0),
        };
        if *seen & bit != 0 {
            return None;
        }
        *seen |= bit;
        Some(slot)
    }

    /// After an image string's opening quote (in `kept`): its reference goes into the skeleton.
    fn begin_image(&mut self) {
        let call = *self.call.get_or_insert_with(next_call);
        let start = self.kept.len();
        write_reference(&mut self.kept, call, self.images.len());
        self.images.push(Image {
            reference: start..self.kept.len(),
            bytes: Vec::new(),
            middle: 0,
            tail: Vec::new(),
        });
        if self.scratch.is_empty() {
            self.scratch = vec![0; CHUNK / 4 * 3];
        }
        self.window.clear();
        self.state = State::Image;
    }

    /// Inside an image string, from `i`; returns where it stopped.
    fn image(&mut self, piece: &[u8], mut i: usize) -> usize {
        if let (Some(len), Some(image)) = (self.size_hint, self.images.last_mut())
            && image.bytes.capacity() == 0
        {
            // The text cannot be longer than the rest of the body.
            let rest = len.saturating_sub(self.fed + i);
            image.bytes.reserve_exact(rest.div_ceil(4) * 3);
        }
        while i < piece.len() {
            if self.window.is_empty() && piece.len() - i >= CHUNK {
                // A whole window in this piece: decoded in place.
                let window = &piece[i..i + CHUNK];
                match memchr::memchr2(b'"', b'\\', window) {
                    Some(j) if window[j] == b'"' => {
                        if !self.end_image(&window[..j]) {
                            self.go_raw();
                            return i;
                        }
                        return i + j + 1;
                    }
                    Some(_) => {
                        self.go_raw();
                        return i;
                    }
                    None => {
                        if !self.middle(window) {
                            self.go_raw();
                            return i;
                        }
                        i += CHUNK;
                    }
                }
            } else {
                // A window split across pieces: gathered in `window` (at most 16 KiB).
                let take = (CHUNK - self.window.len()).min(piece.len() - i);
                let part = &piece[i..i + take];
                let mut window = std::mem::take(&mut self.window);
                match memchr::memchr2(b'"', b'\\', part) {
                    Some(j) if part[j] == b'"' => {
                        window.extend_from_slice(&part[..j]);
                        let ended = self.end_image(&window);
                        if ended {
                            window.clear();
                        }
                        self.window = window;
                        if !ended {
                            self.go_raw();
                            return i + j;
                        }
                        return i + j + 1;
                    }
                    Some(j) => {
                        window.extend_from_slice(&part[..j]);
                        self.window = window;
                        self.go_raw();
                        return i + j;
                    }
                    None => {
                        window.extend_from_slice(part);
                        i += take;
                        let decoded = window.len() < CHUNK || self.middle(&window);
                        if window.len() == CHUNK && decoded {
                            window.clear();
                        }
                        self.window = window;
                        if !decoded {
                            self.go_raw();
                            return i;
                        }
                    }
                }
            }
        }
        i
    }

    /// Decodes one whole middle window; `false` when it is not strict padded-free base64.
    fn middle(&mut self, window: &[u8]) -> bool {
        if window.last() == Some(&b'=') {
            return false;
        }
        let Some(image) = self.images.last_mut() else {
            return false;
        };
        match Piece::Middle.decode(window, &mut self.scratch) {
            Some(n) => {
                image.bytes.extend_from_slice(&self.scratch[..n]);
                image.middle += n;
                true
            }
            None => false,
        }
    }

    /// Decodes the last window of an image (`text`, before the closing quote); `false` when the
    /// fast path does not take it.
    fn end_image(&mut self, text: &[u8]) -> bool {
        let Some(image) = self.images.last_mut() else {
            return false;
        };
        let piece = if image.middle == 0 {
            Piece::Only
        } else {
            Piece::Last
        };
        let Some(n) = piece.decode(text, &mut self.scratch) else {
            return false;
        };
        image.bytes.extend_from_slice(&self.scratch[..n]);
        // The room reserved was the rest of the body: give back what later images will need.
        if image.bytes.capacity() - image.bytes.len() > 64 * 1024 {
            image.bytes.shrink_to_fit();
        }
        image.tail = text.to_vec();
        self.kept.push(b'"');
        self.state = State::After;
        true
    }
}

/// The body as received: `kept` with each image's reference replaced by its text.
fn rebuild(kept: &[u8], images: &[Image], bytes: &[Bytes]) -> Vec<u8> {
    let texts: usize = images
        .iter()
        .map(|image| image.middle.div_ceil(3) * 4 + image.tail.len())
        .sum();
    let mut body = Vec::with_capacity(kept.len() + texts);
    let mut at = 0;
    for (image, bytes) in images.iter().zip(bytes) {
        body.extend_from_slice(&kept[at..image.reference.start]);
        encode_into(&bytes[..image.middle], &mut body);
        body.extend_from_slice(&image.tail);
        at = image.reference.end;
    }
    body.extend_from_slice(&kept[at..]);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Outcome = std::result::Result<GenerateContentResponse, String>;

    /// Feeds `body` cut at the given piece lengths (cycled; the rest in one piece).
    fn pieces(body: &[u8], lengths: &[usize]) -> (Outcome, Vec<u8>) {
        let mut decoder = ResponseDecoder::with_size_hint(body.len());
        let mut at = 0;
        for &len in lengths.iter().cycle().take(body.len() + 1) {
            if at >= body.len() {
                break;
            }
            let end = (at + len.max(1)).min(body.len());
            decoder.feed(&body[at..end]);
            at = end;
        }
        decoder.feed(&body[at..]);
        assert_eq!(decoder.fed(), body.len());
        let (result, kept) = decoder.finish_with_body();
        (result.map_err(|e| e.to_string()), kept)
    }

    fn whole(body: &[u8]) -> Outcome {
        crate::decode_response(body).map_err(|e| e.to_string())
    }

    /// Checks the incremental decoder against `decode_response` at these cuts.
    fn agree(body: &[u8], lengths: &[usize]) -> std::result::Result<(), TestCaseError> {
        let (got, kept) = pieces(body, lengths);
        let expected = whole(body);
        prop_assert_eq!(
            &got,
            &expected,
            "cuts {:?}",
            &lengths[..lengths.len().min(8)]
        );
        if got.is_err() {
            prop_assert!(kept == body, "the kept body differs from the body");
        } else {
            prop_assert!(
                kept.len() <= body.len() + 64,
                "kept {} of {}",
                kept.len(),
                body.len()
            );
        }
        Ok(())
    }

    fn image_body(data: &str) -> String {
        format!(
            "{{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \"a\\\\\\\"b\\u00e9\"}},\r\n\
             {{\"inlineData\": {{\"mimeType\": \"image/png\", \"data\": \"{data}\"}}, \"thought\": true}}]}}}}],\r\n\
             \"usageMetadata\": {{\"totalTokenCount\": 3}}}}"
        )
    }

    #[test]
    fn every_split_of_a_small_body() {
        for data in ["AAEC", "AAE", "AA-_", "AA\\/B", "!!!!", ""] {
            let body = image_body(data);
            let body = body.as_bytes();
            for cut in 0..=body.len() {
                agree(body, &[cut]).unwrap();
            }
            agree(body, &[1]).unwrap();
        }
    }

    #[test]
    fn large_images_are_not_kept_and_odd_ones_fall_back() {
        use base64::Engine as _;
        let raw: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&raw);
        let body = image_body(&standard);
        for lengths in [
            &[1][..],
            &[3, 4096],
            &[CHUNK],
            &[CHUNK - 1],
            &[100_000],
            &[7, 65_536],
        ] {
            let (got, kept) = pieces(body.as_bytes(), lengths);
            assert_eq!(got, whole(body.as_bytes()));
            assert!(kept.len() < 400, "kept {} bytes", kept.len());
        }
        let mut mixed = standard.clone();
        mixed.truncate(CHUNK * 3);
        mixed.push_str("-_-_");
        let escaped = standard.replace('/', "\\/");
        let padded_mid = format!("{}QQ=={}", &standard[..CHUNK - 4], &standard[CHUNK..]);
        let mut unpadded = standard.clone();
        unpadded.truncate(CHUNK * 2 + 6);
        for data in [mixed, escaped, padded_mid, unpadded] {
            let body = image_body(&data);
            for lengths in [&[1][..], &[5000], &[CHUNK + 1], &[1 << 20]] {
                agree(body.as_bytes(), lengths).unwrap();
            }
        }
        // Cut off inside the image, and trailing garbage after the root.
        agree(&body.as_bytes()[..body.len() / 2], &[4096]).unwrap();
        agree(format!("{body} x").as_bytes(), &[4096]).unwrap();
        agree(format!("{body}\r\n").as_bytes(), &[4096]).unwrap();
    }

    #[test]
    fn blank_and_textual_bodies() {
        let decoder = ResponseDecoder::new();
        assert!(decoder.is_blank());
        let mut decoder = ResponseDecoder::new();
        decoder.feed(b" \r\n");
        assert!(decoder.is_blank());
        decoder.feed(b"{}");
        assert!(!decoder.is_blank());
        assert!(decoder.finish().is_ok());
        for body in [
            &b""[..],
            b"{\"error\": {\"code\": 500}}",
            b"[{\"error\": {}}]",
            b"{\"candidates\": null}",
            b"{\"candidates\": [null]}",
            b"{\"candidates\": [], \"candidates\": []}",
            b"{\"d\\u0061ta\": 1}",
        ] {
            agree(body, &[1]).unwrap();
            agree(body, &[100]).unwrap();
        }
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(127), "]".repeat(127));
        agree(deep.as_bytes(), &[3]).unwrap();
        let deeper = format!("{{\"a\": {}1{}}}", "[".repeat(128), "]".repeat(128));
        agree(deeper.as_bytes(), &[3]).unwrap();
    }

    /// Piece lengths: single bytes, small odd sizes (boundaries inside escapes, base64 quads
    /// and `\r\n`), network-like sizes, and whole windows.
    fn lengths() -> impl Strategy<Value = Vec<usize>> {
        prop_oneof![
            Just(vec![1]),
            prop::collection::vec(1..12usize, 1..20),
            prop::collection::vec(1..70_000usize, 1..8),
            prop::collection::vec(
                prop_oneof![Just(CHUNK - 1), Just(CHUNK), Just(CHUNK + 3)],
                1..4
            ),
        ]
    }

    /// A body as the skim tests make them, with CRLF line ends in places.
    fn body() -> impl Strategy<Value = String> {
        (crate::skim::tests::body(), any::<bool>()).prop_map(|(body, crlf)| {
            if crlf {
                body.replace('\n', "\r\n")
            } else {
                body
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// At any cuts, the incremental decoder gives what `decode_response` gives.
        #[test]
        fn agrees_with_decode_response(body in body(), lengths in lengths()) {
            agree(body.as_bytes(), &lengths)?;
        }

        /// Damaged bodies too (errors, texts and fallbacks included).
        #[test]
        fn agrees_on_damaged_bodies(
            body in body(),
            damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..3),
            cut in any::<prop::sample::Index>(),
            lengths in lengths(),
        ) {
            let mut bytes = body.into_bytes();
            for (at, byte) in damage {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            agree(&bytes, &lengths)?;
            let end = cut.index(bytes.len() + 1);
            agree(&bytes[..end], &lengths)?;
        }
    }
}
