"""Uncoded entries: a red flag named only in words (:mod:`cds_rules.uncoded`), in a Condition
or Observation no value set knows, or in the words of a coded entry that its codes do not
say (a local coding's display, the text, a component).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from cds_rules import back_pain_words, uncoded
from cds_rules import valuesets as vs
from cds_rules.model import (
    BACK_PAIN_CONTEXT,
    RED_FLAG_INPUTS,
    SYMPTOM_CONCEPTS,
    Fact,
    FactStatus,
    Topic,
)
from cds_rules.record.codes import Hit, codings_of, source_of
from cds_rules.record.entry_words import (
    WordsTooLong,
    components_read,
    entry_texts,
    signs,
    value_answers_the_code,
    words_of,
    words_read,
)
from cds_rules.record.facts import with_latest
from cds_rules.record.negation import closes_negated, presence
from cds_rules.record.residuals import (
    add_residual,
    residual_of,
    with_residual,
)
from cds_rules.record.state import Builder
from cds_rules.record.status import OBSERVATION_IGNORED, entry_status, status_code
from cds_rules.record.temperatures import (
    highest_temperature,
)
from cds_rules.record.timing import entry_times
from cds_rules.record.unreadable import set_aside, set_aside_listed_code, set_aside_words
from cds_rules.temperature_words import Temperature
from cds_rules.weak_words import CONCEPTS_OF_SIGN, WEAK_IN_WORDS, weak_signs

log = logging.getLogger(__name__)


def read_uncoded(builder: Builder, resource: dict[str, Any]) -> bool:
    """A Condition or Observation no value set knows: counted as unrecognised, but a red
    flag its text names (not negated) becomes an ``uncoded:<topic>`` fact, so that it is
    never silently ignored (:mod:`cds_rules.uncoded`), and a back pain or sciatica it
    names a fact of that concept, the call's context (:mod:`cds_rules.back_pain_words`)."""
    builder.unrecognised()
    texts, notes = _notes_apart(builder, resource, *words_read(builder, resource))
    found, context = signs(texts), _context(resource, texts)
    if not (found or context):
        set_aside_listed_code(builder, resource)  # a code sent as a list naming a red flag
    weak = _weak_named(resource, texts)
    residual = None if Topic.CAUDA_EQUINA in found else residual_of(resource, texts)
    if not (found or context or weak or residual or notes):
        return False
    checked = builder.validated(resource)
    if checked is None:
        found = {**signs(notes), **with_residual(builder.residual_urine_ml, found, residual)}
        if found or context:  # _context read its value
            set_aside_words(builder, resource, found, context=context)
        return False
    hints = bool(found) and _add_hints(builder, checked, found)
    weak_read = bool(weak) and _add_weak(builder, checked, weak)
    measured = residual is not None and add_residual(builder, checked, residual)
    noted = bool(notes) and read_texts_apart(builder, checked, notes)
    return _add_context(builder, checked, context, dated=True) or hints or weak_read \
        or measured or noted


def read_words(builder: Builder, checked: dict[str, Any], concepts: Iterable[str],
               stated: Iterable[str] | None = None) -> bool:
    """A coded entry's words that no code of it says: its text, the displays of its codings
    (a known code's too: "Low back pain with saddle anaesthesia" sent as the display of
    SNOMED CT 279039007, Low back pain), its value and components in words ("Low back pain
    with new urinary retention" coded M54.50). A family its ``concepts`` already give is not
    read again; from its notes, only a family a code of it states (``stated``: the concepts
    of the facts its codes gave; None: all of ``concepts``): a retention coded and valued
    "No urinary retention", noted "New saddle anaesthesia", is read by its note (a review:
    the first version passed it over). A back pain or sciatica the words name is read when
    the codes name no back pain (a retention coded SNOMED CT 267064002 whose text says "Back
    pain and urinary retention"; a leg pain coded M79.605 whose text says "Low back pain
    radiating to left leg")."""
    coded = frozenset(concepts)
    given = uncoded.families_of(coded)
    try:
        words, notes = words_read(builder, checked)
    except WordsTooLong:
        if not given:
            raise  # set aside and named (record/reader_faults): its words may be the red flag
        log.warning("record: a coded entry's words not read: past what a call reads")
        return False  # its red-flag codes stand (a coded retention stays the emergency)
    texts, apart = _notes_apart(builder, checked, words, notes)
    found = {topic: named for topic, named in signs(words).items() if topic not in given}
    if notes and not apart:  # the notes read with the words
        kept = given if stated is None else uncoded.families_of(frozenset(stated))
        for topic, named in signs(notes).items():
            if topic not in kept:
                found.setdefault(topic, named)
    hints = bool(found) and _add_hints(builder, checked, found, given)
    hints = (bool(apart) and read_texts_apart(builder, checked, apart)) or hints
    weak = _weak_named(checked, texts, coded)
    if notes and not apart and "fever" not in weak:  # a later reading noted beside a coded one
        noted = highest_temperature({}, notes)
        weak = weak if noted is None else {**weak, "fever": (noted[1], noted[0])}
    hints = (bool(weak) and _add_weak(builder, checked, weak)) or hints
    # a post-void residual is read beside a retention coded, or denied ("Urinary retention?
    # No. Bladder scan residual 900 ml"): a card of the coded family does not repeat it
    # (rules/uncoded)
    residual = None if Topic.CAUDA_EQUINA in found else residual_of(checked, texts)
    hints = (residual is not None and add_residual(builder, checked, residual)) or hints
    if coded.intersection(BACK_PAIN_CONTEXT):  # read as a back pain already
        return hints
    context = _context(checked, texts)
    same_complaint = bool(coded & SYMPTOM_CONCEPTS)  # a leg pain: its date is the words'
    if not same_complaint:  # another condition's entry: only a back pain said to be current
        context = {concept: text for concept, text in context.items()
                   if back_pain_words.says_it_is_current(text)}
    return _add_context(builder, checked, context, dated=same_complaint) or hints


def set_aside_coded(builder: Builder, resource: dict[str, Any], hits: list[Hit]) -> None:
    """A coded entry dropped as invalid: set aside by its codes (:func:`set_aside`), and by
    its words when its codes name no red flag ("Low back pain" coded M54.50 whose text says
    "with new urinary retention"), as an entry not read for a fault is (record/
    reader_faults): the cards name the red flag, not only the back pain."""
    record = builder.record
    before = len(record.unreadable_red_flags)
    set_aside(builder, resource, hits)
    by_code = record.unreadable_red_flags[before:]
    # not when its codes name a red flag (set aside, or not there: "Retention of urine"
    # stated absent names no retention in its words either)
    if not any(hit.concept in RED_FLAG_INPUTS for hit in hits):
        words = signs_in(resource, builder.residual_urine_ml)
        if words:
            counted = builder.unreadable_entries
            set_aside_words(builder, resource, words, uncoded_entry=False)
            if by_code:
                builder.unreadable_entries = counted  # one entry, counted once


def signs_in(resource: dict[str, Any], residual_ml: float | None = None
             ) -> dict[Topic, tuple[str, str]]:
    """The red flags an entry's words name, not negated, per family (sign, text), and a
    post-void residual reaching ``residual_ml`` (the site's threshold; None: not asked):
    what :func:`read_uncoded` reads, for an entry no reader could read
    (record/reader_faults); not one whose words are longer than :data:`ENTRY_WORDS_READ`."""
    texts = words_of(resource)
    found = signs(texts)
    if residual_ml is None or Topic.CAUDA_EQUINA in found:
        return found
    return with_residual(residual_ml, found, residual_of(resource, texts))


# LOINC codes of a complaint, whose value is the presentation in words: chief complaint
# 8661-1 and its narrative 10154-3, reported 46239-0, history of present illness 10164-2,
# reason for visit 29299-5.
_COMPLAINTS = frozenset({"8661-1", "10154-3", "46239-0", "10164-2", "29299-5"})


def _observation_words(entry: dict[str, Any]) -> list[str]:
    """What an Observation says of a back pain: a complaint's value in words; else its own
    name (code text, displays: "Back pain", valued yes), never a value under another name
    ("Symptoms denied", "Family history", "ROS": "Back pain" is no back pain of today:
    tenth review)."""
    codings = codings_of(entry.get("code"))
    complaint = any(vs.normalise_system(c.get("system")) == vs.LOINC
                    and c.get("code") in _COMPLAINTS for c in codings)
    if complaint:
        return entry_texts({"valueString": entry.get("valueString"),
                             "valueCodeableConcept": entry.get("valueCodeableConcept")})
    return entry_texts({"code": entry.get("code")})


def _context(entry: dict[str, Any], texts: list[str]) -> dict[str, str]:
    """Per back-pain context concept the entry's words name (not denied), the first text
    naming it. An Observation: by :func:`_observation_words`, only when its value affirms it
    (:func:`_affirms`), is no laboratory measurement ("LBP" 12 ug/mL, the lipopolysaccharide-
    binding protein) and no history section; its components are not read."""
    named = _named(texts)
    if not named or entry.get("resourceType") != "Observation":  # the common case: none
        return named
    if not _affirms(entry) or _measured(entry) or _a_history_section(entry):
        return {}
    return _named(_observation_words(entry))  # a component's words are not read


def _named(texts: list[str]) -> dict[str, str]:
    named: dict[str, str] = {}
    for text in texts:
        for concept in back_pain_words.named_context(text, closes_negated):
            named.setdefault(concept, text)
    return named


def _add_context(builder: Builder, checked: dict[str, Any], context: dict[str, str],
                 dated: bool = False) -> bool:
    """One fact per back-pain concept named, with the entry's status: the call's context,
    read by the red-flag rules as the coded concept is (the low-risk pathway cards do not
    speak over it, nor does it date the back pain's onset: rules/context.coded_context).
    ``dated``: the entry is the back pain's own (its words alone: a Condition "Sciatica" of
    2015, a chief complaint "Back pain" of 2019; or a leg pain coded M79.605 whose text says
    "Left sciatica"), so its date is the back pain's, and the red-flag rules judge "new" by
    it. Otherwise (words in the entry of another condition: "AAA - now back pain" in an
    aneurysm's entry of 2019) its date is not the back pain's: undated, it cannot be
    excluded as new. No side is read from the words: a "bilateral sciatica" in words is the
    uncoded cauda equina warning, never the critical card of a coded one."""
    if not context:
        return False
    status = entry_status(checked, builder.record.now, value_answers_the_code(checked))
    if status is None:
        return False
    when, latest, floating, start = entry_times(builder, checked) if dated else (
        None, None, False, None)
    for concept, text in context.items():
        builder.record.facts.append(with_latest(Fact(
            concept=concept, display=f'Uncoded entry "{text}"', source=source_of(checked),
            resource_type=checked["resourceType"], when=when, status=status,
            detail=back_pain_words.IN_WORDS), latest, floating, start))
    builder.context_in_words = True
    return True


_SCORE_UNITS = frozenset({"", "{score}", "score", "/10", "{#}", "1", "points", "point",
                          "out of 10"})
_YES_WORDS = re.compile(r"\s*+(?:y|yes|present|positive|pos|\+|true|reported|confirmed)"
                        r"\s*+\.?\s*+$", re.I)  # possessive: linear on a blank run
_VALUES = ("valueString", "valueBoolean", "valueInteger", "valueQuantity",
           "valueCodeableConcept", "valueDateTime", "valuePeriod", "valueRange", "valueRatio")


def _affirms(holder: dict[str, Any]) -> bool:
    """Does an Observation's value say the back pain it names is there, or is there no value
    to say otherwise? Yes, true, a coded yes or present, a score above 0, or words that are
    themselves a presentation ("Back pain for 3 days": a chief complaint's value). Anything
    else ("Pt denies", "N", "0/10", "Resolved", "Unknown", "WNL", a dataAbsentReason) is no
    back pain of today (eighth review: a review-of-systems row "Back pain": "Pt denies"
    beside a known aneurysm gave the critical card)."""
    if "dataAbsentReason" in holder:
        return False
    if not any(name in holder for name in _VALUES):
        return True
    number = _number(holder)
    if number is not None:
        return number > 0
    text = holder.get("valueString")
    if isinstance(text, str):
        return bool(_YES_WORDS.match(text)) or bool(
            back_pain_words.named_context(text, closes_negated))
    return presence(holder) is True


def _number(holder: dict[str, Any]) -> int | float | None:
    """A value's number (valueInteger, valueQuantity.value), if it has one."""
    quantity = holder.get("valueQuantity")
    number = quantity.get("value") if isinstance(quantity, dict) else holder.get("valueInteger")
    return number if isinstance(number, int | float) and not isinstance(number, bool) else None


# LOINC codes of a narrative of the past or of others (the C-CDA history sections): family
# history 10157-6, past illness 11348-0, social history 29762-2, procedures 47519-4,
# medications 10160-0, immunizations 11369-6. "Low back pain; appendicectomy" there is no
# back pain of today (fifth review).
_HISTORY_SECTIONS = frozenset({"10157-6", "11348-0", "29762-2", "47519-4", "10160-0",
                               "11369-6"})


def _a_history_section(entry: dict[str, Any]) -> bool:
    return any(vs.normalise_system(c.get("system")) == vs.LOINC
               and c.get("code") in _HISTORY_SECTIONS for c in codings_of(entry.get("code")))


def _measured(entry: dict[str, Any]) -> bool:
    """A quantity in a unit that is no score: a laboratory result, not a symptom."""
    quantity = entry.get("valueQuantity")
    if not isinstance(quantity, dict):
        return False
    unit = quantity.get("code", quantity.get("unit"))
    return isinstance(unit, str) and unit.strip().lower() not in _SCORE_UNITS


def _add_hints(builder: Builder, checked: dict[str, Any], found: dict[Topic, tuple[str, str]],
               given: frozenset[Topic] = frozenset()) -> bool:
    """One ``uncoded:<topic>`` fact per family found, with the entry's status: a resolved
    entry is history (read only by the signs the coded path reads at any status). An
    Observation whose value denies its code's finding keeps the components that value does
    not answer for (:func:`_components_standing`)."""
    status = entry_status(checked, builder.record.now, value_answers_the_code(checked))
    if status is None:
        found = {topic: named for topic, named in
                 _components_standing(checked).items() if topic not in given}
        if not found:
            return False
        status = FactStatus.CURRENT
    _add_named_in_words(builder, checked, status, [
        (uncoded.uncoded_concept(topic), sign, text) for topic, (sign, text) in found.items()])
    return True


def _weak_named(entry: dict[str, Any], texts: list[str], coded: frozenset[str] = frozenset()
                ) -> dict[str, tuple[str, Temperature | None]]:
    """Per weak red flag the entry names (:mod:`cds_rules.weak_words`) and its codes do not
    say, the first text naming it; a fever without a word for it, by the highest
    temperature the entry gives (:mod:`cds_rules.record.temperatures`: "Temp 38.9", a
    "Tympanic temperature" 39.2 Cel), with that temperature: the rule judges it against the
    site's threshold."""
    named: dict[str, tuple[str, Temperature | None]] = {}
    for text in texts:
        for sign in weak_signs(text, closes_negated):
            if coded.isdisjoint(CONCEPTS_OF_SIGN[sign]):
                named.setdefault(sign, (text, None))
    if "fever" in named or not coded.isdisjoint(CONCEPTS_OF_SIGN["fever"]):
        return named
    measured = highest_temperature(entry, texts)
    return named if measured is None else {"fever": (measured[1], measured[0]), **named}


def _add_weak(builder: Builder, checked: dict[str, Any],
              weak: dict[str, tuple[str, Temperature | None]],
              status: FactStatus | None = None) -> bool:
    """One :data:`~cds_rules.weak_words.WEAK_IN_WORDS` fact per weak red flag named, when
    the entry is current (``status``: the notes' of an entry whose value denies its code,
    :func:`_notes_apart`): the conservative card names it instead of reassuring; no
    family counts it. A temperature is the fact's value, in Cel."""
    if status is None:
        status = entry_status(checked, builder.record.now, value_answers_the_code(checked))
    if status is not FactStatus.CURRENT:
        return False
    for sign, (text, temperature) in weak.items():
        _add_named_in_words(builder, checked, status, [(WEAK_IN_WORDS, sign, text)],
                            temperature)
    return True


def _notes_apart(builder: Builder, entry: dict[str, Any], words: list[str], notes: list[str]
                 ) -> tuple[list[str], list[str]]:
    """(the entry's words, its notes to read apart): the notes apart when its value denies
    its code's finding (an Observation "Urinary retention" valued no): the value answers its
    code, not the clinician's note beside it, read apart (:func:`read_texts_apart`) with the
    code's own sign: a note may be later than the answer ("14:00 now in retention, unable to
    void"; a review found the first version, which left the code's sign to the value, passed
    it over; "Urinary retention screen done" so noted warns, the safe side). Otherwise the
    notes are the entry's words, read with them, and none apart."""
    if not notes or entry["resourceType"] != "Observation" \
            or status_code(entry, "status") in OBSERVATION_IGNORED \
            or entry_status(entry, builder.record.now, value_answers_the_code(entry)):
        return words + notes, []
    return words, notes


def read_texts_apart(builder: Builder, checked: dict[str, Any], texts: list[str]) -> bool:
    """Words read apart from their entry's codes and value, as a current entry's of its time
    (a note beside a value denying its code, a procedure's or a report's note: record/
    entry_notes): a red flag ("New saddle anaesthesia"), a weak red flag, a temperature
    ("Temp 38.9") or a post-void residual ("PVR 650 ml") they name stands."""
    found = signs(texts)
    if found:
        _add_named_in_words(builder, checked, FactStatus.CURRENT, [
            (uncoded.uncoded_concept(topic), sign, text) for topic, (sign, text) in found.items()])
    weak = _weak_named({}, texts)
    noted = bool(weak) and _add_weak(builder, checked, weak, FactStatus.CURRENT)
    residual = None if Topic.CAUDA_EQUINA in found else residual_of({}, texts)
    measured = residual is not None and add_residual(builder, checked, residual)
    return bool(found) or noted or measured


def _add_named_in_words(builder: Builder, checked: dict[str, Any], status: FactStatus,
                        named: list[tuple[str, str, str]],
                        temperature: Temperature | None = None) -> None:
    """A fact per (concept, sign, text) the entry's words name, dated as its coded facts
    would be: 'Uncoded entry "<text>"', the sign its detail; a ``temperature`` its value in
    Cel."""
    when, latest, floating, start = entry_times(builder, checked)
    for concept, sign, text in named:
        builder.record.facts.append(with_latest(Fact(
            concept=concept, display=f'Uncoded entry "{text}"', source=source_of(checked),
            resource_type=checked["resourceType"], when=when, status=status, detail=sign,
            value=temperature.celsius if temperature else None,
            unit="Cel" if temperature else None,
            comparator=temperature.comparator if temperature else None),
            latest, floating, start))


def _components_standing(entry: dict[str, Any]) -> dict[Topic, tuple[str, str]]:
    """The signs of an Observation's components when its own value denies its code's finding
    ("Cord compression": "No cord compression", component "Foot drop"), those the value
    does not answer for (:func:`components_read`). An entry in error or cancelled keeps
    nothing."""
    if entry["resourceType"] != "Observation" \
            or status_code(entry, "status") in OBSERVATION_IGNORED:
        return {}
    return signs([text for component in components_read(entry, value_answers=True)
                   for text in entry_texts(component)])
