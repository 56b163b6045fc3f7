//! What a failure is, told by what happened on the wire and by the types of
//! its causes, never by the words of a message: raw HTTP/2 servers (the h2
//! crate, on 127.0.0.1:0) refuse streams or answer statuses whose messages
//! look like the client's own verdicts, and the client classifies each.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use factify_invites::retry::{Jitter, RetryPolicy};
use factify_invites::{proto, Client, Code, Error};
use prost::Message;

const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const INVITE: &str = "inv_01h2xcejqtf2nbrexx3vqjhp42";

/// What the raw server does with the `n`th stream it is sent (from 0).
type Respond = dyn Fn(usize, h2::server::SendResponse<Bytes>) + Send + Sync;

/// A raw HTTP/2 server answering each stream with `respond`; returns its
/// address and the count of streams it received.
async fn serve_h2(respond: Box<Respond>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let streams = Arc::new(AtomicUsize::new(0));
    let respond: Arc<Respond> = Arc::from(respond);
    let counter = streams.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (respond, counter) = (respond.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((_request, send))) = connection.accept().await {
                    respond(counter.fetch_add(1, Ordering::SeqCst), send);
                }
            });
        }
    });
    (addr, streams)
}

/// Answers with gRPC status `code` and `message` in the headers
/// (trailers-only), as a tonic server does.
fn answer_status(mut send: h2::server::SendResponse<Bytes>, code: u8, message: &str) {
    let response = http::Response::builder()
        .header("content-type", "application/grpc")
        .header("grpc-status", code.to_string())
        .header("grpc-message", message.replace(' ', "%20"))
        .body(())
        .unwrap();
    let _ = send.send_response(response, true);
}

/// Answers with `message` and status OK.
fn answer_ok(mut send: h2::server::SendResponse<Bytes>, message: impl Message) {
    let body = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&body);
    let response = http::Response::builder()
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let Ok(mut stream) = send.send_response(response, false) else {
        return;
    };
    let _ = stream.send_data(Bytes::from(framed), false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let _ = stream.send_trailers(trailers);
}

async fn client(addr: SocketAddr) -> Client {
    Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_jitter(Jitter::Seeded(1)),
        )
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refused_stream_never_reached_the_service_so_even_a_resend_is_retried() {
    let (addr, streams) = serve_h2(Box::new(|n, mut send| {
        if n == 0 {
            send.send_reset(h2::Reason::REFUSED_STREAM);
        } else {
            answer_ok(
                send,
                proto::ResendOrganizationInviteResponse {
                    invite: Some(common::valid_wire_invite()),
                },
            );
        }
    }))
    .await;
    let client = client(addr).await;

    client.resend_invite(ORG, INVITE).await.unwrap();
    assert_eq!(streams.load(Ordering::SeqCst), 2, "refused, then answered");

    // Without retries, the refusal comes back as a failure that was never
    // sent: safe to repeat.
    let (addr, _) = serve_h2(Box::new(|_, mut send| {
        send.send_reset(h2::Reason::REFUSED_STREAM)
    }))
    .await;
    let err = client_without_retries(addr)
        .await
        .resend_invite(ORG, INVITE)
        .await
        .unwrap_err();
    match &err {
        Error::Transport(transport) => assert!(transport.is_before_send(), "{err:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
}

async fn client_without_retries(addr: SocketAddr) -> Client {
    Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .retry_policy(RetryPolicy::disabled())
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stream_reset_after_sending_may_have_acted_so_a_resend_is_not_retried() {
    let (addr, streams) = serve_h2(Box::new(|_, mut send| {
        send.send_reset(h2::Reason::INTERNAL_ERROR)
    }))
    .await;
    let err = client(addr)
        .await
        .resend_invite(ORG, INVITE)
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    assert_eq!(streams.load(Ordering::SeqCst), 1, "not repeated");
}

#[tokio::test]
async fn a_servers_statuses_keep_their_codes_whatever_their_words() {
    let (addr, _) = serve_h2(Box::new(|n, send| {
        if n == 0 {
            // What a tonic server says when it cannot decode our request.
            answer_status(
                send,
                13,
                "failed to decode Protobuf message: invalid wire type",
            );
        } else {
            // What it says when our request is over its size limit.
            answer_status(send, 11, "Error, decoded message length too large");
        }
    }))
    .await;
    let client = client_without_retries(addr).await;

    let err = client.revoke_invite(ORG, INVITE).await.unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    assert_eq!(err.code(), Some(Code::Internal));
    let err = client.revoke_invite(ORG, INVITE).await.unwrap_err();
    assert_eq!(err.code(), Some(Code::OutOfRange), "{err:?}");
}

#[tokio::test]
async fn a_response_the_client_cannot_decode_is_an_invalid_response() {
    let (addr, _) = serve_h2(Box::new(|_, mut send| {
        let response = http::Response::builder()
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let Ok(mut stream) = send.send_response(response, false) else {
            return;
        };
        // A frame of one byte that is no protobuf: a field with wire type 7.
        let _ = stream.send_data(Bytes::from_static(&[0, 0, 0, 0, 1, 0x0f]), false);
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let _ = stream.send_trailers(trailers);
    }))
    .await;
    let err = client_without_retries(addr)
        .await
        .revoke_invite(ORG, INVITE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert_eq!(err.code(), None);
}

/// A Connect server behind a proxy that acts and then loses the answer:
/// every call gets the proxy's `status` with an HTML page. Returns its
/// address and the count of requests it received.
async fn serve_connect_proxy_error(status: u16) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            let service = hyper::service::service_fn(move |_request| {
                counter.fetch_add(1, Ordering::SeqCst);
                let response = http::Response::builder()
                    .status(status)
                    .header("content-type", "text/html")
                    .body(http_body_util::Full::new(Bytes::from_static(
                        b"<html><body>Bad Gateway</body></html>",
                    )))
                    .unwrap();
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                .await;
            });
        }
    });
    (addr, requests)
}

#[tokio::test]
async fn a_proxys_502_503_504_over_connect_is_not_a_reason_to_repeat_a_resend() {
    for status in [502, 503, 504] {
        let (addr, requests) = serve_connect_proxy_error(status).await;
        let client = Client::builder()
            .endpoint(format!("http://{addr}"))
            .api_key("ffy_test")
            .protocol(factify_invites::Protocol::ConnectProto)
            .retry_policy(
                RetryPolicy::default()
                    .with_initial_backoff(std::time::Duration::from_millis(1))
                    .with_jitter(Jitter::Seeded(1)),
            )
            .connect()
            .await
            .unwrap();

        let err = client.resend_invite(ORG, INVITE).await.unwrap_err();
        assert!(matches!(err, Error::Unavailable(_)), "{status}: {err:?}");
        assert!(!err.is_retryable(), "{status}: the service may have acted");
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{status}: not repeated");

        // A list is safe to repeat: retried up to the policy's 8 attempts.
        let err = client.list_invites(ORG).await.unwrap_err();
        assert!(err.is_retryable(), "{status}: {err:?}");
        assert_eq!(requests.load(Ordering::SeqCst), 9, "{status}");
    }
}

#[tokio::test]
async fn a_refused_stream_over_connect_http2_is_retried_even_for_a_resend() {
    let (addr, streams) = serve_h2(Box::new(|n, mut send| {
        if n == 0 {
            send.send_reset(h2::Reason::REFUSED_STREAM);
            return;
        }
        let body = proto::ResendOrganizationInviteResponse {
            invite: Some(common::valid_wire_invite()),
        }
        .encode_to_vec();
        let response = http::Response::builder()
            .header("content-type", "application/proto")
            .body(())
            .unwrap();
        if let Ok(mut stream) = send.send_response(response, false) {
            let _ = stream.send_data(Bytes::from(body), true);
        }
    }))
    .await;
    let client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .protocol(factify_invites::Protocol::ConnectProto)
        .http_version(factify_invites::HttpVersion::Http2)
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_jitter(Jitter::Seeded(1)),
        )
        .connect()
        .await
        .unwrap();

    client.resend_invite(ORG, INVITE).await.unwrap();
    assert_eq!(streams.load(Ordering::SeqCst), 2, "refused, then answered");

    let (addr, _) = serve_h2(Box::new(|_, mut send| {
        send.send_reset(h2::Reason::REFUSED_STREAM)
    }))
    .await;
    let err = Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .protocol(factify_invites::Protocol::ConnectProto)
        .http_version(factify_invites::HttpVersion::Http2)
        .retry_policy(RetryPolicy::disabled())
        .connect()
        .await
        .unwrap()
        .resend_invite(ORG, INVITE)
        .await
        .unwrap_err();
    match &err {
        Error::Transport(transport) => assert!(transport.is_before_send(), "{err:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[path = "common/mod.rs"]
mod common;
