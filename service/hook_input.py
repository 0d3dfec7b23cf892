"""Turn a JSON document into the clinical core's input, for offline use.

``backpain-cds evaluate`` and the ``/preview`` page read the same things the same way: a
FHIR Bundle (the Patient in it is the subject; on order hooks its draft ServiceRequests
are the draft orders) or a whole CDS Hooks request body (hook, context, prefetch).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cds_rules import HOOKS, ORDER_HOOKS, HookRequest, entry_full_urls, resources_from


class InputError(ValueError):
    """The document (or a choice made with it) cannot become a hook request."""


def request_from_document(document: Any, name: str) -> HookRequest:
    """A FHIR Bundle (its first Patient is the subject; patient-view) or a whole CDS Hooks
    request body (hook, context, prefetch) as the core's input."""
    if isinstance(document, dict) and "hook" in document and "context" in document:
        return _from_hook_body(document, name)
    resources = resources_from(document)
    patients = [r for r in resources if r.get("resourceType") == "Patient" and r.get("id")]
    if not patients:
        raise InputError(f"{name}: no Patient with an id in the file")
    patient_id = str(patients[0]["id"])
    return HookRequest(hook="patient-view", patient_id=patient_id, resources=tuple(resources),
                       patient_references=tuple(entry_full_urls(document, "Patient", patient_id)))


def _from_hook_body(body: dict[str, Any], name: str) -> HookRequest:
    context = _dict(body.get("context"))
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise InputError(f"{name}: context.patientId is missing")
    hook = body.get("hook") if body.get("hook") in HOOKS else "patient-view"
    prefetch = _dict(body.get("prefetch"))
    resources = [r for value in prefetch.values() for r in resources_from(value)]
    raw_selections = context.get("selections")
    selections: list[Any] = raw_selections if isinstance(raw_selections, list) else []
    encounter = context.get("encounterId")
    return HookRequest(
        hook=str(hook),
        patient_id=patient_id,
        resources=tuple(resources),
        draft_orders=tuple(resources_from(context.get("draftOrders"))),
        selections=tuple(str(s) for s in selections),
        encounter_id=encounter if isinstance(encounter, str) else None,
        patient_references=tuple(entry_full_urls(list(prefetch.values()), "Patient", patient_id)),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def with_hook(request: HookRequest, hook: str) -> HookRequest:
    """The request as ``hook``; a Bundle's draft ServiceRequests become the draft orders."""
    drafts = request.draft_orders
    if hook in ORDER_HOOKS and not drafts:
        drafts = tuple(r for r in request.resources if r.get("resourceType") == "ServiceRequest"
                       and r.get("status") == "draft")
    return replace(request, hook=hook, draft_orders=drafts if hook in ORDER_HOOKS else (),
                   selections=request.selections if hook == "order-select" else ())


def parse_now(text: str, label: str = "--now") -> datetime:
    """An ISO 8601 date-time; without a zone, UTC."""
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label} {text!r} is not an ISO 8601 date-time") from None
    return now if now.tzinfo else now.replace(tzinfo=UTC)
