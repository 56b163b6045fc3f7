//! Domain values back to the wire, for the scripted answers: the client
//! under test decodes them as it would a server's response.

use chrono::{DateTime, Utc};

use crate::proto;
use crate::types::{Invite, InviteStatus, UnknownValue, User, UserType};

pub(crate) fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// What an unknown value given by name is answered as: the scripted client
/// speaks protobuf, which carries enum numbers only, so the test reads it
/// back as `UnknownValue::number(i32::MIN)`. Script unknown values by
/// number to compare them whole.
const NAMED_UNKNOWN: i32 = i32::MIN;

fn unknown_to_wire(value: &UnknownValue) -> i32 {
    value.as_number().unwrap_or(NAMED_UNKNOWN)
}

fn user_to_wire(user: &User) -> proto::User {
    proto::User {
        id: user.id.as_str().to_owned(),
        r#type: match &user.user_type {
            UserType::UserAccount => proto::UserType::UserAccount as i32,
            UserType::ServiceAccount => proto::UserType::ServiceAccount as i32,
            UserType::Unknown(value) => unknown_to_wire(value),
        },
        name: user.name.clone(),
        email: user.email.clone(),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        profile_image_url: user.profile_image_url.clone(),
    }
}

pub(crate) fn invite_to_wire(invite: &Invite) -> proto::OrganizationInvite {
    proto::OrganizationInvite {
        id: invite.id.as_str().to_owned(),
        organization_id: invite.organization_id.as_str().to_owned(),
        email: invite.email.clone(),
        status: match &invite.status {
            InviteStatus::Unknown(value) => unknown_to_wire(value),
            known => known.to_wire().unwrap_or(NAMED_UNKNOWN),
        },
        sender: Some(user_to_wire(&invite.sender)),
        created_at: Some(timestamp(invite.created_at)),
        expires_at: Some(timestamp(invite.expires_at)),
        accepted_at: invite.accepted.as_ref().map(|a| timestamp(a.at)),
        accepted_by: invite.accepted.as_ref().map(|a| user_to_wire(&a.by)),
        message: invite.message.clone(),
    }
}
