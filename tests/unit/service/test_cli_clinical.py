"""``backpain-cds rules``, ``samples`` and ``evaluate`` through the real console entry point."""

from __future__ import annotations

import json
import os
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from cds_rules.catalogue import RULES
from fhir_samples import load, load_all
from service.cli import main

SNOMED = "http://snomed.info/sct"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _clean_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BACKPAIN_CDS_"):
            monkeypatch.delenv(name)


def test_rules_lists_every_rule_with_version_topic_indicator_evidence(capsys) -> None:
    code, out, _ = cli(capsys, "rules")
    assert code == 0
    for rule in RULES:
        line = next(x for x in out.splitlines() if x.startswith(f"{rule.id}  "))
        assert f"v{rule.version}" in line and rule.topic.value in line
        assert all(i in line for i in rule.indicators)
    assert "https://www.nice.org.uk/guidance/ng59" in out


def test_rules_says_what_each_version_changed(capsys) -> None:
    """Every rule changed by the clinical review says so under its line, and the change
    log has a line for each of those rule versions (a safety officer signs them off)."""
    code, out, _ = cli(capsys, "rules")
    assert code == 0
    changelog = (Path(__file__).resolve().parents[3] / "cds_rules" / "CHANGELOG.md").read_text()
    for rule in RULES:
        if not rule.changes:
            continue
        block = out.split(f"{rule.id}  v{rule.version}", 1)[1].split("\n\n", 1)[0]
        assert f"changed: {rule.changes[:40]}" in block
        assert f"{rule.id} {rule.version}" in changelog, rule.id
        assert rule.changes.startswith(f"{rule.version}:") or rule.changes.startswith(
            f"{rule.version} "), f"{rule.id}: 'changes' must describe v{rule.version}"
    assert any(rule.changes for rule in RULES)


def test_each_rules_history_lists_its_versions_newest_first() -> None:
    """Versions merged from parallel changes must not repeat or go backwards: each rule's
    'changes' names every version once, newest first, and the change log has each."""
    changelog = (Path(__file__).resolve().parents[3] / "cds_rules" / "CHANGELOG.md").read_text()
    for rule in RULES:
        versions = re.findall(r"(?:^|\s)(\d+\.\d+\.\d+)(?: \(new\))?:", rule.changes)
        numbers = [tuple(map(int, v.split("."))) for v in versions]
        assert versions and versions[0] == rule.version, rule.id
        assert all(a > b for a, b in pairwise(numbers)), (rule.id, versions)
        for version in versions:
            # UNCODED-* 1.0.0 is logged as "UNCODED-CES / -CORD / ... 1.0.0"
            assert f"{rule.id} {version}" in changelog or rule.id.startswith("UNCODED"), (
                rule.id, version)


def test_rules_json(capsys) -> None:
    code, out, _ = cli(capsys, "rules", "--json")
    catalogue = json.loads(out)
    assert code == 0
    assert [r["id"] for r in catalogue] == [r.id for r in RULES]
    assert all(r["evidence"] and all(e["url"].startswith("https://") and e["version"]
                                     for e in r["evidence"]) for r in catalogue)


def test_samples_lists_every_scenario(capsys) -> None:
    code, out, _ = cli(capsys, "samples")
    assert code == 0
    for scenario in load_all():
        assert scenario.id in out


def test_samples_json(capsys) -> None:
    _, out, _ = cli(capsys, "samples", "--json")
    listed = json.loads(out)
    assert {s["id"] for s in listed} == {s.id for s in load_all()}


def test_evaluate_sample_prints_cards_readably(capsys) -> None:
    code, out, _ = cli(capsys, "evaluate", "ces-urinary-retention-icd10")
    assert code == 0
    assert "[CRITICAL] Same-day emergency assessment and emergency MRI: possible cauda equina" \
        " syndrome" in out
    assert "topic: cauda-equina" in out
    assert "**Why**" in out and "`Condition/" in out
    assert "Result matches the sample's expectation" in out


def test_evaluate_sample_json_is_the_wire_response(capsys) -> None:
    scenario = load("inn-order-select-mri-acute-snomed")
    code, out, _ = cli(capsys, "evaluate", scenario.id, "--json")
    body = json.loads(out)
    assert code == 0
    assert {(c["source"]["topic"]["code"], c["indicator"]) for c in body["cards"]} == \
        set(scenario.expected)


def _bundle(onset: str, *, draft_mri: bool = False, retention: bool = True) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "cli-p1", "birthDate": "1970-05-01",
         "gender": "female"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/cli-p1"},
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                        "condition-clinical", "code": "active"}]},
         "code": {"coding": [{"system": SNOMED, "code": "279039007",
                              "display": "Low back pain"}]},
         "onsetDateTime": onset},
    ]
    if retention:
        entries.append(
            {"resourceType": "Condition", "id": "ret", "subject": {"reference": "Patient/cli-p1"},
             "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                  "display": "Retention of urine"}]},
             "onsetDateTime": onset})
    if draft_mri:
        entries.append(
            {"resourceType": "ServiceRequest", "id": "mri-draft", "status": "draft",
             "intent": "order", "subject": {"reference": "Patient/cli-p1"},
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106",
                                  "display": "MRI lumbar spine without contrast"}]}})
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in entries]}


def test_evaluate_bundle_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(_bundle("2026-06-10")), encoding="utf-8")
    code, out, _ = cli(capsys, "evaluate", str(path), "--now", "2026-06-12T09:00:00Z", "--json")
    cards = json.loads(out)["cards"]
    assert code == 0
    assert cards[0]["source"]["topic"]["code"] == "cauda-equina"
    assert cards[0]["indicator"] == "critical"
    assert "Patient/cli-p1" in json.dumps(cards[0]["suggestions"])


def test_evaluate_bundle_window_follows_now(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(_bundle("2026-06-10")), encoding="utf-8")
    _, out, _ = cli(capsys, "evaluate", str(path), "--now", "2026-09-01", "--json")
    cards = {c["source"]["topic"]["code"]: c["indicator"] for c in json.loads(out)["cards"]}
    # out of the 14-day window: not an emergency; still active and never imaged, so the
    # clinician is asked to confirm it was assessed (clinical review 2026)
    assert cards == {"cauda-equina": "warning"}


def test_evaluate_bundle_as_order_sign_judges_its_draft(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(_bundle("2026-06-10", draft_mri=True, retention=False)),
                    encoding="utf-8")
    _, out, _ = cli(capsys, "evaluate", str(path), "--hook", "order-sign",
                    "--now", "2026-06-20T09:00:00+00:00", "--json")
    cards = json.loads(out)["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["imaging-not-indicated"]
    delete = cards[0]["suggestions"][0]["actions"][0]
    assert delete["type"] == "delete" and delete["resourceId"] == "ServiceRequest/mri-draft"


def test_evaluate_cds_hooks_request_file(tmp_path: Path, capsys) -> None:
    scenario = load("scc-bone-metastases-new-numbness")
    path = tmp_path / "request.json"
    path.write_text(json.dumps(scenario.request_body()), encoding="utf-8")
    _, out, _ = cli(capsys, "evaluate", str(path), "--now", scenario.now.isoformat(), "--json")
    got = {(c["source"]["topic"]["code"], c["indicator"]) for c in json.loads(out)["cards"]}
    assert got == set(scenario.expected)


@pytest.mark.parametrize("argv", [
    ("evaluate", "no-such-sample-or-file"),
    ("evaluate", "ces-urinary-retention-icd10", "--now", "yesterday"),
])
def test_evaluate_bad_input_exits_2(capsys, argv: tuple[str, ...]) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == "" and "evaluate:" in err


def test_evaluate_file_without_patient(tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection"}), "utf-8")
    code, _, err = cli(capsys, "evaluate", str(path))
    assert code == 2 and "no Patient" in err


def test_disabled_topics_never_silence_a_critical_card(monkeypatch, capsys) -> None:
    """Safety principle 1: a site may switch a family off, but an emergency in the record
    is still shown; the setting does hide that family's non-critical cards."""
    monkeypatch.setenv("BACKPAIN_CDS_DISABLED_TOPICS", "cauda-equina,fracture")
    code, out, _ = cli(capsys, "evaluate", "ces-urinary-retention-icd10", "--json")
    assert code == 0
    got = {(c["source"]["topic"]["code"], c["indicator"]) for c in json.loads(out)["cards"]}
    assert got == {("cauda-equina", "critical")}
    code, out, _ = cli(capsys, "evaluate", "fracture-osteoporosis-snomed", "--json")
    assert code == 0
    assert "fracture" not in {c["source"]["topic"]["code"] for c in json.loads(out)["cards"]}


def test_every_threshold_a_card_discloses_is_a_real_setting() -> None:
    """A card names ``BACKPAIN_CDS_<NAME>``: that variable must exist and reach the core."""
    from cds_rules.settings import OUR_THRESHOLDS, env_name
    from service.config import VARIABLES, load_settings

    env = {var.env: var for var in VARIABLES}
    for name in OUR_THRESHOLDS:
        assert env_name(name) in env, f"{env_name(name)} is disclosed but not configurable"
        default = getattr(load_settings({}).rule_settings(), name)
        changed = default
        if isinstance(default, int | float):  # another value inside the plausible range
            low, high = env[env_name(name)].bounds or (default, default + 1)
            changed = default + 1 if default + 1 <= high else default - 1
            assert low <= changed <= high
        loaded = load_settings({env_name(name): str(changed)}).rule_settings()
        assert getattr(loaded, name) == changed


def _man_with_back_pain(path: Path, birth_date: str) -> Path:
    """A man with 3 weeks of low back pain and nothing else, as a Bundle file."""
    entries = [
        {"resourceType": "Patient", "id": "cli-m1", "birthDate": birth_date, "gender": "male"},
        {"resourceType": "Condition", "id": "lbp-m1", "subject": {"reference": "Patient/cli-m1"},
         "code": {"coding": [{"system": SNOMED, "code": "279039007",
                              "display": "Low back pain"}]},
         "onsetDateTime": "2026-05-20"},
    ]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in entries]}), "utf-8")
    return path


@pytest.mark.parametrize(("env", "fracture"), [
    ({}, False),  # single mode, 70: a 62-year-old man is not at fracture age
    ({"BACKPAIN_CDS_FRACTURE_AGE_MODE": "acp"}, False),  # ACP default: men > 65
    ({"BACKPAIN_CDS_FRACTURE_AGE_MODE": "acp", "BACKPAIN_CDS_FRACTURE_AGE_MALE": "60"}, True),
    ({"BACKPAIN_CDS_FRACTURE_AGE_MALE": "60"}, False),  # the sex-specific ages need acp mode
    ({"BACKPAIN_CDS_FRACTURE_AGE_MODE": "acp", "BACKPAIN_CDS_FRACTURE_AGE_FEMALE": "60"},
     False),  # a man is judged by the male age
])
def test_acp_fracture_ages_come_from_the_environment(tmp_path: Path, monkeypatch, capsys,
                                                     env: dict[str, str],
                                                     fracture: bool) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = _man_with_back_pain(tmp_path / "man.json", "1964-01-10")  # 62 on the day
    _, out, _ = cli(capsys, "evaluate", str(path), "--now", "2026-06-12T09:00:00Z", "--json")
    cards = {c["source"]["topic"]["code"]: c for c in json.loads(out)["cards"]}
    assert ("fracture" in cards) is fracture
    if fracture:
        assert "over 60, ACP 2011 male threshold" in cards["fracture"]["detail"]


def test_acp_fracture_ages_reach_the_rule_settings() -> None:
    from service.config import load_settings

    rules = load_settings({"BACKPAIN_CDS_FRACTURE_AGE_MALE": "61",
                           "BACKPAIN_CDS_FRACTURE_AGE_FEMALE": "71"}).rule_settings()
    assert (rules.fracture_age_male, rules.fracture_age_female) == (61, 71)
