"""A third-party OTLP client for the explorer's tests: the OpenTelemetry Python SDK.

    python otlp_client.py --protocol grpc|http/protobuf|http/json
                          --endpoint URL --run-id ID --spans N

Sends one trace of N spans through a BatchSpanProcessor: a root SERVER span "checkout" with
run.id=ID and http.request.method=GET, and N-1 INTERNAL children "step" with an int step.index,
the last of which fails (ERROR status and an exception event). Then flushes and shuts down.
The resource has service.name=python-client and run.id=ID too, so that a filter on run.id
selects every span of the run, not only the root (a WHERE applies to each span, and a span's
attributes are looked up in its resource as well).

Prints one line of JSON, {"trace_id": ..., "root_span_id": ..., "spans": N}, the ids as the SDK
made them, and exits 1 if any export failed or fewer than N spans were exported: the SDK's
BatchSpanProcessor.force_flush() returns True whatever the exporter answered, so the exporter is
wrapped to see its results. Run by services/explorer/tests/python_client.rs; the packages are in
requirements.txt next to this file.
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

PROTOCOLS = ("grpc", "http/protobuf", "http/json")
TIMEOUT_SECONDS = 10


class OtlpJsonSpanExporter(SpanExporter):
    """OTLP/HTTP with JSON bodies, which the Python SDK has no exporter for (only gRPC and
    HTTP/protobuf). The request is the SDK's own (`encode_spans`, the ExportTraceServiceRequest
    its protobuf exporters send); only the JSON mapping is ours. OTLP/JSON is proto3's JSON
    mapping (lowerCamelCase names, enums as integers, 64-bit integers as strings) except that
    trace and span ids are hex, not base64, per the OTLP specification's JSON rules.
    """

    def __init__(self, endpoint):
        self._url = endpoint.rstrip("/") + "/v1/traces"

    def export(self, spans):
        message = MessageToDict(
            encode_spans(spans),
            use_integers_for_enums=True,
            preserving_proto_field_name=False,
        )
        body = json.dumps(hex_ids(message)).encode()
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as err:  # a non-2xx answer
            detail = err.read().decode(errors="replace").strip()
            print(f"OTLP/JSON export refused: {err.code} {detail}", file=sys.stderr)
            return SpanExportResult.FAILURE
        except OSError as err:
            print(f"OTLP/JSON export failed: {err}", file=sys.stderr)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def hex_ids(value):
    """Rewrites every traceId, spanId and parentSpanId (spans' and links') from proto3 JSON's
    base64 to OTLP/JSON's hex. Attribute keys are values ({"key": ...}), never object keys, so
    no attribute can be caught by this walk."""
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex()
            if key in ID_FIELDS and isinstance(item, str)
            else hex_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [hex_ids(item) for item in value]
    return value


class Checked(SpanExporter):
    """Passes spans on and remembers what the exporter answered."""

    def __init__(self, inner):
        self.inner = inner
        self.exported = 0
        self.failures = []

    def export(self, spans):
        try:
            result = self.inner.export(spans)
        except Exception as err:  # the batch processor would only log it
            self.failures.append(f"{type(err).__name__}: {err}")
            return SpanExportResult.FAILURE
        if result == SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failures.append(f"{len(spans)} spans: {result}")
        return result

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)

    def shutdown(self):
        self.inner.shutdown()


def exporter_for(protocol, endpoint):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=TIMEOUT_SECONDS)
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=TIMEOUT_SECONDS
        )
    return OtlpJsonSpanExporter(endpoint)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=PROTOCOLS, required=True)
    parser.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4317")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--spans", type=int, required=True, help="2 or more")
    args = parser.parse_args()
    if args.spans < 2:
        parser.error("--spans: at least 2 (the root and the failing step)")

    exporter = Checked(exporter_for(args.protocol, args.endpoint))
    resource = Resource.create({"service.name": "python-client", "run.id": args.run_id})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("otlp_client.py", "1.0")

    with tracer.start_as_current_span(
        "checkout",
        kind=SpanKind.SERVER,
        attributes={"run.id": args.run_id, "http.request.method": "GET"},
    ) as root:
        context = root.get_span_context()
        steps = args.spans - 1
        for index in range(steps):
            with tracer.start_as_current_span(
                "step", kind=SpanKind.INTERNAL, attributes={"step.index": index}
            ) as step:
                if index == steps - 1:
                    try:
                        raise ValueError(f"step {index} failed on purpose")
                    except ValueError as err:
                        step.record_exception(err)
                        step.set_status(Status(StatusCode.ERROR, str(err)))

    flushed = provider.force_flush()
    provider.shutdown()

    print(
        json.dumps(
            {
                "trace_id": format(context.trace_id, "032x"),
                "root_span_id": format(context.span_id, "016x"),
                "spans": exporter.exported,
            }
        )
    )
    if not flushed or exporter.failures or exporter.exported != args.spans:
        print(
            f"export over {args.protocol} to {args.endpoint} failed: flushed={flushed}, "
            f"exported {exporter.exported} of {args.spans} spans, failures: {exporter.failures}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
