"""Uncoded entries: a red flag named only in the text of a Condition or Observation no value
set knows (:mod:`cds_rules.uncoded`).
"""

from __future__ import annotations

from typing import Any

from cds_rules import uncoded
from cds_rules import valuesets as vs
from cds_rules.fhir_time import (
    first_time_span,
)
from cds_rules.model import (
    Fact,
    Topic,
)
from cds_rules.record.codes import codings_of, source_of
from cds_rules.record.facts import with_latest
from cds_rules.record.negation import negated_text
from cds_rules.record.state import Builder
from cds_rules.record.status import current_entry
from cds_rules.record.timing import condition_time


def read_uncoded(builder: Builder, resource: dict[str, Any]) -> bool:
    """A Condition or Observation no value set knows: counted as unrecognised, but a red
    flag its text names (not negated) becomes an ``uncoded:<topic>`` fact, so that it is
    never silently ignored (:mod:`cds_rules.uncoded`)."""
    builder.unrecognised()
    found: dict[Topic, tuple[str, str]] = {}
    for text in _entry_texts(resource):
        for topic, sign in uncoded.suggested(text, negated_text):
            found.setdefault(topic, (sign, text))
    if not found:
        return False
    checked = builder.validated(resource)
    if checked is None or not current_entry(checked, builder.record.now):
        return False
    if checked["resourceType"] == "Condition":
        when, latest = condition_time(checked, builder.record.birth_date)
    else:
        when, latest = first_time_span(checked, "effectiveDateTime", "effectivePeriod",
                                       "effectiveInstant", "issued")
    for topic, (sign, text) in found.items():
        builder.record.facts.append(with_latest(Fact(
            concept=uncoded.uncoded_concept(topic), display=f'Uncoded entry "{text}"',
            source=source_of(checked), resource_type=checked["resourceType"], when=when,
            detail=sign), latest))
    return True


def _entry_texts(resource: dict[str, Any]) -> list[str]:
    """The words of an entry's code (and an Observation's value): text and displays. A
    LOINC code names a test, not a finding ("Cancer Ag 125"): only its value is read."""
    texts: list[str] = []
    code = resource.get("code")
    codings = codings_of(code)
    if not _names_a_test(codings):
        _add_words(texts, code, codings)
    value = resource.get("valueCodeableConcept")
    if value is not None:
        _add_words(texts, value, codings_of(value))
    if isinstance(resource.get("valueString"), str):
        texts.append(resource["valueString"])
    return texts


def has_no_words(resource: dict[str, Any]) -> bool:
    """Would :func:`_entry_texts` find no word in ``resource`` (a test's code, no coded or
    text value)? Kept next to it: whatever it comes to read must be added here too (the
    record builder skips the walk for such entries; a test holds the two together)."""
    return ("valueCodeableConcept" not in resource and "valueString" not in resource
            and _names_a_test(codings_of(resource.get("code"))))


def _names_a_test(codings: list[dict[str, Any]]) -> bool:
    """Is any coding a LOINC code? The system is read as the value sets read it (aliases,
    spaces, a trailing "/"), so "http://loinc.org/" names a test too."""
    for coding in codings:
        system = coding.get("system")
        if system == vs.LOINC or vs.normalise_system(system) == vs.LOINC:
            return True
    return False


def _add_words(texts: list[str], concept: object, codings: list[dict[str, Any]]) -> None:
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        texts.append(concept["text"])
    texts.extend(c["display"] for c in codings if isinstance(c.get("display"), str))


