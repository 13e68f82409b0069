"""Prometheus metrics, in a registry of our own so nothing else's collectors leak in."""

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

REQUESTS = Counter(
    "photo_ai_sidecar_requests",
    "HTTP requests answered, by route and status code.",
    ["route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "photo_ai_sidecar_request_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TASK_SECONDS = Histogram(
    "photo_ai_sidecar_task_seconds",
    "Time from handing an image or text to a model until its result, queueing included.",
    ["task"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DECODE_SECONDS = Histogram(
    "photo_ai_sidecar_decode_seconds",
    "Time to read and decode one image.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "photo_ai_sidecar_batch_size",
    "Items per batched model call (requests coalesced into one call).",
    ["model"],
    buckets=_BATCH_BUCKETS,
    registry=REGISTRY,
)
ERRORS = Counter(
    "photo_ai_sidecar_errors",
    "Errors answered, by kind (bad_image, model_missing, ...).",
    ["kind"],
    registry=REGISTRY,
)
PIXELS_IN_FLIGHT = Gauge(
    "photo_ai_sidecar_pixels_in_flight",
    "Decoded pixels held by requests now (bounded by PHOTO_AI_MAX_PIXELS_IN_FLIGHT).",
    registry=REGISTRY,
)
PIXELS_WAITING = Gauge(
    "photo_ai_sidecar_requests_waiting_for_pixels",
    "Requests waiting for room under PHOTO_AI_MAX_PIXELS_IN_FLIGHT before decoding.",
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)
