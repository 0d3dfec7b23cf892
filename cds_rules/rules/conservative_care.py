"""Conservative care: uncomplicated back pain gets one quiet info card (NICE NG59
1.1.2-1.1.3; ACP 2017), on patient-view and encounter-start, when no red flag fired and
imaging is not indicated. Physiotherapy is suggested once the pain has lasted 6 weeks.

It never says "no red flags" (the engine reads coded data, in its windows, and words only
for some red flags): it says what was checked, "No red flag recorded in the last N days
(coded data)", and carries CES safety-netting with the NHS.uk cauda equina page, as
GIRFT 2023 asks (clinical review).
"""

from __future__ import annotations

from collections.abc import Sequence

from cds_rules.model import (
    RED_FLAG_INPUTS,
    SYMPTOM_CONCEPTS,
    UNREAD,
    Fact,
    Finding,
    PatientRecord,
    Recommendation,
    Topic,
)
from cds_rules.rules.base import (
    CHECK_THE_ENTRY_FIRST,
    PATHWAY_IF_CURRENT,
    Rule,
    RuleContext,
    another_part_change,
    blank_answer_change,
    coded_answer_change,
    denial_naming_change,
    fault_named_change,
    observation_reading_change,
    part_naming_change,
    question_answered_no_change,
    symptoms_set_aside_change,
    threshold,
    unreadable_entry,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    back_pain_only_in_words,
    back_pain_onset,
    coded_context,
    context_facts,
    duration_days,
    may_hide_back_pain,
    unread_context,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.rules.weak_red_flags import (
    dated_ahead,
    dated_ahead_line,
    dated_ahead_name,
    family_needs,
    in_window_lines,
    lead_names,
    re_assess_first,
    red_flags_recorded,
    thresholds,
)

# What the red-flag families read: codes; and in words (cds_rules.record.uncoded_entries)
# only the names and values of conditions and observations, for the UNCODED-* families'
# phrases (a red flag named there gives a warning of its own, which stands this card
# down) and for a fever, weight loss or night pain (cds_rules.weak_words: this card names
# it). The examples are phrases they read (a test holds each to it), not the families'
# names, which would read as whole categories.
WHAT_WAS_READ = ("Problem and observation wording is checked for a few red-flag phrases "
                 "only (e.g. urinary retention, saddle anaesthesia, foot drop, cord "
                 "compression, cancer, discitis, vertebral fracture, aortic aneurysm; fever, "
                 "weight loss, night pain); other wording (trauma, drug use), notes, letters "
                 "and reports are not read.")


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if ctx.stands_down_for_red_flag(record) or ctx.fired(Topic.IMAGING_INDICATED):
        return None
    # no back pain read but a red flag of one not read (context.unread_context); a back
    # pain read only from words gets the check-first forms only (unread entries, dates
    # ahead), none that reassures
    context = coded_context(record) or unread_context(record)
    words_only = not context and back_pain_only_in_words(record)
    if words_only:
        context = context_facts(record)
    if not context:  # nor named: only an unread entry that may be it is said
        if not may_hide_back_pain(record):
            return None
        return _with_unreadable_flags(ctx, rule, context, record.unreadable_red_flags,
                                      record.having(*RED_FLAG_INPUTS, current_only=False),
                                      alone=True)
    span = duration_days(record, back_pain_onset(record))
    persistent = span is not None and span >= ctx.settings.acute_back_pain_days
    recs = (Recommendation("physiotherapy-referral", "routine"),) if persistent else ()
    window = ctx.settings.cauda_equina_window_days
    ahead = dated_ahead(record, ctx.settings)
    weak, own_windows = red_flags_recorded(record, ctx.settings)
    if record.unreadable_red_flags:
        return _with_unreadable_flags(ctx, rule, context, record.unreadable_red_flags,
                                      [*ahead, *weak], own_windows=own_windows)
    if ahead:
        return _with_flags_dated_ahead(ctx, rule, context, ahead, weak, own_windows,
                                       dated_ahead_name(record, ctx.settings, ahead[0]))
    if words_only:  # its other words (fever, weight loss, trauma) are not assessed: no
        return None  # "reassure", neither "no red flag recorded" nor "no red-flag rule met"
    if weak or own_windows:
        return _with_weak_flags(ctx, rule, context, weak, own_windows)
    reasons = [f"No red flag recorded in coded entries in the last {window} days. "
               + WHAT_WAS_READ]
    if persistent and span is not None:
        reasons.append(f"Pain has lasted {span / 7:.0f} weeks: exercise therapy / "
                       "physiotherapy helps persistent pain.")
    return rule.finding(
        "info",
        f"Self-management, stay active; physiotherapy if persistent. No red flag recorded in "
        f"the last {window} days (coded data)",
        context,
        reasons,
        recs,
        [threshold(ctx.settings, "cauda_equina_window_days")],
    )


def _with_flags_dated_ahead(ctx: RuleContext, rule: Rule, context: list[Fact],
                            ahead: list[Fact], weak: list[Fact],
                            own_windows: Sequence[Fact], first: str) -> Finding:
    """A red flag dated after the clock (beyond the tolerance) leads the card (``first``:
    the first, as :func:`dated_ahead_name` names it); the weak red flags of the window (and
    a fever or weight loss of its own), which would have led it, are listed to be
    re-assessed."""
    window = ctx.settings.cauda_equina_window_days
    reasons = [dated_ahead_line(ctx.settings, ahead)]
    if weak:
        reasons.append(f"{len(weak)} other red-flag fact(s) recorded in the last {window} days "
                       "fired no rule on their own: re-assess them too.")
    return rule.finding(
        "info",
        f"Check the date of {first}: recorded after today, not counted as a red flag",
        [*ahead, *weak, *own_windows, *context],
        [*reasons, *family_needs(ctx.settings, [*weak, *own_windows])],
        (),
        [threshold(ctx.settings, "clock_skew_minutes"),
         *thresholds(ctx.settings, bool(weak), [*weak, *own_windows])],
        advice=(*CHECK_THE_DATE_FIRST, *re_assess_first([*weak, *own_windows]),
                CONS_01_SAFETY_NET, CONS_01_URGENT_REVIEW),
    )


_NOT_ASSESSED = (
    "No back pain was read, so no rule assessed the {n} red-flag fact(s) recorded (red flags "
    "and the risk factors red-flag rules read, any date); the unread entry may be the back "
    "pain. If it is, their pathways apply now (for a cauda equina sign: emergency MRI of "
    "the lumbar spine, GIRFT 2023).")


def _with_unreadable_flags(ctx: RuleContext, rule: Rule, context: list[Fact],
                           unreadable: list[Fact], others: list[Fact],
                           alone: bool = False, own_windows: Sequence[Fact] = ()) -> Finding:
    """Something a red-flag family reads, or the back pain, named by an entry that could
    not be read (an impossible date, an id with a space): no rule read it, so the card must
    not say "no red flag"; it names the entry for the clinician to check in the chart. Red
    flags dated ahead and weak ones are listed too (``others``): they would have led the
    card, as would a fever or weight loss read in its own window (``own_windows``).
    ``alone``: no back pain was read, and this card is the call's only rule (the unread
    entry may be the back pain: PATHWAY.md 2)."""
    first = unreadable[0]
    unknown = first.concept == UNREAD  # not read for a fault: what it records is unknown
    symptom = first.concept in SYMPTOM_CONCEPTS  # back pain or leg symptoms, no red flag
    reasons = [f"{unreadable_entry(first)}. " + (
        "If it records a red flag, its pathway applies now." if unknown else
        "Its onset is unknown to the service (no judgement of how long it has lasted is "
        "made), and the red-flag checks that read it beside another finding (an aneurysm, a "
        "kidney stone or a new weakness with back pain; sciatica on both sides) could not."
        if symptom else "If the entry is right, the red-flag pathway applies now.")]
    if alone:  # shown only because the unread entry may have been the back pain
        reasons.append(_NOT_ASSESSED.format(n=len(others)) if others else
                       "No back pain was read, and the unread entry may be it.")
    elif others:
        reasons.append(f"{len(others)} other red-flag fact(s) dated after today or in the "
                       f"last {ctx.settings.cauda_equina_window_days} days fired no rule on "
                       "their own: re-assess them too.")
    if others and alone:
        summary = (f"Check {first.display} in the chart; {len(others)} red flag(s) "
                   "recorded, not assessed")
    elif unknown or symptom:
        summary = f"Check {first.display} in the chart: the service could not read it"
    else:
        summary = f"Check {first.display} in the chart: a red-flag entry the service could " \
                  "not read"
    return rule.finding(
        "info",
        summary,
        [*unreadable, *others, *own_windows, *context],
        [*reasons, *family_needs(ctx.settings, [*others, *own_windows])],
        (),
        thresholds(ctx.settings, bool(others), [*others, *own_windows]),
        advice=(*CHECK_THE_ENTRY_FIRST, CONS_01_SAFETY_NET),
        checks_unread=True,
    )


def _with_weak_flags(ctx: RuleContext, rule: Rule, context: list[Fact],
                     weak: list[Fact], own_windows: Sequence[Fact]) -> Finding:
    """A red-flag fact that fired no family (night pain alone, weight loss at 40, sexual
    dysfunction alone, a fever without a risk factor): the card must not claim "no red
    flag"; it names the fact (the first coded one in the window, ``weak``, and the first
    fever or weight loss read in its own window only, ``own_windows``) and asks for a
    re-assessment and safety-netting instead; over a fever or a weight loss, neither its
    summary nor its advice opens with self-management or "Reassure" (two independent
    reviews, December 2026)."""
    named = [*weak, *own_windows]
    reasons = in_window_lines(ctx.settings, weak)
    first = re_assess_first(named)
    return rule.finding(
        "info",
        ("Safety-net and re-assess" if first else
         "Self-management, stay active; safety-net and re-assess")
        + f": {lead_names(weak, own_windows)} recorded, no red-flag rule met",
        [*named, *context],
        [*reasons, *family_needs(ctx.settings, named)],
        (),
        thresholds(ctx.settings, bool(weak), named),
        advice=(*first, STAY_ACTIVE, *_AFTER_STAYING_ACTIVE) if first else None,
    )


CONS_01_SAFETY_NET = (
    "Safety-net for cauda equina syndrome (GIRFT 2023): tell the patient to go to an "
    "emergency department at once with new difficulty passing urine, loss of bladder or "
    "bowel control, numbness around the back passage or genitals, or weakness in both legs; "
    "give the NHS.uk cauda equina page (link below) and record that it was given.")

CONS_01_URGENT_REVIEW = ("Urgent review also for fever, unexplained weight loss or "
                         "worsening leg weakness.")

STAY_ACTIVE = ("Advise staying active and avoiding bed rest; superficial heat; simple analgesia "
               "(NSAID at the lowest effective dose if suitable).")
_AFTER_STAYING_ACTIVE = (
    "Risk-stratify (e.g. STarT Back) and offer exercise / physiotherapy for higher risk or "
    "persistent pain.",
    CONS_01_SAFETY_NET,
    CONS_01_URGENT_REVIEW,
)
"""The rule's advice after its first line: also that of the card over a fever or a weight
loss, which opens with what to re-assess and no "Reassure"."""
CHECK_THE_DATE_FIRST = (
    "Check the date of each red-flag entry dated after today in the chart: no red-flag rule "
    "counted it as new.",
    f"{PATHWAY_IF_CURRENT}; either way, correct the date.",
)
"""What to do on the card that asks for a red flag dated ahead to be checked first: no
"reassure" beside it (the fourteenth session's note; the advice of CONS-01 2.4.0-2.9.0)."""

CONS_01 = Rule(
    id="CONS-01",
    version="2.23.1",
    topic=Topic.CONSERVATIVE_CARE,
    title="Conservative care for back pain without a recorded red flag",
    indicators=("info",),
    evidence=("nice-ng59-management", "nhs-ces", "acp-2017", "girft-ces"),
    advice=("Reassure; " + STAY_ACTIVE[0].lower() + STAY_ACTIVE[1:], *_AFTER_STAYING_ACTIVE),
    check=_check,
    hooks=("patient-view", "encounter-start"),
    phase="pathway",
    asks_to_check_unread=True,
    changes=present_denial_change("2.23.1")
    + notes_change("2.23.0") + column_value_change("2.22.1")
    + "2.22.0: a temperature in a flowsheet's column ('Temperature (°C)<tab>38.9', 'Temp "
    "(tympanic)  38.9'; a row's columns, the highest), a later reading after its word "
    "('Temp 36.5, now 38.9', 'Temp 36.9 on arrival, rising to 38.9'; before: the first "
    "only), beside a weight ('T 38.9, 72.5 kg'), "
    "a TPR with a saturation or as 'T/P/R', a time in a table's bars ('Temp | 1400 | 38.9') "
    "or a box ticked after 'Seen for ...' is read: a fever in words named (before: 'No red "
    "flag recorded' and 'Reassure'). "
    + blank_answer_change("2.21.1")
    + "2.21.0: a temperature after a clock time or in a list of timed readings ('Temp "
    "36.9 at 0800, 38.9 at 1400', 'Temp at 14:00 was 38.9'), in a TPR ('TPR 38.9/120/24'), a "
    "form's bound ticked or answered yes ('Temp >38 [x]', 'Temp > 38 (Y/N): Y'), beside "
    "another symptom's end ('Temp 38.9 pain resolved'), under a local code's own letters "
    "('TEMP', no text), or in degrees of no named scale (39.2 'degrees') is read: a fever in "
    "words named (before: 'No red flag recorded' and 'Reassure'). "
    "2.20.0: a temperature written in figures ('Temp 38.9', 'T 39.1 C', "
    "'Temperature: 101.3F', 'Tmax 38.6'), or sent as a quantity under a code no value set "
    "knows ('Tympanic temperature' 39.2 Cel), at or above FEVER_CELSIUS in the last "
    "FEVER_WINDOW_DAYS or undated, is a fever in words: 'Safety-net and re-assess: fever "
    "(38.9 Cel) in words (\"Temp 38.9\")' (before: not read, 'No red flag recorded' and "
    "'Reassure'); 'Hyperpyrexia', 'lost 3.5kg', 'Lost a stone', 'Weight down 6kg' and 'Pain "
    "keeps him awake' are a fever, weight loss or night pain in words; another person's "
    "('Wife's fever', 'Baby has fever') and 'Malignant hyperpyrexia' are not; one dated "
    "after today is a red flag dated ahead ('Check the date of fever in words'). "
    "2.19.0: more words of a fever or night pain are read: 'Pyrexic', 'Rigours', "
    "'Spiking temperatures', 'Temperature spikes', 'Nocturnal back pain', 'Night back pain' "
    "(before: not read, the card said 'No red flag recorded' and 'Reassure'); and no longer "
    "read as one: 'Fever not recorded', 'Fever unlikely', 'Pain worse at night shift', "
    "'Weight loss required before surgery', 'Rigor mortis'. "
    "2.18.0: a fever, weight loss or night pain named in words, in an entry of the "
    "last CAUDA_EQUINA_WINDOW_DAYS or undated ('Febrile', 'Unintentional weight loss', 'Pain "
    "worse at night'; not denied, not a disease's name: 'Hay fever', not one meant: "
    "'Intentional weight loss'), is named: 'Safety-net and re-assess: fever in words "
    "(\"Febrile\") recorded, no red-flag rule met', the advice opening with what to "
    "re-assess (before: the words were not read: 'No red flag recorded in the last 14 days "
    "(coded data)' and 'Reassure'); no family counts words as its fact. The reason's list of "
    "what words are read names them. "
    "2.17.0: a weight dated after today that shows a loss against the heaviest "
    "weight of the last WEIGHT_LOSS_WINDOW_DAYS (WEIGHT_LOSS_PERCENT or more) leads the "
    "'Check the date' card: 'Check the date of weight 76 kg, 82 kg on 2025-11-02' (before: 'No "
    "red flag recorded', as weights after today are not read for a loss); a temperature "
    "dated ahead is named by its value ('temperature 38.6 Cel'; before: 'Body temperature'); "
    "over a fever or a weight loss of its window the 'Check the date' card's advice keeps what "
    "to re-assess ('Fever with back pain: re-assess today ...'). "
    + question_answered_no_change("2.16.0")
    + "2.15.0: a fever or a weight loss as INF-01 and MAL-01 read them, each in its own "
    "window (a temperature at or above FEVER_CELSIUS in the last FEVER_WINDOW_DAYS; weights "
    "falling by WEIGHT_LOSS_PERCENT in WEIGHT_LOSS_WINDOW_DAYS, or a coded weight loss in "
    "that window), which met no rule, is named: 'safety-net and re-assess: fever (38.6 Cel) "
    "recorded' (before: 'No red flag recorded in the last 14 days (coded data)' over a "
    "temperature of 38.6 °C yesterday); the summary names the first coded red flag of the "
    "window, the first fever and the first weight loss ('night pain and fever (38.6 Cel)') "
    "and over a fever or a weight loss opens 'Safety-net and re-assess'; the Why "
    "says what the family counts beside it, in the site's settings; over a fever or a weight "
    "loss (coded too) the advice opens with what to re-assess, not 'Reassure'; a night pain "
    "or a temperature at or above FEVER_CELSIUS dated after today leads the 'Check the date' "
    "card (before: 'No red flag recorded'). "
    + value_beside_code_change("2.14.0")
    + words_in_values_change("2.13.0")
    + symptoms_set_aside_change("2.12.0")
    + "With no back pain read but one in an entry the service could not read, the card is "
    "given over it (before: no card, and no red-flag check ran); a malformed cauda equina "
    "syndrome with no back pain coded gets the check-first card (before: no card). "
    + fault_named_change("2.11.0")
    + "Its check-first card is given without a back-pain fact when an entry that can record "
    "back pain was not read for a fault (it may have been the back pain), saying so and "
    "that the red flags recorded beside it were not assessed. "
    + "2.10.0: GIRFT's CES pathway listed in the evidence (its safety net and 'emergency "
            "MRI if current' are in the advice); the card asking to check the date of a red "
            "flag dated after today "
            "carries its own advice (check the date; the red flag's pathway if current; the "
            "CES safety net; urgent review for fever, weight loss, worsening weakness), never "
            "'Reassure; advise staying active' (before: the rule's advice), and lists the weak "
            "red flags of the window to re-assess (before: not named on it). "
    + another_part_change("2.9.0")
    + part_naming_change("2.8.0")
    + "2.7.0: a red flag (or a risk factor, a measurement a red-flag family reads) coded "
            "or named in an entry that is not valid FHIR R4 (an impossible date, an id with a "
            "space), which no rule reads, leads the card: 'Check <sign> in the chart: a "
            "red-flag entry the service could not read', with any red flag dated ahead or "
            "weak listed too, and its own advice: open the entry, its pathway if current, the "
            "CES safety net, no 'reassure' (before: 'No red flag recorded'). "
    + denial_naming_change("2.6.0")
    + "2.5.0: the reason says what was read: 'No red flag recorded in coded "
            "entries in the last N days. Problem and observation wording is checked for a "
            "few red-flag phrases only (e.g. ...); other wording (fever, weight loss, "
            "trauma), notes, letters and reports are not read.' (before: 'coded data only: "
            "uncoded or free-text entries are not read', untrue since the UNCODED-* "
            "rules). "
            "2.4.0: a current red flag dated after the service's clock beyond "
            "CLOCK_SKEW_MINUTES leads the card: 'Check the date of <sign>: recorded after "
            "today, not counted as a red flag' (before: 'No red flag recorded'). "
    + observation_reading_change("2.3.0")
    + coded_answer_change("2.2.0")
    + "2.1.0: when a red-flag fact in the last CAUDA_EQUINA_WINDOW_DAYS fired no "
            "rule (night pain alone, weight loss at 40...), the card names it ('safety-net "
            "and re-assess') instead of 'No red flag recorded'. 2.0.0: never 'no red flags'; "
            "CES safety-netting with the NHS.uk cauda equina page.",
)

RULES = (CONS_01,)
