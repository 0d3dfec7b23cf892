"""A temperature written in figures ("Temp 38.9", "T 39.1 C") or sent as a quantity under a
code no value set knows ("Tympanic temperature" 39.2 Cel, a local "TEMP" row): a fever
measured but not coded. Read as the weak red flag "fever" in words
(:mod:`cds_rules.weak_words`), with its value in degrees Celsius: the conservative and
imaging cards name it when it reaches ``RuleSettings.fever_celsius`` (rules/weak_red_flags),
never INF-01's fever (an entry in words never raises an emergency, CLINICAL.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cds_rules import units
from cds_rules.record.codes import as_list, codings_of
from cds_rules.weak_words import Temperature, temperatures_in_words

# A code naming the body's temperature; not a room's, a specimen's or a device's setting
# ("Temperature of specimen", "Target temperature", "Warming blanket temperature"), a skin's
# or a limb's ("Finger temperature", "Body temperature - Foot surface": no core reading; the
# body_temperature value set leaves them out too), nor a difference between two
_NAMES_A_TEMPERATURE = re.compile(r"\btemp(?:erature)?s?\b|\bt[\s-]?max\b", re.I)
_NOT_THE_BODYS = re.compile(r"\b(?:room|fridge|freezer|water|bath|ambient|air|outside|outdoor|"
                            r"oven|incubator|storage|specimen|sample|target|set|setting|goal|"
                            r"blanket|device|probe|skin|surface|finger|toe|hand|foot|groin|"
                            r"brain|transport|delta|difference|change|threshold|fluid|"
                            r"dialysate|blood\s+warmer)\b", re.I)
_TEMPERATURE_UNITS_AS_SENT = frozenset({"Cel", "cel", "[degF]", "[degf]", "\u00b0C", "\u00b0F",
                                        "C", "F", "degC", "degF", "\u2103", "\u2109"})


def highest_temperature(entry: dict[str, Any], texts: list[str],
                        closes_negated: Callable[[str], bool]
                        ) -> tuple[Temperature, str] | None:
    """The highest temperature the entry gives, with the words that give it: in figures in
    its ``texts`` (:func:`~cds_rules.weak_words.temperatures_in_words`), or as a quantity of
    its own or of a component under a code naming one. A bound below ("< 38") last. Plain
    loops: asked of every entry read for words (#15)."""
    best: tuple[Temperature, str] | None = None
    for text in texts:
        for temperature in temperatures_in_words(text, closes_negated):
            best = _higher(best, temperature, text)
    if entry.get("resourceType") != "Observation" \
            or ("valueQuantity" not in entry and "component" not in entry):
        return best
    for holder in (entry, *as_list(entry.get("component"))):
        if holder.__class__ is dict and "valueQuantity" in holder:
            measured = measured_temperature(holder)
            if measured is not None:
                best = _higher(best, *measured)
    return best


def _higher(best: tuple[Temperature, str] | None, temperature: Temperature, words: str
            ) -> tuple[Temperature, str]:
    """The higher of ``best`` and ``temperature`` (with its words): a bound below last."""
    if best is None or _rank(temperature) > _rank(best[0]):
        return temperature, words
    return best


def _rank(temperature: Temperature) -> float:
    return -1.0 if temperature.comparator in ("<", "<=") else temperature.celsius


def temperature_sent(quantity: dict[str, Any]) -> bool:
    """Is a quantity's unit a temperature's? Asked of every test's quantity before any word
    (#15): each spelling is looked up once a process."""
    unit = quantity.get("code") or quantity.get("unit")
    if unit.__class__ is not str:
        return False
    known = _TEMPERATURE_BY_UNIT.get(unit)
    if known is None:
        known = units.normalise("body_temperature", 37.0, unit) is not None
        if len(_TEMPERATURE_BY_UNIT) < _UNITS_REMEMBERED:  # a sender's junk cannot grow it
            _TEMPERATURE_BY_UNIT[unit] = known
    return known


_TEMPERATURE_BY_UNIT: dict[str, bool] = {unit: True for unit in _TEMPERATURE_UNITS_AS_SENT}
_UNITS_REMEMBERED = 2048


def measured_temperature(holder: dict[str, Any]) -> tuple[Temperature, str] | None:
    """The temperature ``holder`` (an Observation or a component) holds as a quantity in a
    temperature's unit under a code whose words (text, displays: a LOINC one's too) name the
    body's temperature, with those words ("Tympanic temperature"); else None."""
    quantity = holder.get("valueQuantity")
    if not isinstance(quantity, dict) or not temperature_sent(quantity):
        return None
    normal = units.normalise("body_temperature", quantity.get("value"), quantity.get("code"),
                             quantity.get("unit"))
    if normal is None:
        return None
    code = holder.get("code")
    words = [w for w in (code.get("text") if isinstance(code, dict) else None,
                         *(c.get("display") for c in codings_of(code))) if isinstance(w, str)]
    named = next((w for w in words if _NAMES_A_TEMPERATURE.search(w)), None)
    if named is None or any(_NOT_THE_BODYS.search(w) for w in words):
        return None
    comparator = quantity.get("comparator")
    return Temperature(round(normal[0], 2), comparator if comparator in ("<", "<=", ">=", ">")
                       else None), named.strip()
