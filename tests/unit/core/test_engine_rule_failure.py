"""A red-flag rule that raises must never read as "no red flags" (safety principle 1).

The fault is injected by making a helper of CES-01 raise: the record itself is ordinary
(urinary retention yesterday), so only the rule's failure can change the outcome.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules.rules import cauda_equina
from tests.unit.core.rule_records import card, fact, patient, run, topics


def _crash(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("injected fault: patient detail that must not reach a card")


def test_crashed_red_flag_rule_is_not_read_as_no_red_flags(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cauda_equina, "new_or_worsening", _crash)
    result = run(patient(fact("urinary_retention", 1)))
    assert "conservative-care" not in topics(result)
    assert topics(result) == {"cauda-equina": "warning"}
    shown = card(result, "cauda-equina")
    assert shown["summary"] == ("Red-flag check for cauda equina could not run: "
                                "assess manually")
    assert f"CES-01 v{cauda_equina.CES_01.version}" in shown["detail"]
    assert "injected fault" not in shown["detail"]
    assert result.failed_rules == ["CES-01"]  # for the operators' metric (the shell counts)


def test_a_rule_failure_is_logged_by_type_and_place_never_its_text(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The exception's text may quote the record (a name, a number: a patient's data is
    not only their id, which the log filter scrubs); as for a reader's fault, the log line
    says which rule, the exception's type and where it was raised, with no traceback."""
    import logging
    monkeypatch.setattr(cauda_equina, "new_or_worsening", _crash)
    with caplog.at_level(logging.ERROR, logger="cds_rules.engine"):
        run(patient(fact("urinary_retention", 1)))
    (line,) = caplog.records
    assert line.getMessage().startswith("rule CES-01 failed: RuntimeError at "
                                        "test_engine_rule_failure.py:")
    assert "in _crash" in line.getMessage() and "cauda_equina.py:" in line.getMessage()
    assert "patient detail" not in caplog.text
    assert line.exc_info is None


def test_crashed_red_flag_rule_keeps_imaging_not_indicated_quiet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.core.rule_records import order
    monkeypatch.setattr(cauda_equina, "new_or_worsening", _crash)
    draft = order("spine_mri", "draft")
    result = run(patient(fact("urinary_retention", 1), orders=(draft,)), "order-sign")
    assert "imaging-not-indicated" not in topics(result)
    assert topics(result).get("cauda-equina") == "warning"


def test_without_the_fault_the_same_record_is_critical() -> None:
    result = run(patient(fact("urinary_retention", 1)))
    assert topics(result) == {"cauda-equina": "critical"}
    assert result.failed_rules == []


def test_red_flag_rules_run_before_pathway_rules_whatever_the_catalogue_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PATHWAY.md: the pathway rules stand down when a red flag fired, so every red-flag
    rule runs first; a catalogue listing a pathway rule first must not change that (the
    engine keeps its phase order for the catalogue tuple, #15)."""
    from cds_rules import engine
    from cds_rules.catalogue import BY_ID
    reassure, retention = BY_ID["CONS-01"], BY_ID["CES-01"]
    for rules in ((reassure, retention), [reassure, retention]):
        monkeypatch.setattr(engine, "RULES", rules)
        assert topics(run(patient(fact("urinary_retention", 1)))) == {"cauda-equina": "critical"}
    listed = [reassure]
    monkeypatch.setattr(engine, "RULES", listed)
    assert "conservative-care" in topics(run(patient(fact("urinary_retention", 1))))
    listed.append(retention)  # a list changed in place is read again
    assert topics(run(patient(fact("urinary_retention", 1)))) == {"cauda-equina": "critical"}


def test_facts_that_cannot_be_read_are_could_not_run_warnings_not_a_crash() -> None:
    """A record whose facts list holds something that is not a fact: every red-flag rule
    fails on it and says so (as before the engine asked the record's concepts once)."""
    from cds_rules.engine import run_rules
    from cds_rules.settings import DEFAULT_SETTINGS
    record = patient(fact("urinary_retention", 1))
    record.facts.append(None)  # type: ignore[arg-type]
    findings = run_rules(record, "patient-view", DEFAULT_SETTINGS)
    assert findings and all(f.summary.endswith("could not run: assess manually")
                            for f in findings)
    assert {f.topic.value for f in findings} >= {"cauda-equina", "spinal-cord-compression"}
