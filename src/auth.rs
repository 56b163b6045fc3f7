//! The API key, held so that it cannot leak.
//!
//! [`ApiKey`] keeps the key and the ready-made `authorization` header value
//! (marked sensitive, so HTTP tooling redacts it); its `Debug` prints a
//! redaction, and it has no `Display`. Errors about a key never quote it.

use std::fmt;

use tonic::metadata::{AsciiMetadataValue, MetadataValue};

use crate::error::{Error, Result};

/// A Factify API key (`ffy...`), sent as `authorization: Bearer <key>`.
///
/// ```
/// let key = factify_invites::ApiKey::new("ffy_secret").unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ApiKey {
    header: AsciiMetadataValue,
}

impl ApiKey {
    /// Wraps a key, checking that it can travel in an HTTP header: not
    /// empty, visible ASCII only.
    pub fn new(key: impl AsRef<str>) -> Result<ApiKey> {
        let key = key.as_ref();
        if key.is_empty() {
            return Err(Error::invalid_request("api_key", "the API key is empty"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_request(
                "api_key",
                "the API key may hold only visible ASCII characters (is there a stray newline?)",
            ));
        }
        let mut header: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {key}"))
            .map_err(|_| {
                Error::invalid_request("api_key", "the API key is not a valid header value")
            })?;
        header.set_sensitive(true);
        Ok(ApiKey { header })
    }

    /// The `authorization` header value, `Bearer <key>`.
    pub(crate) fn header(&self) -> &AsciiMetadataValue {
        &self.header
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_keys_that_cannot_be_headers_without_quoting_them() {
        for key in ["", "ffy secret", "ffy_secret\n", "ffy_sécret"] {
            let err = ApiKey::new(key).unwrap_err();
            assert_eq!(err.param(), Some("api_key"));
            if !key.is_empty() {
                assert!(!err.to_string().contains(key.trim()), "{err}");
            }
        }
    }

    #[test]
    fn header_is_bearer_and_sensitive() {
        let key = ApiKey::new("ffy_abc").unwrap();
        assert_eq!(key.header().to_str().unwrap(), "Bearer ffy_abc");
        assert!(key.header().is_sensitive());
        assert!(!format!("{key:?}").contains("ffy_abc"));
    }
}
