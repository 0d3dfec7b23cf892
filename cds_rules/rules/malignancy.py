"""Possible malignancy: a history of cancer (any status), or two or more weaker risk
factors (ACP 2011 table 2; Downie BMJ 2013). Critical only through cord compression.

"Pain not improving after 4 weeks" needs evidence of non-improvement, not just duration:
back pain for at least ``no_improvement_days`` that is coded as worsening, or whose pain
scores over that time have not fallen.
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
from cds_rules.rules.context import (
    CANCER,
    age_fact,
    back_pain_onset,
    context_facts,
    duration_days,
    weight_loss,
)
from cds_rules.settings import RuleSettings


def pain_not_improving(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    span = duration_days(record, back_pain_onset(record))
    if span is None or span < settings.no_improvement_days:
        return []
    worsening = [f for f in context_facts(record) if f.worsening]
    if worsening:
        return worsening
    scores = record.series("pain_severity")
    if len(scores) >= 2 and scores[0].when and scores[-1].when:
        covered = (scores[-1].when - scores[0].when).days >= settings.no_improvement_days
        if covered and (scores[-1].value or 0) >= (scores[0].value or 0):
            return [scores[0], scores[-1]]
    return []


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    cancer = record.ever(*CANCER)
    factors: list[tuple[str, list[Fact]]] = []
    age = record.age
    lost, percent = weight_loss(record, settings)
    if lost:
        how = f" ({percent:.1f} % of body weight)" if percent is not None else ""
        factors.append((f"Unexplained weight loss{how}.", lost))
    not_improving = pain_not_improving(record, settings)
    if not_improving:
        factors.append((f"Back pain not improving after {settings.no_improvement_days} days.",
                        not_improving))
    night = record.having("night_pain")
    if night:
        factors.append(("Night pain or pain at rest.", night))
    over_age = age is not None and age > settings.malignancy_age
    count = len(factors) + (1 if over_age else 0)
    if not cancer and count < 2:
        return None
    reasons: list[str] = []
    if cancer:
        reasons.append("History of cancer with back pain: the strongest single red flag for "
                       "spinal malignancy (post-test probability about 33 %, Downie 2013).")
    if over_age:
        reasons.append(f"Age {age} (over {settings.malignancy_age}).")
    reasons += [text for text, _ in factors]
    if not cancer:
        reasons.append(f"{count} risk factors for malignancy together.")
    recs = [
        Recommendation("mri-lumbar-with-and-without-contrast", "urgent", recommended=True),
        Recommendation("esr", "urgent"),
        Recommendation("crp", "urgent"),
    ]
    if age is not None and age >= settings.myeloma_screen_age:
        recs += [Recommendation("fbc", "urgent"), Recommendation("calcium", "urgent"),
                 Recommendation("myeloma-screen", "urgent")]
    thresholds = []
    if lost and percent is not None:
        thresholds += [threshold(settings, "weight_loss_percent"),
                       threshold(settings, "weight_loss_window_days")]
    return rule.finding(
        "warning",
        "Possible spinal malignancy: MRI with and without contrast, ESR and CRP",
        [*cancer, *(f for _, group in factors for f in group),
         *([fact] if over_age and (fact := age_fact(record)) else [])],
        reasons,
        recs,
        thresholds,
    )


MAL_01 = Rule(
    id="MAL-01",
    version="1.0.1",
    topic=Topic.MALIGNANCY,
    title="Possible spinal malignancy",
    indicators=("warning",),
    evidence=("acp-2011", "acr-ac-lbp", "downie-2013", "nice-ng12", "nice-ng234"),
    advice=(
        "MRI of the lumbar spine (or whole spine) without and with contrast (ACR variant 7: "
        "usually appropriate).",
        "ESR and CRP; at 60 or over, a myeloma screen (full blood count, calcium, serum "
        "protein electrophoresis / free light chains).",
        "Safety-net: any new neurological symptom means emergency assessment for spinal "
        "cord compression.",
    ),
    check=_check,
)

RULES = (MAL_01,)

