//! The invitation lifecycle, step by step: create, the deduplicated
//! re-create, a filtered list streamed page by page, resend, revoke, accept,
//! and the FAILED_PRECONDITION of inviting a member.
//!
//! With no environment set, it starts the crate's embedded reference server
//! on a free loopback port and talks to it:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `FACTIFY_ENDPOINT`, `FACTIFY_API_KEY` and `FACTIFY_ORGANIZATION_ID`
//! set, it talks to that server instead (it invites addresses at
//! `example.com`, and skips the steps that need an inbox).
//!
//! `FACTIFY_PROTOCOL` picks the wire protocol: `grpc` (the default),
//! `connect` (Connect with binary protobuf) or `connect-json`:
//!
//! ```text
//! FACTIFY_PROTOCOL=connect-json cargo run --example quickstart
//! ```

use factify_invites::{Client, Error, Invite, InviteStatus, OrganizationId, Protocol};
use factify_invites_server::{Permissions, ReferenceServer, RunningServer};
use futures::TryStreamExt;

/// The protocol named by `FACTIFY_PROTOCOL`; gRPC when unset.
fn protocol_from_env() -> Result<Protocol, String> {
    match std::env::var("FACTIFY_PROTOCOL").as_deref() {
        Err(_) | Ok("") | Ok("grpc") => Ok(Protocol::Grpc),
        Ok("connect") | Ok("connect-proto") => Ok(Protocol::ConnectProto),
        Ok("connect-json") => Ok(Protocol::ConnectJson),
        Ok(other) => Err(format!(
            "FACTIFY_PROTOCOL={other:?}: use grpc, connect or connect-json"
        )),
    }
}

/// Where the example runs: the embedded server, or a real endpoint.
enum Target {
    Embedded {
        server: ReferenceServer,
        running: RunningServer,
        admin_email: String,
    },
    Remote,
}

fn show(step: &str, invite: &Invite) {
    println!(
        "{step:<22} {}  {:<24} {:?}  expires {}",
        invite.id,
        invite.email,
        invite.status,
        invite.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protocol = protocol_from_env()?;
    let remote =
        std::env::var("FACTIFY_ENDPOINT").is_ok() && std::env::var("FACTIFY_API_KEY").is_ok();
    let (client, org, target) = if remote {
        let client = Client::builder()
            .from_env()
            .protocol(protocol)
            .connect()
            .await?;
        let org: OrganizationId = std::env::var("FACTIFY_ORGANIZATION_ID")
            .map_err(|_| "set FACTIFY_ORGANIZATION_ID to the organization to invite to")?
            .parse()?;
        println!("Talking to {}", std::env::var("FACTIFY_ENDPOINT")?);
        (client, org, Target::Remote)
    } else {
        let server = ReferenceServer::new();
        let fixture = server.fixture();
        let running = server.start().await?;
        println!(
            "Started the embedded reference server at {}",
            running.endpoint()
        );
        let client = Client::builder()
            .endpoint(running.endpoint())
            .api_key(&fixture.admin_key)
            .protocol(protocol)
            .connect()
            .await?;
        let target = Target::Embedded {
            server,
            running,
            admin_email: fixture.admin_email,
        };
        (client, fixture.organization, target)
    };
    println!("Organization {org}, over {protocol}\n");

    // 1. Invite someone, with a personal note.
    let ada = client
        .create_invite(&org, "ada@example.com")
        .message("Welcome to the team!")
        .await?;
    show("created", &ada);

    // 2. Inviting the same address again resends the pending invitation.
    let again = client.create_invite(&org, "Ada@Example.com").await?;
    show("re-created (deduped)", &again);
    println!("  same invitation: {}", again.id == ada.id);

    // 3. A few more, then a filtered list streamed two per page.
    for name in ["alan", "barbara", "claude", "edsger"] {
        client
            .create_invite(&org, format!("{name}@example.com"))
            .await?;
    }
    println!("\nPending invitations at example.com, 2 per page:");
    let mut pages = client
        .list_invites(&org)
        .status(InviteStatus::Pending)
        .email_contains("@example.com")
        .page_size(2)
        .pages();
    let mut number = 0;
    while let Some(page) = pages.try_next().await? {
        number += 1;
        let emails: Vec<_> = page
            .items
            .iter()
            .map(|invite| invite.email.as_str())
            .collect();
        println!("  page {number}: {}", emails.join(", "));
    }

    // 4. Resend, then revoke.
    let alan = client
        .list_invites(&org)
        .email_exact("alan@example.com")
        .await?
        .items
        .into_iter()
        .next()
        .ok_or("alan's invitation is missing")?;
    println!();
    show("resent", &client.resend_invite(&org, &alan.id).await?);
    show("revoked", &client.revoke_invite(&org, &alan.id).await?);

    match &target {
        Target::Embedded {
            server,
            running,
            admin_email,
        } => {
            // 5. Ada accepts with the token from her email, using her own key.
            let token = server
                .last_email_to("ada@example.com")
                .ok_or("no email was sent to Ada")?
                .token;
            let ada_user = server.add_user("Ada Lovelace", "ada@example.com");
            let ada_client = Client::builder()
                .endpoint(running.endpoint())
                .protocol(protocol)
                .api_key(server.add_api_key(&ada_user, Permissions::NONE))
                .connect()
                .await?;
            let joined = ada_client.accept_invite(&org, token).await?;
            println!("\naccepted: Ada joined {} ({})", joined.name, joined.id);

            // 6. Inviting a member is refused, with a reason to match on.
            match client.create_invite(&org, admin_email).await {
                Err(Error::FailedPrecondition(status)) => {
                    println!("inviting a member:     {status}")
                }
                other => return Err(format!("expected FAILED_PRECONDITION, got {other:?}").into()),
            }
        }
        Target::Remote => {
            println!(
                "\n(accept and the member check need an inbox: skipped against a remote server)"
            );
        }
    }
    Ok(())
}
