"""Spine imaging appropriateness: repeat imaging, imaging indicated, imaging not indicated
(PATHWAY.md 6-8), evaluated in that order. These stand down whenever a red-flag family
fired (the red-flag card carries its own imaging); a repeat stands down the other two, and
"indicated" (e.g. new symptoms after spine surgery, ACR variant 5) stands down "not
indicated" for the same draft.

Clinical review 2026: a repeat never contradicts a red flag (it stands down whenever a
red-flag family fired, and offers no delete while any red-flag fact is current); a partial
date is compared by "may it be after?"; imaging in the first 6 weeks is ACR variant 1
(warning, delete); subacute or chronic pain without red flags and without conservative
management in ``conservative_management_days`` is ACR variant 2 (info, no delete).
"""

from __future__ import annotations

from cds_rules.model import (
    LUMBAR,
    ORDER_HOOKS,
    RED_FLAG_CONCEPTS,
    Fact,
    Finding,
    Order,
    PatientRecord,
    Recommendation,
    Topic,
)
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    another_part_change,
    blank_answer_change,
    check_before_deciding,
    coded_answer_change,
    denial_naming_change,
    fault_named_change,
    lumbar_mri_words_change,
    observation_reading_change,
    order_not_read,
    part_naming_change,
    question_answered_no_change,
    symptoms_set_aside_change,
    threshold,
    unreadable_entry,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    CROSS_SECTIONAL,
    RADICULAR_PAIN,
    SPINE_IMAGING,
    back_pain_onset,
    completed_cross_sectional,
    context_facts,
    days,
    drafts,
    duration_days,
    latest_onset,
    may_be_after,
    unread_drafts,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.rules.imaging_changes import temperature_forms_change, weak_red_flag_history
from cds_rules.rules.weak_red_flags import draft_over_red_flags
from cds_rules.settings import RuleSettings

# The guideline that would call a draft unneeded, named on the card that does not call it so
# over a red flag recorded (weak_red_flags.draft_over_red_flags)
_VARIANT_1 = ("ACR variant 1 (imaging in the first 6 weeks usually not appropriate; NICE NG59 "
              "1.1.4)")
_VARIANT_2 = ("ACR variant 2 (initial imaging usually not appropriate before conservative "
              "management)")


def _repeat(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if ctx.red_flag_fired:
        return None  # the red-flag card decides the imaging: never contradict it
    every_draft = drafts(record, CROSS_SECTIONAL, ctx.hook, ctx.selections)
    studies = [s for s in completed_cross_sectional(record, ctx.settings)
               if any(_covers(s, d) for d in every_draft)]
    if not studies:
        return None
    study = studies[0]
    draft = [d for d in every_draft if _covers(study, d)]
    assert study.when is not None  # completed_cross_sectional keeps dated studies only
    flags = record.having(*RED_FLAG_CONCEPTS)
    if any(may_be_after(f, study.when) for f in flags):
        return None  # a red flag that may be newer than the study: a new study may be needed
    study_fact = Fact(concept="completed_study", display=f"{study.display} (completed)",
                      source=study.source, resource_type=study.source.split("/", 1)[0],
                      when=study.when)
    reasons = [f"{study.display} was completed on {study.when.date().isoformat()} and no "
               "red flag has been recorded since (coded data)."]
    if flags:
        reasons.append("A red-flag fact older than the study is still current: the draft is "
                       "not offered for deletion; decide whether the study answered it.")
    unreadable = record.unreadable_red_flags
    if unreadable:
        reasons.append(f"{unreadable_entry(unreadable[0])}: the draft is not offered for "
                       "deletion; check the entry in the chart.")
    since = (f"check {unreadable[0].display} in the chart first" if unreadable
             else "no red flag recorded since")
    return rule.finding(
        "info",
        f"Review the spine MRI/CT of {study.when.date().isoformat()} before repeating it: "
        + since,
        [study_fact, *unreadable],
        reasons,
        (),
        [threshold(ctx.settings, "repeat_imaging_window_days")],
        delete_drafts=() if flags or unreadable else draft,
    )


def _covers(study: Order, draft: Order) -> bool:
    """The study may image every segment the draft asks for: a thoracic MRI does not make a
    draft lumbar MRI a repeat (a draft whose region is not recorded: any spine study)."""
    return all(study.may_image(segment) for segment in draft.segments)


def _not_indicated(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    # Imaging-indicated runs first: never call the same draft both indicated and not.
    if ctx.fired(Topic.REPEAT_IMAGING, Topic.IMAGING_INDICATED):
        return None
    draft = drafts(record, SPINE_IMAGING, ctx.hook, ctx.selections)
    unread = unread_drafts(record, SPINE_IMAGING, ctx.hook, ctx.selections)
    if not (draft or unread):
        return None
    # with an entry or a draft that could not be read, stand down only for a red-flag card
    # the site shows (every card names them; a hidden one names nothing)
    if record.unreadable_red_flags:  # the red-flag entry first, whatever the draft
        return None if ctx.red_flag_shown else _check_the_unreadable_first(
            rule, record.unreadable_red_flags)
    advice = None if ctx.red_flag_fired or not draft else _in_the_first_weeks(record, ctx,
                                                                                rule, draft)
    if advice is None and unread and not ctx.red_flag_shown:
        return order_not_read(rule, unread, "spine imaging", others_read=bool(draft))
    return advice


def _in_the_first_weeks(record: PatientRecord, ctx: RuleContext, rule: Rule,
                        draft: list[Order]) -> Finding | None:
    """ACR variant 1: back pain under 6 weeks, no red flag: remove the draft."""
    onset = back_pain_onset(record)
    span = duration_days(record, onset)
    if span is None or span >= ctx.settings.acute_back_pain_days:
        return None
    first = [f for f in context_facts(record) if f.when == onset][:1]
    over_a_red_flag = draft_over_red_flags(record, ctx, rule, "spine imaging", _VARIANT_1,
                                           first)
    if over_a_red_flag:
        return over_a_red_flag
    return rule.finding(
        "warning",
        "Remove the draft spine imaging: back pain under 6 weeks, no red flag (ACR variant 1)",
        first,
        [f"Back pain began {span:.0f} days ago and no red flag is recorded; imaging in "
         "the first 6 weeks does not improve outcomes (ACR variant 1: usually not "
         "appropriate; NICE NG59 1.1.4: do not routinely offer imaging)."],
        (Recommendation("physiotherapy-referral", "routine"),),
        delete_drafts=draft,
    )


def _check_the_unreadable_first(rule: Rule, unreadable: list[Fact]) -> Finding:
    """A red-flag entry no rule could read: never "remove the imaging, no red flag"."""
    return check_before_deciding(rule, unreadable, "spine imaging", "if it is right, the "
                                 "imaging may be indicated; no advice against the order is "
                                 "given.")


def _no_prior_management(record: PatientRecord, ctx: RuleContext, rule: Rule
                         ) -> Finding | None:
    """ACR variant 2: subacute or chronic pain, no red flag, no prior management (IMG-01
    speaks instead while a red-flag entry could not be read)."""
    if ctx.red_flag_fired or ctx.fired(Topic.REPEAT_IMAGING, Topic.IMAGING_INDICATED,
                                       Topic.IMAGING_NOT_INDICATED) \
            or record.unreadable_red_flags:
        return None
    settings = ctx.settings
    draft = drafts(record, SPINE_IMAGING, ctx.hook, ctx.selections)
    onset = back_pain_onset(record)
    span = duration_days(record, onset)
    if not draft or span is None or span < settings.acute_back_pain_days:
        return None
    if record.ever("prior_spine_surgery") or _recent_management(record, settings):
        return None  # variant 5, or variant 3 territory: not this rule's call
    first = [f for f in context_facts(record) if f.when == onset][:1]
    over_a_red_flag = draft_over_red_flags(record, ctx, rule, "spine imaging", _VARIANT_2,
                                           first)
    if over_a_red_flag:
        return over_a_red_flag
    return rule.finding(
        "info",
        "Order only if surgery or an injection is being considered: imaging rarely changes "
        "management here (ACR variant 2)",
        first,
        [f"Back pain for {span / 7:.0f} weeks, no red flag and no conservative management "
         "(physiotherapy, exercise, analgesia) recorded in the last "
         f"{settings.conservative_management_days} days: ACR variant 2 rates initial imaging "
         "usually not appropriate; NICE NG59 1.1.4 (do not routinely offer imaging)."],
        (Recommendation("physiotherapy-referral", "routine"),),
        [threshold(settings, "conservative_management_days")],
    )


def _recent_management(record: PatientRecord, settings: RuleSettings) -> bool:
    """Physiotherapy / exercise (coded or ordered) or an analgesic within the window; an
    analgesic that is still current counts whenever it began."""
    window = days(settings.conservative_management_days)
    undated = [f for f in record.having("conservative_care_given") if f.when is None]
    return bool(record.begun_within("conservative_care_given", within=window) or undated
                or record.begun_within("analgesic_drug", within=window)
                or _current_medication(record, "analgesic_drug")
                or record.orders_of("physiotherapy", within=window))


def _current_medication(record: PatientRecord, concept: str) -> bool:
    return any(f.resource_type.startswith("Medication") for f in record.having(concept))


def _indicated(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if ctx.red_flag_fired or ctx.fired(Topic.REPEAT_IMAGING):
        return None
    settings = ctx.settings
    # the MRI suggested is of the lumbar spine: a recent thoracic-only one does not stand in
    recent_mri = [o for o in record.orders_of("spine_mri", states=("completed",),
                                              within=days(settings.repeat_imaging_window_days))
                  if o.may_image(LUMBAR)]
    surgery = record.ever("prior_spine_surgery")
    if surgery:
        after = _symptoms_after_surgery(record, surgery)
        if after:
            return rule.finding(
                "info",
                "MRI lumbar spine with and without contrast: new or worse symptoms after spine "
                "surgery",
                [*surgery, *after],
                ["Symptoms are new or worse after previous lumbar surgery (ACR variant 5: "
                 "MRI without and with contrast usually appropriate)."],
                (Recommendation("mri-lumbar-with-and-without-contrast", "routine",
                                recommended=True),),
            )
    radicular = record.having("radiculopathy", "spinal_stenosis")
    onset = latest_onset(radicular)  # "6 weeks" must hold even at a partial date's end
    span = duration_days(record, onset)
    care = record.ever("conservative_care_given")
    if not radicular or span is None or span < settings.acute_back_pain_days or not care:
        return None
    if recent_mri:
        return None
    # a completed MRI with no date is not shown to be recent (PatientRecord.orders_of):
    # the card names it, so the clinician can check when it was done
    undated = [o for o in record.orders_of("spine_mri", states=("completed",))
               if o.when is None]
    return rule.finding(
        "info",
        "MRI lumbar spine if a surgery or injection candidate: radicular symptoms after 6 "
        "weeks of conservative care",
        [*radicular, *care],
        [f"Radicular or stenosis symptoms for {span / 7:.0f} weeks despite conservative care, "
         "and no spine MRI in the repeat-imaging window.",
         *(f"{o.display} (`{o.source}`) is on record with no date: check when it was done "
           "before ordering another." for o in undated)],
        (Recommendation("mri-lumbar-without-contrast", "routine", recommended=True),),
        [threshold(settings, "repeat_imaging_window_days")],
    )


def _symptoms_after_surgery(record: PatientRecord, surgery: list[Fact]) -> list[Fact]:
    last = max((f.when for f in surgery if f.when is not None), default=None)
    symptoms = record.having(*RADICULAR_PAIN, "low_back_pain", "spinal_stenosis")
    worse = [f for f in symptoms if f.worsening]
    after = [f for f in symptoms if last is not None and f.when is not None
             and may_be_after(f, last)]
    return [*worse, *after]


IMG_REPEAT = Rule(
    id="IMG-03",
    version="2.15.1",
    topic=Topic.REPEAT_IMAGING,
    title="Repeat spine MRI/CT within the repeat-imaging window",
    indicators=("info",),
    evidence=("acp-2011", "cw-imaging"),
    advice=(
        "Review the existing study and its report instead of repeating it.",
        "Repeat imaging only for a new red flag or a change in the clinical picture.",
    ),
    check=_repeat,
    hooks=ORDER_HOOKS,
    phase="pathway",
    changes=present_denial_change("2.15.1")
    + notes_change("2.15.0") + column_value_change("2.14.2") + blank_answer_change("2.14.1")
    + question_answered_no_change("2.14.0")
    + value_beside_code_change("2.13.0")
    + words_in_values_change("2.12.0")
    + symptoms_set_aside_change("2.11.0")
    + "2.10.0: an entry not read for a fault in the service is set aside like a "
    "malformed one (record/reader_faults): named by its red flags, or, when what it names is "
    "unknown, as 'an unread <type> entry' whose reason says so. "
    + another_part_change("2.9.0")
    + "2.8.0: while an entry naming a red flag could not be read (malformed: an "
            "impossible date, an id with a space), the draft is not offered for deletion, "
            "the summary asks to check it in the chart first instead of 'no red flag "
            "recorded since', and the card names the entry (before: offered, the entry "
            "unseen). "
    + part_naming_change("2.7.0")
    + denial_naming_change("2.6.0")
    + "2.5.0: a recent study makes a draft a repeat only when it may image every "
            "segment the draft asks for: a thoracic-only MRI does not make a draft lumbar MRI "
            "a repeat (before: 'review before repeating it' and a suggestion to delete the "
            "draft). "
    + lumbar_mri_words_change("2.4.0")
    + observation_reading_change("2.3.0")
    + coded_answer_change("2.2.0")
    + "2.1.0: a spine MRI is also recognised from an ImagingStudy's series modality "
            "with a body-site code of value set spine_body_site, or from the study-level "
            "modality list with a spine site or description (before: a series modality with "
            "a spine word only): such a recent study gives the reuse card. "
            "2.0.0: stands down whenever a red-flag family fired; no delete suggestion "
            "while any red-flag fact is current; a partial date counts as after the study "
            "when it may be (\"2026-02\" vs an MRI of 15 February); says 'no red flag "
            "recorded since (coded data)' instead of 'no new red flag'.",
)

_UNREADABLE_STANDS_DOWN = (
    "{version}: stands down while an entry naming a red flag could not be read (malformed: "
    "an impossible date, an id with a space; every card names it): it never says 'no red "
    "flag' over it (before: the card was given, the entry unseen); IMG-01 says instead "
    "'Check <sign> in the chart before deciding on spine imaging' (info, no deletion, with "
    "the advice to open the entry, not to remove the draft). ")

_RED_FLAG_MET_NO_RULE_CHANGE = (
    "{version}: over a red flag recorded that met no rule ({variant} is for back pain "
    "without red flags) the draft is not called unneeded: night pain or a sexual dysfunction "
    "alone, a coded red flag of the last CAUDA_EQUINA_WINDOW_DAYS, a fever or a weight loss "
    "as INF-01 and MAL-01 read them (a temperature of 38.6 °C yesterday without a risk "
    "factor for infection; weights falling 5 % at 40), or a red flag dated after today. An "
    "info card, no deletion: 'Re-assess fever (38.6 Cel) before deciding on the spine "
    "imaging: a red flag, no red-flag rule met' ('Check the date of <sign> before deciding "
    "...'), what its family counts beside it, what to re-assess (before: '{before}', while "
    "CONS-01 named the red flag on patient-view; two independent reviews, December 2026). ")

_ORDER_NOT_READ_CHANGE = (
    "{version}: a draft {order} order the service could not read (malformed: an impossible "
    "date, an id with a space; or not read for a fault in the service) gives the call its "
    "context and an info card, 'Decide on the draft {order} without this service: it could "
    "not read the order' ('one of the orders' beside a read draft with nothing said of it; "
    "no advice for or against it, nothing offered for deletion; before: no card, and with no "
    "back pain recorded the red-flag checks did not run). ")

IMG_NOT_INDICATED = Rule(
    id="IMG-01",
    version="1.19.1",
    topic=Topic.IMAGING_NOT_INDICATED,
    title="Spine imaging in the first 6 weeks without red flags (ACR variant 1)",
    indicators=("warning", "info"),
    evidence=("acr-lbp-v1", "nice-ng59-imaging", "cw-imaging", "girft-ces"),
    advice=(
        "Remove the draft imaging order.",
        "Offer the conservative pathway: reassurance, stay active, avoid bed rest, simple "
        "analgesia, heat; risk-stratify (e.g. STarT Back) and refer higher-risk patients to "
        "physiotherapy / exercise.",
        "Re-assess at 6 weeks, or sooner if a red flag appears.",
    ),
    check=_not_indicated,
    hooks=ORDER_HOOKS,
    phase="pathway",
    asks_to_check_unread=True,
    changes=present_denial_change("1.19.1")
    + notes_change("1.19.0") + column_value_change("1.18.1")
    + temperature_forms_change("1.18.0") + blank_answer_change("1.17.1")
    + weak_red_flag_history("1.17.0", "1.16.0", "1.15.0", "1.14.0", "1.13.0")
    + question_answered_no_change("1.12.0")
    + _RED_FLAG_MET_NO_RULE_CHANGE.format(
        version="1.11.0", variant="ACR variant 1",
        before="Remove the draft spine imaging: back pain under 6 weeks, no red flag', "
        "'no red flag is recorded")
    + value_beside_code_change("1.10.0")
    + words_in_values_change("1.9.0")
    + _ORDER_NOT_READ_CHANGE.format(version="1.8.0", order="spine imaging")
    + symptoms_set_aside_change()
    + fault_named_change("1.7.0")
    + _UNREADABLE_STANDS_DOWN.format(version="1.6.0")
    + "GIRFT's CES pathway listed in the evidence (the check-first card's advice cites it). "
    + denial_naming_change("1.5.0")
    + observation_reading_change("1.4.0")
    + coded_answer_change("1.3.0")
    + "1.2.0: cites ACR variant 1 only (not 1-2) and NICE NG59 1.1.4 with deep links; "
            "summary leads with the action.",
)

IMG_NO_PRIOR_MANAGEMENT = Rule(
    id="IMG-04",
    version="1.18.1",
    topic=Topic.IMAGING_NOT_INDICATED,
    title="Spine imaging for subacute/chronic pain without red flags or prior management "
          "(ACR variant 2)",
    indicators=("info",),
    evidence=("acr-lbp-v2", "nice-ng59-imaging"),
    advice=(
        "Imaging rarely changes the management of back pain without red flags: order it "
        "only if surgery or an injection is being considered (ACR variant 3).",
        "Offer conservative management first: exercise / physiotherapy, analgesia, "
        "self-management advice.",
    ),
    check=_no_prior_management,
    hooks=ORDER_HOOKS,
    phase="pathway",
    changes=present_denial_change("1.18.1")
    + notes_change("1.18.0") + column_value_change("1.17.1")
    + temperature_forms_change("1.17.0") + blank_answer_change("1.16.1")
    + weak_red_flag_history("1.16.0", "1.15.0", "1.14.0", "1.13.0", "1.12.0")
    + question_answered_no_change("1.11.0")
    + _RED_FLAG_MET_NO_RULE_CHANGE.format(
        version="1.10.0", variant="ACR variant 2",
        before="Order only if surgery or an injection is being considered', 'no red flag and "
        "no conservative management")
    + value_beside_code_change("1.9.0")
    + words_in_values_change("1.8.0")
    + symptoms_set_aside_change("1.7.0")
    + _UNREADABLE_STANDS_DOWN.format(version="1.6.0")
    + denial_naming_change("1.5.0")
    + observation_reading_change("1.4.0")
    + coded_answer_change("1.3.0")
    + "1.2.0: a medicine named by medicationReference is read by the referenced "
            "Medication, else by the Reference's display (an EHR sends no Medication "
            "without _include) (analgesics as prior management). "
            "1.1.0: an analgesic (NSAID, paracetamol, codeine: value set analgesic_drug) "
            "current or within CONSERVATIVE_MANAGEMENT_DAYS counts as prior management. "
            "1.0.0 (new): ACR variant 2 -> info, no delete suggestion.",
)

IMG_INDICATED = Rule(
    id="IMG-02",
    version="1.14.1",
    topic=Topic.IMAGING_INDICATED,
    title="MRI for persistent radiculopathy / stenosis or after spine surgery",
    indicators=("info",),
    evidence=("acr-lbp-v3", "acr-lbp-v5", "acp-aps-2007", "nass-disc-2014"),
    advice=(
        "MRI of the lumbar spine without contrast if the patient is a candidate for surgery "
        "or an epidural injection (ACR variant 3; ACP/APS rec. 4).",
        "After previous lumbar surgery: MRI without and with contrast (ACR variant 5).",
    ),
    check=_indicated,
    phase="pathway",
    changes=present_denial_change("1.14.1")
    + notes_change("1.14.0") + column_value_change("1.13.2") + blank_answer_change("1.13.1")
    + question_answered_no_change("1.13.0")
    + value_beside_code_change("1.12.0")
    + words_in_values_change("1.11.0")
    + denial_naming_change("1.10.0")
    + "1.9.0: a recent thoracic-only spine MRI does not stand in for the lumbar MRI "
            "suggested (before: no card). "
            "1.8.0: a completed spine MRI with no date is not a recent one (it may be "
            "years old): the MRI suggestion stands and the card names the undated study to "
            "check (before: no card). "
    + lumbar_mri_words_change("1.7.0")
    + observation_reading_change("1.6.0")
    + coded_answer_change("1.5.0")
    + "1.4.0: a spine MRI is also recognised from an ImagingStudy's series modality "
            "with a body-site code of value set spine_body_site, or from the study-level "
            "modality list with a spine site or description (before: a series modality with "
            "a spine word only). "
            "1.3.0: summary leads with the action; evidence cites ACR variants 3 and 5 "
            "instead of the whole ACR topic. "
            "1.2.0: a symptom with a partial date counts as after the surgery when it may "
            "be (\"may be after\").",
)

RULES = (IMG_REPEAT, IMG_INDICATED, IMG_NOT_INDICATED, IMG_NO_PRIOR_MANAGEMENT)
