//! Field validation of requests, in the SPEC's terms: an empty required
//! field is `missing_required_field`, a malformed ID `invalid_id_format`, a
//! value outside its limits `invalid_field_value`, each with `param` naming
//! the field. Fields are checked in the order of their field numbers and the
//! first fault is reported. Limits come from [`crate::limits`].

use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::limits;
use crate::proto;

/// A checked `CreateOrganizationInviteRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateInput {
    pub(crate) organization: OrganizationId,
    pub(crate) email: String,
    /// `None` also for an empty message.
    pub(crate) message: Option<String>,
    /// `None` also for an empty key.
    pub(crate) idempotency_key: Option<String>,
}

/// An organization and one of its invitations (resend and revoke).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InviteRef {
    pub(crate) organization: OrganizationId,
    pub(crate) invite: InviteId,
}

/// A checked `AcceptOrganizationInviteRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AcceptInput {
    pub(crate) organization: OrganizationId,
    pub(crate) token: String,
}

/// Checks a create request.
pub(crate) fn create(
    req: &proto::CreateOrganizationInviteRequest,
) -> Result<CreateInput, ApiError> {
    let organization = organization_id(&req.organization_id)?;
    if req.email.is_empty() {
        return Err(ApiError::missing_field("email"));
    }
    if !limits::is_email(&req.email) {
        return Err(ApiError::invalid_value(
            "email",
            "`email` is not a valid email address",
        ));
    }
    let message = req.message.clone().filter(|m| !m.is_empty());
    if message
        .as_ref()
        .is_some_and(|m| m.len() > limits::MAX_MESSAGE_BYTES)
    {
        return Err(ApiError::invalid_value(
            "message",
            format!(
                "`message` must be at most {} bytes",
                limits::MAX_MESSAGE_BYTES
            ),
        ));
    }
    let idempotency_key = req.idempotency_key.clone().filter(|k| !k.is_empty());
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.len() > limits::MAX_IDEMPOTENCY_KEY_BYTES)
    {
        return Err(ApiError::invalid_value(
            "idempotency_key",
            format!(
                "`idempotency_key` must be at most {} bytes",
                limits::MAX_IDEMPOTENCY_KEY_BYTES
            ),
        ));
    }
    Ok(CreateInput {
        organization,
        email: req.email.clone(),
        message,
        idempotency_key,
    })
}

/// Checks the IDs of a resend or revoke request.
pub(crate) fn invite_ref(organization: &str, invite: &str) -> Result<InviteRef, ApiError> {
    let organization = organization_id(organization)?;
    if invite.is_empty() {
        return Err(ApiError::missing_field("invite_id"));
    }
    let invite =
        InviteId::parse(invite).map_err(|_| ApiError::invalid_id("invite_id", "`inv_`"))?;
    Ok(InviteRef {
        organization,
        invite,
    })
}

/// Checks an accept request. An empty or too long token is
/// `invalid_field_value` (param `token`).
pub(crate) fn accept(
    req: &proto::AcceptOrganizationInviteRequest,
) -> Result<AcceptInput, ApiError> {
    let organization = organization_id(&req.organization_id)?;
    if req.token.is_empty() || req.token.len() > limits::MAX_TOKEN_BYTES {
        return Err(ApiError::invalid_value(
            "token",
            format!("`token` must be 1 to {} bytes", limits::MAX_TOKEN_BYTES),
        ));
    }
    Ok(AcceptInput {
        organization,
        token: req.token.clone(),
    })
}

/// Checks `organization_id`.
pub(crate) fn organization_id(value: &str) -> Result<OrganizationId, ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_field("organization_id"));
    }
    OrganizationId::parse(value).map_err(|_| ApiError::invalid_id("organization_id", "`org_`"))
}

/// Checks an optional `sender_id` filter; empty means unset.
pub(crate) fn sender_id(value: Option<&str>) -> Result<Option<UserId>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(value) => UserId::parse(value)
            .map(Some)
            .map_err(|_| ApiError::invalid_id("sender_id", "`user_` or `svc_`")),
    }
}

/// Checks a timestamp: seconds within chrono's range and nanoseconds in
/// `0..1_000_000_000`.
pub(crate) fn timestamp(
    value: &prost_types::Timestamp,
    param: &'static str,
) -> Result<DateTime<Utc>, ApiError> {
    u32::try_from(value.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| {
            ApiError::invalid_value(param, format!("`{param}` is not a valid timestamp"))
        })
}

/// A [`DateTime`] as a protobuf timestamp.
pub(crate) fn to_timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        // chrono counts a leap second as nanos >= 10^9; protobuf does not.
        nanos: i32::try_from(time.timestamp_subsec_nanos().min(999_999_999)).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason_param(error: ApiError) -> (&'static str, Option<&'static str>) {
        (error.reason, error.param)
    }

    #[test]
    fn create_checks_fields_in_order() {
        let ok = proto::CreateOrganizationInviteRequest {
            organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
            email: "ada@example.com".into(),
            message: Some(String::new()),
            idempotency_key: Some(String::new()),
        };
        let input = create(&ok).unwrap();
        assert_eq!((input.message, input.idempotency_key), (None, None));
        let cases = [
            (
                proto::CreateOrganizationInviteRequest {
                    organization_id: String::new(),
                    email: String::new(),
                    ..ok.clone()
                },
                ("missing_required_field", Some("organization_id")),
            ),
            (
                proto::CreateOrganizationInviteRequest {
                    organization_id: "org_nope".into(),
                    ..ok.clone()
                },
                ("invalid_id_format", Some("organization_id")),
            ),
            (
                proto::CreateOrganizationInviteRequest {
                    email: String::new(),
                    ..ok.clone()
                },
                ("missing_required_field", Some("email")),
            ),
            (
                proto::CreateOrganizationInviteRequest {
                    email: "not an email".into(),
                    ..ok.clone()
                },
                ("invalid_field_value", Some("email")),
            ),
            (
                proto::CreateOrganizationInviteRequest {
                    message: Some("x".repeat(2001)),
                    ..ok.clone()
                },
                ("invalid_field_value", Some("message")),
            ),
            (
                proto::CreateOrganizationInviteRequest {
                    idempotency_key: Some("k".repeat(256)),
                    ..ok.clone()
                },
                ("invalid_field_value", Some("idempotency_key")),
            ),
        ];
        for (req, expected) in cases {
            assert_eq!(reason_param(create(&req).unwrap_err()), expected, "{req:?}");
        }
        let at_limits = proto::CreateOrganizationInviteRequest {
            message: Some("é".repeat(1000)),
            idempotency_key: Some("k".repeat(255)),
            ..ok
        };
        assert!(create(&at_limits).is_ok());
    }

    #[test]
    fn ids_tokens_and_timestamps() {
        let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
        assert_eq!(
            reason_param(invite_ref(org, "").unwrap_err()),
            ("missing_required_field", Some("invite_id"))
        );
        assert_eq!(
            reason_param(invite_ref(org, org).unwrap_err()),
            ("invalid_id_format", Some("invite_id"))
        );
        assert!(invite_ref(org, "inv_01h2xcejqtf2nbrexx3vqjhp41").is_ok());
        for token in [String::new(), "t".repeat(129)] {
            let req = proto::AcceptOrganizationInviteRequest {
                organization_id: org.into(),
                token,
            };
            assert_eq!(
                reason_param(accept(&req).unwrap_err()),
                ("invalid_field_value", Some("token"))
            );
        }
        assert_eq!(sender_id(Some("")).unwrap(), None);
        assert_eq!(
            reason_param(sender_id(Some("usr_1")).unwrap_err()),
            ("invalid_id_format", Some("sender_id"))
        );
        assert!(sender_id(Some("svc_01h2xcejqtf2nbrexx3vqjhp40"))
            .unwrap()
            .is_some());
        for (seconds, nanos) in [(0, -1), (0, 1_000_000_000), (i64::MAX, 0)] {
            let ts = prost_types::Timestamp { seconds, nanos };
            assert!(timestamp(&ts, "created.after").is_err(), "{ts:?}");
        }
        let now = DateTime::from_timestamp(1_700_000_000, 5).unwrap();
        assert_eq!(timestamp(&to_timestamp(now), "x").unwrap(), now);
    }
}
