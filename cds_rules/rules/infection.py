"""Possible spinal infection: fever with a risk factor, or a coded spinal infection
(ACP 2011 table 2; ACR variant 7). Critical with a neurological deficit or a known abscess.

Fever = coded fever or a temperature at or above ``fever_celsius`` within
``fever_window_days`` (our thresholds). Risk factors: IV drug use, immunosuppression
(condition or drug), long-term steroids, a recent infection or spinal procedure
(within ``recent_risk_days``). A coded infection or abscess is an emergency only when new
(``new_diagnosis_days``) or with a new neurological deficit; an older one is history: a
"confirm it has been assessed" warning when no spine MRI followed it (clinical review).
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
    NEURO_DEFICITS,
    days,
    fever_within_window,
    is_new,
    long_term_steroids,
    mri_since,
    new_diagnoses,
    weak_grades,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.settings import RuleSettings

INFECTION_RISK_FACTORS = ("intravenous drug use", "immunosuppression",
                          "long-term systemic steroids", "recent infection",
                          "recent spinal procedure")
"""What INF-01 counts beside a fever, as its card names them (CONS-01 names them too)."""


def infection_risks(record: PatientRecord, settings: RuleSettings) -> list[tuple[str, list[Fact]]]:
    recent = days(settings.recent_risk_days)
    undated = lambda concept: [f for f in record.having(concept) if f.when is None]  # noqa: E731
    found = [
        record.having("iv_drug_use"),
        record.having("immunosuppression", "immunosuppressant_drug"),
        long_term_steroids(record, settings),
        [*record.having("recent_infection", "pyelonephritis", within=recent),
         *undated("recent_infection"), *undated("pyelonephritis")],
        [*record.having("recent_spinal_procedure", within=recent),
         *undated("recent_spinal_procedure")],
    ]
    return [(name, facts) for name, facts in zip(INFECTION_RISK_FACTORS, found, strict=True)
            if facts]


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    new_window = days(settings.new_diagnosis_days)
    every_coded = record.having("spinal_infection", "epidural_abscess")
    coded = new_diagnoses(record, ("spinal_infection", "epidural_abscess"), new_window)
    abscess = new_diagnoses(record, ("epidural_abscess",), new_window)
    fever = fever_within_window(record, settings)
    risks = infection_risks(record, settings) if fever else []
    window = days(settings.cauda_equina_window_days)
    deficit = [f for f in [*record.having(*NEURO_DEFICITS), *weak_grades(record)]
               if is_new(f, record, window)]
    if every_coded and not coded and deficit:
        coded = every_coded  # an old infection with a new deficit is an emergency again
    if not coded and not (fever and risks):
        history = [f for f in every_coded if not mri_since(record, f)]
        return unassessed_finding(rule, history, "spinal infection", [
            threshold(settings, "new_diagnosis_days")]) if history else None
    reasons: list[str] = []
    if coded:
        reasons.append("A spinal infection (discitis, osteomyelitis or abscess) is recorded.")
    if fever and risks:
        names = ", ".join(name for name, _ in risks)
        reasons.append(f"Fever with a risk factor for spinal infection: {names}.")
    critical = bool(abscess or (deficit and (coded or risks)))
    if abscess:
        reasons.append("A known epidural / intraspinal abscess is a surgical emergency.")
    if critical and deficit:
        reasons.append("There is a neurological deficit.")
    # the fact that makes it an emergency first: the abscess, then the new deficit
    facts = [*abscess, *(deficit if critical else []), *coded, *(fever if risks else []),
             *(f for _, group in risks for f in group)]
    recs = [
        Recommendation("mri-lumbar-with-and-without-contrast", "stat" if critical else "urgent",
                       recommended=not critical),
        Recommendation("crp", "urgent"),
        Recommendation("esr", "urgent"),
        Recommendation("blood-cultures", "urgent"),
    ]
    if critical:
        recs.insert(0, Recommendation("emergency-department", "stat", recommended=True))
    thresholds = []
    if fever and risks:
        thresholds += [threshold(settings, "fever_celsius"),
                       threshold(settings, "fever_window_days")]
        if any(name.startswith("recent") for name, _ in risks):
            thresholds.append(threshold(settings, "recent_risk_days"))
        if any(name.startswith("long-term") for name, _ in risks):
            thresholds.append(threshold(settings, "long_term_steroid_days"))
    if coded:
        thresholds.append(threshold(settings, "new_diagnosis_days"))
    if deficit and critical:
        thresholds.append(threshold(settings, "cauda_equina_window_days"))
    summary = ("Emergency assessment and MRI: possible spinal infection with neurological "
               "deficit or abscess" if critical else
               "Same-day assessment, MRI with contrast, CRP, ESR, blood cultures: possible "
               "spinal infection")
    return rule.finding("critical" if critical else "warning", summary, facts, reasons, recs,
                        thresholds)


INF_01 = Rule(
    id="INF-01",
    version="2.13.1",
    topic=Topic.INFECTION,
    title="Possible spinal infection",
    indicators=("critical", "warning"),
    evidence=("acp-2011", "acr-lbp-v7"),
    advice=(
        "Same-day clinical assessment.",
        "MRI of the spine without and with contrast (ACR variant 7: usually appropriate).",
        "CRP, ESR and blood cultures before antibiotics where possible.",
    ),
    check=_check,
    # a coded infection, or a fever (coded or measured): the risk factors count only with it
    needs=frozenset({"spinal_infection", "epidural_abscess", "fever", "body_temperature"}),
    changes=present_denial_change("2.13.1")
    + notes_change("2.13.0") + column_value_change("2.12.2") + blank_answer_change("2.12.1")
    + question_answered_no_change("2.12.0")
    + value_beside_code_change("2.11.0")
    + words_in_values_change("2.10.0")
    + another_part_change("2.9.0")
    + denial_naming_change("2.8.0")
    + lumbar_mri_words_change("2.7.0")
    + observation_reading_change("2.6.0")
    + comparator_change("2.5.0", "a body temperature (fever) or MRC grade (new deficit) is")
    + coded_answer_change("2.4.0")
    + "2.3.0: a medicine named by medicationReference is read by the referenced "
            "Medication, else by the Reference's display (an EHR sends no Medication "
            "without _include) (steroids, immunosuppressants); a spine MRI is also "
            "recognised from an ImagingStudy's series modality with a body-site code of "
            "value set spine_body_site, or from the study-level modality list with a spine "
            "site or description (before: a series modality with a spine word only). "
            "2.2.0: 'Why' lists the abscess or new deficit first when they make the card "
            "critical; evidence cites ACR variant 7; the 'confirm it has been assessed' "
            "summary names the infection and its date (shorter). "
            "2.1.0: a diagnosis also counts as new when recorded within "
            "NEW_DIAGNOSIS_DAYS (recordedDate), whatever its onset. "
            "2.0.0: a coded spinal infection / epidural abscess is an emergency only when "
            "new (NEW_DIAGNOSIS_DAYS) or with a new deficit (CAUDA_EQUINA_WINDOW_DAYS); an "
            "older one is history: 'confirm it has been assessed' warning when no spine MRI "
            "followed; summary leads with the action.",
)

RULES = (INF_01,)
