//! The error types' unit tests.

use std::time::Duration;

use super::code::KNOWN_REASONS;
use super::detail::{ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};
use super::status::non_negative_duration;
use super::*;
use crate::proto;
use prost::Message;

fn encoded_details(code: i32, details: Vec<prost_types::Any>) -> Vec<u8> {
    proto::google::rpc::Status {
        code,
        message: "m".into(),
        details,
    }
    .encode_to_vec()
}

fn error_detail(reason: &str, request_id: &str, param: &str) -> prost_types::Any {
    prost_types::Any {
        type_url: ERROR_DETAIL_TYPE_URL.into(),
        value: proto::ErrorDetail {
            reason: reason.into(),
            request_id: request_id.into(),
            param: param.into(),
        }
        .encode_to_vec(),
    }
}

/// One row per gRPC code: the variant it must become.
#[test]
fn every_code_maps_to_its_variant() {
    type IsVariant = fn(&Error) -> bool;
    let table: [(tonic::Code, IsVariant); 16] = [
        (tonic::Code::InvalidArgument, |e| {
            matches!(e, Error::InvalidArgument(_))
        }),
        (tonic::Code::FailedPrecondition, |e| {
            matches!(e, Error::FailedPrecondition(_))
        }),
        (tonic::Code::Unauthenticated, |e| {
            matches!(e, Error::Unauthenticated(_))
        }),
        (tonic::Code::PermissionDenied, |e| {
            matches!(e, Error::PermissionDenied(_))
        }),
        (tonic::Code::NotFound, |e| matches!(e, Error::NotFound(_))),
        (tonic::Code::AlreadyExists, |e| {
            matches!(e, Error::AlreadyExists(_))
        }),
        (tonic::Code::ResourceExhausted, |e| {
            matches!(e, Error::ResourceExhausted(_))
        }),
        (tonic::Code::DeadlineExceeded, |e| {
            matches!(e, Error::DeadlineExceeded(_))
        }),
        (tonic::Code::Cancelled, |e| matches!(e, Error::Cancelled(_))),
        (tonic::Code::Internal, |e| matches!(e, Error::Internal(_))),
        (tonic::Code::Unimplemented, |e| {
            matches!(e, Error::Unimplemented(_))
        }),
        (tonic::Code::Unavailable, |e| {
            matches!(e, Error::Unavailable(_))
        }),
        (tonic::Code::Unknown, |e| matches!(e, Error::Unknown(_))),
        (tonic::Code::Aborted, |e| matches!(e, Error::Other(_))),
        (tonic::Code::OutOfRange, |e| matches!(e, Error::Other(_))),
        (tonic::Code::DataLoss, |e| matches!(e, Error::Other(_))),
    ];
    for (grpc, is_variant) in table {
        let error = Error::from_tonic(tonic::Status::new(grpc, "boom"));
        assert!(is_variant(&error), "{grpc:?} became {error:?}");
        assert_eq!(error.code().map(Code::grpc_code), Some(grpc as i32));
    }
}

#[test]
fn codes_round_trip_through_numbers_and_connect_names() {
    for code in Code::ALL {
        assert_eq!(Code::from_grpc(code.grpc_code()), Some(code));
        assert_eq!(Code::from_connect_name(code.as_str()), Some(code));
    }
    assert_eq!(Code::from_grpc(0), None);
    assert_eq!(Code::from_grpc(17), None);
    assert_eq!(Code::from_grpc(-1), None);
    assert_eq!(Code::NotFound.http_status(), 404);
    assert_eq!(Code::ResourceExhausted.http_status(), 429);
}

#[test]
fn display_and_as_str_spell_every_code_alike() {
    for code in Code::ALL {
        assert_eq!(code.to_string(), code.as_str().to_ascii_uppercase());
    }
    assert_eq!(Code::Cancelled.to_string(), "CANCELED");
    assert_eq!(Code::from_connect_name("cancelled"), Some(Code::Cancelled));
    let error = Error::from_tonic(tonic::Status::cancelled("stop"));
    assert_eq!(error.to_string(), "CANCELED: stop");
}

#[test]
fn only_errors_of_an_uncertain_creation_carry_its_key() {
    let key = "fi-0123";
    let uncertain = [
        Error::invalid_response("invite.id", "required field is missing"),
        Error::Transport(TransportError::new("reset", "connection reset")),
        Error::from_status(Status::local(Code::DeadlineExceeded, "late")),
        Error::from_status(Status::local(Code::Internal, "oops")),
    ];
    for error in uncertain {
        let error = error.with_idempotency_key(key);
        assert_eq!(error.idempotency_key(), Some(key), "{error:?}");
        assert!(
            error.to_string().contains("may have been created"),
            "{error}"
        );
    }
    // The server said no, or nothing was sent: nothing was created.
    let certain = [
        Error::from_status(Status::local(Code::FailedPrecondition, "member")),
        Error::from_status(Status::local(Code::Unavailable, "down")),
        Error::Transport(TransportError::unsent("refused", "connection refused")),
        Error::invalid_request("email", "empty"),
    ];
    for error in certain {
        let error = error.with_idempotency_key(key);
        assert_eq!(error.idempotency_key(), None, "{error:?}");
        assert!(
            !error.to_string().contains("may have been created"),
            "{error}"
        );
    }
}

#[test]
fn every_error_names_its_kind() {
    let cases = [
        (
            Error::from_status(Status::local(Code::NotFound, "gone")),
            ErrorKind::Status,
            "status",
        ),
        (
            Error::Transport(TransportError::unsent("down", "refused")),
            ErrorKind::Transport,
            "transport",
        ),
        (
            Error::invalid_request("email", "empty"),
            ErrorKind::InvalidRequest,
            "invalid_request",
        ),
        (
            Error::invalid_response("invite.id", "missing"),
            ErrorKind::InvalidResponse,
            "invalid_response",
        ),
    ];
    for (error, kind, name) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
        assert_eq!(error.kind().to_string(), name);
        assert_eq!(error.code().is_some(), kind == ErrorKind::Status);
    }
}

#[test]
fn details_are_read_from_the_status() {
    let retry = prost_types::Any {
        type_url: RETRY_INFO_TYPE_URL.into(),
        value: proto::google::rpc::RetryInfo {
            retry_delay: Some(prost_types::Duration {
                seconds: 3,
                nanos: 500_000_000,
            }),
        }
        .encode_to_vec(),
    };
    let bytes = encoded_details(
        8,
        vec![
            error_detail("rate_limit_exceeded", "req_01arwx4k8xrgqskvxq69gdn019", ""),
            retry,
        ],
    );
    let status =
        tonic::Status::with_details(tonic::Code::ResourceExhausted, "slow down", bytes.into());
    let error = Error::from_tonic(status);
    assert!(matches!(error, Error::ResourceExhausted(_)));
    assert_eq!(error.reason(), Some(&Reason::RateLimitExceeded));
    assert_eq!(error.request_id(), Some("req_01arwx4k8xrgqskvxq69gdn019"));
    assert_eq!(error.retry_after(), Some(Duration::from_millis(3500)));
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "RESOURCE_EXHAUSTED: slow down (reason: rate_limit_exceeded, request_id: req_01arwx4k8xrgqskvxq69gdn019)"
    );
    let source = std::error::Error::source(&error);
    assert!(source.is_some_and(|s| s.is::<tonic::Status>()));
}

#[test]
fn unknown_reasons_and_detail_types_are_accepted() {
    let stranger = prost_types::Any {
        type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
        value: vec![1, 2, 3],
    };
    let bytes = encoded_details(
        3,
        vec![stranger, error_detail("brand_new_reason", "", "email")],
    );
    let error = Error::from_tonic(tonic::Status::with_details(
        tonic::Code::InvalidArgument,
        "bad",
        bytes.into(),
    ));
    assert_eq!(
        error.reason(),
        Some(&Reason::Other("brand_new_reason".into()))
    );
    assert_eq!(error.param(), Some("email"));
    assert!(!error.is_retryable());
}

#[test]
fn garbage_details_keep_code_and_message() {
    let error = Error::from_tonic(tonic::Status::with_details(
        tonic::Code::NotFound,
        "gone",
        vec![0xff, 0xff, 0xff, 0x01].into(),
    ));
    assert!(matches!(error, Error::NotFound(_)));
    assert_eq!(error.reason(), None);
    assert_eq!(error.to_string(), "NOT_FOUND: gone");
}

#[test]
fn a_servers_status_keeps_its_code_whatever_its_words() {
    let error = Error::from_tonic(tonic::Status::internal(
        "failed to decode Protobuf message: invalid wire type",
    ));
    assert!(matches!(error, Error::Internal(_)), "{error:?}");
    let error = Error::from_tonic(tonic::Status::out_of_range(
        "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
    ));
    assert_eq!(error.code(), Some(Code::OutOfRange), "{error:?}");
    // The marker of this crate's codec, not the words, makes a verdict
    // on the response.
    let mut marked = tonic::Status::internal("anything at all");
    marked.set_source(std::sync::Arc::new(UndecodableResponse("bad".into())));
    assert!(matches!(
        Error::from_tonic(marked),
        Error::InvalidResponse { .. }
    ));
}

#[test]
fn is_retryable_answers_for_the_call_the_error_came_from() {
    let unavailable = || Error::from_tonic(tonic::Status::unavailable("down"));
    assert!(!unavailable().is_retryable(), "unknown call: not safe");
    assert!(unavailable().for_call(Safety::Idempotent).is_retryable());
    assert!(!unavailable().for_call(Safety::NotIdempotent).is_retryable());
    let limited = Error::from_tonic(tonic::Status::resource_exhausted("slow down"));
    assert!(limited.for_call(Safety::NotIdempotent).is_retryable());
    let refused = Error::Transport(TransportError::new(
        "refused",
        tonic::ConnectError("connection refused".into()),
    ));
    assert!(refused.for_call(Safety::NotIdempotent).is_retryable());
    let invalid = Error::invalid_response("response", "bad").for_call(Safety::Idempotent);
    assert!(!invalid.is_retryable());
    assert_eq!(invalid.resume_token(), None);
    let resumable = unavailable().with_resume_token("tok_1");
    assert_eq!(resumable.resume_token(), Some("tok_1"));
    assert!(!resumable.is_retryable(), "the token changes nothing else");
}

#[test]
fn retry_delays_of_any_size_are_read_without_panicking() {
    let delay = |seconds, nanos| non_negative_duration(prost_types::Duration { seconds, nanos });
    assert_eq!(delay(i64::MIN, 0), None);
    assert_eq!(delay(i64::MIN, -999_999_999), None);
    assert_eq!(delay(-1, 0), None);
    assert_eq!(delay(0, -1), None);
    assert_eq!(delay(5, -1), Some(Duration::new(4, 999_999_999)));
    assert_eq!(delay(0, 2_000_000_000), Some(Duration::from_secs(2)));
    assert_eq!(
        delay(i64::MAX, i32::MAX),
        Some(Duration::new(i64::MAX as u64 + 2, 147_483_647))
    );
}

#[test]
fn reasons_round_trip() {
    for (reason, wire) in KNOWN_REASONS {
        assert_eq!(Reason::from_wire(wire), reason);
        assert_eq!(reason.as_str(), wire);
    }
}

#[test]
fn only_provably_unsent_failures_are_retried_for_calls_that_are_not_idempotent() {
    let unavailable = || Error::from_status(Status::local(Code::Unavailable, "down"));
    let limited = || Error::from_status(Status::local(Code::ResourceExhausted, "slow"));
    let refused = || Error::Transport(TransportError::unsent("refused", "connection refused"));
    let broken = || Error::Transport(TransportError::new("reset", "connection reset"));
    for (error, idempotent, not_idempotent) in [
        (unavailable(), true, false),
        (limited(), true, true),
        (refused(), true, true),
        (broken(), true, false),
    ] {
        assert_eq!(
            error.is_retryable_for(Safety::Idempotent),
            idempotent,
            "{error}"
        );
        assert_eq!(
            error.is_retryable_for(Safety::NotIdempotent),
            not_idempotent,
            "{error}"
        );
    }
}
