//! Exporting spans over OTLP/HTTP (protobuf) to a collector (the OpenTelemetry Collector,
//! Jaeger, Tempo, ...), in batches, from a thread of the OpenTelemetry SDK: a request never
//! waits for the collector, and when the collector is down or slow the batch is dropped, never
//! a request. Start-up does not contact the collector.

use super::redact::Redact;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
use std::sync::OnceLock;
use std::time::Duration;
use tracing_subscriber::Registry;

/// How long one export may take before its batch is dropped.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The layer that turns a server's spans into OpenTelemetry spans.
pub(super) type ExportLayer =
    tracing_opentelemetry::OpenTelemetryLayer<Registry, opentelemetry_sdk::trace::SdkTracer>;

/// Where and what to export (`trm serve --otlp-*`).
#[derive(Debug, Clone)]
pub struct TracingOptions {
    /// The collector's OTLP/HTTP base URL (`http://127.0.0.1:4318`): spans go to
    /// `<endpoint>/v1/traces`.
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// The share of requests traced (0 to 1); a request's stages follow its decision.
    pub sample_ratio: f64,
}

/// Why export could not be set up (a configuration error: the collector is not contacted).
#[derive(Debug, thiserror::Error)]
pub enum TracingError {
    #[error("--otlp-endpoint must be an http:// or https:// URL, not `{0}`")]
    Endpoint(String),
    #[error("--otlp-sample-ratio must be between 0 and 1, not {0}")]
    SampleRatio(f64),
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
}

/// Span export: off, or a tracer provider sending to a collector. Cheap to clone; clones share
/// the provider. The last clone dropped flushes what is queued (at most a few seconds).
#[derive(Clone, Debug, Default)]
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

impl Tracing {
    /// No export: spans stay disabled.
    pub fn off() -> Tracing {
        Tracing::default()
    }

    /// Export as `options` say. Checks the settings only; nothing is sent until spans end.
    pub fn start(options: &TracingOptions) -> Result<Tracing, TracingError> {
        let endpoint = options.endpoint.trim().trim_end_matches('/');
        let valid_url = (endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            && endpoint.parse::<axum::http::Uri>().is_ok();
        if !valid_url {
            return Err(TracingError::Endpoint(options.endpoint.clone()));
        }
        if !(0.0..=1.0).contains(&options.sample_ratio) {
            return Err(TracingError::SampleRatio(options.sample_ratio));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(Client::default())
            .with_endpoint(format!("{endpoint}/v1/traces"))
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| TracingError::Exporter(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_span_processor(Redact {
                next: BatchSpanProcessor::builder(exporter).build(),
            })
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                options.sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(options.service_name.clone())
                    .build(),
            )
            .build();
        Ok(Tracing {
            provider: Some(provider),
        })
    }

    /// Whether spans are exported.
    pub fn is_on(&self) -> bool {
        self.provider.is_some()
    }

    /// The layer that turns `tracing` spans into OpenTelemetry spans for this provider. It does
    /// not make them the current OpenTelemetry context while entered: nothing here reads that
    /// context, and sqlx's SQLite worker enters spans on its own thread, where an activated
    /// context kept the stage spans from ever ending.
    pub(super) fn layer(
        &self,
    ) -> Option<
        tracing_opentelemetry::OpenTelemetryLayer<Registry, opentelemetry_sdk::trace::SdkTracer>,
    > {
        let tracer = self.provider.as_ref()?.tracer("trm");
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_level(false)
                .with_tracked_inactivity(false)
                .with_context_activation(false),
        )
    }

    /// Sends what is queued now (waits for the collector, on a blocking thread).
    pub async fn flush(&self) {
        if let Some(provider) = self.provider.clone() {
            let _ = tokio::task::spawn_blocking(move || provider.force_flush()).await;
        }
    }

    /// Sends what is queued and stops exporting (on a blocking thread, at most a few seconds).
    pub async fn shutdown(&self) {
        if let Some(provider) = self.provider.clone() {
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// The exporter's HTTP client: the service's `reqwest` (rustls), on a runtime of its own,
/// created on the SDK's export thread at the first export, so that export depends neither on the
/// server's runtime nor on the collector being up when the service starts.
#[derive(Debug, Default)]
struct Client {
    inner: OnceLock<Option<(tokio::runtime::Runtime, reqwest::Client)>>,
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let inner = self.inner.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let client = reqwest::Client::builder()
                .timeout(EXPORT_TIMEOUT)
                .build()
                .ok()?;
            Some((runtime, client))
        });
        let Some((runtime, client)) = inner else {
            return Err("the OTLP client could not be set up".into());
        };
        let request = reqwest::Request::try_from(request)?;
        runtime.block_on(async {
            let response = client.execute(request).await?;
            let mut answer = Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok(answer.body(body)?)
        })
    }
}
