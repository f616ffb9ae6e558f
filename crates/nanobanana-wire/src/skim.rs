//! The single-pass reader behind [`decode_images_into`](crate::decode_images_into).
//!
//! It walks the JSON structure of a response body, skips everything except the image fields
//! (`candidates[].content.parts[].inlineData.{data,mimeType}` and `parts[].thought`), and decodes
//! each image's base64 text in cache-sized chunks while it scans for the closing quote. A
//! multi-megabyte string is read from memory once, instead of once by a JSON parser looking for
//! its end and once more by the base64 decoder.
//!
//! Anything unusual in an image string (JSON escapes such as `\/`, the URL-safe alphabet,
//! missing padding, invalid symbols) sends that one string down the general path: located,
//! unescaped if needed, and decoded as a whole by [`decode_to_slice`], which produces the same
//! bytes and the same error texts as the typed decoder.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use crate::bytes::{Base64Error, CHUNK, decode, decode_capacity, decode_to_slice};
use crate::images::{ImageSpan, ImagesError};

/// Nesting limit, as `serde_json`'s: deeper documents are refused instead of exhausting the stack.
pub(crate) const MAX_DEPTH: usize = 128;

type Result<T> = std::result::Result<T, ImagesError>;

/// Decodes the images of `body` into `out`; see [`decode_images_into`](crate::decode_images_into).
pub(crate) fn decode_images(body: &[u8], out: &mut Vec<u8>) -> Result<Vec<ImageSpan>> {
    let mut sink = Shared {
        out,
        end: 0,
        written: 0,
    };
    let spans = skim(body, &mut sink)?;
    let end = sink.end;
    out.truncate(end);
    Ok(spans)
}

/// One image decoded into its own vector, with where its base64 text stands in the body.
pub(crate) struct SeparateImage {
    /// The string's content (between the quotes) in the body.
    pub(crate) text: Range<usize>,
    /// The decoded bytes, in an exactly sized vector.
    pub(crate) bytes: Vec<u8>,
}

/// Decodes every image of `body` into a vector of its own, in document order.
pub(crate) fn decode_images_separately(body: &[u8]) -> Result<Vec<SeparateImage>> {
    let mut sink = Separate {
        current: Vec::new(),
        images: Vec::new(),
        scratch: vec![0; CHUNK / 4 * 3],
    };
    skim(body, &mut sink)?;
    Ok(sink.images)
}

/// Decodes every image of an Interactions API body (an interaction, or one event of its
/// stream) into a vector of its own, in document order: the `data` strings of the objects under
/// `steps`, `content`, `summary`, `delta`, `step` and `interaction`.
pub(crate) fn decode_interaction_images_separately(body: &[u8]) -> Result<Vec<SeparateImage>> {
    let mut sink = Separate {
        current: Vec::new(),
        images: Vec::new(),
        scratch: vec![0; CHUNK / 4 * 3],
    };
    let mut skim = Skim {
        body,
        pos: 0,
        depth: 0,
        sink: &mut sink,
        spans: Vec::new(),
    };
    skim.whitespace();
    if skim.peek() != Some(b'{') {
        return Err(skim.error("expected a JSON object"));
    }
    skim.interaction_object(0, 0)?;
    skim.whitespace();
    if skim.pos != body.len() {
        return Err(skim.error("trailing characters"));
    }
    Ok(sink.images)
}

fn skim<S: Sink>(body: &[u8], sink: &mut S) -> Result<Vec<ImageSpan>> {
    let mut skim = Skim {
        body,
        pos: 0,
        depth: 0,
        sink,
        spans: Vec::new(),
    };
    skim.whitespace();
    if skim.peek() != Some(b'{') {
        return Err(skim.error("expected a JSON object"));
    }
    skim.response()?;
    skim.whitespace();
    if skim.pos != body.len() {
        return Err(skim.error("trailing characters"));
    }
    Ok(skim.spans)
}

/// Which piece of an image string a [`Sink`] is given, which decides the decoder.
#[derive(Clone, Copy)]
pub(crate) enum Piece {
    /// A whole chunk, more to come: strict padded standard base64 only.
    Middle,
    /// The end of a string that had middle chunks: standard alphabet, padding optional.
    Last,
    /// A whole string that fit in one chunk: the general decoder.
    Only,
}

impl Piece {
    pub(crate) fn decode(self, text: &[u8], out: &mut [u8]) -> Option<usize> {
        match self {
            Piece::Middle => base64_turbo::STANDARD.decode_slice(text, out).ok(),
            Piece::Last if text.iter().any(|&b| b == b'-' || b == b'_') => None,
            Piece::Last | Piece::Only => decode_to_slice(text, out).ok(),
        }
    }
}

/// Where decoded images go.
trait Sink {
    /// An image string starts; it decodes to at most `capacity` bytes.
    fn begin(&mut self, capacity: usize);
    /// Decodes one piece of the string's text after the previous ones; `false` when the piece
    /// is not what this piece may be (the caller then restarts with [`Sink::whole`]).
    fn piece(&mut self, text: &[u8], piece: Piece) -> bool;
    /// Decodes the whole (unescaped) text with the general decoder, replacing any pieces.
    fn whole(&mut self, text: &[u8]) -> std::result::Result<(), Base64Error>;
    /// The string ended; its content is `body[text]`. Returns where the image landed.
    fn finish(&mut self, text: Range<usize>) -> Range<usize>;
}

/// All images one after another in the caller's buffer.
struct Shared<'o> {
    out: &'o mut Vec<u8>,
    /// End of the finished images.
    end: usize,
    /// End of the image being decoded.
    written: usize,
}

impl Sink for Shared<'_> {
    fn begin(&mut self, capacity: usize) {
        // A reused buffer that already holds as much is neither grown nor cleared.
        let needed = self.end + capacity;
        if self.out.len() < needed {
            self.out.reserve_exact(needed - self.out.len());
            self.out.resize(needed, 0);
        }
        self.written = self.end;
    }

    fn piece(&mut self, text: &[u8], piece: Piece) -> bool {
        match piece.decode(text, &mut self.out[self.written..]) {
            Some(n) => {
                self.written += n;
                true
            }
            None => false,
        }
    }

    fn whole(&mut self, text: &[u8]) -> std::result::Result<(), Base64Error> {
        self.written = self.end + decode_to_slice(text, &mut self.out[self.end..])?;
        Ok(())
    }

    fn finish(&mut self, _text: Range<usize>) -> Range<usize> {
        let range = self.end..self.written;
        self.end = self.written;
        range
    }
}

/// Each image in a vector of its own, filled through a small scratch buffer so that the
/// vector's memory is written once (no zero-fill before the decode).
struct Separate {
    current: Vec<u8>,
    images: Vec<SeparateImage>,
    scratch: Vec<u8>,
}

impl Sink for Separate {
    fn begin(&mut self, capacity: usize) {
        self.current = Vec::with_capacity(capacity);
    }

    fn piece(&mut self, text: &[u8], piece: Piece) -> bool {
        match piece.decode(text, &mut self.scratch) {
            Some(n) => {
                self.current.extend_from_slice(&self.scratch[..n]);
                true
            }
            None => false,
        }
    }

    fn whole(&mut self, text: &[u8]) -> std::result::Result<(), Base64Error> {
        self.current = decode(text)?;
        Ok(())
    }

    fn finish(&mut self, text: Range<usize>) -> Range<usize> {
        let mut bytes = std::mem::take(&mut self.current);
        // The room reserved was the rest of the body: give back what later images will need.
        if bytes.capacity() - bytes.len() > 64 * 1024 {
            bytes.shrink_to_fit();
        }
        self.images.push(SeparateImage { text, bytes });
        0..0
    }
}

struct Skim<'a, 's, S> {
    body: &'a [u8],
    pos: usize,
    depth: usize,
    sink: &'s mut S,
    spans: Vec<ImageSpan>,
}

/// The fields of one part that end up in its [`ImageSpan`].
#[derive(Default)]
struct PartFields {
    thought: Option<bool>,
    mime_type: Option<String>,
    image: Option<Range<usize>>,
}

impl<'a, S: Sink> Skim<'a, '_, S> {
    fn error(&self, what: impl fmt::Display) -> ImagesError {
        error_at(self.body, self.pos, what)
    }

    fn peek(&self) -> Option<u8> {
        self.body.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8, what: &str) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else if self.pos >= self.body.len() {
            Err(self.error(format_args!("EOF while expecting {what}")))
        } else {
            Err(self.error(format_args!("expected {what}")))
        }
    }

    /// Whether the value at the cursor is `null` (consumed if so).
    fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Calls `field` for each member of the object at the cursor, positioned at the value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> Result<()>) -> Result<()> {
        self.enter()?;
        self.eat(b'{', "`{`")?;
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key string"));
            }
            let key = self.key()?;
            self.whitespace();
            self.eat(b':', "`:`")?;
            self.whitespace();
            field(self, &key)?;
            self.whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("expected `,` or `}`")),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Calls `item` for each element of the array at the cursor, with its index.
    fn array(&mut self, mut item: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        self.enter()?;
        self.eat(b'[', "`[`")?;
        self.whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            self.whitespace();
            item(self, index)?;
            index += 1;
            self.whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.error("EOF while parsing a list")),
                Some(_) => return Err(self.error("expected `,` or `]`")),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(())
    }

    fn duplicate(&self, seen: &mut bool, name: &str) -> Result<()> {
        if std::mem::replace(seen, true) {
            return Err(self.error(format_args!("duplicate field `{name}`")));
        }
        Ok(())
    }

    fn response(&mut self) -> Result<()> {
        let mut seen = false;
        self.object(|s, key| match key {
            b"candidates" => {
                s.duplicate(&mut seen, "candidates")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'[', "candidates", "an array")?;
                s.array(|s, c| s.candidate(c))
            }
            _ => s.skip_value(),
        })
    }

    fn candidate(&mut self, candidate: usize) -> Result<()> {
        self.expect_kind(b'{', "candidate", "an object")?;
        let mut seen = false;
        self.object(|s, key| match key {
            b"content" => {
                s.duplicate(&mut seen, "content")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'{', "content", "an object")?;
                s.content(candidate)
            }
            _ => s.skip_value(),
        })
    }

    fn content(&mut self, candidate: usize) -> Result<()> {
        let mut seen = false;
        self.object(|s, key| match key {
            b"parts" => {
                s.duplicate(&mut seen, "parts")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'[', "parts", "an array")?;
                s.array(|s, p| s.part(candidate, p))
            }
            _ => s.skip_value(),
        })
    }

    fn part(&mut self, candidate: usize, part: usize) -> Result<()> {
        self.expect_kind(b'{', "part", "an object")?;
        let mut fields = PartFields::default();
        let (mut seen_blob, mut seen_thought) = (false, false);
        self.object(|s, key| match key {
            b"inlineData" | b"inline_data" => {
                s.duplicate(&mut seen_blob, "inlineData")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'{', "inlineData", "an object")?;
                s.blob(candidate, part, &mut fields)
            }
            b"thought" => {
                s.duplicate(&mut seen_thought, "thought")?;
                fields.thought = match s.peek() {
                    Some(b't') => s.literal(b"true").map(|()| Some(true))?,
                    Some(b'f') => s.literal(b"false").map(|()| Some(false))?,
                    Some(b'n') => s.literal(b"null").map(|()| None)?,
                    _ => return Err(s.error("invalid type for `thought`, expected a boolean")),
                };
                Ok(())
            }
            _ => s.skip_value(),
        })?;
        if let Some(range) = fields.image {
            self.spans.push(ImageSpan {
                candidate,
                part,
                thought: fields.thought == Some(true),
                mime_type: fields.mime_type,
                range,
            });
        }
        Ok(())
    }

    fn blob(&mut self, candidate: usize, part: usize, fields: &mut PartFields) -> Result<()> {
        let (mut seen_mime, mut seen_data) = (false, false);
        self.object(|s, key| match key {
            b"mimeType" | b"mime_type" => {
                s.duplicate(&mut seen_mime, "mimeType")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'"', "mimeType", "a string")?;
                let text = s.string()?;
                let text = String::from_utf8(text.into_owned())
                    .map_err(|_| s.error("invalid UTF-8 in `mimeType`"))?;
                fields.mime_type = Some(text);
                Ok(())
            }
            b"data" => {
                s.duplicate(&mut seen_data, "data")?;
                if s.null()? {
                    return Ok(());
                }
                s.expect_kind(b'"', "data", "a base64 string")?;
                fields.image = Some(s.image(candidate, part)?);
                Ok(())
            }
            _ => s.skip_value(),
        })
    }

    /// One object of an Interactions API body; `step` and `item` locate it for error messages
    /// of its image.
    fn interaction_object(&mut self, step: usize, item: usize) -> Result<()> {
        let mut seen_data = false;
        self.object(|s, key| match (key, s.peek()) {
            (b"steps", Some(b'[')) => s.array(|s, i| s.interaction_item(i, 0)),
            (b"content" | b"summary", Some(b'[')) => s.array(|s, j| s.interaction_item(step, j)),
            (b"content" | b"summary" | b"delta" | b"step" | b"interaction", Some(b'{')) => {
                s.interaction_object(step, item)
            }
            (b"data", Some(b'"')) => {
                s.duplicate(&mut seen_data, "data")?;
                s.image(step, item).map(|_| ())
            }
            _ => s.skip_value(),
        })
    }

    fn interaction_item(&mut self, step: usize, item: usize) -> Result<()> {
        if self.peek() == Some(b'{') {
            self.interaction_object(step, item)
        } else {
            self.skip_value()
        }
    }

    fn expect_kind(&self, byte: u8, field: &str, kind: &str) -> Result<()> {
        match self.peek() {
            Some(b) if b == byte => Ok(()),
            None => Err(self.error("EOF while parsing a value")),
            Some(_) => Err(self.error(format_args!("invalid type for `{field}`, expected {kind}"))),
        }
    }

    /// Skips one value of any kind, checking its structure (strings are not checked for escape
    /// or UTF-8 validity: they are not read).
    fn skip_value(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'{') => self.object(|s, _| s.skip_value()),
            Some(b'[') => self.array(|s, _| s.skip_value()),
            Some(b'"') => self.skip_string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            None => Err(self.error("EOF while parsing a value")),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.body[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected value"))
        }
    }

    fn number(&mut self) -> Result<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |s: &mut Self| {
            let from = s.pos;
            while let Some(b'0'..=b'9') = s.peek() {
                s.pos += 1;
            }
            s.pos > from
        };
        let mut ok = digits(self);
        if self.peek() == Some(b'.') {
            self.pos += 1;
            ok &= digits(self);
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            ok &= digits(self);
        }
        if !ok {
            self.pos = start;
            return Err(self.error("invalid number"));
        }
        Ok(())
    }

    /// Skips the string at the cursor: finds its closing quote, stepping over escapes.
    fn skip_string(&mut self) -> Result<()> {
        self.string_end(self.pos + 1)
            .map(|(end, _)| self.pos = end + 1)
    }

    /// From the first byte of a string's content, the index of its closing quote and whether
    /// the content holds escapes.
    fn string_end(&self, from: usize) -> Result<(usize, bool)> {
        let mut at = from;
        let mut escaped = false;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.body[at.min(self.body.len())..]) {
                Some(i) if self.body[at + i] == b'"' => return Ok((at + i, escaped)),
                Some(i) => {
                    escaped = true;
                    at += i + 2;
                }
                None => {
                    return Err(error_at(
                        self.body,
                        self.body.len(),
                        "EOF while parsing a string",
                    ));
                }
            }
        }
    }

    /// Reads the string at the cursor, unescaped.
    fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let from = self.pos + 1;
        let (end, escaped) = self.string_end(from)?;
        let raw = &self.body[from..end];
        let text = if escaped {
            self.pos = from;
            Cow::Owned(
                unescape(raw).map_err(|(offset, what)| error_at(self.body, from + offset, what))?,
            )
        } else {
            Cow::Borrowed(raw)
        };
        self.pos = end + 1;
        Ok(text)
    }

    fn key(&mut self) -> Result<Cow<'a, [u8]>> {
        self.string()
    }

    /// Decodes the image string at the cursor into the sink and returns where it landed.
    ///
    /// The fast path decodes whole chunks of strict standard base64 as it finds no quote or
    /// backslash in them, then the final piece; anything else restarts the string on the
    /// general path.
    fn image(&mut self, candidate: usize, part: usize) -> Result<Range<usize>> {
        let from = self.pos + 1;
        // The string cannot be longer than the rest of the body.
        self.sink.begin(decode_capacity(&self.body[from..]));
        let mut at = from;
        loop {
            let chunk_end = (at + CHUNK).min(self.body.len());
            let chunk = &self.body[at..chunk_end];
            match memchr::memchr2(b'"', b'\\', chunk) {
                Some(i) if chunk[i] == b'"' => {
                    let piece = if at == from { Piece::Only } else { Piece::Last };
                    if !self.sink.piece(&chunk[..i], piece) {
                        return self.image_general(from, candidate, part);
                    }
                    self.pos = at + i + 1;
                    return Ok(self.sink.finish(from..at + i));
                }
                Some(_) => return self.image_general(from, candidate, part),
                None if chunk_end == self.body.len() => {
                    return self.image_general(from, candidate, part);
                }
                None => {
                    // A whole chunk of whole groups, which padding cannot end.
                    if chunk.last() == Some(&b'=') || !self.sink.piece(chunk, Piece::Middle) {
                        return self.image_general(from, candidate, part);
                    }
                    at = chunk_end;
                }
            }
        }
    }

    /// The general path for one image string: locate, unescape if needed, decode as a whole.
    fn image_general(
        &mut self,
        from: usize,
        candidate: usize,
        part: usize,
    ) -> Result<Range<usize>> {
        self.pos = from - 1;
        let text = self.string()?;
        let end = self.pos - 1;
        self.sink.whole(&text).map_err(|e| {
            ImagesError::new(format!(
                "candidates/{candidate}/content/parts/{part}/inlineData/data: {e}"
            ))
        })?;
        Ok(self.sink.finish(from..end))
    }
}

/// A JSON error at byte `pos` of `body`, with serde_json's line and column convention.
fn error_at(body: &[u8], pos: usize, what: impl fmt::Display) -> ImagesError {
    let consumed = &body[..pos.min(body.len())];
    let line = 1 + consumed.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + consumed.iter().rev().take_while(|&&b| b != b'\n').count();
    ImagesError::new(format!(
        "not a GenerateContentResponse: {what} at line {line} column {column}"
    ))
}

/// Unescapes the content of a JSON string; on error, the offset in `raw` and what was wrong.
fn unescape(raw: &[u8]) -> std::result::Result<Vec<u8>, (usize, &'static str)> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = raw[i];
        if byte != b'\\' {
            if byte < 0x20 {
                return Err((
                    i,
                    "control character (\\u0000-\\u001F) found while parsing a string",
                ));
            }
            out.push(byte);
            i += 1;
            continue;
        }
        let Some(&kind) = raw.get(i + 1) else {
            return Err((i, "EOF while parsing a string"));
        };
        i += 2;
        match kind {
            b'"' | b'\\' | b'/' => out.push(kind),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let first = hex4(raw, i).ok_or((i, "invalid \\u escape"))?;
                i += 4;
                let code = if (0xD800..0xDC00).contains(&first) {
                    // A high surrogate must be followed by `\u` and a low surrogate.
                    if raw.get(i..i + 2) != Some(b"\\u") {
                        return Err((i, "lone leading surrogate in hex escape"));
                    }
                    let second = hex4(raw, i + 2).ok_or((i + 2, "invalid \\u escape"))?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err((i, "lone leading surrogate in hex escape"));
                    }
                    i += 6;
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                let c = char::from_u32(code).ok_or((i, "invalid unicode code point"))?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            _ => return Err((i - 1, "invalid escape")),
        }
    }
    Ok(out)
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc * 16 + v)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn check(body: &str) -> std::result::Result<(Vec<u8>, Vec<ImageSpan>), String> {
        let mut out = Vec::new();
        decode_images(body.as_bytes(), &mut out)
            .map(|spans| (out, spans))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn finds_images_wherever_the_keys_stand() {
        let body = r#" {"usageMetadata": {"x": [1, -2.5e3, true, null, "a\"b"]},
            "candidates": [{"index": 0, "content": {"role": "model", "parts": [
                {"text": "t", "thoughtSignature": "c2ln"},
                {"thought": true, "inline_data": {"data": "AAEC", "mime_type": "image\/png"}},
                {"inlineData": {"mimeType": null, "data": "AwQF"}, "thought": false}
            ]}}, {"content": null}, {"content": {"parts": null}}]} "#;
        let (out, spans) = check(body).unwrap();
        assert_eq!(out, [0, 1, 2, 3, 4, 5]);
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].part, spans[0].thought), (1, true));
        assert_eq!(spans[0].mime_type.as_deref(), Some("image/png"));
        assert_eq!(
            (spans[1].part, spans[1].thought, spans[1].range.clone()),
            (2, false, 3..6)
        );
    }

    #[test]
    fn refuses_broken_json_with_a_position() {
        for (body, expected) in [
            (r#"{"candidates": [}"#, "at line 1 column 17"),
            (
                r#"{"candidates": 3}"#,
                "invalid type for `candidates`, expected an array",
            ),
            (r#"{"a": 1} x"#, "trailing characters at line 1 column 10"),
            (r#"{"a": "unterminated"#, "EOF while parsing a string"),
            (r#"{"a": 01.}"#, "invalid number"),
            (r#"[1]"#, "expected a JSON object at line 1 column 1"),
            (
                r#"{"candidates": [], "candidates": []}"#,
                "duplicate field `candidates`",
            ),
        ] {
            let err = check(body).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
            assert!(err.starts_with("not a GenerateContentResponse: "), "{err}");
        }
        let deep = "[".repeat(200);
        let err = check(&format!(r#"{{"a": {deep}}}"#)).unwrap_err();
        assert!(err.contains("recursion limit exceeded"), "{err}");
    }

    #[test]
    fn large_images_take_the_chunked_path_and_odd_ones_the_general_path() {
        use base64::Engine as _;
        let raw: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for encoded in [
            base64::engine::general_purpose::STANDARD.encode(&raw),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw),
            base64::engine::general_purpose::STANDARD
                .encode(&raw)
                .replace('/', "\\/"),
        ] {
            let body = format!(
                r#"{{"candidates":[{{"content":{{"parts":[{{"inlineData":{{"data":"{encoded}"}}}}]}}}}]}}"#
            );
            let (out, spans) = check(&body).unwrap();
            assert_eq!(out, raw);
            assert_eq!(spans[0].range, 0..raw.len());
        }
        // Standard chunks followed by a URL-safe end: refused as a whole, like the typed path.
        let mut mixed = base64::engine::general_purpose::STANDARD.encode(&raw);
        mixed.truncate(CHUNK * 2);
        mixed.push_str("-_-_");
        let body = format!(
            r#"{{"candidates":[{{"content":{{"parts":[{{"inlineData":{{"data":"{mixed}"}}}}]}}}}]}}"#
        );
        let err = check(&body).unwrap_err();
        assert!(
            err.starts_with("candidates/0/content/parts/0/inlineData/data: invalid base64"),
            "{err}"
        );
    }

    use proptest::prelude::*;

    /// One part: text, or an image spelled one of the ways clients and servers spell base64.
    pub(crate) fn part() -> impl Strategy<Value = String> {
        use base64::Engine as _;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let image = (
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..3000),
                prop::collection::vec(any::<u8>(), 12_000..30_000),
            ],
            0..5u8,
            any::<Option<bool>>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(bytes, spelling, thought, mime_first, snake)| {
                let data = match spelling {
                    0 => STANDARD.encode(&bytes),
                    1 => URL_SAFE.encode(&bytes),
                    2 => STANDARD_NO_PAD.encode(&bytes),
                    3 => URL_SAFE_NO_PAD.encode(&bytes),
                    _ => STANDARD.encode(&bytes).replace('/', "\\/"),
                };
                let (blob_key, mime_key) = if snake {
                    ("inline_data", "mime_type")
                } else {
                    ("inlineData", "mimeType")
                };
                let blob = if mime_first {
                    format!(r#"{{"{mime_key}": "image\/png", "data": "{data}"}}"#)
                } else {
                    format!(r#"{{"data":"{data}","{mime_key}":null}}"#)
                };
                let thought = match thought {
                    Some(t) => format!(r#""thought": {t}, "#),
                    None => String::new(),
                };
                format!(r#"{{{thought}"{blob_key}": {blob}, "thoughtSignature": "c2ln"}}"#)
            });
        let text = "[a-z \\\"{}\\[\\]:,]{0,20}".prop_map(|t| {
            format!(
                r#"{{"text": {}, "extra": [1, {{"k": null}}, -0.5e-3]}}"#,
                serde_json::to_string(&t).unwrap()
            )
        });
        prop_oneof![image, text]
    }

    pub(crate) fn body() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::collection::vec(part(), 0..4), 0..3).prop_map(|candidates| {
            let candidates: Vec<String> = candidates
                .iter()
                .map(|parts| {
                    format!(
                        r#"{{"finishReason":"STOP","content":{{"role":"model","parts":[{}]}}}}"#,
                        parts.join(",\n ")
                    )
                })
                .collect();
            format!(
                r#"{{"usageMetadata": {{"totalTokenCount": 12}}, "candidates": [{}], "modelVersion": "m"}}"#,
                candidates.join(", ")
            )
        })
    }

    proptest! {
        /// The single-pass reader and the serde reference agree on every well-formed body.
        #[test]
        fn agrees_with_the_serde_reference(body in body()) {
            let mut fast = vec![7u8; 5];
            let mut slow = Vec::new();
            let a = decode_images(body.as_bytes(), &mut fast).map_err(|e| e.to_string());
            let b = crate::images::tests::reference(body.as_bytes(), &mut slow).map_err(|e| e.to_string());
            prop_assert_eq!(&a, &b);
            if a.is_ok() {
                prop_assert_eq!(fast, slow);
            }
        }

        /// A damaged body never panics the reader, and whatever the reference accepts, the reader
        /// accepts with the same images (it checks less outside the image fields, never more).
        #[test]
        fn damaged_bodies(body in body(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = body.into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let mut fast = Vec::new();
            let mut slow = Vec::new();
            let a = decode_images(&bytes, &mut fast);
            if let Ok(spans) = crate::images::tests::reference(&bytes, &mut slow) {
                let got = a.map_err(|e| e.to_string());
                prop_assert_eq!(got, Ok(spans));
                prop_assert_eq!(fast, slow);
            }
        }
    }
}
