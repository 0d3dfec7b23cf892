"""A temperature written in figures: "Temp 38.9", "T 39.1 C", "Temperature: 101.3F", "Tmax
38.6", "T >38 overnight", "Temps 37.2, 38.4, 39.1": a fever measured, written in words.

Read as a weak red flag in words is read (:mod:`cds_rules.weak_words`: not denied, not
another person's, not over), with its value in degrees Celsius; the rule judges it against
the site's threshold as a measured one (rules/weak_red_flags), and no family counts it (an
entry in words never raises an emergency, CLINICAL.md). Three independent reviews found the
forms below; what is still not read is listed in ``cds_rules/CHANGELOG.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from cds_rules import units
from cds_rules.uncoded import parts_and_contrasts, refusing_questions
from cds_rules.uncoded_reading import Part, closed_signs, denied
from cds_rules.weak_words import (
    POINT,
    Items,
    decimals_kept,
    item_bounds,
    names_a_weak_sign,
)


class Temperature(NamedTuple):
    """A temperature in degrees Celsius; ``comparator`` ("<", "<=", ">=", ">") when the
    words give a bound ("T > 38", "temp 38 or above"): the rule judges it against the
    site's threshold as a measured one (``rules.context.at_least``)."""

    celsius: float
    comparator: str | None = None

    @property
    def rank(self) -> float:
        """Its place when the highest is wanted: a bound below ("< 38") last."""
        return -1.0 if self.comparator in ("<", "<=") else self.celsius


_ABBREVIATED = re.compile(r"(?<=\btemp)\.", re.I)  # "Temp. 38.9" -> "Temp: 38.9"
# a column's qualifier that names no reading of the patient's now: a range, a target
_NO_READING = r"\b(?:normal|range|ref\w*|target|threshold|goal|prev\w*|room|set)\b"
# the blanks of a column ("Temp:\t38.9", "Temp:\n38.9", a flowsheet's "Temperature (°C)\t38.9",
# "Temp (tympanic)  38.9"): the splitter splits at them
_COLUMN = re.compile(r"(?<=\btemp)((?:erature)?s?)(?:([ \t]*+\((?![^()\n]{0,20}?" + _NO_READING
                     + r")[^()\n]{0,20}\))(?:[ \t]*+([:=|]?)[ \t]*+|\n)|[ \t]*+([:=|]?)\s*+)"
                     r"(?=[<>(\d])", re.I)
# a flowsheet's row that opens with a temperature's name, and the tabs or bars between two
# of its decimal figures (its readings over time: "Temperature (°C)<tab>36.9<tab>38.6")
_A_TEMPERATURE_ROW = re.compile(r"[^\S\n]*+(?:[a-z]+[^\S\n]++)?(?:temp(?:erature)?s?|tmax)\b",
                                re.I)
_HEADER_ROWS = 20  # rows above a temperature row looked at for its header
# ... a header between that names a value and its range, not times (the third review)
_NOT_READINGS_HEADER = re.compile(r"\b(?:value|result|low|high|min|max|ref\w*|range|normal|"
                                  r"units?|parameter|test)\b", re.I)
# ... a header's cell of a time or a date ("08:00", "1400", "14.00", "12/10", "2026-10-12")
_A_TIME_CELL = re.compile(rf"(?:^|(?<=[\t|]))[ ]*+(?:\d{{1,2}}[:h{POINT}.]\d\d|\d{{4}}|"
                          r"\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d\d-\d\d)(?:[ ]?(?:am|pm))?[ ]*+"
                          r"(?=[\t|]|$)", re.I | re.M)
_FIGURE_COLUMNS = re.compile(rf"(?:(?<=\d{POINT}\d)|(?<=\d{POINT}\d\d))[ ]*+[\t|][ \t|]*+"
                             rf"(?=\d{{2,3}}{POINT}\d{{1,2}}(?![\d{POINT}])[ ]*+(?:[\t|]|$))",
                             re.M)
_FIGURE = rf"\d{{2,3}}(?:{POINT}\d{{1,2}})?(?![\d{POINT}])"  # never cut short
# a clock time: "0800", "14:00", "14.00" (its point kept), "9.30am", "2am", "1400h"
_CLOCK = (rf"(?:(?:[01]?\d|2[0-3])[:h{POINT}]?[0-5]\d(?:[ \t]?(?:h|hrs|am|pm)\b)?"
          r"|(?:1[0-2]|0?[1-9])[ \t]?(?:am|pm)\b)(?![\d" + POINT + r"])")
# ... standing alone between a name and its figure: four digits or a separator ("1015",
# "9:30", "2pm"; not "102": a Fahrenheit figure), and a body's figure after it
_CLOCK_ALONE = (rf"(?:(?:[01]\d|2[0-3])[:h{POINT}]?[0-5]\d|(?:[01]?\d|2[0-3])[:h{POINT}][0-5]\d)"
                r"(?:[ \t]?(?:h|hrs|am|pm)\b)?(?![\d" + POINT + r"])|(?:1[0-2]|0?[1-9])[ \t]?"
                r"(?:am|pm)\b")
_A_BODYS_FIGURE = rf"(?:3[4-9]|4[0-4]|9[3-9]|1[01]\d)(?:{POINT}\d{{1,2}})?(?![\d{POINT}])"
# when a figure of a list was taken: "36.9 at 0800, 38.9 at 1400", "36.9 on arrival, 38.9
# overnight", "38.9 (14:00)"
_WHEN = (rf"(?:[ \t]?(?:at|@)[ \t]?{_CLOCK}|[ \t]\({_CLOCK}\)|[ \t](?:on[ \t]arrival|"
         r"on[ \t]admission|in[ \t]ed|overnight|today|tonight|yesterday|last[ \t]night|"
         r"this[ \t](?:morning|afternoon|evening|am|pm)|(?:in[ \t]the[ \t])?(?:morning|"
         r"afternoon|evening)|at[ \t]home|at[ \t]triage|earlier|initially)\b)")
_UNIT = (r"[ \t]?(?:[\u00b0\u00ba][ \t]?)?(?:cel(?:sius)?|fahrenheit|deg(?:rees?)?(?:[ \t]?"
         r"[cf])?|[cf])\b|[ \t]?[\u00b0\u00ba\u2103\u2109]")
# between a name and its figure: a colon, a qualifier ("(oral)", "(!)", "(°C)", "tympanic",
# "24h"), a verb ("was", "rose to", "recorded as"); atomic, each blank bounded: linear
_BETWEEN = (r"(?>(?:[ \t]?(?:[:=~|?]|-(?=[ \t]?[\d<>\u2264\u2265])|\((?![\d<>])[^()]{0,20}\)|"
            r"[\u00b0\u00ba][ \t]?[cf]?\b)|[ \t]?@|[ \t]\(?(?:" + _CLOCK_ALONE
            + r")\)?(?:[ \t]?[:,=\-|])?(?=[ \t]?(?:\([^()]{0,20}\)[ \t]?)?(?:(?:was|is|of|reading|"
            r"recorded|measured|rose|risen|peaked|spiked|reached|went|up|to|at)[ \t]?[:=]?[ \t]?)"
            r"{0,3}" + _A_BODYS_FIGURE
            + r")|[ \t](?:of|was|is|now|has|been|as|recorded|measured|"
            r"documented|reached|peaked|spiked|spiking|went|gone|rose|risen|increased|elevated|raised|"
            r"remains?|up|to|at|in|on|ed|arrival|home|readings?|taken|checked|max(?:imum)?|"
            r"today|this|am|pm|overnight|oral|po|tympanic|tymp|axillary|ax|rectal|pr|core|"
            r"24\s?h(?:rs?)?|morning|admission)\b){0,5})[ \t]?")
_SEPARATOR = r"[ \t]?(?:,[ \t]?(?:then|and)?|/|;|then|and|->|\u2192)[ \t]?"
# ... and the word of a later reading after it: "Temp 36.5, now 38.9", ", rising to 39"
_LATER = (r"(?:now|later|rising|rose|increased|went[ \t]up|peaking|peaked|spiking|spiked)"
          r"(?:[ \t]to)?[ \t]?")
# a figure's unit that is no temperature's: a list's figure so written is none ("T 38.9,
# 72.5 kg" keeps 38.9), nor a name's figure
_ANOTHER_UNIT = (r"[ \t]?(?:%|mm|cm|kg|bpm|mg|ml|mmol|nmol|pmol|umol|\u00b5mol|mcg|microg|ug|ng|"
                 r"pg|iu|u/|g/|lbs?\b|l/min|min|secs?\b|s\b|h\b|hrs?\b(?![ \t]?\d)|x\b|units?\b|"
                 r"days?\b|hours?\b|weeks?\b|wks?\b|years?\b|yrs?\b|y/?o\b)")
# a list's further figure: a separator, a clock maybe ("14:00 38.9"), a decimal (a whole
# number after a later reading's word: "Temp 36.5, now 39")
_LISTED = (rf"{_SEPARATOR}(?:{_LATER}{_A_BODYS_FIGURE}|(?:{_LATER})?(?:{_CLOCK}[ \t]?[:\-]?[ \t]?)?"
           rf"(?:\d{{2,3}}{POINT}\d{{1,2}}|{_A_BODYS_FIGURE}(?={_WHEN})))"
           rf"(?![\d{POINT}])(?!{_ANOTHER_UNIT})")
_VITALS = r"hr|pulse|bp|rr|resp|sats?|spo2|o2"  # vital signs beside a temperature
_IN_FIGURES = re.compile(
    r"\b(?:(?P<name>temp(?:erature)?s?|t[\s-]?max|tymp(?:anic)?|bt|tc|(?P<tpr>tpr|t/p/r))(?![a-z])"
    + _BETWEEN +
    r"|(?<!['\u2019])(?P<bare>t)(?:[ \t]?(?P<colon>[:=])[ \t]?|[ \t]|(?=[\u00b0\u00ba(])"
    r"(?:[\u00b0\u00ba]|\([\u00b0\u00ba][ \t]?[cf]?\))[ \t]?))"
    r"\(?(?P<comparator>[<>]=?|\u2264|\u2265|(?:over|above|greater\sthan|more\sthan|higher\s"
    r"than|under|below|less\sthan|lower\sthan)[ \t])?[ \t]?"
    rf"(?P<number>{_FIGURE})(?:[ \t]?(?:-|\u2013|to)[ \t]?(?P<high>{_FIGURE}))?(?P<unit>{_UNIT})?"
    r"(?P<bound>[ \t]?(?:\+|or\s(?:above|more|higher|over|greater)\b)|[ \t]?or\s(?P<below>below|"
    r"less|lower|under)\b)?"
    rf"(?P<more>(?>(?:{_WHEN}(?={_LISTED}))?(?:{_LISTED}(?:{_UNIT})?(?:{_WHEN}(?={_LISTED}))?)*))"
    r"\)?"
    # a TPR's pulse and respiratory rate, and saturation: "TPR 38.9/120/24", "TPR 38.9/120/24/98%"
    r"(?(tpr)(?:[ \t]?[/,][ \t]?\d{1,3}(?![\d" + POINT + r"])){0,2}"
    r"(?:[ \t]?/[ \t]?\d{2,3}[ \t]?%(?![\d" + POINT + r"]))?)"
    r"(?P<vitals>(?=[ \t]*(?:[,;/][ \t]*)?(?:p|" + _VITALS + r")\b))?"
    r"(?!\w|[ \t]?/[ \t]?\d|" + _ANOTHER_UNIT + r")", re.I)
_A_NAME = re.compile(r"\b(?:t(?:emp|[ \t]?[:=<>\u2264\u2265\u00b0\u00ba(]|[ \t]\d|[\s-]?max|"
                     r"ymp|c\b|pr\b|/p/r\b)|bt\b)", re.I)
# a list's further figures (a decimal, or a whole number a time follows; a clock's "14:00",
# "14.00", "at 930", "(1400)", "11pm" is none)
_A_LISTED_FIGURE = re.compile(rf"(?<![\d{POINT}:h(@])(?<!at\s)(?<!@\s)\d{{2,3}}"
                              rf"(?:{POINT}\d{{1,2}})?(?![\d{POINT}:])(?![ \t]?(?:am|pm|h|hrs)\b)")
_VITALS_BEFORE = re.compile(r"\b(?:" + _VITALS + r")\b[ \t:]*\d", re.I)
_COMPARED = {"<": "<", "<=": "<=", "\u2264": "<=", "under": "<", "below": "<", "less than": "<",
             "lower than": "<", ">": ">", ">=": ">=", "\u2265": ">=", "over": ">", "above": ">",
             "greater than": ">", "more than": ">", "higher than": ">"}
NOT_THE_BODYS = ("warmer", "hugger", "bottle", "blanket", "incubator", "fridge", "freezer",
                 "oven", "bath", "water", "thermostat", "heater", "humidifier", "shower", "tub",
                 "sauna", "pool", r"(?:heat|heating|cooling)\s+(?:pad|pack)", "storage",
                 "specimen", "urine", "airway", "circuit", "ecmo", "weather", "ward", "target",
                 "goal", r"set\s+(?:to|at)", "knee", "limb", "wound", "joint")
"""Words of a temperature that is no patient's body's: a device's, a fridge's, a specimen's,
a ward's, a joint's or a wound's (local heat), a target (record/temperatures reads a code's
words by them too)."""
# ... right before the name ("Bair hugger temp 43", "Warmer set to temp 38", "Knee temp
# 38.5"; not "Post-op wound check temp 38.9", "Swollen knee and temp 38.9"); a room's or
# the air's only before "temp" ("Room temp 22"; not "On room air T 38.5")
_NOT_THE_PATIENTS = re.compile(r"\b(?:" + "|".join(NOT_THE_BODYS) + r")\s*$", re.I)
ROOM_OR_SKIN = ("room", "ambient", "air", "outside", "outdoor", "skin")
"""Words of a temperature of the air around or of the skin: no core reading."""
_ROOM_BEFORE = re.compile(r"\b(?:" + "|".join(ROOM_OR_SKIN) + r")\s*$", re.I)
# a troponin's T, an ECG's T axis ("Trop T 38.5 ng/L", "Axes P:55 QRS:38 T:42")
_NOT_A_BODYS_T = re.compile(r"\b(?:trop\w*|tn|hs|qrs|axis|axes)\b[^,;]{0,16}$", re.I)
# the past: "Previous temp 39.2", "Temp 39 in 2019", "Temp 39 3 weeks ago", "2/52 ago"
_PAST_BEFORE = re.compile(r"\b(?:previous|prior|previously|historical|old|last\s+(?:week|"
                          r"month|year)'?s?)\s*$", re.I)
_WHERE_TAKEN = r"(?:at\s+home|on\s+admission|on\s+arrival|in\s+(?:ed|a&e|hospital))\s+"
_PAST_AFTER = re.compile(r"\s*(?:(?:" + _WHERE_TAKEN + r")?(?:\(?\s*(?:in|during|back\s+in)\s+"
                         r"(?:19|20)\d\d\b|(?:\d+|a|an|"
                         r"one|two|three|four|few|several)\s*(?:weeks?|wks?|months?|years?|"
                         r"yrs?)\s+ago\b|\d+\s*/\s*(?:52|12)\s+ago\b|(?:last|previous)\s+"
                         r"(?:week|month|year)\b))", re.I)
# A bound or range in a plan, advice, a reference, a score or a question ("Return if temp >
# 38", "Safety net: temp > 38 = ED", "Temp 38+ - call 111", "SIRS: T >38", "Normal temp
# 36-38", "Temperature 38.1-39.0 (1 point)", "Temp > 38 (Y/N): N"), or a prescription's
# figure ("Paracetamol 1g PRN for temp 38.5"): no measurement
_PLAN_IN_ITEM = re.compile(r"\b(?:for|if|when|should|seek|call|contact|attend|aim|keep|"
                           r"maintain|until|any|ask\w*|normal|your|sepsis|sirs|qsofa|aware|"
                           r"discussed)\b", re.I)
_PLAN_IN_PART = re.compile(r"\b(?:return\w*|re-?present\w*|advi[cs]\w*|threshold|target|"
                           r"criteria|alert|safety|net\w*|sn|screen\w*|flags?|warn\w*|prn|"
                           r"range|reference|scores?|news2?|get\s+help)\b", re.I)
# ... and in the line before only advice, a heading ending "if:" or a prescription ending
# "PRN" ("Advice:", "Get help if:", "Safety netting advice given", "Paracetamol 1g QDS PRN";
# not "Neuro exam normal", "Discussed with registrar")
_ADVICE_BEFORE = re.compile(r"\b(?:advi[cs]\w*|safety[\s-]*net\w*|get\s+help|seek\s+help|"
                            r"return\s+if)\b|\b(?:if|prn|as\s+required)\s*:?\s*$", re.I)
_PLAN_AFTER = re.compile(r"\s*(?:[:),\-\u2013]\s*)?(?:->|-->|\u2192|=>?|\?|\(\s*y\s*/|\[|"
                         r"(?:y|yes)\s*/\s*(?:n|no)\b|"
                         r"\(?\s*\d+\s*points?\b|\b(?:then|give|start|take|call|seek|contact|"
                         r"return|attend|needs?|requires?|triggers?|means|would|will|should|"
                         r"is|could|may|111|999)\b)", re.I)
# ... unless a form's box is ticked or its question answered yes ("Temp >38 [x]", "Temp > 38
# (Y/N): Y", "Red flags: temp > 38 - yes", "Temp >38? Yes"): the patient's, not in advice
# (a box ticked with nothing after it but the item's end or a yes: "[x] No [ ] Yes", "[x]
# not assessed" are no yes; each blank run possessive: linear)
_ANSWERED_YES = re.compile(r"\s*+(?:[:\-\u2013]\s*+)?(?:(?:\[\s*+[x\u2713\u2714]\s*+\]|"
                           r"[\u2611\u2713\u2714])(?=[ \t]*+(?:$|[,;\n]|(?:y|yes)\b))|"
                           r"(?:\(\s*+y\s*+/\s*+n\s*+\)|\?)?\s*+[:\-\u2013]?\s*+(?:y|yes)\b"
                           r"(?![ \t]*+/))", re.I)
_ADVICE_IN_PART = re.compile(r"\b(?:return\w*|re-?present\w*|advi[cs]\w*|safety|net\w*|sn|"
                             r"look\s+out|watch|come\s+back|reasons?\s+to|"
                             r"if|when|should|seek|call|contact|attend|get\s+help|prn|aim|"
                             r"target|goal|keep|maintain|until|your|aware|discuss\w*|warn\w*|"
                             r"explain\w*|leaflet|counsel+\w*|inform\w*|told|educat\w*)\b",
                           re.I)
# ... "for" in the figure's own item only ("Paracetamol for temp > 38 [x]"; not "Seen for
# back pain, temp > 38 [x]")
_FOR_IN_ITEM = re.compile(r"\bfor\b", re.I)
# a prescription's figure: "Paracetamol 1g PRN for temp 38.5" (not "Given paracetamol 1g
# PRN, temp 38.9", "Omeprazole 20mg BD and temp 38.9")
_PRESCRIBED_FOR = re.compile(r"\b(?:prn|qds|tds|bd|qid|tid|as\s+required|if\s+required)\s+"
                             r"(?:for|if|when)\b", re.I)
_MAX_CANDIDATES = 400  # figures a text is read for: a note, not a chart (linear)
_MAX_CHECKED = 40  # ... and asked, highest first, whether the patient's now


@lru_cache(maxsize=4096)
def temperatures_in_words(text: str, closes_negated: Callable[[str], bool]
                          ) -> tuple[Temperature, ...]:
    """The highest temperature ``text`` gives in figures as the patient's now, in degrees
    Celsius (a tuple of it, or empty): a number with a Celsius unit or none from 34 to 44,
    one with a Fahrenheit unit or none from 93 to 112; of a range or a list, the highest. A
    bare "T" needs a blank or a colon before its figure ("T39.1" is an ICD-10 poisoning
    code), and after it a decimal, a unit, a bound, or for a whole number a vital sign, a
    comma or the end ("T 38" before a word is a tooth, "T12" a vertebra; "T 39 P 120",
    "BP 102/64, T 39" a temperature). Not a device's, a room's or a specimen's, a troponin's,
    not the past, nor a bound or range in a plan, a reference or a question. The threshold
    is the caller's (``RuleSettings.fever_celsius``)."""
    if not _A_NAME.search(text):  # most texts: one linear search
        return ()
    parts = list(parts_and_contrasts(_kept_whole(text)))
    candidates = _candidates(parts)
    readers: dict[int, _PartReader] = {}
    for _rank, index, match, temperature in candidates[:_MAX_CHECKED]:
        if index not in readers:
            readers[index] = _PartReader(parts, index, closes_negated)
        if readers[index].the_patients_now(match, temperature):
            return (temperature,)
    return ()


def _kept_whole(text: str) -> str:
    """``text`` with its decimal points, "Temp." and the blanks after "Temp:" kept from the
    sentence splitter."""
    text = decimals_kept(text)
    if "." in text:
        text = _ABBREVIATED.sub(":", text)
    if "\t" in text or "|" in text:
        text = _columns_listed(text)
    return _COLUMN.sub(r"\1\2\3\4 ", text)


def _columns_listed(text: str) -> str:
    """``text`` with each flowsheet temperature row under a header of times or dates turned
    into a list ("08:00<tab>12:00<tab>16:00" over "Temperature (°C)<tab>36.9<tab>37.4<tab>
    38.6" -> "... 36.9, 37.4, 38.6": the highest is read). With no such header within
    :data:`_HEADER_ROWS` rows above, the columns may be a value and its reference range
    ("Temp<tab>37.5<tab>36.5<tab>38.0": the second review), and the first is read, as
    before; nor under a header naming a value and its range, nor one with fewer times than
    the row has figures (the third review). One pass over the lines (linear)."""
    lines = text.split("\n")
    header_times, since = 0, _HEADER_ROWS
    for at, line in enumerate(lines):
        since += 1
        if _A_TEMPERATURE_ROW.match(line):
            columns = len(_FIGURE_COLUMNS.findall(line)) + 1
            if 1 < columns <= header_times and since <= _HEADER_ROWS:
                lines[at] = _FIGURE_COLUMNS.sub(", ", line)
        elif _NOT_READINGS_HEADER.search(line):
            header_times = 0  # "Value<tab>Ref range", "Low<tab>High": no times of readings
        elif (times := len(_A_TIME_CELL.findall(line))) >= 2:
            header_times, since = times, 0
    return "\n".join(lines)


def _candidates(parts: list[tuple[str, bool]]
                ) -> list[tuple[float, int, re.Match[str], Temperature]]:
    """Every figure that reads as a temperature, highest first (a bound below last):
    (rank, part index, match, temperature)."""
    found: list[tuple[float, int, re.Match[str], Temperature]] = []
    for index, (text_part, _contrast) in enumerate(parts):
        for match in _IN_FIGURES.finditer(text_part):
            temperature = _temperature(match, text_part)
            if temperature is not None:
                found.append((temperature.rank, index, match, temperature))
                if len(found) >= _MAX_CANDIDATES:
                    return sorted(found, key=lambda c: -c[0])
    return sorted(found, key=lambda c: -c[0])


class _PartReader:
    """A part of the text, read once for the checks its figures ask."""

    def __init__(self, parts: list[tuple[str, bool]], index: int,
                 closes_negated: Callable[[str], bool]) -> None:
        self.text, contrast_follows = parts[index]
        self.previous = parts[index - 1][0] if index else ""
        self.part = Part(self.text)
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        matches = list(islice(_IN_FIGURES.finditer(self.text), _MAX_CANDIDATES))
        self.closed = closed_signs(self.part, matches, closes)
        self.items = Items(self.text, contrast_follows)

    def the_patients_now(self, match: re.Match[str], temperature: Temperature) -> bool:
        """Is the temperature at ``match`` the patient's, of now: not a device's, a room's
        or a troponin's, not the past, not a bound or range in a plan or a prescription, not
        denied, another person's or over?"""
        at, text = match.start(), self.text
        return not (match.start() in self.closed
                    or _NOT_THE_PATIENTS.search(text, max(0, at - 40), at)
                    or (match.group("name") and _ROOM_BEFORE.search(text, max(0, at - 16), at))
                    or (match.group("bare") and _NOT_A_BODYS_T.search(text, max(0, at - 24),
                                                                        at))
                    or _PAST_BEFORE.search(text, max(0, at - 24), at)
                    or _PAST_AFTER.match(text, match.end())
                    or self._prescribed(match)
                    or ((temperature.comparator in (">", ">=") or match.group("high"))
                        and self._a_plan(match))
                    or denied(self.part, match, names_a_weak_sign)
                    or self.items.hides("fever", match, measured=True))

    def _prescribed(self, match: re.Match[str]) -> bool:
        """Is the figure a prescription's ("Paracetamol 1g PRN for temp 38.5")?"""
        start, _end = item_bounds(self.items.commas, match.start(), len(self.text))
        return bool(_PRESCRIBED_FOR.search(self.text, start, match.start()))

    def _a_plan(self, match: re.Match[str]) -> bool:
        """Is a bound ("> 38") or a range ("36-38") a plan's, advice's, a reference's or a
        question's ("Temp >38 in last 24h?"), not a measurement? Plain words ("for", "if",
        "normal") count in the figure's own item ("Seen for back pain, temp >38 overnight",
        "Bloods normal, temp >38 overnight" are measurements); advice in the line before
        counts too ("Safety netting advice given. Temperature above 38C")."""
        text = self.text
        yes = _ANSWERED_YES.match(text, match.end()) if not match.group("high") else None
        start, end = item_bounds(self.items.commas, match.start(), len(text))
        if yes is not None:  # a bound ticked (a band's box: "36.1-38.0 [x]", no fever)
            return bool(_ADVICE_IN_PART.search(text, 0, match.start())
                        or _FOR_IN_ITEM.search(text, start, match.start())
                        or _ADVICE_BEFORE.search(self.previous)
                        or _PAST_AFTER.match(text, yes.end()))
        return bool(_PLAN_IN_PART.search(text, 0, match.start())
                    or _ADVICE_BEFORE.search(self.previous)
                    or _PLAN_IN_ITEM.search(text, start, match.start())
                    or _PLAN_AFTER.match(text, match.end())
                    or "?" in text[match.end():end])


def _temperature(match: re.Match[str], text: str) -> Temperature | None:
    """A match's temperature in degrees Celsius (the highest of a range or a list), or None
    when no figure is a body's temperature in its unit, or a bare "T"'s whole number below
    93 has no unit or bound and no vital sign after it or before it in ``text`` ("HR 118, BP
    102/64, T 39"); a range's top only on its bottom's scale."""
    unit = (match.group("unit") or "").strip().lower().lstrip("\u00b0\u00ba").strip()
    words, bound = match.group("comparator"), match.group("bound")
    number = match.group("number")
    if match.group("bare") and POINT not in number and not (
            match.group("unit") or words or bound or float(number) >= 93
            or match.group("vitals") is not None
            or _VITALS_BEFORE.search(text, max(0, match.start() - 40), match.start())):
        return None
    figures = [number, *_A_LISTED_FIGURE.findall(match.group("more") or "")]
    high = match.group("high")
    if high and (float(high.replace(POINT, ".")) >= 93) is (
            float(number.replace(POINT, ".")) >= 93):  # one scale: "37.1 - 102 HR" none
        figures.append(high)
    bounded, *later = (_celsius(figure, unit) for figure in figures)
    readings = [c for c in (bounded, *later) if c is not None]
    if not readings:
        return None
    if not (words or bound) or bounded is None:
        return Temperature(max(readings))
    comparator = _COMPARED[" ".join(words.lower().split())] if words else (
        "<=" if match.group("below") else ">=")
    # a bound keeps its comparator beside a list's later figures ("Temp <38 at triage, now
    # 37.4" is no fever; "Sepsis screen: temp > 38, now 37.4" a plan's bound): the highest
    listed = [Temperature(celsius) for celsius in later if celsius is not None]
    return max([Temperature(bounded, comparator), *listed], key=lambda reading: reading.rank)


def _celsius(figure: str, unit: str) -> float | None:
    """A figure in degrees Celsius (a Fahrenheit unit, or none from 93, converted as every
    quantity is: :func:`cds_rules.units.normalise`), or None outside 34 to 44."""
    value = float(figure.replace(POINT, "."))
    celsius_unit = unit.endswith(("c", "\u2103", "cel", "celsius"))
    fahrenheit = unit.endswith(("f", "\u2109", "fahrenheit")) or (not celsius_unit
                                                                 and value >= 93)
    normal = units.normalise("body_temperature", value, "[degF]" if fahrenheit else "Cel")
    celsius = round(normal[0], 2) if normal is not None else None
    return celsius if celsius is not None and 34.0 <= celsius <= 44.0 else None
