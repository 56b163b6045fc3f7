//! [`TransportError`]: a call that got no status back, and how its cause
//! chain tells whether the request reached the service.

use std::fmt;

use super::status::{may_exist_hint, CallRecord};

/// A failure to reach the server or to get its answer: no status came back.
#[derive(Debug)]
pub struct TransportError {
    pub(super) message: String,
    pub(super) before_send: bool,
    pub(super) call: Option<Box<CallRecord>>,
    pub(super) idempotency_key: Option<String>,
    pub(super) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure whose timing is read from the types of its causes (see
    /// [`never_reached_the_service`]): anything not known to have happened
    /// before sending (a reset, a broken stream, a timeout) may have come
    /// after the server acted.
    pub(crate) fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        let source = source.into();
        TransportError {
            message: message.into(),
            before_send: never_reached_the_service(source.as_ref()),
            call: None,
            idempotency_key: None,
            source: Some(source),
        }
    }

    /// A failure known to have happened before the request was sent.
    pub(crate) fn unsent(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        TransportError {
            message: message.into(),
            before_send: true,
            call: None,
            idempotency_key: None,
            source: Some(source.into()),
        }
    }

    /// Sets whether the request is known not to have been sent.
    #[cfg(feature = "testing")]
    pub(crate) fn before_send(mut self, before_send: bool) -> TransportError {
        self.before_send = before_send;
        self
    }

    /// Whether the request certainly never reached the service, so that
    /// repeating it cannot duplicate work: the connection could not be
    /// opened, or HTTP/2 refused the stream (`REFUSED_STREAM`, or a `GOAWAY`
    /// whose last stream ID excludes it).
    pub fn is_before_send(&self) -> bool {
        self.before_send
    }
}

/// The first error of type `T` in `error`'s source chain.
pub(super) fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = std::error::Error::source(error);
    while let Some(cause) = current {
        if let Some(found) = cause.downcast_ref::<T>() {
            return Some(found);
        }
        current = cause.source();
    }
    None
}

/// Whether an error chain shows, by the types of its causes, that the
/// request never reached the service: tonic's [`tonic::ConnectError`] or
/// hyper-util's connect error (the connection was never opened), or an
/// HTTP/2 error from the peer that refused the stream: `REFUSED_STREAM`, or
/// a `GOAWAY` (h2 reports a peer's `GOAWAY` on a stream only when its last
/// stream ID excludes that stream, or to a stream opened after it).
fn never_reached_the_service(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tonic::ConnectError>() {
            return true;
        }
        #[cfg(feature = "connect")]
        if error
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            let refused = h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM);
            return h2.is_remote() && (refused || h2.is_go_away());
        }
        current = error.source();
    }
    false
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport error: {}", self.message)?;
        f.write_str(may_exist_hint(self.idempotency_key.as_deref()))
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as _)
    }
}
