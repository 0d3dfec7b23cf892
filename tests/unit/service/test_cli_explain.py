"""``backpain-cds evaluate`` says why: the data line, why there are no cards, and which
resources were dropped as invalid or carry only codes no rule reads; a misspelt sample id
gets "did you mean". Through the real command (``service.cli.main``) on real Bundles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_rules import why_invalid
from service.cli import main
from tests.core_fault_support import fail_reader_on

SNOMED = "http://snomed.info/sct"


def bundle(tmp_path: Path, *resources: dict[str, Any]) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in resources]}))
    return str(path)


def condition(rid: str, code: str, display: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": {"reference": "Patient/p1"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                     "condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            "onsetDateTime": "2026-11-25"}


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "female"}


def evaluate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["evaluate", *args, "--now", "2026-12-01T10:00:00Z"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_no_cards_says_why_and_names_invalid_and_unrecognised_resources(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The review's case: a Condition whose id breaks the FHIR id pattern is dropped (a
    diabetes: no back pain); the hypertension has a code no rule reads."""
    path = bundle(tmp_path, PATIENT,
                  condition("added_dm!", "44054006", "Diabetes mellitus type 2"),
                  condition("htn-1", "38341003", "Hypertension"))
    code, out = evaluate(capsys, path)
    assert code == 0
    assert ": 0 card(s)" in out
    assert ("Data: 3 resource(s) seen, 1 used, 1 dropped as invalid, 0 about another patient, "
            "1 with codes no rule reads") in out
    assert "No cards: no back-pain context" in out
    assert "Dropped as invalid (1):\n  - Condition/added_dm!: id:" in out
    assert f"Codes no rule reads (1):\n  - Condition/htn-1: {SNOMED}|38341003" in out


def test_a_malformed_back_pain_still_gives_the_context(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The review's first case, since the twentieth session: the low back pain whose id
    breaks the pattern is dropped, but it is the call's context all the same."""
    code, out = evaluate(capsys, bundle(tmp_path, PATIENT,
                                        condition("added_lbp!", "279039007", "Low back pain")))
    assert code == 0 and ": 1 card(s)" in out
    assert "Dropped as invalid (1):\n  - Condition/added_lbp!: id:" in out
    assert "1 entry naming a red flag, back pain or leg symptoms, malformed" in out


def test_an_entry_a_reader_failed_on_is_named_as_a_fault(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected into the Condition reader on one entry: the data line counts it
    apart from invalid data and the list names it (the log line says where it was raised)."""
    fail_reader_on(monkeypatch, "Condition", "ces-1")
    code, out = evaluate(capsys, bundle(tmp_path, PATIENT,
                                        condition("lbp-1", "279039007", "Low back pain"),
                                        condition("ces-1", "192970008", "Cauda equina syndrome")))
    assert code == 0
    assert ("Data: 3 resource(s) seen, 2 used, 0 dropped as invalid, 1 not read for a fault "
            "in the service, 0 about another patient") in out
    assert "Not read: a fault in the service (logged) (1):\n  - Condition/ces-1\n" in out
    assert "Dropped as invalid" not in out


def test_a_code_sent_as_a_list_is_named_as_the_code(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """fhir.resources names the element "code.root"; the cards say "malformed code", and
    so does the command (no "root" element exists in FHIR)."""
    listed = condition("retention-list", "236648008", "Acute retention of urine")
    listed["code"] = [listed["code"]]
    code, out = evaluate(capsys, bundle(tmp_path, PATIENT, listed,
                                        condition("lbp-1", "279039007", "Low back pain")))
    assert code == 0
    assert "Dropped as invalid (1):\n  - Condition/retention-list: code: " in out
    assert "root" not in out


def test_a_senders_own_root_key_keeps_its_name() -> None:
    """Only fhir.resources' own "root" (a value of the wrong shape) is left out: a key
    named "root" inside an element is an unknown element, named as such (review, LOW)."""
    entry = condition("odd-1", "236648008", "Acute retention of urine")
    entry["code"]["root"] = "x"
    assert why_invalid(entry).startswith("code.root: ")
    entry["code"] = [condition("odd-1", "236648008", "Retention")["code"]]
    assert why_invalid(entry).startswith("code: ")


def test_a_deceased_patient_is_pointed_out(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = bundle(tmp_path, {**PATIENT, "deceasedDateTime": "1996-05-01"})
    code, out = evaluate(capsys, path)
    assert code == 0
    assert "No cards: the Patient is recorded as deceased (deceasedDateTime 1996-05-01)" in out


def test_cards_with_a_valid_record_list_nothing_dropped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bundle(tmp_path, PATIENT, condition("lbp-1", "279039007", "Low back pain"))
    code, out = evaluate(capsys, path)
    assert code == 0 and "0 card(s)" not in out
    assert "No cards" not in out and "Dropped as invalid" not in out
    assert "Data: 2 resource(s) seen, 2 used, 0 dropped as invalid" in out


@pytest.mark.parametrize("typed", ["ces-diagnosis", "ces-diagnosis-g834.json", "ces-diagnsis-g834"])
def test_a_misspelt_sample_id_gets_did_you_mean(typed: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", typed]) == 2
    err = capsys.readouterr().err
    assert "(did you mean ces-diagnosis-g834?)" in err


def test_a_bundle_that_refers_to_its_patient_by_entry_url_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Synthea and EHR exports write references as the Patient entry's fullUrl
    ("urn:uuid:..."), which need not be the Patient's id: the record is the patient's, not
    "about another patient" (before: every entry was dropped and no card came)."""
    entry = "urn:uuid:7f1b0c2e-1111-4222-8333-944455556666"
    retention = condition("c1", "267064002", "Retention of urine")
    retention["subject"] = {"reference": entry}
    back_pain = condition("c2", "279039007", "Low back pain")
    back_pain["subject"] = {"reference": entry}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": entry, "resource": PATIENT},
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": retention},
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002", "resource": back_pain}]}))
    code, out = evaluate(capsys, str(path))
    assert code == 0
    assert "[CRITICAL]" in out and "cauda equina" in out
    assert "0 about another patient" in out


def test_a_hook_body_whose_prefetch_bundle_names_the_patient_by_entry_url_is_read() -> None:
    from service.hook_input import request_from_document
    entry = "urn:uuid:7f1b0c2e-1111-4222-8333-944455556666"
    retention = dict(condition("c1", "267064002", "Retention of urine"),
                     subject={"reference": entry})
    body = {"hook": "patient-view", "context": {"patientId": "p1", "userId": "Practitioner/1"},
            "prefetch": {"everything": {"resourceType": "Bundle", "type": "collection", "entry": [
                {"fullUrl": entry, "resource": PATIENT}, {"resource": retention}]}}}
    request = request_from_document(body, "body.json")
    assert request.patient_references == (entry,)
