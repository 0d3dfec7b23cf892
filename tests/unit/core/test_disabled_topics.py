"""BACKPAIN_CDS_DISABLED_TOPICS switches a family's cards off at a site, but never an
emergency: a critical finding is shown whatever the setting (safety principle 1)."""

from __future__ import annotations

from cds_rules.model import Topic
from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import fact, patient, run, topics

CES_OFF = RuleSettings(disabled_topics=frozenset({Topic.CAUDA_EQUINA}))


def test_a_disabled_topic_still_shows_its_critical_card() -> None:
    result = run(patient(fact("urinary_retention", 1)), settings=CES_OFF)
    assert topics(result) == {"cauda-equina": "critical"}
    assert [f.topic for f in result.findings] == [Topic.CAUDA_EQUINA]


def test_a_disabled_topic_still_hides_its_warning_card() -> None:
    quiet = RuleSettings(disabled_topics=frozenset({Topic.FRACTURE}))
    record = patient(fact("osteoporosis", 900))
    assert topics(run(record)) == {"fracture": "warning"}
    assert topics(run(record, settings=quiet)) == {}


def test_a_critical_card_of_a_disabled_topic_keeps_its_siblings() -> None:
    """Disabling one emergency family changes nothing for the others."""
    record = patient(fact("urinary_retention", 1), fact("osteoporosis", 900))
    assert topics(run(record, settings=CES_OFF)) == {"cauda-equina": "critical",
                                                     "fracture": "warning"}
