"""NEURO-01: progressive (critical), bilateral (critical), severe or multilevel (warning)."""

from __future__ import annotations

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, grade, order, patient, run, topics

TOPIC = "progressive-neurological-deficit"


def test_falling_mrc_grade_is_progressive() -> None:
    record = patient(grade(4, 20), grade(3, 1))
    assert topics(run(record))[TOPIC] == "critical"


def test_rising_mrc_grade_is_not_progressive() -> None:
    assert TOPIC not in topics(run(patient(grade(4, 20), grade(5, 1))))


def test_grades_of_different_muscles_are_not_a_series() -> None:
    record = patient(grade(5, 20, muscle="hip-flexion"), grade(4, 1, muscle="ankle-dorsiflexion"))
    assert topics(run(record)).get(TOPIC) != "critical"


def test_weakness_coded_worsening() -> None:
    record = patient(fact("muscle_weakness", 30, laterality="left", worsening=True))
    assert topics(run(record))[TOPIC] == "critical"


def test_new_bilateral_foot_drop() -> None:
    record = patient(fact("foot_drop", 5, laterality="bilateral"))
    assert topics(run(record))[TOPIC] == "critical"


def test_old_foot_drop_is_history_not_mri_within_24_hours() -> None:
    """Clinical review 2026 (finding 13): a foot drop from 2015 is not severe at every
    visit: without an MRI since, 'confirm it has been assessed'; with one, quiet."""
    result = run(patient(fact("foot_drop", 3900, laterality="left")))
    assert topics(result) == {TOPIC: "warning"}
    summary = card(result, TOPIC)["summary"]
    assert "Confirm it has been assessed" in summary and "24 hours" not in summary
    assert not card(result, TOPIC).get("suggestions")
    imaged = patient(fact("foot_drop", 3900, laterality="left"),
                     orders=(order("spine_mri", "completed", 3000),))
    assert TOPIC not in topics(run(imaged))


def test_old_foot_drop_worsening_is_critical() -> None:
    record = patient(fact("foot_drop", 3900, laterality="left", worsening=True))
    assert topics(run(record))[TOPIC] == "critical"


def test_old_unilateral_weakness_is_not_a_warning() -> None:
    assert TOPIC not in topics(run(patient(fact("muscle_weakness", 90, laterality="left"))))


def test_unilateral_foot_drop_is_severe_warning() -> None:
    assert topics(run(patient(fact("foot_drop", 40, laterality="left"))))[TOPIC] == "warning"


def test_severe_grade_is_warning_and_discloses_threshold() -> None:
    result = run(patient(grade(2, 1)))
    assert topics(result)[TOPIC] == "warning"
    assert "BACKPAIN_CDS_SEVERE_WEAKNESS_MRC_GRADE` = 3" in card(result, TOPIC)["detail"]


def test_severe_threshold_is_configurable() -> None:
    record = patient(grade(4, 1))
    assert TOPIC not in topics(run(record))
    assert topics(run(record, settings=RuleSettings(severe_weakness_mrc_grade=4)))[TOPIC]


def test_several_levels_one_side_is_warning() -> None:
    record = patient(grade(4, 5, muscle="hip-flexion"), grade(4, 5, muscle="great-toe"))
    assert topics(run(record))[TOPIC] == "warning"
    old = patient(grade(4, 60, muscle="hip-flexion"), grade(4, 60, muscle="great-toe"))
    assert TOPIC not in topics(run(old))


def test_mild_single_weakness_does_not_fire() -> None:
    assert TOPIC not in topics(run(patient(fact("muscle_weakness", 5, laterality="left"))))
