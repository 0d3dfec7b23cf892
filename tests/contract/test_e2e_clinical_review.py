"""End to end through a real CDS Hooks call: each decision of the clinical review
(December 2026, CLINICAL.md) as the EHR receives it. The scenarios' topic/indicator pairs
are checked by test_scenarios; here, what the cards say and offer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

import fhir_samples
from service.schemas import validate_response
from tests.helpers import SERVICE_OF_HOOK, make_test_app

NOW_KEY = "2026-03-01T10:00:00+00:00"


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    now = fhir_samples.load("ces-retention-20-days-never-imaged").now
    assert now.isoformat() == NOW_KEY
    yield make_test_app(clock=lambda: now)


def call(app: Flask, scenario_id: str, mutate: Any = None) -> list[dict[str, Any]]:
    scenario = fhir_samples.load(scenario_id)
    assert scenario.now.isoformat() == NOW_KEY, scenario_id
    body = scenario.request_body()
    if mutate is not None:
        mutate(body)
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                      json=body)
    assert response.status_code == 200, response.get_json()
    assert validate_response(response.get_json()) == []
    return list(response.get_json()["cards"])


def by_topic(cards: list[dict[str, Any]], topic: str) -> dict[str, Any]:
    found = [c for c in cards if c["source"]["topic"]["code"] == topic]
    assert len(found) == 1, [c["source"]["topic"]["code"] for c in cards]
    return found[0]


def actions(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for c in cards for s in c.get("suggestions", []) for a in s["actions"]]


def created(cards: list[dict[str, Any]]) -> list[str]:
    return [a["resource"]["code"]["text"] for a in actions(cards) if a["type"] == "create"]


def test_persisting_retention_is_a_warning_that_asks_for_assessment(app: Flask) -> None:
    cards = call(app, "ces-retention-20-days-never-imaged")
    ces = by_topic(cards, "cauda-equina")
    assert ces["indicator"] == "warning"
    assert ces["summary"].startswith("Confirm it has been assessed")
    assert "recorded 2026-02-09, no spine MRI since" in ces["summary"]


def test_conservative_card_never_reassures_and_safety_nets(app: Flask) -> None:
    card = by_topic(call(app, "cc-acute-lbp-snomed"), "conservative-care")
    assert "No red flag recorded in the last 14 days (coded data)" in card["summary"]
    assert "no red flags" not in card["summary"].lower()
    assert "https://www.nhs.uk/conditions/cauda-equina-syndrome/" in {
        link["url"] for link in card["links"]}


def test_red_flag_and_recent_mri_never_offer_delete(app: Flask) -> None:
    cards = call(app, "ces-plus-recent-mri-order-select")
    assert [c["source"]["topic"]["code"] for c in cards] == ["cauda-equina"]
    assert all(a["type"] != "delete" for a in actions(cards))


def test_red_flag_dated_by_month_after_mri_is_not_a_repeat(app: Flask) -> None:
    cards = call(app, "ri-weight-loss-month-only-after-mri-no-repeat")
    assert cards == []

    def exact_before(body: dict[str, Any]) -> None:
        for entry in body["prefetch"]["conditions"]["entry"]:
            if entry["resource"]["code"]["coding"][0]["code"] == "R63.4":
                entry["resource"]["onsetDateTime"] = "2026-02-01T10:00:00Z"
                entry["resource"]["recordedDate"] = "2026-02-01T10:00:00Z"

    repeat = by_topic(call(app, "ri-weight-loss-month-only-after-mri-no-repeat",
                           exact_before), "repeat-imaging")
    assert all(a["type"] != "delete" for a in actions([repeat]))  # a red flag is current


def test_one_imaging_study_per_response(app: Flask) -> None:
    cards = call(app, "ces-new-incontinence-with-cancer-history-one-mri")
    imaging = [t for t in created(cards) if "MRI" in t or "X-ray" in t]
    assert imaging == ["MRI whole spine (cervical, thoracic, lumbar) without contrast"]
    assert "which carries the one imaging study" in by_topic(cards, "malignancy")["detail"]


def test_mscc_card_contacts_the_coordinator_and_lists_each_resource_once(app: Flask) -> None:
    cards = call(app, "scc-bone-metastases-new-numbness")
    cord = by_topic(cards, "spinal-cord-compression")
    assert cord["summary"].startswith("Contact acute oncology / MSCC coordinator now")
    assert cord["suggestions"][0]["label"] == "Contact the acute oncology / MSCC coordinator now"
    for card in cards:
        why = card["detail"].split("**What to do**")[0]
        sources = [line.rsplit("`", 2)[-2] for line in why.splitlines()
                   if line.startswith("- ") and line.endswith("`")]
        assert len(sources) == len(set(sources)), sources
        assert len(card.get("links", [])) <= 3


def test_deceased_patient_gets_no_cards(app: Flask) -> None:
    assert call(app, "nm-deceased-patient-ces-sign") == []

    def alive(body: dict[str, Any]) -> None:
        del body["prefetch"]["patient"]["deceasedDateTime"]

    assert by_topic(call(app, "nm-deceased-patient-ces-sign", alive),
                    "cauda-equina")["indicator"] == "critical"


def test_old_foot_drop_is_not_mri_within_24_hours(app: Flask) -> None:
    card = by_topic(call(app, "pnd-old-foot-drop-2015"), "progressive-neurological-deficit")
    assert card["indicator"] == "warning" and "24 hours" not in card["summary"]
    assert not created([card])


def test_age_alone_is_a_fracture_info(app: Flask) -> None:
    card = by_topic(call(app, "fracture-age-only-72-info"), "fracture")
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Consider an X-ray if not settling")


def test_weak_malignancy_factors_get_bloods_not_mri(app: Flask) -> None:
    card = by_topic(call(app, "malignancy-age-night-pain-local"), "malignancy")
    assert card["indicator"] == "warning"
    orders = created([card])
    assert "Erythrocyte sedimentation rate (ESR)" in orders
    assert not any("MRI" in t for t in orders)


def test_ng12_myeloma_blood_tests(app: Flask) -> None:
    card = by_topic(call(app, "malignancy-ng12-myeloma-age-64-eight-weeks"), "malignancy")
    assert card["indicator"] == "info"
    assert {"Full blood count", "Serum calcium (adjusted)",
            "Erythrocyte sedimentation rate (ESR)"} <= set(created([card]))


def test_variant_2_is_info_without_delete(app: Flask) -> None:
    cards = call(app, "inn-chronic-lbp-mri-draft-variant-2")
    card = by_topic(cards, "imaging-not-indicated")
    assert card["indicator"] == "info" and "ACR variant 2" in card["summary"]
    assert all(a["type"] != "delete" for a in actions(cards))


def test_old_diagnosis_is_history_but_a_new_sign_is_an_emergency(app: Flask) -> None:
    assert "cauda-equina" not in {c["source"]["topic"]["code"]
                                  for c in call(app, "ces-diagnosis-two-years-ago-history")}
    ces = by_topic(call(app, "ces-old-diagnosis-new-faecal-incontinence"), "cauda-equina")
    assert ces["indicator"] == "critical"


def test_ng65_arthritis_enthesitis_psoriasis_count_as_three(app: Flask) -> None:
    card = by_topic(call(app, "ibp-arthritis-enthesitis-psoriasis-three-criteria"),
                    "inflammatory-back-pain")
    assert "4 NICE NG65 features" in card["detail"]
    assert "Rheumatology referral (suspected axial spondyloarthritis)" in created([card])


def test_ng65_buttock_pain_not_only_alternating(app: Flask) -> None:
    card = by_topic(call(app, "ibp-buttock-pain-three-features-test-hla-b27"),
                    "inflammatory-back-pain")
    assert "Test HLA-B27" in card["summary"] and "buttock pain" in card["detail"]


def test_not_improving_is_judged_within_the_current_episode(app: Flask) -> None:
    episode = call(app, "malignancy-age-not-improving-after-4-weeks")
    assert by_topic(episode, "malignancy")["indicator"] == "warning"
    assert "not improving" in by_topic(episode, "malignancy")["detail"]
    chronic = call(app, "nm-malignancy-chronic-pain-not-this-episode")
    assert [c["source"]["topic"]["code"] for c in chronic] == ["conservative-care"]


def test_chronic_active_sign_is_a_warning_until_imaged(app: Flask) -> None:
    """CES-02 / CORD-02 decision, both sides: a sign active since 2019 and never imaged
    asks for an assessment (warning, never critical); an MRI after it began stands it
    down."""
    ces = by_topic(call(app, "ces-chronic-retention-2019-never-imaged-warning"), "cauda-equina")
    assert ces["indicator"] == "warning"
    assert ces["summary"] == ("Confirm it has been assessed: Retention of urine, unspecified, "
                              "recorded 2019-06-03, no spine MRI since")
    assert not created([ces])
    cord = by_topic(call(app, "scc-chronic-gait-2019-never-imaged-warning"),
                    "spinal-cord-compression")
    assert cord["indicator"] == "warning" and "recorded 2019-06-03" in cord["summary"]
    for near_miss in ("nm-ces-chronic-retention-2019-mri-since",
                      "nm-cord-chronic-gait-2019-mri-since"):
        assert [c["source"]["topic"]["code"] for c in call(app, near_miss)] == [
            "conservative-care"]


def test_ng12_recognises_blood_results_already_on_record(app: Flask) -> None:
    card = by_topic(call(app, "malignancy-ng12-fbc-calcium-results-done-esr-only"),
                    "malignancy")
    assert card["summary"].startswith("ESR (or plasma viscosity): 60 or over")
    assert created([card]) == ["Erythrocyte sedimentation rate (ESR)"]
    assert "`Observation/cr-ng12-hb-ca-obs-2`" in card["detail"]
    assert "malignancy" not in {c["source"]["topic"]["code"]
                                for c in call(app, "nm-ng12-all-bloods-resulted")}


# The first word of every summary: an action (review 4: "the summary leads with the action").
ACTIONS = {"Same-day", "Emergency", "Contact", "MRI", "Confirm", "Consider", "Remove",
           "Review", "Order", "Self-management", "Test", "Urinalysis", "ESR", "Full",
           "Calcium", "X-ray", "Check",
           "Safety-net", "Re-assess"}  # CONS-01 2.15.0, IMG-01 1.11.0: over a red flag recorded


@pytest.mark.parametrize("scenario_id", [s.id for s in fhir_samples.load_all()
                                         if s.now.isoformat() == NOW_KEY])
def test_every_card_leads_with_the_action_and_links_at_most_three_deep_sources(
        app: Flask, scenario_id: str) -> None:
    for card in call(app, scenario_id):
        assert card["summary"].split()[0].rstrip(",:") in ACTIONS, card["summary"]
        links = card.get("links", [])
        assert len(links) <= 3
        for link in links:
            path = link["url"].split("://", 1)[1].split("/", 1)[1:]
            assert path and path[0].strip("/"), f"home page, not a deep link: {link['url']}"


def test_fludrocortisone_is_not_a_systemic_glucocorticoid(app: Flask) -> None:
    scenario = "nm-fludrocortisone-eight-months-not-a-systemic-steroid"
    assert "fracture" not in {c["source"]["topic"]["code"] for c in call(app, scenario)}

    def prednisolone(body: dict[str, Any]) -> None:
        entry = body["prefetch"]["medicationRequests"]["entry"][0]["resource"]
        entry["medicationCodeableConcept"] = {"text": "Prednisolone 5mg tablets"}

    assert by_topic(call(app, scenario, prednisolone), "fracture")["indicator"] == "warning"


def test_old_discitis_is_history_and_an_ordered_fbc_is_not_suggested_again(app: Flask) -> None:
    inf = by_topic(call(app, "infection-discitis-2019-history-never-imaged-warning"),
                   "infection")
    assert inf["indicator"] == "warning" and "recorded 2019-04-08" in inf["summary"]
    assert not created([inf])
    ng12 = by_topic(call(app, "malignancy-ng12-fbc-already-ordered"), "malignancy")
    assert created([ng12]) == ["Serum calcium (adjusted)", "Erythrocyte sedimentation rate (ESR)"]
    assert "`ServiceRequest/cr-ng12-fbc-ordered-sr-2`" in ng12["detail"]
