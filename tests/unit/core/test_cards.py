"""Every card of every rule satisfies the CDS Hooks 2.0.1 card invariants, says why, and
carries its evidence; suggestions are valid R4 ServiceRequests."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_rules import to_json
from cds_rules.catalogue import BY_ID, RULES
from cds_rules.evidence import SOURCES
from cds_rules.model import OVERRIDE_REASON_SYSTEM, TOPIC_SYSTEM, Topic
from cds_rules.orders import ORDERS
from cds_rules.override_reasons import OVERRIDE_REASONS, SNOOZE_REASON_CODES
from tests.unit.core.rule_records import NOW, fact, grade, obs, order, patient, run

DRAFT = "ServiceRequest/draft-1"

# (hook, record): together these fire every rule of the catalogue at least once.
CASES: list[tuple[str, Any]] = [
    ("patient-view", lambda: patient(fact("urinary_retention", 1), fact("sexual_dysfunction", 1))),
    ("patient-view", lambda: patient(fact("cancer", 2000, history=True), fact("leg_pain", 2),
                                     age=63)),
    ("patient-view", lambda: patient(grade(4, 30), grade(2, 1), fact("myelopathy", 5))),
    ("patient-view", lambda: patient(fact("fever", 1), fact("iv_drug_use", 300),
                                     fact("epidural_abscess", 1))),
    ("encounter-start", lambda: patient(fact("significant_trauma", 2), fact("osteoporosis", 900),
                                        age=75, sex="male")),
    ("patient-view", lambda: patient(*(fact(c, 30) for c in (
        "night_waking_second_half", "buttock_pain", "improves_with_movement",
        "nsaid_response")), age=33, back_pain_days=300)),
    ("patient-view", lambda: patient(*(fact(c, 30) for c in (
        "night_waking_second_half", "buttock_pain", "nsaid_response")), age=41,
        back_pain_days=200)),
    ("patient-view", lambda: patient(fact("aortic_aneurysm", 500), fact("renal_stone_or_colic", 2),
                                     obs("body_temperature", 38.4, 1, "Cel"))),
    ("patient-view", lambda: patient(fact("haematuria", 3))),
    ("order-sign", lambda: patient(orders=(order("spine_mri", "draft", ref=DRAFT),))),
    ("order-select", lambda: patient(orders=(order("spine_ct", "draft", ref=DRAFT),
                                             order("spine_ct", "completed", 30)))),
    ("patient-view", lambda: patient(fact("radiculopathy", 80), fact("conservative_care_given", 30),
                                     fact("diabetes", 900))),
    ("order-sign", lambda: patient(orders=(order("emg_ncs", "draft", ref=DRAFT),),
                                   back_pain_days=200)),
    ("patient-view", lambda: patient(back_pain_days=90)),
    # clinical review 2026: history / persisting red flags, NG12 myeloma, ACR variant 2
    ("patient-view", lambda: patient(fact("urinary_retention", 30))),
    ("patient-view", lambda: patient(fact("gait_disturbance", 60))),
    ("patient-view", lambda: patient(fact("foot_drop", 900, laterality="left"))),
    ("patient-view", lambda: patient(age=66, back_pain_days=60)),
    ("order-sign", lambda: patient(orders=(order("spine_mri", "draft", ref=DRAFT),),
                                   back_pain_days=300)),
    ("patient-view", lambda: patient(*(fact(f"uncoded:{t}", 3, detail="a sign") for t in (
        "cauda-equina", "spinal-cord-compression", "progressive-neurological-deficit",
        "malignancy", "infection", "fracture", "visceral-or-vascular")))),
]


def all_results() -> list[tuple[str, Any, Any]]:
    results = []
    for hook, factory in CASES:
        record = factory()
        selections = (DRAFT,) if hook == "order-select" else ()
        results.append((hook, record, run(record, hook, selections=selections)))
    return results


RESULTS = all_results()
CARDS = [(c, record, result) for _, record, result in RESULTS for c in to_json(result.cards)]


def test_every_rule_is_exercised() -> None:
    fired = {f.rule_id for _, _, result in RESULTS for f in result.findings}
    assert fired == set(BY_ID), f"not exercised: {set(BY_ID) - fired}"


def test_every_topic_has_a_card() -> None:
    shown = {c["source"]["topic"]["code"] for c, _, _ in CARDS}
    assert shown == {t.value for t in Topic}


def _no_empty(value: Any, path: str = "card") -> None:
    assert value is not None, f"{path} is null"
    if isinstance(value, str | list | dict):
        assert len(value) > 0, f"{path} is empty"
    if isinstance(value, dict):
        for key, item in value.items():
            _no_empty(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_empty(item, f"{path}[{i}]")


@pytest.mark.parametrize("card", [c for c, _, _ in CARDS],
                         ids=[c["source"]["topic"]["code"] for c, _, _ in CARDS])
def test_card_invariants(card: dict[str, Any]) -> None:
    _no_empty(card)
    uuid.UUID(card["uuid"])
    assert len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert card["source"]["url"].startswith("https://")
    assert card["source"]["topic"]["system"] == TOPIC_SYSTEM
    assert card["source"]["topic"]["display"]
    for reason in card["overrideReasons"]:
        assert reason["system"] == OVERRIDE_REASON_SYSTEM and reason["display"]
    for link in card["links"]:
        assert link["type"] == "absolute" and link["url"].startswith("https://") and link["label"]
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("any", "at-most-one")
        assert sum(1 for s in card["suggestions"] if s.get("isRecommended")) <= 1
        for suggestion in card["suggestions"]:
            uuid.UUID(suggestion["uuid"])
            assert suggestion["label"]
            for action in suggestion["actions"]:
                assert action["description"]
                if action["type"] == "delete":
                    assert "/" in action["resourceId"] and "resource" not in action
                else:
                    assert action["type"] == "create"
                    ServiceRequest.model_validate(action["resource"])
    else:
        assert "selectionBehavior" not in card


def test_cards_say_why_every_fact_and_rule() -> None:
    for _, _, result in RESULTS:
        for card in to_json(result.cards):
            topic = card["source"]["topic"]["code"]
            for finding in (f for f in result.findings if f.topic.value == topic):
                for fired in finding.facts:
                    assert f"`{fired.source}`" in card["detail"]
                assert f"{finding.rule_id} v{finding.rule_version}" in card["detail"]


def test_cards_list_evidence_with_version() -> None:
    """The first three sources of the card's rules, with version and link; never more than
    three links (clinical review 2026)."""
    for _, _, result in RESULTS:
        for card in to_json(result.cards):
            topic = card["source"]["topic"]["code"]
            keys = list(dict.fromkeys(
                key for f in result.findings if f.topic.value == topic
                for key in BY_ID[f.rule_id].evidence))
            for key in keys[:3]:
                assert SOURCES[key].version in card["detail"]
                assert SOURCES[key].url in card["detail"]
            assert len(card.get("links", [])) <= 3
            assert card["detail"].split("**Evidence**")[-1].count("](http") <= 3


def test_one_card_per_topic_most_urgent_first() -> None:
    rank = {"critical": 0, "warning": 1, "info": 2}
    for _, _, result in RESULTS:
        codes = [c["source"]["topic"]["code"] for c in to_json(result.cards)]
        assert len(codes) == len(set(codes))
        ranks = [rank[c["indicator"]] for c in to_json(result.cards)]
        assert ranks == sorted(ranks)


def test_service_requests_are_coded_and_traced() -> None:
    record = patient(fact("urinary_retention", 1), fact("leg_pain", 1, laterality="bilateral"))
    result = run(record)
    requests = [a["resource"] for c in to_json(result.cards) for s in c.get("suggestions", [])
                for a in s["actions"] if a["type"] == "create"]
    assert requests
    for resource in requests:
        assert resource["status"] == "draft" and resource["intent"] == "proposal"
        assert resource["subject"] == {"reference": "Patient/pat-1"}
        assert resource["priority"] in ("stat", "urgent", "routine")
        refs = {r["reference"] for r in resource["reasonReference"]}
        assert refs <= {f.source for f in record.facts}
    mri = next(r for r in requests if "MRI lumbar" in r["code"]["text"])
    systems = {c["system"]: c["code"] for c in mri["code"]["coding"]}
    assert systems == {"http://snomed.info/sct": "394451000119106",
                       "http://loinc.org": "30679-5", "http://www.ama-assn.org/go/cpt": "72148"}


def test_encounter_is_referenced_when_known() -> None:
    from cds_rules.engine import evaluate_record

    result = evaluate_record(patient(fact("urinary_retention", 1)), "encounter-start",
                             encounter_id="enc-9")
    resource = to_json(result.cards)[0]["suggestions"][0]["actions"][0]["resource"]
    assert resource["encounter"] == {"reference": "Encounter/enc-9"}


def test_order_catalogue_codes_all_validate() -> None:
    from cds_rules.model import Recommendation
    from cds_rules.orders import service_request

    for spec in ORDERS.values():
        resource = service_request(spec, Recommendation(spec.key), "p", None, (),
                                   patient().now)
        assert resource["code"]["coding"]
        assert all(c.verified for c in spec.codes)


def test_no_unverified_code_claims_a_standard_system() -> None:
    for spec in ORDERS.values():
        for code in spec.codes:
            if code.verified.startswith("local code"):
                assert code.system.startswith("https://backpain-cds.org/")


def test_override_reasons() -> None:
    assert {"already-assessed", "patient-declined", "managed-elsewhere"} <= SNOOZE_REASON_CODES
    assert "not-applicable" not in SNOOZE_REASON_CODES
    assert all(r.display for r in OVERRIDE_REASONS)


def test_rules_have_versions_and_evidence() -> None:
    for rule in RULES:
        major, minor, patch = rule.version.split(".")
        assert major.isdigit() and minor.isdigit() and patch.isdigit()
        assert rule.evidence and rule.advice
        assert all(SOURCES[k].url.startswith("https://") for k in rule.evidence)


def test_data_gaps_are_disclosed_on_every_card() -> None:
    record = patient(fact("urinary_retention", 1))
    record.quality.data_gaps.append("Observation (server down)")
    for card in to_json(run(record).cards):
        assert "Could not read:** Observation (server down)" in card["detail"]


def _emergency_mri_offered(mri_days_ago: float) -> tuple[bool, str]:
    """Retention 2 days ago (cauda equina, critical) and a lumbar MRI done ``mri_days_ago``."""
    record = patient(fact("urinary_retention", 2),
                     orders=(order("spine_mri", "completed", mri_days_ago,
                                   ref="ImagingStudy/last-mri"),))
    (card,) = [c for c in to_json(run(record).cards)
               if c["source"]["topic"]["code"] == "cauda-equina"]
    offered = any("MRI" in s["label"] for s in card.get("suggestions", ()))
    return offered, card["detail"]


def test_an_mri_done_before_the_new_sign_does_not_stand_in_for_the_emergency_mri() -> None:
    """A study done before the sign it must look for does not answer it: the emergency
    MRI stays on offer (before: "already recently done", no one-click order)."""
    offered, detail = _emergency_mri_offered(mri_days_ago=5)
    assert offered and "ImagingStudy/last-mri" not in detail


def test_an_mri_done_since_the_sign_is_not_suggested_again() -> None:
    offered, detail = _emergency_mri_offered(mri_days_ago=1)
    assert not offered and "recently done, not suggested again: `ImagingStudy/last-mri`" in detail


def test_a_date_only_sign_is_taken_at_the_end_of_its_day() -> None:
    """Retention dated only by its day (it may have begun at any hour) and a lumbar MRI that
    morning: the MRI does not show it was done after the sign, so the emergency MRI stays on
    offer, as the rule itself reads it (second review: the card took the day's start)."""
    day = (NOW - timedelta(days=1)).replace(hour=0, minute=0)
    retention = replace(fact("urinary_retention", 1), when=day,
                        when_latest=day + timedelta(hours=23, minutes=59))
    mri = order("spine_mri", "completed", ref="ImagingStudy/morning-mri")
    mri = replace(mri, when=day + timedelta(hours=9))
    (card,) = [c for c in to_json(run(patient(retention, orders=(mri,))).cards)
               if c["source"]["topic"]["code"] == "cauda-equina"]
    assert any("MRI" in s["label"] for s in card.get("suggestions", ()))
