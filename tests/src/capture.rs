//! Captures what the platform logs and traces in this test process, so tests can assert
//! on traces and search logs and spans for personal data.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use platform::telemetry::Telemetry;

/// Everything logged and every span finished in this process.
pub struct Capture {
    logs: Arc<Mutex<Vec<u8>>>,
    spans: InMemorySpanExporter,
    telemetry: Telemetry,
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("log buffer lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capture once per process (nextest runs each test in its own).
pub fn install() -> &'static Capture {
    install_exporting_to(None)
}

/// Installs the capture, also exporting every span over OTLP/gRPC to `otlp_endpoint`, as
/// a deployed service does. Call it before [`crate::spawn_app`].
pub fn install_exporting_to(otlp_endpoint: Option<&str>) -> &'static Capture {
    CAPTURE.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let spans = InMemorySpanExporter::default();
        let sink = logs.clone();
        let filter = std::env::var("INBURGERING_TEST_LOG").unwrap_or_else(|_| {
            "debug,h2=info,hyper=info,tower=info,sqlx=info,rdkafka=info".into()
        });
        let telemetry = platform::telemetry::init_with(
            "inburgering-test",
            &filter,
            spans.clone(),
            move || Sink(sink.clone()),
            otlp_endpoint,
        )
        .expect("telemetry installs once per process");
        Capture {
            logs,
            spans,
            telemetry,
        }
    })
}

impl Capture {
    /// Every log line so far (JSON, one object per line).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.logs.lock().expect("log buffer lock")).into_owned()
    }

    /// Exports what the OTLP exporter still buffers.
    pub fn flush(&self) {
        let _ = self.telemetry.provider().force_flush();
    }

    /// Every finished span so far.
    pub fn spans(&self) -> Vec<SpanData> {
        let _ = self.telemetry.provider().force_flush();
        self.spans
            .get_finished_spans()
            .expect("in-memory exporter reads")
    }
}
