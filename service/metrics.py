"""Prometheus metrics: one definition each, incremented by the module that knows the event.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does)
so that ``/metrics`` aggregates every worker.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "backpain_cds_requests_total", "HTTP requests by service, hook and status",
    ["service", "hook", "status"],
)
REQUEST_LATENCY = Histogram(
    "backpain_cds_request_seconds", "Request latency by service and hook",
    ["service", "hook"], buckets=LATENCY_BUCKETS,
)
CARDS = Counter("backpain_cds_cards_total", "Cards returned by topic and indicator",
                ["topic", "indicator"])
CARDS_SUPPRESSED = Counter("backpain_cds_cards_suppressed_total", "Cards hidden by a snooze",
                           ["topic"])
FHIR_FETCH_LATENCY = Histogram(
    "backpain_cds_fhir_fetch_seconds", "Latency of one FHIR query", ["resource_type"],
    buckets=LATENCY_BUCKETS,
)
FHIR_FETCH_FAILURES = Counter("backpain_cds_fhir_fetch_failures_total",
                              "FHIR fetches that failed, by reason", ["reason"])
JWT_REJECTIONS = Counter("backpain_cds_jwt_rejections_total", "Rejected JWTs by reason",
                         ["reason"])
DB_ERRORS = Counter("backpain_cds_db_errors_total", "Database errors by operation",
                    ["operation"])
RESOURCES_DROPPED = Counter("backpain_cds_resources_dropped_total",
                            "Resources not reasoned over, by reason", ["reason"])
CARDS_INVALID = Counter("backpain_cds_cards_invalid_total",
                        "Cards (or system actions) dropped for breaking a CDS Hooks response "
                        "rule: a bug, expected to stay at zero", ["topic"])
