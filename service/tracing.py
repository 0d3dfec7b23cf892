"""OpenTelemetry traces: one trace per hook call, joined to the EHR's and the FHIR server's.

Off by default (no cost on the hot path). On when a standard ``OTEL_*`` variable asks for
an exporter: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
(OTLP over HTTP, configured by the exporter's own ``OTEL_EXPORTER_OTLP_*`` variables), or
``OTEL_TRACES_EXPORTER=otlp|console``; ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none`` keeps it off. ``OTEL_SERVICE_NAME`` names the service
(default ``backpain-cds``).

When on:

- the W3C ``traceparent`` of the EHR's call is accepted (Flask instrumentation), so our
  spans join the EHR's trace; only W3C trace context is propagated (not baggage, unless
  ``OTEL_PROPAGATORS`` says otherwise);
- each hook call has child spans ``parse``, ``trust``, ``prefetch``, ``record``, ``rules``
  and ``cards``; SQLAlchemy statements (no bound values) and FHIR requests are spans too;
- FHIR fetches carry ``traceparent`` to the EHR's FHIR server (httpx instrumentation; the
  fetcher's worker threads inherit the context). A FHIR span records the server and the
  resource type only, never the query or an id: search URLs name the patient.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, has_app_context

EXTENSION_KEY = "tracer"
SPAN_PREFIX = "backpain-cds "
_EXCLUDED_URLS = "healthz,readyz,metrics"


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Do the standard OTEL_* variables ask for traces?"""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def init_app(app: Flask, tracer_provider: Any = None) -> None:
    """Instrument ``app`` when tracing is on (or a ``tracer_provider`` is given: tests).
    Call after the trust layer, the store and the fetcher are registered."""
    if tracer_provider is None:
        if not enabled():
            return
        tracer_provider = _provider_from_environment()
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor

    _use_trace_context_only()
    state = app.extensions["backpain"]
    global _any_app_traces
    _any_app_traces = True
    state[EXTENSION_KEY] = tracer_provider.get_tracer("backpain-cds")
    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider,
                                     excluded_urls=_EXCLUDED_URLS, enable_commenter=False)
    if not ThreadingInstrumentor().is_instrumented_by_opentelemetry:
        ThreadingInstrumentor().instrument()  # the fetcher's pool threads keep the trace
    store = state.get("store")
    if store is not None:
        # skip_dep_check: the instrumentor declares sqlalchemy < 2.1 but works with the
        # 2.1 engine events it uses (tests/test_tracing.py sees the statements' spans)
        SQLAlchemyInstrumentor().instrument(engine=store.engine, tracer_provider=tracer_provider,
                                            enable_commenter=False, skip_dep_check=True)
    client = getattr(state.get("fetcher"), "_client", None)
    if client is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider,
                                                  request_hook=_scrub_fhir_span)
    _trace_trust(app, state.get("trust"))


# Whether any app of this process traces (tracing is set per app, by init_app). None does
# (the default, tracing off): a span is the one shared null context, without looking up
# the app or its extensions (five spans a call).
_any_app_traces = False
_NO_SPAN: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()


def span(name: str) -> contextlib.AbstractContextManager[Any]:
    """A child span of the current request's, or nothing when tracing is off."""
    if not _any_app_traces:
        return _NO_SPAN
    tracer = current_app.extensions["backpain"].get(EXTENSION_KEY) if has_app_context() \
        else None
    if tracer is None:
        return _NO_SPAN
    return tracer.start_as_current_span(SPAN_PREFIX + name)  # type: ignore[no-any-return]


def _provider_from_environment() -> Any:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    from service.metrics import _version

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME",
                                                               "backpain-cds"),
                                "service.version": _version()})
    provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def _use_trace_context_only() -> None:
    """W3C traceparent/tracestate only: an EHR's baggage is not forwarded to FHIR servers."""
    if os.environ.get("OTEL_PROPAGATORS"):
        return  # the operator chose
    from opentelemetry.propagate import set_global_textmap
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    set_global_textmap(TraceContextTextMapPropagator())


def _scrub_fhir_span(span_: Any, request: Any) -> None:
    """A FHIR request's span keeps the server and the resource type, not the query or an
    id (a search URL names the patient)."""
    url = getattr(request, "url", None)
    if url is None or not span_.is_recording():
        return
    path = getattr(url, "path", None)
    if isinstance(url, tuple):  # httpx transport-level request info: (scheme, host, port, target)
        return
    resource_type = next((part for part in str(path or "").split("/")
                          if part[:1].isupper()), "")
    scrubbed = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}/…/{resource_type}"
    for key in ("url.full", "http.url"):
        span_.set_attribute(key, scrubbed)


def _trace_trust(app: Flask, trust: Any) -> None:
    """Run the trust layer's ``before_request`` inside a ``trust`` span, after the Flask
    instrumentation's (which starts the request's span). It is registered by
    :mod:`service.trust`; wrapped and moved here so that module need not know about
    tracing. Nothing registered after it depends on it having run first."""
    if trust is None:
        return
    functions = app.before_request_funcs.get(None, [])
    for function in list(functions):
        if getattr(function, "__self__", None) is trust:
            functions.remove(function)
            functions.append(_in_span("trust", function))


def _in_span(name: str, function: Callable[[], Any]) -> Callable[[], Any]:
    def traced() -> Any:
        with span(name):
            return function()

    return traced

