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

/// One step of an event stream, as [`SseSplitter`] hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SsePiece {
    /// The next piece of the current event's data (a slice of the chunk it arrived in, or the
    /// `\n` that joins two `data:` lines).
    Data(Bytes),
    /// The current event, which had data (possibly empty), is complete.
    End,
}

/// An event-stream parser that hands each event's data over in pieces, as they arrive, instead
/// of gathering it: what [`SseParser`] delivers as one event is the concatenation of the
/// [`SsePiece::Data`] pieces before an [`SsePiece::End`], at any chunk boundaries (the same
/// rules, line ends, byte-order mark and [`Truncated`] end).
///
/// The data of a 28 MB image event can so be decoded while it arrives
/// ([`nanobanana_wire::ResponseDecoder`]), without ever being held whole; the pieces are slices
/// of the received chunks (no copy), and the splitter itself holds at most a few bytes.
///
/// ```
/// use bytes::Bytes;
/// use nanobanana_transport::sse::{SsePiece, SseSplitter};
///
/// let mut splitter = SseSplitter::new();
/// let mut pieces = Vec::new();
/// splitter.feed(&Bytes::from_static(b"data: {\"a\"\r"), |piece| pieces.push(piece));
/// splitter.feed(&Bytes::from_static(b"\n\r\ndata: x\n\n"), |piece| pieces.push(piece));
/// assert_eq!(
///     pieces,
///     [
///         SsePiece::Data(Bytes::from_static(b"{\"a\"")),
///         SsePiece::End,
///         SsePiece::Data(Bytes::from_static(b"x")),
///         SsePiece::End,
///     ]
/// );
/// assert!(splitter.finish().is_ok());
/// ```
#[derive(Debug, Default)]
pub struct SseSplitter {
    /// How many bytes of a leading byte-order mark were seen; `None` once decided.
    bom: Option<usize>,
    /// The stream has started (the byte-order mark question is settled).
    started: bool,
    /// The last line ended with CR: a LF right after it belongs to that line end.
    skip_lf: bool,
    line: Line,
    /// Bytes of the current (unfinished) line.
    line_len: usize,
    /// Data bytes of the current `data:` line, handed over so far.
    value_len: usize,
    /// Whether the current event has data.
    has_data: bool,
    /// Data bytes of the current event's finished `data:` lines, joins included.
    data_len: usize,
}

/// Where in a line the splitter is.
#[derive(Debug, Default)]
enum Line {
    /// At its start: nothing read yet.
    #[default]
    Start,
    /// Reading the field name (the first bytes of `data`, or fewer).
    Name([u8; 4], usize),
    /// In a `data` field's value; `true` once the optional space after the colon is past.
    Data(bool),
    /// In a comment, another field, or a name that is not `data`: skipped to the line end.
    Skip,
}

impl SseSplitter {
    /// A splitter at the start of a stream.
    pub fn new() -> Self {
        Self {
            bom: Some(0),
            ..Self::default()
        }
    }

    /// Takes the next chunk of the stream and hands its pieces to `on`, in order.
    pub fn feed(&mut self, chunk: &Bytes, mut on: impl FnMut(SsePiece)) {
        let mut i = 0;
        if !self.started {
            let seen = self.bom.unwrap_or(0);
            let take = (BOM.len() - seen).min(chunk.len());
            let matched = chunk[..take]
                .iter()
                .zip(&BOM[seen..])
                .take_while(|(a, b)| a == b)
                .count();
            if matched == take && seen + matched < BOM.len() {
                self.bom = Some(seen + matched);
                return; // Could still become a byte-order mark.
            }
            self.started = true;
            self.bom = None;
            if seen + matched == BOM.len() {
                i = matched;
            } else {
                // Not a byte-order mark: what looked like one belongs to the first line.
                self.bytes(&Bytes::copy_from_slice(&BOM[..seen]), 0, &mut on);
            }
        }
        self.bytes(chunk, i, &mut on);
    }

    /// Runs the line machine over `chunk[i..]`.
    fn bytes(&mut self, chunk: &Bytes, mut i: usize, on: &mut impl FnMut(SsePiece)) {
        while i < chunk.len() {
            if self.skip_lf {
                self.skip_lf = false;
                if chunk[i] == b'\n' {
                    i += 1;
                    continue;
                }
            }
            let byte = chunk[i];
            if byte == b'\n' || byte == b'\r' {
                self.skip_lf = byte == b'\r';
                self.end_line(on);
                i += 1;
                continue;
            }
            match &mut self.line {
                Line::Data(past_space) => {
                    if !*past_space {
                        *past_space = true;
                        if byte == b' ' {
                            self.line_len += 1;
                            i += 1;
                            continue;
                        }
                    }
                    let rest = &chunk[i..];
                    let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
                    on(SsePiece::Data(chunk.slice(i..i + end)));
                    self.line_len += end;
                    self.value_len += end;
                    i += end;
                    continue;
                }
                Line::Skip => {
                    let rest = &chunk[i..];
                    let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
                    self.line_len += end;
                    i += end;
                    continue;
                }
                Line::Start if byte == b':' => self.line = Line::Skip,
                Line::Start | Line::Name(..) if byte == b':' => {
                    if self.named_data() {
                        self.begin_data(on);
                        self.line = Line::Data(false);
                    } else {
                        self.line = Line::Skip;
                    }
                }
                Line::Start => self.line = Line::Name([byte, 0, 0, 0], 1),
                Line::Name(name, len) => {
                    if *len < 4 {
                        name[*len] = byte;
                        *len += 1;
                    } else {
                        // Longer than `data`: not a data field, whatever follows.
                        self.line = Line::Skip;
                    }
                }
            }
            self.line_len += 1;
            i += 1;
        }
    }

    /// Whether the field name read so far is `data`.
    fn named_data(&self) -> bool {
        matches!(&self.line, Line::Name(name, 4) if name == b"data")
    }

    /// A `data` field starts: joined to the event's earlier data lines by `\n`.
    fn begin_data(&mut self, on: &mut impl FnMut(SsePiece)) {
        if self.has_data {
            on(SsePiece::Data(Bytes::from_static(b"\n")));
        }
        self.value_len = 0;
    }

    /// A line end.
    fn end_line(&mut self, on: &mut impl FnMut(SsePiece)) {
        match std::mem::take(&mut self.line) {
            Line::Start => {
                if std::mem::take(&mut self.has_data) {
                    on(SsePiece::End);
                }
                self.data_len = 0;
            }
            line @ Line::Name(..) => {
                // A field without a colon: a `data` line with an empty value.
                self.line = line;
                if self.named_data() {
                    self.begin_data(on);
                    self.finish_data_line();
                }
                self.line = Line::Start;
            }
            Line::Data(_) => self.finish_data_line(),
            Line::Skip => {}
        }
        self.line_len = 0;
    }

    fn finish_data_line(&mut self) {
        self.data_len += usize::from(self.has_data) + self.value_len;
        self.has_data = true;
        self.value_len = 0;
    }

    /// Ends the stream: fails if it stopped inside an event or a line (its data pieces were
    /// handed over, but no [`SsePiece::End`] followed).
    pub fn finish(&mut self) -> Result<(), Truncated> {
        let pending_bom = if self.started {
            0
        } else {
            self.bom.unwrap_or(0)
        };
        let pending = self.data_len + self.line_len + pending_bom;
        let unfinished = self.has_data || self.line_len > 0 || pending_bom > 0;
        *self = Self::new();
        if unfinished {
            return Err(Truncated { pending });
        }
        Ok(())
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

    /// Splits `chunks` into events with [`SseSplitter`], joining each event's pieces.
    fn split(chunks: &[&[u8]]) -> (Vec<String>, Result<(), Truncated>) {
        let mut splitter = SseSplitter::new();
        let mut events = Vec::new();
        let mut current = Vec::new();
        for chunk in chunks {
            splitter.feed(&Bytes::copy_from_slice(chunk), |piece| match piece {
                SsePiece::Data(data) => current.extend_from_slice(&data),
                SsePiece::End => {
                    events.push(String::from_utf8(std::mem::take(&mut current)).unwrap());
                }
            });
        }
        (events, splitter.finish())
    }

    #[test]
    fn the_splitter_agrees_with_the_parser_at_every_split() {
        let stream = "\u{feff}data: {\"candidates\": [{\"content\": {}}]}\r\n\r\n\
                      : comment\r\n\
                      data: {\"x\": 1}\n\
                      data:{\"y\": 2}\n\
                      data\n\n\
                      event: e\ndata: {\"last\": true}\r\r\
                      data: cut";
        let bytes = stream.as_bytes();
        let expected = parse(&[bytes]);
        assert_eq!(expected.0.len(), 3);
        assert_eq!(expected.1.as_ref().unwrap_err().pending(), 9);
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                assert_eq!(
                    split(&[&bytes[..i], &bytes[i..j], &bytes[j..]]),
                    expected,
                    "split at {i}, {j}"
                );
            }
        }
    }

    #[test]
    fn the_splitter_holds_nothing_of_a_large_event() {
        let mut stream = b"data: {\"candidates\": \"".to_vec();
        stream.resize(stream.len() + (1 << 20), b'A');
        stream.extend_from_slice(b"\"}\r\n\r\n");
        let mut splitter = SseSplitter::new();
        let (mut pieces, mut ends) = (0, 0);
        for chunk in stream.chunks(64 * 1024) {
            splitter.feed(&Bytes::copy_from_slice(chunk), |piece| match piece {
                SsePiece::Data(data) => pieces += data.len(),
                SsePiece::End => ends += 1,
            });
        }
        assert_eq!((pieces, ends), (stream.len() - 6 - 4, 1));
        assert_eq!(splitter.finish(), Ok(()));
    }

    use proptest::prelude::*;

    /// Streams made of the pieces that matter: fields, comments, every line end, BOM bytes.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(&b"data: "[..]),
            Just(&b"data:"[..]),
            Just(&b"data"[..]),
            Just(&b"dat"[..]),
            Just(&b": c"[..]),
            Just(&b"event: x"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\n"[..]),
            Just(&b"\r"[..]),
            Just(&b" "[..]),
            Just(&b":"[..]),
            Just(&b"{\"a\": [1, \"\\\"x\"]}"[..]),
            Just(&b"\xEF\xBB\xBF"[..]),
            Just(&b"\xEF"[..]),
        ];
        prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
    }

    proptest! {
        /// Joined pieces are the parser's events, at any chunk boundaries, with the same end.
        #[test]
        fn the_splitter_agrees_with_the_parser(
            stream in stream(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
            at.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in at {
                chunks.push(&stream[from..cut]);
                from = cut;
            }
            chunks.push(&stream[from..]);
            let expected = {
                let mut parser = SseParser::new();
                let mut events = Vec::new();
                for chunk in &chunks {
                    parser.feed(chunk);
                    while let Some(event) = parser.next_event() {
                        events.push(event.to_vec());
                    }
                }
                (events, parser.finish())
            };
            let mut splitter = SseSplitter::new();
            let mut events = Vec::new();
            let mut current = Vec::new();
            for chunk in &chunks {
                splitter.feed(&Bytes::copy_from_slice(chunk), |piece| match piece {
                    SsePiece::Data(data) => current.extend_from_slice(&data),
                    SsePiece::End => events.push(std::mem::take(&mut current)),
                });
            }
            prop_assert_eq!((events, splitter.finish()), expected);
        }
    }
}
