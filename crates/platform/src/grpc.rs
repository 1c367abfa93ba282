//! The gRPC server bootstrap every service uses: `grpc.health.v1`, reflection, the auth
//! and trace layer, request limits, and graceful shutdown that drains in-flight calls.

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use http::{Request, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{
    body::Body,
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tower::{Layer, Service};
use tracing::{Instrument, info_span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    PlatformError,
    auth::{AccessTable, AuthError, ORGANISATION_HEADER, Verifier},
    metrics, telemetry,
};

/// Paths that need no token: health checks and reflection.
const PUBLIC_PREFIXES: [&str; 2] = ["/grpc.health.v1.", "/grpc.reflection."];

/// What the server needs besides the service's routes.
#[derive(Clone)]
pub struct ServerOptions {
    /// Who may call which RPC, checked after the token and before the handler.
    pub access: Arc<AccessTable>,
    /// Fully qualified gRPC service names, reported SERVING by `grpc.health.v1`.
    pub service_names: Vec<&'static str>,
    /// The encoded descriptor set served by reflection.
    pub descriptor: &'static [u8],
    /// Upper bound on one call.
    pub request_timeout: Duration,
}

/// Serves `routes` on `listener` until `shutdown`; then stops accepting, reports
/// NOT_SERVING, and waits for in-flight calls to finish.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    verifier: Arc<Verifier>,
    options: ServerOptions,
    shutdown: CancellationToken,
) -> Result<(), PlatformError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in &options.service_names {
        health
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    // Reflection advertises what this server serves, not every service in the descriptor
    // set (which describes the whole platform): `grpcurl list` on testing's port shows
    // testing, health and reflection only.
    let reflection = || {
        options.service_names.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(options.descriptor)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health"),
            |builder, name| builder.with_service_name(*name),
        )
    };
    let reflection_error =
        |e: tonic_reflection::server::Error| PlatformError::Config(format!("reflection: {e}"));
    let reflection_v1 = reflection().build_v1().map_err(reflection_error)?;
    // grpcurl before 1.8.8 and many tools still speak only v1alpha.
    let reflection_v1alpha = reflection().build_v1alpha().map_err(reflection_error)?;
    // Liveness: the overall status follows the parts that only a restart cures.
    let mut stuck = crate::health::subscribe();
    let (liveness, stopped) = (health.clone(), shutdown.clone());
    let liveness_task = tokio::spawn(async move {
        loop {
            let parts = stuck.borrow_and_update().clone();
            let status = if parts.is_empty() {
                ServingStatus::Serving
            } else {
                tracing::error!(stuck = ?parts, "liveness check failing: a part stays stuck; the pod should be restarted");
                ServingStatus::NotServing
            };
            liveness.set_service_status("", status).await;
            tokio::select! {
                changed = stuck.changed() => if changed.is_err() { return },
                _ = stopped.cancelled() => return,
            }
        }
    });
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, services = ?options.service_names, "gRPC server listening");
    let names = options.service_names.clone();
    Server::builder()
        .timeout(options.request_timeout)
        .concurrency_limit_per_connection(256)
        .max_concurrent_streams(256)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(GuardLayer {
            verifier,
            access: options.access.clone(),
        })
        .add_routes(routes)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        // TCP_NODELAY: without it a response written in more than one segment waits for
        // the caller's delayed ACK (Nagle), a ~40 ms floor under every listing page.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            async move {
                shutdown.cancelled().await;
                for name in names {
                    health
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
                tracing::info!(addr = %local, "gRPC server draining");
            },
        )
        .await?;
    liveness_task.abort();
    tracing::info!(addr = %local, "gRPC server stopped");
    Ok(())
}

/// Authenticates every call but health and reflection, opens its server span (continuing
/// the caller's trace), and records `rpc.server.duration`.
#[derive(Clone)]
pub struct GuardLayer {
    verifier: Arc<Verifier>,
    access: Arc<AccessTable>,
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            verifier: self.verifier.clone(),
            access: self.access.clone(),
        }
    }
}

/// The service [`GuardLayer`] makes.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    verifier: Arc<Verifier>,
    access: Arc<AccessTable>,
}

impl<S> Service<Request<Body>> for Guard<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone is fresh; the one that was polled ready handles this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let access = self.access.clone();
        let path = request.uri().path().to_owned();
        if PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p)) {
            return Box::pin(inner.call(request));
        }
        let (service, method) = split_path(&path);
        let span = info_span!(
            "rpc",
            otel.name = %format!("{service}/{method}"),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            enduser.organisation = tracing::field::Empty,
        );
        let _ = span.set_parent(telemetry::extract_http(request.headers()));
        Box::pin(
            async move {
                let started = Instant::now();
                let credentials = credentials(request.headers());
                let verified = match credentials {
                    Ok((token, org)) => verifier.verify(&token, org.as_deref()).await,
                    Err(e) => Err(e),
                }
                .and_then(|principal| access.check(&path, &principal).map(|()| principal));
                let response = match verified {
                    Ok(principal) => {
                        tracing::Span::current().record(
                            "enduser.organisation",
                            principal.organisation.alias.as_str(),
                        );
                        request.extensions_mut().insert(principal);
                        inner.call(request).await?
                    }
                    Err(refusal) => tonic::Status::from(refusal).into_http(),
                };
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned();
                tracing::Span::current().record("rpc.grpc.status_code", code.as_str());
                metrics::rpc_finished(&service, &method, &code, started.elapsed());
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// The bearer token and the requested organisation, copied out of the headers so that no
/// borrow of the request lives across the token check.
fn credentials(headers: &http::HeaderMap) -> Result<(String, Option<String>), AuthError> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?
        .to_str()
        .map_err(|_| AuthError::Malformed("the authorization metadata is not text".into()))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            AuthError::Malformed("the authorization metadata is not a Bearer token".into())
        })?;
    let requested = headers
        .get(ORGANISATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((token.trim().to_owned(), requested))
}

fn split_path(path: &str) -> (String, String) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or_default().to_owned();
    let method = parts.next().unwrap_or_default().to_owned();
    (service, method)
}

/// A channel to another service at `url` (configured as `field`) that connects when first
/// called, so a service starts, and its other RPCs answer, while the callee is down.
pub fn lazy_channel(field: &str, url: &str) -> Result<tonic::transport::Channel, String> {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .map(|e| {
            e.connect_timeout(std::time::Duration::from_secs(5))
                .timeout(std::time::Duration::from_secs(20))
                .connect_lazy()
        })
        .map_err(|e| format!("{field} {url:?}: {e}"))
}

/// The caller's credentials (bearer token and `x-organization`) of an incoming request,
/// to call another service on the caller's behalf: the callee checks and audits the same
/// person and organisation, not a service account that could read for anyone.
#[derive(Clone)]
pub struct OnBehalfOf {
    authorization: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    organisation: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
}

impl std::fmt::Debug for OnBehalfOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("OnBehalfOf").finish_non_exhaustive()
    }
}

impl OnBehalfOf {
    /// The credentials of `request`, which the auth layer has already checked.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self, AuthError> {
        let metadata = request.metadata();
        let authorization = metadata
            .get(http::header::AUTHORIZATION.as_str())
            .cloned()
            .ok_or(AuthError::MissingToken)?;
        Ok(Self {
            authorization,
            organisation: metadata.get(ORGANISATION_HEADER).cloned(),
        })
    }

    /// The credentials of an operator's command: a bearer token it was given (a Keycloak
    /// service account in production, `inburgering token` in dev) and the organisation
    /// it acts for, when the token holds several.
    pub fn bearer(token: &str, organisation: Option<&str>) -> Result<Self, AuthError> {
        let token = token.trim();
        let authorization = format!("Bearer {}", token.strip_prefix("Bearer ").unwrap_or(token))
            .parse()
            .map_err(|_| {
                AuthError::Malformed("it holds characters a header cannot carry".into())
            })?;
        let organisation = organisation.map(|o| o.parse()).transpose().map_err(|_| {
            AuthError::Malformed("the organisation is not a valid header value".into())
        })?;
        Ok(Self {
            authorization,
            organisation,
        })
    }

    /// `message` as an outgoing request carrying these credentials and the current trace.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert(
            http::header::AUTHORIZATION.as_str(),
            self.authorization.clone(),
        );
        if let Some(org) = &self.organisation {
            metadata.insert(ORGANISATION_HEADER, org.clone());
        }
        crate::telemetry::inject_metadata(metadata);
        request
    }
}
