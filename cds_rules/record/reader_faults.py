"""Entries a reader failed on: a fault in the service, counted apart, named, never passed over.

Data that is not valid FHIR is mostly dropped by validation (``skippedInvalid``) and its red
flags set aside (:mod:`cds_rules.record.unreadable`). A reader that *raises* has met data it
was not written for (invalid data included: a reader looks up codes before it validates),
or has a bug. Before, such an entry was counted as "dropped as invalid" and nothing else:
issue 15's mypyc spike turned one checker/CPython gap into a TypeError on every ICD-10 code,
and every Condition so coded vanished, the critical card of a G83.4 cauda equina syndrome
with it, with only that count moving.

Now what the reader did before it raised is undone (a half-read entry is not read), the
entry is counted as ``readerFaults`` (the audit, the resources-dropped metric's
``reader-fault`` reason, the preview page), and it is set aside
(``PatientRecord.unreadable_red_flags``: no card says "no red flag" over it; on a record
with no back pain read, the conservative card's check-first form is given alone, as the
entry may have been the back pain: PATHWAY.md 2): by the red flags its codes or words
name, else as itself ("an unread Observation entry": it may be a temperature). Every card
names it and asks for the chart to be checked. The log gets one line per record naming the
reader, the exception's type and where it was raised, never its text (it may hold the
patient's data).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, NamedTuple

from cds_rules.failures import raised_at
from cds_rules.model import FAULT, SYMPTOM_CONCEPTS, UNREAD, Fact
from cds_rules.record.codes import Hit, concept_hits, concepts_list
from cds_rules.record.entry_words import WordsTooLong
from cds_rules.record.medications import medication_hits
from cds_rules.record.state import Builder, Fault
from cds_rules.record.uncoded_entries import signs_in
from cds_rules.record.unreadable import (
    entry_type,
    listed_labels,
    set_aside,
    set_aside_unread,
    set_aside_words,
)

log = logging.getLogger(__name__)

_BUILD = "record"  # the kind noted when the build itself failed (no one entry to blame)
# the elements whose codes a reader reads for a red flag, besides a medicine's
_CODED = ("code", "valueCodeableConcept")


class Mark(NamedTuple):
    """What readers may change, as it was before they ran (:func:`mark`, :func:`undo`). A
    named tuple: a frozen dataclass cost 1 % of a small call's instructions (#15)."""

    facts: int
    orders: int
    flags: int
    drafts: int
    malformed_entries: int
    resources_used: int
    skipped_invalid: int
    unrecognised_codes: int
    unrecognised_units: int
    birth_date: datetime | None
    sex: Literal["male", "female", "other", "unknown"]
    deceased: bool
    words_read: int
    notes_read: int


def mark(builder: Builder) -> Mark:
    """The record's state before readers run: the lengths of what they append to, the
    counters they move, what the Patient reader sets."""
    record, quality = builder.record, builder.record.quality
    return Mark(len(record.facts), len(record.orders), len(record.unreadable_red_flags),
                len(record.unread_drafts), builder.unreadable_entries, quality.resources_used,
                quality.skipped_invalid, quality.unrecognised_codes, builder.unrecognised_units,
                record.birth_date, record.sex, record.deceased, builder.words_read,
                builder.notes_read)


def undo(builder: Builder, before: Mark, resource: dict[str, Any] | None) -> None:
    """Back to ``before``: a half-read entry must reach no rule (a fact without its latest
    time, a fact read but said not read). New lists, so the record's cache of its concepts
    (kept by the list's identity) is not stale. ``resource``: the one entry read since."""
    record, quality = builder.record, builder.record.quality
    record.facts = record.facts[:before.facts]
    record.orders = record.orders[:before.orders]
    record.unreadable_red_flags = record.unreadable_red_flags[:before.flags]
    record.unread_drafts = record.unread_drafts[:before.drafts]
    builder.unreadable_entries = before.malformed_entries
    quality.resources_used = before.resources_used
    quality.skipped_invalid = before.skipped_invalid
    quality.unrecognised_codes = before.unrecognised_codes
    builder.unrecognised_units = before.unrecognised_units
    record.birth_date, record.sex, record.deceased = (before.birth_date, before.sex,
                                                      before.deceased)
    builder.words_read = before.words_read
    builder.notes_read = before.notes_read
    if resource is not None:
        builder.mended.pop(id(resource), None)


def note_fault(builder: Builder, reader: str, error: Exception,
               resource: dict[str, Any] | None, set_aside_as: SetAside | None = None) -> None:
    """Count the fault, keep its reader, type and place for the log, and set aside the
    entry (None: the build itself failed, no entry to name). ``set_aside_as``: how, when
    not by its red flags (a draft order: record/orders.set_aside_draft)."""
    builder.quality.reader_faults += 1
    kind = entry_type(resource) if resource is not None else _BUILD
    names: tuple[str, ...] = ()
    if isinstance(error, WordsTooLong) and set_aside_as is None:
        set_aside_as = _set_aside_unread_words  # its words past the reading's limits
    if resource is not None and kind != "Patient":  # a Patient names no red flag
        try:
            names = (set_aside_as or _set_aside)(builder, resource, FAULT)
        except Exception as failure:  # counted and on the fault line all the same
            log.warning("record: setting aside an entry not read raised %s at %s",
                        type(failure).__name__, raised_at(failure))
    builder.faults.append(Fault(reader, type(error).__name__, raised_at(error), kind, names))


# sets aside an entry not read for a fault (the builder, the entry, why): the names it gave
SetAside = Callable[[Builder, dict[str, Any], str], tuple[str, ...]]


def gap(builder: Builder, *, for_audit: bool = False) -> str:
    """The line every card carries while an entry (or the record) was not read for a fault.
    ``for_audit``: the entries counted by type, not named by their own text."""
    kinds = [fault.kind for fault in builder.faults]
    said = []
    if "Patient" in kinds:
        said.append("the Patient entry was not read because of a fault in the service "
                    "(logged for its operators): check the patient's age and that they are "
                    "alive before acting on any card")
    entries = [fault for fault in builder.faults if fault.kind not in (_BUILD, "Patient")]
    faults = [fault for fault in entries if fault.error != _TOO_LONG]
    if faults:
        said.append(_entries_not_read(faults, named=not for_audit))
    if len(faults) < len(entries):
        said.append(_entries_not_read([f for f in entries if f.error == _TOO_LONG],
                                      named=not for_audit, why=_TOO_LONG_WHY))
    if _BUILD in kinds:
        said.append("the record was read only in part because of a fault in the service "
                    "(logged for its operators): what was not read is read by no rule")
    return "; ".join(said) + "; check the chart"


def log_faults(builder: Builder) -> None:
    """One WARNING line for the record: reader, exception type, place, and how often."""
    counted = Counter((f.reader, f.error, f.where) for f in builder.faults)
    faults = "; ".join(f"{reader} raised {name} at {where} (x{times})"
                       for (reader, name, where), times in counted.items())
    count = builder.quality.reader_faults
    log.warning("record: %d %s not read, a reader raised (a fault in the service, or %s: "
                "words past what a call reads): %s", count, "entry" if count == 1 else
                "entries", _TOO_LONG, faults)


def log_passing_fault(error: Exception) -> None:
    """A reader raised once, then read every entry when asked again: nothing was lost, but
    a fault that comes and goes (a shared cache, a race) must leave a trace."""
    log.warning("record: a reader raised %s at %s, then not when the entries were read "
                "again: nothing left out", type(error).__name__, raised_at(error))


_TOO_LONG = WordsTooLong.__name__
_TOO_LONG_WHY = ("because of the length of their words: longer than the service reads in one "
                 "call (logged for its operators)")
_FAULT_WHY = "because of a fault in the service (logged for its operators)"


def _entries_not_read(entries: list[Fault], named: bool = True, why: str = _FAULT_WHY) -> str:
    """ "3 entries not read ...: Cauda equina syndrome (Condition entry); 2 Observation
    entries; ...": those naming a red flag first, by name (when ``named``), the others
    counted by type (:func:`~cds_rules.record.unreadable.listed_labels`)."""
    named_entries = Counter(f"{', '.join(f.names)} ({f.kind} entry)"
                            for f in entries if f.names and named)
    unnamed = Counter(f.kind for f in entries if not (f.names and named))
    listed = listed_labels([*named_entries.items(), *(
        (f"{n} {kind} {'entry' if n == 1 else 'entries'}", n) for kind, n in unnamed.items())])
    counted, records = (("1 entry", "it records") if len(entries) == 1
                        else (f"{len(entries)} entries", "they record"))
    return f"{counted} not read {why}: {listed}; what {records} is read by no rule"


def _set_aside_unread_words(builder: Builder, resource: dict[str, Any],
                            why: str) -> tuple[str, ...]:
    """:func:`_set_aside` by its codes alone: its words are past what a call reads
    (record/entry_words.WordsTooLong)."""
    return _set_aside(builder, resource, why, read_words=False)


def _set_aside(builder: Builder, resource: dict[str, Any], why: str,
               read_words: bool = True) -> tuple[str, ...]:
    """By its red flags' codes, and its words unless its codes named a red flag (a back
    pain coded "M54.50" whose text says "with new urinary retention") or ``read_words`` is
    False; failing both (nothing named, or the lookups themselves raised, as the spike's
    TypeError on every ICD-10 code did), as itself. The names of what was set aside."""
    record = builder.record
    before = len(record.unreadable_red_flags)

    def added() -> list[Fact]:
        return record.unreadable_red_flags[before:]
    try:
        set_aside(builder, resource, _coded_hits(builder, resource), detail=why)
    except Exception:  # the codes cannot be looked up: the words may still say it
        record.unreadable_red_flags = record.unreadable_red_flags[:before]
    coded = len(record.unreadable_red_flags)
    try:
        if read_words and all(f.concept in SYMPTOM_CONCEPTS for f in added()):
            words = signs_in(resource, builder.residual_urine_ml)
            if words:
                set_aside_words(builder, resource, words, detail=why, uncoded_entry=False)
    except Exception:  # nor can the words be read
        record.unreadable_red_flags = record.unreadable_red_flags[:coded]
    if not added():
        set_aside_unread(builder, resource, why)
    return tuple(f.display for f in added() if f.concept != UNREAD)


def _coded_hits(builder: Builder, resource: dict[str, Any]) -> list[Hit]:
    """What the readers look up in the entry: its code and value, its components', a
    report's conclusions, a medicine's code, Medication and words."""
    if str(resource.get("resourceType")).startswith("Medication"):
        return medication_hits(builder, resource)
    hits = [hit for name in _CODED for hit in concept_hits(resource.get(name))]
    for component in resource.get("component") or ():
        if isinstance(component, dict):
            hits += [*concept_hits(component.get("code")),
                     *concept_hits(component.get("valueCodeableConcept"))]
    for concept in concepts_list(resource.get("conclusionCode")):
        hits += concept_hits(concept)
    return hits
