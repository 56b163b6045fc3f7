//! Reading a Connect response body: whole, within the size limit, and
//! inflated when the server gzipped it.

use bytes::Bytes;
use http::header::{HeaderName, CONTENT_ENCODING};
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::wire::{self, GunzipError};
use crate::error::{Error, Result};

/// Why a body could not be read whole.
pub(super) enum ReadError {
    /// It is longer than the limit.
    TooLarge,
    /// The connection failed while reading it.
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// Reads a whole body, refusing more than `limit` bytes.
pub(super) async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ReadError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(ReadError::TooLarge),
        Err(err) => Err(ReadError::Failed(err)),
    }
}

pub(super) fn too_large(limit: usize) -> Error {
    Error::invalid_response(
        "response",
        format!("the response is larger than max_response_bytes ({limit} bytes)"),
    )
}

/// The body as sent, inflated if the server gzipped it.
pub(super) fn decompress(headers: &HeaderMap, bytes: Bytes, limit: usize) -> Result<Bytes> {
    match header_str(headers, &CONTENT_ENCODING).map(str::trim) {
        None | Some("") | Some("identity") => Ok(bytes),
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => wire::gunzip(&bytes, limit)
            .map(Bytes::from)
            .map_err(|err| match err {
                GunzipError::TooLarge => too_large(limit),
                GunzipError::Corrupt(err) => {
                    Error::invalid_response("response", format!("invalid gzip body: {err}"))
                }
            }),
        Some(other) => Err(Error::invalid_response(
            "content-encoding",
            format!("the server used {other:?}, which was not asked for"),
        )),
    }
}

/// A header's value when it is present and visible ASCII.
pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
