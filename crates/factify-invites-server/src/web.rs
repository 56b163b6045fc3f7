//! Browsers: which web origins may call the reference server (CORS, with
//! `tower-http`'s layer), for the Connect protocol, gRPC-Web (served by
//! `tonic-web`) and the admin surface alike.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) from an
//! allowed origin is answered `200` with the allowed methods and headers;
//! every answer to an allowed origin exposes the headers a client reads
//! (`grpc-status`, `grpc-message`, `grpc-status-details-bin`,
//! `x-request-id`, `x-ratelimit-*`). Without CORS (the default of
//! [`ReferenceServer`](crate::ReferenceServer)) no `Access-Control-*` header
//! is sent and browsers refuse cross-origin calls.

use std::time::Duration;

use http::header::{self, HeaderName, HeaderValue};
use http::Method;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Which web origins may call the server from a browser (CORS). Set with
/// [`ReferenceServer::with_cors`](crate::ReferenceServer::with_cors);
/// `factify-invites serve` allows any origin unless told
/// `--cors-origin <ORIGIN>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsOrigins(Allowed);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Allowed {
    #[default]
    None,
    Any,
    List(Vec<HeaderValue>),
}

/// An origin that [`CorsOrigins::list`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CORS origin {origin:?}: an origin is scheme://host[:port], such as http://localhost:5173")]
pub struct InvalidOrigin {
    /// The origin as given.
    pub origin: String,
}

impl CorsOrigins {
    /// No CORS: no `Access-Control-*` headers (the default).
    pub const NONE: CorsOrigins = CorsOrigins(Allowed::None);
    /// Any origin (`Access-Control-Allow-Origin: *`): right for an emulator
    /// on a test machine.
    pub const ANY: CorsOrigins = CorsOrigins(Allowed::Any);

    /// Exactly these origins, such as `http://localhost:5173` (compared as
    /// browsers send them: scheme, host and port, no path). `*` among them
    /// means any origin.
    ///
    /// # Errors
    ///
    /// The first entry that is not an origin.
    pub fn list<I, S>(origins: I) -> Result<CorsOrigins, InvalidOrigin>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            let origin = origin.as_ref();
            if origin == "*" {
                return Ok(CorsOrigins::ANY);
            }
            let invalid = || InvalidOrigin {
                origin: origin.to_owned(),
            };
            let (scheme, rest) = origin.split_once("://").ok_or_else(invalid)?;
            let well_formed = matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', '@'])
                && origin.bytes().all(|b| b.is_ascii_graphic());
            if !well_formed {
                return Err(invalid());
            }
            list.push(HeaderValue::from_str(origin).map_err(|_| invalid())?);
        }
        Ok(CorsOrigins(Allowed::List(list)))
    }

    /// The CORS layer, or `None` when no origin is allowed.
    pub(crate) fn layer(&self) -> Option<CorsLayer> {
        let origins = match &self.0 {
            Allowed::None => return None,
            Allowed::Any => AllowOrigin::any(),
            Allowed::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        let request_headers = [
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT_ENCODING,
            header::CONTENT_ENCODING,
            HeaderName::from_static("connect-protocol-version"),
            HeaderName::from_static("connect-timeout-ms"),
            HeaderName::from_static("connect-accept-encoding"),
            HeaderName::from_static("connect-content-encoding"),
            HeaderName::from_static("grpc-timeout"),
            HeaderName::from_static("grpc-accept-encoding"),
            HeaderName::from_static("grpc-encoding"),
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
        ];
        let exposed = [
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
            HeaderName::from_static("grpc-encoding"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ];
        Some(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(request_headers)
                .expose_headers(exposed)
                .max_age(Duration::from_secs(2 * 60 * 60)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_a_star_means_any() {
        assert!(CorsOrigins::list(["http://localhost:5173", "https://app.example"]).is_ok());
        assert_eq!(
            CorsOrigins::list(["http://a.example", "*"]),
            Ok(CorsOrigins::ANY)
        );
        for bad in [
            "localhost:5173",
            "ftp://a.example",
            "http://",
            "http://a.example/path",
            "http://a example",
        ] {
            assert_eq!(
                CorsOrigins::list([bad]),
                Err(InvalidOrigin {
                    origin: bad.to_owned()
                }),
                "{bad}"
            );
        }
        assert!(CorsOrigins::NONE.layer().is_none());
        assert!(CorsOrigins::ANY.layer().is_some());
    }
}
