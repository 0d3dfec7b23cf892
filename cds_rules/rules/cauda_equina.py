"""Cauda equina syndrome (CES): new or worsening bladder, bowel, saddle or bilateral signs.

GIRFT (2023) and NICE CKS: suspected CES is a same-day emergency -- emergency MRI and a
spinal surgical opinion. "New" is our window (``cauda_equina_window_days``); a sign coded
as worsening, or with no date (cannot be excluded as new), also counts. A CES *diagnosis*
is an emergency when new (``new_diagnosis_days``) or with a new sign; an older one is
history. CES-02: a diagnosis or an active sign (Condition) older than its window with no
spine MRI since is a warning, "confirm it has been assessed" (clinical review 2026); so is
sciatica or leg pain on both sides, which CES-01 counts when new.
"""

from __future__ import annotations

import re

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
    CAUDA_EQUINA_SEGMENT,
    CES_SIGNS,
    LEG_DEFICIT,
    MRC_GRADE,
    RADICULAR_PAIN,
    both_sides_shown,
    days,
    is_new,
    mri_elsewhere_since,
    mri_since,
    new_diagnoses,
    new_or_worsening,
    persisting_unassessed,
    weak_grades,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)


def _bilateral_new(record: PatientRecord, concepts: tuple[str, ...], window_days: int,
                   include_grades: bool = False) -> list:
    """Both sides affected, at least one side new or worsening (the other current)."""
    window = days(window_days)
    facts = record.having(*concepts)
    if include_grades:
        facts = [*facts, *weak_grades(record)]
    both = both_sides_shown(facts)
    if both and any(is_new(f, record, window) for f in both):
        return both
    return []


def _bilateral_sciatica_unassessed(record: PatientRecord, window_days: int
                                   ) -> tuple[list[Fact], list[Fact]]:
    """Sciatica or leg pain on both sides in active Conditions older than the window, one of
    them with no lumbar spine MRI since it began: (those not imaged since, latest first;
    those imaged since). The bilateral state arose when its later side did, so an MRI before
    that did not assess it (CLINICAL.md: a persisting red-flag sign never imaged warns,
    never the conservative card). A leg deficit on both sides is NEURO-02's (weakness) or
    left out (sensory symptoms: a diabetic neuropathy's too, a clinical decision pending).
    Observations are findings of their day: not counted."""
    window = days(window_days)
    old = [f for f in record.having(*RADICULAR_PAIN)
           if f.resource_type == "Condition" and not is_new(f, record, window)]
    both = both_sides_shown(old)
    imaged = [f for f in both if mri_since(record, f, CAUDA_EQUINA_SEGMENT)]
    not_imaged = sorted((f for f in both if f not in imaged),
                        key=lambda f: f.latest or record.now, reverse=True)
    return (not_imaged, imaged) if not_imaged else ([], [])


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    window = days(settings.cauda_equina_window_days)
    diagnosis = new_diagnoses(record, ("cauda_equina_syndrome",),
                              days(settings.new_diagnosis_days))
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
        reasons.append("Cauda equina syndrome is a new (or worsening) diagnosis.")
    if signs:
        reasons.append("New or worsening bladder, bowel or saddle symptoms are cauda equina "
                       "red flags.")
    if bilateral_sciatica:
        reasons.append("Sciatica on both sides is a cauda equina red flag.")
    if bilateral_deficit:
        reasons.append("A neurological deficit in both legs is a cauda equina red flag.")
    if sexual and other_signs:
        reasons.append("New sexual dysfunction together with another sign.")
    earlier = [f for f in record.having("cauda_equina_syndrome") if f not in diagnosis]
    if earlier:
        reasons.append("Cauda equina syndrome is also recorded earlier: a new sign on top of "
                       "it is an emergency again.")
    uses_window = bool(signs or bilateral_sciatica or bilateral_deficit)
    return rule.finding(
        "critical",
        "Same-day emergency assessment and emergency MRI: possible cauda equina syndrome",
        [*diagnosis, *signs, *bilateral_sciatica, *bilateral_deficit,
         *(sexual if other_signs else []), *earlier],
        reasons,
        (
            Recommendation("emergency-department", "stat", recommended=True),
            Recommendation("mri-lumbar-without-contrast", "stat"),
            Recommendation("spinal-surgery-referral", "urgent"),
        ),
        [*([threshold(settings, "cauda_equina_window_days")] if uses_window else []),
         *([threshold(settings, "new_diagnosis_days")] if diagnosis else [])],
    )


def _unassessed(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    """An older CES diagnosis, an active sign past the window, or a sign on both sides past
    it, not imaged since."""
    if ctx.fired(Topic.CAUDA_EQUINA):
        return None  # the emergency card already covers every CES fact
    settings = ctx.settings
    window_days = settings.cauda_equina_window_days
    old_diagnosis = [f for f in record.having("cauda_equina_syndrome")
                     if not mri_since(record, f, CAUDA_EQUINA_SEGMENT)]
    signs = persisting_unassessed(record, CES_SIGNS, days(window_days), CAUDA_EQUINA_SEGMENT)
    not_imaged, imaged = _bilateral_sciatica_unassessed(record, window_days)
    facts = [*old_diagnosis, *signs, *not_imaged]
    if not facts:
        return None
    what = "cauda equina red flag" + (
        "; sciatica or leg pain on both sides is one" if not_imaged else "")
    return unassessed_finding(
        rule, facts, what,
        [threshold(settings, "cauda_equina_window_days"),
         threshold(settings, "new_diagnosis_days")],
        mri_elsewhere_since(record, facts, CAUDA_EQUINA_SEGMENT), CAUDA_EQUINA_SEGMENT,
        name=None if old_diagnosis or signs else on_both_sides([*not_imaged, *imaged]),
        imaged_side=imaged)


# A display that names one side ("Sciatica, left side"), or both.
_A_SIDE = re.compile(r"\b(?:left|right|lt|rt)\b", re.I)
_BOTH = re.compile(r"\b(?:bilat\w*|both)\b", re.I)


def on_both_sides(pair: list[Fact]) -> str:
    """The summary's name of sciatica on both sides: "Sciatica on both sides" for one entry
    coded bilateral or the same sign left and right, else "sciatica or leg pain on both
    sides" (a sciatica on the left and a leg pain on the right, or a display naming one side
    while the body site names another: the card lists each)."""
    names = {f.display for f in pair}
    name = names.pop() if len(names) == 1 else ""
    if not name or _A_SIDE.search(name):
        return "sciatica or leg pain on both sides"
    return name if _BOTH.search(name) else f"{name} on both sides"


CES_01 = Rule(
    id="CES-01",
    version="2.12.1",
    topic=Topic.CAUDA_EQUINA,
    title="Suspected cauda equina syndrome",
    indicators=("critical",),
    evidence=("girft-ces", "nice-cks-sciatica", "acr-lbp-v4", "sbns-bass-ces", "acp-2011"),
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
    # the diagnosis, a CES sign, sciatica or a deficit on both sides (grades included);
    # sexual dysfunction alone counts for nothing
    needs=frozenset({"cauda_equina_syndrome", *CES_SIGNS, *RADICULAR_PAIN, *LEG_DEFICIT,
                     MRC_GRADE}),
    changes=present_denial_change("2.12.1")
    + notes_change("2.12.0") + column_value_change("2.11.2") + blank_answer_change("2.11.1")
    + question_answered_no_change("2.11.0")
    + "2.10.0: sciatica or a leg deficit on both sides counts every entry with a side "
            "when together they show both sides: a new left or right entry beside an older "
            "entry coded bilateral is new on one side (critical); before, an entry coded "
            "bilateral hid the left and right ones, so an older bilateral sciatica and a new "
            "left and right pair gave the conservative card. "
    + value_beside_code_change("2.9.0")
    + words_in_values_change("2.8.0")
    + another_part_change("2.7.0")
    + denial_naming_change("2.6.0")
    + observation_reading_change("2.5.0")
    + comparator_change("2.4.0", "an MRC grade (bilateral leg deficit) is")
    + coded_answer_change("2.3.0")
    + "2.2.0: evidence cites ACR variant 4 (suspected cauda equina syndrome) and "
            "links the SBNS/BASS standards to their publication instead of a home page. "
            "2.1.0: a diagnosis also counts as new when recorded within "
            "NEW_DIAGNOSIS_DAYS (recordedDate), whatever its onset. "
            "2.0.0: a CES diagnosis is critical only when new (NEW_DIAGNOSIS_DAYS) or with "
            "a new sign; an older one is history (CES-02). Summary leads with the action.",
)

CES_02 = Rule(
    id="CES-02",
    version="1.13.1",
    topic=Topic.CAUDA_EQUINA,
    title="Cauda equina red flag persisting or in history, no spine MRI since",
    indicators=("warning",),
    evidence=("girft-ces", "nice-cks-sciatica", "nhs-ces"),
    advice=(
        "Confirm the symptom has been assessed (history, examination, post-void residual "
        "where the pathway supports it) and that the assessment is recorded.",
        "If it is new or worse, or was never assessed: treat as suspected cauda equina "
        "syndrome (same-day emergency assessment and emergency MRI).",
    ),
    check=_unassessed,
    # a CES diagnosis or sign, or a sciatica or leg pain (on both sides, from Conditions)
    needs=frozenset({"cauda_equina_syndrome", *CES_SIGNS, *RADICULAR_PAIN}),
    changes=present_denial_change("1.13.1")
    + notes_change("1.13.0") + column_value_change("1.12.2") + blank_answer_change("1.12.1")
    + question_answered_no_change("1.12.0")
    + value_beside_code_change("1.11.0")
    + "1.10.0: sciatica or leg pain on both sides (an entry coded bilateral, or a left "
            "and a right; a left or right entry beside a bilateral one counts too) in active "
            "Conditions older than CAUDA_EQUINA_WINDOW_DAYS, one of them with no lumbar spine "
            "MRI since it began, is a warning 'confirm it has been assessed' (before: no card "
            "of its own, and the conservative-care card followed; CES-01 counts it when new, "
            "and the uncoded words already warned). A leg deficit on both sides is left to "
            "NEURO-02 (weakness) or out (sensory symptoms). "
    + words_in_values_change("1.9.0")
    + another_part_change("1.8.0")
    + denial_naming_change("1.7.0")
    + "1.6.0: an MRI assesses a cauda equina sign or diagnosis only when it may "
            "image the lumbar spine: lumbar, thoracolumbar, whole spine, or a region the "
            "record does not say ('MRI of spine'); a thoracic-only or cervical-only MRI (by "
            "its code, else its words or series body sites) no longer stands the warning "
            "down, and the card names it as not counted ('no lumbar spine MRI since'). "
    + lumbar_mri_words_change("1.5.0")
    + observation_reading_change("1.4.0")
    + coded_answer_change("1.3.0")
    + "1.2.0: a spine MRI is also recognised from an ImagingStudy's series modality "
            "with a body-site code of value set spine_body_site, or from the study-level "
            "modality list with a spine site or description (before: a series modality with "
            "a spine word only): an MRI so recorded after the sign stands the warning down. "
            "1.1.0: the summary names the sign and its date without the family in brackets "
            "(it was clipped at 140 characters for long displays); the family is in the "
            "'Why' line. "
            "1.0.0 (new): an active CES sign older than its window, or a CES diagnosis in "
            "history, with no spine MRI since -> warning 'confirm it has been assessed', "
            "never the conservative-care card.",
)

RULES = (CES_01, CES_02)
