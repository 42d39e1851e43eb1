//! The routes of `statio_protocols::http` on hyper 1.x (http1, a `current_thread`
//! tokio runtime, one task per connection): hyper parses and frames; the responses
//! have the same status, `Content-Type` and body (hyper adds `Date` and
//! `Content-Length`, and accepts chunked bodies, which statio answers 501). A peer for
//! benches/scripts/bench_http.py; never run in CI.
//!
//! `http_hyper [ADDR]` (default 127.0.0.1:8080, port 0 allowed) prints
//! `http_hyper: listening on ADDR` first.

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use statio_benches::peers::listen_addr;
use statio_protocols::http::{
    ALLOW_ECHO, ALLOW_HELLO, HELLO, Limits, OCTET_STREAM, Status, TEXT_PLAIN,
};
use tokio::net::TcpListener;

fn main() -> io::Result<()> {
    let addr = listen_addr("127.0.0.1:8080");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        println!("http_hyper: listening on {}", listener.local_addr()?);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue; // EMFILE and the like: try again
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    // Pipelined responses leave in one write, as statio's do.
                    .pipeline_flush(true)
                    .serve_connection(TokioIo::new(stream), service_fn(respond))
                    .await;
            });
        }
    })
}

fn response(status: Status, content_type: &'static [u8], body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(status.code()).expect("a valid status");
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(static_str(content_type)),
    );
    response
}

fn static_str(bytes: &'static [u8]) -> &'static str {
    std::str::from_utf8(bytes).expect("ASCII")
}

fn error(status: Status) -> Response<Full<Bytes>> {
    response(status, TEXT_PLAIN, Bytes::from_static(status.error_body()))
}

fn not_allowed(allow: &'static [u8]) -> Response<Full<Bytes>> {
    let mut response = error(Status::MethodNotAllowed);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(static_str(allow)));
    response
}

async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // hyper sends a HEAD response's headers without its body by itself.
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => {
            response(Status::Ok, TEXT_PLAIN, Bytes::from_static(HELLO))
        }
        (_, "/") => not_allowed(ALLOW_HELLO),
        (&Method::POST, "/echo") => {
            match Limited::new(request.into_body(), Limits::DEFAULT.body)
                .collect()
                .await
            {
                Ok(body) => response(Status::Ok, OCTET_STREAM, body.to_bytes()),
                Err(_) => error(Status::ContentTooLarge),
            }
        }
        (_, "/echo") => not_allowed(ALLOW_ECHO),
        _ => error(Status::NotFound),
    })
}
