//! Whether an error may be repeated: [`Safety`], what repeating a method's
//! request can do, and the one rule behind both the client's retries and
//! [`Error::is_retryable`].
//!
//! The rule lives with the error rather than with the retry policy: the
//! error records the safety of the call it ended, so that it can answer for
//! that call after the client has returned it.

use super::variants::Error;

/// What repeating a method's request can do, which decides what it may
/// retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Repeating it cannot duplicate work: a read, or a create carrying an
    /// idempotency key. Retried on every transient failure, even one that
    /// may have happened after the server acted.
    Idempotent,
    /// Repeating it after the server acted would do the work twice (a
    /// second email, a second state change): retried only on failures that
    /// provably come before the service acted (see
    /// [`Error::is_retryable_for`]).
    NotIdempotent,
}

impl Error {
    /// Whether sending the same request again may succeed **and cannot
    /// duplicate work**: the same rule the client's own retries follow.
    ///
    /// - `RESOURCE_EXHAUSTED` (a rate-limit refusal: the service did not
    ///   act), and a transport failure that provably never reached the
    ///   service ([`TransportError::is_before_send`](super::TransportError::is_before_send)):
    ///   always.
    /// - `UNAVAILABLE`, and a transport failure that may have come after the
    ///   request was sent: only for a call that is safe to repeat (a list,
    ///   or a create, whose idempotency key makes a repeat harmless). For
    ///   resend, revoke and accept the service may have acted (a proxy can
    ///   answer 503 after forwarding), so a repeat could send a second email:
    ///   `false`.
    ///
    /// An error that did not come from a call of this client (built by
    /// hand, say) is treated as coming from a call that is not safe to
    /// repeat. A retry loop built on this never sends a second email.
    pub fn is_retryable(&self) -> bool {
        self.is_retryable_for(self.call_safety())
    }

    /// Whether this error may be retried for a method of this `safety`: the
    /// one rule behind both the client's retries and
    /// [`is_retryable`](Self::is_retryable).
    pub(crate) fn is_retryable_for(&self, safety: Safety) -> bool {
        match self {
            // A rate-limit refusal: the service refused before acting (and a
            // refusal made locally during a hold-off sent nothing).
            Error::ResourceExhausted(_) => true,
            // The request provably never reached the service: the connection
            // was never opened, or HTTP/2 refused the stream.
            Error::Transport(transport) if transport.is_before_send() => true,
            // UNAVAILABLE says "try again", not "nothing was done": a proxy or
            // a server can act and then answer it (or a Connect 502/503/504),
            // and a broken connection can come after the server acted. Only a
            // call that is safe to repeat is repeated then.
            Error::Unavailable(_) | Error::Transport(_) => safety == Safety::Idempotent,
            _ => false,
        }
    }

    /// The safety of the call this error ended, as recorded by the client
    /// ([`Safety::NotIdempotent`] when unknown).
    fn call_safety(&self) -> Safety {
        match self.call_record() {
            Some(record) if record.idempotent => Safety::Idempotent,
            _ => Safety::NotIdempotent,
        }
    }

    /// Records the safety of the call this error ends, so that
    /// [`is_retryable`](Self::is_retryable) answers for that call.
    pub(crate) fn for_call(mut self, safety: Safety) -> Error {
        let idempotent = safety == Safety::Idempotent;
        // No record reads as "not idempotent": nothing to allocate for that.
        if idempotent || self.call_record().is_some() {
            if let Some(record) = self.call_record_mut() {
                record.idempotent = idempotent;
            }
        }
        self
    }
}
