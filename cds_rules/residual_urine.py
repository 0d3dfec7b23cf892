"""A post-void residual volume: the urine left in the bladder after voiding, as measured.

A bladder scan after voiding is how an emergency department checks a suspected cauda equina
syndrome for retention (GIRFT 2023 pathway), and a residual over 200 ml had a sensitivity
of 94 % and a negative predictive value of 98.7 % for compression on MRI (Venkatesan et al.,
Spine 2019; a residual at or below it does not rule the syndrome out: Todd 2018). Written
as a number ("Bladder scan: PVR 650 ml", "Post-void residual 900mls"), or sent as a
quantity under a local code ("Post void residual" 650 mL), it named no sign the reader
knew, and a retention measured but not named was silent. Read here as a number only: the
threshold (``RuleSettings.ces_residual_urine_ml``) is the caller's, so that one reading
serves every site. A residual found over it is an uncoded cauda equina sign
(:data:`RESIDUAL_SIGN`): a warning to check, never the critical card (an entry in words).

Not read: a residual in a plan or a rule ("If PVR > 200 ml, catheterise"); a bare
"residual" or "residual volume" in a text that says nothing of a bladder (a lung function
test's residual volume, in litres); a number in another unit ("PVR 3.2 WU": pulmonary
vascular resistance).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

RESIDUAL_SIGN = "urinary retention (post-void residual)"
"""The uncoded cauda equina sign a residual over the threshold names (``Fact.detail``)."""


class Residual(NamedTuple):
    """A residual volume in millilitres; ``comparator`` ("<", "<=", ">=", ">") when the
    words give a bound, not the measurement ("PVR > 500 ml": the scanner's range)."""

    ml: float
    comparator: str | None = None

    def over(self, threshold_ml: float) -> bool:
        """Is the volume certainly over ``threshold_ml``? A bound below ("< 300 ml") is
        not; a bound above ("> 200 ml") is when it reaches the threshold."""
        if self.comparator in ("<", "<="):
            return False
        if self.comparator == ">":
            return self.ml >= threshold_ml
        return self.ml > threshold_ml


# "PVR", "post-void residual (volume)", "post micturition residual", "residual urine"
_PVR = r"pvr\b"
_POST_VOID = (r"post[\s-]?(?:void(?:ing|ed)?|micturition)\b(?:\s*(?:bladder\s+)?"
              r"(?:residual|residue|volume|scan)\b)?(?:\s+(?:urine\s+)?(?:volume|vol)\b)?")
_RESIDUAL = r"residual(?:\s+(?:urine|urinary|bladder))?(?:\s+(?:volume|vol)\b)?"
# words between the name and the number: "PVR on bladder scan: 650 ml", "residual of 900"
_FILLER = (r"(?:[\s:=~\-\u2013(]*\b(?:of|was|is|measured|approx\w*|about|around|c|ca|on|by|"
           r"at|bladder|scan|scanner|us|ultrasound|volume|vol|urine)\b\.?){0,6}?"
           r"[\s:=~\-\u2013(]*")
_COMPARATOR = (r"(?:(?P<comparator>[<>]=?|\u2264|\u2265|less\s+than|under|below|"
               r"more\s+than|greater\s+than|over|above|at\s+least)\s*)?")
_NUMBER = r"(?P<number>\d{1,2},\d{3}|\d{1,5}(?:\.\d+)?)"
_UNIT = r"(?:\s*(?P<unit>mls?|millilit(?:re|er)s?|cc|l|lit(?:re|er)s?)\b)?"
# a number in another unit, or part of a date, a time or a ratio, is no volume
_NOT_A_VOLUME = (r"(?!\d|[.,:/]\d|\s*(?:%|wu\b|wood|dyn\w*|mm\s*hg|mm\b|cm\b|units?\b|mg\b|"
                 r"kg\b|g\b|hours?\b|hrs?\b|mins?\b|minutes?\b|days?\b|weeks?\b|years?\b|x\b))")
_READING = re.compile(
    r"\b(?P<name>" + _PVR + "|" + _POST_VOID + "|" + _RESIDUAL + ")" + _FILLER + _COMPARATOR
    + _NUMBER + _UNIT + r"(?(unit)|" + _NOT_A_VOLUME + ")", re.I)
# a bare "residual" counts only where the text is about a bladder (not a lung's volume)
_BLADDER_WORDS = re.compile(r"bladder|void|urin|micturi|catheter|twoc|retention|pvr", re.I)
# a plan or a rule, not a measurement: "If PVR > 200 ml", "catheterise when residual > 300"
_CONDITIONAL = re.compile(r"\b(?:if|when|whenever|unless|should|whether|threshold|target|"
                          r"aim|until|criteria)\b[^.;\n]{0,40}$", re.I)
_COMPARATORS = {"<": "<", "<=": "<=", "\u2264": "<=", "less than": "<", "under": "<",
                "below": "<", ">": ">", ">=": ">=", "\u2265": ">=", "more than": ">",
                "greater than": ">", "over": ">", "above": ">", "at least": ">="}
_LITRES = frozenset({"l", "litre", "litres", "liter", "liters"})
_NAME_WORDS = ("resid", "pvr", "void", "mictur")
_SCAN_WINDOW = 60  # characters before a name searched for a condition: a short stretch


@lru_cache(maxsize=4096)
def residuals_in_words(text: str) -> tuple[Residual, ...]:
    """Every post-void residual ``text`` states as a number ("PVR 650 ml", "Post void
    residual: 1.2 L"), in millilitres; a number without a unit after a residual's name
    counts as millilitres ("PVR 650"), after a bare "residual" only with one."""
    lowered = text.lower()
    if not any(word in lowered for word in _NAME_WORDS):  # the common case: one pass each
        return ()
    found: list[Residual] = []
    about_a_bladder: bool | None = None
    for match in _READING.finditer(text):
        name = match.group("name").lower()
        bare = name.startswith("residual")
        if bare:
            if match.group("unit") is None:
                continue
            if about_a_bladder is None:
                about_a_bladder = bool(_BLADDER_WORDS.search(text))
            if not about_a_bladder:
                continue
        if _CONDITIONAL.search(text, max(0, match.start() - _SCAN_WINDOW), match.start()):
            continue
        found.append(_residual(match))
    return tuple(found)


def _residual(match: re.Match[str]) -> Residual:
    number = float(match.group("number").replace(",", ""))
    unit = (match.group("unit") or "ml").lower()
    ml = number * 1000 if unit in _LITRES else number
    comparator = match.group("comparator")
    return Residual(ml, _COMPARATORS[" ".join(comparator.lower().split())]
                    if comparator else None)


# A code naming a residual: "Post void residual", "Bladder scan PVR", "Residual urine
# volume"; not a lung's "Residual volume"
_NAMES_A_RESIDUAL = re.compile(r"\bpvr\b|post[\s-]?(?:void\w*|micturition)\s+(?:bladder\s+)?"
                               r"(?:residual|residue|volume)|residual\s+(?:urine|urinary|"
                               r"bladder)|(?:urine|bladder)\s+(?:volume\s+)?(?:residual|"
                               r"post[\s-]?void)", re.I)
_MILLILITRES = frozenset({"ml", "mls", "millilitre", "millilitres", "milliliter",
                          "milliliters", "cc", "cm3"})
_VOLUME_UNITS = _MILLILITRES | _LITRES


def measured_residual(holder: object) -> tuple[Residual, str] | None:
    """The residual an Observation (or a component) holds as a quantity under a code whose
    words (text, displays: a LOINC one's too) name one ("Post void residual" 650 mL), with
    those words; else None. A quantity without a unit counts as millilitres; one in any
    other unit is not read. The quantity is asked first: most Observations have another
    unit."""
    if not isinstance(holder, dict):
        return None
    quantity = holder.get("valueQuantity")
    if not isinstance(quantity, dict) or not volume_quantity(quantity):
        return None
    words = _code_words(holder.get("code"))
    named = next((w for w in words if _NAMES_A_RESIDUAL.search(w)), None)
    if named is None:
        return None
    ml = quantity["value"] * 1000 if _unit(quantity) in _LITRES else quantity["value"]
    comparator = quantity.get("comparator")
    return (Residual(float(ml), comparator if comparator in ("<", "<=", ">=", ">") else None),
            named)


def largest(found: list[tuple[Residual, str]]) -> tuple[Residual, str] | None:
    """The residual to name of several (and its words): the largest; a bound below ("< 50
    ml") last."""
    return max(found, key=lambda item: -1.0 if item[0].comparator in ("<", "<=")
               else item[0].ml, default=None)


def _code_words(code: object) -> list[str]:
    if not isinstance(code, dict):
        return []
    codings = code.get("coding")
    displays = [c.get("display") for c in codings if isinstance(c, dict)] \
        if isinstance(codings, list) else []
    return [w for w in (code.get("text"), *displays) if isinstance(w, str)]


def volume_quantity(quantity: dict[str, Any]) -> bool:
    """A quantity with a number and a volume's unit (or none): what a residual is sent as.
    Asked first, before any words, of every Observation: most have other units."""
    value = quantity.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    unit = _unit(quantity)
    return unit == "" or unit in _VOLUME_UNITS


def _unit(quantity: dict[str, Any]) -> str:
    unit = quantity.get("code", quantity.get("unit"))
    return unit.strip().lower() if isinstance(unit, str) else ""
