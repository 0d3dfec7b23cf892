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


def names_a_weak_sign(words: str) -> bool:
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
    r"family|baby|infant|toddler|grandson|granddaughter|grandchild)(?:['\u2019]s|s['\u2019])?"
    r"(?:\s+(?:has|had|with|reports?))?\s*[:\-]?|"
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
# another symptom's end right before the over word: "Temp 38.9 pain resolved" (a figure's
# item; for a sign in words its own words may end in "pain": "Night pain resolved")
# ... unless a fever's word joins it ("Temp 38.9 fever and pain resolved", "temp and headache
# settled")
_ANOTHER_SYMPTOMS_END = re.compile(
    r"(?<!\band\s)(?<!&\s)(?<!/)\b(?:pain|ache|headache|cough|rash|swelling|vomiting|nausea|"
    r"diarrh\w*|wheeze|bleeding|numbness|tingling|spasms?)\s+(?:(?:has|have|now|since|all)\s+)?$"
    r"|(?<!\bfever\s)(?<!\bfevers\s)(?<!\bfebrile\s)(?<!\btemp\s)(?<!\btemps\s)"
    r"(?<!\btemperature\s)(?<!\bpyrexia\s)(?<!\bpyrexial\s)(?<!\bhot\s)(?:and|&|/)\s*"
    r"(?:pain|ache|headache|cough|rash|swelling|vomiting|nausea|diarrh\w*|wheeze|bleeding|"
    r"numbness|tingling|spasms?)\s+(?:(?:has|have|now|since|all)\s+)?$", re.I)
# a measured fever said over after it in its part: "Temp 38.9 pain resolved, now apyrexial",
# "..., temp settled"
# "..., temp settled" (not "previously apyrexial", "not yet apyrexial", "apyrexial this
# morning", "mother apyrexial", "fever settled yesterday but recurred", "temp down from 39.5")
_NOW_AFEBRILE = re.compile(
    r"\b(?:now|since|subsequently|currently|then)\s+(?:apyrexi\w*|afebrile)\b|"
    r"\b(?:apyrexi\w*|afebrile)\s+(?:now|since)\b|"
    r"(?<!\bnot\s)\b(?:temp(?:erature)?s?|fever|pyrexia)\s+(?:has\s+|now\s+)?(?:settled|"
    r"resolved|subsided|normali[sz]ed)\b(?!\s+(?:yesterday|earlier|before|but|and\s+recurred)\b)",
    re.I)
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


class Items:
    """A part's items between commas, each asked once whether it keeps its weak red flag
    from being the patient's present one (a long part stays linear)."""

    def __init__(self, part: str, contrast_follows: bool) -> None:
        self.part = part
        self.commas = [i for i, c in enumerate(part) if c == ","]
        self.slashes = [i for i, c in enumerate(part) if c in ",/|"]  # a form's "|" too
        self.answers = not contrast_follows  # "Fever? No, but hot and sweaty": no answer
        self.list_closed = self.answers and _list_answered_no(part, self.slashes)
        negative_for = _NEGATIVE_FOR.search(part)
        self.negative_for = negative_for.start() if negative_for else len(part)
        self.item_reads: dict[int, tuple[int, bool, bool, bool]] = {}
        self.afebrile_at: int | None = None
        self.unmeant_at: dict[int, int] = {}

    def hides(self, sign: str, match: re.Match[str], measured: bool = False) -> bool:
        """Does the sign at ``match`` not count as the patient's present one? A ``measured``
        one (a temperature in figures) is not hidden by a screen before it ("Screened for
        sepsis: T 39.1")."""
        at = match.start()
        if self.list_closed or (self.negative_for < at and not measured):
            return True
        start, end = item_bounds(self.commas, at, len(self.part))
        first_denial, over_or_meant, its_own_end, another_part = self._item(start, end)
        if first_denial < at or (its_own_end if measured else over_or_meant) \
                or (measured and self._last_afebrile() >= match.end()) \
                or (sign == "night pain" and another_part) \
                or _RIGHT_BEFORE.search(self.part[max(start, at - 40):at]) \
                or _SAID_ABSENT_AFTER.fullmatch(self.part, match.end(), end) \
                or (sign == "weight loss" and _ASKED_FOR.match(self.part, match.end(), end)
                    and not self._unmeant_before(start, end, at)):
            return True
        if not self.answers:
            return False
        segment_start, segment_end = item_bounds(self.slashes, at, len(self.part))
        return bool(_ANSWER_AFTER.search(self.part[max(segment_start, segment_end - 24):
                                                   segment_end]))

    def _unmeant_before(self, start: int, end: int, at: int) -> bool:
        """Does the item from ``start`` to ``end`` say the weight loss is unmeant before
        ``at`` ("Unexplained weight loss required urgent CT")? Its first such word found
        once an item: linear over a long item of many signs."""
        if start not in self.unmeant_at:
            found = _UNMEANT.search(self.part, start, end)
            self.unmeant_at[start] = found.end() if found else len(self.part) + 1
        return self.unmeant_at[start] <= at

    def _last_afebrile(self) -> int:
        """Where the part last says a fever is over ("now apyrexial"; -1: nowhere), found
        once a part."""
        if self.afebrile_at is None:
            found = [m.start() for m in _NOW_AFEBRILE.finditer(self.part)]
            self.afebrile_at = found[-1] if found else -1
        return self.afebrile_at

    def _item(self, start: int, end: int) -> tuple[int, bool, bool, bool]:
        """Of the item from ``start`` to ``end``, read once: where its first denial is
        (its end: none), whether it says a sign is over or meant, whether it does so other
        than right after another symptom ("Temp 38.9 pain resolved": the pain's end, not a
        measured fever's), and whether it names another part's pain and not the back's."""
        if start not in self.item_reads:
            denial = _BEFORE_IN_ITEM.search(self.part, start, end)
            overs = [m.start() for m in _OVER_OR_MEANT.finditer(self.part, start, end)]
            item = self.part[start:end]
            self.item_reads[start] = (
                denial.start() if denial else end, bool(overs),
                any(not _ANOTHER_SYMPTOMS_END.search(self.part, max(start, at - 24), at)
                    for at in overs),
                bool(_ANOTHER_PART_PAIN.search(item) and not _THE_BACK.search(item)))
        return self.item_reads[start]


def item_bounds(separators: list[int], at: int, length: int) -> tuple[int, int]:
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
    kept = decimals_kept(text)  # "Lost 3.5kg"
    for text_part, contrast_follows in parts_and_contrasts(kept):
        matches = [(sign, m) for sign, pattern in _PATTERNS for m in pattern.finditer(text_part)]
        if not matches:
            continue
        part = Part(text_part)
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        closed = closed_signs(part, [m for _, m in matches], closes)
        items = Items(text_part, contrast_follows)
        for sign, m in matches:
            if sign not in found and m.start() not in closed \
                    and not denied(part, m, names_a_weak_sign) and not items.hides(sign, m):
                found.add(sign)
    return tuple(sign for sign, _ in WEAK_SIGNS if sign in found)


POINT = "\u00b7"
"""A decimal point kept from the sentence splitter, which splits at every full stop."""
_DECIMAL_POINT = re.compile(r"(?<=\d)[.,](?=\d)")


def decimals_kept(text: str) -> str:
    """``text`` with each decimal point (or comma) between digits written :data:`POINT`:
    "3.5kg" stays one figure, of the same length."""
    return _DECIMAL_POINT.sub(POINT, text) if "." in text or "," in text else text
