"""Spinal cord compression: myelopathic signs, or a history of cancer with any new
neurological symptom (metastatic spinal cord compression, NICE NG234).

Signs count when new (``cauda_equina_window_days``), worsening or undated; a myelopathy /
cord-compression diagnosis counts when new (``new_diagnosis_days``) or worsening. With a
cancer history the card is the NICE NG234 MSCC card: contact the acute oncology / MSCC
coordinator now and whole-spine MRI within 24 hours. CORD-02: a cord sign (Condition) or
diagnosis older than its window with no spine MRI since -> "confirm it has been assessed".
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
    CANCER,
    CORD_SIGNS,
    MOTOR_DEFICIT,
    MRC_GRADE,
    NEURO_DEFICITS,
    NEURO_SYMPTOMS,
    bilateral,
    days,
    is_new,
    mri_since,
    new_diagnoses,
    new_or_worsening,
    persisting_unassessed,
    several_levels,
    weak_grades,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)


def _new_weakness(record: PatientRecord, window_days: int) -> list[Fact]:
    window = days(window_days)
    return [f for f in [*record.having(*MOTOR_DEFICIT), *weak_grades(record)]
            if is_new(f, record, window)]


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window_days = settings.cauda_equina_window_days
    window = days(window_days)
    diagnosis = new_diagnoses(record, ("myelopathy",), days(settings.new_diagnosis_days))
    cord_signs = new_or_worsening(record, CORD_SIGNS, window)
    weakness = _new_weakness(record, window_days)
    widespread = bilateral(weakness) or several_levels(weakness)
    thoracic = record.having("thoracic_back_pain")
    new_deficits = [*new_or_worsening(record, NEURO_DEFICITS, window), *weakness]
    thoracic_neuro = new_deficits if thoracic else []
    cancer = record.ever(*CANCER)
    cancer_neuro = ([*new_or_worsening(record, NEURO_SYMPTOMS, window), *weakness]
                    if cancer else [])

    facts: list[Fact] = []
    reasons: list[str] = []
    if diagnosis:
        facts += diagnosis
        reasons.append("Myelopathy or cord compression is a new (or worsening) diagnosis.")
    if cord_signs:
        facts += cord_signs
        reasons.append("New gait disturbance or upper motor neurone signs suggest the cord "
                       "is involved.")
    if widespread:
        facts += widespread
        reasons.append("New weakness in both legs or at several levels.")
    if thoracic and thoracic_neuro:
        facts += [*thoracic_neuro, *thoracic[:1]]
        reasons.append("Thoracic back pain with a neurological sign.")
    if cancer and cancer_neuro:
        facts += [*cancer_neuro, *cancer]  # the new symptom first: it makes it an emergency
        reasons.append("History of cancer with a new neurological symptom: treat as "
                       "metastatic spinal cord compression until proven otherwise (NICE "
                       "NG234: contact the MSCC coordinator immediately; whole-spine MRI "
                       "within 24 hours).")
    if not facts:
        return None
    uses_window = bool(cord_signs or widespread or thoracic_neuro or cancer_neuro)
    mscc = bool(cancer and cancer_neuro)
    return rule.finding(
        "critical",
        "Contact acute oncology / MSCC coordinator now; whole-spine MRI within 24 h (NG234): "
        "possible MSCC" if mscc else
        "Emergency assessment and emergency whole-spine MRI: possible spinal cord compression",
        facts,
        reasons,
        _mscc_orders() if mscc else (
            Recommendation("emergency-department", "stat", recommended=True),
            Recommendation("mri-whole-spine", "stat"),
            Recommendation("spinal-surgery-referral", "stat"),
        ),
        [*([threshold(settings, "cauda_equina_window_days")] if uses_window else []),
         *([threshold(settings, "new_diagnosis_days")] if diagnosis else [])],
    )


def _mscc_orders() -> tuple[Recommendation, ...]:
    """NICE NG234: contact the MSCC coordinator immediately; whole-spine MRI within 24 h."""
    return (
        Recommendation("mscc-coordinator", "stat", recommended=True),
        Recommendation("mri-whole-spine", "stat"),
        Recommendation("emergency-department", "stat"),
    )


def _unassessed(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    """An older cord-compression diagnosis or an active cord sign, not imaged since."""
    if ctx.fired(Topic.SPINAL_CORD_COMPRESSION):
        return None
    settings = ctx.settings
    old_diagnosis = [f for f in record.having("myelopathy") if not mri_since(record, f)]
    signs = persisting_unassessed(record, CORD_SIGNS, days(settings.cauda_equina_window_days))
    facts = [*old_diagnosis, *signs]
    if not facts:
        return None
    return unassessed_finding(rule, facts, "cord compression red flag",
                              [threshold(settings, "cauda_equina_window_days"),
                               threshold(settings, "new_diagnosis_days")])


CORD_01 = Rule(
    id="CORD-01",
    version="2.11.1",
    topic=Topic.SPINAL_CORD_COMPRESSION,
    title="Suspected spinal cord compression (including metastatic)",
    indicators=("critical",),
    evidence=("nice-ng234-mscc", "nice-qs56-mri", "acp-2011"),
    advice=(
        "Same-day emergency assessment (emergency department / on-call spinal team).",
        "Emergency MRI of the whole spine (within 24 hours; immediately if NG234 criteria "
        "for MSCC are met).",
        "If cancer is known or suspected, contact the acute oncology / MSCC coordinator now; "
        "consider dexamethasone as the local MSCC protocol directs.",
    ),
    check=_check,
    # the diagnosis, a cord sign, new weakness, or a neurological symptom (beside thoracic
    # pain or a cancer): each of NEURO_DEFICITS is one of NEURO_SYMPTOMS
    needs=frozenset({"myelopathy", *NEURO_SYMPTOMS, MRC_GRADE}),
    changes=present_denial_change("2.11.1")
    + notes_change("2.11.0") + column_value_change("2.10.2") + blank_answer_change("2.10.1")
    + question_answered_no_change("2.10.0")
    + value_beside_code_change("2.9.0")
    + words_in_values_change("2.8.0")
    + another_part_change("2.7.0")
    + denial_naming_change("2.6.0")
    + observation_reading_change("2.5.0")
    + comparator_change("2.4.0", "an MRC grade (weakness) is")
    + coded_answer_change("2.3.0")
    + "2.2.0: 'Why' lists the new neurological symptom before the cancer history "
            "(and before thoracic pain); the NG234 evidence names what was checked, without "
            "an unverified section number. "
            "2.1.0: a diagnosis also counts as new when recorded within "
            "NEW_DIAGNOSIS_DAYS (recordedDate), whatever its onset. "
            "2.0.0: a cord-compression diagnosis is critical only when new "
            "(NEW_DIAGNOSIS_DAYS) or worsening (older: CORD-02); with a cancer history the "
            "card is the NG234 MSCC card (contact acute oncology / MSCC coordinator as a "
            "suggestion, whole-spine MRI within 24 h); evidence links to NG234 and QS56 "
            "statement 3 instead of the mislabelled 'NHS emergency spinal pathways'.",
)

CORD_02 = Rule(
    id="CORD-02",
    version="1.10.1",
    topic=Topic.SPINAL_CORD_COMPRESSION,
    title="Cord compression red flag persisting or in history, no spine MRI since",
    indicators=("warning",),
    evidence=("nice-ng234-mscc", "acp-2011"),
    advice=(
        "Confirm the sign or diagnosis has been assessed and the assessment is recorded.",
        "If it is new or worse, or was never assessed: emergency assessment and whole-spine "
        "MRI.",
    ),
    check=_unassessed,
    needs=frozenset({"myelopathy", *CORD_SIGNS}),
    changes=present_denial_change("1.10.1")
    + notes_change("1.10.0") + column_value_change("1.9.2") + blank_answer_change("1.9.1")
    + question_answered_no_change("1.9.0")
    + value_beside_code_change("1.8.0")
    + words_in_values_change("1.7.0")
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
            "1.0.0 (new): an active gait / upper-motor-neurone sign older than its window, "
            "or a cord-compression diagnosis in history, with no spine MRI since -> warning.",
)

RULES = (CORD_01, CORD_02)
