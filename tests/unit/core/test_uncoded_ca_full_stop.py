""""Ca. prostate": a site's cancer written with a full stop after "Ca" was silent (the
sentence reader cut at the stop: the tenth session's note). UNCODED-MAL 1.9.0 reads it;
the stop still ends a sentence when no site follows, so nothing after it is pulled into a
denial before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.catalogue import RULES
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import local_problem

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
CANCER = (Topic.MALIGNANCY, "cancer")
RETENTION = (Topic.CAUDA_EQUINA, "urinary retention")


@pytest.mark.parametrize("text", [
    "Ca. prostate",
    "Ca. prostate on hormones",
    "CA. of the breast",
    "Hx: Ca. breast 2015",
    "ca.prostate",
    "Ca.  bowel, resected 2019",
])
def test_a_site_after_the_stop_is_a_cancer_history(text: str) -> None:
    assert CANCER in suggested(text, closes_negated)


@pytest.mark.parametrize("text", [
    "No Ca. prostate",
    "Family history of Ca. breast",
    "Ca. 2.4 mmol/L",  # calcium, no site follows
    "ca. 2010 back injury",  # circa
    "Corrected Ca. 2.61",
])
def test_a_denial_or_another_meaning_stays_quiet(text: str) -> None:
    assert suggested(text, closes_negated) == ()


def test_the_stop_still_ends_a_sentence_when_no_site_follows() -> None:
    # Joined to the denial before it, the retention would be read as denied.
    assert RETENTION in suggested("No breast ca. Urinary retention since Monday",
                                  closes_negated)
    assert suggested("Breast ca. Urinary retention", closes_negated) == (CANCER, RETENTION)


def test_the_card_warns_instead_of_reassuring() -> None:
    resources = (
        {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
         "onsetDateTime": "2026-02-20"},
        local_problem("Ca. prostate"),
    )
    cards = evaluate(HookRequest(hook="patient-view", patient_id="p", resources=resources),
                     NOW).cards
    shown = [(c.topic, c.indicator, c.summary) for c in cards]
    assert ("malignancy", "warning", "Check the record: uncoded entry suggests cancer") in shown
    assert all(topic != "conservative-care" for topic, _, _ in shown)


def test_the_rule_that_reads_more_carries_a_new_version() -> None:
    rule = next(r for r in RULES if r.id == "UNCODED-MAL")
    assert rule.version == "1.9.0"
    assert rule.changes.startswith("1.9.0: read also a site's cancer written with a full stop")
    assert "1.8.1: no change in what is read" in rule.changes
