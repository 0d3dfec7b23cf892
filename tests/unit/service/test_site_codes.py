"""BACKPAIN_CDS_SITE_CODES: a site's local codes added to concepts, checked at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules import valuesets as vs
from cds_rules.site_codes import SiteCodeError, load_file
from fhir_samples import SCENARIO_DIR
from service.config import ConfigError, load_settings
from tests.helpers import make_test_app

EXAMPLE = SCENARIO_DIR.parent / "site_codes" / "example-hospital.json"
LOCAL = "http://hospital.example.org/fhir/CodeSystem/local-problems"
NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _shipped_value_sets_afterwards() -> Iterator[None]:
    yield
    vs.apply_site_codes([])


def _request(code: str, display: str) -> HookRequest:
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1975-01-01"},
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": LOCAL, "code": "LBP", "display": "Low back pain"}]},
         "onsetDateTime": "2026-02-20"},
        {"resourceType": "Observation", "id": "o1", "status": "final",
         "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
         "code": {"coding": [{"system": LOCAL, "code": code, "display": display}]},
         "valueBoolean": True},
    ]
    return HookRequest(hook="patient-view", patient_id="p", resources=tuple(resources))


def _cards(request: HookRequest) -> set[tuple[str, str]]:
    return {(c["source"]["topic"]["code"], c["indicator"])
            for c in to_json(evaluate(request, NOW).cards)}


def test_the_example_file_maps_codes_to_concepts_and_order_kinds() -> None:
    pairs = load_file(EXAMPLE, set(vs.VALUE_SETS))
    assert {(c, e["code"]) for c, e in pairs} == {
        ("saddle_anaesthesia", "CES-SCREEN-POS"), ("urinary_retention", "BLAD-RET"),
        ("spine_mri", "MRLSPINE"), ("low_back_pain", "LBP")}
    vs.apply_site_codes(pairs)
    assert vs.concepts_for(LOCAL, "CES-SCREEN-POS") == ("saddle_anaesthesia",)
    assert vs.order_kinds_for("http://hospital.example.org/fhir/CodeSystem/local-orders",
                              "MRLSPINE") == ("spine_mri",)


def test_a_site_coded_cauda_equina_sign_is_an_emergency_only_with_the_site_file() -> None:
    request = _request("CES-SCREEN-POS", "Cauda equina screen positive")
    # local codes unknown: their words give the back-pain context and name a cauda equina
    # screen, a warning to check (never critical on words); the site file makes it coded
    assert _cards(request) == {("cauda-equina", "warning")}
    vs.apply_site_codes(load_file(EXAMPLE, set(vs.VALUE_SETS)))
    assert _cards(request) == {("cauda-equina", "critical")}
    vs.apply_site_codes([])
    assert vs.concepts_for(LOCAL, "CES-SCREEN-POS") == ()


def test_the_app_applies_the_file_at_start_up(tmp_path: Path) -> None:
    make_test_app(site_codes=str(EXAMPLE))
    assert vs.concepts_for(LOCAL, "BLAD-RET") == ("urinary_retention",)
    entry = next(e for e in vs.VALUE_SETS["urinary_retention"].entries if e.get("site"))
    assert entry["verified"].startswith("site code (ConceptMap")
    make_test_app()
    assert vs.concepts_for(LOCAL, "BLAD-RET") == ()


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"resourceType": "ConceptMap", "id": "cm", "group": [{"source": LOCAL, "element": [
            {"code": "X", "target": [{"code": "no_such_concept", "equivalence": "equivalent"}]}]}]},
         "ConceptMap cm group[0].element[0].target: unknown concept 'no_such_concept'"),
        ({"resourceType": "ConceptMap", "id": "cm", "group": [{"element": [
            {"code": "X", "target": [{"code": "urinary_retention"}]}]}]},
         "ConceptMap cm group[0].element[0]: no code system"),
        ({"resourceType": "Bundle", "entry": [{"resource": {
            "resourceType": "ValueSet", "url": "https://backpain-cds.org/fhir/ValueSet/nope",
            "compose": {"include": [{"system": LOCAL, "concept": [{"code": "A"}]}]}}}]},
         "Bundle.entry[0]: ValueSet url/id: unknown concept"),
        ({"resourceType": "ValueSet", "id": "urinary-retention",
          "compose": {"include": [{"system": LOCAL, "concept": [{"display": "no code"}]}]}},
         "compose.include[0].concept[0]: no code"),
        ({"resourceType": "Patient"}, "resourceType 'Patient'"),
    ],
)
def test_a_bad_entry_stops_start_up_with_its_name(tmp_path: Path, document: dict[str, Any],
                                                  named: str) -> None:
    path = tmp_path / "site.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SiteCodeError, match="site code file"):
        load_file(path, set(vs.VALUE_SETS))
    with pytest.raises(ConfigError) as caught:
        load_settings({"BACKPAIN_CDS_SITE_CODES": str(path),
                       "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1"})
    assert named in str(caught.value)
    assert "BACKPAIN_CDS_SITE_CODES" in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it as JSON"):
        load_settings({"BACKPAIN_CDS_SITE_CODES": str(tmp_path / "missing.json")})
