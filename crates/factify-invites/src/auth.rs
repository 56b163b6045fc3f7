//! The API key, held so that it cannot leak, and where it comes from.
//!
//! [`ApiKey`] keeps the key and the ready-made `authorization` header value
//! (marked sensitive, so HTTP tooling redacts it); its `Debug` prints a
//! redaction, and it has no `Display`. Errors about a key never quote it.
//! A key is either fixed on the builder or asked of an [`ApiKeyProvider`]
//! before every attempt, for keys that rotate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

/// A source of API keys that can change while the client runs, asked
/// before every attempt (so a retry after a rotation uses the new key).
///
/// The provider must answer quickly: keep the current key in memory and
/// refresh it in a background task, rather than fetching it on each call.
///
/// ```
/// use std::sync::{Arc, RwLock};
/// use factify_invites::{ApiKey, auth::{ApiKeyFuture, ApiKeyProvider}};
///
/// /// Holds the current key; a background task calls `rotate`.
/// #[derive(Debug)]
/// struct Rotating(RwLock<ApiKey>);
///
/// impl Rotating {
///     fn rotate(&self, key: ApiKey) {
///         *self.0.write().unwrap() = key;
///     }
/// }
///
/// impl ApiKeyProvider for Rotating {
///     fn api_key(&self) -> ApiKeyFuture<'_> {
///         let key = self.0.read().unwrap().clone();
///         Box::pin(async move { Ok(key) })
///     }
/// }
///
/// let provider = Arc::new(Rotating(RwLock::new(ApiKey::new("ffy_old").unwrap())));
/// let builder = factify_invites::Client::builder().api_key_provider(provider.clone());
/// provider.rotate(ApiKey::new("ffy_new").unwrap());
/// # let _ = builder;
/// ```
pub trait ApiKeyProvider: Send + Sync + fmt::Debug {
    /// The key to send now.
    fn api_key(&self) -> ApiKeyFuture<'_>;
}

/// The future an [`ApiKeyProvider`] returns.
pub type ApiKeyFuture<'a> = Pin<Box<dyn Future<Output = Result<ApiKey>> + Send + 'a>>;

/// Where the client's key comes from.
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// No key: calls are sent unauthenticated.
    None,
    /// One key for the client's life.
    Static(ApiKey),
    /// A key asked for before each attempt.
    Provider(Arc<dyn ApiKeyProvider>),
}

impl Credentials {
    /// The key for the next attempt.
    pub(crate) async fn current(&self) -> Result<Option<ApiKey>> {
        match self {
            Credentials::None => Ok(None),
            Credentials::Static(key) => Ok(Some(key.clone())),
            Credentials::Provider(provider) => provider.api_key().await.map(Some),
        }
    }

    pub(crate) fn is_some(&self) -> bool {
        !matches!(self, Credentials::None)
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
