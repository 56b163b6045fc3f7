//! A hostile server on `127.0.0.1:0`: HTTP/1.1 and HTTP/2 (prior knowledge)
//! on one port, answering every request with whatever [`Answer`] the test
//! scripted, byte for byte (status, headers, data frames, trailers), so
//! that a client meets answers no well-behaved server would send.

#![allow(unreachable_pub, dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

/// One scripted answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The HTTP status (an invalid number becomes 500).
    pub status: u16,
    /// Response headers; names or values HTTP cannot carry are skipped.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Data frames, in order.
    pub body: Vec<Bytes>,
    /// Trailers after the body (HTTP/2 only; HTTP/1.1 drops them).
    pub trailers: Option<Vec<(String, Vec<u8>)>>,
    /// Never ends the body after the frames: the client must give up.
    pub stall: bool,
    /// Waits this long before the headers.
    pub delay: Option<Duration>,
}

impl Answer {
    /// `200` with `headers` and nothing else.
    pub fn headers_only(status: u16, headers: &[(&str, &[u8])]) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_vec()))
                .collect(),
            ..Answer::default()
        }
    }
}

fn header_map(pairs: &[(String, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

type Script = Arc<dyn Fn(&http::request::Parts) -> Answer + Send + Sync>;

/// The server; dropping it stops accepting (open connections finish).
pub struct RawServer {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl RawServer {
    /// Starts a server answering every request with `answer`.
    pub async fn start(answer: Answer) -> RawServer {
        RawServer::scripted(move |_| answer.clone()).await
    }

    /// Starts a server answering each request with `script(request)`.
    pub async fn scripted(
        script: impl Fn(&http::request::Parts) -> Answer + Send + Sync + 'static,
    ) -> RawServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the hostile server");
        let addr = listener.local_addr().expect("address");
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Arc::new(script)));
        let acceptor = tokio::spawn({
            let script = script.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let script = script.clone();
                    let service = hyper::service::service_fn(move |request: http::Request<_>| {
                        let script = script.lock().unwrap().clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            // Read the request whole, as a real server would.
                            let _ = http_body_util::BodyExt::collect(body).await;
                            let answer = script(&parts);
                            if let Some(delay) = answer.delay {
                                tokio::time::sleep(delay).await;
                            }
                            Ok::<_, Infallible>(respond(answer))
                        }
                    });
                    tokio::spawn(async move {
                        let _ = hyper_util::server::conn::auto::Builder::new(
                            hyper_util::rt::TokioExecutor::new(),
                        )
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                    });
                }
            }
        });
        RawServer {
            addr,
            script,
            acceptor,
        }
    }

    /// Answers the next requests with `script`.
    pub fn set_script(
        &self,
        script: impl Fn(&http::request::Parts) -> Answer + Send + Sync + 'static,
    ) {
        *self.script.lock().unwrap() = Arc::new(script);
    }

    /// Answers the next requests with `answer`.
    pub fn set_answer(&self, answer: Answer) {
        self.set_script(move |_| answer.clone());
    }

    /// The server's `http://` endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn respond(answer: Answer) -> http::Response<Body> {
    let mut frames: Vec<Frame<Bytes>> = answer.body.into_iter().map(Frame::data).collect();
    if let Some(trailers) = &answer.trailers {
        frames.push(Frame::trailers(header_map(trailers)));
    }
    let frames = futures::stream::iter(frames.into_iter().map(Ok::<_, Infallible>));
    let body = if answer.stall {
        BodyExt::boxed(StreamBody::new(frames.chain(futures::stream::pending())))
    } else {
        BodyExt::boxed(StreamBody::new(frames))
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = http::StatusCode::from_u16(answer.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = header_map(&answer.headers);
    response
}

use futures::StreamExt as _;

/// A gRPC message frame: the flag byte, the length, the bytes.
pub fn grpc_frame(message: &[u8]) -> Bytes {
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    Bytes::from(framed)
}
