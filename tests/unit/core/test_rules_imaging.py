"""IMG-01..04: what the cards offer (deletes, alternatives). Which cards fire:
``rule_cases/imaging.yaml``."""

from __future__ import annotations

import pytest

from tests.unit.core.rule_records import card, fact, order, patient, run, suggested_orders

DRAFT_MRI = "ServiceRequest/draft-mri"


def draft(kind: str = "spine_mri", ref: str = DRAFT_MRI):
    return order(kind, "draft", ref=ref)


@pytest.mark.parametrize("kind", ["spine_mri", "spine_ct", "spine_xray"])
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_acute_back_pain_imaging_not_indicated_offers_delete_and_physiotherapy(
        kind: str, hook: str) -> None:
    ref = f"ServiceRequest/{kind.replace('_', '-')}"  # a FHIR id: no underscore
    result = run(patient(orders=(draft(kind, ref),), back_pain_days=10), hook,
                 selections=(ref,) if hook == "order-select" else ())
    found = card(result, "imaging-not-indicated")
    deletes = [a for s in found["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == [{"type": "delete", "resourceId": ref,
                        "description": deletes[0]["description"]}]
    assert "Physiotherapy / exercise programme referral" in suggested_orders(found)


def test_variant_2_offers_no_delete() -> None:
    found = card(run(patient(orders=(draft(),), back_pain_days=50), "order-sign"),
                 "imaging-not-indicated")
    assert all(a["type"] != "delete" for s in found.get("suggestions", [])
               for a in s["actions"])


def test_repeat_imaging_offers_to_delete_the_draft() -> None:
    record = patient(orders=(draft(), order("spine_mri", "completed", 100)), back_pain_days=10)
    result = run(record, "order-sign")
    actions = [a for s in card(result, "repeat-imaging")["suggestions"] for a in s["actions"]]
    assert actions[0]["resourceId"] == DRAFT_MRI


def test_suggestion_never_duplicates_an_active_order() -> None:
    record = patient(fact("radiculopathy", 70), fact("conservative_care_given", 40),
                     orders=(order("spine_mri", "active", 2),))
    found = card(run(record), "imaging-indicated")
    assert "suggestions" not in found
    assert "Already ordered" in found["detail"]
