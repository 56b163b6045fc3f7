//! The reference server's errors: [`ApiError`], what the store's rules
//! return, and [`ApiError::into_status`], the one place that turns it into a
//! `tonic::Status` carrying a `google.rpc.Status` with a
//! `factify.api.v1beta.ErrorDetail` (and a `google.rpc.RetryInfo` when
//! rate-limited) in its details.

use chrono::{DateTime, TimeDelta, Utc};
use prost::Message;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::Code;

use crate::proto;
use crate::proto::google::rpc;

// The same `type_url`s the client reads, so the two cannot drift apart.
pub(crate) use factify_invites_proto::{ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};

/// Why a call is refused when a rate limit is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RateLimited {
    /// The limit that was reached, per minute.
    pub(crate) limit: u32,
    /// How long until a request fits in the window again.
    pub(crate) retry_after: TimeDelta,
    /// When the window frees a slot (`now + retry_after`).
    pub(crate) reset_at: DateTime<Utc>,
}

/// A refused call: the status code, the SPEC's reason, a message for people,
/// the request field at fault, and for rate limits the wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: Code,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) param: Option<&'static str>,
    pub(crate) rate_limited: Option<RateLimited>,
}

impl ApiError {
    fn new(code: Code, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            param: None,
            rate_limited: None,
        }
    }

    fn with_param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    /// No `authorization` header, or an empty bearer key.
    pub(crate) fn missing_api_key() -> Self {
        Self::new(
            Code::Unauthenticated,
            "missing_api_key",
            "missing API key: send `authorization: Bearer <api key>`",
        )
    }

    /// A key this server did not issue, or a malformed header.
    pub(crate) fn invalid_api_key() -> Self {
        Self::new(Code::Unauthenticated, "invalid_api_key", "invalid API key")
    }

    /// The key lacks a permission or its account is not a member.
    pub(crate) fn insufficient_permissions(message: impl Into<String>) -> Self {
        Self::new(Code::PermissionDenied, "insufficient_permissions", message)
    }

    /// An empty required field.
    pub(crate) fn missing_field(param: &'static str) -> Self {
        Self::new(
            Code::InvalidArgument,
            "missing_required_field",
            format!("`{param}` is required"),
        )
        .with_param(param)
    }

    /// An ID that does not match its SPEC pattern.
    pub(crate) fn invalid_id(param: &'static str, expected: &str) -> Self {
        Self::new(
            Code::InvalidArgument,
            "invalid_id_format",
            format!("`{param}` must be {expected} followed by a lowercase ULID"),
        )
        .with_param(param)
    }

    /// A field whose value is out of its limits or shape.
    pub(crate) fn invalid_value(param: &'static str, message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, "invalid_field_value", message).with_param(param)
    }

    /// An enum value that is unknown or `..._UNSPECIFIED`.
    pub(crate) fn invalid_enum(param: &'static str, value: i32) -> Self {
        Self::new(
            Code::InvalidArgument,
            "invalid_enum_value",
            format!("`{param}` holds {value}, which is not a valid value"),
        )
        .with_param(param)
    }

    /// A page token this server did not issue, or one for other filters.
    pub(crate) fn invalid_cursor() -> Self {
        Self::new(
            Code::InvalidArgument,
            "invalid_cursor",
            "`page_token` was not issued by this server for these filters",
        )
        .with_param("page_token")
    }

    /// An unknown resource, or one of another organization.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, "resource_not_found", message)
    }

    /// A resource in a state that forbids the call.
    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        Self::new(Code::FailedPrecondition, "precondition_failed", message)
    }

    /// The service is down for now (an injected fault).
    pub(crate) fn unavailable() -> Self {
        Self::new(
            Code::Unavailable,
            "service_unavailable",
            "the service is unavailable; retry later",
        )
    }

    /// A rate limit that a test injected, with its own wait.
    pub(crate) fn injected_rate_limit(delay: std::time::Duration, now: DateTime<Utc>) -> Self {
        let retry_after = TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        let mut error = Self::new(
            Code::ResourceExhausted,
            "rate_limit_exceeded",
            format!("rate limit exceeded; retry in {} ms", delay.as_millis()),
        );
        error.rate_limited = Some(RateLimited {
            limit: 0,
            retry_after,
            reset_at: now.checked_add_signed(retry_after).unwrap_or(now),
        });
        error
    }

    /// Too many requests in the window.
    pub(crate) fn rate_limited(what: &str, limited: RateLimited) -> Self {
        let mut error = Self::new(
            Code::ResourceExhausted,
            "rate_limit_exceeded",
            format!(
                "rate limit of {} {what} a minute exceeded; retry in {} ms",
                limited.limit,
                limited.retry_after.num_milliseconds()
            ),
        );
        error.rate_limited = Some(limited);
        error
    }

    /// The `tonic::Status` for this error in the request `request_id`: the
    /// code and message, the `google.rpc.Status` details (an `ErrorDetail`,
    /// and a `RetryInfo` when rate-limited), and the metadata `x-request-id`
    /// (plus `x-ratelimit-limit`, `x-ratelimit-remaining` and
    /// `x-ratelimit-reset` when rate-limited).
    pub(crate) fn into_status(self, request_id: &str) -> tonic::Status {
        let detail = proto::ErrorDetail {
            reason: self.reason.to_owned(),
            request_id: request_id.to_owned(),
            param: self.param.unwrap_or_default().to_owned(),
        };
        let mut details = vec![prost_types::Any {
            type_url: ERROR_DETAIL_TYPE_URL.to_owned(),
            value: detail.encode_to_vec(),
        }];
        let mut metadata = MetadataMap::new();
        insert(&mut metadata, "x-request-id", request_id);
        if let Some(limited) = &self.rate_limited {
            let retry = rpc::RetryInfo {
                retry_delay: Some(prost_types::Duration {
                    seconds: limited.retry_after.num_seconds(),
                    nanos: limited.retry_after.subsec_nanos(),
                }),
            };
            details.push(prost_types::Any {
                type_url: RETRY_INFO_TYPE_URL.to_owned(),
                value: retry.encode_to_vec(),
            });
            insert(
                &mut metadata,
                "x-ratelimit-limit",
                &limited.limit.to_string(),
            );
            insert(&mut metadata, "x-ratelimit-remaining", "0");
            // Rounded up, so that waiting until then is always enough.
            let reset = limited.reset_at.timestamp()
                + i64::from(limited.reset_at.timestamp_subsec_nanos() > 0);
            insert(&mut metadata, "x-ratelimit-reset", &reset.to_string());
        }
        let status = rpc::Status {
            code: self.code as i32,
            message: self.message.clone(),
            details,
        };
        tonic::Status::with_details_and_metadata(
            self.code,
            self.message,
            status.encode_to_vec().into(),
            metadata,
        )
    }
}

/// Inserts an ASCII metadata value; values that are not valid are skipped
/// (they never occur: IDs and numbers are ASCII).
fn insert(metadata: &mut MetadataMap, key: &'static str, value: &str) {
    if let Ok(value) = MetadataValue::try_from(value) {
        metadata.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(status: &tonic::Status) -> rpc::Status {
        rpc::Status::decode(status.details()).unwrap()
    }

    #[test]
    fn status_carries_the_detail_and_request_id() {
        let status = ApiError::invalid_id("invite_id", "`inv_`").into_status("req_x");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.metadata().get("x-request-id").unwrap(), "req_x");
        let rpc_status = decode(&status);
        assert_eq!(rpc_status.code, Code::InvalidArgument as i32);
        assert_eq!(rpc_status.message, status.message());
        assert_eq!(rpc_status.details.len(), 1);
        let any = &rpc_status.details[0];
        assert_eq!(any.type_url, ERROR_DETAIL_TYPE_URL);
        let detail = proto::ErrorDetail::decode(any.value.as_slice()).unwrap();
        assert_eq!(detail.reason, "invalid_id_format");
        assert_eq!(detail.request_id, "req_x");
        assert_eq!(detail.param, "invite_id");
    }

    #[test]
    fn rate_limit_adds_retry_info_and_headers() {
        let reset_at = DateTime::from_timestamp(1_700_000_000, 500).unwrap();
        let error = ApiError::rate_limited(
            "requests",
            RateLimited {
                limit: 10,
                retry_after: TimeDelta::milliseconds(1500),
                reset_at,
            },
        );
        let status = error.into_status("req_y");
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.metadata().get("x-ratelimit-reset").unwrap(),
            "1700000001"
        );
        let rpc_status = decode(&status);
        assert_eq!(rpc_status.details.len(), 2);
        assert_eq!(rpc_status.details[1].type_url, RETRY_INFO_TYPE_URL);
        let retry = rpc::RetryInfo::decode(rpc_status.details[1].value.as_slice()).unwrap();
        assert_eq!(
            retry.retry_delay,
            Some(prost_types::Duration {
                seconds: 1,
                nanos: 500_000_000
            })
        );
    }
}
