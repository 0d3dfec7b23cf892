"""Shared test helpers: an app factory for tests and builders of hook requests.

``make_test_app()`` builds the real app (every engineer's ``init_app``) with settings
safe for tests: no JWT required, an in-memory SQLite database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask

from service.app import create_app, utc_now
from service.config import Settings

SERVICE_OF_HOOK = {
    "patient-view": "back-pain-patient-view",
    "encounter-start": "back-pain-encounter-start",
    "order-select": "back-pain-order-select",
    "order-sign": "back-pain-order-sign",
}
PATIENT_ID = "pat-1"
OTHER_PATIENT_ID = "pat-2"


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for tests: unauthenticated, in-memory SQLite, plus ``overrides``."""
    values: dict[str, Any] = {"allow_unauthenticated": True, "database_url": "sqlite://"}
    values.update(overrides)
    return Settings(**values)


def make_test_app(
    *,
    clock: Callable[[], datetime] = utc_now,
    extensions: dict[str, Any] | None = None,
    **overrides: Any,
) -> Flask:
    """The real app for tests. ``overrides``: Settings fields; ``extensions``: entries to
    put into (or replace in) ``app.extensions["backpain"]`` (e.g. "fetcher")."""
    app = create_app(settings_for_tests(**overrides), clock=clock)
    app.config["TESTING"] = True
    app.extensions["backpain"].update(extensions or {})
    return app


def patient(patient_id: str = PATIENT_ID, birth_date: str = "1970-05-01",
            gender: str = "female") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": patient_id, "birthDate": birth_date,
            "gender": gender}


def condition(snomed: str, display: str, *, patient_id: str = PATIENT_ID,
              resource_id: str | None = None, onset: str = "2024-01-10") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": resource_id or f"cond-{snomed}",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": snomed,
                             "display": display}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": onset,
    }


def searchset(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of ``resources`` (paged when ``next_url`` is given)."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "total": len(resources)}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    if resources:
        bundle["entry"] = [{"resource": r} for r in resources]
    return bundle


def service_request(resource_id: str, *, patient_id: str = PATIENT_ID) -> dict[str, Any]:
    """A draft order (lumbar spine MRI) as draftOrders carries it."""
    return {
        "resourceType": "ServiceRequest", "id": resource_id, "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24967-2",
                             "display": "MR Lumbar spine WO contrast"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def base_context(hook: str, patient_id: str = PATIENT_ID) -> dict[str, Any]:
    """A minimal valid context for ``hook``."""
    context: dict[str, Any] = {"userId": "Practitioner/prac-1", "patientId": patient_id}
    if hook == "encounter-start":
        context["encounterId"] = "enc-1"
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": service_request("sr-1")}]}
    if hook == "order-select":
        context["selections"] = ["ServiceRequest/sr-1"]
    return context


def hook_body(hook: str, *, prefetch: dict[str, Any] | None = None,
              context: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid hook request for ``hook``: minimal context, the given prefetch and fields."""
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context if context is not None else base_context(hook),
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(fields)
    return body


def required_prefetch(patient_id: str = PATIENT_ID, *conditions: dict[str, Any]
                      ) -> dict[str, Any]:
    """The two required keys (patient, conditions), every optional key ``null``."""
    return {
        "patient": patient(patient_id),
        "conditions": searchset(*conditions),
        "observations": None, "medicationRequests": None, "medicationStatements": None,
        "serviceRequests": None, "procedures": None, "diagnosticReports": None,
        "imagingStudies": None,
    }


def operation_outcome(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is ``status`` with a FHIR OperationOutcome body; return the issue."""
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert issue["severity"] == "error"
    assert isinstance(issue["diagnostics"], str) and issue["diagnostics"]
    if code is not None:
        assert issue["code"] == code, issue
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    return issue


def subject_patient_id(resource: dict[str, Any]) -> str:
    """The id of the Patient a resource is about (itself, its subject or patient), or ""."""
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id", ""))
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict) and str(ref.get("reference", "")).startswith("Patient/"):
            return str(ref["reference"]).removeprefix("Patient/")
    return ""
