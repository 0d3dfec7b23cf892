"""Quantity normalisation via UCUM codes (and the unit strings seen in real feeds).

Each quantity concept has one canonical unit: temperature ``Cel``, weight ``kg``, MRC
grade ``{grade}`` (0-5), pain ``{score}`` (0-10), ESR ``mm/h``, CRP ``mg/L``. A value in
a unit we do not know for that concept is refused (None), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable

Converter = Callable[[float], float]


def _same(v: float) -> float:
    return v


def _f_to_c(v: float) -> float:
    return (v - 32.0) * 5.0 / 9.0


def _either_scale(v: float) -> float:
    """A body temperature in degrees of an unnamed scale: Celsius up to 46 (the highest a
    living body has), else Fahrenheit."""
    return v if v <= 46.0 else _f_to_c(v)


_TEMPERATURE: dict[str, Converter] = {
    "cel": _same, "°c": _same, "c": _same, "degc": _same, "deg c": _same, "celsius": _same,
    "[degf]": _f_to_c, "°f": _f_to_c, "f": _f_to_c, "degf": _f_to_c, "deg f": _f_to_c,
    "fahrenheit": _f_to_c,
    # written out, as free-text unit fields hold them
    "degrees c": _same, "degree c": _same, "degrees celsius": _same, "\u2103": _same,
    "degrees f": _f_to_c, "degree f": _f_to_c, "degrees fahrenheit": _f_to_c, "\u2109": _f_to_c,
    # the ordinal sign for a degree sign, a blank after it, "centigrade" (the second review
    # of the temperature reading: a quantity in "\u00baC" was not read)
    "\u00bac": _same, "\u00baf": _f_to_c, "\u00b0 c": _same, "\u00b0 f": _f_to_c,
    "\u00ba c": _same, "\u00ba f": _f_to_c, "centigrade": _same, "degrees centigrade": _same,
    "degree celsius": _same, "degree fahrenheit": _f_to_c,
    "k": lambda v: v - 273.15,
    # a degree with no scale ("degrees", "deg", "°"): a body's temperature says which, as
    # the two plausible ranges are apart (20-46 Celsius, 68-115 Fahrenheit; between them
    # neither: refused by the range)
    "degrees": _either_scale, "degree": _either_scale, "deg": _either_scale,
    "\u00b0": _either_scale, "\u00ba": _either_scale,
}
_WEIGHT: dict[str, Converter] = {
    "kg": _same, "kilogram": _same, "kilograms": _same,
    "[lb_av]": lambda v: v * 0.45359237, "lb": lambda v: v * 0.45359237,
    "lbs": lambda v: v * 0.45359237, "pound": lambda v: v * 0.45359237,
    "pounds": lambda v: v * 0.45359237,
    "g": lambda v: v / 1000.0, "gram": lambda v: v / 1000.0, "grams": lambda v: v / 1000.0,
    "[oz_av]": lambda v: v * 0.028349523125, "oz": lambda v: v * 0.028349523125,
}
_UNITLESS: dict[str, Converter] = {"": _same, "1": _same, "{score}": _same, "{grade}": _same,
                                   "{#}": _same, "score": _same, "grade": _same}
_ESR: dict[str, Converter] = {"mm/h": _same, "mm/hr": _same, "mm/[hr]": _same}
_CRP: dict[str, Converter] = {"mg/l": _same, "mg/dl": lambda v: v * 10.0,
                              "ug/ml": _same, "µg/ml": _same}

# concept -> (canonical unit, converters by lower-cased unit, plausible range after conversion)
_RULES: dict[str, tuple[str, dict[str, Converter], tuple[float, float]]] = {
    "body_temperature": ("Cel", _TEMPERATURE, (20.0, 46.0)),
    "body_weight": ("kg", _WEIGHT, (0.2, 700.0)),
    "muscle_strength_grade": ("{grade}", _UNITLESS, (0.0, 5.0)),
    "pain_severity": ("{score}", _UNITLESS, (0.0, 10.0)),
    "esr": ("mm/h", _ESR, (0.0, 200.0)),
    "crp": ("mg/L", _CRP, (0.0, 1000.0)),
}

QUANTITY_CONCEPTS: frozenset[str] = frozenset(_RULES)
UNITLESS_CONCEPTS: frozenset[str] = frozenset(
    c for c, (_, table, _r) in _RULES.items() if table is _UNITLESS
)


def normalise(concept: str, value: object, unit_code: object = None,
              unit_text: object = None) -> tuple[float, str] | None:
    """``value`` in the concept's canonical unit, or None (unknown unit, implausible value).

    The UCUM ``code`` is tried first, then the human ``unit`` string. A missing unit is
    accepted only for unitless scores (pain, MRC grade).
    """
    rule = _RULES.get(concept)
    if rule is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    unit, table, (low, high) = rule
    converter = None
    for candidate in (unit_code, unit_text):
        if isinstance(candidate, str) and candidate.strip().lower() in table:
            converter = table[candidate.strip().lower()]
            break
    if converter is None and unit_code is None and unit_text is None and "" in table:
        converter = table[""]
    if converter is None:
        return None
    try:
        converted = float(converter(float(value)))
    except (OverflowError, ValueError):
        return None
    if not low <= converted <= high:
        return None
    return round(converted, 3), unit


def is_unit_of(concept: str, unit: str) -> bool:
    """Is ``unit`` (a UCUM code or a unit string, any case) one :func:`normalise` converts
    for ``concept``?"""
    rule = _RULES.get(concept)
    return rule is not None and unit.strip().lower() in rule[1]
