//! The Connect transport: unary calls as plain HTTP POSTs
//! (`POST <endpoint>/factify.api.v1beta.OrganizationInviteService/<Method>`)
//! over hyper-util's pooled client, on HTTP/1.1 or HTTP/2 (ALPN over TLS
//! with rustls, prior knowledge over plaintext when asked).
//!
//! A success is `200` with the encoded response. A failure is any other
//! status: a Connect error body (`{"code", "message", "details"}`) gives
//! the code and details; a body that is not one (a proxy's HTML page, an
//! empty `503`) gets its code from the HTTP status, per the Connect
//! specification. `X-RateLimit-Reset` (or `Retry-After`) stands in for a
//! missing `RetryInfo`, so the client's cool-down honours it.

mod body;
mod errors;
mod pool;
#[cfg(test)]
mod tests;

// The wire format is shared with the reference server, which parses what
// this transport writes: one codec, in the contract's crate.
pub(crate) use factify_invites_proto::{json, wire};

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use http::{HeaderMap, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use self::body::{decompress, header_str, read_body, too_large, ReadError};
use self::errors::error_from_response;
use self::pool::{CallGate, Connections, LimitedConnector};
use self::wire::Codec;
use super::rpc::{Attempt, Compression, Received, WireMessage};
use crate::error::{Error, Result, TransportError};
use crate::protocol::HttpVersion;

/// The connector under the pool: TLS (or plaintext) over TCP.
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
/// The connector under the pool: plaintext TCP.
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// What the builder decides for a Connect client.
#[derive(Debug, Clone)]
pub(crate) struct ConnectConfig {
    /// The endpoint (scheme, authority and an optional path prefix).
    pub(crate) endpoint: Uri,
    /// Binary or JSON bodies.
    pub(crate) codec: Codec,
    /// Which HTTP version to speak.
    pub(crate) http: HttpVersion,
    /// Whether to gzip requests, and whether to ask for gzipped responses.
    pub(crate) compression: Compression,
    /// How long opening a connection may take.
    pub(crate) connect_timeout: Duration,
    /// How long an HTTP/2 connection with calls in flight may stay silent
    /// before it is pinged, and how long a ping may go unanswered before
    /// the connection is closed; `None`: no pings.
    pub(crate) keep_alive: Option<(Duration, Duration)>,
    /// The most connections open to the server at once (HTTP/1.1).
    pub(crate) max_connections: usize,
    /// The `User-Agent` header.
    pub(crate) user_agent: HeaderValue,
    /// The largest response body accepted (after decompression).
    pub(crate) max_response_bytes: usize,
}

/// The Connect protocol over one hyper-util connection pool, bounded by
/// [`pool`].
#[derive(Clone)]
pub(crate) struct ConnectTransport {
    connections: std::sync::Arc<Connections<LimitedConnector<Connector>>>,
    /// Admits HTTP/1.1 calls only as fast as connections free up.
    gate: std::sync::Arc<CallGate>,
    /// The connector without the limit, for the probe of `connect()`.
    connector: Connector,
    /// The endpoint without a trailing slash; method paths are appended.
    base: String,
    config: ConnectConfig,
}

impl fmt::Debug for ConnectTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTransport")
            .field("endpoint", &self.base)
            .field("codec", &self.config.codec)
            .field("http", &self.config.http)
            .field("compression", &self.config.compression)
            .finish_non_exhaustive()
    }
}

/// rustls with the same trust as the gRPC transport: the webpki roots, plus
/// the platform's with the `tls-native-roots` feature.
#[cfg(feature = "tls")]
fn tls_config() -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "tls-native-roots")]
    {
        // Unreadable platform certificates are skipped, as tonic does.
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::invalid_request("endpoint", format!("TLS setup failed: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl ConnectTransport {
    /// A transport for `config`; connects lazily, on the first call.
    pub(crate) fn new(config: ConnectConfig) -> Result<ConnectTransport> {
        if config.max_connections == 0 {
            return Err(Error::invalid_request(
                "max_connections_per_host",
                "must be at least 1",
            ));
        }
        // A semaphore holds at most MAX_PERMITS; more is "no limit" anyway.
        let max_connections = config
            .max_connections
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(config.connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        #[cfg(feature = "tls")]
        let connector = {
            // The TLS wrapper handles `https://`; plain `http://` passes through.
            http.enforce_http(false);
            let builder = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls_config()?)
                .https_or_http();
            match config.http {
                HttpVersion::Http1 => builder.enable_http1().wrap_connector(http),
                HttpVersion::Http2 => builder.enable_http2().wrap_connector(http),
                _ => builder.enable_all_versions().wrap_connector(http),
            }
        };
        #[cfg(not(feature = "tls"))]
        let connector = http;

        let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(max_connections)
            .http2_only(config.http == HttpVersion::Http2);
        if let Some((interval, timeout)) = config.keep_alive {
            builder
                .http2_keep_alive_interval(interval)
                .http2_keep_alive_timeout(timeout);
        }
        let limited =
            LimitedConnector::new(connector.clone(), max_connections, config.connect_timeout);
        let connections = Connections::new(builder, limited);
        let gate = CallGate::new(max_connections, config.http == HttpVersion::Http2);
        let base = config.endpoint.to_string().trim_end_matches('/').to_owned();
        Ok(ConnectTransport {
            connections: std::sync::Arc::new(connections),
            gate: std::sync::Arc::new(gate),
            connector,
            base,
            config,
        })
    }

    /// Opens (and drops) one connection, so that an unreachable server
    /// fails when the client is built. The pool opens its own connections.
    pub(crate) async fn probe(&self) -> Result<()> {
        let message = || format!("could not connect to {}", self.base);
        let connecting =
            tower::ServiceExt::oneshot(self.connector.clone(), self.config.endpoint.clone());
        match tokio::time::timeout(self.config.connect_timeout, connecting).await {
            Ok(Ok(_connection)) => Ok(()),
            Ok(Err(err)) => Err(Error::Transport(TransportError::unsent(message(), err))),
            Err(_) => Err(Error::Transport(TransportError::unsent(
                message(),
                format!("no connection within {:?}", self.config.connect_timeout),
            ))),
        }
    }

    /// Sends one request and waits for its response. The attempt's timeout
    /// is sent to the server as `Connect-Timeout-Ms`; the caller enforces
    /// it ([`super::within_deadline`]), and tells
    /// [`ConnectTransport::after_timeout`] if it ran out while `on_wire`
    /// was set: from the moment the call had its turn for a connection.
    pub(crate) async fn unary<Req, Resp>(
        &self,
        attempt: Attempt<'_>,
        request: Req,
        on_wire: &AtomicBool,
    ) -> Result<Resp>
    where
        Req: WireMessage,
        Resp: WireMessage,
    {
        let method = attempt.rpc.name;
        let request = self.request(attempt, &request)?;
        // Held until the response has been read whole: over HTTP/1.1 the
        // connection is busy until then.
        let _turn = self.gate.enter().await;
        on_wire.store(true, Ordering::Relaxed);
        let client = self.connections.client();
        let response = client.request(request).await.map_err(|err| {
            // A refused connection is not a protocol mismatch: no hint then.
            let hint = if err.is_connect() {
                ""
            } else {
                self.http1_hint()
            };
            let message = format!("{method} over Connect: {}{hint}", error_chain(&err));
            Error::Transport(if err.is_connect() {
                TransportError::unsent(message, err)
            } else {
                TransportError::new(message, err)
            })
        })?;
        self.gate.saw(response.version());
        let (parts, body) = response.into_parts();
        if parts.status != http::StatusCode::OK {
            return Err(error_from_response(parts, body).await);
        }

        let codec = header_str(&parts.headers, &CONTENT_TYPE).and_then(Codec::from_content_type);
        if codec != Some(self.config.codec) {
            return Err(Error::invalid_response(
                "content-type",
                format!(
                    "expected {}, got {:?}",
                    self.config.codec.content_type(),
                    header_str(&parts.headers, &CONTENT_TYPE).unwrap_or_default()
                ),
            ));
        }
        let limit = self.config.max_response_bytes;
        let bytes = match read_body(body, limit).await {
            Ok(bytes) => bytes,
            Err(ReadError::TooLarge) => return Err(too_large(limit)),
            Err(ReadError::Failed(err)) => {
                return Err(Error::Transport(TransportError::new(
                    format!("{method} over Connect: reading the response failed"),
                    err,
                )))
            }
        };
        let bytes = decompress(&parts.headers, bytes, limit)?;
        wire::decode(self.config.codec, &bytes)
            .map_err(|message| Error::invalid_response("response", message))
    }

    /// What an attempt that ran out of time on the wire tells the pool:
    /// over HTTP/1.1 its connection was closed (one with an abandoned
    /// request cannot be reused), and the idle ones are forgotten too, as
    /// whatever silenced one (a NAT, a hung peer) has likely silenced them.
    pub(crate) fn after_timeout(&self) {
        if !self.gate.is_multiplexed() {
            self.connections.forget_idle();
        }
    }

    /// What to add to a failure of a request sent as HTTP/1.1 in the clear:
    /// such a request is what [`HttpVersion::Auto`] sends to `http://`, and
    /// a server that speaks only HTTP/2 there (h2c) drops it unanswered.
    fn http1_hint(&self) -> &'static str {
        let plaintext = self.config.endpoint.scheme_str() == Some("http");
        if plaintext && self.config.http != HttpVersion::Http2 {
            "; the request was sent as HTTP/1.1: if the server speaks only HTTP/2 \
             over http:// (h2c), set ClientBuilder::http_version(HttpVersion::Http2)"
        } else {
            ""
        }
    }

    /// The HTTP request of one attempt.
    fn request<Req: WireMessage>(
        &self,
        attempt: Attempt<'_>,
        request: &Req,
    ) -> Result<http::Request<Full<Bytes>>> {
        let codec = self.config.codec;
        let mut body = wire::encode(codec, request)
            .map_err(|message| Error::invalid_request("request", message))?;
        let mut headers = HeaderMap::new();
        // Extra metadata first, so that the protocol's own headers win.
        for (key, value) in attempt.metadata {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(key.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_encoded_bytes()),
            ) {
                headers.append(name, value);
            }
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(codec.content_type()));
        headers.insert(
            wire::PROTOCOL_VERSION_HEADER,
            HeaderValue::from_static(wire::PROTOCOL_VERSION),
        );
        headers.insert(USER_AGENT, self.config.user_agent.clone());
        if let Some(timeout) = attempt.timeout {
            if let Ok(value) = HeaderValue::try_from(wire::timeout_header_value(timeout)) {
                headers.insert(wire::TIMEOUT_HEADER, value);
            }
        }
        if self.config.compression.requests {
            body = wire::gzip(&body)
                .map_err(|err| Error::invalid_request("request", format!("gzip failed: {err}")))?;
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        // Without this header a server must answer uncompressed (hyper
        // sends none of its own).
        if self.config.compression.responses {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if let Some(key) = attempt.api_key {
            if let Ok(mut value) = HeaderValue::from_bytes(key.header().as_encoded_bytes()) {
                value.set_sensitive(true);
                headers.insert(http::header::AUTHORIZATION, value);
            }
        }
        let uri = Uri::try_from(format!("{}{}", self.base, attempt.rpc.path))
            .map_err(|err| Error::invalid_request("endpoint", err.to_string()))?;
        let mut request = http::Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

/// An error and its causes, `: `-separated: hyper-util's own message
/// ("client error (SendRequest)") says nothing of what went wrong.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// A response with the names behind its stand-in enum numbers.
impl<M: json::JsonMessage> json::JsonMessage for Received<M> {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        self.message.write_json(out)
    }

    fn read_json(
        bytes: &[u8],
        _names: &mut factify_invites_proto::enum_names::EnumNames,
    ) -> Result<Self, String> {
        let mut names = factify_invites_proto::enum_names::EnumNames::default();
        let message = M::read_json(bytes, &mut names)?;
        Ok(Received { message, names })
    }
}
