//! Listings that meet faults: a stream that ends with an error tells where
//! to resume, and the resumed stream yields every invitation exactly once
//! (reference server with seeded random list faults, every protocol); a
//! server that hands out a page token the listing already fetched ends the
//! stream with `InvalidResponse` instead of looping forever (a hand-made
//! server on 127.0.0.1:0, over gRPC and Connect).

mod common;

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use common::start_server;
use factify_invites::retry::RetryPolicy;
use factify_invites::{proto, Client, Error, Protocol};
use factify_invites_server::{Fault, Method};
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use prost::Message;

/// 2,000 invitations, 20 % of list calls failing and no retries, so that
/// errors surface: each error carries the token to resume from, and the
/// resumed streams together yield every invitation exactly once.
async fn a_listing_resumed_from_its_errors_yields_every_item_once() {
    let env = start_server().await;
    let org = env.fixture.organization.clone();
    let start = chrono::Utc::now() - chrono::Duration::days(1);
    for i in 0..2000 {
        env.server.seed_invite(
            &org,
            &format!("resume{i:04}@example.com"),
            &env.fixture.admin,
            start + chrono::Duration::seconds(i),
        );
    }
    env.server
        .inject_random_faults(Some(Method::List), Fault::Unavailable, 0.2, 9);
    let request = env
        .client
        .list_invites(&org)
        .page_size(50)
        .retry_policy(RetryPolicy::disabled());

    let mut seen = Vec::new();
    let mut errors = 0;
    let mut stream = request.clone().into_stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok(invite) => seen.push(invite.id),
            Err(err) => {
                errors += 1;
                assert!(errors < 200, "no progress: {err:?}");
                let token = err
                    .resume_token()
                    .unwrap_or_else(|| panic!("no resume token: {err:?}"))
                    .to_owned();
                assert!(stream.next().await.is_none(), "ends after its error");
                stream = request.clone().page_token(token).into_stream();
            }
        }
    }

    assert!(errors >= 3, "faults surfaced: {errors}");
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no invitation twice");
    assert_eq!(seen.len(), 2000, "every invitation");
}

/// A request started at a token: `.await`, `pages()` and `into_stream()`
/// all begin there.
async fn a_request_starts_at_its_page_token() {
    let env = start_server().await;
    let org = env.fixture.organization.clone();
    let start = chrono::Utc::now() - chrono::Duration::days(1);
    for i in 0..12 {
        env.server.seed_invite(
            &org,
            &format!("start{i:02}@example.com"),
            &env.fixture.admin,
            start + chrono::Duration::seconds(i),
        );
    }
    let request = env.client.list_invites(&org).page_size(5);
    let first = request.clone().await.unwrap();
    let token = first.next_page_token.clone().unwrap();

    let second = request.clone().page_token(token.clone()).await.unwrap();
    assert_eq!(
        second.items,
        request.clone().page(Some(&token)).await.unwrap().items
    );
    assert!(second
        .items
        .iter()
        .all(|invite| !first.items.contains(invite)));
    let rest: Vec<_> = request
        .page_token(token)
        .into_stream()
        .map(|item| item.unwrap())
        .collect()
        .await;
    assert_eq!(rest.len(), 7, "the 12 less the first page");
    assert_eq!(rest[..5], second.items[..]);
}

common::each_protocol!(
    a_listing_resumed_from_its_errors_yields_every_item_once,
    a_request_starts_at_its_page_token,
);

/// A server whose page after `token` points to `next(token)`; it speaks
/// gRPC and Connect (binary) on one port, over HTTP/1.1 and HTTP/2.
async fn serve_tokens(next: fn(&str) -> &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let service = hyper::service::service_fn(
                move |request: http::Request<hyper::body::Incoming>| async move {
                    let grpc = request
                        .headers()
                        .get("content-type")
                        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    let body = if grpc { body.slice(5..) } else { body };
                    let asked = proto::ListOrganizationInvitesRequest::decode(body).unwrap();
                    let mut invite = common::valid_wire_invite();
                    invite.email = format!("page-{}@example.com", asked.page_token);
                    let page = proto::ListOrganizationInvitesResponse {
                        items: vec![invite],
                        pagination: Some(proto::Pagination {
                            has_more: true,
                            next_page_token: next(&asked.page_token).to_owned(),
                            prev_page_token: String::new(),
                        }),
                    }
                    .encode_to_vec();
                    let response = if grpc {
                        let mut framed = vec![0u8];
                        framed.extend_from_slice(&(page.len() as u32).to_be_bytes());
                        framed.extend_from_slice(&page);
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                        let body = Full::new(Bytes::from(framed))
                            .with_trailers(async move { Some(Ok(trailers)) })
                            .boxed();
                        http::Response::builder()
                            .header("content-type", "application/grpc")
                            .body(body)
                    } else {
                        http::Response::builder()
                            .header("content-type", "application/proto")
                            .body(Full::new(Bytes::from(page)).boxed())
                    };
                    Ok::<_, Infallible>(response.unwrap())
                },
            );
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                .await;
            });
        }
    });
    addr
}

async fn listing_of(addr: SocketAddr, protocol: Protocol) -> Vec<Result<String, Error>> {
    let client: Client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .protocol(protocol)
        .connect()
        .await
        .unwrap();
    client
        .list_invites("org_01h2xcejqtf2nbrexx3vqjhp41")
        .into_stream()
        .take(50) // bounded, should the stream never end
        .map(|item| item.map(|invite| invite.email))
        .collect()
        .await
}

fn assert_ends_with_a_repeated_token(items: &[Result<String, Error>], pages: &[&str]) {
    let emails: Vec<_> = items.iter().filter_map(|item| item.as_ref().ok()).collect();
    let expected: Vec<_> = pages
        .iter()
        .map(|token| format!("page-{token}@example.com"))
        .collect();
    assert_eq!(emails, expected.iter().collect::<Vec<_>>(), "{items:?}");
    assert_eq!(items.len(), pages.len() + 1, "one error, then the end");
    match items.last() {
        Some(Err(err @ Error::InvalidResponse { .. })) => {
            assert_eq!(err.param(), Some("next_page_token"), "{err:?}");
            assert_eq!(err.resume_token(), None, "resuming cannot help");
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn the_same_page_token_forever_ends_the_stream() {
    let addr = serve_tokens(|_| "same").await;
    for protocol in [Protocol::Grpc, Protocol::ConnectProto] {
        let items = listing_of(addr, protocol).await;
        assert_ends_with_a_repeated_token(&items, &["", "same"]);
    }
}

#[tokio::test]
async fn a_page_token_that_loops_back_ends_the_stream() {
    let addr = serve_tokens(|token| match token {
        "" => "a",
        "a" => "b",
        _ => "a",
    })
    .await;
    for protocol in [Protocol::Grpc, Protocol::ConnectProto] {
        let items = listing_of(addr, protocol).await;
        assert_ends_with_a_repeated_token(&items, &["", "a", "b"]);
    }
}
