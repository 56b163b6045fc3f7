//! Bad input and hostile servers: no input to the ID parsers and validators
//! panics (property tests), and random bytes from a server — as the
//! `grpc-status-details-bin` trailer, or as a response body over a real
//! HTTP/2 connection — come back as errors, never panics.

use std::convert::Infallible;
use std::net::SocketAddr;

#[path = "common/raw.rs"]
mod raw;

use bytes::Bytes;
use factify_invites::Code;
use factify_invites::{ApiKey, Client, Error, InviteId, OrganizationId, UserId};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use proptest::prelude::*;
use prost::Message;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn id_parsers_never_panic(input in any::<String>()) {
        let parsed = [
            OrganizationId::parse(&input).is_ok(),
            InviteId::parse(&input).is_ok(),
            UserId::parse(&input).is_ok(),
        ];
        // A string is at most one kind of ID, and only ASCII ones are.
        prop_assert!(parsed.iter().filter(|ok| **ok).count() <= 1);
        prop_assert!(!parsed.contains(&true) || input.is_ascii());
    }

    #[test]
    fn ids_round_trip(body in "[0-9a-hjkmnp-tv-z]{26}") {
        let id = format!("org_{body}");
        prop_assert_eq!(OrganizationId::parse(&id).unwrap().to_string(), id);
    }

    #[test]
    fn validators_never_panic(input in any::<String>()) {
        let _ = factify_invites::limits::is_email(&input);
        if let Err(err) = ApiKey::new(&input) {
            prop_assert_eq!(err.param(), Some("api_key"));
        }
    }

    #[test]
    fn random_details_bytes_are_never_a_panic(
        code in 1..=16i32,
        details in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let status = tonic::Status::with_details(tonic::Code::from(code), "hostile", details.into());
        let error = Error::from(status);
        prop_assert_eq!(error.code().map(|c| c.grpc_code()), Some(code));
        let _ = (error.reason(), error.request_id(), error.retry_after(), error.to_string());
    }

    #[test]
    fn random_response_bodies_decode_to_errors_not_panics(
        body in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        // The same decoding the transport does, on every response type.
        for_each_decoded(&body);
    }
}

fn for_each_decoded(body: &[u8]) {
    use factify_invites::proto;
    let _ = proto::CreateOrganizationInviteResponse::decode(body);
    let _ = proto::ListOrganizationInvitesResponse::decode(body);
    let _ = proto::AcceptOrganizationInviteResponse::decode(body);
}

/// A raw HTTP/2 server that answers every gRPC call with `body` as the
/// message and status OK: the bytes reach the client's decoder untouched.
async fn serve_raw(body: Vec<u8>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = body.clone();
            let service = hyper::service::service_fn(move |_request| {
                let mut framed = vec![0u8];
                framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
                framed.extend_from_slice(&body);
                let mut trailers = http::HeaderMap::new();
                trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                let frames = futures::stream::iter([
                    Ok::<_, Infallible>(Frame::data(Bytes::from(framed))),
                    Ok(Frame::trailers(trailers)),
                ]);
                let response = http::Response::builder()
                    .header("content-type", "application/grpc")
                    .body(StreamBody::new(frames).boxed())
                    .unwrap();
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    addr
}

#[tokio::test]
async fn random_bytes_as_a_response_body_over_the_wire_are_errors() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
    for round in 0..40 {
        let length = rng.usize(0..600);
        let body: Vec<u8> = std::iter::repeat_with(|| rng.u8(..)).take(length).collect();
        let addr = serve_raw(body).await;
        let client = Client::builder()
            .endpoint(format!("http://{addr}"))
            .api_key("ffy_test")
            .connect()
            .await
            .unwrap();

        let created = client.create_invite(org, "ada@example.com").await;
        let listed = client.list_invites(org).await;
        // Random bytes can happen to decode; what they cannot do is panic or
        // pass for a valid invitation without its required fields.
        for result in [created.map(|_| ()), listed.map(|_| ())] {
            if let Err(err) = result {
                assert!(
                    matches!(err, Error::InvalidResponse { .. }),
                    "round {round}: {err:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn an_empty_body_is_a_missing_field_not_a_default() {
    let addr = serve_raw(Vec::new()).await;
    let client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .connect()
        .await
        .unwrap();
    let err = client
        .create_invite("org_01h2xcejqtf2nbrexx3vqjhp41", "ada@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.param(), Some("response.invite"), "{err:?}");
}

#[tokio::test]
async fn an_enormous_response_is_refused() {
    // 5 MiB of a valid-looking field: over the default 4 MiB limit.
    let mut body = vec![0x0a]; // field 1 (invite), length-delimited
    let huge = 5 * 1024 * 1024;
    prost::encoding::encode_varint(huge as u64, &mut body);
    body.resize(body.len() + huge, b'x');
    let addr = serve_raw(body).await;
    let client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .connect()
        .await
        .unwrap();
    let err = client
        .create_invite("org_01h2xcejqtf2nbrexx3vqjhp41", "ada@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
}

/// A gRPC failure whose `grpc-status-details-bin` is not base64, in the
/// trailers after a message or in the headers of a trailers-only answer:
/// tonic 0.14 panics reading it (grpc/grpc-rust#2618); the client must
/// return the server's code and message, saying the details were dropped.
#[tokio::test]
async fn status_details_that_are_not_base64_are_an_error_not_a_panic() {
    use raw::{grpc_frame, Answer, RawServer};

    let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
    let status = |details: &[u8]| {
        vec![
            ("grpc-status".to_owned(), b"8".to_vec()),
            ("grpc-message".to_owned(), b"slow down".to_vec()),
            ("grpc-status-details-bin".to_owned(), details.to_vec()),
        ]
    };
    let grpc = ("content-type".to_owned(), b"application/grpc".to_vec());
    let server = RawServer::start(Answer::default()).await;
    let client = Client::builder()
        .endpoint(server.endpoint())
        .retry_policy(factify_invites::retry::RetryPolicy::disabled())
        .connect()
        .await
        .unwrap();
    for details in [&b"%%% not base64 %%%"[..], b"====", b"A", b"Zm9v!"] {
        let trailers_only = Answer {
            status: 200,
            headers: [vec![grpc.clone()], status(details)].concat(),
            ..Answer::default()
        };
        let in_trailers = Answer {
            status: 200,
            headers: vec![grpc.clone()],
            body: vec![grpc_frame(b"")],
            trailers: Some(status(details)),
            ..Answer::default()
        };
        for answer in [trailers_only, in_trailers] {
            server.set_answer(answer);
            let err = client.list_invites(org).await.unwrap_err();
            assert_eq!(err.code(), Some(Code::ResourceExhausted), "{err:?}");
            let message = err.status().unwrap().message();
            assert!(message.starts_with("slow down"), "{message}");
            assert!(message.contains("not valid base64"), "{message}");
        }
    }
}
