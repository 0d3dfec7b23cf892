"""Entries a reader failed on: a fault in the service, counted apart, named, never passed over.

Data that is not valid FHIR is dropped by validation (``skippedInvalid``) and its red flags
set aside (:mod:`cds_rules.record.unreadable`). A reader that *raises* has met data it was
not written for, or has a bug: the fault is the service's. Before, such an entry was counted
as "dropped as invalid" and nothing else: issue 15's mypyc spike turned one checker/CPython
gap into a TypeError on every ICD-10 code, and every Condition so coded vanished, the
critical card of a G83.4 cauda equina syndrome with it, with only that count moving.

Now such an entry is counted as ``readerFaults`` (the audit, the resources-dropped metric's
``reader-fault`` reason, the preview page); every card says how many entries were not read
and asks for the chart to be checked; what a red-flag family reads, named by the entry's
codes or words, is set aside as a malformed entry's is (``PatientRecord.unreadable_red_flags``:
no card says "no red flag" over it). The log gets one line per record naming the reader, the
exception's type and where it was raised: never its text, which may hold the patient's data.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from contextlib import suppress
from typing import Any

from cds_rules.record.codes import Hit, concept_hits, concepts_list
from cds_rules.record.state import Builder
from cds_rules.record.uncoded_entries import signs_in
from cds_rules.record.unreadable import set_aside, set_aside_words

log = logging.getLogger(__name__)

FAULT = "not read: a fault in the service"  # the entry's detail on the cards and the audit
_BUILD = "record"  # the kind noted when the build itself failed (no one entry to blame)
# the elements whose codes a reader reads for a red flag (the entry's own, its value, its
# components', a report's conclusions, a medicine's)
_CODED = ("code", "valueCodeableConcept", "medicationCodeableConcept")


def note_fault(builder: Builder, reader: str, error: Exception,
               resource: dict[str, Any] | None) -> None:
    """Count the fault, keep its reader, type and place for the log, and set aside the
    red flags ``resource`` names (None: the build itself failed, no entry to name)."""
    builder.quality.reader_faults += 1
    kind = str(resource.get("resourceType", "Resource")) if resource is not None else _BUILD
    builder.reader_faults.append((reader, type(error).__name__, _raised_at(error), kind))
    if resource is None:
        return
    try:
        _set_aside_named(builder, resource)
    except Exception:  # naming it failed too: the count and the gap line still say it
        return


def gap(builder: Builder) -> str:
    """The line every card carries while any entry (or the record) was not read for a fault."""
    kinds = [kind for *_, kind in builder.reader_faults if kind != _BUILD]
    said = []
    if kinds:
        entries, records = ("entry", "it records") if len(kinds) == 1 else \
            ("entries", "they record")
        said.append(f"{len(kinds)} {entries} ({', '.join(dict.fromkeys(kinds))}) not read "
                    f"because of a fault in the service (logged for its operators): what "
                    f"{records} is read by no rule")
    if len(kinds) < len(builder.reader_faults):
        said.append("the record was read only in part because of a fault in the service "
                    "(logged for its operators): what was not read is read by no rule")
    return "; ".join(said) + "; check the chart"


def log_faults(builder: Builder) -> None:
    """One WARNING line for the record: reader, exception type, place, and how often."""
    counted = Counter((reader, name, where) for reader, name, where, _ in builder.reader_faults)
    log.warning("record: %d entr%s not read, a reader raised (a fault in the service): %s",
                builder.quality.reader_faults, "y" if builder.quality.reader_faults == 1
                else "ies", "; ".join(f"{reader} raised {name} at {where} (x{times})"
                                      for (reader, name, where), times in counted.items()))


def _set_aside_named(builder: Builder, resource: dict[str, Any]) -> None:
    """Its red flags by code, else by words: the code lookup may be what failed (the
    spike's TypeError on every ICD-10 code), and a display still names the sign."""
    before = builder.unreadable_entries
    with suppress(Exception):  # the codes cannot be looked up: the words may still say it
        set_aside(builder, resource, _coded_hits(resource), detail=FAULT)
    if builder.unreadable_entries == before:
        words = signs_in(resource)
        if words:
            set_aside_words(builder, resource, words, detail=FAULT)


def _coded_hits(resource: dict[str, Any]) -> list[Hit]:
    hits = [hit for name in _CODED for hit in concept_hits(resource.get(name))]
    for component in resource.get("component") or ():
        if isinstance(component, dict):
            hits += [*concept_hits(component.get("code")),
                     *concept_hits(component.get("valueCodeableConcept"))]
    for concept in concepts_list(resource.get("conclusionCode")):
        hits += concept_hits(concept)
    return hits


def _raised_at(error: Exception) -> str:
    """``module.py:line in function`` of the innermost frame: where to look, no data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}"
