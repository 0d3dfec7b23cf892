"""A post-void residual volume: the urine left in the bladder after voiding, as measured.

A bladder scan after voiding is how an emergency department checks a suspected cauda equina
syndrome for retention (GIRFT 2023 pathway). In the largest prospective study (260
patients), a residual of 200 ml or more had a sensitivity of 94.1 % and a specificity of
66.8 % for compression on MRI (Katzouraki et al., Bone Joint J 2020); a residual below it
does not rule the syndrome out (Todd et al., Int Orthop 2022: 13 of 26 MRI-confirmed cases
scanned had 200 ml or less, all incomplete syndromes). Written as a number ("Bladder scan:
PVR 650 ml", "Post-void residual 900mls"), or sent as a quantity under a local code ("Post
void residual" 650 mL), it named no sign the reader knew, and a retention measured but not
named was silent. Read here in words, as a number only (a quantity sent under a code:
:mod:`cds_rules.record.residuals`); the threshold (``RuleSettings.ces_residual_urine_ml``)
is the caller's, so that one reading serves every site. A residual
reaching it is an uncoded cauda equina sign (:data:`RESIDUAL_SIGN`): a warning to check,
never the critical card (an entry in words).

Not read (two independent reviews): a residual in a plan or a rule ("If PVR > 200 ml,
catheterise", "Catheterise for PVR >200 ml", "PVR >200 ml -> MRI"); a bare "residual" or a
"PVR" without a unit in words that say nothing of a bladder, voiding, a catheter or back
pain, or in a sentence that speaks of the heart or lungs ("RHC: PCWP 12, PVR 650" is a
vascular resistance; a lung function test's "Residual volume"); a number in another unit
("PVR 3.2 WU"), a time or a date ("PVR 0930: 40 ml" reads 40), a voided or pre-void volume
("Post void 900ml voided"), a number without a unit below 10 ("PVR 0.9": litres or Wood
units, unknowable).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

RESIDUAL_SIGN = "urinary retention (post-void residual)"
"""The uncoded cauda equina sign a residual reaching the threshold names (``Fact.detail``)."""


class Residual(NamedTuple):
    """A residual volume in millilitres; ``comparator`` ("<", "<=", ">=", ">") when the
    words give a bound, not the measurement ("PVR > 999 ml": the scanner's maximum)."""

    ml: float
    comparator: str | None = None

    @property
    def rank(self) -> float:
        """Its place when the largest is wanted: a bound below ("< 50 ml") last."""
        return -1.0 if self.comparator in ("<", "<=") else self.ml

    def reaches(self, threshold_ml: float) -> bool:
        """Is the volume certainly ``threshold_ml`` or more (the study's "≥ 200 ml")? A
        bound below ("< 300 ml") never is."""
        return self.comparator not in ("<", "<=") and self.ml >= threshold_ml


# The names: "PVR", "P.V.R.", "PVRs", "PMR", "post-void residual (volume)", "post micturition
# residual", "post void" (a bare one: not after "pre and", nor before a volume voided),
# "residual urine", "residual"
_PVR = r"(?P<pvr>p\.?v\.?r\.?s?|pmr)(?![a-z])"
_POST_VOID = (r"(?P<post>post[\s-]?(?:void(?:ing|ed)?|micturition|mict))\b(?P<noun>\s*(?:bladder"
              r"\s+)?(?:residual|residue|volume|scan)\b)?(?:\s+(?:urine\s+)?(?:volume|vol)\b)?")
# "Bladder scan after voiding 650 ml", "Bladder scanned after PU: 800 ml", "Bladder scan
# following void: 650ml", "Bladder scan 30 min after PU: 650ml"
_AFTER_VOIDING = (r"(?P<after>bladder\s+scan(?:ned)?\s+(?:\d{1,3}\s*(?:mins?|minutes?|hrs?|"
                  r"hours?)\s+)?(?:after|following)\s+(?:voiding|void(?:ed)?|"
                  r"micturition|pu|passing\s+(?:urine|water)))\b")
_RESIDUAL = r"residual(?P<urine>\s+(?:urine|urinary|bladder))?(?:\s+(?:volume|vol)\b)?"
# what may stand between the name and the number: "PVR on bladder scan: 650 ml", "PVR (BS)
# 650", "PVR at 14:00 was 650 ml", "PVR (2026-03-01) 50ml"
_TIME_OR_DATE = (r"(?:[01]?\d|2[0-3])(?::|\.|h)?[0-5]\d(?:\s*(?:h|hrs|hours)\b)?|"
                 r"\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}(?:/\d{2,4})?")
_FILLER = (r"(?:[\s:=~\-\u2013()?]*\b(?:of|was|is|measured|recorded|scanned|approx\w*|about|"
           r"around|c|ca|on|by|via|as|at|bladder|scan|scanner|bs|us|ultrasound|volume|vol|"
           r"x\s?[2-9]|1st|first|initial|"
           r"urine|" + _TIME_OR_DATE + r")\b\.?){0,6}?[\s:=~\-\u2013()?]*")
_COMPARATOR = (r"(?:(?P<comparator>[<>]=?|\u2264|\u2265|less\s+than|under|below|"
               r"more\s+than|greater\s+than|over|above|at\s+least)\s*)?")
# "650", "1,200", "1.200 ml", "1 200 ml" (thousands), "0,9 L" (a decimal comma before a unit)
_NUMBER = (r"(?P<number>\d{1,2}[,.]\d{3}(?!\d)|(?<!\d)[12][ \u00a0\u202f]\d{3}"
           r"(?=\s*(?:mls?|cc|millilit))|(?!0\d)\d{1,5}(?:[.,]\d{1,2}(?=\s*[lm]))?(?:\.\d+)?)")
_UNIT = (r"(?:\s*(?P<unit>mls?|millilit(?:re|er)s?|cc|cm(?:3|\^3)|\{ml\}|l|lit(?:re|er)s?)"
         r"(?![a-z]))?")
# without a unit: no part of a date, a time or a ratio, no number in another unit
_NOT_A_VOLUME = (r"(?!\d|[.,:/\-]\d|\s*\d+(?:[.,]\d+)?\s*(?:mls?|cc|l|lit\w*)\b|"
                 r"\s*(?:ml\w*|l\b|lit\w*|cc\b|%|h\b|hrs?\b|wu\b|"
                 r"wood|dyn\w*|mm\s*hg|mmhg|mm\b|cm\b|units?\b|mg\b|kg\b|g\b|hours?\b|"
                 r"mins?\b|minutes?\b|days?\b|weeks?\b|years?\b|x\b|st\b|nd\b|rd\b|th\b))")
# a column's unit before the number: "PVR (ml):  650", "Post-void residual volume (mL): 650",
# "PVR ml 650"
_UNIT_BEFORE = r"(?:[ \t]*+\(?[ \t]*+(?P<unit_before>mls?|cc)[ \t]*+\)?(?![a-z/]))?"
_READING = re.compile(
    r"\b(?P<name>" + _PVR + "|" + _POST_VOID + "|" + _AFTER_VOIDING + "|" + _RESIDUAL + ")"
    + _UNIT_BEFORE + _FILLER + _COMPARATOR
    + _NUMBER + _UNIT + r"(?(unit)|" + _NOT_A_VOLUME
    + r"(?(unit_before)(?![a-z]|[\s:=\-()]*+[<>\d])))(?!\s*(?:voided|passed)\b)", re.I)
# a volume before its name: "Bladder scan: 650ml residual", "Bladder scan 650 ml post void",
# "Retained 800ml after PU"; not a name with a volume of its own after it ("Pre-void 650 ml
# post void residual 40 ml" reads 40, by the reading above), nor a volume voided or given
_VOLUME_NAMED_AFTER = re.compile(
    r"(?<![\d.,])" + _COMPARATOR + r"(?P<number>\d{1,2}[,.]\d{3}(?!\d)|(?!0\d)\d{2,5})\s*"
    r"(?P<unit>mls?|millilit(?:re|er)s?|cc)\b[\s(]*(?>(?P<post>post[\s-]?(?:void(?:ing|ed)?|"
    r"micturition|mict)\b(?P<noun>\s*(?:residual|volume)\b)?)|(?P<bare>residual(?:\s+(?:urine|"
    r"volume))?\b)|after\s+(?:voiding|void(?:ed)?|micturition|pu|passing\s+(?:urine|water))\b|"
    r"(?P<pvr>pvr)\b)(?![\s:=(]*\d)(?!\s*+(?:pre[\s-]?void\w*|before\s+(?:void\w*|pu)|voided|"
    r"passed)\b)", re.I)
# ... a bare "residual", "post void" or "after PU" in a bladder's sentence ("Bladder scan:
# 650ml residual", "TWOC failed, 800ml residual"; not "Water 250ml after PU", "Wound drain
# 250ml residual"); "post void residual" and "PVR" by their names
_A_BLADDERS = re.compile(r"\b(?:bladder\w*|scan\w*|bs|bvi|retained|retaining|retention|twoc|"
                         r"catheter\w*|in[\s/-]*out|foley|idc|urin\w*|cauda|ces)\b", re.I)
_VOIDED_BEFORE = re.compile(r"\b(?P<word>void(?:ed|ing)?|passed|pu|output|drained|"
                            r"(?P<pre>pre[\s-]*void\w*)|input|intake|iv|fluids?|bolus|given|"
                            r"drank)\b[^.;,\n]{0,16}$", re.I)
# ... unless the word names a volume of its own: "Voided 150ml, scan 650ml post void",
# "Bladder scan 100ml pre void and 650ml post void"
_A_VOLUME = re.compile(r"\d\s*(?:mls?|cc)\b", re.I)
_A_VOLUME_BEFORE = re.compile(r"\d\s*(?:mls?|cc)\s*$", re.I)
# the second of a pre- and post-void pair: "Pre and post void residual 900ml and 650ml"
_SECOND_OF_PAIR = re.compile(r"\s*(?:and|&|/|,)\s*(?P<number>(?!0\d)\d{1,5})\s*"
                             r"(?P<unit>mls?|millilit(?:re|er)s?|cc)\b(?!\s*+(?:voided|passed)\b(?!\s*+\d))",
                             re.I)
# a series' later volumes after a reading: "PVR x2: 180ml and 650ml", "PVR 1st 100ml, 2nd
# 650ml"; each ends its item or is named a residual (not "600 ml before voiding", "400ml urine
# passed", "1500 ml urine output", "2000ml bolus": the review)
_LATER_VOLUME = re.compile(
    r"[ \t]*+(?:,[ \t]*+(?:then|and)?|and|&|then)[ \t]*+(?:(?:2nd|3rd|second|third|"
    r"repeat(?:ed)?|later)\b[ \t]*+(?:(?:scan|pvr)\b[ \t]*+)?[:=]?[ \t]*+)?"
    r"(?P<number>(?!0\d)\d{1,5})(?![\d.,])[ \t]*+(?P<unit>mls?|millilit(?:re|er)s?|cc)\b"
    r"(?=[ \t]*+(?:$|[,;.)\n]|(?:and|then|post[\s-]*+void\w*|residual|pvr|"
    r"on[ \t]++(?:bladder[ \t]++)?(?:re-?)?scan|on[ \t]++repeat|overnight|today|tonight|"
    r"later|this[ \t]++(?:am|pm|morning|afternoon|evening))\b|(?:at|after)[ \t]*+\d|&|"
    r"\([ \t]*+(?:bladder[ \t]++)?scan|[\-\u2013][ \t]*+"
    r"(?:catheteri[sz]ed|referred|admitted|mri)\b))"
    # ... and no word of a volume voided, given or before voiding in its item after it
    r"(?![^,;.\n]{0,40}?\b(?:pre[\s-]*+void\w*|before[ \t]++void\w*|prior[ \t]++to[ \t]++void\w*|"
    r"void(?:ed|ing)?|passed|pu|output|input|intake|iv|fluids?|drank|drunk|bolus|given|"
    r"balance|bottle|tea)\b)", re.I)
_MAX_LATER = 4  # a series' volumes read after its first
# a pre- and post-void pair written with a slash and one unit: "Pre/post void 900/650 ml"
# (650; "900ml/650ml" is read as a pair of readings: _SECOND_OF_PAIR)
_SLASHED_PAIR = re.compile(
    r"\bpre[\s-]*+(?:void\w*)?[ \t]*+(?:and|&|/)[ \t]*+post[\s-]*+(?:void\w*|micturition|mict)"
    r"\b(?:[ \t]++(?:bladder|residuals?|volumes?|scans?|urine)\b)*+[ \t:=]*+(?:\(?[ \t]*+"
    r"(?P<unit_before>mls?|cc)[ \t]*+\)?[ \t:=]*+)?(?!0\d)\d{1,5}[ \t]*+/[ \t]*+"
    r"(?P<number>(?!0\d)\d{1,5})(?![\d.,])[ \t]*+(?P<unit>mls?|cc)?\b", re.I)
_NAME_WORDS = ("resid", "pvr", "p.v.r", "pmr", "void", "mict", "after pu", "after passing",
               "following pu", "following passing")
# a bare residual, or a PVR without a unit, counts only where the text is about a bladder
# and not about the heart or lungs (a vascular resistance, a lung's residual volume)
_BLADDER_WORDS = re.compile(r"bladder|void|urin|micturi|catheteri[sz]|\bfoley\b|\bidc\b|twoc|"
                            r"retention|\bpu\b|cauda|\bces\b|in[\s/&-]*out\s+cath|"
                            r"catheter\s+(?:inserted|drained|passed|sited)", re.I)
# ... in the name's own sentence (not "Neurovascularly intact. Bladder scan residual 800 ml"):
# a heart's or lung's reading ("Echo: PASP 45, PVR 320", "Swan-Ganz catheter: PVR 250")
HEART_OR_LUNG = re.compile(r"\b(?:pulmonary|vascular|rhc|pap|pcwp|haemodynamic|hemodynamic|"
                           r"cardiac|right\s+heart|spirometry|fev1?|fvc|tlc|lung\s+function|"
                           r"echo\w*|tte|swan|pasp|wood|dyn\w*|mpap|rvsp)\b",
                           re.I)
_SENTENCE_REACH = 160  # characters around a name searched for its own and the last sentence
# a plan or a rule, not a measurement: "If PVR > 200 ml", "catheterise when residual > 300"
# (up to a colon: "Scan to check whether emptying: PVR 900 ml" is a measurement)
_CONDITIONAL = re.compile(r"\b(?:if|when|whenever|unless|should|whether|threshold|target|"
                          r"aim|until)\b[^.;:\n]{0,40}$", re.I)
# ... and for a bound above, the words of a plan before it or after it: "Catheterise for
# PVR >200 ml", "PVR >200 ml = catheterise", "... would prompt MRI", "... suggests retention"
_PLAN_BEFORE = re.compile(r"\b(?:for|if|with|needs?|requires?|awaiting|criteria|pathway|protocol|"
                          r"guidance|escalate|document)\b[\s:(]*(?:(?:a|an|any|the)\s+)?$",
                          re.I)
_RULE_BEFORE = re.compile(r"\b(?:criteria|threshold|protocol|pathway|guidance)\b"
                          r"(?![^.;\n]{0,30}\b(?:met|fulfilled|satisfied)\b)[^.;\n]{0,40}$",
                          re.I)  # "Criteria for MRI: PVR >200 ml"; not "Criteria met: ..."
# ... unless what was done says it was measured: "Catheterised for PVR >400 ml", "Bladder
# scan with PVR >500 ml", "PVR > 500 ml: catheter inserted" (not "In/out catheter for
# residual > 500 ml", "MRI needed with PVR >200 ml")
# (a past action governing "for" or "with" directly, no comma between: not "Bladder scan
# done, catheterise for PVR >250ml"; each blank run possessive: linear)
_DONE_BEFORE = re.compile(r"(?:\b(?:catheteri[sz]ed|inserted|sited|drained|admitted|referred|"
                          r"noted|performed|found|confirmed|showed|revealed)\b"
                          r"(?:(?!\bplan)[^.;:\n,]){0,24}\b(?:for|with)|\bscan(?:ned)?\s+with)[\s:(]*+"
                          r"(?:(?:a|an|the)\s+)?$", re.I)
_DONE_AFTER = re.compile(r"[\s)]*+[:\-\u2013,;]?\s*+(?:(?:in[\s/-]*out|foley|urinary|urethral|"
                         r"indwelling)\s+)?(?:catheter|idc|foley)\s+(?:was\s+)?(?:inserted|sited|"
                         r"passed|placed)\b|[\s)]*+[:\-\u2013,;]?\s*+(?:was\s+)?(?:catheteri[sz]ed|"
                         r"referred|admitted)\b|[\s)]*+[:\-\u2013,;]?\s*+(?:urgent\s+|emergency\s+)?"
                         r"(?:mri|ct|scan|imaging|referral|review)\s+(?:was\s+)?(?:requested|"
                         r"arranged|booked|organi[sz]ed|ordered|done|performed|made)\b",
                         re.I)
_SCANNER_RANGE = 900.0  # ml: a bound this high ("> 999 ml") is the scanner's, never a plan
_PLAN_AFTER = re.compile(r"[\s)]*(?:=|->|-->|\u2192|=>|:|\b(?:would|will|then|requires?|"
                         r"needs?|needed|prompts?|suggests?|indicates?|means|warrants?|is\s+"
                         r"(?:significant|abnormal|retention)|catheteri[sz]e|refer\w*|mri|"
                         r"triggers?)\b)", re.I)
_COMPARATORS = {"<": "<", "<=": "<=", "\u2264": "<=", "less than": "<", "under": "<",
                "below": "<", ">": ">", ">=": ">=", "\u2265": ">=", "more than": ">",
                "greater than": ">", "over": ">", "above": ">", "at least": ">="}
LITRES = frozenset({"l", "litre", "litres", "liter", "liters"})
_SCAN_WINDOW = 60  # characters before a name searched for a condition: a short stretch
_AFTER_PRE = re.compile(r"pre[\s-]*(?:void\w*)?\s*(?:and|&|/)\s*$", re.I)
_MAX_READINGS = 20  # a text is a note, not a log: enough to find its largest
_MAX_TRIED = 200  # ... and the names a text is read for (each asks its sentences)
_SMALLEST_WITHOUT_UNIT = 10  # "PVR 0.9", "PVR 3": litres, Wood units? Not read.


@lru_cache(maxsize=4096)
def residuals_in_words(text: str) -> tuple[Residual, ...]:
    """Every post-void residual ``text`` states as a number ("PVR 650 ml", "Post void
    residual: 1.2 L"), in millilitres (at most :data:`_MAX_READINGS`, of the first
    :data:`_MAX_TRIED` names)."""
    lowered = text.lower()
    if not any(word in lowered for word in _NAME_WORDS):  # the common case: one pass each
        return ()
    found: list[Residual] = []
    for tried, match in enumerate(_READING.finditer(text), 1):
        if _a_measurement(match):
            found.append(max([_residual(match), *_later_in_a_series(match)],
                             key=lambda residual: residual.rank))
        elif (second := _the_post_voids_of_a_pair(match)) is not None:
            found.append(second)
        if len(found) >= _MAX_READINGS or tried == _MAX_TRIED:
            return tuple(found)
    found.extend(_slashed_pairs(text))
    for tried, match in enumerate(_VOLUME_NAMED_AFTER.finditer(text), 1):
        if _named_after_and_measured(match):
            found.append(_residual(match))
        if len(found) >= _MAX_READINGS or tried == _MAX_TRIED:
            break
    return tuple(found)


def _later_in_a_series(match: re.Match[str]) -> list[Residual]:
    """The volumes of a series after a reading with a unit ("PVR x2: 180ml and 650ml": 650),
    up to :data:`_MAX_LATER`: read with the first as one reading, its largest (a series is
    one residual's scans; counted as one, the readings' cap holds as many names)."""
    if match.group("unit") is None and match.group("unit_before") is None:
        return []
    later: list[Residual] = []
    at = match.end()
    while len(later) < _MAX_LATER and (volume := _LATER_VOLUME.match(match.string, at)):
        later.append(_residual(volume))
        at = volume.end()
    return later


def _slashed_pairs(text: str) -> list[Residual]:
    """The post-void volume of each pair written with a slash ("Pre/post void 900/650 ml"),
    with a unit and not in a plan."""
    return [_residual(pair) for pair in islice(_SLASHED_PAIR.finditer(text), _MAX_READINGS)
            if (pair.group("unit") or pair.group("unit_before"))
            and not _CONDITIONAL.search(text, max(0, pair.start() - _SCAN_WINDOW), pair.start())]


def _the_post_voids_of_a_pair(match: re.Match[str]) -> Residual | None:
    """The second volume of a pre- and post-void pair ("Pre and post void residual 900ml
    and 650ml", "Pre/post void 900ml/50ml": 650, 50), when ``match`` is its first."""
    text, start = match.string, match.start()
    if not (match.group("post") and _AFTER_PRE.search(text, max(0, start - 12), start)):
        return None
    second = _SECOND_OF_PAIR.match(text, match.end())
    return None if second is None else Residual(float(_plain(second.group("number"))))


def _named_after_and_measured(match: re.Match[str]) -> bool:
    """Is a volume named after it ("650 ml residual") a residual measured: after a bladder
    scan's words unless named a "PVR", not one voided or given before it, not a plan, and a
    bare "residual" in a bladder's sentence?"""
    text, start = match.string, match.start()
    if not (match.group("pvr") or match.group("noun") or _in_a_bladders_sentence(match)) \
            or _voided_or_given_before(match) \
            or _CONDITIONAL.search(text, max(0, start - _SCAN_WINDOW), start):
        return False
    if match.group("bare") and HEART_OR_LUNG.search(_own_sentence(match)):
        return False
    return not _a_plan(match)


def _voided_or_given_before(match: re.Match[str]) -> bool:
    """Is a volume named after it one voided, given or before voiding ("Voided 650ml
    residual", "IV fluids 650 ml post void")? Not when the word names a volume of its own,
    written after it ("Voided 150ml scan 650ml post void") or, for a pre-void word, before it
    ("100ml pre void and 650ml post void")."""
    text, start = match.string, match.start()
    word = _VOIDED_BEFORE.search(text, max(0, start - 40), start)
    if word is None:
        return False
    if _A_VOLUME.search(text, word.end("word"), start):
        return False
    return not (word.group("pre") and match.group("post")
                and _A_VOLUME_BEFORE.search(text, max(0, word.start() - 12), word.start()))


def _sentences_around(match: re.Match[str]) -> tuple[str, str, str]:
    """The sentence before ``match``'s, and its own sentence's words before and after it
    (each up to :data:`_SENTENCE_REACH` characters)."""
    text, start, end = match.string, match.start(), match.end()
    before = re.split(r"[.;\n]", text[max(0, start - _SENTENCE_REACH):start])
    after = re.split(r"[.;\n]", text[end:end + _SENTENCE_REACH])[0]
    return (before[-2] if len(before) > 1 else ""), before[-1], after


def _own_sentence(match: re.Match[str]) -> str:
    """The sentence ``match`` stands in."""
    _previous, before, after = _sentences_around(match)
    return before + match.group() + after


def _in_a_bladders_sentence(match: re.Match[str]) -> bool:
    return bool(_A_BLADDERS.search(_own_sentence(match)))


def _a_measurement(match: re.Match[str]) -> bool:
    """Is ``match`` a residual measured, not a plan, a pre-void volume, a time or another
    organ's?"""
    text, start = match.string, match.start()
    if match.group("post") and _AFTER_PRE.search(text, max(0, start - 12), start):
        return False  # "pre and post void: 900ml and 50ml": the first is the pre-void's
    unitless = match.group("unit") is None and match.group("unit_before") is None
    if unitless and _a_time_or_year(match):
        return False
    bare = match.group("pvr") is None and match.group("post") is None \
        and match.group("urine") is None and match.group("after") is None
    if ((unitless and match.group("pvr")) or bare) and not _a_bladders_sentence(match):
        return False
    if _CONDITIONAL.search(text, max(0, start - _SCAN_WINDOW), start):
        return False
    if match.group("after") and _A_RESIDUAL_AFTER.match(text, match.end()):
        return False  # "Bladder scan 30 min after PU 450ml: 40ml": the 450 was voided
    return not _a_plan(match)


def _a_time_or_year(match: re.Match[str]) -> bool:
    """A number without a unit below 10 ("PVR 0.9": litres or Wood units?), with a leading
    zero ("PVR 0930") or a time after "at" ("PVR at 1400"): not a volume. A year-shaped
    number is one ("PVR 2000": a chronic retention's volume)."""
    number = match.group("number")
    before = match.string[max(0, match.start("number") - 4):match.start("number")]
    return (float(_plain(number)) < _SMALLEST_WITHOUT_UNIT or number.startswith("0")
            or (_A_TIME.fullmatch(number) is not None and _AFTER_AT.search(before) is not None))


def _a_plan(match: re.Match[str]) -> bool:
    """A bound above governed by a plan's words ("Catheterise for PVR >200 ml", "PVR >200 ml
    -> MRI"); never one at the scanner's range ("Seen for back pain, PVR > 999 ml")."""
    if not match.group("comparator") or _COMPARATORS[_spaced(match)] not in (">", ">="):
        return False
    if _residual(match).ml >= _SCANNER_RANGE:
        return False
    text, start = match.string, match.start()
    window = max(0, start - _SCAN_WINDOW)
    if _RULE_BEFORE.search(text, window, start):
        return True  # "Protocol: PVR > 250ml - referred to urology"
    if _DONE_AFTER.match(text, match.end()) or _DONE_BEFORE.search(text, window, start):
        return False  # "PVR > 500 ml: catheter inserted", "Catheterised for PVR >400ml: ..."
    return bool(_PLAN_AFTER.match(text, match.end()) or _PLAN_BEFORE.search(text, window, start))


def _a_bladders_sentence(match: re.Match[str]) -> bool:
    """Is a "PVR" without a unit, or a bare "residual", the bladder's: a bladder, voiding,
    urine, a catheterisation or retention named in its sentence or the one before, and no
    heart or lung reading in its own sentence (not "Back pain. Echo: PVR 250")?"""
    previous, before, after = _sentences_around(match)
    own = before + match.group() + after
    return bool(_BLADDER_WORDS.search(f"{previous} {own}" if previous else own)) \
        and not HEART_OR_LUNG.search(own)


# after a scan "after voiding" and its volume, the residual's own: "...after PU 450ml: 40ml",
# "... following void 400 ml: residual 50 ml"
_RESIDUAL_NAME = r"(?:residual|pvr|post[\s-]*+void)\b[ \t:=]*+"
_A_RESIDUAL_AFTER = re.compile(r"[ \t]*+(?::[ \t]*+(?:" + _RESIDUAL_NAME + r")?|[\-\u2013]?[ \t]*+"
                               + _RESIDUAL_NAME + r")\d", re.I)
_A_TIME = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")
_AFTER_AT = re.compile(r"(?:\bat|@)\s*$", re.I)


def _plain(number: str, litres: bool = False) -> str:
    """A number as Python reads it: "1,200" and "1.200 ml" thousands, "0,9" and "0.650 L"
    decimals."""
    number = "".join(number.split())  # "1 200"
    head, sep, tail = number.partition(",") if "," in number else number.partition(".")
    if sep and len(tail) == 3 and head != "0" and not (litres and sep == "."):
        return head + tail
    return f"{head}.{tail}" if sep else head


def _spaced(match: re.Match[str]) -> str:
    return " ".join(match.group("comparator").lower().split())


def _residual(match: re.Match[str]) -> Residual:
    unit = (match.group("unit") or match.groupdict().get("unit_before") or "ml").lower()
    number = float(_plain(match.group("number"), unit in LITRES))
    ml = number * 1000 if unit in LITRES else number
    comparator = match.groupdict().get("comparator")
    return Residual(ml, _COMPARATORS[_spaced(match)] if comparator else None)
