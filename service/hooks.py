"""The CDS Hooks endpoints: discovery and service calls, and the pipeline of one call.

admit (a large body waits for one of the worker's slots: :mod:`service.admission`) →
parse (jsonbody) → validate (the service's request schema) → resolve prefetch (use, fetch
or 412) → :func:`cds_rules.evaluate` → drop snoozed cards (memory) → record what is sent
(memory) → ``{"cards": [...]}``. The cards are typed wire objects that checked the CDS
Hooks rules when the core built them (:mod:`cds_rules.wire`): nothing to re-check here.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Request, Response, current_app, g, request
from marshmallow import Schema, ValidationError

from cds_rules import (
    REQUIRED_KEYS,
    DataQuality,
    Evaluation,
    HookRequest,
    RuleSettings,
    build_record,
    evaluate_record,
    mended_text_gap,
    resources_from,
    to_json_bytes,
)
from cds_rules import Response as CdsResponse
from service import logs, metrics, tracing
from service.config import Settings
from service.errors import ServiceError
from service.jsonbody import json_bytes_response, json_response, read_json_body
from service.ports import HookCall, Memory
from service.prefetch import FhirAccess, ResolvedPrefetch, resolve_prefetch
from service.schemas.common import flatten_errors
from service.schemas.plain_load import PlainLoader, plain_loader
from service.services import SERVICES, CdsService, discovery_document

log = logging.getLogger(__name__)

bp = Blueprint("cds_hooks", __name__)


@bp.get("/cds-services")
def discovery() -> Response:
    return json_response(discovery_document())


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    service = SERVICES.get(service_id)
    if service is None:
        raise ServiceError(404, "No CDS service with this id. GET /cds-services lists them.")
    state = current_app.extensions["backpain"]
    current = request._get_current_object()  # type: ignore[attr-defined]  # one look-up
    with state["large_calls"].admit(current.content_length):  # service.admission
        return _call(service, state, current)


def _call(service: CdsService, state: dict[str, Any], current: Request) -> Response:
    """One hook call: parse, prefetch, evaluate, answer (the module docstring's pipeline)."""
    settings: Settings = state["settings"]
    with tracing.span("parse"):
        body = read_json_body(current, settings.max_body_bytes, settings.max_json_depth)
        call = load_call(service, body.value)
    # Correlate log lines with the call, and keep its patient id out of them.
    logs.bind(hook_instance=str(call["hookInstance"]), patient_id=call["context"]["patientId"])
    with tracing.span("prefetch"):
        resolved = resolve_prefetch(service.prefetch, REQUIRED_KEYS, call.get("prefetch", {}),
                                    call["context"], _fhir_access(call, state, settings))
    resolved = _with_mended_text(resolved, body.mended)
    now = state["clock"]()
    evaluation = evaluate(_hook_request(service, call["context"], resolved), now,
                          settings.rule_settings())
    _count_dropped_resources(evaluation.quality)
    hook_call = HookCall(
        service_id=service.id, hook=service.hook, hook_instance=str(call["hookInstance"]),
        patient_id=call["context"]["patientId"], client_iss=getattr(g, "client_iss", None),
        received_at=now, evaluation=evaluation, data_gaps=resolved.data_gaps,
        arrived=logs.request_started(),
    )
    with tracing.span("cards"):
        answer = _answer(hook_call, state.get("memory"))
    return json_bytes_response(to_json_bytes(answer))


def _with_mended_text(resolved: ResolvedPrefetch, mended_in_body: int) -> ResolvedPrefetch:
    """``resolved`` with one data gap for the text read with U+FFFD in place of broken
    UTF-16 escapes (in the body or a fetched page): every card says a word may be
    garbled, and the audit keeps it."""
    mended = mended_in_body + resolved.mended
    if not mended:
        return resolved
    return replace(resolved, data_gaps=(*resolved.data_gaps, mended_text_gap(mended)), mended=0)


def evaluate(hook_request: HookRequest, now: datetime, rules: RuleSettings) -> Evaluation:
    """:func:`cds_rules.evaluate` in its two steps, each its own span when tracing (same
    name and arguments, so tests can stand in for the core here)."""
    with tracing.span("record"):
        record = build_record(hook_request, now, rules)
    with tracing.span("rules"):
        return evaluate_record(record, hook_request.hook, rules, hook_request.selections,
                               hook_request.encounter_id)


def _fhir_access(call: dict[str, Any], state: dict[str, Any], settings: Settings) -> FhirAccess:
    """Where missing data may be read: the call's server and token, the registered FHIR
    client, and the bases the calling client is trusted for (set by the trust layer)."""
    return FhirAccess(
        fhir_server=call.get("fhirServer"),
        access_token=call.get("fhirAuthorization", {}).get("access_token"),
        fetcher=state.get("fetcher"),
        allowed_bases=tuple(getattr(g, "allowed_fhir_bases", ()))
        + settings.fhir_server_allowlist,
    )


def _hook_request(service: CdsService, context: dict[str, Any],
                  resolved: ResolvedPrefetch) -> HookRequest:
    return HookRequest(
        hook=service.hook,
        patient_id=context["patientId"],
        resources=resolved.resources,
        draft_orders=tuple(resources_from(context.get("draftOrders"))),
        selections=tuple(context.get("selections", ())),
        encounter_id=context.get("encounterId"),
        data_gaps=resolved.data_gaps,
    )


def _answer(hook_call: HookCall, memory: Memory | None) -> CdsResponse:
    """The response: the evaluation's cards minus those a snooze hides, each with the uuid
    the memory issued it under."""
    evaluation = hook_call.evaluation
    hidden = memory.suppress_snoozed(hook_call) if memory else []
    cards = [card for card in evaluation.cards if not any(card is h for h in hidden)]
    hook_call.latency_ms = (logs.request_seconds() or 0.0) * 1000
    if memory:
        cards = memory.record_call(hook_call, cards, hidden)
    for topic in evaluation.replaced:  # a card the core could not build in full: a bug
        metrics.CARDS_INVALID.labels(topic=topic).inc()
    for rule in evaluation.failed_rules:  # a rule that raised: a bug
        metrics.RULE_FAILURES.labels(rule=rule).inc()
    if evaluation.failed_rules or evaluation.quality.reader_faults:
        metrics.CORE_FAULT_CALLS.labels(hook=hook_call.hook).inc()
    for card in cards:
        metrics.labelled(metrics.CARDS, card.topic, card.indicator).inc()
    return CdsResponse(cards=tuple(cards), system_actions=tuple(evaluation.system_actions))


@cache
def _request_schema(schema_class: type[Schema]) -> Schema:
    """One instance per service: building a Schema deep-copies its fields; load() keeps no
    state on the instance, so calls and threads share it."""
    return schema_class()


@cache
def _plain_loader(schema_class: type[Schema]) -> PlainLoader | None:
    """The schema's load in plain Python, for the hooks it knows (patient-view,
    encounter-start); None for the others."""
    return plain_loader(_request_schema(schema_class))


def load_call(service: CdsService, body: dict[str, Any]) -> dict[str, Any]:
    """The request validated by the service's schema; 400 listing every problem. A body
    the plain loader fully handles is loaded by it, to the same result; any other (every
    invalid one among them) by the schema itself."""
    loader = _plain_loader(service.request_schema)
    if loader is not None:
        plain = loader.load(body)
        if plain is not None:
            return plain
    try:
        loaded: dict[str, Any] = _request_schema(service.request_schema).load(body)
    except ValidationError as exc:
        raise ServiceError(400, "Invalid hook request: "
                           + "; ".join(flatten_errors(exc.messages))) from None
    return loaded


def _count_dropped_resources(quality: DataQuality) -> None:
    if quality.other_patient_dropped:
        metrics.RESOURCES_DROPPED.labels(reason="other-patient").inc(
            quality.other_patient_dropped)
    if quality.skipped_invalid:
        metrics.RESOURCES_DROPPED.labels(reason="invalid").inc(quality.skipped_invalid)
    if quality.reader_faults:  # a fault in the service, not the data: alerted on
        metrics.RESOURCES_DROPPED.labels(reason="reader-fault").inc(quality.reader_faults)


@bp.after_request
def _count_request(response: Response) -> Response:
    """Requests and latency by service and hook, whatever the outcome (errors included)."""
    current = request._get_current_object()  # type: ignore[attr-defined]  # one look-up
    service_id = (current.view_args or {}).get("service_id")
    service = SERVICES.get(service_id) if service_id else None
    if current.endpoint == "cds_hooks.discovery":
        labels = ("discovery", "none")
    elif service is not None:
        labels = (service.id, service.hook)
    else:
        labels = ("unknown", "none")
    metrics.labelled(metrics.REQUESTS, *labels, str(response.status_code)).inc()
    elapsed = logs.request_seconds()
    if elapsed is not None:
        metrics.labelled(metrics.REQUEST_LATENCY, *labels).observe(elapsed)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
