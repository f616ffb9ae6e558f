//! wiremock-rs serving one recorded interaction, matched the way its users match JSON APIs:
//! `method` + `path` + `body_json`. The baseline the fake server's replay is compared with.
//!
//! Usage: `wiremock_baseline REQUEST.json RESPONSE.json PATH`. Prints `listening on URI`, then
//! serves until killed. Request recording stays on, as in a default `MockServer`.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::io::Write as _;

use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [request, response, route] = args.as_slice() else {
        return Err("usage: wiremock_baseline REQUEST.json RESPONSE.json PATH".into());
    };
    let request: serde_json::Value = serde_json::from_slice(&std::fs::read(request)?)?;
    let response = std::fs::read(response)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .and(path(route.as_str()))
        .and(body_json(&request))
        .respond_with(ResponseTemplate::new(200).set_body_raw(response, "application/json"))
        .mount(&server)
        .await;
    println!("listening on {}", server.uri());
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}
