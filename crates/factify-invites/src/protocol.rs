//! Which wire protocol a [`Client`](crate::Client) speaks ([`Protocol`])
//! and over which HTTP version ([`HttpVersion`]), chosen on the
//! [`ClientBuilder`](crate::ClientBuilder).
//!
//! Factify's API is a Connect service: the same port answers gRPC and the
//! Connect protocol. The client's public API, its [`Error`](crate::Error)
//! enum, retries and pagination are the same over each.

/// The wire protocol of a client; [`Protocol::Grpc`] by default.
///
/// | protocol | content type | HTTP | prefer it for |
/// |---|---|---|---|
/// | `Grpc` | `application/grpc` | HTTP/2 only | service-to-service traffic on a network that carries HTTP/2 end to end |
/// | `ConnectProto` | `application/proto` | HTTP/1.1 or HTTP/2 | proxies and load balancers that pass only HTTP/1.1 or plain POSTs (no trailers) |
/// | `ConnectJson` | `application/json` | HTTP/1.1 or HTTP/2 | the same, when people read the traffic: debugging proxies, logs, `curl` |
///
/// ```no_run
/// # #[cfg(feature = "connect")]
/// # async fn run() -> factify_invites::Result<()> {
/// use factify_invites::{Client, Protocol};
///
/// let client = Client::builder()
///     .from_env()
///     .protocol(Protocol::ConnectProto)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// gRPC over HTTP/2 (through tonic), with the status in HTTP trailers.
    #[default]
    Grpc,
    /// The Connect protocol with binary protobuf bodies
    /// (`application/proto`). Needs the `connect` feature.
    #[cfg(feature = "connect")]
    ConnectProto,
    /// The Connect protocol with the canonical protobuf JSON mapping
    /// (`application/json`): lowerCamelCase field names, enum values by
    /// name, timestamps in RFC 3339. Needs the `connect` feature.
    ///
    /// One difference from the binary codecs: an enum value this version
    /// of the crate does not know arrives as a name that cannot be turned
    /// into a number, so it reads as unset (a required `status` then makes
    /// the response [`InvalidResponse`](crate::Error::InvalidResponse))
    /// rather than as `Unknown(n)`.
    #[cfg(feature = "connect")]
    ConnectJson,
}

impl Protocol {
    /// A short name: `grpc`, `connect+proto` or `connect+json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            #[cfg(feature = "connect")]
            Protocol::ConnectProto => "connect+proto",
            #[cfg(feature = "connect")]
            Protocol::ConnectJson => "connect+json",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which HTTP version the Connect protocol uses; [`HttpVersion::Auto`] by
/// default. gRPC always uses HTTP/2, and refuses [`HttpVersion::Http1`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpVersion {
    /// Over TLS, whatever the server picks by ALPN (HTTP/2 or HTTP/1.1);
    /// over plaintext `http://`, HTTP/1.1, which every proxy passes.
    #[default]
    Auto,
    /// HTTP/1.1 only (over TLS, ALPN offers only `http/1.1`).
    Http1,
    /// HTTP/2 only: by ALPN over TLS, with prior knowledge (h2c) over
    /// plaintext `http://`.
    Http2,
}
