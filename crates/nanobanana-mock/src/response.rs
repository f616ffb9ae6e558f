//! From a [`Reply`] to hyper's response: one buffer, or chunks from a task that plays the
//! fault's body directives ([`fault::apply`](crate::fault::apply)).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use nanobanana_wire::corpus::LineEnding;

use crate::fault::{Fault, apply};
use crate::reply::{Reply, ReplyBody};

/// The body hyper sends: one buffer, or chunks from a task that applies stream faults.
pub(crate) struct OutBody {
    inner: OutInner,
}

enum OutInner {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Result<Bytes, io::Error>>),
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.inner {
            OutInner::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            OutInner::Channel(rx) => rx
                .poll_recv(cx)
                .map(|item| item.map(|result| result.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(&self.inner, OutInner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            OutInner::Full(Some(data)) => SizeHint::with_exact(data.len() as u64),
            OutInner::Full(None) => SizeHint::with_exact(0),
            OutInner::Channel(_) => SizeHint::default(),
        }
    }
}

pub(crate) fn into_response(
    reply: Reply,
    fault: &Fault,
    line_ending: LineEnding,
) -> http::Response<OutBody> {
    let mut builder = http::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match reply.body {
        ReplyBody::Full(data) => match fault.reset_after {
            None => OutBody {
                inner: OutInner::Full(Some(data)),
            },
            Some(after) => {
                builder = builder.header("content-length", data.len().to_string());
                let (tx, rx) = mpsc::channel(2);
                tokio::spawn(apply::send_cut(tx, data, after));
                OutBody {
                    inner: OutInner::Channel(rx),
                }
            }
        },
        ReplyBody::Events {
            events,
            line_ending: recorded,
            names,
        } => {
            // A recorded CRLF stream stays CRLF; otherwise the server's setting applies.
            let line_ending = if recorded == LineEnding::Crlf {
                LineEnding::Crlf
            } else {
                line_ending
            };
            let (tx, rx) = mpsc::channel(2);
            tokio::spawn(apply::send_events(
                tx,
                events,
                names,
                line_ending,
                fault.clone(),
            ));
            OutBody {
                inner: OutInner::Channel(rx),
            }
        }
    };
    builder.body(body).unwrap_or_else(|_| {
        // Only a header a recording or mock made invalid can get here: answer plainly.
        let mut response = http::Response::new(OutBody {
            inner: OutInner::Full(Some(Bytes::from_static(
                b"{\"error\":{\"code\":500,\"message\":\"nanobanana-mock: invalid response header\",\"status\":\"INTERNAL\"}}",
            ))),
        });
        *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}
