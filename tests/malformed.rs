//! A server that breaks the contract: the client answers with
//! `InvalidResponse` naming the field, never a panic or an invented default,
//! and accepts enum values it does not know.
//!
//! The misbehaving server here is a tiny tonic implementation of the
//! generated service trait, bound on `127.0.0.1:0`, that answers every call
//! with a canned invitation which each test breaks in its own way.

mod common;

use factify_invites::proto::organization_invite_service_server::{
    OrganizationInviteService, OrganizationInviteServiceServer,
};
use factify_invites::proto::{self, *};
use factify_invites::{Client, Error, InviteStatus, UnknownValue, UserType};
use tonic::{Request, Response, Status};

struct Canned(proto::OrganizationInvite);

#[tonic::async_trait]
impl OrganizationInviteService for Canned {
    async fn create_organization_invite(
        &self,
        _: Request<CreateOrganizationInviteRequest>,
    ) -> Result<Response<CreateOrganizationInviteResponse>, Status> {
        Ok(Response::new(CreateOrganizationInviteResponse {
            invite: Some(self.0.clone()),
        }))
    }
    async fn list_organization_invites(
        &self,
        _: Request<ListOrganizationInvitesRequest>,
    ) -> Result<Response<ListOrganizationInvitesResponse>, Status> {
        Ok(Response::new(ListOrganizationInvitesResponse {
            items: vec![common::valid_wire_invite(), self.0.clone()],
            pagination: Some(Pagination::default()),
        }))
    }
    async fn resend_organization_invite(
        &self,
        _: Request<ResendOrganizationInviteRequest>,
    ) -> Result<Response<ResendOrganizationInviteResponse>, Status> {
        Ok(Response::new(ResendOrganizationInviteResponse {
            invite: None,
        }))
    }
    async fn revoke_organization_invite(
        &self,
        _: Request<RevokeOrganizationInviteRequest>,
    ) -> Result<Response<RevokeOrganizationInviteResponse>, Status> {
        Ok(Response::new(RevokeOrganizationInviteResponse {
            invite: Some(self.0.clone()),
        }))
    }
    async fn accept_organization_invite(
        &self,
        _: Request<AcceptOrganizationInviteRequest>,
    ) -> Result<Response<AcceptOrganizationInviteResponse>, Status> {
        Ok(Response::new(AcceptOrganizationInviteResponse {
            organization: Some(Organization {
                id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
                ..Default::default()
            }),
        }))
    }
}

/// Serves `invite` for every call on a fresh loopback port.
async fn serve(invite: proto::OrganizationInvite) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(OrganizationInviteServiceServer::new(Canned(invite)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Client::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("ffy_test")
        .connect()
        .await
        .unwrap()
}

const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const INVITE: &str = "inv_01h2xcejqtf2nbrexx3vqjhp42";

fn field_of<T: std::fmt::Debug>(result: factify_invites::Result<T>) -> String {
    match result {
        Err(Error::InvalidResponse { field, .. }) => field,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_required_field_is_an_invalid_response() {
    let mut invite = common::valid_wire_invite();
    invite.created_at = None;
    let client = serve(invite).await;
    assert_eq!(
        field_of(client.create_invite(ORG, "ada@example.com").await),
        "invite.created_at"
    );
    assert_eq!(
        field_of(client.revoke_invite(ORG, INVITE).await),
        "invite.created_at"
    );
    // In a list, the path says which item.
    assert_eq!(
        field_of(client.list_invites(ORG).await),
        "items[1].created_at"
    );
}

#[tokio::test]
async fn a_missing_sender_name_or_message_is_named() {
    let mut invite = common::valid_wire_invite();
    invite.sender.as_mut().unwrap().name.clear();
    let client = serve(invite).await;
    assert_eq!(
        field_of(client.create_invite(ORG, "ada@example.com").await),
        "invite.sender.name"
    );
    assert_eq!(
        field_of(client.resend_invite(ORG, INVITE).await),
        "response.invite"
    );
    assert_eq!(
        field_of(client.accept_invite(ORG, "t").await),
        "organization.created_at"
    );
}

#[tokio::test]
async fn a_malformed_id_from_the_server_is_an_invalid_response() {
    let mut invite = common::valid_wire_invite();
    invite.id = "INV-1".into();
    let client = serve(invite).await;
    let err = client
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.param(), Some("invite.id"));
    assert!(err.to_string().contains("invalid response"), "{err}");
}

#[tokio::test]
async fn unknown_enum_values_are_accepted() {
    let mut invite = common::valid_wire_invite();
    invite.status = 17;
    invite.sender.as_mut().unwrap().r#type = 5;
    let client = serve(invite).await;
    let created = client.create_invite(ORG, "ada@example.com").await.unwrap();
    assert_eq!(
        created.status,
        InviteStatus::Unknown(UnknownValue::number(17))
    );
    assert_eq!(
        created.sender.user_type,
        UserType::Unknown(UnknownValue::number(5))
    );
}
