"""``backpain-cds feedback-report``: the governance numbers, on both databases."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from cds_rules.model import Topic
from service.cli import main
from service.store import FeedbackItem, SnoozeMemory, Store
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    HASH_KEY,
    SADDLE,
    SERVICE,
    T0,
    answer,
    finding,
    hook_call,
    override,
)


@pytest.fixture
def governance_data(store: Store) -> Store:
    """Fracture v1 (old, before T0) and v2; malignancy; feedback of every kind."""
    memory = SnoozeMemory(store)
    fracture_v1 = finding(Topic.FRACTURE, SADDLE)
    fracture_v2 = replace(fracture_v1, rule_version="2.0.0")
    old = hook_call(fracture_v1, at=T0 - timedelta(days=60))
    answer(memory, old)
    store.add_feedback(SERVICE, [override(old.evaluation.cards[0].uuid, "not-applicable")])

    calls = [hook_call(fracture_v2, finding(Topic.MALIGNANCY), at=T0, patient=f"p{i}")
             for i in range(4)]
    for call in calls:
        answer(memory, call)
    fracture = [c.evaluation.cards[0] for c in calls]
    malignancy = [c.evaluation.cards[1] for c in calls]
    store.add_feedback(SERVICE, [
        FeedbackItem(card=fracture[0].uuid, outcome="accepted", outcome_timestamp=T0,
                     accepted_suggestions=(fracture[0].suggestions[0].uuid,)),
        FeedbackItem(card=fracture[0].uuid, outcome="accepted",  # same card again
                     outcome_timestamp=T0 + timedelta(minutes=1),
                     accepted_suggestions=(fracture[0].suggestions[0].uuid,)),
        override(fracture[1].uuid, "already-assessed"),
        override(fracture[2].uuid, "already-assessed"),
        override(fracture[3].uuid, None, comment="ortho saw her"),
        override(malignancy[0].uuid, "disagree-with-guideline"),
    ])
    # the two snoozed patients come back: the fracture card is hidden twice
    for i in (1, 2):
        answer(memory, hook_call(*calls[i].evaluation.findings, at=T0 + timedelta(days=1),
                                 patient=f"p{i}"))
    return store


def test_report_counts_per_topic_and_rule_version(governance_data: Store) -> None:
    rows = {(r.topic, r.rule_version): r for r in governance_data.report()}
    assert set(rows) == {("fracture", "1.0.0"), ("fracture", "2.0.0"), ("malignancy", "1.0.0")}
    v2 = rows["fracture", "2.0.0"]
    # issued on the 4 first calls only: the 2 later calls hid it (suppressed)
    assert (v2.issued, v2.accepted, v2.overridden, v2.snoozed, v2.suppressed) == (4, 1, 3, 2, 2)
    assert v2.overridden_by_reason == {"already-assessed": 2, "(comment only)": 1}
    malignancy = rows["malignancy", "1.0.0"]
    # shown on all 6 calls: snoozing fracture does not hide malignancy
    assert (malignancy.issued, malignancy.overridden, malignancy.snoozed) == (6, 1, 0)
    assert malignancy.overridden_by_reason == {"disagree-with-guideline": 1}
    v1 = rows["fracture", "1.0.0"]
    assert (v1.issued, v1.overridden, v1.overridden_by_reason) == (1, 1, {"not-applicable": 1})


def test_report_since_leaves_older_cards_out(governance_data: Store) -> None:
    rows = governance_data.report(since=T0 - timedelta(days=1))
    assert {(r.topic, r.rule_version) for r in rows} == {("fracture", "2.0.0"),
                                                         ("malignancy", "1.0.0")}


def test_the_command_prints_table_csv_and_json(governance_data: Store, database_url: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKPAIN_CDS_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKPAIN_CDS_PATIENT_HASH_KEY", HASH_KEY)
    since = (T0 - timedelta(days=1)).date().isoformat()

    assert main(["feedback-report", "--since", since, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["topic"], r["rule_version"], r["issued"]) for r in report] == [
        ("fracture", "2.0.0", 4), ("malignancy", "1.0.0", 6)]

    assert main(["feedback-report", "--since", since, "--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert lines[0]["overridden_by_reason"] == "(comment only)=1; already-assessed=2"
    assert lines[0]["snoozed"] == "2"

    assert main(["feedback-report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["topic", "rule_id", "rule_version"]
    assert len(table) == 4


def test_the_command_refuses_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["feedback-report", "--since", "last tuesday"])
    assert "not an ISO date" in capsys.readouterr().err
