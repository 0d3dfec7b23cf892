"""Progressive, severe or multilevel motor deficit (ACP/APS 2007 rec. 3; ACR variants 3-4).

Progressive = MRC grade falling across serial Observations of the same muscle, or a
weakness / foot drop coded as worsening. Severe = foot drop, or an MRC grade at or below
``severe_weakness_mrc_grade`` (our threshold). Critical if progressive or bilateral.
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
from cds_rules.rules.context import (
    MOTOR_DEFICIT,
    bilateral,
    falling_grades,
    motor_deficit,
    several_levels,
)


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    deficit = motor_deficit(record)
    if not deficit:
        return None
    progressive = [*falling_grades(record),
                   *(f for f in record.having(*MOTOR_DEFICIT) if f.worsening)]
    foot_drop = record.having("foot_drop")
    severe_limit = settings.severe_weakness_mrc_grade
    severe_grades = [f for f in deficit if f.concept == "muscle_strength_grade"
                     and f.value is not None and f.value <= severe_limit]
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
        reasons.append("The deficit is severe (foot drop or MRC grade "
                       f"≤ {settings.severe_weakness_mrc_grade}).")
    if levels:
        reasons.append("Weakness at more than one level.")
    critical = bool(progressive or both_sides)
    facts: list[Fact] = [*progressive, *both_sides, *foot_drop, *severe_grades, *levels]
    summary = ("Progressive or bilateral motor deficit: MRI within 24 hours and urgent "
               "spinal surgical referral" if critical else
               "Severe or multilevel motor deficit: MRI within 24 hours and urgent spinal "
               "surgical referral")
    return rule.finding(
        "critical" if critical else "warning",
        summary,
        facts,
        reasons,
        (
            Recommendation("mri-lumbar-without-contrast", "urgent", recommended=True),
            Recommendation("spinal-surgery-referral", "urgent"),
        ),
        [threshold(settings, "severe_weakness_mrc_grade")] if severe_grades else [],
    )


NEURO_01 = Rule(
    id="NEURO-01",
    version="1.0.0",
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
)

RULES = (NEURO_01,)
