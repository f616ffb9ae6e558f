//! `streamGenerateContent?alt=sse` as a `Stream` of typed partial answers.
//!
//! The first item is produced by [`Start::open`], which owns the retries: it sends the request
//! and reads up to the first event, trying again (per the policy) on an error answer, a failed
//! connection, or an error event that comes first. After the first event nothing is retried:
//! the caller has seen part of the answer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use nanobanana_wire::{GenerateContentResponse, ResponseDecoder, Status};
use reqwest::Response;
use tracing::Instrument;

use crate::error::{ApiError, Error, ErrorKind};
use crate::http::{Call, Transport};
use crate::retry::{Retrier, RetryPolicy};
use crate::sse::{SsePiece, SseSplitter};

/// The stream of a generation; see [`Client::stream_generate_content`](crate::Client::stream_generate_content).
pub(crate) fn generate_stream(
    transport: Arc<Transport>,
    call: Result<Call, Error>,
    policy: RetryPolicy,
    timeout: Option<Duration>,
) -> impl Stream<Item = Result<GenerateContentResponse, Error>> + Send + Unpin + use<> {
    let state = match call {
        Ok(call) => State::Start(Box::new(Start {
            transport,
            call,
            policy,
            timeout,
        })),
        Err(error) => State::Failed(error),
    };
    // Boxed so that the stream is `Unpin`: callers can `.next().await` it without pinning.
    Box::pin(futures_util::stream::unfold(state, |state| async move {
        match state {
            State::Done => None,
            State::Failed(error) => Some((Err(error), State::Done)),
            State::Start(start) => match start.open().await {
                Ok((first, live)) => Some((Ok(first), State::Live(live))),
                Err(error) => Some((Err(error), State::Done)),
            },
            State::Live(mut live) => {
                let span = live.span.clone();
                match live.next().instrument(span).await {
                    Ok(Some(item)) => Some((Ok(item), State::Live(live))),
                    Ok(None) => None,
                    Err(error) => Some((Err(error), State::Done)),
                }
            }
        }
    }))
}

enum State {
    Start(Box<Start>),
    Live(Box<Live>),
    Failed(Error),
    Done,
}

struct Start {
    transport: Arc<Transport>,
    call: Call,
    policy: RetryPolicy,
    timeout: Option<Duration>,
}

impl Start {
    /// Sends the request and reads the first event, with retries. A 2xx answer that is not an
    /// event stream (a `Content-Type` other than `text/event-stream`, e.g. the JSON array the
    /// service sends without `alt=sse`), or one that ends cleanly without any event, is an
    /// error: the service always sends at least one event.
    async fn open(self) -> Result<(GenerateContentResponse, Box<Live>), Error> {
        let mut retrier = Retrier::new(&self.policy);
        loop {
            let span = self.transport.span(&self.call, retrier.attempt());
            let result = async {
                let response = self.transport.open(&self.call, self.timeout, &span).await?;
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
                if let Some(content_type) = content_type.filter(|ct| !is_event_stream(ct)) {
                    return Err(self.transport.finish(
                        Error::protocol(format!(
                            "expected an event stream (text/event-stream), got {content_type}"
                        )),
                        &self.call,
                    ));
                }
                let mut live = Box::new(Live {
                    transport: self.transport.clone(),
                    call: self.call.clone(),
                    response,
                    splitter: SseSplitter::new(),
                    event: None,
                    complete: VecDeque::new(),
                    ended: false,
                    timeout: self.timeout,
                    span: span.clone(),
                });
                match live.next().await? {
                    Some(first) => Ok((first, live)),
                    None => Err(self.transport.finish(
                        Error::protocol("the stream ended without any event"),
                        &self.call,
                    )),
                }
            }
            .instrument(span.clone())
            .await;
            match result {
                Ok(opened) => return Ok(opened),
                Err(error) => {
                    self.transport
                        .pause_or_fail(&mut retrier, error, &span)
                        .await?
                }
            }
        }
    }
}

/// A stream whose answer has begun.
///
/// Each event's data is fed to a [`ResponseDecoder`] piece by piece as the chunks arrive, so
/// an image event's base64 text is decoded during the transfer and never held whole; complete
/// events wait in `complete` until the caller asks for them (the JSON skeleton is parsed then).
struct Live {
    transport: Arc<Transport>,
    call: Call,
    response: Response,
    splitter: SseSplitter,
    /// The event being received.
    event: Option<ResponseDecoder>,
    /// Events received whole, not yet handed out.
    complete: VecDeque<ResponseDecoder>,
    /// The answer's body has ended.
    ended: bool,
    timeout: Option<Duration>,
    span: tracing::Span,
}

impl Live {
    /// The next partial answer; `Ok(None)` at the clean end of the stream.
    async fn next(&mut self) -> Result<Option<GenerateContentResponse>, Error> {
        loop {
            if let Some(event) = self.complete.pop_front() {
                match self.decode(event)? {
                    Some(item) => return Ok(Some(item)),
                    None => continue,
                }
            }
            if self.ended {
                return match self.splitter.finish() {
                    Ok(()) => Ok(None),
                    Err(truncated) => Err(self.transport.finish(
                        Error::new(
                            ErrorKind::Truncated,
                            format!(
                                "{} bytes received without the blank line that ends an event",
                                truncated.pending()
                            ),
                        ),
                        &self.call,
                    )),
                };
            }
            match self
                .transport
                .chunk(&mut self.response, self.timeout, &self.call)
                .await?
            {
                Some(chunk) => {
                    let (event, complete) = (&mut self.event, &mut self.complete);
                    self.splitter.feed(&chunk, |piece| match piece {
                        SsePiece::Data(data) => {
                            event.get_or_insert_with(ResponseDecoder::new).feed(&data);
                        }
                        SsePiece::End => complete.push_back(event.take().unwrap_or_default()),
                    });
                }
                None => self.ended = true,
            }
        }
    }

    /// Decodes one event: a partial answer, an error event, or nothing (an empty event).
    fn decode(&self, event: ResponseDecoder) -> Result<Option<GenerateContentResponse>, Error> {
        if event.is_blank() {
            return Ok(None);
        }
        // `data` is the event as received when it failed to decode (or held no image), the
        // event with each image text replaced by a short reference otherwise.
        let (decoded, data) = event.finish_with_body();
        let data = &data[..];
        match decoded {
            Ok(mut response) => match response.unknown_fields.remove("error") {
                None => Ok(Some(response)),
                Some(error) => {
                    let status: Status = serde_json::from_value(error).unwrap_or_default();
                    Err(self.error_event(status, data))
                }
            },
            Err(decode_error) => {
                // An error event wrapped in an array still is one.
                let wrapped = serde_json::from_slice::<Vec<nanobanana_wire::ErrorResponse>>(data)
                    .ok()
                    .and_then(|list| list.into_iter().next())
                    .and_then(|response| response.error);
                match wrapped {
                    Some(status) => Err(self.error_event(status, data)),
                    None => Err(self.transport.finish(
                        Error::new(
                            ErrorKind::Decode,
                            format!(
                                "expected a GenerateContentResponse event: {}",
                                crate::error::decode_excerpt(data, &decode_error)
                            ),
                        ),
                        &self.call,
                    )),
                }
            }
        }
    }

    fn error_event(&self, status: Status, data: &[u8]) -> Error {
        self.transport.finish(
            Error::api(ApiError::from_stream_event(status, data)),
            &self.call,
        )
    }
}

/// Whether a `Content-Type` is `text/event-stream` (parameters and case aside).
fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::is_event_stream;

    #[test]
    fn recognises_event_stream_content_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(!is_event_stream("application/json"));
        assert!(!is_event_stream("text/event-streams"));
    }
}
