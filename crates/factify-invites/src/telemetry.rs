//! OpenTelemetry for every call (feature `otel`): the client metrics of
//! gRPC's own OpenTelemetry support (gRFC A66, as grpc-go, grpc-java and
//! grpc-c++ name them) plus this crate's own, recorded through a `Meter`
//! the user passes with
//! [`ClientBuilder::meter_provider`](crate::ClientBuilder::meter_provider).
//!
//! | instrument | kind, unit | attributes |
//! |---|---|---|
//! | `grpc.client.attempt.started` | counter, `{attempt}` | `grpc.method`, `grpc.target` |
//! | `grpc.client.attempt.duration` | histogram, `s` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.attempt.sent_total_compressed_message_size` | histogram, `By` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.attempt.rcvd_total_compressed_message_size` | histogram, `By` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.call.duration` | histogram, `s` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `factify_invites.client.retries` | counter, `{retry}` | `grpc.method`, `grpc.target` |
//! | `factify_invites.client.retry_budget.refusals` | counter, `{retry}` | `grpc.method`, `grpc.target` |
//! | `factify_invites.client.rate_limit.wait` | histogram, `s` | `grpc.method`, `grpc.target` |
//! | `factify_invites.client.pages` | counter, `{page}` | `grpc.method`, `grpc.target` |
//!
//! Every instrument also carries `factify_invites.protocol` (`grpc`,
//! `connect+proto` or `connect+json`): over Connect the same instruments
//! are recorded, told apart by it. `grpc.method` is the full method name
//! (`factify.api.v1beta.OrganizationInviteService/CreateOrganizationInvite`),
//! `grpc.status` the status code's name (`OK`, `UNAVAILABLE`, ...), or
//! `UNKNOWN` for a failure that carries none. The message sizes are those
//! of the encoded protobuf messages (this client does not compress gRPC
//! messages; a gzipped Connect body is counted before compression).
//!
//! Without a meter provider nothing is recorded, and the calls skip even
//! reading the clock for it.
//!
//! # Trace context
//!
//! With the feature on, every attempt also sends the current trace
//! context as W3C `traceparent` (and `tracestate`) headers, over gRPC and
//! Connect alike, so that the server's side of a call joins the caller's
//! trace. The context is the one of the crate's own `factify_invites.call`
//! `tracing` span when a `tracing-opentelemetry` layer is installed (that
//! span is then a child of the caller's span, and the server's parent), or
//! else OpenTelemetry's current [`Context`](opentelemetry::Context). With
//! no valid span context, nothing is sent.

use std::time::Duration;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use crate::error::Code;
use crate::transport::Rpc;

/// One request header (metadata entry).
type Header = (AsciiMetadataKey, AsciiMetadataValue);

/// The status name of A66's `grpc.status`: `OK` or the code in capitals.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) fn status_name(code: Option<Code>) -> &'static str {
    let Some(code) = code else {
        return "UNKNOWN";
    };
    match code {
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The outcome of an attempt or a call, for `grpc.status`.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) enum Outcome {
    Ok,
    Failed(Option<Code>),
}

#[cfg(feature = "otel")]
pub(crate) use with_otel::{trace_headers, Metrics};

#[cfg(not(feature = "otel"))]
pub(crate) use without_otel::{trace_headers, Metrics};

#[cfg(not(feature = "otel"))]
mod without_otel {
    use super::*;
    use tokio::time::Instant;

    /// Without the `otel` feature no trace context is sent.
    pub(crate) fn trace_headers() -> Option<Vec<Header>> {
        None
    }

    /// Without the `otel` feature nothing is recorded.
    #[derive(Debug, Default)]
    pub(crate) struct Metrics;

    #[allow(clippy::unused_self)]
    impl Metrics {
        pub(crate) fn start(&self) -> Option<Instant> {
            None
        }
        pub(crate) fn attempt_started(&self, _rpc: Rpc) {}
        pub(crate) fn attempt_ended<Req, Resp>(
            &self,
            _rpc: Rpc,
            _started: Option<Instant>,
            _outcome: Outcome,
            _request: &Req,
            _response: Option<&Resp>,
        ) {
        }
        pub(crate) fn call_ended(&self, _rpc: Rpc, _started: Option<Instant>, _outcome: Outcome) {}
        pub(crate) fn retry(&self, _rpc: Rpc) {}
        pub(crate) fn budget_refused(&self, _rpc: Rpc) {}
        pub(crate) fn rate_limit_wait(&self, _rpc: Rpc, _wait: Duration) {}
    }
}

#[cfg(feature = "otel")]
mod with_otel {
    use std::sync::Arc;

    use opentelemetry::metrics::{Counter, Histogram, Meter};
    use opentelemetry::KeyValue;
    use tokio::time::Instant;

    use super::*;
    use crate::transport;

    /// gRFC A66's latency buckets, in seconds.
    const LATENCY_BUCKETS: [f64; 41] = [
        0.0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005,
        0.006, 0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13,
        0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
    ];

    /// gRFC A66's size buckets, in bytes.
    const SIZE_BUCKETS: [f64; 14] = [
        0.0,
        1024.0,
        2048.0,
        4096.0,
        16384.0,
        65536.0,
        262144.0,
        1048576.0,
        4194304.0,
        16777216.0,
        67108864.0,
        268435456.0,
        1073741824.0,
        4294967296.0,
    ];

    /// The instruments of one client (and its clones), or none.
    #[derive(Debug, Default)]
    pub(crate) struct Metrics(Option<Box<Instruments>>);

    #[derive(Debug)]
    struct Instruments {
        target: Arc<str>,
        protocol: &'static str,
        attempt_started: Counter<u64>,
        attempt_duration: Histogram<f64>,
        attempt_sent: Histogram<u64>,
        attempt_rcvd: Histogram<u64>,
        call_duration: Histogram<f64>,
        retries: Counter<u64>,
        budget_refusals: Counter<u64>,
        rate_limit_wait: Histogram<f64>,
        pages: Counter<u64>,
    }

    impl Metrics {
        /// The instruments of a client of `target` over `protocol`.
        pub(crate) fn new(meter: &Meter, target: &str, protocol: &'static str) -> Metrics {
            let latency = |name: &'static str, description: &'static str| {
                meter
                    .f64_histogram(name)
                    .with_description(description)
                    .with_unit("s")
                    .with_boundaries(LATENCY_BUCKETS.to_vec())
                    .build()
            };
            let size = |name: &'static str, description: &'static str| {
                meter
                    .u64_histogram(name)
                    .with_description(description)
                    .with_unit("By")
                    .with_boundaries(SIZE_BUCKETS.to_vec())
                    .build()
            };
            let counter = |name: &'static str, unit: &'static str, description: &'static str| {
                meter
                    .u64_counter(name)
                    .with_description(description)
                    .with_unit(unit)
                    .build()
            };
            Metrics(Some(Box::new(Instruments {
                target: Arc::from(target),
                protocol,
                attempt_started: counter(
                    "grpc.client.attempt.started",
                    "{attempt}",
                    "Attempts started, retries included.",
                ),
                attempt_duration: latency(
                    "grpc.client.attempt.duration",
                    "Time from the start of an attempt to its end.",
                ),
                attempt_sent: size(
                    "grpc.client.attempt.sent_total_compressed_message_size",
                    "Bytes of request messages sent by an attempt.",
                ),
                attempt_rcvd: size(
                    "grpc.client.attempt.rcvd_total_compressed_message_size",
                    "Bytes of response messages received by an attempt.",
                ),
                call_duration: latency(
                    "grpc.client.call.duration",
                    "Time from the start of a call to its end, every attempt and wait included.",
                ),
                retries: counter(
                    "factify_invites.client.retries",
                    "{retry}",
                    "Attempts that were retries of an earlier one.",
                ),
                budget_refusals: counter(
                    "factify_invites.client.retry_budget.refusals",
                    "{retry}",
                    "Retries not made because the retry budget was spent.",
                ),
                rate_limit_wait: meter
                    .f64_histogram("factify_invites.client.rate_limit.wait")
                    .with_description(
                        "Time a call waited for the rate limit (client pacer, shared limit or the server's hold-off).",
                    )
                    .with_unit("s")
                    .with_boundaries(LATENCY_BUCKETS.to_vec())
                    .build(),
                pages: counter(
                    "factify_invites.client.pages",
                    "{page}",
                    "Pages of invitations fetched.",
                ),
            })))
        }

        /// The start of something to time, when metrics are on.
        pub(crate) fn start(&self) -> Option<Instant> {
            self.0.as_ref().map(|_| Instant::now())
        }

        pub(crate) fn attempt_started(&self, rpc: Rpc) {
            if let Some(m) = &self.0 {
                m.attempt_started.add(1, &m.attributes(rpc));
            }
        }

        pub(crate) fn attempt_ended<Req: prost::Message, Resp: prost::Message>(
            &self,
            rpc: Rpc,
            started: Option<Instant>,
            outcome: Outcome,
            request: &Req,
            response: Option<&Resp>,
        ) {
            let (Some(m), Some(started)) = (&self.0, started) else {
                return;
            };
            let attributes = m.with_status(rpc, outcome);
            m.attempt_duration
                .record(started.elapsed().as_secs_f64(), &attributes);
            m.attempt_sent
                .record(request.encoded_len() as u64, &attributes);
            m.attempt_rcvd.record(
                response.map_or(0, |response| response.encoded_len() as u64),
                &attributes,
            );
        }

        pub(crate) fn call_ended(&self, rpc: Rpc, started: Option<Instant>, outcome: Outcome) {
            let (Some(m), Some(started)) = (&self.0, started) else {
                return;
            };
            let attributes = m.with_status(rpc, outcome);
            m.call_duration
                .record(started.elapsed().as_secs_f64(), &attributes);
            if rpc == transport::LIST && matches!(outcome, Outcome::Ok) {
                m.pages.add(1, &m.attributes(rpc));
            }
        }

        pub(crate) fn retry(&self, rpc: Rpc) {
            if let Some(m) = &self.0 {
                m.retries.add(1, &m.attributes(rpc));
            }
        }

        pub(crate) fn budget_refused(&self, rpc: Rpc) {
            if let Some(m) = &self.0 {
                m.budget_refusals.add(1, &m.attributes(rpc));
            }
        }

        pub(crate) fn rate_limit_wait(&self, rpc: Rpc, wait: Duration) {
            if let Some(m) = &self.0 {
                m.rate_limit_wait
                    .record(wait.as_secs_f64(), &m.attributes(rpc));
            }
        }
    }

    impl Instruments {
        fn attributes(&self, rpc: Rpc) -> [KeyValue; 3] {
            [
                KeyValue::new("grpc.method", method_name(rpc)),
                KeyValue::new("grpc.target", self.target.clone()),
                KeyValue::new("factify_invites.protocol", self.protocol),
            ]
        }

        fn with_status(&self, rpc: Rpc, outcome: Outcome) -> [KeyValue; 4] {
            let [method, target, protocol] = self.attributes(rpc);
            let status = match outcome {
                Outcome::Ok => "OK",
                Outcome::Failed(code) => status_name(code),
            };
            [
                method,
                target,
                protocol,
                KeyValue::new("grpc.status", status),
            ]
        }
    }

    /// The `traceparent` and `tracestate` headers of the current span's
    /// context, if it is valid.
    pub(crate) fn trace_headers() -> Option<Vec<Header>> {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;

        let mut context = tracing::Span::current().context();
        if !context.span().span_context().is_valid() {
            context = opentelemetry::Context::current();
        }
        let span = context.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return None;
        }
        let traceparent = format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        );
        let mut headers = vec![(
            AsciiMetadataKey::from_static("traceparent"),
            AsciiMetadataValue::try_from(traceparent).ok()?,
        )];
        let tracestate = span_context.trace_state().header();
        if !tracestate.is_empty() {
            if let Ok(value) = AsciiMetadataValue::try_from(tracestate) {
                headers.push((AsciiMetadataKey::from_static("tracestate"), value));
            }
        }
        Some(headers)
    }

    /// A66's `grpc.method`: the path without its leading `/`.
    fn method_name(rpc: Rpc) -> &'static str {
        rpc.path.strip_prefix('/').unwrap_or(rpc.path)
    }
}
