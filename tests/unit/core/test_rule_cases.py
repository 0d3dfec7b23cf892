"""Rule cases as data: one YAML file per rule family in ``rule_cases/`` (facts in, finding
out), read by clinicians and run here, one test per case.

A case (every key but ``name`` and ``expect`` optional)::

    - name: a new sign is critical          # what a reviewer reads in the test id
      for_each: {sign: [urinary_retention, saddle_anaesthesia]}  # one case per value,
                                            # "{sign}" replaced in the strings below (a
                                            # value may be a whole fact: facts: ["{sign}"])
      age: 45                               # null: no birth date recorded
      sex: female
      back_pain_days: 10                    # null: no back pain on record
      hook: patient-view
      settings: {cauda_equina_window_days: 30}     # RuleSettings fields
      selections: [ServiceRequest/x]
      facts:                                # as the record builder makes them
        - {concept: "{sign}", days_ago: 2}  # days_ago null: undated; also history,
                                            # laterality, worsening, value, unit,
                                            # resource_type (default Condition), code
        - {grade: 4, days_ago: 1, side: left, muscle: ankle-dorsiflexion}  # MRC grade
      orders:
        - {kind: spine_mri, state: completed, days_ago: 20}
      expect:
        cards: {cauda-equina: critical}     # exactly these cards ({}: none)
        has: {cauda-equina: critical}       # at least these
        absent: [conservative-care]         # none of these topics
        not_critical: [fracture]            # absent or less than critical
        first: cauda-equina                 # the first card's topic
        summary: {cauda-equina: Confirm it has been assessed}  # text in the summary
        detail: {cauda-equina: [NG234]}     # texts in the detail
        orders: {conservative-care: [Physiotherapy / exercise programme referral]}
                                            # the orders its suggestions create, in order

The facts of a case are built with ``rule_records`` (the same helpers as the Python rule
tests), so a case here and a Python test mean the same patient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cds_rules.model import Fact, Order, PatientRecord, Topic
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from tests.unit.core.rule_records import (
    card,
    fact,
    grade,
    order,
    patient,
    run,
    suggested_orders,
    topics,
)

CASE_DIR = Path(__file__).resolve().parent / "rule_cases"
CASE_KEYS = {"name", "for_each", "age", "sex", "back_pain_days", "hook", "settings",
             "selections", "facts", "orders", "expect"}
EXPECT_KEYS = {"cards", "has", "absent", "not_critical", "first", "summary", "detail", "orders"}


def load_cases() -> list[Any]:
    """Every case of every file, expanded over ``for_each``, as pytest params."""
    params = []
    for path in sorted(CASE_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text())["cases"]:
            for name, case in _expand(raw):
                params.append(pytest.param(case, id=f"{path.stem}: {name}"))
    return params


def _expand(raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    unknown = set(raw) - CASE_KEYS | set(raw.get("expect", {})) - EXPECT_KEYS
    assert not unknown, f"{raw.get('name')}: unknown keys {sorted(unknown)}"
    if "for_each" not in raw:
        return [(raw["name"], raw)]
    ((variable, values),) = raw["for_each"].items()
    return [(f"{raw['name']} [{_label(value)}]", _substitute(raw, "{" + variable + "}", value))
            for value in values]


def _label(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=200).strip().removesuffix(
        "\n...") if isinstance(value, dict) else str(value)


def _substitute(value: Any, placeholder: str, text: Any) -> Any:
    """``value`` with ``placeholder`` replaced by ``text`` (kept as it is, a number say,
    where the placeholder is the whole string)."""
    if value == placeholder:
        return text
    if isinstance(value, str):
        return value.replace(placeholder, str(text))
    if isinstance(value, dict):
        return {_substitute(k, placeholder, text): _substitute(v, placeholder, text)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, placeholder, text) for v in value]
    return value


def build_fact(spec: dict[str, Any]) -> Fact:
    spec = dict(spec)
    if "grade" in spec:
        return grade(spec.pop("grade"), spec.pop("days_ago"), **spec)
    return fact(spec.pop("concept"), spec.pop("days_ago", 1), **spec)


def build_record(case: dict[str, Any]) -> PatientRecord:
    age = case.get("age", 45)
    record = patient(*(build_fact(f) for f in case.get("facts", ())),
                     age=45 if age is None else age, sex=case.get("sex", "female"),
                     orders=tuple(build_order(o) for o in case.get("orders", ())),
                     back_pain_days=case.get("back_pain_days", 10))
    if age is None:
        record.birth_date = None
    return record


def build_order(spec: dict[str, Any]) -> Order:
    return order(spec["kind"], spec["state"], spec.get("days_ago"), spec.get("ref", ""))


def build_settings(changes: dict[str, Any] | None) -> RuleSettings:
    if not changes:
        return DEFAULT_SETTINGS
    if "disabled_topics" in changes:
        changes = {**changes,
                   "disabled_topics": frozenset(Topic(t) for t in changes["disabled_topics"])}
    return RuleSettings(**changes)


CASES = load_cases()


def test_every_rule_family_has_cases() -> None:
    families = {p.stem for p in CASE_DIR.glob("*.yaml")}
    rule_modules = {p.stem for p in (CASE_DIR.parents[3] / "cds_rules" / "rules").glob("*.py")}
    assert families <= rule_modules
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES)
def test_rule_case(case: dict[str, Any]) -> None:
    result = run(build_record(case), case.get("hook", "patient-view"),
                 build_settings(case.get("settings")), tuple(case.get("selections", ())))
    expect, got = case["expect"], topics(result)
    if "cards" in expect:
        assert got == expect["cards"]
    for topic, indicator in expect.get("has", {}).items():
        assert got.get(topic) == indicator, got
    for topic in expect.get("absent", ()):
        assert topic not in got, got
    for topic in expect.get("not_critical", ()):
        assert got.get(topic) != "critical", got
    if "first" in expect:
        assert next(iter(got)) == expect["first"], got
    for topic, text in expect.get("summary", {}).items():
        assert text in card(result, topic)["summary"]
    for topic, texts in expect.get("detail", {}).items():
        detail = card(result, topic)["detail"]
        assert [t for t in texts if t not in detail] == [], detail
    for topic, orders in expect.get("orders", {}).items():
        assert suggested_orders(card(result, topic)) == orders


def test_the_runner_can_fail() -> None:
    """An expectation that does not hold fails (so a passing case means something)."""
    case = {"name": "x", "facts": [{"concept": "urinary_retention", "days_ago": 2}],
            "expect": {"absent": ["cauda-equina"]}}
    with pytest.raises(AssertionError):
        test_rule_case(case)
