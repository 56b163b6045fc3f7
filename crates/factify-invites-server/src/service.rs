//! The tonic face of the store: the generated `OrganizationInviteService`
//! trait implemented for [`ReferenceServer`].
//!
//! Every call, in one place ([`ReferenceServer::handle`]): draw a request ID
//! (`req_` + ULID), count the call, authenticate the `authorization` header,
//! apply the rate limits, run the store's rule under the lock (never held
//! across an `.await`: there is none inside), and answer with the response
//! and an `x-request-id` header, or with the error turned into a
//! `tonic::Status` with details by [`ApiError::into_status`].

use chrono::{DateTime, Utc};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response};

use super::error::ApiError;
use super::faults::Fault;
use super::generate;
use super::state::{Caller, State};
use super::types::{Method, ReceivedTrace};
use crate::proto;
use crate::proto::organization_invite_service_server::{
    OrganizationInviteService, OrganizationInviteServiceServer,
};
use crate::server::ReferenceServer;

/// The `tracing` target of the one line logged per call (at debug): the
/// emulator of the `cli` feature shows it; test logs stay quiet by default.
const CALL_LOG: &str = "factify_invites_server::calls";

impl ReferenceServer {
    /// The tonic service, to mount in your own server with
    /// `tonic::transport::Server::builder().add_service(server.service())`.
    /// It reads gzip-compressed requests, and compresses a response with
    /// gzip when the client asks for it (`grpc-accept-encoding`).
    pub fn service(&self) -> OrganizationInviteServiceServer<ReferenceServer> {
        OrganizationInviteServiceServer::new(self.clone())
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(tonic::codec::CompressionEncoding::Gzip)
    }

    /// Runs one call of `method` through authentication, rate limits and
    /// `rule`, and wraps the outcome for tonic.
    async fn handle<Req, Resp>(
        &self,
        method: Method,
        request: &Request<Req>,
        rule: impl FnOnce(&mut State, DateTime<Utc>, &Caller, &Req) -> Result<Resp, ApiError>,
    ) -> Result<Response<Resp>, tonic::Status> {
        {
            let mut state = self.lock();
            state.count_call(method);
            if let Some(traceparent) = request.metadata().get("traceparent") {
                let text = |value: &tonic::metadata::AsciiMetadataValue| {
                    value.to_str().unwrap_or_default().to_owned()
                };
                state.record_trace(ReceivedTrace {
                    method,
                    traceparent: text(traceparent),
                    tracestate: request.metadata().get("tracestate").map(text),
                });
            }
        }
        let latency = self.faults.latency(method);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut hold_answer = None;
        let mut lose_answer = false;
        let injected = match self.faults.take(method) {
            Some(Fault::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                None
            }
            Some(Fault::DelayResponse(delay)) => {
                hold_answer = Some(delay);
                None
            }
            Some(Fault::Unavailable) => Some(ApiError::unavailable()),
            Some(Fault::RateLimited(delay)) => {
                Some(ApiError::injected_rate_limit(delay, self.clock.now()))
            }
            Some(Fault::UnavailableAfterActing) => {
                lose_answer = true;
                None
            }
            None => None,
        };
        let now = self.clock.now();
        let request_id = generate::id("req", now);
        if let Some(error) = injected {
            tracing::debug!(
                target: CALL_LOG,
                %method,
                %request_id,
                code = %factify_invites::Code::from(error.code),
                reason = error.reason,
                "call (injected fault)"
            );
            return Err(error.into_status(&request_id));
        }
        // A header that is not visible ASCII cannot be a key of ours; a
        // placeholder that is no valid header makes it `invalid_api_key`.
        let header = request
            .metadata()
            .get("authorization")
            .map(|value| value.to_str().unwrap_or("\u{0}"));
        let outcome = {
            let mut state = self.lock();
            state.authenticate(header).and_then(|caller| {
                state.check_rate(&caller, method, now)?;
                rule(&mut state, now, &caller, request.get_ref())
            })
        };
        if let Some(delay) = hold_answer {
            tokio::time::sleep(delay).await;
        }
        let outcome = match outcome {
            // The work is done; the answer is replaced on its way back.
            _ if lose_answer => Err(ApiError::unavailable()),
            outcome => outcome,
        };
        match outcome {
            Ok(body) => {
                tracing::debug!(target: CALL_LOG, %method, %request_id, code = "ok", "call");
                let mut response = Response::new(body);
                if let Ok(value) = MetadataValue::try_from(request_id.as_str()) {
                    response.metadata_mut().insert("x-request-id", value);
                }
                Ok(response)
            }
            Err(error) => {
                tracing::debug!(
                    target: CALL_LOG,
                    %method,
                    %request_id,
                    code = %factify_invites::Code::from(error.code),
                    reason = error.reason,
                    "call"
                );
                Err(error.into_status(&request_id))
            }
        }
    }
}

#[tonic::async_trait]
impl OrganizationInviteService for ReferenceServer {
    async fn create_organization_invite(
        &self,
        request: Request<proto::CreateOrganizationInviteRequest>,
    ) -> Result<Response<proto::CreateOrganizationInviteResponse>, tonic::Status> {
        self.handle(Method::Create, &request, |state, now, caller, req| {
            let invite = state.create(now, caller, req)?;
            Ok(proto::CreateOrganizationInviteResponse {
                invite: Some(invite),
            })
        })
        .await
    }

    async fn list_organization_invites(
        &self,
        request: Request<proto::ListOrganizationInvitesRequest>,
    ) -> Result<Response<proto::ListOrganizationInvitesResponse>, tonic::Status> {
        self.handle(Method::List, &request, |state, now, caller, req| {
            state.list(now, caller, req)
        })
        .await
    }

    async fn resend_organization_invite(
        &self,
        request: Request<proto::ResendOrganizationInviteRequest>,
    ) -> Result<Response<proto::ResendOrganizationInviteResponse>, tonic::Status> {
        self.handle(Method::Resend, &request, |state, now, caller, req| {
            let invite = state.resend(now, caller, req)?;
            Ok(proto::ResendOrganizationInviteResponse {
                invite: Some(invite),
            })
        })
        .await
    }

    async fn revoke_organization_invite(
        &self,
        request: Request<proto::RevokeOrganizationInviteRequest>,
    ) -> Result<Response<proto::RevokeOrganizationInviteResponse>, tonic::Status> {
        self.handle(Method::Revoke, &request, |state, now, caller, req| {
            let invite = state.revoke(now, caller, req)?;
            Ok(proto::RevokeOrganizationInviteResponse {
                invite: Some(invite),
            })
        })
        .await
    }

    async fn accept_organization_invite(
        &self,
        request: Request<proto::AcceptOrganizationInviteRequest>,
    ) -> Result<Response<proto::AcceptOrganizationInviteResponse>, tonic::Status> {
        self.handle(Method::Accept, &request, |state, now, caller, req| {
            let organization = state.accept(now, caller, req)?;
            Ok(proto::AcceptOrganizationInviteResponse {
                organization: Some(organization),
            })
        })
        .await
    }
}
