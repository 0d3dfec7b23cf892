"""Weak red flags named in words: a fever, a weight loss, night pain.

Each is a red flag (ACP 2011 table 2) that fires no family on its own; coded, the
conservative-care card names it ("safety-net and re-assess") instead of reassuring
(`rules/weak_red_flags.py`). Written only in words, in an entry no value set knows ("Febrile",
"Unintentional weight loss", "Pain worse at night"), it was not read, and the card said
"No red flag recorded" and "Reassure". Read here as the uncoded reader reads a family's
signs (:mod:`cds_rules.uncoded_reading`: a denial before the sign, a closing "absent"), but
never as the coded fact: no family counts a word as its fever or weight loss (an entry in
words never raises an emergency, CLINICAL.md); the card names it to be re-assessed.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from cds_rules.uncoded import parts_and_contrasts, refusing_questions
from cds_rules.uncoded_reading import Part, closed_signs, denied

WEAK_IN_WORDS = "uncoded:weak-red-flag"
"""The fact concept of a weak red flag named in words (``Fact.detail``: the sign)."""

# A fever, not a disease's name ("hay fever", "glandular fever", "Rift Valley fever": a
# history, an allergy or an infection named for it, whose own code says it) nor a child's
# convulsion with one, a test ("Febrile agglutinins") or a transfusion reaction ("Fever
# chill transfusion reaction"), nor an anaesthetic alert ("Malignant hyperpyrexia
# susceptibility"); "afebrile", "apyrexial" are no match
_NAMED_FEVERS = ("hay", "glandular", "rheumatic", "scarlet", "yellow", "dengue", "typhoid",
                 "malignant", "paratyphoid", "enteric", "lassa", "q", "rat-bite", "river", "valley",
                 "spotted", "relapsing", "mediterranean", "haemorrhagic", "hemorrhagic",
                 "undulant", "trench", "sandfly", "cat-scratch", "nile", "parrot", "pontiac",
                 "milk", "familial", "periodic", "drug", "swamp", "marsh", "tick", "jungle")
_NOT_A_NAMED_FEVER = "".join(rf"(?<!\b{name}\s)" for name in _NAMED_FEVERS)
_FEVER = (_NOT_A_NAMED_FEVER
          + r"(?:fevers?|feverish|febrile|(?:hyper)?pyrexi(?:a|al|c)|high\s+temperature|"
          # not "the rigours of his job", "assessed with rigour"
          r"(?<!\bwith\s)rigou?rs?\b(?!\s+of\b)|"
          r"spiking\s+(?:a\s+)?temp(?:erature)?s?|temp(?:erature)?s?\s+spik\w*)\b"
          r"(?!\s+(?:convulsions?|seizures?|fits?|clinic|vaccin\w*|agglutinins?|chill|"
          r"mortis)\b)")
# A weight lost, not one meant ("Weight loss programme", "Intentional weight loss")
_NOT_MEANT = (r"(?<!\bintentional\s)(?<!\bintended\s)(?<!planned\s)(?<!deliberate\s)"
              r"(?<!desired\s)(?<!dietary\s)(?<!voluntary\s)")
_NOT_A_SERVICE = (r"(?!\s+(?:programmes?|programs?|surgery|clinic|medications?|injections?|"
                  r"drugs?|goals?|advice|advised|encouraged|recommended|plan|diet|"
                  r"management|services?|groups?|tablets|operation|intervention|referral|"
                  r"support|journey|target)\b)")
# an amount of weight: "6kg", "3.5 kg" (the decimal point kept whole: weak_signs), "a
# stone", "2 stone", "half a stone"
_AMOUNT = (r"(?:\d+(?:[.\u00b7]\d+)?\s*(?:kg|kgs|kilos?|lbs?|pounds|stones?|st)\b|(?:a|one|"
           r"half\s+a|two)\s+stones?\b)")
_WEIGHT_LOSS = (_NOT_MEANT + r"(?:weight|wt)\s+loss\b" + _NOT_A_SERVICE + r"|"
                r"loss\s+of\s+weight\b|losing\s+weight\b(?!\s+(?:with|on|through|by)\b)|"
                r"lost\s+(?:" + _AMOUNT + r"|(?:a\s+lot\s+of\s+|some\s+|significant\s+)?"
                r"weight\b)|"
                r"(?:weight|wt)\s+(?:has\s+)?(?:dropped|fallen|falling)\b|"
                # "Weight down 6kg", "Weight reduced by 7 kg"
                r"(?:weight|wt)\s+(?:(?:is|has)\s+)?(?:down|dropped|fallen|reduced|decreased)\s+"
                r"(?:by\s+)?" + _AMOUNT)
_NIGHT_PAIN = (r"(?:night|nocturnal)\s+(?:back\s+)?pain|(?:pain|ache|aching)\s+(?:is\s+)?"
               r"(?:worse\s+)?(?:at|during|through)\s+(?:the\s+)?night\b"
               # not "at night shift" (on the same line; "... shifts him" is the pain's)
               r"(?![ \t]+shifts?\b(?![ \t]+(?:him|her|them|me|position)\b))|"
               r"pain\s+(?:wakes|waking|woke)\b|"
               # "Pain keeps him awake"
               r"pain\s+keeps\s+(?:him|her|them|me|the\s+patient)\s+(?:awake|up\s+at\s+night)\b|"
               # woken by it; not "Wakes with back pain" (the morning's stiffness)
               r"(?:woken|wakened|awoken|awakened)\s+(?:at\s+night\s+)?(?:by|from|due\s+to|"
               r"with)\s+(?:the\s+)?(?:back\s+)?pain\b|"
               r"(?:wakes|waking|woke)\s+(?:(?:him|her|them|me)\s+)?(?:up\s+)?at\s+night\s+"
               r"(?:with|from|due\s+to)\s+(?:the\s+)?(?:back\s+)?pain\b")
WEAK_SIGNS: tuple[tuple[str, str], ...] = (
    ("fever", _FEVER),
    ("weight loss", _WEIGHT_LOSS),
    ("night pain", _NIGHT_PAIN),
)
"""(sign, the words that name it): the sign as a card names it."""
CONCEPTS_OF_SIGN = {"fever": frozenset({"fever", "body_temperature"}),
                    "weight loss": frozenset({"weight_loss", "body_weight"}),
                    "night pain": frozenset({"night_pain"})}
"""The coded concepts that say the same: an entry coded so is read by its code."""

_PATTERNS = tuple((sign, re.compile(rf"\b(?:{words})", re.I)) for sign, words in WEAK_SIGNS)
_ANY = re.compile("|".join(rf"\b(?:{words})" for _, words in WEAK_SIGNS), re.I)


def _names_one(words: str) -> bool:
    return bool(_ANY.search(words))


# A weak red flag is no emergency: where the uncoded reader keeps a sign on the safe side,
# these keep the card's "no red flag recorded" (an independent review: review-of-systems
# templates and advice read as a fever or a weight loss). Each is read in the sign's own
# item between commas (a later review: read over the whole part, "No cough, fever 38.5",
# "Fever yes, rash no", "Fever for the past 3 days" hid a fever). Before the sign in its
# item: a denial ("No fever/weight loss/night pain", "[ ] Fever"), the past, advice or
# another person ("History of fever", "Advised weight loss", "Return if fever", "Mother has
# fever"); "negative for" anywhere before it ("ROS: negative for fever, chills, weight loss")
_BEFORE_IN_ITEM = re.compile(
    r"\b(?:no|not|nil|denies|denied|deny|neg|negative|without|free\s+of|absence\s+of|never|"
    r"none|history\s+of|h/o|advised?|advice|return\w*\s+if|if)\b", re.I)
_NEGATIVE_FOR = re.compile(r"\b(?:negative|neg|screen\w*)\s+for\b", re.I)
# right before the sign: another person's ("Mother has fever", "Wife: fever", "Wife's temp
# 38.9", "Baby temp 38.5"; not "Wife reports he has lost weight"), an unticked box ("[ ]
# Fever"; not "[ ] Trauma [x] Fever")
_RIGHT_BEFORE = re.compile(
    r"(?:\b(?:mother|father|mum|dad|wife|husband|partner|son|daughter|child|sister|brother|"
    r"family|baby|infant|toddler)(?:'s|s')?(?:\s+(?:has|had|with|reports?))?\s*[:\-]?|"
    r"\[\s*\])\s*$", re.I)
# In its item: an answer closing it ("fever (-)", "fever -ve", "Fever: 0", "Fever / weight
# loss - no"), the sign over ("Post-op fever resolved"; not "Fever not resolved"), years
# ago, a weight loss meant ("Weight loss - intentional", "Lost 6kg since starting
# semaglutide"; not "Lost 6 kg, not dieting": another item)
_NO = r"(?:no|none|nil|n|neg|negative|absent|-ve)"
_ANSWER_AFTER = re.compile(r"(?:[:\-\u2013(/]|\s)\s*(?:" + _NO + r"|ve|0|-)\s*\)?[\s.!]*$", re.I)
_LIST_ANSWER = re.compile(r"(?:[:\-\u2013(]|\s)\s*" + _NO + r"\s*\)?[\s.!]*$", re.I)  # not "0"
_OVER_OR_MEANT = re.compile(
    r"(?<!\bnot\s)\b(?:resolved|settled|subsided|\d+\s*(?:years?|yrs?)\s+ago|intentional\w*|"
    r"intended|deliberate\w*|planned|dieting|diet|slimming|semaglutide|ozempic|wegovy|"
    r"mounjaro|tirzepatide|liraglutide|orlistat)\b", re.I)
# Said absent or unlikely right after the sign, closing its item ("Fever not recorded",
# "Fever - unlikely"; not "Night pain - malignancy unlikely": a review); a weight loss
# asked for ("Weight loss required before surgery"; not "Unexplained weight loss required
# urgent CT")
_SAID_ABSENT_AFTER = re.compile(r"\s*(?:[:\-\u2013(]\s*)?(?:unlikely|not\s+(?:recorded|"
                                r"reported|documented))(?:\s*\))?[\s.!]*", re.I)
_ASKED_FOR = re.compile(r"\s+(?:is\s+)?(?:required|needed)(?:[\s.!]*$|\s*(?:before\b|prior\s+to\b|"
                        r"pre-?op\w*|for\s+(?:surgery|(?:an?|the)\s+operation)|to\s+(?:reach|"
                        r"achieve|reduce|qualify|lose)))", re.I)
_UNMEANT = re.compile(r"\b(?:unintentional\w*|unexplained|unintended|unplanned|"
                      r"involuntary)\b", re.I)
# A list of bare findings closed by one answer: "Red flags: fever, weight loss, night pain -
# none" (each item of three words at most, none with an answer of its own)
_ANSWER_WORD = re.compile(r"\b(?:yes|y|no|n|nil|none|present|absent|positive|negative)\b", re.I)
# Night pain of another part ("Knee pain at night"), unless the item names the back
_ANOTHER_PART_PAIN = re.compile(
    r"\b(?:knee|hip|shoulder|neck|dental|tooth|chest|head|arm|hand|foot|feet|ankle|wrist|"
    r"elbow|jaw|ear|eye|stomach|abdominal)\s+(?:pain|ache)", re.I)
_THE_BACK = re.compile(r"\b(?:back|spin\w*|lumbar|thoracic|sciatic\w*|lbp)\b", re.I)


class _Items:
    """A part's items between commas, each asked once whether it keeps its weak red flag
    from being the patient's present one (a long part stays linear)."""

    def __init__(self, part: str, contrast_follows: bool) -> None:
        self.part = part
        self.commas = [i for i, c in enumerate(part) if c == ","]
        self.slashes = [i for i, c in enumerate(part) if c in ",/"]
        self.answers = not contrast_follows  # "Fever? No, but hot and sweaty": no answer
        self.list_closed = self.answers and _list_answered_no(part, self.slashes)
        negative_for = _NEGATIVE_FOR.search(part)
        self.negative_for = negative_for.start() if negative_for else len(part)
        self.item_reads: dict[int, tuple[int, bool, bool]] = {}

    def hides(self, sign: str, match: re.Match[str]) -> bool:
        """Does the sign at ``match`` not count as the patient's present one?"""
        at = match.start()
        if self.list_closed or self.negative_for < at:
            return True
        start, end = _bounds(self.commas, at, len(self.part))
        first_denial, over_or_meant, another_part = self._item(start, end)
        if first_denial < at or over_or_meant or (sign == "night pain" and another_part) \
                or _RIGHT_BEFORE.search(self.part[max(start, at - 40):at]) \
                or _SAID_ABSENT_AFTER.fullmatch(self.part, match.end(), end) \
                or (sign == "weight loss" and _ASKED_FOR.match(self.part, match.end(), end)
                    and not _UNMEANT.search(self.part, start, at)):
            return True
        if not self.answers:
            return False
        segment_start, segment_end = _bounds(self.slashes, at, len(self.part))
        return bool(_ANSWER_AFTER.search(self.part[max(segment_start, segment_end - 24):
                                                   segment_end]))

    def _item(self, start: int, end: int) -> tuple[int, bool, bool]:
        """Of the item from ``start`` to ``end``, read once: where its first denial is
        (its end: none), whether it says the sign is over or meant, and whether it names
        another part's pain and not the back's."""
        if start not in self.item_reads:
            denial = _BEFORE_IN_ITEM.search(self.part, start, end)
            item = self.part[start:end]
            self.item_reads[start] = (
                denial.start() if denial else end, bool(_OVER_OR_MEANT.search(item)),
                bool(_ANOTHER_PART_PAIN.search(item) and not _THE_BACK.search(item)))
        return self.item_reads[start]


def _bounds(separators: list[int], at: int, length: int) -> tuple[int, int]:
    """The start and end of the item between ``separators`` that holds position ``at``."""
    index = bisect_left(separators, at)
    return (separators[index - 1] + 1 if index else 0,
            separators[index] if index < len(separators) else length)


def _list_answered_no(part: str, separators: list[int]) -> bool:
    """A list of bare findings (between commas or slashes) closed by one answer ("fever,
    weight loss - none", "Fever / weight loss - no")."""
    if not separators or len(separators) > 20 or not _LIST_ANSWER.search(part[-24:]):
        return False
    items = [part[a + 1:b]
             for a, b in zip([-1, *separators], [*separators, len(part)], strict=True)]
    *heads, last = items
    return all(len(item.split()) <= 3 and not _ANSWER_WORD.search(item) for item in heads) \
        and len(last.split()) <= 5


@lru_cache(maxsize=4096)
def weak_signs(text: str, closes_negated: Callable[[str], bool]) -> tuple[str, ...]:
    """The weak red flags ``text`` names and does not deny, in the order of
    :data:`WEAK_SIGNS`: per part of each sentence, no denial before the sign ("No fever",
    "Denies night pain") and none closing its item ("Fever: absent", "Weight loss? No")."""
    if not _ANY.search(text):  # the common case: one search, nothing found
        return ()
    found: set[str] = set()
    kept = _DECIMAL_POINT.sub(_POINT, text) if "." in text else text  # "Lost 3.5kg"
    for text_part, contrast_follows in parts_and_contrasts(kept):
        matches = [(sign, m) for sign, pattern in _PATTERNS for m in pattern.finditer(text_part)]
        if not matches:
            continue
        part = Part(text_part)
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        closed = closed_signs(part, [m for _, m in matches], closes)
        items = _Items(text_part, contrast_follows)
        for sign, m in matches:
            if sign not in found and m.start() not in closed \
                    and not denied(part, m, _names_one) and not items.hides(sign, m):
                found.add(sign)
    return tuple(sign for sign, _ in WEAK_SIGNS if sign in found)


class Temperature(NamedTuple):
    """A temperature in degrees Celsius; ``comparator`` ("<", "<=", ">=", ">") when the
    words give a bound ("T > 38", "temp 38 or above"): the rule judges it against the
    site's threshold as a measured one (``rules.context.at_least``)."""

    celsius: float
    comparator: str | None = None


# A temperature in figures ("Temp 38.9", "T 39.1 C", "Temperature: 101.3F", "Tmax 38.6",
# "T >38 overnight", "Temps 37.2, 38.4, 39.1"): a fever measured, written in words. The
# sentence splitter splits at every full stop and blank run, so a decimal point, the full
# stop of "Temp." and the blanks of a column ("Temp:\t38.9") are kept whole first
# (:func:`_kept_whole`).
_POINT = "\u00b7"
_DECIMAL_POINT = re.compile(r"(?<=\d)[.,](?=\d)")
_ABBREVIATED = re.compile(r"(?<=\btemp)\.", re.I)  # "Temp. 38.9" -> "Temp: 38.9"
_COLUMN = re.compile(r"(?<=\btemp)((?:erature)?s?)[ \t]*+([:=]?)\s*+(?=[<>\d])", re.I)
_FIGURE = rf"\d{{2,3}}(?:{_POINT}\d{{1,2}})?(?![\d{_POINT}])"  # never cut short
_UNIT = (r"[ \t]?(?:[\u00b0\u00ba][ \t]?)?(?:cel(?:sius)?|fahrenheit|deg(?:rees?)?(?:[ \t]?"
         r"[cf])?|[cf])\b|[ \t]?[\u00b0\u00ba\u2103\u2109]")
# between a name and its figure: a colon, a qualifier ("(oral)", "(!)", "tympanic", "24h"),
# a verb ("was", "rose to", "recorded as"); atomic, each blank bounded: never quadratic
_BETWEEN = (r"(?>(?:[ \t]?(?:[:=~]|-(?=[ \t]?[\d<>\u2264\u2265])|\([^()]{0,20}\))|[ \t](?:of|was|"
            r"is|now|has|been|as|recorded|measured|reached|peaked|spiked|spiking|went|gone|"
            r"rose|risen|remains?|up|to|at|home|readings?|taken|checked|max(?:imum)?|today|"
            r"overnight|oral|po|tympanic|tymp|axillary|ax|rectal|pr|core|24\s?h(?:rs?)?|this\s"
            r"morning|on\sadmission)\b){0,4})[ \t]?")
_IN_FIGURES = re.compile(
    r"\b(?:(?P<name>temp(?:erature)?s?|t[\s-]?max|tymp(?:anic)?)(?![a-z])" + _BETWEEN +
    r"|(?<!['\u2019])(?P<bare>t)(?:[ \t]?(?P<colon>[:=])[ \t]?|[ \t]))"
    r"(?P<comparator>[<>]=?|\u2264|\u2265|(?:over|above|greater\sthan|more\sthan|higher\sthan|"
    r"under|below|less\sthan|lower\sthan)[ \t])?[ \t]?"
    rf"(?P<number>{_FIGURE})(?:[ \t]?(?:-|\u2013|to)[ \t]?(?P<high>{_FIGURE}))?(?P<unit>{_UNIT})?"
    r"(?P<bound>[ \t]?(?:\+|or\s(?:above|more|higher|over|greater)\b)|[ \t]?or\s(?P<below>below|"
    r"less|lower|under)\b)?"
    rf"(?P<more>(?:[ \t]?(?:,|/|;|then|and|->|\u2192)[ \t]?\d{{2,3}}{_POINT}\d{{1,2}}"
    rf"(?![\d{_POINT}])(?:{_UNIT})?){{0,5}})"
    r"(?P<vitals>(?=[ \t](?:p|hr|pulse|bp|rr|resp|sats?|spo2|o2)\b))?"
    r"(?!\w|[ \t]?(?:%|mm|cm|kg|bpm|/[ \t]?\d|mg|ml|mmol|nmol|pmol|umol|\u00b5mol|mcg|ug|iu|u/|"
    r"g/|min|secs?\b|units?\b|days?\b|hours?\b|weeks?\b|wks?\b|years?\b|yrs?\b))", re.I)
_A_NAME = re.compile(r"\bt(?:emp|[ \t]?[:=<>\u2264\u2265]|[ \t]\d|[\s-]?max|ymp)", re.I)
_A_FIGURE = re.compile(rf"\d{{2,3}}(?:{_POINT}\d{{1,2}})?")
_COMPARED = {"<": "<", "<=": "<=", "\u2264": "<=", "under": "<", "below": "<", "less than": "<",
             "lower than": "<", ">": ">", ">=": ">=", "\u2265": ">=", "over": ">", "above": ">",
             "greater than": ">", "more than": ">", "higher than": ">"}
NOT_THE_BODYS = ("warmer", "hugger", "bottle", "blanket", "incubator", "fridge", "freezer",
                 "oven", "bath", "water", "thermostat", "heater", "humidifier", "shower", "tub",
                 r"(?:heat|heating|cooling)\s+pad", "storage", "specimen", "urine", "airway",
                 "circuit", "ecmo", "weather", "ward", "target", "goal", r"set\s+(?:to|at)",
                 "knee", "limb", "wound", "joint")
"""Words of a temperature that is no patient's body's: a device's, a fridge's, a specimen's,
a ward's, a joint's or a wound's (local heat), a target (record/temperatures reads a code's
words by them too)."""
# ... in the item before the name ("Bair hugger temp 43", "Warmer set to temp 38"); a room's
# or the air's only right before "temp" ("Room temp 22"; not "On room air T 38.5")
_NOT_THE_PATIENTS = re.compile(r"\b(?:" + "|".join(NOT_THE_BODYS) + r")\b[^,;]{0,24}$", re.I)
_ROOM_BEFORE = re.compile(r"\b(?:room|ambient|air|outside|outdoor|skin)\s*$", re.I)
# the past: "Previous temp 39.2", "Temp 39 in 2019", "Temp 39 3 weeks ago"
_PAST_BEFORE = re.compile(r"\b(?:previous|prior|previously|historical|old|last\s+(?:week|"
                          r"month|year)'?s?)\s*$", re.I)
_PAST_AFTER = re.compile(r"\s*(?:\(?\s*(?:in|during|back\s+in)\s+(?:19|20)\d\d\b|\d+\s*(?:weeks?|"
                         r"wks?|months?|years?|yrs?)\s+ago\b|(?:last|previous)\s+(?:month|"
                         r"year)\b)", re.I)
# A bound in a plan, advice or a question ("Return if temp > 38", "Safety net: temp > 38 =
# ED", "Paracetamol for T 38+", "T >38 -> blood cultures", "Temp > 38 (Y/N): N"): no
# measurement
_PLAN_IN_ITEM = re.compile(r"\b(?:for|if|when|should|seek|call|contact|attend|aim|keep|"
                           r"maintain|until|any|ask\w*)\b", re.I)
_PLAN_IN_PART = re.compile(r"\b(?:return\w*|re-?present\w*|advi[cs]\w*|threshold|target|"
                           r"criteria|alert|safety|net\w*|sn|sepsis|screen\w*|flags?|warn\w*|"
                           r"aware|discussed|prn|range|reference|scores?|news2?)\b", re.I)
_PLAN_AFTER = re.compile(r"\s*(?:[:)]\s*)?(?:->|-->|\u2192|=>?|\?|\(\s*y\s*/|\[|\b(?:then|give|"
                         r"start|take|call|seek|contact|return|attend|needs?|requires?|"
                         r"triggers?|means|would|will|should)\b)", re.I)
_MAX_TEMPERATURES = 20  # tried a text: a note, not a chart (a long one stays linear)


@lru_cache(maxsize=4096)
def temperatures_in_words(text: str, closes_negated: Callable[[str], bool]
                          ) -> tuple[Temperature, ...]:
    """The temperatures ``text`` gives in figures as the patient's, read as a fever is read
    (:func:`weak_signs`: not denied, not another person's, not over), in degrees Celsius: a
    number with a Celsius unit or none from 34 to 44, one with a Fahrenheit unit or none
    from 93 to 112; of a range or a list, the highest. A bare "T" needs a blank or a colon
    before its figure ("T39.1" is an ICD-10 poisoning code) and a decimal, a unit, a bound, a
    colon or a vital sign after it ("T 38" is a tooth, "T12" a vertebra; "T 39 P 120", "T:
    39" a temperature). Not a device's, a room's or a specimen's, not the past, nor a bound in a
    plan or a question. The threshold is the caller's (``RuleSettings.fever_celsius``)."""
    if not _A_NAME.search(text):  # most texts: one linear search
        return ()
    kept = _kept_whole(text)
    found: list[Temperature] = []
    tried = 0
    for text_part, contrast_follows in parts_and_contrasts(kept):
        if tried >= _MAX_TEMPERATURES:
            break
        matches = list(islice(_IN_FIGURES.finditer(text_part), _MAX_TEMPERATURES - tried))
        if not matches:
            continue
        tried += len(matches)
        part = Part(text_part)
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        closed = closed_signs(part, matches, closes)
        items = _Items(text_part, contrast_follows)
        for m in matches:
            temperature = _temperature(m)
            if temperature is not None and m.start() not in closed \
                    and _the_patients_now(items, part, m, temperature):
                found.append(temperature)
    return tuple(found)


def _kept_whole(text: str) -> str:
    """``text`` with its decimal points, "Temp." and the blanks after "Temp:" kept from the
    sentence splitter."""
    if "." in text or "," in text:
        text = _DECIMAL_POINT.sub(_POINT, text)
        text = _ABBREVIATED.sub(":", text) if "." in text else text
    return _COLUMN.sub(r"\1\2 ", text)


def _the_patients_now(items: _Items, part: Part, match: re.Match[str],
                      temperature: Temperature) -> bool:
    """Is the temperature at ``match`` the patient's, of now: not a device's or a room's,
    not the past, not a bound or range in a plan, not denied, another person's or over?"""
    at = match.start()
    text = items.part
    return not (_NOT_THE_PATIENTS.search(text, max(0, at - 40), at)
                or (match.group("name") and _ROOM_BEFORE.search(text, max(0, at - 16), at))
                or _PAST_BEFORE.search(text, max(0, at - 24), at)
                or _PAST_AFTER.match(text, match.end())
                or ((temperature.comparator in (">", ">=") or match.group("high"))
                    and _a_plan(items, match))
                or denied(part, match, _names_one) or items.hides("fever", match))


def _a_plan(items: _Items, match: re.Match[str]) -> bool:
    """Is a bound ("> 38") or a range ("36-38") a plan's, advice's, a reference's or a
    question's ("Temp >38 in last 24h?"), not a measurement? Plain words ("for", "if") count
    in the figure's own item ("Seen for back pain, temp >38 overnight" is one)."""
    start, end = _bounds(items.commas, match.start(), len(items.part))
    return bool(_PLAN_IN_PART.search(items.part, 0, match.start())
                or _PLAN_IN_ITEM.search(items.part, start, match.start())
                or _PLAN_AFTER.match(items.part, match.end())
                or "?" in items.part[match.end():end])


def _temperature(match: re.Match[str]) -> Temperature | None:
    """A match's temperature in degrees Celsius (the highest of a range or a list), or None
    when no figure is a body's temperature in its unit, or a bare "T" has no decimal, unit,
    bound, colon or vital sign after it; a range's top only on its bottom's scale."""
    unit = (match.group("unit") or "").strip().lower().lstrip("\u00b0\u00ba").strip()
    words, bound = match.group("comparator"), match.group("bound")
    if match.group("bare") and _POINT not in match.group("number") and not (
            match.group("unit") or words or bound or match.group("colon")
            or match.group("vitals") is not None):
        return None
    figures = [match.group("number"), *_A_FIGURE.findall(match.group("more") or "")]
    high = match.group("high")
    if high and (float(high.replace(_POINT, ".")) >= 93) is (
            float(figures[0].replace(_POINT, ".")) >= 93):  # one scale: "37.1 - 102 HR" none
        figures.append(high)
    readings = [c for f in figures if (c := _celsius(f, unit)) is not None]
    if not readings:
        return None
    if len(readings) > 1:
        return Temperature(max(readings))
    comparator = _COMPARED[" ".join(words.lower().split())] if words else (
        None if not bound else "<=" if match.group("below") else ">=")
    return Temperature(readings[0], comparator)


def _celsius(figure: str, unit: str) -> float | None:
    """A figure in degrees Celsius (a Fahrenheit unit, or none from 93, converted), or None
    outside 34 to 44."""
    value = float(figure.replace(_POINT, "."))
    celsius_unit = unit.endswith(("c", "\u2103", "cel", "celsius"))
    fahrenheit = unit.endswith(("f", "\u2109", "fahrenheit")) or (not celsius_unit
                                                                 and value >= 93)
    celsius = round((value - 32.0) * 5.0 / 9.0, 2) if fahrenheit else value
    return celsius if 34.0 <= celsius <= 44.0 else None
