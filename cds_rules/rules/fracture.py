"""Possible vertebral fracture (ACR variant 6; ACP 2011; Henschke 2009; Downie 2013).

Fires on significant trauma, older age (``fracture_age``, or ACP's sex-specific ages with
``fracture_age_mode = acp``), long-term systemic steroids, osteoporosis or a prior
fragility fracture. Trauma with a neurological deficit, or a fracture with cord injury,
is treated as major trauma: critical, emergency department.

Graded as Downie 2013 and ACP 2011 table 2 grade them (clinical review 2026): older age
alone is weak (info: "consider X-ray if not settling or after any trauma"); steroids,
osteoporosis, a fragility fracture, significant trauma, or two or more factors: warning.
A fracture with cord injury is major only when new (``new_diagnosis_days``) or with a new
deficit; the trauma's deficit must be new too (``cauda_equina_window_days``).
"""

from __future__ import annotations

from cds_rules.model import (
    Fact,
    FactStatus,
    Finding,
    Indicator,
    PatientRecord,
    Recommendation,
    Topic,
)
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    another_part_change,
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
    NEURO_DEFICITS,
    age_fact,
    days,
    is_new,
    long_term_steroids,
    new_diagnoses,
    over_fracture_age,
    weak_grades,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)

CORD_INJURY_FRACTURE = "vertebral_fracture_cord_injury"
"""Its own value set, so the entry is found whichever of its codings comes first."""


def _prior_fractures(record: PatientRecord) -> list[Fact]:
    """Fragility, pathological or vertebral fractures, a cord-injury fracture among them:
    one fact per entry (an entry coded both ways is listed once, as a fragility fracture)."""
    fractures = record.ever("fragility_fracture")
    listed = {f.source for f in fractures}
    return fractures + [f for f in record.ever(CORD_INJURY_FRACTURE) if f.source not in listed]


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    trauma = record.having("significant_trauma")
    steroids = long_term_steroids(record, settings)
    osteoporosis = record.ever("osteoporosis")
    fragility = _prior_fractures(record)
    old, age_text = over_fracture_age(record, settings)
    if not (trauma or steroids or osteoporosis or fragility or old):
        return None
    reasons: list[str] = []
    if trauma:
        reasons.append("Significant trauma.")
    if old:
        reasons.append(f"Older age: {age_text}.")
    if steroids:
        reasons.append("Long-term systemic corticosteroids.")
    if osteoporosis:
        reasons.append("Osteoporosis.")
    if fragility:
        reasons.append("Previous fragility or vertebral fracture.")
    window = days(settings.cauda_equina_window_days)
    deficit = [f for f in [*record.having(*NEURO_DEFICITS), *weak_grades(record)]
               if is_new(f, record, window)]
    recent = new_diagnoses(record, (CORD_INJURY_FRACTURE,), days(settings.new_diagnosis_days))
    cord_injury = [f for f in record.ever(CORD_INJURY_FRACTURE)
                   if f.status is FactStatus.CURRENT and (deficit or f in recent)]
    deficit = deficit if trauma or cord_injury else []
    major = bool(trauma and deficit) or bool(cord_injury)
    strong = bool(trauma or steroids or osteoporosis or fragility)
    count = sum(map(bool, (trauma, steroids, osteoporosis, fragility, old)))
    indicator: Indicator = ("critical" if major else "warning" if strong or count >= 2
                            else "info")
    if indicator == "info":
        reasons.append("Older age alone is a weak fracture red flag (Downie 2013: post-test "
                       "probability about 9 %): consider an X-ray if the pain is not settling "
                       "or after any trauma, even minor.")
    if major:
        reasons.append("Trauma or fracture with a neurological deficit: treat as major "
                       "spinal trauma.")
    thoracic = bool(record.having("thoracic_back_pain")) and not record.having(
        "low_back_pain", "radiculopathy")
    xray = "xray-thoracic" if thoracic else "xray-lumbar"
    recs = [Recommendation(xray, "urgent" if trauma else "routine",
                           recommended=not major and indicator != "info")]
    if major:
        recs.insert(0, Recommendation("emergency-department", "stat", recommended=True))
    if (osteoporosis or steroids or fragility or old) and indicator != "info":
        recs.append(Recommendation("dxa", "routine"))
    thresholds = []
    if old and settings.fracture_age_mode != "acp":
        thresholds.append(threshold(settings, "fracture_age"))
    if steroids and not any(f.concept == "long_term_steroids" for f in steroids):
        thresholds.append(threshold(settings, "long_term_steroid_days"))
    age = age_fact(record) if old else None
    if major:
        thresholds.append(threshold(settings, "cauda_equina_window_days"))
        if cord_injury:
            thresholds.append(threshold(settings, "new_diagnosis_days"))
    facts: list[Fact] = [*trauma, *steroids, *osteoporosis, *fragility,
                         *(deficit if major else []), *([age] if age else [])]
    summary = {
        "critical": "Emergency department: possible spinal fracture after major trauma",
        "warning": "X-ray of the painful segment (CT or MRI if equivocal or neurological "
                   "signs): fracture risk",
        "info": "Consider an X-ray if not settling or after any trauma: older age is a weak "
                "fracture risk",
    }[indicator]
    return rule.finding(indicator, summary, facts, reasons, recs, thresholds)


FRAC_01 = Rule(
    id="FRAC-01",
    version="2.14.1",
    topic=Topic.FRACTURE,
    title="Possible vertebral fracture",
    indicators=("critical", "warning", "info"),
    evidence=("downie-2013", "acr-lbp-v6", "acp-2011", "henschke-2009"),
    advice=(
        "X-ray of the painful segment of the spine (ACR variant 6: usually appropriate).",
        "CT, or MRI, if the X-ray is equivocal or there are neurological signs.",
        "Consider bone densitometry (DXA) and bone protection when fragility is likely.",
    ),
    check=_check,
    changes=present_denial_change("2.14.1")
    + notes_change("2.14.0") + column_value_change("2.13.2") + blank_answer_change("2.13.1")
    + question_answered_no_change("2.13.0")
    + value_beside_code_change("2.12.0")
    + words_in_values_change("2.11.0")
    + another_part_change("2.10.0")
    + part_naming_change("2.9.0")
    + denial_naming_change("2.8.0")
    + observation_reading_change("2.7.0")
    + comparator_change("2.6.0", "an MRC grade (neurological deficit with trauma) is")
    + coded_answer_change("2.5.0")
    + "2.4.0: a medicine named by medicationReference is read by the referenced "
            "Medication, else by the Reference's display (an EHR sends no Medication "
            "without _include): prednisone sent so is long-term systemic corticosteroid "
            "use. "
            "2.3.0: a fracture with cord injury (SNOMED 1734006) is recognised whatever the "
            "order of the entry's codings (its own value set); before, an ICD-10-CM fracture "
            "code listed first hid it and the card was a warning, not critical. "
    + "2.2.0: evidence leads with Downie 2013 (the grading) and cites ACR variant 6. "
            "2.1.0: a diagnosis also counts as new when recorded within "
            "NEW_DIAGNOSIS_DAYS (recordedDate), whatever its onset. "
            "2.0.0: graded as Downie 2013 / ACP 2011: age alone -> info (consider X-ray if "
            "not settling or any trauma); steroids >= 3 months, osteoporosis, fragility "
            "fracture, trauma or >= 2 factors -> warning; major trauma critical only with a "
            "new deficit, a cord-injury fracture only when new (NEW_DIAGNOSIS_DAYS).",
)

RULES = (FRAC_01,)
