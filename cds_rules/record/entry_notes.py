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
from functools import wraps
from typing import Any

from cds_rules.record.entry_words import notes_as_sent, signs, within_limits
from cds_rules.record.residuals import residual_of, with_residual
from cds_rules.record.state import Builder
from cds_rules.record.status import status_code
from cds_rules.record.uncoded_entries import read_texts_apart
from cds_rules.record.unreadable import set_aside_notes, set_aside_words
from cds_rules.validation import mended, surrogates

NOTES_OF = frozenset({"Procedure", "MedicationRequest", "MedicationStatement",
                      "DiagnosticReport"})
"""The types whose notes this module reads (an order's, ``ServiceRequest.note``, is the
question asked of the test, not read; nor an imaging study's)."""
_WITHDRAWN = frozenset({"entered-in-error", "cancelled"})

Reader = Callable[[Builder, dict[str, Any]], bool]


def with_notes(reader: Reader) -> Reader:
    """``reader`` (a type's reader of codes), then the entry's notes (:func:`read_notes`):
    an entry it set aside as invalid and whose notes are set aside too counts once."""
    @wraps(reader)
    def read(builder: Builder, resource: dict[str, Any]) -> bool:
        before = builder.unreadable_entries
        used = reader(builder, resource)
        if "note" not in resource and "conclusion" not in resource:
            return used
        counted = builder.unreadable_entries
        noted = read_notes(builder, resource)
        if counted > before:
            builder.unreadable_entries = counted  # one entry, counted once
        return noted or used
    return read


def read_notes(builder: Builder, resource: dict[str, Any]) -> bool:
    """The red flags, weak red flags, temperatures and post-void residuals an entry's notes
    (and a report's conclusion) name, as facts of the entry's time. An entry in error or
    cancelled is not read; one whose read elements are not valid R4 has the red flags its
    notes name set aside and named (record/unreadable), as an uncoded entry's are; notes
    past the reading limits (record/entry_words) are not read, and named."""
    sent = _sent_words(resource)
    if not sent or status_code(resource, "status") in _WITHDRAWN:
        return False
    if not within_limits(builder, sum(map(len, sent))):
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
            set_aside_words(builder, resource, found, uncoded_entry=False)
        return False
    return read_texts_apart(builder, checked, texts)


def _sent_words(resource: dict[str, Any]) -> list[str]:
    """An entry's notes' texts and, for a report, its conclusion, as sent."""
    if resource.get("resourceType") not in NOTES_OF:
        return []
    texts = notes_as_sent(resource)
    conclusion = resource.get("conclusion") if resource["resourceType"] == "DiagnosticReport" \
        else None
    if isinstance(conclusion, str) and conclusion.strip():
        texts.append(conclusion)
    return texts
