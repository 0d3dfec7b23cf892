"""The notes of entries the rules read by their codes: a procedure's, a medicine's, a
report's, and a report's conclusion. A clinician writes what happened there ("Post-op
urinary retention, catheterised" on a discectomy; "Stopped: urinary retention" on an
amitriptyline; "Compression of the cauda equina at L4/5" concluding an MRI report): read as
an uncoded entry's words are (record/uncoded_entries), apart from the entry's codes, each
sentence with its own denials. Conditions' and Observations' notes are read with their
other words (record/entry_words).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from cds_rules.fhir_time import parse_datetime
from cds_rules.record.codes import readable_notes
from cds_rules.record.entry_words import notes_within_limits, signs
from cds_rules.record.residuals import residual_of, with_residual
from cds_rules.record.state import Builder
from cds_rules.record.timing import dated_at, entry_times
from cds_rules.record.uncoded_entries import read_texts_apart
from cds_rules.record.unreadable import notes_withdrawn, set_aside_notes, set_aside_words
from cds_rules.validation import mended, surrogates

NOTES_OF = frozenset({"Procedure", "MedicationRequest", "MedicationStatement",
                      "DiagnosticReport"})
"""The types whose notes this module reads (an order's, ``ServiceRequest.note``, is the
question asked of the test, not read; nor an imaging study's)."""

Reader = Callable[[Builder, dict[str, Any]], bool]


def with_notes(reader: Reader) -> Reader:
    """``reader`` (a type's reader of codes), then the entry's notes (:func:`read_notes`):
    an entry it set aside as invalid and whose notes are set aside too counts once."""
    @wraps(reader)
    def read(builder: Builder, resource: dict[str, Any]) -> bool:
        if "note" not in resource and "conclusion" not in resource:
            return reader(builder, resource)  # the common case
        before, skipped = builder.unreadable_entries, builder.quality.skipped_invalid
        used = reader(builder, resource)
        counted = builder.unreadable_entries
        noted = read_notes(builder, resource,
                           counted_invalid=builder.quality.skipped_invalid > skipped)
        if counted > before:
            builder.unreadable_entries = counted  # one entry, counted once
        return noted or used
    return read


def read_notes(builder: Builder, resource: dict[str, Any], counted_invalid: bool = False
               ) -> bool:
    """The red flags, weak red flags, temperatures and post-void residuals an entry's notes
    (and a report's conclusion) name, as facts of the note's time (its own, else the
    entry's: a note written today on a medicine started last year is today's). An entry in
    error or cancelled is not read; one whose read elements are not valid R4 has the red
    flags its notes name set aside and named (record/unreadable), as an uncoded entry's are,
    and is counted as skipped unless its reader counted it (``counted_invalid``); notes past
    the reading limits (record/entry_words) are not read, and named."""
    sent = _sent_words(resource)
    if not sent or notes_withdrawn(resource):
        return False
    if not notes_within_limits(builder, sum(map(len, sent))):
        set_aside_notes(builder, resource)  # its codes are read: named, not set aside whole
        return False
    texts = [mended(text) for text in sent]
    broken = sum(map(surrogates, sent))
    if broken:  # read as U+FFFD: counted with what the entry's reader found
        builder.mended[id(resource)] = builder.mended.get(id(resource), 0) + broken
    checked = builder.check(resource)
    if checked is None:
        found = with_residual(builder.residual_urine_ml, signs(texts), residual_of({}, texts))
        if found:
            builder.quality.skipped_invalid += 0 if counted_invalid else 1
            set_aside_words(builder, resource, found, uncoded_entry=False)
        return False
    read = False
    for moment, dated_texts in _by_time(builder, checked, resource, texts).items():
        dated = checked if moment is None else dated_at(checked, moment)
        read = read_texts_apart(builder, dated, dated_texts) or read
    return read


def _by_time(builder: Builder, checked: dict[str, Any], resource: dict[str, Any],
             texts: list[str]) -> dict[str | None, list[str]]:
    """The texts (in :func:`_sent_words`' order) by their note's own time when it is later
    than the entry's and not after now (None: the entry's time; a report's conclusion is the
    report's). An earlier note time is the entry's (a note dated before its report cannot
    push its finding out of a window), a later one than now too (a review: a note dated
    ahead of the clock dropped its red flag under "no red flag")."""
    times = [note.get("time") for note in readable_notes(resource)]
    began = entry_times(builder, checked)[0]
    latest = builder.record.now + timedelta(minutes=builder.record.clock_tolerance_minutes)
    grouped: dict[str | None, list[str]] = {}
    for index, text in enumerate(texts):
        moment = times[index] if index < len(times) else None
        when = parse_datetime(moment) if isinstance(moment, str) else None
        later = when is not None and (began is None or when > began) and when <= latest
        grouped.setdefault(moment if later else None, []).append(text)
    return grouped


def _sent_words(resource: dict[str, Any]) -> list[str]:
    """An entry's notes' texts and, for a report, its conclusion, as sent."""
    if resource.get("resourceType") not in NOTES_OF:
        return []
    texts = [note["text"] for note in readable_notes(resource)]
    conclusion = resource.get("conclusion") if resource["resourceType"] == "DiagnosticReport" \
        else None
    if isinstance(conclusion, str) and conclusion.strip():
        texts.append(conclusion)
    return texts
