"""Back pain and sciatica named in words: the call's back-pain context (PATHWAY.md 2) from
an entry whose codes do not say it.

CLINICAL.md: the service answers for adults "whose record shows back pain", and real EHRs
write it in words: a problem list entry with text only ("Low back pain"), a hospital's
own code ("LBP" / "Sciatica L5"), a chief complaint in a note. Read only by its codes, such
a record had no context, so a coded new urinary retention beside it gave no card at all
(the critical cauda equina card with the back pain coded). A text is read only when it
says nothing but the presentation (:func:`_only_a_presentation`: a back pain with how,
where and since when it hurts, where it spreads, that it is the complaint, red flags in
words), so a history, an end, another person, the neck or a doubt leaves it unread; within
it, a denial before the phrase or an answer after it that says no does too."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from cds_rules import uncoded
from cds_rules.uncoded import parts_of
from cds_rules.uncoded_reading import Part, closed_signs, denied

_NOT_THE_NECK = r"(?<!cervical\s)(?<!neck\s)(?<![c][1-8]\s)(?<![c][1-8]-)"
_NOT_ABOVE = r"(?<!thoracic\s)(?<!mid\s)(?<!mid-)(?<!middle\s)(?<!upper\s)(?<!dorsal\s)"
_DISC = r"(?:inter\s*vertebral\s+)?dis[ck]"
_LEVEL = r"l[1-5](?:\s*[/-]\s*(?:l?[1-5]|s1))?"  # "L5", "L4/5", "L5-S1"
_DISC_FAULT = r"(?:prolapse|herniation|displacement|protrusion|bulge|extrusion)"

CONTEXT_PHRASES: tuple[tuple[str, str], ...] = (
    ("thoracic_back_pain",
     r"(?:thoracic|mid|middle|upper|dorsal)[\s-]+(?:back|spine|spinal)\s+pain|"
     r"thoracic\s+(?:spine|spinal)\s+pain|pain\s+in\s+(?:the\s+)?thoracic\s+spine"),
    ("low_back_pain",
     _NOT_ABOVE + r"(?:(?:low(?:er)?|lumbar|lumbosacral)\s+)?back\s*(?:pain|ache)|"
     r"backache|lumbago|lbp|lumbar\s+(?:spine\s+|spinal\s+)?pain|dorsalgia|"
     r"pain\s+in\s+(?:the\s+)?(?:low(?:er)?|lumbar)\s+(?:back|spine)|"
     r"(?:lumbar|lumbosacral|" + _LEVEL + r")\s+" + _DISC + r"\s+"
     + _DISC_FAULT + r"|(?:prolapsed|herniated|slipped|bulging)\s+(?:lumbar\s+)?" + _DISC
     + r"|lumbar\s+spondylosis|spondylolisthesis"),
    ("radiculopathy",
     r"(?<!pseudo-)(?<!pseudo)sciatica(?!-like)|sciatic\s+(?:nerve\s+)?pain|" + _NOT_THE_NECK
     + r"radiculopathy|"
     r"radicular\s+(?:leg\s+)?pain|(?:lumbar|lumbosacral|sacral|" + _LEVEL + r"|s1)\s+(?:nerve\s+)?"
     r"root\s+(?:pain|compression|impingement|irritation|entrapment)"),
    ("spinal_stenosis",
     _NOT_THE_NECK + r"(?:lumbar|lumbosacral|thoracic|spinal)\s+(?:canal\s+)?stenosis|"
     r"(?:central|spinal)\s+canal\s+stenosis|neurogenic\s+claudication"),
)
"""(concept, its phrases): each a concept the coded path reads as the call's context
(``model.BACK_PAIN_CONTEXT``) and no red flag alone."""

_PATTERNS = tuple((concept, re.compile(rf"\b(?:{pattern})\b", re.I))
                  for concept, pattern in CONTEXT_PHRASES)
_ANY = re.compile("|".join(rf"\b(?:{pattern})\b" for _, pattern in CONTEXT_PHRASES), re.I)
# A denial anywhere before it in its part of a sentence: "Denies fever, chills, back pain",
# "No fever/chills/back pain", "ROS negative for fever, back pain". The red-flag words
# carry a denial through a list only when "or" joins it (a sign kept is the safe side);
# a back pain kept would open the red-flag checks over a denial (a known aneurysm and
# "Denies abdominal pain, back pain" gave the critical card: fifth review). So "No trauma,
# back pain for 3 days" is not read either, as before back pain was read from words.
_DENIAL_BEFORE = re.compile(
    r"\b(?:den(?:y|ies|ied)|no|not|nil|neg|negative|without|w/o|absent|absence|free\s+of|"
    r"never|doesn't|does\s+not|-ve|unspecified\s+whether)\b|\(-\)", re.I)
# An answer right after it that says no: "Back pain? no", "Back pain: 0/10", "Back pain:
# not reported", "Back pain - unknown".
_NO_ANSWER = re.compile(
    r"\s*(?:(?:pain\s+)?score|nrs|vas)?\s*[?:=\-\u2013(\[]*\s*"
    r"(?:(?:no|nil)(?!\s+(?:red|rf\b|concerns?|other))|none|n|neg|"
    r"negative|-ve|denied|absent|unknown|n/a|nad|0(?:\s*/\s*10)?|(?:pt|patient)\s+denies|"
    r"not\s+(?:reported|present|known|assessed|applicable|recorded|today|currently|at\s+present|"
    r"confirmed))\b|[\s:(\[]*(?:[-\u2013\u2014][-\u2013\u2014\s/]*|/|\*|\.\.+|''|\"\")\s*[)\]]?"
    r"\s*$", re.I)  # an answer of marks only: "Back pain: -", "Back pain: --", an en dash
_CURRENT = re.compile(
    r"\b(?:now|new|newly|today|tonight|yesterday|recent|recently|worsening|acute|"
    r"worse(?!\s+on\b))\b", re.I)
_LONG_STANDING = re.compile(
    r"\b(?:chronic|since|ongoing|long[\s-]?standing|for\s+\d+\s+(?:years?|yrs?)|years?)\b",
    re.I)
IN_WORDS = "back pain named in words"
"""``Fact.detail`` of a back-pain fact read from words (told apart from a coded one)."""


# What a text may say besides a back pain for it to be read (:func:`_only_a_presentation`):
# how, where and since when it hurts, where it spreads, that it is the complaint.
_MODIFIERS = (
    r"acute|new|chronic|mechanical|severe|mild|moderate|ongoing|worsening|persistent|"
    r"recurrent|intermittent|constant|non-?specific|simple|uncomplicated|central|sided|"
    r"lumbar|lumbosacral|thoracic|sacral|spinal|spine|midline|bilateral|region|nos|side|"
    r"without\s+(?:sciatica|radiculopathy|red\s+flags?)|"
    r"of\s+(?:the\s+)?(?:left|right)\s+side|(?:[1-9]|10)\s*/\s*10|"
    r"unspecified\s+(?:back\s+pain\s+)?(?:laterality|chronicity)|"
    r"unspecified\s+whether\s+sciatica\s+present|"
    r"left|right|lt|rt|l|r|unilateral|lower|low|upper|mid|now|today|local|pt|patient|"
    r"c/o|complains?\s+of|presents?\s+with|presenting\s+with|presenting\s+complaint|"
    r"chief\s+complaint|reason\s+for\s+visit|complaint|problem|diagnosis|dx|impression|msk|"
    r"pc|hpc|nrs|vas|score|pain\s+score|not\s+improving|unchanged|worse|improving|yes|y|"
    r"positive|"
    r"(?:no|nil)\s+red\s+flags?|no\s+rf|on\s+(?:movement|bending|sitting|standing|walking)|"
    r"worse\s+on\s+\w+")
_DURATION = (
    r"x?\s*\d+\s*/\s*(?:7|52|12)|[<>]\s*\d+\s*/\s*(?:7|52|12)|"
    r"(?:for|x)?\s*(?:\d+|a|an|one|two|three|four|five|six|few|several)\s*(?:days?|weeks?|wks?|"
    r"months?|mths?|years?|yrs?|hours?|hrs?)|since\s+(?:yesterday|today|this\s+morning|"
    r"last\s+(?:night|week|month|year)|(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:19|20)\d\d|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)|(?:for|over)\s+(?:the\s+)?"
    r"(?:last|past)\s+(?:\d+\s+|few\s+|several\s+)?(?:days?|weeks?|months?|years?)")
_SPREAD = (
    r"(?:radiat\w*|spreading|shooting)\s++(?:to|down|into)\s++(?:the\s++)?(?:left|right|l|r|"
    r"both|bilateral)?\s*+(?:leg|legs|buttocks?|thighs?|calf|calves|foot|feet|knee)|"
    r"(?:(?:left|right|l|r|lt|rt|both|bilateral)\s*+)?(?:leg|buttock|thigh)\s+pain|"
    r"(?:left|right|l|r)\s*>\s*(?:left|right|l|r)|l[1-5](?:\s*[/-]\s*(?:l?[1-5]|s1))?|s1")
# U+FFFD or a lone surrogate: a character the sender garbled (validation.MendedText); every
# card says so already
_ACCOUNTED = re.compile(
    rf"\b(?:{_SPREAD}|{_DURATION}|{_MODIFIERS})\b|\[x\]|[+<>\ufffd\ud800-\udfff]", re.I)
# a blank run is entered once, at its start, and never given back: linear on a long one
_SEGMENTS = re.compile(r"[,;.:()\n]|(?<!\s)\s++(?:and|with|&)\s+|\s[-\u2013]\s", re.I)
_PUNCTUATION = " \t-\u2013/*'\""  # a bracket left ("Back pain [ ]") is an empty box


def _only_a_presentation(text: str, closes_negated: Callable[[str], bool]) -> bool:
    """Is every part of ``text`` a back pain with how, where and since when it hurts, or a
    red flag named in words with nothing else ("Back pain; CES safety net given" is not),
    or a heading ("c/o", "MSK")? Seven reviews found a list of
    the words that put a back pain out of the present ("resolved", "PMH", "-ve", "Back
    pain: [ ] Yes [x] No") never complete: a text is read only when nothing else is said."""
    for segment in _SEGMENTS.split(text):
        if _rest(segment) and not (uncoded.suggested(segment, closes_negated)
                                   and not _rest(uncoded.without_signs(segment))):
            return False
    return True


def _rest(segment: str) -> str:
    """What a segment says besides a back pain and the words :data:`_ACCOUNTED` for (the
    phrases taken out first, or the words: "unspecified whether sciatica present" is
    accounted for whole)."""
    return (_ACCOUNTED.sub(" ", _ANY.sub(" ", segment)).strip(_PUNCTUATION)
            and _ANY.sub(" ", _ACCOUNTED.sub(" ", segment)).strip(_PUNCTUATION))


@lru_cache(maxsize=4096)
def named_context(text: str, closes_negated: Callable[[str], bool]) -> tuple[str, ...]:
    """The context concepts ``text`` names and does not deny, in :data:`CONTEXT_PHRASES`'
    order (each once); none unless the text says nothing else
    (:func:`_only_a_presentation`)."""
    if not _ANY.search(text) or not _only_a_presentation(text, closes_negated):
        return ()  # the common case: one search
    found: dict[str, None] = {}
    for text_part in parts_of(text):
        matches = [(concept, m) for concept, pattern in _PATTERNS
                   for m in pattern.finditer(text_part)]
        if not matches:
            continue
        part = Part(text_part)
        closed = closed_signs(part, [m for _, m in matches], closes_negated)
        first_denial = _DENIAL_BEFORE.search(text_part)  # once a part: linear on a long one
        denial_ends = first_denial.end() if first_denial else len(text_part) + 1
        for concept, match in matches:
            if match.start() not in closed and not denied(part, match, _names_context) \
                    and denial_ends > match.start() \
                    and not _minus_before(text_part, match.start()) \
                    and not _NO_ANSWER.match(text_part, match.end()):
                found[concept] = None
    return tuple(concept for concept, _ in CONTEXT_PHRASES if concept in found)


def says_it_is_current(text: str) -> bool:
    """Do the words say the back pain they name is new ("AAA - now back pain", "Back pain
    and new urinary retention"), and not that it is long-standing? Asked of words in
    another condition's entry, which are read without a date, so as new: "AAA (found on CT
    for back pain)" is how it was found, "AAA; chronic LBP since 2010" an old back pain."""
    return bool(_CURRENT.search(text)) and not _LONG_STANDING.search(text)


def _minus_before(text: str, start: int) -> bool:
    """A minus sign written as a denial right before it: "-back pain", "ROS: +fever, -back
    pain"."""
    end = start  # the blanks before it, walked back once (no copy of the text before)
    while end and text[end - 1].isspace():
        end -= 1
    return end > 0 and text[end - 1] == "-" and (end == 1 or text[end - 2] in " ,;:(/+")


def _names_context(words: str) -> bool:
    return bool(_ANY.search(words))
