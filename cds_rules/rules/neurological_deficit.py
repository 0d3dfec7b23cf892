"""Progressive, severe or multilevel motor deficit (ACP/APS 2007 rec. 3; ACR variants 3-4).

Progressive = MRC grade falling across serial Observations of the same muscle, or a
weakness / foot drop coded as worsening. Severe = foot drop, a weakness Condition whose
``severity`` is severe (SNOMED 24484000, LOINC LA6750-9, or says so in words), or an MRC
grade at or below ``severe_weakness_mrc_grade`` (our threshold). Critical if progressive or
bilateral.
Only a deficit that is new (``cauda_equina_window_days``), worsening or undated counts
(clinical review 2026: an old foot drop is history). NEURO-02: a weakness or foot drop
Condition older than that with no spine MRI since -> "confirm it has been assessed".
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    another_part_change,
    blank_answer_change,
    coded_answer_change,
    comparator_change,
    denial_naming_change,
    lumbar_mri_words_change,
    observation_reading_change,
    question_answered_no_change,
    threshold,
    unassessed_finding,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    MOTOR_DEFICIT,
    MRC_GRADE,
    at_most,
    bilateral,
    days,
    falling_grades,
    is_new,
    motor_deficit,
    persisting_unassessed,
    several_levels,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window = days(settings.cauda_equina_window_days)
    deficit = [f for f in motor_deficit(record) if is_new(f, record, window)]
    progressive = [*falling_grades(record),
                   *(f for f in record.having(*MOTOR_DEFICIT) if f.worsening)]
    if not (deficit or progressive):
        return None
    foot_drop = [f for f in deficit if f.concept == "foot_drop"]
    severe_limit = settings.severe_weakness_mrc_grade
    severe_grades = [f for f in deficit if (f.concept == MRC_GRADE
                     and at_most(f, severe_limit))  # "<3", ">=3" count; ">3" does not
                     or (f.severe and f.concept in MOTOR_DEFICIT)]
    both_sides = bilateral(deficit)
    levels = several_levels(deficit)
    if not (progressive or foot_drop or severe_grades or both_sides or levels):
        return None
    reasons: list[str] = []
    if progressive:
        reasons.append("The motor deficit is progressing (falling MRC grade or coded as "
                       "worsening).")
    if both_sides:
        reasons.append("Weakness affects both legs.")
    if foot_drop or severe_grades:
        reasons.append("The deficit is severe (foot drop, weakness recorded as severe, or "
                       f"MRC grade ≤ {settings.severe_weakness_mrc_grade}).")
    if levels:
        reasons.append("Weakness at more than one level.")
    critical = bool(progressive or both_sides)
    facts: list[Fact] = [*progressive, *both_sides, *foot_drop, *severe_grades, *levels]
    summary = ("MRI within 24 hours and urgent spinal surgical referral: progressive or "
               "bilateral motor deficit" if critical else
               "MRI within 24 hours and urgent spinal surgical referral: new severe or "
               "multilevel motor deficit")
    return rule.finding(
        "critical" if critical else "warning",
        summary,
        facts,
        reasons,
        (
            Recommendation("mri-lumbar-without-contrast", "urgent", recommended=True),
            Recommendation("spinal-surgery-referral", "urgent"),
        ),
        [threshold(settings, "cauda_equina_window_days"),
         *([threshold(settings, "severe_weakness_mrc_grade")] if severe_grades else [])],
    )


def _unassessed(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    """A foot drop or bilateral weakness in the record past the window, no spine MRI since."""
    if ctx.fired(Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT):
        return None
    window_days = ctx.settings.cauda_equina_window_days
    old = persisting_unassessed(record, MOTOR_DEFICIT, days(window_days))
    # Only what NEURO-01 would call severe when new: a foot drop, or weakness of both legs.
    facts = [*(f for f in old if f.concept == "foot_drop"), *bilateral(old)]
    if not facts:
        return None
    return unassessed_finding(rule, facts, "motor deficit",
                              [threshold(ctx.settings, "cauda_equina_window_days")])


NEURO_01 = Rule(
    id="NEURO-01",
    version="2.11.1",
    topic=Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT,
    title="Progressive, severe or multilevel motor deficit",
    indicators=("critical", "warning"),
    evidence=("acp-aps-2007", "acp-2011", "acr-ac-lbp"),
    advice=(
        "MRI of the lumbar spine without contrast within 24 hours (ACP/APS rec. 3: prompt "
        "imaging for severe or progressive deficits).",
        "Urgent referral to a spinal surgeon.",
        "Re-examine and record MRC grades of the affected muscles to document progression.",
    ),
    check=_check,
    needs=frozenset({*MOTOR_DEFICIT, MRC_GRADE}),  # coded weakness or a measured grade
    changes=present_denial_change("2.11.1")
    + notes_change("2.11.0") + column_value_change("2.10.2") + blank_answer_change("2.10.1")
    + question_answered_no_change("2.10.0")
    + value_beside_code_change("2.9.0")
    + words_in_values_change("2.8.0")
    + another_part_change("2.7.0")
    + denial_naming_change("2.6.0")
    + observation_reading_change("2.5.0")
    + comparator_change("2.4.0", "an MRC grade (deficit, severe grade, falling grade) is")
    + coded_answer_change("2.3.0")
    + "2.2.0: Condition.severity is severe when a coding is SNOMED CT 24484000 or "
            "LOINC LA6750-9, or its text or a display says severe (not negated); before, "
            "only SNOMED CT or the exact text 'severe'. "
            "2.1.0: a new weakness Condition with severity 'severe' (SNOMED 24484000) is a "
            "severe deficit. 2.0.0: only a new (CAUDA_EQUINA_WINDOW_DAYS), worsening or "
            "undated deficit is severe (an old foot drop is history: NEURO-02); summary "
            "leads with the action.",
)

NEURO_02 = Rule(
    id="NEURO-02",
    version="1.11.1",
    topic=Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT,
    title="Foot drop or bilateral weakness in the record, not new, no spine MRI since",
    indicators=("warning",),
    evidence=("acp-aps-2007", "acp-2011"),
    advice=(
        "Confirm the deficit has been assessed; re-examine and record MRC grades.",
        "If it is progressing or was never assessed: MRI within 24 hours and urgent spinal "
        "surgical referral.",
    ),
    check=_unassessed,
    needs=frozenset(MOTOR_DEFICIT),
    changes=present_denial_change("1.11.1")
    + notes_change("1.11.0") + column_value_change("1.10.2") + blank_answer_change("1.10.1")
    + question_answered_no_change("1.10.0")
    + value_beside_code_change("1.9.0")
    + words_in_values_change("1.8.0")
    + another_part_change("1.7.0")
    + denial_naming_change("1.6.0")
    + lumbar_mri_words_change("1.5.0")
    + observation_reading_change("1.4.0")
    + coded_answer_change("1.3.0")
    + "1.2.0: a spine MRI is also recognised from an ImagingStudy's series modality "
            "with a body-site code of value set spine_body_site, or from the study-level "
            "modality list with a spine site or description (before: a series modality with "
            "a spine word only). "
            "1.1.0: the summary names the sign and its date without the family in brackets "
            "(it was clipped at 140 characters for long displays); the family is in the "
            "'Why' line. "
            "1.0.0 (new): foot drop or bilateral weakness (Condition) older than the "
            "window, no spine MRI since -> warning 'confirm it has been assessed' instead "
            "of 'MRI within 24 hours' at every visit.",
)

RULES = (NEURO_01, NEURO_02)
