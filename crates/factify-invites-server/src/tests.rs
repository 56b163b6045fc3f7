//! The reference server end to end: over a TCP socket and over an
//! in-memory channel, called with the raw generated tonic client.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use prost::Message;
use tonic::transport::Channel;
use tonic::Code;

use super::*;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto::google::rpc;
use crate::proto::organization_invite_service_client::OrganizationInviteServiceClient;

type Client = OrganizationInviteServiceClient<Channel>;

static_assertions::assert_impl_all!(ReferenceServer: Send, Sync, Clone, std::fmt::Debug, Default);
static_assertions::assert_impl_all!(RunningServer: Send, Sync, std::fmt::Debug);
static_assertions::assert_impl_all!(ManualClock: Clock, Send, Sync);

fn authorized<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    request
}

fn create(
    fixture: &Fixture,
    email: &str,
) -> tonic::Request<proto::CreateOrganizationInviteRequest> {
    authorized(
        &fixture.admin_key,
        proto::CreateOrganizationInviteRequest {
            organization_id: fixture.organization.to_string(),
            email: email.into(),
            ..Default::default()
        },
    )
}

/// The `ErrorDetail` (and any `RetryInfo`) of a failed call.
fn details(status: &tonic::Status) -> (proto::ErrorDetail, Option<rpc::RetryInfo>) {
    let rpc_status = rpc::Status::decode(status.details()).expect("google.rpc.Status details");
    assert_eq!(rpc_status.code, status.code() as i32);
    let mut detail = None;
    let mut retry = None;
    for any in rpc_status.details {
        match any.type_url.as_str() {
            "type.googleapis.com/factify.api.v1beta.ErrorDetail" => {
                detail = Some(proto::ErrorDetail::decode(any.value.as_slice()).unwrap())
            }
            "type.googleapis.com/google.rpc.RetryInfo" => {
                retry = Some(rpc::RetryInfo::decode(any.value.as_slice()).unwrap())
            }
            other => panic!("unexpected detail {other}"),
        }
    }
    (detail.expect("an ErrorDetail"), retry)
}

#[tokio::test]
async fn serves_over_tcp_with_request_ids_and_error_details() {
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let running = server.start().await.unwrap();
    assert!(running.endpoint().starts_with("http://127.0.0.1:"));
    let mut client = Client::connect(running.endpoint()).await.unwrap();

    let response = client
        .create_organization_invite(create(&fixture, "grace@example.com"))
        .await
        .unwrap();
    let request_id = response
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        request_id.starts_with("req_") && request_id.len() == 30,
        "{request_id}"
    );
    let invite = response.into_inner().invite.unwrap();
    assert_eq!(invite.email, "grace@example.com");
    assert_eq!(server.invites(&fixture.organization), vec![invite.clone()]);
    let email = server.last_email_to("GRACE@example.com").unwrap();
    assert_eq!(email.invite_id.to_string(), invite.id);

    // A validation error carries a decodable ErrorDetail.
    let mut bad = create(&fixture, "grace@example.com");
    bad.get_mut().organization_id = "org_nope".into();
    let status = client.create_organization_invite(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let (detail, retry) = details(&status);
    assert_eq!(detail.reason, "invalid_id_format");
    assert_eq!(detail.param, "organization_id");
    assert!(detail.request_id.starts_with("req_"));
    assert_ne!(detail.request_id, request_id, "a fresh ID per call");
    assert_eq!(
        status.metadata().get("x-request-id").unwrap(),
        detail.request_id.as_str()
    );
    assert!(retry.is_none());

    // No key at all.
    let status = client
        .list_organization_invites(proto::ListOrganizationInvitesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(details(&status).0.reason, "missing_api_key");

    // Accept over the wire with the token from the recorded email.
    let grace = server.add_user("Grace", "Grace@Example.com");
    let grace_key = server.add_api_key(&grace, Permissions::NONE);
    let organization = client
        .accept_organization_invite(authorized(
            &grace_key,
            proto::AcceptOrganizationInviteRequest {
                organization_id: fixture.organization.to_string(),
                token: email.token,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .organization
        .unwrap();
    assert_eq!(organization.name, "Acme");

    assert_eq!(server.call_count(Method::Create), 2, "rejected calls count");
    assert_eq!(server.call_count(Method::List), 1);
    assert_eq!(server.call_count(Method::Accept), 1);
    assert_eq!(server.total_calls(), 4);

    // Shutting down with a client still connected completes.
    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("graceful shutdown finishes");
    assert!(client
        .create_organization_invite(create(&fixture, "late@example.com"))
        .await
        .is_err());
}

#[tokio::test]
async fn rate_limits_carry_retry_info_over_the_wire() {
    let server = ReferenceServer::new().with_rate_limits(RateLimits {
        requests_per_minute: 100,
        creates_per_minute: 1,
    });
    let fixture = server.fixture();
    let running = server.start().await.unwrap();
    let mut client = Client::connect(running.endpoint()).await.unwrap();
    client
        .create_organization_invite(create(&fixture, "a@example.com"))
        .await
        .unwrap();
    let status = client
        .create_organization_invite(create(&fixture, "b@example.com"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    let (detail, retry) = details(&status);
    assert_eq!(detail.reason, "rate_limit_exceeded");
    let delay = retry.expect("RetryInfo").retry_delay.unwrap();
    assert!(delay.seconds > 0 && delay.seconds <= 60, "{delay:?}");
    assert_eq!(status.metadata().get("x-ratelimit-limit").unwrap(), "1");
    running.shutdown().await;
}

#[tokio::test]
async fn in_memory_channel_needs_no_socket() {
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let mut client = Client::new(server.in_memory_channel().await.unwrap());
    for i in 0..3 {
        client
            .create_organization_invite(create(&fixture, &format!("p{i}@example.com")))
            .await
            .unwrap();
    }
    let page = client
        .list_organization_invites(authorized(
            &fixture.admin_key,
            proto::ListOrganizationInvitesRequest {
                organization_id: fixture.organization.to_string(),
                page_size: 2,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.items.len(), 2);
    assert!(page.pagination.unwrap().has_more);
    assert_eq!(server.sent_emails().len(), 3);
    // The clones of a channel share the one connection.
    let mut second = client.clone();
    let status = second
        .revoke_organization_invite(authorized(
            "ffy_unknown",
            proto::RevokeOrganizationInviteRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(details(&status).0.reason, "invalid_api_key");

    // Dropping the channel closes the connection and ends the serving task,
    // which releases its handle on the store.
    drop((client, second));
    tokio::time::timeout(Duration::from_secs(10), async {
        while Arc::strong_count(&server.state) > 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the in-memory server task ends");
}

#[tokio::test]
async fn the_service_can_be_called_directly_and_mounted() {
    use crate::proto::organization_invite_service_server::OrganizationInviteService;
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let response = server
        .create_organization_invite(create(&fixture, "direct@example.com"))
        .await
        .unwrap();
    assert!(response.metadata().contains_key("x-request-id"));
    // `service()` is what a user mounts in their own tonic server.
    let _router = tonic::transport::Server::builder().add_service(server.service());
}

#[test]
fn debug_output_hides_secrets() {
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let shown = format!("{fixture:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains(&fixture.admin_key),
        "{shown}"
    );
    let shown = format!("{server:?}");
    assert!(
        shown.contains("organizations: 1") && !shown.contains("ffy_"),
        "{shown}"
    );
}

#[test]
fn seeding_unknown_things_does_not_panic() {
    let server = ReferenceServer::new();
    let org = server.add_organization("Acme");
    let ghost_org: OrganizationId = "org_01h2xcejqtf2nbrexx3vqjhp41".parse().unwrap();
    let ghost_user: UserId = "user_01h2xcejqtf2nbrexx3vqjhp40".parse().unwrap();
    server.add_member(&ghost_org, &ghost_user);
    server.add_member(&org, &ghost_user);
    let id = server.seed_invite(&ghost_org, "a@example.com", &ghost_user, Utc::now());
    assert!(InviteId::parse(id.as_str()).is_ok());
    assert!(server.invites(&ghost_org).is_empty());
    server.seed_invite(&org, "a@example.com", &ghost_user, Utc::now());
    let shown = server.invites(&org);
    assert_eq!(shown[0].sender.as_ref().unwrap().id, ghost_user.to_string());
    let svc = server.add_service_account("CI bot", "ci@acme.example");
    assert!(svc.is_service_account());
}
