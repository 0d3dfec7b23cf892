"""Observations: findings (present or absent), quantities in canonical units, and
positive/negative test results.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from cds_rules import valuesets as vs
from cds_rules.model import (
    BACK_PAIN_CONTEXT,
    BINARY_RESULT_CONCEPTS,
    FactStatus,
)
from cds_rules.record.codes import Hit, Side, as_list, codings_of, concept_hits
from cds_rules.record.entry_words import has_no_words
from cds_rules.record.facts import is_worsening, make_fact, with_latest
from cds_rules.record.laterality import laterality_of
from cds_rules.record.negation import (
    INDETERMINATE_INTERPRETATION,
    INDETERMINATE_TEXT,
    NEGATIVE_TEXT,
    POSITIVE_TEXT,
    coded_value_words,
    has_value,
    interpretation_codes,
    panel_denies,
    presence,
)
from cds_rules.record.state import Builder
from cds_rules.record.status import OBSERVATION_IGNORED, status_code
from cds_rules.record.timing import observation_time, too_old
from cds_rules.record.uncoded_entries import read_uncoded, read_words, set_aside_coded
from cds_rules.uncoded import families_of
from cds_rules.units import QUANTITY_CONCEPTS, normalise


def read_observation(builder: Builder, resource: dict[str, Any]) -> bool:
    code_hits = concept_hits(resource.get("code"))
    if not code_hits and _a_test_with_nothing_else_to_read(resource):
        return builder.unrecognised()
    value = resource.get("valueCodeableConcept")
    value_hits = _value_findings(code_hits, value) if value is not None else []
    components = _component_readings(resource)
    if not (code_hits or value_hits or components):
        return read_uncoded(builder, resource)
    component_hits = [h for _, code, named in components for h in (*code, *named)]
    concepts = {h.concept for h in (*code_hits, *value_hits, *component_hits)}
    if too_old(builder, resource, concepts):
        return False
    checked = builder.validated(resource)
    if checked is None:
        set_aside_coded(builder, resource, [*code_hits, *value_hits, *component_hits])
        return False
    if status_code(checked, "status") in OBSERVATION_IGNORED:
        return False
    if checked is not resource:  # projected copy: read hits from it
        components = _component_readings(checked)
    when, latest, floating, start_latest = observation_time(checked, builder)
    side, detail = laterality_of(checked)
    entry = _Entry(checked, when, side, detail, is_worsening(checked))
    before = len(builder.record.facts)
    for hit in code_hits:
        _observed(builder, hit, checked, entry)
    beside_codes = bool(code_hits and value_hits)
    if value_hits:
        _value_named(builder, value_hits, checked, entry)
    for component, code, named in components:
        for hit in code:
            _observed(builder, hit, component, entry)
        if named:
            beside_codes = True
            _value_named(builder, named, component, entry)
    facts = builder.record.facts
    facts[before:] = [with_latest(fact, latest, floating, start_latest)
                      for fact in facts[before:]]
    # the words are read but for the families the entry's codes gave before values beside a
    # code were read: a display naming a red flag the coded rules do not count ("Weakness of
    # the leg" valued under "Low back pain") keeps its uncoded warning
    given = _given_by_codes(code_hits, value_hits, components) if beside_codes else concepts
    stated = {fact.concept for fact in facts[before:]}  # not those its value denies
    words = read_words(builder, checked, given, stated)  # a local coding, the text, a note
    return len(facts) > before or words


# Codes whose value is not a finding of the patient's now: another person's (a family
# history), or what led to something past (a spine operation's or procedure's indication,
# care given). Their values are read as words only, as before.
_NOT_THE_PATIENTS_NOW = frozenset({"family_history_spa", "prior_spine_surgery",
                                   "recent_spinal_procedure", "conservative_care_given"})


# A back pain or sciatica named only in a value under another code ("Type 2 diabetes" valued
# "Low back pain", dated months ago) is left to the words: read as coded, it would date the
# episode's onset (a second review: the malignancy warning's "not improving" then fell
# outside the episode). The red flags among the context concepts are read.
_CONTEXT_ONLY = frozenset(c for c in BACK_PAIN_CONTEXT if not families_of((c,)))


def _value_findings(code_hits: list[Hit], value: object) -> list[Hit]:
    """The concepts a coded value names that the code does not, to be read as findings of
    their own: a red flag coded in the value under a back-pain code was passed over (the
    twenty-first session's note: "Low back pain" valued "Cauda equina syndrome" gave the
    conservative card). A value naming the code's own finding is its answer, read with the
    code. Under a known code, a value is left to its words (as before) when the code is a
    past history ("History of ..."), another person's or a past event's
    (:data:`_NOT_THE_PATIENTS_NOW`), or when the value has words of its own besides its
    displays ("CES ruled out", "? cauda equina syndrome"): read as a finding, the coding
    would overrule them (an independent review, December 2026)."""
    hits = concept_hits(value)
    if not (hits and code_hits):
        return hits
    named = {hit.concept for hit in code_hits}
    if all(hit.history for hit in code_hits) or named & _NOT_THE_PATIENTS_NOW \
            or _words_of_its_own(value):
        return []
    return [hit for hit in hits if hit.concept not in named and hit.concept not in _CONTEXT_ONLY]


def _words_of_its_own(value: object) -> bool:
    """A coded value's text that is not one of its displays."""
    text = value.get("text") if isinstance(value, dict) else None
    if not isinstance(text, str) or not text.strip():
        return False
    displays = {str(c.get("display", "")).strip().lower() for c in codings_of(value)}
    return text.strip().lower() not in displays


def _a_test_with_nothing_else_to_read(resource: dict[str, Any]) -> bool:
    """A lab test or vital sign (LOINC code) no value set knows, with no coded or text
    value and no components: :func:`read_uncoded` would read no word of it (a LOINC code
    names a test, not a finding), so it is counted as unrecognised without the walk. Most
    Observations of a large record are such (#15)."""
    return "component" not in resource and has_no_words(resource)


def _component_readings(observation: dict[str, Any]
                        ) -> list[tuple[dict[str, Any], list[Hit], list[Hit]]]:
    """Each component whose code or coded value a value set knows: (component, its code's
    hits, the findings its value names that its code does not). Most have none."""
    components = observation.get("component")
    if components is None:
        return []
    readings = []
    for component in as_list(components):
        if not isinstance(component, dict):
            continue
        code = concept_hits(component.get("code"))
        value = component.get("valueCodeableConcept")
        named = _value_findings(code, value) if value is not None else []
        if code or named:
            readings.append((component, code, named))
    return readings


class _Entry(NamedTuple):
    """What every fact of one Observation shares."""

    observation: dict[str, Any]
    when: datetime | None
    side: Side | None
    detail: str
    worse: bool


def _given_by_codes(code_hits: list[Hit], value_hits: list[Hit],
                    components: list[tuple[dict[str, Any], list[Hit], list[Hit]]]) -> set[str]:
    """The concepts an entry's codes give (a value's only where the entry has no code of its
    own), so that its words are read for the rest, as before values beside a code were."""
    return {h.concept for h in code_hits or value_hits}.union(
        h.concept for _, code, _ in components for h in code)


def _value_named(builder: Builder, value_hits: list[Hit], holder: dict[str, Any],
                 entry: _Entry) -> None:
    """The findings a coded value names (``holder``: the Observation or a component), of a
    generic "finding" entry or beside a code naming something else ("Low back pain" valued
    "Cauda equina syndrome"; a component "Bladder" valued urinary retention): present unless
    the value says no."""
    if presence(holder) is False:
        return
    for hit in value_hits:
        if hit.concept not in QUANTITY_CONCEPTS:
            builder.record.facts.append(make_fact(
                hit, entry.observation, entry.when, FactStatus.CURRENT, entry.side, entry.detail,
                concept_cc=holder.get("valueCodeableConcept"), worsening=entry.worse))


def _observed(builder: Builder, hit: Hit, holder: dict[str, Any], entry: _Entry) -> None:
    """One recognised code of an Observation (``holder``: it or one of its components): a
    quantity concept needs a usable number, a finding needs to be present."""
    observation, when, side, detail, worse = entry
    if hit.concept in QUANTITY_CONCEPTS:
        if "dataAbsentReason" in holder:
            return
        number = _quantity(hit.concept, holder)
        if number is None:
            if has_value(holder):
                builder.unrecognised_units += 1
            return
        value, unit = number
        builder.record.facts.append(make_fact(hit, observation, when, FactStatus.CURRENT, side,
                                              detail, concept_cc=holder.get("code"), value=value,
                                              unit=unit, worsening=worse,
                                              comparator=_comparator(holder)))
        return
    if hit.concept in BINARY_RESULT_CONCEPTS:
        _binary_result(builder, hit, observation, holder, when)
        return
    if _stated_absent(holder, observation):
        return
    fact = make_fact(hit, observation, when, FactStatus.CURRENT, side, detail,
                     concept_cc=holder.get("code"), worsening=worse)
    if "dataAbsentReason" in holder:  # counted, but the card must say how it was answered
        fact = replace(fact, display=f"{fact.display} (answer recorded as "
                                     f"{_reason_words(holder['dataAbsentReason'])})")
    builder.record.facts.append(fact)


def _reason_words(reason: object) -> str:
    """A dataAbsentReason as the card names it: its codes ("asked-unknown") or its text."""
    if not isinstance(reason, dict):
        return "absent, no reason given"
    codes = [str(c.get("code")) for c in codings_of(reason) if c.get("code")]
    text = reason.get("text")
    return ", ".join(codes) or (text if isinstance(text, str) and text else "no reason given")


def _stated_absent(holder: dict[str, Any], observation: dict[str, Any]) -> bool:
    """Is the finding stated absent (or not recorded)? A component with any value of its own
    ("Yes - 800 ml post-void residual", a quantity, "Unknown") or a dataAbsentReason answers
    for itself (not-asked: no fact; asked-unknown: the fact counts, :func:`presence`); the
    panel's own value (a coded No) speaks for a component only when the component has
    neither, and the panel's dataAbsentReason (the panel has no value) never does; a
    sentence in the panel's value denies the component only when it names the component's
    finding ("No urinary symptoms" does not deny a component "Foot drop")."""
    if holder is observation or "dataAbsentReason" in holder or has_value(holder):
        return presence(holder) is False
    return panel_denies(holder, observation)


def _binary_result(builder: Builder, hit: Hit, observation: dict[str, Any],
                   holder: dict[str, Any], when: datetime | None) -> None:
    """A positive/negative test (HLA-B27): kept either way, value 1.0 positive / 0.0
    negative, because "tested negative" and "never tested" lead to different advice
    (NICE NG65: 3 features and no result -> test). A dataAbsentReason, an indeterminate
    result (:func:`_indeterminate`), or no value and no interpretation at all (a pending
    test), is no result."""
    if "dataAbsentReason" in holder or "dataAbsentReason" in observation:
        return
    if _indeterminate(holder, observation):
        return
    stated = [presence(holder, test_result=True), presence(observation, test_result=True)]
    if all(p is None for p in stated) and not has_value(holder) \
            and "interpretation" not in observation:
        return
    words = _result_words(holder)
    negated = any(NEGATIVE_TEXT.search(text) for text in words)
    if not (True in stated or False in stated or negated) and words \
            and not any(POSITIVE_TEXT.search(text) for text in words):
        return  # words that give no result ("Result: unknown", "Pending", "Test cancelled")
    positive = True in stated or (False not in stated and not negated)  # a code wins over words
    builder.record.facts.append(make_fact(hit, observation, when, FactStatus.CURRENT, None, "",
                                          concept_cc=holder.get("code"),
                                          value=1.0 if positive else 0.0))


def _indeterminate(holder: dict[str, Any], observation: dict[str, Any]) -> bool:
    """Is the result indeterminate, equivocal, inconclusive or unknown: coded so
    (:data:`~cds_rules.valuesets.INDETERMINATE_CODES`: LOINC LA11884-6, SNOMED CT 82334004,
    v2-0078 IND...), said so in its words, or interpreted IND / E? Such a result is neither
    positive nor negative (it was shown as "HLA-B27 (positive)"). A value answered positive
    or negative in a code or a boolean is a result whatever else says."""
    codings = codings_of(holder.get("valueCodeableConcept"))
    if isinstance(holder.get("valueBoolean"), bool) or any(
            vs.is_present_qualifier(c.get("system"), c.get("code"))
            or vs.is_absent_qualifier(c.get("system"), c.get("code")) for c in codings):
        return False
    if any(vs.is_indeterminate(c.get("system"), c.get("code")) for c in codings):
        return True
    if any(INDETERMINATE_TEXT.search(text) for text in _result_words(holder)):
        return True
    return bool((interpretation_codes(holder) | interpretation_codes(observation))
                & INDETERMINATE_INTERPRETATION)


def _result_words(holder: dict[str, Any]) -> list[str]:
    """A test result written in words: ``valueString``, the coded value's text and
    displays ("HLA-B27 not detected")."""
    concept = holder.get("valueCodeableConcept")
    string = holder.get("valueString")
    return ([string] if isinstance(string, str) else []) + coded_value_words(
        concept, codings_of(concept))


# FHIR R4 Quantity.comparator (QuantityComparator): how to understand the value.
_COMPARATORS = frozenset({"<", "<=", ">=", ">"})


def _comparator(holder: dict[str, Any]) -> str | None:
    """The comparator of a ``valueQuantity`` ("<38 Cel": less than 38), or None when the
    value is the measurement. A comparator FHIR does not define is not read (the value
    is taken as measured, as before)."""
    quantity = holder.get("valueQuantity")
    comparator = quantity.get("comparator") if isinstance(quantity, dict) else None
    return comparator if comparator in _COMPARATORS else None


def _quantity(concept: str, holder: dict[str, Any]) -> tuple[float, str] | None:
    quantity = holder.get("valueQuantity")
    if isinstance(quantity, dict):
        return normalise(concept, quantity.get("value"), quantity.get("code"),
                         quantity.get("unit"))
    integer = holder.get("valueInteger")
    if isinstance(integer, int) and not isinstance(integer, bool):
        return normalise(concept, integer)
    text = holder.get("valueString")
    if isinstance(text, str):
        match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([+-]?)\s*$", text)
        if match:
            return normalise(concept, float(match[1]))
    for coding in codings_of(holder.get("valueCodeableConcept")):  # e.g. MRC grade as a code
        code = coding.get("code")
        if isinstance(code, str) and re.fullmatch(r"\d(?:\.\d+)?", code.strip()):
            return normalise(concept, float(code))
    return None
