//! The mistakes the checker recognises, and the hint for each.
//!
//! A hint says what the symptom means and where to act, for code written with the OpenTelemetry
//! API (as the steps are) and, where it differs, with `tracing`. It never pastes the solution:
//! `./run.sh diff NN` is there for that.

use receiver::SpanKind;

use crate::run::Protocol;

/// What went wrong, as far as the checker can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// The app itself does not answer as it should: not a telemetry problem.
    AppBroken,
    /// It did not stop promptly, or not with status 0, after SIGTERM.
    StopsBadly,
    /// Step 01: nothing printed.
    NothingPrinted { installed: bool },
    /// Spans printed on stdout instead of exported: still step 01's exporter.
    StillOnStdout,
    /// Nothing exported, and no provider is installed in the code.
    NoProvider,
    /// Nothing exported, though a provider is installed: it stopped before the requests came.
    ProviderStoppedEarly,
    /// The exporter sent its spans somewhere else than `OTEL_EXPORTER_OTLP_ENDPOINT`.
    WrongEndpoint { destination: Option<String> },
    /// Requests arrived at the port of the other transport.
    TransportMixup { sent: Protocol, port_of: Protocol },
    /// OTLP/HTTP with JSON, where protobuf was asked.
    JsonInsteadOfProtobuf,
    /// Spans there, but not of kind Server.
    NotServerKind,
    /// Not one server span per request.
    SpanPerRequest,
    /// Server spans named something unhelpful.
    SpanNames,
    /// Spans arrive only when the app stops.
    SpansLate,
    /// The last spans never arrive: no shutdown.
    NoShutdown,
    /// The last spans never arrive: `let _ = init_traces()` dropped the provider's handle.
    DroppedEarly,
    /// `service.name` is not `fib`.
    ServiceName { found: Option<String> },
    /// Over gRPC, nothing arrived.
    GrpcNothing,
    /// Sub-requests carry no `traceparent`.
    NoInjection,
    /// `traceparent` is sent but the server does not continue the trace.
    NoExtraction,
    /// No client spans around the sub-requests.
    NoClientSpans,
    /// `traceparent` carries the server span's id, not the client span's.
    InjectsServerContext,
    /// Parent links do not go server → client → server.
    BadParentLinks,
    /// Attributes missing on spans of a kind.
    MissingAttributes { kind: SpanKind, names: Vec<String> },
    /// No span of the app's own with `fib.index`.
    NoOwnSpan,
    /// `fib.result` wrong or missing.
    WrongFibResult,
    /// No span event.
    NoEvent,
    /// The bad request's error is not recorded.
    ErrorNotRecorded { status: bool, exception: bool },
    /// A failed sub-request is not recorded on the client and server spans.
    FailureNotRecorded,
    /// The hosted backend's header is missing.
    MissingHostedHeader { protocol: Protocol },
    /// `OTEL_EXPORTER_OTLP_HEADERS` no longer arrive.
    EnvHeadersLost,
    /// The API key was printed.
    SecretPrinted,
    /// Step 06: no trace of the first `/fib?index=10` arrived.
    NoColdTrace,
    /// Step 06: the first `/fib?index=10` still asks for numbers again and again.
    StillExponential { spans: usize },
    /// Step 06: the P99 still grows with the index as the request count does.
    LatencyGrowsExponentially,
    /// Step 07: no metric arrived.
    NoMetrics,
    /// Step 07: no `http.server.request.duration` among the metrics that arrived.
    NoDurationMetric { found: Vec<String> },
    /// Step 07: `http.server.request.duration` is not a histogram in seconds.
    DurationShape,
    /// Step 07: the duration histogram did not count each request once.
    DurationCount { counted: u64, expected: u64 },
    /// Step 07: the duration's points lack attributes of the conventions.
    MetricAttributes { names: Vec<String> },
    /// Step 07: `fib.calls` missing, not a counter, or without `fib.index`.
    FibCalls { found: Option<String> },
    /// Step 07: no log record arrived.
    NoLogs,
    /// Step 07: log records arrived, none written during a request.
    LogsOutsideRequests,
    /// Step 07: records written during a request lack its trace context, or name unknown spans.
    LogsWithoutTraceContext { without: usize, unknown: usize },
    /// Step 07: no warning for the bad index, or not in its request's trace.
    NoWarning { in_other_trace: bool },
    /// Step 07: the libraries' own events became log records.
    LogsOfLibraries { targets: Vec<String> },
    /// Step 07: metrics or logs under another `service.name` than the spans.
    SignalsResource { found: Option<String> },
    /// Step 08: the share of new traces kept is far from `OTEL_TRACES_SAMPLER_ARG`'s.
    SampledShare { kept: usize, of: usize },
    /// Step 08: kept traces lack some of their spans.
    PartialTraces { partial: usize, of: usize },
    /// Step 08: the caller's decision (the sampled flag of `traceparent`) is not followed.
    CallerDecisionIgnored {
        kept_sampled: usize,
        kept_unsampled: usize,
    },
    /// Step 08: kept spans lack `SampleRate`, or it is not the integer round(1 / ratio).
    NoSampleRate { found: Option<String> },
    /// Step 08: the Collector's tail sampling (`collector/sampling.yaml`) is not right yet.
    TailSampling { problems: Vec<String> },
}

impl Mistake {
    /// The hint: what it means and what to do, in a few lines.
    pub fn hint(&self) -> String {
        match self {
            Mistake::AppBroken => "The app itself does not answer as before: this is not about telemetry yet. \
                Run its own tests (`./run.sh test -p <the step's package>`) and read the error it printed above."
                .into(),
            Mistake::StopsBadly => "After SIGTERM the app must finish its requests, flush its spans and exit with \
                status 0 within a few seconds. A shutdown that hangs is often the exporter's `shutdown()` called \
                from async code: run it with `tokio::task::spawn_blocking`, as `telemetry::shutdown` does."
                .into(),
            Mistake::NothingPrinted { installed: false } => "No span was printed, and no tracer provider is installed. \
                Build one with the stdout exporter (`SdkTracerProvider::builder().with_simple_exporter(…)`) and \
                install it with `global::set_tracer_provider`; until then `global::tracer` makes spans that go nowhere."
                .into(),
            Mistake::NothingPrinted { installed: true } => "No span was printed. A provider is installed: is a span \
                started for every request (the middleware in server.rs) and ended when the response is ready?"
                .into(),
            Mistake::StillOnStdout => "Your spans are printed, not sent: the provider still has step 01's \
                stdout exporter. Give it an OTLP exporter instead (`opentelemetry_otlp::SpanExporter::builder()`), \
                in a batch processor (`BatchSpanProcessor::builder(exporter)`)."
                .into(),
            Mistake::NoProvider => "Nothing was exported: no tracer provider is installed, so `global::tracer` hands \
                out tracers that record nothing. Install yours in `init_traces` with \
                `global::set_tracer_provider(provider.clone())` (with tracing: give the provider's tracer to \
                `tracing_opentelemetry::layer().with_tracer(…)` in the subscriber)."
                .into(),
            Mistake::ProviderStoppedEarly => "Nothing was exported, though your code installs a provider. It stopped \
                before the requests came: is `shutdown` called before the server has stopped, or is the provider \
                built in a scope that ends early? `main` must keep it until the server stops, then shut it down."
                .into(),
            Mistake::WrongEndpoint { destination } => format!(
                "Nothing reached the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT{}. Your code names an endpoint of its \
                 own (`with_endpoint`): remove it, and the exporter reads the variable, as a Collector, the \
                 explorer or a hosted backend need.",
                destination
                    .as_ref()
                    .map(|d| format!(": your app sent to {d} instead"))
                    .unwrap_or_default()
            ),
            Mistake::TransportMixup { sent, port_of } => format!(
                "{} arrived at the {} port. A Collector takes gRPC on 4317 and HTTP on 4318; the exporter must \
                 match OTEL_EXPORTER_OTLP_PROTOCOL. Build it from the variable (`otelkit::otlp_protocol()`: \
                 `.with_tonic()` for grpc, `.with_http()` otherwise) instead of always using {}.",
                name(*sent),
                name(*port_of),
                name(*sent)
            ),
            Mistake::JsonInsteadOfProtobuf => "Spans arrived as OTLP/JSON, though OTEL_EXPORTER_OTLP_PROTOCOL said \
                http/protobuf. With opentelemetry-otlp's `http-json` feature on, JSON becomes the default: pass the \
                protocol explicitly (`.with_protocol(otelkit::otlp_protocol()?)`)."
                .into(),
            Mistake::NotServerKind => "Spans arrived, but none is a server span. Mark the request's span as one: \
                `.with_kind(SpanKind::Server)` on the span builder (with tracing: the field `otel.kind = \"server\"`)."
                .into(),
            Mistake::SpanPerRequest => "Each request the app serves, the 15 of /fib?index=5 and the bad one, needs \
                its own server span, started where every request passes (the middleware `trace_request`) and \
                ended once, when the response is ready."
                .into(),
            Mistake::SpanNames => "Name a server span after its route, `GET /fib`, not after the URL with its \
                index: names group spans, and a name per index makes thousands of groups. (With tracing: \
                `otel.name = \"GET /fib\"`.)"
                .into(),
            Mistake::SpansLate => "Spans arrived only when the app stopped. A batch processor sends every few \
                seconds; yours waited longer than the checker's OTEL_BSP_SCHEDULE_DELAY. Use \
                `otelkit::batch_config()` (or `BatchConfigBuilder::default()`, which reads the variable) instead \
                of a fixed delay."
                .into(),
            Mistake::NoShutdown => "The spans of the last request never arrived: the app exits with them still \
                in the batch. After the server stops, shut the provider down (`telemetry::shutdown(tracer_provider)`, \
                which calls `provider.shutdown()`): that sends what is left."
                .into(),
            Mistake::DroppedEarly => "The spans of the last request never arrived, and `main` throws the provider \
                away at once (`let _ = …init_traces()` or the call alone): there is then nothing to shut down at \
                the end, so the last batch is lost. Keep it, `let tracer_provider = telemetry::init_traces()?;`, \
                and shut it down after the server stops."
                .into(),
            Mistake::ServiceName { found } => match found.as_deref() {
                Some(name) if name.starts_with("unknown_service") => format!(
                    "The spans are named {name:?}: the SDK's name when none is given. Give the provider a \
                     resource with `service.name` = \"fib\" (`Resource::builder().with_service_name(\"fib\")`), \
                     keeping OTEL_SERVICE_NAME's value when it is set."
                ),
                found => format!(
                    "service.name is {found:?}; the workshop's backends and puzzles look for \"fib\" (unless \
                     OTEL_SERVICE_NAME says otherwise). Set it on the provider's resource."
                ),
            },
            Mistake::GrpcNothing => "With OTEL_EXPORTER_OTLP_PROTOCOL=grpc, nothing arrived. Build the exporter \
                for the protocol the variable names: `.with_tonic()` for grpc (port 4317), `.with_http()` for \
                http/protobuf (port 4318); `otelkit::otlp_protocol()` reads it."
                .into(),
            Mistake::NoInjection => "The app's sub-requests carry no `traceparent` header, so each one starts a \
                new trace. Set the W3C propagator once (`global::set_text_map_propagator(TraceContextPropagator::new())`) \
                and write the client span's context into each outgoing request's headers \
                (`propagator.inject_context(&cx, &mut HeaderInjector(&mut headers))`)."
                .into(),
            Mistake::NoExtraction => "The sub-requests carry `traceparent`, but the server starts a new trace \
                anyway. Read the header where the request comes in (`propagator.extract(&HeaderExtractor(headers))`) \
                and start the server span with that context as its parent (`start_with_context`; with tracing: \
                `span.set_parent(cx)` before the span is entered)."
                .into(),
            Mistake::NoClientSpans => "There is one trace per request, but no client spans: make a span of kind \
                Client around each sub-request (`SpanKind::Client`, named `GET`), and inject *its* context, so that \
                the server span it calls sits under it."
                .into(),
            Mistake::InjectsServerContext => "The `traceparent` of each sub-request names the server span, not the \
                client span around the sub-request. Inject the context that holds the client span \
                (`Context::current_with_span(client_span)`)."
                .into(),
            Mistake::BadParentLinks => "In one trace, parents must go server → client → server: each client span \
                is a child of the server span that makes the sub-request, and the server span that answers it is a \
                child of that client span."
                .into(),
            Mistake::MissingAttributes { kind, names } => format!(
                "{} spans lack {}. The names are the HTTP semantic conventions' \
                 (`opentelemetry_semantic_conventions::attribute::*`); status codes are integers.",
                kind_name(*kind),
                names.join(", ")
            ),
            Mistake::NoOwnSpan => "Make a span of your own (kind Internal, e.g. `fib`) inside each /fib request, \
                with the index as an integer attribute `fib.index`."
                .into(),
            Mistake::WrongFibResult => "Your own span needs `fib.result`, F(index), as an integer, set once the \
                result is known."
                .into(),
            Mistake::NoEvent => "Add an event to a span: something that happened at one moment, with attributes of \
                its own, e.g. `span.add_event(\"sum\", vec![KeyValue::new(\"fib.left\", a), …])`."
                .into(),
            Mistake::ErrorNotRecorded { status, exception } => {
                let mut missing = Vec::new();
                if !status {
                    missing.push("its status set to Error (`span.set_status(Status::error(…))`)");
                }
                if !exception {
                    missing.push("an `exception` event (`span.record_error(&err)`)");
                }
                format!(
                    "A request for /fib?index=abc fails with 400: a span of its trace must say so, with {}.",
                    missing.join(" and ")
                )
            }
            Mistake::FailureNotRecorded => "When a sub-request fails (its upstream is down), its client span needs \
                status Error and an `exception` event, and the server span answered 502 needs status Error and \
                `http.response.status_code` = 502."
                .into(),
            Mistake::MissingHostedHeader { protocol } => format!(
                "Exports over {} lack the header `x-honeycomb-team` with HONEYCOMB_API_KEY's value. Add it when the \
                 key is set: `.with_headers(…)` for HTTP, `.with_metadata(…)` for gRPC.",
                name(*protocol)
            ),
            Mistake::EnvHeadersLost => "The headers of OTEL_EXPORTER_OTLP_HEADERS no longer arrive: your own headers \
                replaced them. Add the key's header to those of the variable instead of replacing them."
                .into(),
            Mistake::SecretPrinted => "The API key was printed. A secret never goes to the terminal or a log: print \
                that a key is set, not its value."
                .into(),
            Mistake::NoColdTrace => "No trace of /fib?index=10 arrived, so its spans cannot be counted. Its root \
                server span needs `url.query` (step 04), and the app must flush when it stops (step 02)."
                .into(),
            Mistake::StillExponential { spans } => format!(
                "A first /fib?index=10 made {spans} spans: the same numbers are still asked for again and again. \
                 Keep each F(n) once it is known, in the state every request shares; look it up before any \
                 request; and ask for F(N-1) before F(N-2), not both at once: by then F(N-2) is known."
            ),
            Mistake::LatencyGrowsExponentially => "The P99 still grows with the index as fast as the number of \
                requests does. Once a number is known, asking for it again should cost no request at all: look \
                it up before making one."
                .into(),
            Mistake::NoMetrics => "No metric arrived. Build a meter provider (`SdkMeterProvider::builder()`) \
                with the same resource as the tracer provider and a `PeriodicReader` around an OTLP \
                `MetricExporter`; install it (`global::set_meter_provider`) before the instruments are made; and \
                shut it down with the others when the server stops: the reader sends every few seconds, and \
                once more at shutdown, which is when a short run like the checker's gets its metrics."
                .into(),
            Mistake::NoDurationMetric { found } => format!(
                "Metrics arrived ({}), but not `http.server.request.duration`. Make it once, from a meter \
                 (`global::meter(\"fib\")`), with the conventions' name \
                 (`opentelemetry_semantic_conventions::metric::HTTP_SERVER_REQUEST_DURATION`), and record each \
                 request's duration in the middleware `trace_request`, where every request passes.",
                found.join(", ")
            ),
            Mistake::DurationShape => "`http.server.request.duration` must be a histogram of seconds: \
                `meter.f64_histogram(…).with_unit(\"s\")`, recorded with `elapsed().as_secs_f64()`. Seconds, \
                not milliseconds, so that every backend reads it alike; the conventions' bucket boundaries \
                (`.with_boundaries(…)`, 0.005 to 10) fit seconds."
                .into(),
            Mistake::DurationCount { counted, expected } => format!(
                "`http.server.request.duration` counted {counted} requests where the app served {expected}. \
                 Record once per request, in `trace_request` after the response is ready: not in the handler \
                 (the bad index counts too), and not twice."
            ),
            Mistake::MetricAttributes { names } => format!(
                "The points of `http.server.request.duration` lack {}. Describe each duration with the \
                 request's method, its route (`MatchedPath`, not the path with its query: every distinct set of \
                 attributes is a series of its own) and the response's status code as an integer.",
                names.join(", ")
            ),
            Mistake::FibCalls { found: None } => "No `fib.calls` arrived. Make a counter once \
                (`meter.u64_counter(\"fib.calls\")`, unit `{call}`) and add 1 for each /fib computation, with \
                the index as the attribute `fib.index` (an integer)."
                .into(),
            Mistake::FibCalls { found: Some(kind) } => format!(
                "`fib.calls` arrived as {kind}, or without `fib.index` on every point. A count that only grows \
                 is a counter (`u64_counter`, a monotonic sum); `add(1, &[KeyValue::new(\"fib.index\", …)])`."
            ),
            Mistake::NoLogs => "No log record arrived. Build a logger provider (`SdkLoggerProvider::builder()`, \
                the same resource, a `BatchLogProcessor` around an OTLP `LogExporter`); install a `tracing` \
                subscriber whose layer is `OpenTelemetryTracingBridge::new(&provider)`; write events with \
                `tracing::info!`/`warn!`/`error!`; and shut the provider down with the others."
                .into(),
            Mistake::LogsOutsideRequests => "Log records arrived, but none was written while a request was \
                served. Write the events where the work happens: in the /fib handler, when a number is computed \
                or an index refused."
                .into(),
            Mistake::LogsWithoutTraceContext { without, unknown } => format!(
                "{without} log record(s) written during a request carry no trace id, and {unknown} name a span \
                 that never arrived. The SDK's logger stamps each record with the span of the current context \
                 (`Context::current()`): write the event inside the request's context (the code that \
                 `.with_context(cx)` runs), not in a task of its own, and make sure the spans themselves are sent."
            ),
            Mistake::NoWarning {
                in_other_trace: false,
            } => "No log record of severity WARN or above arrived. When /fib refuses a bad index (400), say so \
                with `tracing::warn!`, and with `error!` when a sub-request fails (502)."
                .into(),
            Mistake::NoWarning {
                in_other_trace: true,
            } => "Warnings arrived, but none in the trace of the request that was refused. Write the warning \
                where that request's context is current, in the handler that answers 400, so that the record \
                carries its trace id."
                .into(),
            Mistake::LogsOfLibraries { targets } => format!(
                "Log records came from {}: the libraries that carry the telemetry log too, and some of their \
                 events are about sending it. Filter the bridge's layer to the app's own events \
                 (`.with_filter(Targets::new().with_target(\"<your crate>\", Level::INFO))`).",
                targets.join(", ")
            ),
            Mistake::SignalsResource { found } => format!(
                "Metrics or log records arrived as service.name {found:?}, not \"fib\" like the spans. Give the \
                 meter and logger providers the same resource as the tracer provider (`.with_resource(resource())`): \
                 one app, one resource."
            ),
            Mistake::SampledShare { kept, of } if kept == of => format!(
                "All {of} new traces were kept, with OTEL_TRACES_SAMPLER=parentbased_traceidratio and \
                 OTEL_TRACES_SAMPLER_ARG=0.25. `.with_sampler(…)` replaces the sampler the SDK read from the \
                 environment: give your wrapper the one `otelkit::head_sampler()` returns, not one of your own."
            ),
            Mistake::SampledShare { kept, of } => format!(
                "{kept} of {of} new traces were kept, far from a quarter. Let the sampler that \
                 `otelkit::head_sampler()` returns decide, with the ratio OTEL_TRACES_SAMPLER_ARG gives, and keep \
                 its decision as it is: `RecordAndSample` exports a span, `RecordOnly` records it and exports \
                 nothing, `Drop` drops it."
            ),
            Mistake::PartialTraces { partial, of } => format!(
                "{partial} of {of} kept traces lack spans. The decision must be the same for every span of a \
                 trace: a span is kept when its parent was, and dropped when it was not. A parent-based sampler \
                 (`parentbased_traceidratio`) does that, across processes too, from the flag at the end of \
                 `traceparent`; a decision of your own per span (a random number) splits traces. Pass \
                 `parent_context` on to the inner sampler unchanged."
            ),
            Mistake::CallerDecisionIgnored {
                kept_sampled,
                kept_unsampled,
            } => format!(
                "A caller that sends `traceparent: …-01` has kept the trace, and `…-00` has dropped it: a \
                 parent-based sampler does the same, whatever the ratio. Here {kept_sampled} of the sampled and \
                 {kept_unsampled} of the unsampled callers' traces were kept. `traceidratio` alone decides by the \
                 trace id and ignores the caller: use `parentbased_traceidratio`, and give the inner sampler the \
                 `parent_context` your wrapper receives."
            ),
            Mistake::NoSampleRate { found: None } => "Kept spans carry no `SampleRate`, so a backend counts each \
                kept trace once where it stands for four. Wrap the sampler in one of your own (`impl ShouldSample`): \
                ask the inner sampler with the same arguments, and when its decision is `RecordAndSample`, add \
                `SampleRate` = round(1 / ratio) to the result's attributes, as an integer. Install the wrapper with \
                `.with_sampler(…)`."
                .into(),
            Mistake::NoSampleRate { found: Some(found) } => format!(
                "`SampleRate` must be the integer round(1 / ratio), 4 for a ratio of 0.25; found {found}. A backend \
                 multiplies counts by it: an `i64` (`KeyValue::new(\"SampleRate\", 4_i64)`), not a string or a \
                 double, computed from the ratio `otelkit::head_sampler()` returns."
            ),
            Mistake::TailSampling { problems } => format!(
                "Tail sampling lives in collector/sampling.yaml: a `tail_sampling` processor in the traces \
                 pipeline, between `memory_limiter` and `batch`, whose policies keep every error (`status_code`), \
                 every slow trace (`latency`) and a share of the rest (`probabilistic`). First to fix: {}",
                problems.first().map_or("", String::as_str)
            ),
        }
    }
}

fn name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::HttpProtobuf => "OTLP/HTTP",
        Protocol::Grpc => "OTLP/gRPC",
    }
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "Server",
        SpanKind::Client => "Client",
        _ => "Some",
    }
}
