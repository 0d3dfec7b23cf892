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
_ANOTHER_PARTS = "".join(rf"(?<!{part}\s)" for part in (
    "knee", "hip", "shoulder", "neck", "dental", "tooth", "chest", "head", "arm", "hand",
    "foot", "feet", "ankle", "wrist", "elbow", "jaw", "ear", "eye", "stomach", "abdominal"))
_NIGHT_PAIN = (r"night\s+pain|nocturnal\s+pain|" + _ANOTHER_PARTS
               + r"(?:pain|ache|aching)\s+(?:is\s+)?(?:worse\s+)?"
               r"(?:at|during|through)\s+(?:the\s+)?night\b|"
               r"pain\s+(?:wakes|waking|woke)\b|"
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


# A weak red flag is no emergency: where the uncoded reader keeps a sign on the safe side, a
# word of these keeps the card's "no red flag recorded" instead (an independent review:
# review-of-systems templates and advice read as a fever or a weight loss). A denial
# anywhere before it in its part ("ROS: negative for fever, chills, weight loss", "No
# fever/weight loss/night pain"), an unticked box ("[ ] Fever"); an answer closing the part
# ("Red flags: fever, weight loss - none", "fever (-)", "fever -ve", "Fever: 0")
_DENIAL_BEFORE = re.compile(r"\b(?:no|not|nil|denies|denied|deny|negative\s+for|neg\s+for|"
                            r"without|free\s+of|absence\s+of|never|none)\b|\[\s*\]", re.I)
_ANSWER_AFTER = re.compile(r"(?:[:\-\u2013(/]|\s)\s*(?:no|none|nil|n|neg|negative|absent|-?ve|"
                           r"0|-)\s*\)?[\s.!]*$", re.I)
# ... and a part that speaks of the past, of advice or screening, of a weight loss meant, or
# of someone else ("Post-op fever resolved", "Weight loss 2 years ago", "Return if fever",
# "Dieting, lost 5kg", "Lost 6kg since starting semaglutide", "Mother has fever")
_NOT_THE_PATIENTS_NOW = re.compile(
    r"\b(?:resolved|settled|subsided|history\s+of|hx|h/o|previous\w*|prior|past|ago|"
    r"return\w*|if|advised?|advice|safety[\s-]?net\w*|screen\w*|intentional\w*|intended|"
    r"dieting|diet|semaglutide|ozempic|wegovy|mounjaro|tirzepatide|liraglutide|orlistat|"
    r"needs?|mother|father|mum|dad|wife|husband|partner|son|daughter|child|sister|brother|"
    r"family)\b", re.I)


def _first_not_now(part: str) -> int | None:
    """Where the part stops naming a weak red flag as the patient's present one: 0 when an
    answer closes it or it speaks of the past, advice or someone else
    (:data:`_ANSWER_AFTER`, :data:`_NOT_THE_PATIENTS_NOW`), else its first denial
    (:data:`_DENIAL_BEFORE`: a sign after it is denied), else None. Asked once a part."""
    if _ANSWER_AFTER.search(part[-24:]) or _NOT_THE_PATIENTS_NOW.search(part):
        return 0
    denial = _DENIAL_BEFORE.search(part)
    return denial.start() if denial else None


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
        not_now = _first_not_now(text_part)
        for sign, m in matches:
            if sign not in found and (not_now is None or m.start() < not_now) \
                    and m.start() not in closed and not denied(part, m, _names_one):
                found.add(sign)
    return tuple(sign for sign, _ in WEAK_SIGNS if sign in found)
