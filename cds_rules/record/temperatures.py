"""A temperature written in figures ("Temp 38.9", "T 39.1 C") or sent as a quantity under a
code no value set knows ("Tympanic temperature" 39.2 Cel, a local "TEMP" row): a fever
measured but not coded. Read as the weak red flag "fever" in words
(:mod:`cds_rules.weak_words`), with its value in degrees Celsius: the conservative and
imaging cards name it when it reaches ``RuleSettings.fever_celsius`` (rules/weak_red_flags),
never INF-01's fever (an entry in words never raises an emergency, CLINICAL.md).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from cds_rules import units
from cds_rules.record.codes import as_list, codings_of
from cds_rules.record.negation import closes_negated
from cds_rules.temperature_words import (
    NOT_THE_BODYS,
    ROOM_OR_SKIN,
    Temperature,
    temperatures_in_words,
)

_NO_CORE_READING = (*ROOM_OR_SKIN, "surface", "finger", "toe", "hand", "foot", "groin",
                    "brain", "transport", "delta", "difference", "change", "threshold",
                    "fluid", "dialysate", "sample", "device", "set", "setting", "setpoint",
                    "alarm", "alert", "limit", "mattress", r"environment\w*", "env", "pack",
                    r"refrig\w*", "milk", r"blood\s+bank", "chamber", "gas", "insp", "staff",
                    "visitor")
# A code naming the body's temperature; not a room's, a specimen's or a device's setting
# ("Temperature of specimen", "Target temperature", "Warming blanket temperature"), a skin's
# or a limb's ("Finger temperature", "Body temperature - Foot surface": no core reading; the
# body_temperature value set leaves them out too), nor a difference between two
_NAMES_A_TEMPERATURE = re.compile(r"\btemp(?:erature)?s?\b|\bt[\s-]?max\b", re.I)
_NOT_THE_BODYS = re.compile(r"\b(?:" + "|".join((*NOT_THE_BODYS, *_NO_CORE_READING)) + r")\b",
                            re.I)


def highest_temperature(entry: dict[str, Any], texts: list[str]
                        ) -> tuple[Temperature, str] | None:
    """The highest temperature the entry gives, with the words that give it: in figures in
    its ``texts`` (:func:`~cds_rules.temperature_words.temperatures_in_words`), or as a
    quantity of its own or of a component under a code naming one. A bound below ("< 38")
    last. Plain loops: asked of every entry read for words (#15)."""
    best: tuple[Temperature, str] | None = None
    for text in texts:
        for temperature in temperatures_in_words(text, closes_negated):
            best = _higher(best, temperature, text)
    if entry.get("resourceType") != "Observation":
        return best
    for holder in (entry, *as_list(entry.get("component"))):
        if holder.__class__ is dict and ("valueQuantity" in holder or "valueInteger" in holder
                                         or "valueString" in holder):
            measured = measured_temperature(holder)
            if measured is not None:
                best = _higher(best, *measured)
    return best


def _higher(best: tuple[Temperature, str] | None, temperature: Temperature, words: str
            ) -> tuple[Temperature, str]:
    """The higher of ``best`` and ``temperature`` (with its words): a bound below last."""
    if best is None or temperature.rank > best[0].rank:
        return temperature, words
    return best


def temperature_sent(quantity: dict[str, Any]) -> bool:
    """Is a quantity's unit (its code, else its unit) a temperature's ("Cel", "[degF]",
    "degrees F")? Asked of every test's quantity before any word (#15)."""
    unit = quantity.get("code") or quantity.get("unit")
    return unit.__class__ is str and _a_temperatures_unit(unit)


@lru_cache(maxsize=2048)
def _a_temperatures_unit(unit: str) -> bool:
    """Is ``unit`` a temperature's? Once a spelling a process (the record's shortcut asks
    it of every test's quantity)."""
    return units.is_unit_of("body_temperature", unit)


def measured_temperature(holder: dict[str, Any]) -> tuple[Temperature, str] | None:
    """The temperature ``holder`` (an Observation or a component) holds, under a code whose
    words (text, displays: a LOINC one's too; "TEMP_TYMP", "BodyTemp" split) name the body's
    temperature, with those words ("Tympanic temperature"); else None. Held as a quantity in
    a temperature's unit, a whole number or a short value in words ("38.9", "38.9 C")."""
    amount = _amount(holder)
    if amount is None:
        return None
    code = holder.get("code")
    codings = codings_of(code)
    words = [_SPLIT_WORDS.sub(" ", w) for w in (
        code.get("text") if isinstance(code, dict) else None,
        *(c.get("display") for c in codings)) if isinstance(w, str)]
    if not words:  # a local code's own letters, only when nothing else names it
        words = [_SPLIT_WORDS.sub(" ", c) for c in (c.get("code") for c in codings)
                 if isinstance(c, str)]
    named = next((w for w in words if _NAMES_A_TEMPERATURE.search(w)), None)
    if named is None or any(_NOT_THE_BODYS.search(w) for w in words):
        return None
    return amount, named.strip()


_SPLIT_WORDS = re.compile(r"_+|(?<=[a-z])(?=[A-Z])")


def _amount(holder: dict[str, Any]) -> Temperature | None:
    """The holder's value as a temperature in Cel: a quantity in a temperature's unit, or a
    number read as a temperature's figure would be (Fahrenheit from 93)."""
    quantity = holder.get("valueQuantity")
    if quantity is not None:
        if quantity.__class__ is not dict or not temperature_sent(quantity):
            return None
        normal = units.normalise("body_temperature", quantity.get("value"),
                                 quantity.get("code"), quantity.get("unit"))
        comparator = quantity.get("comparator")
        return None if normal is None else Temperature(
            round(normal[0], 2), comparator if comparator in ("<", "<=", ">=", ">") else None)
    value, text = holder.get("valueInteger"), holder.get("valueString")
    if value.__class__ is int and 0 < value < 1000:
        text = str(value)
    if not isinstance(text, str) or len(text) >= 40:
        return None
    found = temperatures_in_words("Temperature " + text.strip(), closes_negated)
    return found[0] if len(found) == 1 else None
