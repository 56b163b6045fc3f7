//! The checks of a request's arguments, made in `send()` before anything
//! reaches the network: each failure is an
//! [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the field.

use crate::error::{Error, Result};
use crate::ids::IdError;
use crate::limits;

/// Turns a parsed ID into the request's, or the field's error.
pub(crate) fn checked_id<T>(id: Result<T, IdError>, field: &'static str) -> Result<T> {
    id.map_err(|err| Error::invalid_request(field, err.to_string()))
}

/// Checks that `value` has at most `max` bytes.
pub(crate) fn check_len(value: &str, max: usize, field: &'static str) -> Result<()> {
    if value.len() > max {
        return Err(Error::invalid_request(
            field,
            format!("must be at most {max} bytes, got {}", value.len()),
        ));
    }
    Ok(())
}

/// Checks that `email` looks like an address.
pub(crate) fn check_email(email: &str, field: &'static str) -> Result<()> {
    if email.is_empty() {
        return Err(Error::invalid_request(field, "must not be empty"));
    }
    if !limits::is_email(email) {
        return Err(Error::invalid_request(field, "is not an email address"));
    }
    Ok(())
}
