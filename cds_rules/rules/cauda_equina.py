"""Cauda equina syndrome (CES): new or worsening bladder, bowel, saddle or bilateral signs.

GIRFT (2023) and NICE CKS: suspected CES is a same-day emergency -- emergency MRI and a
spinal surgical opinion. "New" is our window (``cauda_equina_window_days``); a sign coded
as worsening, or with no date (cannot be excluded as new), also counts.
"""

from __future__ import annotations

from cds_rules.model import Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
from cds_rules.rules.context import (
    CES_SIGNS,
    LEG_DEFICIT,
    RADICULAR_PAIN,
    bilateral,
    days,
    is_new,
    new_or_worsening,
    weak_grades,
)


def _bilateral_new(record: PatientRecord, concepts: tuple[str, ...], window_days: int,
                   include_grades: bool = False) -> list:
    """Both sides affected, at least one side new or worsening (the other current)."""
    window = days(window_days)
    facts = record.having(*concepts)
    if include_grades:
        facts = [*facts, *weak_grades(record)]
    both = bilateral(facts)
    if both and any(is_new(f, record, window) for f in both):
        return both
    return []


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window = days(settings.cauda_equina_window_days)
    diagnosis = record.having("cauda_equina_syndrome")
    signs = new_or_worsening(record, CES_SIGNS, window)
    bilateral_sciatica = _bilateral_new(record, RADICULAR_PAIN, settings.cauda_equina_window_days)
    bilateral_deficit = _bilateral_new(record, LEG_DEFICIT, settings.cauda_equina_window_days,
                                       include_grades=True)
    other_signs = [*signs, *bilateral_sciatica, *bilateral_deficit]
    sexual = new_or_worsening(record, ("sexual_dysfunction",), window)
    if not (diagnosis or other_signs):
        return None  # sexual dysfunction alone does not count (CLINICAL.md)
    reasons = []
    if diagnosis:
        reasons.append("Cauda equina syndrome is recorded as a current diagnosis.")
    if signs:
        reasons.append("New or worsening bladder, bowel or saddle symptoms are cauda equina "
                       "red flags.")
    if bilateral_sciatica:
        reasons.append("Sciatica on both sides is a cauda equina red flag.")
    if bilateral_deficit:
        reasons.append("A neurological deficit in both legs is a cauda equina red flag.")
    if sexual and other_signs:
        reasons.append("New sexual dysfunction together with another sign.")
    return rule.finding(
        "critical",
        "Possible cauda equina syndrome: same-day emergency assessment and emergency MRI",
        [*diagnosis, *signs, *bilateral_sciatica, *bilateral_deficit,
         *(sexual if other_signs else [])],
        reasons,
        (
            Recommendation("emergency-department", "stat", recommended=True),
            Recommendation("mri-lumbar-without-contrast", "stat"),
            Recommendation("spinal-surgery-referral", "urgent"),
        ),
        [threshold(settings, "cauda_equina_window_days")] if (signs or bilateral_sciatica
                                                            or bilateral_deficit) else [],
    )


CES_01 = Rule(
    id="CES-01",
    version="1.1.0",
    topic=Topic.CAUDA_EQUINA,
    title="Suspected cauda equina syndrome",
    indicators=("critical",),
    evidence=("girft-ces", "nice-cks-sciatica", "sbns-bass-ces", "acr-ac-lbp", "acp-2011"),
    advice=(
        "Send the patient for same-day emergency assessment; do not wait for symptoms to "
        "progress.",
        "Emergency MRI of the lumbar spine without contrast (ACR variant 4: usually "
        "appropriate).",
        "Urgent opinion from the on-call spinal surgical team.",
        "Ask about bladder, bowel, saddle sensation and sexual function, and record a "
        "post-void residual where the pathway supports it.",
    ),
    check=_check,
)

RULES = (CES_01,)
