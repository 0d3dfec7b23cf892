"""Several EHRs on one deployment: each trusted client acts only on its own cards.

Two trusted clients (their own keys, real signed JWTs) call the same service about the
same patient id, on SQLite and PostgreSQL. Feedback on a card issued to the other client
is refused like an unknown card (404, nothing stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import fhir_samples
from cds_rules.model import OVERRIDE_REASON_SYSTEM
from service.db import Feedback
from service.store import Store
from tests.helpers import SERVICE_OF_HOOK
from tests.store_support import *  # noqa: F403  (database_url: SQLite file and PostgreSQL)
from tests.trust_support import (
    ISS,
    OTHER_ISS,
    Signer,
    TrustedApp,
    client_entry,
    make_trusted_app,
)

SCENARIO = next(s for s in fhir_samples.load_all() if s.id == "malignancy-history-z85")
SERVICE = f"/cds-services/{SERVICE_OF_HOOK[SCENARIO.hook]}"
FEEDBACK = f"{SERVICE}/feedback"


@pytest.fixture(scope="module")
def keys() -> dict[str, Signer]:
    return {ISS: Signer.ec("ES384", "ehr-a"), OTHER_ISS: Signer.rsa("RS384", "ehr-b")}


@pytest.fixture
def deployment(database_url: str, tmp_path: Path,
               keys: dict[str, Signer]) -> Iterator[TrustedApp]:
    """One deployment trusting both EHRs, on the scenario's clinical clock."""
    clients = [client_entry(signer, iss=iss) for iss, signer in keys.items()]
    trusted = make_trusted_app(tmp_path, clients, database_url, clock=lambda: SCENARIO.now)
    yield trusted
    trusted.app.extensions["backpain"]["store"].dispose()


def hook_call(app: TrustedApp, keys: dict[str, Signer], iss: str) -> list[dict[str, Any]]:
    """The scenario's hook call from client ``iss``: the cards it was sent."""
    response = app.call(SERVICE, keys[iss].token(SERVICE, iss=iss),
                        json_body=SCENARIO.request_body())
    assert response.status_code == 200, response.get_json()
    app.app.extensions["backpain"]["memory"].flush()
    cards: list[dict[str, Any]] = response.get_json()["cards"]
    return cards


def snooze(card: dict[str, Any]) -> dict[str, Any]:
    return {"feedback": [{
        "card": card["uuid"], "outcome": "overridden",
        "outcomeTimestamp": SCENARIO.now.isoformat(),
        "overrideReason": {"reason": {"system": OVERRIDE_REASON_SYSTEM,
                                      "code": "already-assessed"}},
    }]}


def give_feedback(app: TrustedApp, keys: dict[str, Signer], iss: str,
                  body: dict[str, Any]) -> Any:
    return app.call(FEEDBACK, keys[iss].token(FEEDBACK, iss=iss), json_body=body)


def stored_feedback(app: TrustedApp) -> int:
    store: Store = app.app.extensions["backpain"]["store"]
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Feedback)).scalar_one())


def test_feedback_on_another_clients_card_is_refused_as_unknown(
        deployment: TrustedApp, keys: dict[str, Signer]) -> None:
    [card] = [c for c in hook_call(deployment, keys, ISS)
              if c["source"]["topic"]["code"] == "malignancy"]

    refused = give_feedback(deployment, keys, OTHER_ISS, snooze(card))
    assert refused.status_code == 404
    outcome = refused.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert card["uuid"] in outcome["issue"][0]["diagnostics"]
    assert stored_feedback(deployment) == 0

    accepted = give_feedback(deployment, keys, ISS, snooze(card))
    assert accepted.status_code == 200, accepted.get_json()
    assert stored_feedback(deployment) == 1


def test_a_batch_naming_one_foreign_card_stores_nothing(
        deployment: TrustedApp, keys: dict[str, Signer]) -> None:
    own = hook_call(deployment, keys, OTHER_ISS)[0]
    foreign = hook_call(deployment, keys, ISS)[0]
    body = {"feedback": snooze(own)["feedback"] + snooze(foreign)["feedback"]}
    assert give_feedback(deployment, keys, OTHER_ISS, body).status_code == 404
    assert stored_feedback(deployment) == 0


def shown_topics(cards: list[dict[str, Any]]) -> set[str]:
    return {card["source"]["topic"]["code"] for card in cards}


def test_a_snooze_hides_the_topic_only_for_the_client_that_snoozed(
        deployment: TrustedApp, keys: dict[str, Signer]) -> None:
    """Same patient id from two EHRs: two patients. One's snooze leaves the other alone."""
    [card] = [c for c in hook_call(deployment, keys, ISS)
              if c["source"]["topic"]["code"] == "malignancy"]
    assert give_feedback(deployment, keys, ISS, snooze(card)).status_code == 200

    assert "malignancy" in shown_topics(hook_call(deployment, keys, OTHER_ISS))
    assert "malignancy" not in shown_topics(hook_call(deployment, keys, ISS))
