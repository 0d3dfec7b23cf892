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
from collections.abc import Callable
from functools import lru_cache

from cds_rules.uncoded import parts_and_contrasts, refusing_questions
from cds_rules.uncoded_reading import Part, closed_signs, denied

WEAK_IN_WORDS = "uncoded:weak-red-flag"
"""The fact concept of a weak red flag named in words (``Fact.detail``: the sign)."""

# A fever, not a disease's name ("hay fever", "glandular fever", "Rift Valley fever": a
# history, an allergy or an infection named for it, whose own code says it) nor a child's
# convulsion with one, a test ("Febrile agglutinins") or a transfusion reaction ("Fever
# chill transfusion reaction"); "afebrile", "apyrexial" are no match
_NAMED_FEVERS = ("hay", "glandular", "rheumatic", "scarlet", "yellow", "dengue", "typhoid",
                 "paratyphoid", "enteric", "lassa", "q", "rat-bite", "river", "valley",
                 "spotted", "relapsing", "mediterranean", "haemorrhagic", "hemorrhagic",
                 "undulant", "trench", "sandfly", "cat-scratch", "nile", "parrot", "pontiac",
                 "milk", "familial", "periodic", "drug", "swamp", "marsh", "tick", "jungle")
_NOT_A_NAMED_FEVER = "".join(rf"(?<!\b{name}\s)" for name in _NAMED_FEVERS)
_FEVER = (_NOT_A_NAMED_FEVER
          + r"(?:fevers?|feverish|febrile|pyrexi(?:a|al)|rigors?|high\s+temperature)\b"
          r"(?!\s+(?:convulsions?|seizures?|fits?|clinic|vaccin\w*|agglutinins?|chill)\b)")
# A weight lost, not one meant ("Weight loss programme", "Intentional weight loss")
_NOT_MEANT = (r"(?<!\bintentional\s)(?<!\bintended\s)(?<!planned\s)(?<!deliberate\s)"
              r"(?<!desired\s)(?<!dietary\s)(?<!voluntary\s)")
_NOT_A_SERVICE = (r"(?!\s+(?:programmes?|programs?|surgery|clinic|medications?|injections?|"
                  r"drugs?|goals?|advice|advised|encouraged|recommended|plan|diet|"
                  r"management|services?|groups?|tablets|operation|intervention|referral|"
                  r"support|journey|target)\b)")
_WEIGHT_LOSS = (_NOT_MEANT + r"(?:weight|wt)\s+loss\b" + _NOT_A_SERVICE + r"|"
                r"loss\s+of\s+weight\b|losing\s+weight\b(?!\s+(?:with|on|through|by)\b)|"
                r"lost\s+(?:\d+(?:\.\d+)?\s*(?:kg|kgs|kilos?|lbs?|pounds|stones?|st)\b|"
                r"(?:a\s+lot\s+of\s+|some\s+|significant\s+)?weight\b)|"
                r"weight\s+(?:has\s+)?(?:dropped|fallen|falling)\b")
_NIGHT_PAIN = (r"night\s+pain|nocturnal\s+pain|(?:pain|ache|aching)\s+(?:is\s+)?(?:worse\s+)?"
               r"(?:at|during|through)\s+(?:the\s+)?night\b|"
               r"pain\s+(?:wakes|waking|woke)\b|"
               r"(?:wakes|waking|woke|woken|wakened)\s+(?:him|her|them|me|up)?\s*(?:at\s+night\s+)?"
               r"(?:with|from|due\s+to|by)\s+(?:the\s+)?(?:back\s+)?pain\b")
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


@lru_cache(maxsize=4096)
def weak_signs(text: str, closes_negated: Callable[[str], bool]) -> tuple[str, ...]:
    """The weak red flags ``text`` names and does not deny, in the order of
    :data:`WEAK_SIGNS`: per part of each sentence, no denial before the sign ("No fever",
    "Denies night pain") and none closing its item ("Fever: absent", "Weight loss? No")."""
    if not _ANY.search(text):  # the common case: one search, nothing found
        return ()
    found: set[str] = set()
    for text_part, contrast_follows in parts_and_contrasts(text):
        matches = [(sign, m) for sign, pattern in _PATTERNS for m in pattern.finditer(text_part)]
        if not matches:
            continue
        part = Part(text_part)
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        closed = closed_signs(part, [m for _, m in matches], closes)
        found.update(sign for sign, m in matches
                     if m.start() not in closed and not denied(part, m, _names_one))
    return tuple(sign for sign, _ in WEAK_SIGNS if sign in found)
