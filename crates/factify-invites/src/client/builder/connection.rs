//! How a [`ClientBuilder`]'s settings become a connected [`Client`]: the
//! endpoint's checks, tonic's `Endpoint` for gRPC, the Connect transport,
//! and the public ways to build (`connect`, `connect_lazy`,
//! `build_with_channel`).

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::error::{Error, Result};
use crate::protocol::HttpVersion;
#[cfg(any(feature = "connect", feature = "raw"))]
use crate::protocol::Protocol;
use crate::transport::{GrpcTransport, Transport};

use super::{Client, ClientBuilder};

impl ClientBuilder {
    /// The endpoint's URL, checked: a scheme this build can speak, and no
    /// key sent in the clear beyond loopback unless allowed.
    fn checked_uri(&self) -> Result<http::Uri> {
        let invalid = |message: String| Error::invalid_request("endpoint", message);
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|err| invalid(format!("{:?} is not a valid URL: {err}", self.endpoint)))?;
        match uri.scheme_str() {
            Some("http") => {
                let loopback = uri.host().is_some_and(is_loopback);
                let has_key = matches!(&self.credentials, Ok(credentials) if credentials.is_some());
                if has_key && !loopback && !self.allow_insecure_http {
                    return Err(invalid(format!(
                        "refusing to send the API key over plaintext http:// to {:?}, which is not \
                         loopback: use https://, or allow_insecure_http(true) if the network is trusted",
                        uri.host().unwrap_or_default()
                    )));
                }
            }
            Some("https") => {
                #[cfg(not(feature = "tls"))]
                return Err(invalid(
                    "https:// endpoints need the crate's `tls` feature".to_owned(),
                ));
            }
            _ => {
                return Err(invalid(format!(
                    "{:?} must start with http:// or https://",
                    self.endpoint
                )))
            }
        }
        Ok(uri)
    }

    fn endpoint_config(&self) -> Result<Endpoint> {
        if self.http_version == HttpVersion::Http1 {
            return Err(Error::invalid_request(
                "http_version",
                "gRPC needs HTTP/2: choose a Connect protocol for HTTP/1.1",
            ));
        }
        let uri = self.checked_uri()?;
        let https = uri.scheme_str() == Some("https");
        let mut endpoint = Endpoint::from(uri)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .map_err(|_| Error::invalid_request("user_agent", "not a valid header value"))?;
        if let Some((interval, timeout)) = self.keep_alive()? {
            endpoint = endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_timeout(timeout);
        }
        if https {
            #[cfg(feature = "tls")]
            {
                // The webpki roots, and the platform's with `tls-native-roots`.
                let tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
                endpoint = endpoint.tls_config(tls).map_err(|err| {
                    Error::invalid_request("endpoint", format!("TLS setup failed: {err}"))
                })?;
            }
        }
        Ok(endpoint)
    }

    /// The HTTP/2 keep-alive: its interval and timeout, or `None` when
    /// turned off.
    fn keep_alive(&self) -> Result<Option<(Duration, Duration)>> {
        if self.keep_alive_interval.is_zero() {
            return Ok(None);
        }
        if self.keep_alive_timeout.is_zero() {
            return Err(Error::invalid_request(
                "http2_keep_alive_timeout",
                "must be longer than zero",
            ));
        }
        Ok(Some((self.keep_alive_interval, self.keep_alive_timeout)))
    }

    /// The Connect transport of this builder, for a Connect protocol.
    #[cfg(feature = "connect")]
    fn connect_transport(&self) -> Result<Option<crate::transport::ConnectTransport>> {
        use crate::transport::{self, connect::wire::Codec};
        let codec = match self.protocol {
            Protocol::Grpc => return Ok(None),
            Protocol::ConnectProto => Codec::Proto,
            Protocol::ConnectJson => Codec::Json,
        };
        let config = transport::ConnectConfig {
            endpoint: self.checked_uri()?,
            codec,
            http: self.http_version,
            compression: self.compression,
            connect_timeout: self.connect_timeout,
            keep_alive: self.keep_alive()?,
            max_connections: self.max_connections_per_host,
            user_agent: http::HeaderValue::try_from(self.user_agent.as_str())
                .map_err(|_| Error::invalid_request("user_agent", "not a valid header value"))?,
            max_response_bytes: self.max_response_bytes,
        };
        transport::ConnectTransport::new(config).map(Some)
    }

    fn finish_grpc(self, channel: Channel) -> Result<Client> {
        let transport = Transport::Grpc(GrpcTransport::new(
            channel,
            self.max_response_bytes,
            self.compression,
        ));
        self.finish(transport)
    }

    /// Connects now, so that an unreachable server fails here rather than
    /// on the first call.
    pub async fn connect(self) -> Result<Client> {
        self.credentials
            .clone()
            .map_err(|message| Error::invalid_request("api_key", message))?;
        #[cfg(feature = "connect")]
        if let Some(connect) = self.connect_transport()? {
            connect.probe().await?;
            return self.finish(Transport::Connect(Box::new(connect)));
        }
        let endpoint = self.endpoint_config()?;
        let channel = endpoint.connect().await.map_err(|err| {
            Error::Transport(crate::error::TransportError::new(
                format!("could not connect to {}", self.endpoint),
                err,
            ))
        })?;
        self.finish_grpc(channel)
    }

    /// Builds the client without connecting: the connection is made by the
    /// first call, and remade after failures.
    ///
    /// Over gRPC this must be called inside a Tokio runtime (tonic starts
    /// the connection's task here); outside one it returns an
    /// [`Error::InvalidRequest`] for the field `runtime` instead of
    /// panicking. Over Connect it may be called anywhere. Calls, over every
    /// protocol, run inside a Tokio runtime.
    pub fn connect_lazy(self) -> Result<Client> {
        #[cfg(feature = "connect")]
        if let Some(connect) = self.connect_transport()? {
            return self.finish(Transport::Connect(Box::new(connect)));
        }
        let endpoint = self.endpoint_config()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::invalid_request(
                "runtime",
                "connect_lazy() over gRPC must be called inside a Tokio runtime \
                 (from async code, or within Runtime::enter)",
            ));
        }
        let channel = endpoint.connect_lazy();
        self.finish_grpc(channel)
    }

    /// Builds the client over a tonic [`Channel`] you configured yourself
    /// (your own TLS, proxies, interceptors' transport, or an in-memory
    /// channel). The endpoint, connect timeout and user agent of this
    /// builder are not used. A channel speaks gRPC only: with a Connect
    /// [`protocol`](Self::protocol) this is an [`Error::InvalidRequest`].
    ///
    /// Raw surface (feature `raw`): its argument is tonic's type, so it is
    /// not covered by this crate's semver promise.
    #[cfg(feature = "raw")]
    pub fn build_with_channel(self, channel: Channel) -> Result<Client> {
        if self.protocol != Protocol::Grpc {
            return Err(Error::invalid_request(
                "protocol",
                "build_with_channel takes a tonic Channel, which speaks gRPC only",
            ));
        }
        self.finish_grpc(channel)
    }
}

/// Whether `host` (from a URI, IPv6 in brackets) is this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
