"""Electrodiagnostic testing (AANEM Choosing Wisely 2015; Cho et al. 2010; NASS).

EMG-01: leg symptoms for at least ``emg_min_leg_symptom_days`` (convention, configurable)
with an uncertain diagnosis (neuropathy, diabetes, plexopathy, entrapment) and no recent
EMG/NCS -> needle EMG with nerve conduction studies, together.
EMG-02: a draft EMG/NCS for back pain without any leg symptom -> advise against.
"""

from __future__ import annotations

from cds_rules.model import (
    LEG_SYMPTOMS,
    ORDER_HOOKS,
    SYMPTOM_CONCEPTS,
    Fact,
    Finding,
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
    observation_reading_change,
    order_not_read,
    question_answered_no_change,
    symptoms_set_aside_change,
    threshold,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    back_pain_only_in_words,
    context_facts,
    days,
    drafts,
    duration_days,
    earliest,
    may_record_symptoms,
    unread_drafts,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)

DIFFERENTIALS = ("peripheral_neuropathy", "diabetes", "plexopathy", "entrapment_neuropathy")


def _suggest(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    legs = record.having(*LEG_SYMPTOMS)
    span = duration_days(record, earliest(legs))
    if not legs or span is None or span < settings.emg_min_leg_symptom_days:
        return None
    differentials = record.having(*DIFFERENTIALS)
    if not differentials:
        return None
    recent = record.orders_of("emg_ncs", states=("active", "completed"),
                              within=days(settings.repeat_imaging_window_days))
    if recent:
        return None
    return rule.finding(
        "info",
        "Consider needle EMG with nerve conduction studies: leg symptoms with an uncertain "
        "cause",
        [*legs, *differentials],
        [f"Leg symptoms for {span / 7:.0f} weeks, and "
         + ", ".join(sorted({f.display for f in differentials}))
         + " could explain them as well as a root lesion."],
        (Recommendation("emg-ncs", "routine", recommended=True),),
        [threshold(settings, "emg_min_leg_symptom_days"),
         threshold(settings, "repeat_imaging_window_days")],
    )


def _advise_against(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    draft = drafts(record, ("emg_ncs",), ctx.hook, ctx.selections)
    # the order on the desk may be one the service could not read (of a known kind: one of
    # unknown kind is IMG-01's to name)
    unread = [d for d in unread_drafts(record, ("emg_ncs",), ctx.hook, ctx.selections)
              if d.kinds]
    advise = bool(draft) and not record.having(*LEG_SYMPTOMS, "foot_drop") \
        and not back_pain_only_in_words(record)  # its other words are not assessed
    if not (advise or unread):
        return None
    if record.unreadable_red_flags:  # never "remove the draft" or "decide" past it
        return _check_the_unread_first(rule, record.unreadable_red_flags)
    if not advise:
        return order_not_read(rule, unread, "EMG/NCS", others_read=bool(draft))
    return rule.finding(
        "info",
        "Remove the draft EMG/NCS: not indicated for back pain without leg symptoms",
        context_facts(record)[:1],
        ["No leg pain, numbness, tingling or weakness is recorded: EMG/NCS does not help "
         "isolated axial back pain (NASS, AANEM Choosing Wisely)."],
        delete_drafts=draft,
    )


def _check_the_unread_first(rule: Rule, unreadable: list[Fact]) -> Finding:
    """An entry the service could not read: one naming leg symptoms, or one not read for a
    fault (it may be them), first; any other may record a red flag, whose pathway comes
    first."""
    first = next((f for f in unreadable if _may_be_leg_symptoms(f)), unreadable[0])
    why = ("it may record leg symptoms" if _may_be_leg_symptoms(first) else
           "what it records beside the back pain is unknown to the service"
           if first.concept in SYMPTOM_CONCEPTS else
           "if it records a red flag, its pathway applies now")
    return check_before_deciding(rule, [first], "EMG/NCS",
                                 f"{why}; no advice against the order is given.")


def _may_be_leg_symptoms(fact: Fact) -> bool:
    return fact.concept in LEG_SYMPTOMS or may_record_symptoms(fact)


EMG_01 = Rule(
    id="EMG-01",
    version="1.10.1",
    topic=Topic.ELECTRODIAGNOSTIC_TESTING,
    title="Needle EMG with NCS when the cause of leg symptoms is uncertain",
    indicators=("info",),
    evidence=("cw-aanem", "cho-aanem-2010", "cw-nass-emg"),
    advice=(
        "Order needle EMG together with nerve conduction studies (never NCS alone; no "
        "dermatomal SEPs).",
        "Most useful to tell radiculopathy from peripheral neuropathy, plexopathy or "
        "entrapment, or when imaging does not match the examination.",
    ),
    check=_suggest,
    phase="pathway",
    changes=present_denial_change("1.10.1")
    + notes_change("1.10.0") + column_value_change("1.9.2") + blank_answer_change("1.9.1")
    + question_answered_no_change("1.9.0")
    + value_beside_code_change("1.8.0")
    + words_in_values_change("1.7.0")
    + another_part_change("1.6.0")
    + denial_naming_change("1.5.0")
    + "1.4.0: a completed EMG/NCS with no date is not a recent one (it may be years "
            "old): the suggestion stands (before: withheld); an active one with no date "
            "still is. "
    + observation_reading_change("1.3.0")
    + coded_answer_change("1.2.0")
    + "1.1.0: summary leads with the action; the NASS Choosing Wisely source links "
            "to NASS's list (item 4) instead of the Choosing Wisely home page. 1.0.1: the "
            "AANEM source links to AANEM's list (recommendation 4). Logic unchanged.",
)

EMG_02 = Rule(
    id="EMG-02",
    version="1.11.1",
    topic=Topic.ELECTRODIAGNOSTIC_TESTING,
    title="EMG/NCS ordered for back pain without leg symptoms",
    indicators=("info",),
    evidence=("cw-nass-emg", "cw-aanem"),
    advice=("Remove the draft EMG/NCS order unless there are leg symptoms not yet recorded.",),
    check=_advise_against,
    hooks=ORDER_HOOKS,
    phase="pathway",
    asks_to_check_unread=True,
    changes=present_denial_change("1.11.1")
    + notes_change("1.11.0") + column_value_change("1.10.2") + blank_answer_change("1.10.1")
    + question_answered_no_change("1.10.0")
    + value_beside_code_change("1.9.0")
    + words_in_values_change("1.8.0")
    + "1.7.0: a draft EMG/NCS order the service could not read (malformed: an "
    "impossible date, an id with a space; or not read for a fault in the service) gives the "
    "call its context and an info card, 'Decide on the draft EMG/NCS without this service: it "
    "could not read the order' (no advice for or against it, nothing offered for deletion; "
    "before: no card, and with no back pain recorded the red-flag checks did not run); "
    "over any entry the service could not read (a malformed red-flag entry too), read draft "
    "or not, 'Check <entry> in the chart before deciding on EMG/NCS' (before: 'Remove the "
    "draft EMG/NCS' over a malformed retention); that card is shown where a site switches "
    "electrodiagnostic testing off (before: hidden, and the order got no card). "
    + symptoms_set_aside_change() +
    "1.6.0: while an entry that can record leg symptoms (any but a medicine or an "
    "imaging study) was not read for a fault in the service (record/reader_faults), asks "
    "for it to be checked before deciding ('Check <entry> in the chart before deciding on "
    "EMG/NCS', info, no deletion; before: 'Remove the draft EMG/NCS' over it). "
    + another_part_change("1.5.0")
    + denial_naming_change("1.4.0")
    + observation_reading_change("1.3.0")
    + coded_answer_change("1.2.0")
    + "1.1.0: summary leads with the action; the NASS Choosing Wisely source links "
            "to NASS's list (item 4). 1.0.1: the AANEM source links to AANEM's list. Logic "
            "unchanged.",
)

RULES = (EMG_01, EMG_02)
