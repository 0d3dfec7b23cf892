"""Spine imaging appropriateness: repeat imaging, imaging indicated, imaging not indicated
(PATHWAY.md 6-8), evaluated in that order. These stand down whenever a red-flag family
fired (the red-flag card carries its own imaging); a repeat stands down the other two, and
"indicated" (e.g. new symptoms after spine surgery, ACR variant 5) stands down "not
indicated" for the same draft.
"""

from __future__ import annotations

from cds_rules.model import ORDER_HOOKS, Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
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
)

# Concepts whose facts are red flags: one dated after a study makes a new study no repeat.
RED_FLAG_CONCEPTS = (
    "cauda_equina_syndrome", "urinary_retention", "urinary_incontinence",
    "faecal_incontinence", "saddle_anaesthesia", "loss_of_rectal_sensation",
    "sexual_dysfunction", "gait_disturbance", "hyperreflexia", "myelopathy",
    "muscle_weakness", "foot_drop", "cancer", "bone_metastasis", "myeloma", "weight_loss",
    "fever", "spinal_infection", "epidural_abscess", "significant_trauma",
    "fragility_fracture", "aortic_aneurysm", "aortic_dissection",
)


def _repeat(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    draft = drafts(record, CROSS_SECTIONAL, ctx.hook, ctx.selections)
    studies = completed_cross_sectional(record, ctx.settings)
    if not (draft and studies):
        return None
    study = studies[0]
    assert study.when is not None  # completed_cross_sectional keeps dated studies only
    since = [f for f in record.having(*RED_FLAG_CONCEPTS)
             if f.when is not None and f.when > study.when]
    if since:
        return None
    study_fact = Fact(concept="completed_study", display=f"{study.display} (completed)",
                      source=study.source, resource_type=study.source.split("/", 1)[0],
                      when=study.when)
    return rule.finding(
        "info",
        "Spine MRI/CT done within the last year and no new red flag: reuse it, do not repeat",
        [study_fact],
        [f"{study.display} was completed on {study.when.date().isoformat()} and no new red "
         "flag has been recorded since."],
        (),
        [threshold(ctx.settings, "repeat_imaging_window_days")],
        delete_drafts=draft,
    )


def _not_indicated(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    # Imaging-indicated runs first: never call the same draft both indicated and not.
    if ctx.red_flag_fired or ctx.fired(Topic.REPEAT_IMAGING, Topic.IMAGING_INDICATED):
        return None
    draft = drafts(record, SPINE_IMAGING, ctx.hook, ctx.selections)
    onset = back_pain_onset(record)
    span = duration_days(record, onset)
    if not draft or span is None or span >= ctx.settings.acute_back_pain_days:
        return None
    first = [f for f in context_facts(record) if f.when == onset][:1]
    return rule.finding(
        "warning",
        "Spine imaging not indicated: back pain under 6 weeks with no red flag",
        first,
        [f"Back pain began {span:.0f} days ago and no red flag is recorded; imaging in "
         "the first 6 weeks does not improve outcomes (ACR variants 1-2: usually not "
         "appropriate)."],
        (Recommendation("physiotherapy-referral", "routine"),),
        delete_drafts=draft,
    )


def _indicated(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if ctx.red_flag_fired or ctx.fired(Topic.REPEAT_IMAGING):
        return None
    settings = ctx.settings
    recent_mri = record.orders_of("spine_mri", states=("completed",),
                                  within=days(settings.repeat_imaging_window_days))
    surgery = record.ever("prior_spine_surgery")
    if surgery:
        after = _symptoms_after_surgery(record, surgery)
        if after:
            return rule.finding(
                "info",
                "New or worse symptoms after spine surgery: MRI lumbar spine with and without "
                "contrast",
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
    return rule.finding(
        "info",
        "Persistent radicular symptoms after 6 weeks of conservative care: MRI lumbar spine if "
        "a surgery/injection candidate",
        [*radicular, *care],
        [f"Radicular or stenosis symptoms for {span / 7:.0f} weeks despite conservative care, "
         "and no spine MRI in the repeat-imaging window."],
        (Recommendation("mri-lumbar-without-contrast", "routine", recommended=True),),
        [threshold(settings, "repeat_imaging_window_days")],
    )


def _symptoms_after_surgery(record: PatientRecord, surgery: list[Fact]) -> list[Fact]:
    last = max((f.when for f in surgery if f.when is not None), default=None)
    symptoms = record.having(*RADICULAR_PAIN, "low_back_pain", "spinal_stenosis")
    worse = [f for f in symptoms if f.worsening]
    after = [f for f in symptoms if last is not None and f.when is not None and f.when > last]
    return [*worse, *after]


IMG_REPEAT = Rule(
    id="IMG-03",
    version="1.0.0",
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
)

IMG_NOT_INDICATED = Rule(
    id="IMG-01",
    version="1.1.0",
    topic=Topic.IMAGING_NOT_INDICATED,
    title="Spine imaging in the first 6 weeks without red flags",
    indicators=("warning",),
    evidence=("acr-ac-lbp", "cw-imaging", "acp-aps-2007", "nice-ng59"),
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
)

IMG_INDICATED = Rule(
    id="IMG-02",
    version="1.1.0",
    topic=Topic.IMAGING_INDICATED,
    title="MRI for persistent radiculopathy / stenosis or after spine surgery",
    indicators=("info",),
    evidence=("acr-ac-lbp", "acp-aps-2007", "nass-disc-2014"),
    advice=(
        "MRI of the lumbar spine without contrast if the patient is a candidate for surgery "
        "or an epidural injection (ACR variant 3; ACP/APS rec. 4).",
        "After previous lumbar surgery: MRI without and with contrast (ACR variant 5).",
    ),
    check=_indicated,
    phase="pathway",
)

RULES = (IMG_REPEAT, IMG_INDICATED, IMG_NOT_INDICATED)
