"""Red flags recorded that met no rule: what a card says over them instead of "no red flag".

Night pain alone, a sexual dysfunction alone, a fever without a risk factor for infection, a
weight loss at 40: each is a red flag (ACP 2011 table 2) that fires no family on its own.
The conservative-care card names them ("safety-net and re-assess"), and the imaging rules
do not call a draft unneeded over them (ACR variants 1 and 2 are for back pain without red
flags). One reading for both, so that they never disagree about what was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from cds_rules.model import RED_FLAG_CONCEPTS, Fact, Finding, PatientRecord, earliest_start
from cds_rules.rules.base import Rule, RuleContext, sentence, threshold
from cds_rules.rules.context import (
    BOUNDED_ABOVE,
    BOUNDED_BELOW,
    at_least,
    days,
    fever_within_window,
    weight_loss,
)
from cds_rules.rules.infection import INFECTION_RISK_FACTORS
from cds_rules.settings import RuleSettings
from cds_rules.weak_words import WEAK_IN_WORDS

FEVER = frozenset({"fever", "body_temperature"})
WEIGHT_LOSS = frozenset({"weight_loss", "body_weight"})
_FEVER_OR_WEIGHT = FEVER | WEIGHT_LOSS

RE_ASSESS_FEVER = (
    "Fever with back pain: re-assess today (repeat the temperature, look for its source, ask "
    "about risk factors for spinal infection); with one, spinal infection needs a same-day "
    "assessment (MRI with and without contrast, CRP, ESR, blood cultures: INF-01, ACP 2011).")
RE_ASSESS_WEIGHT_LOSS = (
    "Weight loss with back pain: ask whether it is intended; if it is unexplained, look for a "
    "second malignancy factor (a history of cancer, age, no improvement, night pain): with "
    "one, ESR, CRP, a full blood count and an X-ray (MAL-01, ACP 2011).")


def red_flags_recorded(record: PatientRecord, settings: RuleSettings
                       ) -> tuple[list[Fact], list[Fact]]:
    """The red flags recorded, as two lists: those coded in the cauda equina window, night
    pain too, then a fever, weight loss or night pain named in words (in the window or
    undated, as an uncoded sign: :mod:`cds_rules.weak_words`); and, apart, a fever or a
    weight loss as INF-01 and MAL-01 read them in their own windows (a temperature at or
    above the fever threshold, or a coded fever; weights falling by the threshold
    percentage, the heaviest earlier weight then the latest, or a coded weight loss). Asked
    where no red-flag family fired: they met no rule."""
    window = days(settings.cauda_equina_window_days)
    coded = [*record.having(*RED_FLAG_CONCEPTS, "night_pain", within=window),
             *_in_words(record, settings)]
    if record.present_concepts().isdisjoint(_FEVER_OR_WEIGHT):  # most records: no reading
        return coded, []
    lost, _percent = weight_loss(record, settings)
    own = [f for f in [*fever_within_window(record, settings), *lost] if f not in coded]
    return coded, own


def _in_words(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    """The weak red flags named in words that count: in the cauda equina window or undated;
    a temperature in figures ("Temp 38.9") as a measured one counts: at or above the fever
    threshold, in the fever window or undated."""
    if WEAK_IN_WORDS not in record.present_concepts():  # most records: none
        return []
    named = [f for f in record.having(WEAK_IN_WORDS, within=days(
        settings.cauda_equina_window_days)) if f.value is None]
    measured = [f for f in record.having(WEAK_IN_WORDS, within=days(settings.fever_window_days))
                if f.value is not None and at_least(f, settings.fever_celsius)]
    undated = [f for f in record.having(WEAK_IN_WORDS) if f.when is None
               and (f.value is None or at_least(f, settings.fever_celsius))]
    return [*named, *measured, *undated]


def dated_ahead(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    """The red flags dated after the service's clock (beyond its tolerance), which no rule
    counts as new: the coded ones (``PatientRecord.red_flags_dated_ahead``), a night pain
    or a temperature at or above the fever threshold (a third review: dated two days ahead,
    a fever of 38 °C left "No red flag recorded" and "Remove the draft"), a weak red flag
    named in words (a "Temp 38.9" at or above it), and a weight that shows a loss
    (:func:`_weights_ahead_showing_a_loss`)."""
    horizon = record.horizon
    more = [f for f in record.having("night_pain", "body_temperature", WEAK_IN_WORDS)
            if (start := earliest_start(f)) is not None and start > horizon
            and ((f.concept != "body_temperature" and f.value is None)
                 or at_least(f, settings.fever_celsius))]
    return [*record.red_flags_dated_ahead(), *more,
            *_weights_ahead_showing_a_loss(record, settings)]


def _weights_ahead_showing_a_loss(record: PatientRecord, settings: RuleSettings
                                  ) -> list[Fact]:
    """Weights dated after the clock that, against the heaviest weight of the weight-loss
    window, show a loss at or above its threshold: the latest weight had it been dated
    right, and a weight loss (82 kg, then 76 kg dated next week: before, "No red flag
    recorded", as ``weight_loss`` reads no weight after the clock). Bounds count as they
    say: an earlier weight bounded above is not the heaviest, a later one bounded below
    shows no loss."""
    heaviest = _heaviest_in_window(record, settings)
    if heaviest is None:
        return []
    horizon = record.horizon
    return [f for f in record.having("body_weight")
            if (start := earliest_start(f)) is not None and start > horizon
            and (f.value or 0) > 0 and f.comparator not in BOUNDED_BELOW
            and _loss_percent(heaviest, f) >= settings.weight_loss_percent]


def _heaviest_in_window(record: PatientRecord, settings: RuleSettings) -> Fact | None:
    """The heaviest weight of the weight-loss window not bounded above (None: none)."""
    if "body_weight" not in record.present_concepts():
        return None
    window = days(settings.weight_loss_window_days)
    weights = [f for f in record.series("body_weight", window)
               if (f.value or 0) > 0 and f.comparator not in BOUNDED_ABOVE]
    return max(weights, key=lambda f: f.value or 0) if weights else None


def _loss_percent(heavier: Fact, lighter: Fact) -> float:
    return ((heavier.value or 0) - (lighter.value or 0)) / (heavier.value or 1) * 100.0


def dated_ahead_name(record: PatientRecord, settings: RuleSettings, fact: Fact) -> str:
    """How a summary names a red flag dated ahead: by what it shows when it is a
    measurement ("temperature 38.6 Cel"; "weight 76 kg, 82 kg on 2025-11-02": the
    heaviest weight of the window it is compared with), else by its display."""
    if fact.concept == "body_temperature" and fact.value is not None:
        return f"temperature {_rounded(fact)} {fact.unit or ''}".rstrip()
    if fact.concept == WEAK_IN_WORDS:  # 'fever (38.9 Cel) in words ("Temp 38.9")'
        return _name(fact, ())
    heaviest = _heaviest_in_window(record, settings) if fact.concept == "body_weight" else None
    if heaviest is None:
        return fact.display
    on = f" on {heaviest.when:%Y-%m-%d}" if heaviest.when else ""
    return (f"weight {_rounded(fact)} {fact.unit or ''}".rstrip()
            + f", {_rounded(heaviest)} {heaviest.unit or ''}".rstrip() + on)


def dated_ahead_line(settings: RuleSettings, ahead: Sequence[Fact]) -> str:
    """Why red flags dated ahead are named, not counted (CONS-01 and the imaging card)."""
    return (f"{len(ahead)} red-flag fact(s) dated after the service's clock (beyond "
            f"{settings.clock_skew_minutes} minutes): no red-flag rule counts them as new. If "
            "the red flag is current (its date wrong), the red-flag pathway applies now.")


def in_window_lines(settings: RuleSettings, recorded: Sequence[Fact]) -> list[str]:
    """What the red flags of the window are: each met no rule on its own; one named in
    words is read by no rule (what a rule would count instead is said too)."""
    coded = [f for f in recorded if f.concept != WEAK_IN_WORDS]
    signs = list(dict.fromkeys(f.detail for f in recorded if f.concept == WEAK_IN_WORDS))
    return [*([f"{len(coded)} red-flag fact(s) recorded in the last "
               f"{settings.cauda_equina_window_days} days, none enough on its own for a "
               "red-flag card (coded data): re-assess if they persist or others appear."]
              if coded else []),
            *([f"{sentence(signs)} named in words only: no rule reads words as its "
               "fact (INF-01 counts a fever, coded or measured, with a risk factor for spinal "
               "infection; MAL-01 a weight loss or night pain with a second malignancy "
               "factor). Re-assess, and record what is found."] if signs else [])]


def _is(fact: Fact, concepts: frozenset[str], sign: str) -> bool:
    """Does ``fact`` show ``sign``: coded or measured (``concepts``), or named in words?"""
    return fact.concept in concepts or (fact.concept == WEAK_IN_WORDS and fact.detail == sign)


def family_needs(settings: RuleSettings, named: Sequence[Fact]) -> list[str]:
    """For a fever or a weight loss among ``named``, what its family counts and needs
    beside it, in the site's settings. It says what a card of its own would need, not
    that nothing is recorded: an entry the rule does not count (a resolved drug use, an
    old infection) or a family switched off may be there."""
    lines = []
    if any(f.concept in FEVER for f in named):
        lines.append(f"A fever (coded, or a temperature at or above "
                     f"{settings.fever_celsius:.1f} °C) met no rule: INF-01 counts one in the "
                     f"last {settings.fever_window_days} days, with a risk factor for spinal "
                     f"infection beside it ({', '.join(INFECTION_RISK_FACTORS)}). Re-assess.")
    if any(f.concept in WEIGHT_LOSS for f in named):
        lines.append(f"A weight loss (coded, or weights falling by "
                     f"{settings.weight_loss_percent:g} % or more in the last "
                     f"{settings.weight_loss_window_days} days) met no rule: MAL-01 counts it "
                     f"with a second factor (age over {settings.malignancy_age}, no "
                     f"improvement after {settings.no_improvement_days} days, night pain). "
                     "Re-assess whether it is explained.")
    return lines


def thresholds(settings: RuleSettings, window: bool, named: Sequence[Fact]
               ) -> list[tuple[str, str]]:
    """The thresholds of a card's lines: the cauda equina window (``window``: a line counts
    red flags in it) and those of :func:`family_needs`."""
    names = [*(("cauda_equina_window_days",) if window else ()),
             *(("fever_celsius", "fever_window_days")
               if any(f.concept in FEVER or _a_temperature_in_words(f) for f in named)
               else ()),
             *(("weight_loss_percent", "weight_loss_window_days")
               if any(f.concept in WEIGHT_LOSS for f in named) else ())]
    return [threshold(settings, name) for name in names]


def _a_temperature_in_words(fact: Fact) -> bool:
    return fact.concept == WEAK_IN_WORDS and fact.value is not None


def re_assess_first(named: Sequence[Fact]) -> list[str]:
    """What to re-assess, over a fever or a weight loss among ``named``."""
    return [line for concepts, sign, line in ((FEVER, "fever", RE_ASSESS_FEVER),
                                              (WEIGHT_LOSS, "weight loss", RE_ASSESS_WEIGHT_LOSS))
            if any(_is(f, concepts, sign) for f in named)]


def lead_names(coded: Sequence[Fact], own_windows: Sequence[Fact]) -> str:
    """How a summary names them: the first coded red flag, the first fever and the first
    weight loss ("night pain and fever (38.6 Cel)"); a coded fever and a measured one
    once, by the measurement, which says more; a weight loss once."""
    fever = [f for f in own_windows if f.concept in FEVER][:1]
    lost = [f for f in own_windows if f.concept in WEIGHT_LOSS][:1]
    first = [f for f in coded[:1] if not (fever and _is(f, FEVER, "fever"))
             and not (lost and _is(f, WEIGHT_LOSS, "weight loss"))]
    weights = [f for f in own_windows if f.concept == "body_weight"]
    return " and ".join(_name(fact, weights) for fact in [*first, *fever, *lost])


def _rounded(fact: Fact) -> str:
    """A measurement as a summary gives it: "38.6", ">39", "81.6" (converted values are
    rounded: 101.5 [degF] is 38.61 Cel)."""
    return f"{fact.comparator or ''}{round(fact.value or 0.0, 1):g}"


def _name(fact: Fact, weights: Sequence[Fact]) -> str:
    """A red flag by what it shows ("fever (38.6 Cel)"; with ``weights`` the heaviest
    earlier weight and the latest, "weight loss (82 to 76 kg)")."""
    if fact.concept == "body_temperature" and fact.value is not None:
        return f"fever ({_rounded(fact)} {fact.unit or ''}".rstrip() + ")"
    if fact.concept == "body_weight" and len(weights) == 2:
        heaviest, latest = weights
        return (f"weight loss ({_rounded(heaviest)} to {_rounded(latest)} "
                f"{latest.unit or ''}".rstrip() + ")")
    if fact.concept == WEAK_IN_WORDS:  # 'fever in words ("Febrile")'
        measured = f" ({_rounded(fact)} {fact.unit or ''}".rstrip() + ")" \
            if fact.value is not None else ""  # 'fever (38.5 Cel) in words ("T 101.3F")'
        return f"{fact.detail}{measured} in words ({fact.display.removeprefix('Uncoded entry ')})"
    return fact.display


def draft_over_red_flags(record: PatientRecord, ctx: RuleContext, rule: Rule, order: str,
                         advice_against: str, context: Sequence[Fact]) -> Finding | None:
    """The card over a draft ``order`` a rule would call unneeded (``advice_against``: the
    guideline that would, "ACR variant 1 ..."), while a red flag is recorded that met no
    rule, or one is dated after today: the draft is not called unneeded over it, nor is
    nothing said (the review of IMG-01 1.11.0's first version: silence left the clinician
    deciding on the order without the red flag named); the card names it to be re-assessed
    (or its date checked) first. None: no such red flag."""
    settings = ctx.settings
    ahead = dated_ahead(record, settings)
    coded, own_windows = red_flags_recorded(record, settings)
    named = [*coded, *own_windows]
    if not (ahead or named):
        return None
    reasons = [*([dated_ahead_line(settings, ahead)] if ahead else []),
               *in_window_lines(settings, coded),
               *family_needs(settings, named),
               f"{advice_against} is for back pain without red flags: the draft is not called "
               "unneeded; decide on it once the red flag is re-assessed."]
    summary = (f"Check the date of {dated_ahead_name(record, settings, ahead[0])} before "
               f"deciding on the {order}"
               if ahead else
               f"Re-assess {lead_names(coded, own_windows)} before deciding on the {order}: "
               "a red flag, no red-flag rule met")
    return rule.finding(
        "info", summary, [*ahead, *named, *context], reasons, (),
        [*([threshold(settings, "clock_skew_minutes")] if ahead else []),
         *thresholds(settings, bool(coded), named)],
        advice=(*re_assess_first(named),
                f"Re-assess each red flag named (check the date of one dated after today) "
                f"before deciding on the {order}; if none is confirmed, {advice_against} "
                "applies."),
    )
