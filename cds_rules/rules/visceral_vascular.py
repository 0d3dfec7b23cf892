"""Back pain that may not come from the spine: aorta, heart and lungs, kidneys
(Choosing Wisely: exclude non-spinal causes; known aneurysm).

- Known aortic aneurysm with new or severe back pain, or an aortic dissection with back
  pain: critical (emergency department).
- Chest pain or shortness of breath with thoracic back pain: critical.
- Kidney stone / renal colic, pyelonephritis or haematuria with back pain: warning;
  critical with fever.
"New" = within ``cauda_equina_window_days`` or coded worsening; "severe" = a pain score at
or above ``severe_pain_score`` within that window (our thresholds).
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    blank_answer_change,
    coded_answer_change,
    comparator_change,
    denial_naming_change,
    observation_reading_change,
    part_naming_change,
    question_answered_no_change,
    threshold,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    BACK_PAIN_CONTEXT,
    at_least,
    context_facts,
    days,
    fever_within_window,
    new_or_worsening,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)


def _new_or_severe_back_pain(record: PatientRecord, ctx: RuleContext) -> list[Fact]:
    window = days(ctx.settings.cauda_equina_window_days)
    new = new_or_worsening(record, BACK_PAIN_CONTEXT, window)
    severe = [f for f in record.having("pain_severity", within=window)
              if at_least(f, ctx.settings.severe_pain_score)]  # ">7" counts, "<8" does not
    return [*new, *severe]


def _vascular(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window = days(settings.cauda_equina_window_days)
    back = context_facts(record)
    if not back:
        return None
    dissection = record.having("aortic_dissection")
    aneurysm = record.having("aortic_aneurysm")
    pain = _new_or_severe_back_pain(record, ctx) if aneurysm else []
    thoracic = record.having("thoracic_back_pain")
    chest = new_or_worsening(record, ("chest_pain", "dyspnoea"), window) if thoracic else []
    facts: list[Fact] = []
    reasons: list[str] = []
    if dissection:
        facts += [*dissection, *back[:1]]
        reasons.append("Aortic dissection with back pain.")
    if aneurysm and pain:
        facts += [*aneurysm, *pain]
        reasons.append("Known aortic aneurysm with new or severe back pain: exclude "
                       "expansion, leak or rupture.")
    if chest:
        facts += [*chest, *thoracic[:1]]
        reasons.append("Chest pain or breathlessness with thoracic back pain: exclude "
                       "aortic dissection, acute coronary syndrome and pulmonary embolism.")
    if not facts:
        return None
    return rule.finding(
        "critical",
        "Emergency department assessment now: back pain may be vascular or cardiac",
        facts,
        reasons,
        (Recommendation("emergency-department", "stat", recommended=True),),
        [threshold(settings, "cauda_equina_window_days")]
        + ([threshold(settings, "severe_pain_score")] if any(
            f.concept == "pain_severity" for f in pain) else []),
    )


def _renal(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    back = context_facts(record)
    renal = record.having("renal_stone_or_colic", "pyelonephritis", "haematuria")
    if not (back and renal):
        return None
    fever = fever_within_window(record, settings)
    reasons = ["A kidney or urinary-tract cause may explain the back pain."]
    if fever:
        reasons.append("Fever with a renal cause: possible obstructed, infected kidney or "
                       "pyelonephritis.")
    recs = [Recommendation("urinalysis", "stat" if fever else "urgent", recommended=not fever)]
    if fever:
        recs.insert(0, Recommendation("emergency-department", "stat", recommended=True))
    return rule.finding(
        "critical" if fever else "warning",
        "Same-day emergency assessment: possible renal cause of back pain with fever" if fever
        else "Urinalysis and renal imaging: possible renal cause of back pain",
        [*renal, *fever, *back[:1]],
        reasons,
        recs,
        [threshold(settings, "fever_celsius"), threshold(settings, "fever_window_days")]
        if fever else [],
    )


_CHANGES = ("1.1.0: summary leads with the action; evidence is NICE NG59 1.1.1 (think about "
            "alternative diagnoses) and the AAFP Choosing Wisely rationale that names "
            "non-spinal causes, deep-linked, instead of the Choosing Wisely home page and "
            "ACP 2011. Logic unchanged.")


VV_01 = Rule(
    id="VV-01",
    version="1.10.1",
    topic=Topic.VISCERAL_OR_VASCULAR,
    title="Vascular or cardiac cause of back pain",
    indicators=("critical",),
    evidence=("nice-ng59-alternative", "cw-nonspinal"),
    advice=(
        "Emergency department now (vascular / cardiac assessment); do not send for spinal "
        "imaging first.",
    ),
    check=_vascular,
    # chest pain or breathlessness count beside thoracic back pain only
    needs=frozenset({"aortic_dissection", "aortic_aneurysm", "chest_pain", "dyspnoea"}),
    changes=present_denial_change("1.10.1")
    + notes_change("1.10.0") + column_value_change("1.9.2") + blank_answer_change("1.9.1")
    + question_answered_no_change("1.9.0")
    + value_beside_code_change("1.8.0")
    + words_in_values_change("1.7.0")
    + part_naming_change("1.6.0")
    + denial_naming_change("1.5.0")
    + observation_reading_change("1.4.0")
    + comparator_change("1.3.0", "a pain score (severe back pain) is")
    + coded_answer_change("1.2.0")
    + _CHANGES,
)

VV_02 = Rule(
    id="VV-02",
    version="1.8.1",
    topic=Topic.VISCERAL_OR_VASCULAR,
    title="Renal cause of back pain",
    indicators=("critical", "warning"),
    evidence=("cw-nonspinal", "nice-ng59-alternative"),
    advice=(
        "Urinalysis (blood, infection) and renal imaging (ultrasound or non-contrast CT "
        "KUB as local pathways direct).",
        "With fever: same-day assessment for pyelonephritis or an obstructed infected "
        "kidney.",
    ),
    check=_renal,
    needs=frozenset({"renal_stone_or_colic", "pyelonephritis", "haematuria"}),
    changes=present_denial_change("1.8.1")
    + notes_change("1.8.0") + column_value_change("1.7.2") + blank_answer_change("1.7.1")
    + question_answered_no_change("1.7.0")
    + value_beside_code_change("1.6.0")
    + denial_naming_change("1.5.0")
    + observation_reading_change("1.4.0")
    + comparator_change("1.3.0", "a body temperature (fever with renal disease) is")
    + coded_answer_change("1.2.0")
    + _CHANGES,
)

RULES = (VV_01, VV_02)
