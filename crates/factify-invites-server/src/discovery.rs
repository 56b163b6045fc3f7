//! What gRPC tools find on the reference server besides the API: server
//! reflection (`grpc.reflection.v1` and `v1alpha`, from `tonic-reflection`)
//! so that `grpcurl`, `grpcui`, Postman and `buf curl` work without the
//! `.proto` files, and the standard health service (`grpc.health.v1.Health`,
//! from `tonic-health`) for Kubernetes-style probes.
//!
//! Health answers `SERVING` for the whole server (service `""`) and for
//! `factify.api.v1beta.OrganizationInviteService` while the server runs.
//! When it stops, each `Watch` stream gets `NOT_SERVING` and ends, so that
//! the graceful stop does not wait for watchers forever.

use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::server::ReferenceServer;

/// The API's gRPC service name, as health checks and reflection name it.
const SERVICE: &str = "factify.api.v1beta.OrganizationInviteService";

/// Every gRPC service of the server on one router: the API, health and
/// both reflection versions. The reporter marks the server as stopping.
pub(crate) async fn grpc_services(server: &ReferenceServer) -> (Routes, HealthReporter) {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, ServingStatus::Serving)
        .await;
    let mut routes = Routes::new(server.service()).add_service(health);
    // The descriptor sets are compiled into the crate; a failure here is a
    // build defect, reported rather than panicking the server.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    match reflection().build_v1() {
        Ok(service) => routes = routes.add_service(service),
        Err(error) => tracing::error!(%error, "server reflection v1 is not served"),
    }
    match reflection().build_v1alpha() {
        Ok(service) => routes = routes.add_service(service),
        Err(error) => tracing::error!(%error, "server reflection v1alpha is not served"),
    }
    (routes, reporter)
}

/// Tells health checks that the server is stopping, then ends every
/// `Watch` stream (by forgetting the statuses), since a graceful shutdown
/// waits for the calls in flight and a watch never ends by itself.
pub(crate) async fn stopping(mut reporter: HealthReporter) {
    for service in ["", SERVICE] {
        reporter
            .set_service_status(service, ServingStatus::NotServing)
            .await;
        reporter.clear_service_status(service).await;
    }
}
