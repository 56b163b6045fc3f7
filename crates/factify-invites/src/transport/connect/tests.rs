//! The Connect transport's unit tests: HTTP statuses, rate-limit headers
//! and content encodings mapped to errors and waits.

use super::*;
use std::time::UNIX_EPOCH;

use super::errors::{code_for_http_status, retry_after_from_headers};
use crate::error::Code;

#[test]
fn http_statuses_map_per_the_connect_table() {
    let table = [
        (400, Code::Internal),
        (401, Code::Unauthenticated),
        (403, Code::PermissionDenied),
        (404, Code::Unimplemented),
        (429, Code::Unavailable),
        (502, Code::Unavailable),
        (503, Code::Unavailable),
        (504, Code::Unavailable),
        (408, Code::DeadlineExceeded),
        (500, Code::Unknown),
        (418, Code::Unknown),
    ];
    for (status, code) in table {
        assert_eq!(code_for_http_status(status), code, "{status}");
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

#[test]
fn rate_limit_headers_become_a_wait() {
    let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let reset = headers(&[("x-ratelimit-reset", "1750000007")]);
    assert_eq!(
        retry_after_from_headers(&reset, now),
        Some(Duration::from_secs(7))
    );
    let delta = headers(&[("x-ratelimit-reset", "12")]);
    assert_eq!(
        retry_after_from_headers(&delta, now),
        Some(Duration::from_secs(12))
    );
    let past = headers(&[("x-ratelimit-reset", "1749999999")]);
    assert_eq!(retry_after_from_headers(&past, now), None);
    let far = headers(&[("x-ratelimit-reset", "99999999999")]);
    assert_eq!(
        retry_after_from_headers(&far, now),
        Some(Duration::from_secs(99999999999 - 1_750_000_000))
    );
    let retry_after = headers(&[("retry-after", "3")]);
    assert_eq!(
        retry_after_from_headers(&retry_after, now),
        Some(Duration::from_secs(3))
    );
    let junk = headers(&[("x-ratelimit-reset", "soon"), ("retry-after", "-1")]);
    assert_eq!(retry_after_from_headers(&junk, now), None);
}

#[test]
fn unknown_content_encodings_are_invalid_responses() {
    let err = decompress(
        &headers(&[("content-encoding", "br")]),
        Bytes::from_static(b"x"),
        10,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    let same = decompress(&HeaderMap::new(), Bytes::from_static(b"x"), 10).unwrap();
    assert_eq!(same, Bytes::from_static(b"x"));
}
