"""A post-void residual sent as a measurement: an Observation's quantity (or a component's)
under a code whose words name one ("Post void residual" 650 mL, a "Bladder scan" panel's
component), read beside the residual written in words (:mod:`cds_rules.residual_urine`),
and the ``uncoded:cauda-equina`` fact either becomes. The threshold is the rule's
(rules/uncoded): a reading here is a volume, a fact carries it as its value.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cds_rules import uncoded
from cds_rules.model import Fact, FactStatus, Topic
from cds_rules.record.codes import as_list, codings_of, source_of
from cds_rules.record.facts import with_latest
from cds_rules.record.state import Builder
from cds_rules.record.status import OBSERVATION_IGNORED, entry_status, status_code
from cds_rules.record.timing import entry_times
from cds_rules.residual_urine import (
    HEART_OR_LUNG,
    LITRES,
    RESIDUAL_SIGN,
    Residual,
    residuals_in_words,
)

# A code naming a residual: "Post void residual", "Bladder scan PVR", "Residual urine
# volume", "Bladder scan post void"; not a lung's "Residual volume", nor a pulmonary
# vascular resistance ("PVR")
_NAMES_A_RESIDUAL = re.compile(r"\bp\.?v\.?r\b|\bpmr\b|post[\s-]?(?:void\w*|micturition)\s+"
                               r"(?:bladder\s+)?(?:residual|residue|volume|scan)|residual\s+"
                               r"(?:urine|urinary|bladder)|(?:urine|bladder)\s+(?:volume\s+|"
                               r"scan\s+)?(?:residual|post[\s-]?void)|bladder\s+scan\s+after\s+"
                               r"void", re.I)
_MILLILITRES = frozenset({"ml", "mls", "millilitre", "millilitres", "milliliter",
                          "milliliters", "cc", "cm3", "cm^3", "cm\u00b3", "{ml}", "[ml]"})
_VOLUME_UNITS = _MILLILITRES | LITRES | {""}  # no unit: millilitres
VOLUME_UNITS_AS_SENT = frozenset({*_VOLUME_UNITS,
                                  *(u.upper() for u in _VOLUME_UNITS),
                                  *(u.capitalize() for u in _VOLUME_UNITS),
                                  "mL", "mLs", "{mL}", "[mL]", "ML", "CM3"})
"""A volume's unit as senders usually write it: the gate's quick answer (#15)."""
# A code whose words name a residual but hold another number: its time, a pre-void or voided
# volume, a threshold ("Post void residual - time of scan", "Voided volume before post void
# residual", "Post void residual threshold for catheterisation")
_NOT_THE_RESIDUAL = re.compile(r"\b(?:time|minutes?|mins?|pre[\s-]?void\w*|voided|threshold|"
                               r"protocol|target)\b", re.I)
_ONLY_PVR = re.compile(r"\W*p\.?v\.?r\.?\W*", re.I)  # "PVR" alone: a vascular resistance too
_LARGEST = 1e7  # millilitres: past it, a number no bladder holds (and no float overflow)


def volume_sent(quantity: dict[str, Any]) -> bool:
    """Is a quantity's unit (its code, else its unit) a volume's, or none? Asked of every
    Observation before any word (#15): each spelling is normalised once a process."""
    unit = quantity.get("code") or quantity.get("unit")
    if unit is None:
        return True
    if unit.__class__ is not str:
        return False
    known = _VOLUME_BY_UNIT.get(unit)
    if known is None:
        known = _normal_unit(unit) in _VOLUME_UNITS
        if len(_VOLUME_BY_UNIT) < _UNITS_REMEMBERED:  # a sender's junk cannot grow it
            _VOLUME_BY_UNIT[unit] = known
    return known


_VOLUME_BY_UNIT: dict[str, bool] = {unit: True for unit in VOLUME_UNITS_AS_SENT}
_UNITS_REMEMBERED = 2048
_A_DIGIT = re.compile(r"\d")
_A_VOLUME_IN_WORDS = re.compile(r"\d\s*(?:ml|cc|l\b|lit)", re.I)


def _normal_unit(unit: str) -> str:
    return unit.strip().lower().rstrip(".")


def may_hold_a_residual(holder: dict[str, Any]) -> bool:
    """Could ``holder`` hold a residual (a quantity in a volume's unit or none, a whole
    number, a short value in words with a number in it)? Asked first: no word is read."""
    quantity = holder.get("valueQuantity")
    if quantity is not None:
        return isinstance(quantity, dict) and volume_sent(quantity)
    text = holder.get("valueString")
    return "valueInteger" in holder or (isinstance(text, str) and len(text) < 40
                                        and _A_DIGIT.search(text) is not None)


def measured_residual(holder: object, panel: object = None) -> tuple[Residual, str] | None:
    """The residual an Observation (or a component of the ``panel``) holds as a quantity (or
    a plain number: valueInteger, a valueString "650 ml") under a code whose words (text,
    displays: a LOINC one's too) name one ("Post void residual" 650 mL), with those words;
    else None. Not when the code's or the panel's words name the heart or lungs (a
    vascular resistance), nor when the code's name another number (a time, a pre-void
    volume, a threshold); a code that says only "PVR" needs a volume's unit. A quantity
    without a unit counts as millilitres; one in any other unit is not read."""
    if not isinstance(holder, dict):
        return None
    amount = _amount(holder)
    if amount is None:
        return None
    words = _code_words(holder.get("code"))
    named = next((w for w in words if _NAMES_A_RESIDUAL.search(w)), None)
    if named is None:
        return None
    context = [*words, *(_code_words(panel.get("code")) if isinstance(panel, dict) else [])]
    if any(HEART_OR_LUNG.search(w) for w in context) \
            or any(_NOT_THE_RESIDUAL.search(w) for w in words):
        return None
    if all(_ONLY_PVR.fullmatch(w) or not _NAMES_A_RESIDUAL.search(w) for w in words) \
            and not _has_a_unit(holder):
        return None
    return amount, named


def _has_a_unit(holder: dict[str, Any]) -> bool:
    quantity = holder.get("valueQuantity")
    if isinstance(quantity, dict):
        return bool(quantity.get("code") or quantity.get("unit"))
    text = holder.get("valueString")
    return isinstance(text, str) and _A_VOLUME_IN_WORDS.search(text) is not None


def _amount(holder: dict[str, Any]) -> Residual | None:
    """The holder's value as a residual in millilitres, if it is a volume or a number."""
    quantity = holder.get("valueQuantity")
    if isinstance(quantity, dict):
        sent = quantity.get("code") or quantity.get("unit")
        unit = _normal_unit(sent) if isinstance(sent, str) else "" if sent is None else None
        value = quantity.get("value")
        if unit not in _VOLUME_UNITS or value.__class__ not in (int, float) \
                or not -_LARGEST < value < _LARGEST:
            return None
        comparator = quantity.get("comparator")
        return Residual(float(value * 1000 if unit in LITRES else value),
                        comparator if comparator in ("<", "<=", ">=", ">") else None)
    value = holder.get("valueInteger")
    if value.__class__ is int and 0 <= value < _LARGEST:
        return Residual(float(value))
    text = holder.get("valueString")
    if isinstance(text, str) and len(text) < 40:
        found = residuals_in_words("post-void residual " + text.strip())
        return found[0] if len(found) == 1 and math.isfinite(found[0].ml) else None
    return None


def largest(found: list[tuple[Residual, str]]) -> tuple[Residual, str] | None:
    """The residual to name of several (and its words): the largest; a bound below ("< 50
    ml") last."""
    return max(found, key=lambda item: item[0].rank, default=None)


def _code_words(code: object) -> list[str]:
    """A code's text and the displays of its codings: a LOINC code names its test too."""
    if not isinstance(code, dict):
        return []
    displays = [c.get("display") for c in codings_of(code)]
    return [w for w in (code.get("text"), *displays) if isinstance(w, str)]


def residual_of(entry: dict[str, Any], texts: list[str]) -> tuple[Residual, str] | None:
    """The largest post-void residual the entry states, with the words that state it: in
    its words (``texts``: "Bladder scan: PVR 650 ml"), or as a quantity of its own or of a
    component under a code naming one ("Post void residual" 650 mL). Plain loops: asked of
    every entry read for words (#15)."""
    found: list[tuple[Residual, str]] = []
    for text in texts:
        for residual in residuals_in_words(text):
            found.append((residual, text))
    quantity = entry.get("valueQuantity")
    if quantity.__class__ is dict and "component" not in entry \
            and not volume_sent(quantity):  # a measurement's: asked first
        return largest(found) if found else None
    if entry.get("resourceType") == "Observation":
        for holder in (entry, *as_list(entry.get("component"))):
            if isinstance(holder, dict) and may_hold_a_residual(holder):
                panel = entry if holder is not entry else None
                measured = measured_residual(holder, panel)
                if measured is not None:
                    found.append(measured)
    return largest(found) if found else None


def add_residual(builder: Builder, checked: dict[str, Any],
                 residual_and_words: tuple[Residual, str]) -> bool:
    """An ``uncoded:cauda-equina`` fact for a residual, its volume in mL as the fact's value
    (:data:`~cds_rules.residual_urine.RESIDUAL_SIGN`): the cauda equina rule in words warns
    when it reaches the site's threshold. A measurement: a coded "no" in the entry's value
    answers its code, not the volume (a review: a retention coded and answered no beside
    "PVR 900 ml" was dropped), so only an entry refuted, in error or cancelled is not read."""
    if checked["resourceType"] == "Condition":
        status = entry_status(checked, builder.record.now)
    else:
        status = (None if status_code(checked, "status") in OBSERVATION_IGNORED
                  else FactStatus.CURRENT)
    if status is None:
        return False
    residual, words = residual_and_words
    when, latest, floating, start = entry_times(builder, checked)
    builder.record.facts.append(with_latest(Fact(
        concept=uncoded.uncoded_concept(Topic.CAUDA_EQUINA), display=f'Uncoded entry "{words}"',
        source=source_of(checked), resource_type=checked["resourceType"], when=when,
        status=status, detail=RESIDUAL_SIGN, value=residual.ml, unit="mL",
        comparator=residual.comparator), latest, floating, start))
    return True


def with_residual(residual_ml: float, found: dict[Topic, tuple[str, str]],
                  residual: tuple[Residual, str] | None) -> dict[Topic, tuple[str, str]]:
    """``found`` and a residual reaching ``residual_ml``, for an entry set aside unread: its
    volume is not kept, so one below the threshold would be named as a red flag."""
    if residual is None or not residual[0].reaches(residual_ml):
        return found
    return {**found, Topic.CAUDA_EQUINA: (RESIDUAL_SIGN, residual[1])}
