//! A bare hyper 1 server answering every request with the same body: the ceiling of what an
//! HTTP/1.1 server on this machine can do, for context next to the fake server's numbers.
//!
//! Usage: `bare_hyper RESPONSE.json`. Prints `listening on http://HOST:PORT`, serves until killed.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::io::Write as _;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args()
        .nth(1)
        .ok_or("usage: bare_hyper RESPONSE.json")?;
    let body = Bytes::from(std::fs::read(file)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body whole, as any JSON API server must.
                    let _ = request.into_body().collect().await;
                    let mut response = Response::new(Full::new(body));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
