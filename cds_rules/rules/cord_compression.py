"""Spinal cord compression: myelopathic signs, or a history of cancer with any new
neurological symptom (metastatic spinal cord compression, NICE NG234).

Signs count when new (``cauda_equina_window_days``), worsening or undated; a current
myelopathy / cord-compression diagnosis counts whenever it is current.
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
from cds_rules.rules.context import (
    CANCER,
    CORD_SIGNS,
    MOTOR_DEFICIT,
    NEURO_DEFICITS,
    NEURO_SYMPTOMS,
    bilateral,
    days,
    is_new,
    new_or_worsening,
    several_levels,
    weak_grades,
)


def _new_weakness(record: PatientRecord, window_days: int) -> list[Fact]:
    window = days(window_days)
    return [f for f in [*record.having(*MOTOR_DEFICIT), *weak_grades(record)]
            if is_new(f, record, window)]


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window_days = settings.cauda_equina_window_days
    window = days(window_days)
    diagnosis = record.having("myelopathy")
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
        reasons.append("Myelopathy or cord compression is recorded as a current diagnosis.")
    if cord_signs:
        facts += cord_signs
        reasons.append("New gait disturbance or upper motor neurone signs suggest the cord "
                       "is involved.")
    if widespread:
        facts += widespread
        reasons.append("New weakness in both legs or at several levels.")
    if thoracic and thoracic_neuro:
        facts += [*thoracic[:1], *thoracic_neuro]
        reasons.append("Thoracic back pain with a neurological sign.")
    if cancer and cancer_neuro:
        facts += [*cancer, *cancer_neuro]
        reasons.append("History of cancer with a new neurological symptom: treat as "
                       "metastatic spinal cord compression until proven otherwise (NICE "
                       "NG234: contact the MSCC team immediately).")
    if not facts:
        return None
    uses_window = bool(cord_signs or widespread or thoracic_neuro or cancer_neuro)
    return rule.finding(
        "critical",
        "Possible spinal cord compression: emergency assessment and emergency whole-spine MRI",
        facts,
        reasons,
        (
            Recommendation("emergency-department", "stat", recommended=True),
            Recommendation("mri-whole-spine", "stat"),
            Recommendation("spinal-surgery-referral", "stat"),
        ),
        [threshold(settings, "cauda_equina_window_days")] if uses_window else [],
    )


CORD_01 = Rule(
    id="CORD-01",
    version="1.0.1",
    topic=Topic.SPINAL_CORD_COMPRESSION,
    title="Suspected spinal cord compression (including metastatic)",
    indicators=("critical",),
    evidence=("nhs-spinal-emergency", "nice-ng234", "acp-2011"),
    advice=(
        "Same-day emergency assessment (emergency department / on-call spinal team).",
        "Emergency MRI of the whole spine (within 24 hours; immediately if NG234 criteria "
        "for MSCC are met).",
        "If cancer is known or suspected, contact the acute oncology / MSCC coordinator now; "
        "consider dexamethasone as the local MSCC protocol directs.",
    ),
    check=_check,
)

RULES = (CORD_01,)
