//! Complete, valid domain values to change field by field, and the errors
//! a call can end with, built as a server (or the client) would make them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message;

use crate::error::{
    Code, Error, Reason, Result, Status, TransportError, ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL,
};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
use crate::types::{Acceptance, Invite, InviteStatus, Organization, Page, User, UserType};

/// A fixed instant (2025-06-15 15:06:40 UTC), so that values made here are
/// the same on every run.
fn fixed_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default()
}

fn example_id<T>(parse: fn(&str) -> Result<T, crate::IdError>, value: &str) -> T {
    match parse(value) {
        Ok(id) => id,
        Err(err) => unreachable!("the SPEC's example ID {value} is valid: {err}"),
    }
}

/// A person: `user_01h2xcejqtf2nbrexx3vqjhp40`, "Grace Hopper",
/// `grace@example.com`. Change its public fields as needed.
pub fn user() -> User {
    User {
        id: example_id(UserId::parse, "user_01h2xcejqtf2nbrexx3vqjhp40"),
        user_type: UserType::UserAccount,
        name: "Grace Hopper".to_owned(),
        email: "grace@example.com".to_owned(),
        given_name: Some("Grace".to_owned()),
        family_name: Some("Hopper".to_owned()),
        profile_image_url: None,
    }
}

/// A pending invitation `inv_01h2xcejqtf2nbrexx3vqjhp42` of
/// `ada@example.com` to `org_01h2xcejqtf2nbrexx3vqjhp41`, sent by [`user`],
/// expiring 7 days after it was created. Change its public fields as needed
/// (an accepted one: set `status` and `accepted` with [`acceptance`]).
pub fn invite() -> Invite {
    let created_at = fixed_time();
    Invite {
        id: example_id(InviteId::parse, "inv_01h2xcejqtf2nbrexx3vqjhp42"),
        organization_id: example_id(OrganizationId::parse, "org_01h2xcejqtf2nbrexx3vqjhp41"),
        email: "ada@example.com".to_owned(),
        status: InviteStatus::Pending,
        sender: user(),
        created_at,
        expires_at: created_at + chrono::Duration::days(7),
        accepted: None,
        message: None,
    }
}

/// That `by` accepted an invitation `at`, for [`Invite::accepted`].
pub fn acceptance(at: DateTime<Utc>, by: User) -> Acceptance {
    Acceptance { at, by }
}

/// The organization `org_01h2xcejqtf2nbrexx3vqjhp41`, "Example Inc.".
pub fn organization() -> Organization {
    Organization {
        id: example_id(OrganizationId::parse, "org_01h2xcejqtf2nbrexx3vqjhp41"),
        name: "Example Inc.".to_owned(),
        created_at: fixed_time(),
        logo_image_url: None,
    }
}

/// A page of `items`, followed by the page of `next_page_token` if any.
pub fn page(items: Vec<Invite>, next_page_token: Option<&str>) -> Page {
    Page {
        items,
        next_page_token: next_page_token.map(str::to_owned),
        prev_page_token: None,
    }
}

/// Starts the [`Status`] of a service error with `code` and `message`;
/// finish it with [`StatusBuilder::into_error`] (or
/// [`build`](StatusBuilder::build)).
pub fn status(code: Code, message: impl Into<String>) -> StatusBuilder {
    StatusBuilder {
        code,
        message: message.into(),
        detail: None,
        retry_after: None,
    }
}

/// A [`Status`] as a server would send it; made by [`status`].
#[must_use]
#[derive(Debug, Clone)]
pub struct StatusBuilder {
    code: Code,
    message: String,
    detail: Option<proto::ErrorDetail>,
    retry_after: Option<Duration>,
}

impl StatusBuilder {
    fn detail(&mut self) -> &mut proto::ErrorDetail {
        self.detail.get_or_insert_with(proto::ErrorDetail::default)
    }

    /// The machine-readable reason of its `ErrorDetail`.
    pub fn reason(mut self, reason: Reason) -> Self {
        self.detail().reason = reason.as_str().to_owned();
        self
    }

    /// The server's request ID (`req_...`).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.detail().request_id = id.into();
        self
    }

    /// The request field at fault.
    pub fn param(mut self, field: impl Into<String>) -> Self {
        self.detail().param = field.into();
        self
    }

    /// The `RetryInfo` delay: how long the server asks to wait.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// The status, as [`Error::status`] would give it.
    pub fn build(self) -> Status {
        let mut details = Vec::new();
        if let Some(detail) = self.detail {
            details.push(prost_types::Any {
                type_url: ERROR_DETAIL_TYPE_URL.to_owned(),
                value: detail.encode_to_vec(),
            });
        }
        if let Some(delay) = self.retry_after {
            let info = proto::google::rpc::RetryInfo {
                retry_delay: prost_types::Duration::try_from(delay).ok(),
            };
            details.push(prost_types::Any {
                type_url: RETRY_INFO_TYPE_URL.to_owned(),
                value: info.encode_to_vec(),
            });
        }
        Status::from_details(self.code, self.message, details, None)
    }

    /// The error of this status: the variant of its code, as a call would
    /// return it ([`Error::from_status`]).
    pub fn into_error(self) -> Error {
        Error::from_status(self.build())
    }
}

/// An [`Error::Transport`]: the connection failed before the request was
/// sent (`before_send`, so that retrying is safe), or after (the server may
/// have acted).
pub fn transport_error(message: impl Into<String>, before_send: bool) -> Error {
    let message = message.into();
    let cause = message.clone();
    Error::Transport(TransportError::unsent(message, cause).before_send(before_send))
}

/// An [`Error::InvalidResponse`] naming the response `field` at fault.
pub fn invalid_response(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::invalid_response(field, message)
}
