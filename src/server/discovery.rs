//! What gRPC tools find on the reference server besides the API: server
//! reflection (`grpc.reflection.v1` and `v1alpha`, from `tonic-reflection`)
//! so that `grpcurl`, `grpcui`, Postman and `buf curl` work without the
//! `.proto` files, and the standard health service (`grpc.health.v1.Health`,
//! from `tonic-health`) for Kubernetes-style probes.
//!
//! Health answers `SERVING` for the whole server (service `""`) and for
//! `factify.api.v1beta.OrganizationInviteService` while the server runs,
//! and `NOT_SERVING` for both once it is stopping.

use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use super::ReferenceServer;
use crate::proto::organization_invite_service_server::OrganizationInviteServiceServer;

/// The API's gRPC service name, as health checks and reflection name it.
const SERVICE: &str = "factify.api.v1beta.OrganizationInviteService";

/// Every gRPC service of the server on one router: the API, health and
/// both reflection versions. The reporter marks the server as stopping.
pub(crate) async fn grpc_services(server: &ReferenceServer) -> (Routes, HealthReporter) {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, ServingStatus::Serving)
        .await;
    let mut routes =
        Routes::new(OrganizationInviteServiceServer::new(server.clone())).add_service(health);
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

/// Tells health checks that the server is stopping.
pub(crate) async fn stopping(reporter: &HealthReporter) {
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
    reporter
        .set_service_status(SERVICE, ServingStatus::NotServing)
        .await;
}
