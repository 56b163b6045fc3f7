//! OpenTelemetry metrics (feature `otel`): a client given a meter provider
//! (opentelemetry_sdk's, exporting to memory) records gRFC A66's client
//! instruments and the crate's own, over every protocol, against the
//! reference server with injected faults.

mod common;

use std::collections::BTreeMap;

use common::each_protocol;
use factify_invites::Client;
use factify_invites_server::Fault;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// One data point, flattened: its attributes, and its sum or count.
#[derive(Debug, Clone)]
struct Point {
    attributes: BTreeMap<String, String>,
    value: f64,
}

fn flatten<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> BTreeMap<String, String> {
    attributes
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect()
}

/// Every metric exported so far, by name (counters: their sums;
/// histograms: their counts).
fn collect(
    provider: &SdkMeterProvider,
    exporter: &InMemoryMetricExporter,
) -> BTreeMap<String, Vec<Point>> {
    provider.force_flush().expect("flush the metrics");
    let mut found: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for resource in exporter.get_finished_metrics().expect("exported metrics") {
        for scope in resource.scope_metrics() {
            assert_eq!(scope.scope().name(), "factify-invites");
            for metric in scope.metrics() {
                let points = found.entry(metric.name().to_owned()).or_default();
                points.clear(); // cumulative: the last export has it all
                match metric.data() {
                    AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                        points.extend(sum.data_points().map(|p| Point {
                            attributes: flatten(p.attributes()),
                            value: p.value() as f64,
                        }))
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        points.extend(h.data_points().map(|p| Point {
                            attributes: flatten(p.attributes()),
                            value: p.count() as f64,
                        }))
                    }
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                        points.extend(h.data_points().map(|p| Point {
                            attributes: flatten(p.attributes()),
                            value: p.sum() as f64,
                        }))
                    }
                    other => panic!("unexpected data of {}: {other:?}", metric.name()),
                }
            }
        }
    }
    found
}

/// The total of `name`'s points whose attributes include `wanted`.
fn total(metrics: &BTreeMap<String, Vec<Point>>, name: &str, wanted: &[(&str, &str)]) -> f64 {
    metrics
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", metrics.keys()))
        .iter()
        .filter(|p| {
            wanted
                .iter()
                .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|p| p.value)
        .sum()
}

const CREATE: &str = "factify.api.v1beta.OrganizationInviteService/CreateOrganizationInvite";
const LIST: &str = "factify.api.v1beta.OrganizationInviteService/ListOrganizationInvites";

async fn records_grpc_client_metrics_and_the_crates_own() {
    let env = common::start_server().await;
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let client: Client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .meter_provider(&provider)
        .connect()
        .await
        .unwrap();
    let org = &env.fixture.organization;

    // A create whose first attempt meets UNAVAILABLE, then succeeds.
    env.server.inject_faults(None, [Fault::Unavailable]);
    client.create_invite(org, "ada@example.com").await.unwrap();
    // A page, and a call refused for good (NOT_FOUND is not retried).
    client.list_invites(org).page(None).await.unwrap();
    let missing = "inv_01arz3ndektsv4rrffq69g5fav";
    let err = client.revoke_invite(org, missing).await.unwrap_err();
    assert_eq!(err.code(), Some(factify_invites::Code::NotFound), "{err}");

    let metrics = collect(&provider, &exporter);
    let protocol = common::protocol().as_str();
    let target = env.running.endpoint();
    let base = [
        ("grpc.target", target.as_str()),
        ("factify_invites.protocol", protocol),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };

    assert_eq!(
        total(
            &metrics,
            "grpc.client.attempt.started",
            &with(&[("grpc.method", CREATE)])
        ),
        2.0
    );
    let create_ok = with(&[("grpc.method", CREATE), ("grpc.status", "OK")]);
    let create_unavailable = with(&[("grpc.method", CREATE), ("grpc.status", "UNAVAILABLE")]);
    assert_eq!(
        total(&metrics, "grpc.client.attempt.duration", &create_ok),
        1.0
    );
    assert_eq!(
        total(
            &metrics,
            "grpc.client.attempt.duration",
            &create_unavailable
        ),
        1.0
    );
    assert_eq!(
        total(&metrics, "grpc.client.call.duration", &create_ok),
        1.0
    );
    assert_eq!(
        total(&metrics, "grpc.client.call.duration", &create_unavailable),
        0.0
    );
    let revoke = [("grpc.status", "NOT_FOUND")];
    assert_eq!(
        total(&metrics, "grpc.client.call.duration", &with(&revoke)),
        1.0
    );
    // Sizes: a create sends its request each attempt and gets an invite back.
    let sent = total(
        &metrics,
        "grpc.client.attempt.sent_total_compressed_message_size",
        &create_ok,
    );
    let rcvd = total(
        &metrics,
        "grpc.client.attempt.rcvd_total_compressed_message_size",
        &create_ok,
    );
    assert!(sent >= 20.0 && rcvd >= 50.0, "sent {sent}, received {rcvd}");
    assert_eq!(
        total(
            &metrics,
            "grpc.client.attempt.rcvd_total_compressed_message_size",
            &create_unavailable
        ),
        0.0
    );
    // The crate's own.
    assert_eq!(
        total(
            &metrics,
            "factify_invites.client.retries",
            &with(&[("grpc.method", CREATE)])
        ),
        1.0
    );
    assert_eq!(
        total(
            &metrics,
            "factify_invites.client.pages",
            &with(&[("grpc.method", LIST)])
        ),
        1.0
    );
    assert!(!metrics.contains_key("factify_invites.client.retry_budget.refusals"));
}

/// A rate-limited client records its waits.
#[tokio::test]
async fn records_rate_limit_waits() {
    let env = common::start_server().await;
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .rate_limit(factify_invites::rate_limit::RateLimit::per_minute(600))
        .meter_provider(&provider)
        .connect()
        .await
        .unwrap();
    for _ in 0..3 {
        client
            .list_invites(&env.fixture.organization)
            .page(None)
            .await
            .unwrap();
    }
    let metrics = collect(&provider, &exporter);
    // The first call starts at once; the next two wait (about 100 ms each).
    assert_eq!(
        total(
            &metrics,
            "factify_invites.client.rate_limit.wait",
            &[("grpc.method", LIST)]
        ),
        2.0
    );
}

each_protocol!(
    records_grpc_client_metrics_and_the_crates_own,
    sends_the_callers_trace_context_from_its_tracing_span,
    sends_the_current_opentelemetry_context,
    sends_no_trace_context_without_one,
);

/// A caller's `tracing` span, bridged to OpenTelemetry by
/// `tracing-opentelemetry`: the server receives the caller's trace ID and,
/// as parent, the span of the crate's call (a child of the caller's).
async fn sends_the_callers_trace_context_from_its_tracing_span() {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    // tracing caches, once per process, whether anyone listens to a
    // callsite; a test on another thread registering the crate's call span
    // while this one sets its subscriber can cache "no one". Registered
    // here first (no trace context goes out without a subscriber), the
    // callsite is re-evaluated when the subscriber below is set.
    env.client.list_invites(org).page(None).await.unwrap();

    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // The test runs on one thread: every task logs to this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    env.client
        .create_invite(org, "ada@example.com")
        .send()
        .instrument(tracing::info_span!("caller"))
        .await
        .unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let span = |name: &str| {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no span {name}: {spans:?}"))
    };
    let (caller, call) = (span("caller"), span("factify_invites.call"));
    assert_eq!(call.parent_span_id, caller.span_context.span_id());
    let received = env.server.received_traces();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].traceparent,
        format!(
            "00-{}-{}-01",
            caller.span_context.trace_id(),
            call.span_context.span_id()
        )
    );
}

/// Without `tracing-opentelemetry`, OpenTelemetry's current context (here
/// a remote parent with a `tracestate`) is sent as it is.
async fn sends_the_current_opentelemetry_context() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };

    let env = common::start_server().await;
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let state = TraceState::from_key_value([("vendor", "opaque")]).unwrap();
    let parent = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, state);
    let context = opentelemetry::Context::new().with_remote_span_context(parent);
    {
        let _attached = context.attach();
        env.client
            .list_invites(&env.fixture.organization)
            .page(None)
            .await
            .unwrap();
    }
    let received = env.server.received_traces();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].traceparent,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(received[0].tracestate.as_deref(), Some("vendor=opaque"));
}

async fn sends_no_trace_context_without_one() {
    let env = common::start_server().await;
    env.client
        .list_invites(&env.fixture.organization)
        .page(None)
        .await
        .unwrap();
    assert_eq!(env.server.received_traces(), vec![]);
}

/// A retry the budget refuses is counted, and the call ends with the
/// attempt's status.
#[tokio::test]
async fn records_retry_budget_refusals() {
    let env = common::start_server().await;
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        // No token, none earned: the first failure's retry is refused.
        .retry_budget(factify_invites::retry::RetryBudget::new(0.0, 0.0))
        .meter_provider(&provider)
        .connect()
        .await
        .unwrap();
    env.server.inject_faults(None, [Fault::Unavailable]);
    let err = client
        .list_invites(&env.fixture.organization)
        .page(None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(factify_invites::Code::Unavailable),
        "{err}"
    );
    let metrics = collect(&provider, &exporter);
    let list = [("grpc.method", LIST)];
    assert_eq!(
        total(
            &metrics,
            "factify_invites.client.retry_budget.refusals",
            &list
        ),
        1.0
    );
    assert_eq!(
        total(
            &metrics,
            "grpc.client.call.duration",
            &[("grpc.method", LIST), ("grpc.status", "UNAVAILABLE")]
        ),
        1.0
    );
    assert!(!metrics.contains_key("factify_invites.client.retries"));
    assert!(!metrics.contains_key("factify_invites.client.pages"));
}
