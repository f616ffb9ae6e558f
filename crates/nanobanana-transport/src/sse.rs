//! An incremental parser of server-sent events (`text/event-stream`), as the service streams
//! `streamGenerateContent?alt=sse`.
//!
//! Feed it byte chunks as they arrive, take complete events' data out, and tell it when the
//! stream has ended:
//!
//! ```
//! use nanobanana_transport::sse::SseParser;
//!
//! let mut parser = SseParser::new();
//! parser.feed(b"data: {\"a\": 1}\r\n\r\ndata: {\"b\"");
//! assert_eq!(parser.next_event().as_deref(), Some(&b"{\"a\": 1}"[..]));
//! assert_eq!(parser.next_event(), None); // the second event is not complete yet
//! parser.feed(b": 2}\n\n");
//! assert_eq!(parser.next_event().as_deref(), Some(&b"{\"b\": 2}"[..]));
//! assert!(parser.finish().is_ok());
//! ```
//!
//! What it follows of the SSE specification: lines end with LF, CRLF or CR (mixed freely, and a
//! CRLF split across two chunks counts once); `data:` with or without one space after the colon;
//! several `data:` lines of one event are joined with `\n`; comments (`:` lines) and other fields
//! (`event:`, `id:`, `retry:`) are ignored; a blank line ends an event; an event without data is
//! not delivered; a leading byte-order mark is skipped. Where it is stricter: at the end of the
//! stream, an unfinished event (or an unfinished line) is an error ([`Truncated`]), never silently
//! dropped, since it means the answer was cut off.
//!
//! Cost: every byte is examined once when looking for line ends (the search resumes where it
//! stopped), and the data of a one-line event (the service's only kind) is handed out as a slice
//! of the buffer it arrived in, without a copy; so an event of tens of MB arriving in small chunks
//! costs linear time.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The incremental event-stream parser; see the [module docs](self).
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes received and not yet consumed as lines.
    buffer: BytesMut,
    /// How much of `buffer` is known to hold no line end.
    scanned: usize,
    /// The last line ended with CR: a LF right after it belongs to that line end.
    skip_lf: bool,
    /// Whether a leading byte-order mark has been looked for.
    bom_checked: bool,
    /// Data of the event being read.
    data: Data,
    /// Bytes examined while looking for line ends (to prove linear cost in tests).
    #[cfg(test)]
    examined: usize,
}

#[derive(Debug, Default)]
enum Data {
    #[default]
    None,
    One(Bytes),
    Many(Vec<u8>),
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a chunk of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The data of the next complete event, if the bytes fed so far hold one.
    pub fn next_event(&mut self) -> Option<Bytes> {
        if !self.bom_checked {
            let seen = self.buffer.len().min(BOM.len());
            if self.buffer[..seen] == BOM[..seen] && seen < BOM.len() {
                return None; // Could still become a byte-order mark.
            }
            if self.buffer.starts_with(BOM) {
                self.buffer.advance(BOM.len());
            }
            self.bom_checked = true;
        }
        loop {
            if self.skip_lf {
                match self.buffer.first() {
                    None => return None,
                    Some(b'\n') => self.buffer.advance(1),
                    Some(_) => {}
                }
                self.skip_lf = false;
            }
            let unscanned = &self.buffer[self.scanned..];
            let found = unscanned.iter().position(|&b| b == b'\n' || b == b'\r');
            #[cfg(test)]
            {
                self.examined += found.map_or(unscanned.len(), |i| i + 1);
            }
            let Some(offset) = found else {
                self.scanned = self.buffer.len();
                return None;
            };
            let end = self.scanned + offset;
            self.skip_lf = self.buffer[end] == b'\r';
            let line = self.buffer.split_to(end).freeze();
            self.buffer.advance(1);
            self.scanned = 0;
            if let Some(event) = self.line(line) {
                return Some(event);
            }
        }
    }

    /// Ends the stream: fails if it stopped inside an event or a line. Call it after
    /// [`next_event`](Self::next_event) has returned `None` for the last chunk.
    pub fn finish(&mut self) -> Result<(), Truncated> {
        let pending_data = match &self.data {
            Data::None => 0,
            Data::One(bytes) => bytes.len(),
            Data::Many(bytes) => bytes.len(),
        };
        let unfinished = !matches!(self.data, Data::None) || !self.buffer.is_empty();
        if unfinished {
            let pending = pending_data + self.buffer.len();
            self.buffer.clear();
            self.scanned = 0;
            self.data = Data::None;
            return Err(Truncated { pending });
        }
        Ok(())
    }

    /// How many bytes are held: unconsumed input plus the data of the event being read.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
            + match &self.data {
                Data::None => 0,
                Data::One(bytes) => bytes.len(),
                Data::Many(bytes) => bytes.len(),
            }
    }

    /// Handles one line (without its end); returns a finished event's data.
    fn line(&mut self, line: Bytes) -> Option<Bytes> {
        if line.is_empty() {
            return match std::mem::take(&mut self.data) {
                Data::None => None,
                Data::One(bytes) => Some(bytes),
                Data::Many(bytes) => Some(Bytes::from(bytes)),
            };
        }
        if line[0] == b':' {
            return None; // A comment.
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let start = if line.get(colon + 1) == Some(&b' ') {
                    colon + 2
                } else {
                    colon + 1
                };
                (&line[..colon], line.slice(start..))
            }
            None => (&line[..], Bytes::new()),
        };
        if name == b"data" {
            self.data = match std::mem::take(&mut self.data) {
                Data::None => Data::One(value),
                Data::One(first) => {
                    let mut joined = Vec::with_capacity(first.len() + 1 + value.len());
                    joined.extend_from_slice(&first);
                    joined.push(b'\n');
                    joined.extend_from_slice(&value);
                    Data::Many(joined)
                }
                Data::Many(mut joined) => {
                    joined.push(b'\n');
                    joined.extend_from_slice(&value);
                    Data::Many(joined)
                }
            };
        }
        None
    }
}

/// A stream that ended inside an event or a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncated {
    pending: usize,
}

impl Truncated {
    /// How many bytes of the unfinished event were received.
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the stream ended inside an event ({} bytes received without the blank line that ends an event)",
            self.pending
        )
    }
}

impl std::error::Error for Truncated {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks`, then ends the stream; returns the events and whether it ended cleanly.
    fn parse(chunks: &[&[u8]]) -> (Vec<String>, Result<(), Truncated>) {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            parser.feed(chunk);
            while let Some(event) = parser.next_event() {
                events.push(String::from_utf8(event.to_vec()).unwrap());
            }
        }
        (events, parser.finish())
    }

    fn check(input: &str, expected: &[&str]) {
        let (events, end) = parse(&[input.as_bytes()]);
        assert_eq!(events, expected, "{input:?}");
        assert_eq!(end, Ok(()), "{input:?}");
    }

    #[test]
    fn line_ends_lf_crlf_cr() {
        check(
            "data: {\"a\":1}\n\ndata: {\"b\":2}\n\n",
            &["{\"a\":1}", "{\"b\":2}"],
        );
        check(
            "data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\n",
            &["{\"a\":1}", "{\"b\":2}"],
        );
        check(
            "data: {\"a\":1}\r\rdata: {\"b\":2}\r\r",
            &["{\"a\":1}", "{\"b\":2}"],
        );
        check("data: x\r\n\ndata: y\n\r\ndata: z\r\r\n", &["x", "y", "z"]);
    }

    #[test]
    fn fields_comments_and_spaces() {
        check("data:{\"a\":1}\n\n", &["{\"a\":1}"]);
        check("data:  two spaces\n\n", &[" two spaces"]);
        check("data: first\ndata: second\ndata:\n\n", &["first\nsecond\n"]);
        check(
            ": keep-alive\nevent: message\nid: 7\nretry: 100\nfoo\ndata: x\n\n",
            &["x"],
        );
        check("event: ping\n\n\n\n", &[]);
        check("data\n\n", &[""]);
        check("\u{feff}data: after bom\n\n", &["after bom"]);
        check("data: colon: inside\n\n", &["colon: inside"]);
    }

    #[test]
    fn chunk_boundaries_at_every_byte() {
        let stream = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\"}]}}]}\r\n\r\n\
                      : comment\r\n\
                      data: {\"x\": 1}\n\
                      data: {\"y\": 2}\n\n\
                      data: {\"last\": true}\r\r";
        let (expected, end) = parse(&[stream.as_bytes()]);
        assert_eq!(end, Ok(()));
        assert_eq!(expected.len(), 3);
        assert_eq!(expected[1], "{\"x\": 1}\n{\"y\": 2}");
        let bytes = stream.as_bytes();
        for i in 0..=bytes.len() {
            let (events, end) = parse(&[&bytes[..i], &bytes[i..]]);
            assert_eq!(events, expected, "split at {i}");
            assert_eq!(end, Ok(()), "split at {i}");
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse(&one_by_one), (expected, Ok(())));
    }

    #[test]
    fn bom_split_across_chunks() {
        let (events, end) = parse(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!((events, end), (vec!["x".to_owned()], Ok(())));
        let (events, end) = parse(&[b"\xEF", b"data: x\n\n"]);
        assert!(events.is_empty(), "not a BOM: a broken field name");
        assert_eq!(end, Ok(()));
    }

    #[test]
    fn truncated_final_events_are_errors() {
        let (events, end) = parse(&[b"data: {\"a\":1}\n\ndata: {\"b\""]);
        assert_eq!(events, ["{\"a\":1}"]);
        assert_eq!(end.unwrap_err().pending(), 10);
        let (_, end) = parse(&[b"data: {\"a\":1}\n"]);
        assert_eq!(
            end.unwrap_err().pending(),
            7,
            "a data line without its blank line"
        );
        let (_, end) = parse(&[b"data: {\"a\":1}\r\n"]);
        assert!(end.is_err());
        let (events, end) = parse(&[b"data: x\r\n\r"]);
        assert_eq!(
            (events, end),
            (vec!["x".to_owned()], Ok(())),
            "CR ends the event"
        );
        assert_eq!(parse(&[b""]), (vec![], Ok(())));
    }

    #[test]
    fn error_events_are_delivered_like_any_other() {
        let stream = b"data: {\"candidates\": []}\n\ndata: {\"error\": {\"code\": 500, \"message\": \"Internal error\", \"status\": \"INTERNAL\"}}\n\n";
        let (events, end) = parse(&[stream]);
        assert_eq!(end, Ok(()));
        assert_eq!(
            events[1],
            "{\"error\": {\"code\": 500, \"message\": \"Internal error\", \"status\": \"INTERNAL\"}}"
        );
    }

    #[test]
    fn a_30_mb_event_in_64_kb_chunks_costs_linear_time_and_no_copy() {
        let payload_len = 30 * 1024 * 1024;
        let mut stream = Vec::with_capacity(payload_len + 64);
        stream.extend_from_slice(
            b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": {\"data\": \"",
        );
        stream.resize(stream.len() + payload_len, b'A');
        stream.extend_from_slice(b"\"}}]}}]}\r\n\r\ndata: {\"done\": true}\r\n\r\n");
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in stream.chunks(64 * 1024) {
            parser.feed(chunk);
            while let Some(event) = parser.next_event() {
                events.push(event);
            }
        }
        parser.finish().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].len(), stream.len() - 6 - 4 - 24);
        assert!(events[0].starts_with(b"{\"candidates\""));
        assert!(events[0].ends_with(b"}}]}}]}"));
        assert_eq!(&events[1][..], b"{\"done\": true}");
        assert!(
            parser.examined <= stream.len(),
            "examined {} bytes of {}",
            parser.examined,
            stream.len()
        );
        assert_eq!(parser.buffered(), 0);
    }
}
