//! Telemetry: logs, OpenTelemetry traces (exported over OTLP when configured), and the W3C
//! trace context carried across gRPC metadata and Kafka headers.
//!
//! Span fields are ids only (trajectory_id, person_id, event ids): never a national number
//! or a name. Logs are one JSON object per line, except for a person reading them in a
//! terminal: then one readable line per event. `INBURGERING_LOG_FORMAT=json` or `text`
//! chooses regardless of the terminal.

use std::{collections::HashMap, io::IsTerminal};

use opentelemetry::{
    Context, global,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, SpanExporter},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::PlatformError;

/// Flushes and stops the tracer when the process ends; keep it alive in `main`.
#[must_use = "dropping the guard stops trace export"]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Telemetry {
    /// Exports what is buffered and stops the exporter (part of graceful shutdown).
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.force_flush() {
            eprintln!("trace flush failed: {e}");
        }
        let _ = self.provider.shutdown();
    }

    /// The tracer provider (tests flush it before reading their exporter).
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

/// The variable that chooses the log format: `json`, `text`, or unset (by the terminal).
pub const LOG_FORMAT_VAR: &str = "INBURGERING_LOG_FORMAT";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: for Kubernetes, a collector, a pipe or a file.
    Json,
    /// One readable line per event: for a person at a terminal.
    Text,
}

impl LogFormat {
    /// [`LOG_FORMAT_VAR`] if set, else text when the logs go to a terminal, JSON otherwise.
    pub fn choose(to_terminal: bool) -> Result<Self, PlatformError> {
        match std::env::var(LOG_FORMAT_VAR) {
            Ok(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Ok(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Ok(v) if !v.is_empty() => Err(PlatformError::Telemetry(format!(
                "{LOG_FORMAT_VAR}={v:?}: expected json or text"
            ))),
            _ if to_terminal => Ok(LogFormat::Text),
            _ => Ok(LogFormat::Json),
        }
    }
}

/// Installs logs on stdout and traces for `service_name`, exporting over OTLP/gRPC to
/// `otlp_endpoint` when one is given. The logs are JSON unless stdout is a terminal
/// ([`LogFormat::choose`]).
pub fn init(
    service_name: &str,
    log_filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, PlatformError> {
    let terminal = std::io::stdout().is_terminal();
    let format = LogFormat::choose(terminal)?;
    let builder = with_otlp(SdkTracerProvider::builder(), otlp_endpoint)?;
    install(
        service_name,
        log_filter,
        builder,
        std::io::stdout,
        format,
        terminal,
    )
}

/// Like [`init`] for an operator's command, whose standard output is its result: the
/// logs go to standard error (JSON unless that is a terminal).
pub fn init_for_command(
    service_name: &str,
    log_filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, PlatformError> {
    let terminal = std::io::stderr().is_terminal();
    let format = LogFormat::choose(terminal)?;
    let builder = with_otlp(SdkTracerProvider::builder(), otlp_endpoint)?;
    install(
        service_name,
        log_filter,
        builder,
        std::io::stderr,
        format,
        terminal,
    )
}

/// Like [`init`], with a caller's exporter and log writer besides the OTLP export (tests
/// capture all three); the logs are always JSON.
pub fn init_with<E, W>(
    service_name: &str,
    log_filter: &str,
    exporter: E,
    writer: W,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, PlatformError>
where
    E: SpanExporter + 'static,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = with_otlp(
        SdkTracerProvider::builder().with_simple_exporter(exporter),
        otlp_endpoint,
    )?;
    install(
        service_name,
        log_filter,
        builder,
        writer,
        LogFormat::Json,
        false,
    )
}

fn with_otlp(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    otlp_endpoint: Option<&str>,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, PlatformError> {
    let Some(endpoint) = otlp_endpoint else {
        return Ok(builder);
    };
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| PlatformError::Telemetry(e.to_string()))?;
    Ok(builder.with_batch_exporter(exporter))
}

fn install<W>(
    service_name: &str,
    log_filter: &str,
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    writer: W,
    format: LogFormat,
    colours: bool,
) -> Result<Telemetry, PlatformError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let provider = builder
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build();
    let tracer = provider.tracer("inburgering");
    global::set_text_map_propagator(TraceContextPropagator::new());
    global::set_tracer_provider(provider.clone());
    let filter = EnvFilter::try_new(log_filter)
        .map_err(|e| PlatformError::Telemetry(format!("log filter {log_filter:?}: {e}")))?;
    // One of the two layers is present: they differ in type, so each is an Option.
    let (json, text) = match format {
        LogFormat::Json => (
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(colours)
                    .with_writer(writer),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(text)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()
        .map_err(|e| PlatformError::Telemetry(e.to_string()))?;
    Ok(Telemetry { provider })
}

/// The W3C `traceparent` of the current span, if it is sampled into a trace.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the trace named by `traceparent` (from Kafka headers or an
/// outbox row); a missing or malformed one leaves `span` where it is.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else { return };
    let carrier = HashMap::from([("traceparent".to_owned(), tp.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(cx);
}

/// The trace context in HTTP/2 (gRPC) request headers.
pub fn extract_http(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderCarrier(headers))
}

/// Writes the current trace context into gRPC request metadata (for outgoing calls).
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataCarrier(metadata));
}

struct HeaderCarrier<'a>(&'a http::HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataCarrier<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(k, v);
        }
    }
}
