//! The requests (written by the client, read strictly by the reference
//! server: an unknown field or enum name is an error).

use serde::Deserialize;

use crate as proto;
use crate::enum_names::EnumNames;

use super::read::{known_status, request_enum, EnumValue, Int32};
use super::timestamp::read_timestamp;
use super::write::{status_name, write_enum, Object, WriteFields};
use super::{parse, JsonMessage};

/// `CreateOrganizationInviteRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, alias = "idempotency_key")]
    idempotency_key: Option<String>,
}

impl JsonMessage for proto::CreateOrganizationInviteRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        object.string("email", &self.email);
        object.optional("message", self.message.as_ref());
        object.optional("idempotencyKey", self.idempotency_key.as_ref());
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: CreateRequestJson = parse(bytes)?;
        Ok(proto::CreateOrganizationInviteRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            email: json.email.unwrap_or_default(),
            message: json.message,
            idempotency_key: json.idempotency_key,
        })
    }
}

/// `StringFilter`, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StringFilterJson {
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    exact: Option<String>,
}

impl WriteFields for proto::StringFilter {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("contains", &self.contains);
        object.string("exact", &self.exact);
        Ok(())
    }
}

/// `TimeRange`, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeRangeJson {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

impl WriteFields for proto::TimeRange {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.timestamp("after", self.after.as_ref())?;
        object.timestamp("before", self.before.as_ref())
    }
}

/// `ListOrganizationInvitesRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    status: Option<Vec<EnumValue>>,
    #[serde(default, alias = "page_token")]
    page_token: Option<String>,
    #[serde(default, alias = "page_size")]
    page_size: Option<Int32>,
    #[serde(default)]
    email: Option<StringFilterJson>,
    #[serde(default, alias = "sender_id")]
    sender_id: Option<String>,
    #[serde(default)]
    created: Option<TimeRangeJson>,
}

impl JsonMessage for proto::ListOrganizationInvitesRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        if !self.status.is_empty() {
            object.key("status");
            object.out.push(b'[');
            for (i, status) in self.status.iter().enumerate() {
                if i > 0 {
                    object.out.push(b',');
                }
                write_enum(object.out, *status, status_name);
            }
            object.out.push(b']');
        }
        object.string("pageToken", &self.page_token);
        object.int32("pageSize", self.page_size);
        object.message("email", self.email.as_ref())?;
        object.optional("senderId", self.sender_id.as_ref());
        object.message("created", self.created.as_ref())?;
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: ListRequestJson = parse(bytes)?;
        Ok(proto::ListOrganizationInvitesRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            status: json
                .status
                .unwrap_or_default()
                .into_iter()
                .map(|status| request_enum(status, "status", known_status))
                .collect::<Result<_, _>>()?,
            page_token: json.page_token.unwrap_or_default(),
            page_size: json.page_size.map_or(0, |size| size.0),
            email: json.email.map(|email| proto::StringFilter {
                contains: email.contains.unwrap_or_default(),
                exact: email.exact.unwrap_or_default(),
            }),
            sender_id: json.sender_id,
            created: match json.created {
                None => None,
                Some(created) => Some(proto::TimeRange {
                    after: read_timestamp(created.after, "created.after")?,
                    before: read_timestamp(created.before, "created.before")?,
                }),
            },
        })
    }
}

/// The requests that name an invitation of an organization.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InviteRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default, alias = "invite_id")]
    invite_id: Option<String>,
}

macro_rules! invite_request {
    ($($message:ident),*) => {$(
        impl JsonMessage for proto::$message {
            fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
                let mut object = Object::begin(out);
                object.string("organizationId", &self.organization_id);
                object.string("inviteId", &self.invite_id);
                object.end();
                Ok(())
            }

            fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
                let json: InviteRequestJson = parse(bytes)?;
                Ok(proto::$message {
                    organization_id: json.organization_id.unwrap_or_default(),
                    invite_id: json.invite_id.unwrap_or_default(),
                })
            }
        }
    )*};
}

invite_request!(
    ResendOrganizationInviteRequest,
    RevokeOrganizationInviteRequest
);

/// `AcceptOrganizationInviteRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AcceptRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

impl JsonMessage for proto::AcceptOrganizationInviteRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        object.string("token", &self.token);
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: AcceptRequestJson = parse(bytes)?;
        Ok(proto::AcceptOrganizationInviteRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            token: json.token.unwrap_or_default(),
        })
    }
}
