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
``reader-fault`` reason, the preview page), every card says it was not read and asks for
the chart to be checked, and what a red-flag family reads named by its codes or words is
set aside as a malformed entry's is (``PatientRecord.unreadable_red_flags``: no card says
"no red flag" over it); when even its codes cannot be looked up, the entry itself is set
aside. The log gets one line per record naming the reader, the exception's type and where
it was raised, never its text (it may hold the patient's data).
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from typing import Any

from cds_rules.record.codes import Hit, concept_hits, concepts_list
from cds_rules.record.medications import medication_hits
from cds_rules.record.state import Builder
from cds_rules.record.uncoded_entries import signs_in
from cds_rules.record.unreadable import entry_type, set_aside, set_aside_unread, set_aside_words

log = logging.getLogger(__name__)

FAULT = "a fault in the service"  # why the entry was not read, on the cards and the audit
_BUILD = "record"  # the kind noted when the build itself failed (no one entry to blame)
# the elements whose codes a reader reads for a red flag, besides a medicine's
_CODED = ("code", "valueCodeableConcept")

# What readers may have changed before one raised (:func:`mark`, :func:`undo`).
Mark = tuple[int, int, int, int, int, int, int, int, Any, Any, bool]


def mark(builder: Builder) -> Mark:
    """The record's state before readers run: the lengths of what they append to, the
    counters they move, what the Patient reader sets."""
    record, quality = builder.record, builder.record.quality
    return (len(record.facts), len(record.orders), len(record.unreadable_red_flags),
            builder.unreadable_entries, quality.resources_used, quality.skipped_invalid,
            quality.unrecognised_codes, builder.unrecognised_units, record.birth_date,
            record.sex, record.deceased)


def undo(builder: Builder, before: Mark, resource: dict[str, Any] | None) -> None:
    """Back to ``before``: a half-read entry must reach no rule (a fact without its latest
    time, a fact read but said not read). New lists, so the record's cache of its concepts
    (kept by the list's identity) is not stale. ``resource``: the one entry read since."""
    record, quality = builder.record, builder.record.quality
    facts, orders, flags, entries, used, invalid, unrecognised, units, *patient = before
    record.facts = record.facts[:facts]
    record.orders = record.orders[:orders]
    record.unreadable_red_flags = record.unreadable_red_flags[:flags]
    builder.unreadable_entries = entries
    quality.resources_used, quality.skipped_invalid = used, invalid
    quality.unrecognised_codes = unrecognised
    builder.unrecognised_units = units
    record.birth_date, record.sex, record.deceased = patient
    if resource is not None:
        builder.mended.pop(id(resource), None)


def note_fault(builder: Builder, reader: str, error: Exception,
               resource: dict[str, Any] | None) -> None:
    """Count the fault, keep its reader, type and place for the log, and set aside what
    ``resource`` names (None: the build itself failed, no entry to name)."""
    builder.quality.reader_faults += 1
    kind = entry_type(resource) if resource is not None else _BUILD
    builder.faults.append((reader, type(error).__name__, _raised_at(error), kind))
    if resource is None or kind == "Patient":  # a Patient names no red flag: its own line
        return
    try:
        _set_aside_named(builder, resource)
    except Exception:  # naming it failed too: the count and the gap line still say it
        return


def gap(builder: Builder) -> str:
    """The line every card carries while an entry (or the record) was not read for a fault."""
    kinds = [kind for *_, kind in builder.faults]
    said = []
    entries = [kind for kind in kinds if kind not in (_BUILD, "Patient")]
    if "Patient" in kinds:
        said.append("the Patient entry was not read because of a fault in the service "
                    "(logged for its operators): check the patient's age and that they are "
                    "alive before acting on any card")
    if entries:
        if len(entries) == 1:
            counted, records = "1 entry", "it records"
        else:
            counted, records = f"{len(entries)} entries", "they record"
        said.append(f"{counted} ({', '.join(dict.fromkeys(entries))}) not read because of a "
                    f"fault in the service (logged for its operators): what {records} is read "
                    "by no rule")
    if _BUILD in kinds:
        said.append("the record was read only in part because of a fault in the service "
                    "(logged for its operators): what was not read is read by no rule")
    return "; ".join(said) + "; check the chart"


def log_faults(builder: Builder) -> None:
    """One WARNING line for the record: reader, exception type, place, and how often."""
    counted = Counter((reader, name, where) for reader, name, where, _ in builder.faults)
    faults = "; ".join(f"{reader} raised {name} at {where} (x{times})"
                       for (reader, name, where), times in counted.items())
    count = builder.quality.reader_faults
    log.warning("record: %d %s not read, a reader raised (a fault in the service): %s",
                count, "entry" if count == 1 else "entries", faults)


def _set_aside_named(builder: Builder, resource: dict[str, Any]) -> None:
    """Its red flags by code, else by words; when its codes cannot even be looked up (the
    spike's TypeError on every ICD-10 code) and no word names one, the entry itself."""
    before = builder.unreadable_entries
    try:
        set_aside(builder, resource, _coded_hits(builder, resource), detail=FAULT)
        looked_up = True
    except Exception:  # the codes cannot be looked up: the words may still say it
        looked_up = False
    if builder.unreadable_entries == before:
        words = signs_in(resource)
        if words:
            set_aside_words(builder, resource, words, detail=FAULT)
    if builder.unreadable_entries == before and not looked_up:
        set_aside_unread(builder, resource, FAULT)


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


def _raised_at(error: Exception) -> str:
    """``module.py:line in function`` of the innermost frame, and of the innermost frame in
    the clinical core when that is another (a library's frame says little): no data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    places = [frames[-1]]
    core = [f for f in frames if "/cds_rules/" in f.filename.replace("\\", "/")]
    if core and core[-1] is not frames[-1]:
        places.append(core[-1])
    return " via ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                        for f in places)
