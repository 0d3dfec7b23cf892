"""Conservative care: uncomplicated back pain gets one quiet info card (NICE NG59
1.1.2-1.1.3; ACP 2017), on patient-view and encounter-start, when no red flag fired and
imaging is not indicated. Physiotherapy is suggested once the pain has lasted 6 weeks.
"""

from __future__ import annotations

from cds_rules.model import Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext
from cds_rules.rules.context import back_pain_onset, context_facts, duration_days


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if ctx.red_flag_fired or ctx.fired(Topic.IMAGING_INDICATED):
        return None
    context = context_facts(record)
    if not context:
        return None
    span = duration_days(record, back_pain_onset(record))
    persistent = span is not None and span >= ctx.settings.acute_back_pain_days
    recs = (Recommendation("physiotherapy-referral", "routine"),) if persistent else ()
    reasons = ["Back pain with no red flag recorded."]
    if persistent and span is not None:
        reasons.append(f"Pain has lasted {span / 7:.0f} weeks: exercise therapy / "
                       "physiotherapy helps persistent pain.")
    return rule.finding(
        "info",
        "Back pain, no red flags: self-management, stay active; physiotherapy if persistent",
        context,
        reasons,
        recs,
    )


CONS_01 = Rule(
    id="CONS-01",
    version="1.0.0",
    topic=Topic.CONSERVATIVE_CARE,
    title="Conservative care for back pain without red flags",
    indicators=("info",),
    evidence=("nice-ng59", "acp-2017"),
    advice=(
        "Reassure; advise staying active and avoiding bed rest; superficial heat; simple "
        "analgesia (NSAID at the lowest effective dose if suitable).",
        "Risk-stratify (e.g. STarT Back) and offer exercise / physiotherapy for higher risk "
        "or persistent pain.",
        "Safety-net: new bladder, bowel or saddle symptoms, leg weakness, fever or weight "
        "loss need urgent review.",
    ),
    check=_check,
    hooks=("patient-view", "encounter-start"),
    phase="pathway",
)

RULES = (CONS_01,)
