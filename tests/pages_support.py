"""Apps for the page tests: as under ``make run`` (unauthenticated, pages on) or as in
production (trusted clients, pages gated), each on its own migrated SQLite file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from service.app import create_app
from service.config import Settings
from service.migrations import upgrade
from tests.store_support import HASH_KEY
from tests.trust_support import Signer, client_entry, make_trusted_app

PAGES_TOKEN = "operator-credential-0123456789abcdef"


def local_app(tmp_path: Path, **settings: Any) -> Flask:
    """The app as ``make run`` starts it (ALLOW_UNAUTHENTICATED, PAGES=auto)."""
    values: dict[str, Any] = {"allow_unauthenticated": True, "patient_hash_key": HASH_KEY,
                              "database_url": f"sqlite:///{tmp_path / 'pages.sqlite3'}"}
    values.update(settings)
    app = create_app(Settings().replace(**values))
    upgrade(app.extensions["backpain"]["store"].engine)
    return app


def production_app(tmp_path: Path, **settings: Any) -> Flask:
    """The app with a trusted EHR (JWT required on /cds-services) and ``settings``."""
    return make_trusted_app(tmp_path, [client_entry(Signer.ec())],
                            f"sqlite:///{tmp_path / 'prod.sqlite3'}", **settings).app


OVERRIDE_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/override-reason"


def issue_and_feedback(client: Any) -> dict[str, int]:
    """Real rows for the governance page, through the API as an EHR makes them: three
    hook calls, then one acceptance and two overrides (one of them a snooze).
    Returns the expected counts for CES-01."""
    import fhir_samples

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cards = []
    for _ in range(3):
        body = fhir_samples.load("ces-diagnosis-g834").request_body()
        body["prefetch"]["patient"]["id"] = body["context"]["patientId"] = \
            f"gov-{uuid.uuid4().hex[:8]}"
        for entry in (body["prefetch"].get("conditions") or {}).get("entry", []):
            entry["resource"]["subject"]["reference"] = f"Patient/{body['context']['patientId']}"
            # the service clock is real: a CES diagnosis is an emergency only while new
            # (clinical review 2026), so date it today
            entry["resource"]["onsetDateTime"] = entry["resource"]["recordedDate"] = now
        response = client.post(f"/cds-services/back-pain-{body['hook']}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        cards.append(response.get_json()["cards"][0])
    service = "/cds-services/back-pain-encounter-start/feedback"
    feedback = [
        {"card": cards[0]["uuid"], "outcome": "accepted", "outcomeTimestamp": now,
         "acceptedSuggestions": [{"id": cards[0]["suggestions"][0]["uuid"]}]},
        {"card": cards[1]["uuid"], "outcome": "overridden", "outcomeTimestamp": now,
         "overrideReason": {"reason": {"system": OVERRIDE_SYSTEM, "code": "already-assessed"}}},
        {"card": cards[2]["uuid"], "outcome": "overridden", "outcomeTimestamp": now,
         "overrideReason": {"reason": {"system": OVERRIDE_SYSTEM, "code": "not-applicable"}}},
    ]
    assert client.post(service, json={"feedback": feedback}).status_code == 200
    return {"issued": 3, "accepted": 1, "overridden": 2, "snoozed": 1}
