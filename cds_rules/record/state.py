"""The mutable state of one record build: the record under construction and its counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from cds_rules.model import (
    DataQuality,
    PatientRecord,
)
from cds_rules.record import structure
from cds_rules.record.codes import readable_notes
from cds_rules.settings import DEFAULT_SETTINGS
from cds_rules.validation import MendedText, surrogates

NOTES_READ = frozenset({"Condition", "Observation"})
"""The types whose notes (``Annotation.text``) are read with their words: outside the R4B
check, so that a malformed note never costs the entry (and its coded red flag) as invalid."""

# resource -> its read elements when valid R4B, else None (cds_rules.validation.validated)
Validator = Callable[[dict[str, Any]], dict[str, Any] | None]


class Fault(NamedTuple):
    """An entry a reader raised on (record.reader_faults): what the log and the cards say
    of it, never the exception's text."""

    reader: str
    error: str  # the exception's type
    where: str  # file:line in function
    kind: str  # the entry's resource type, or "record" when the build itself failed
    names: tuple[str, ...]  # the red flags set aside for it, by name


@dataclass(slots=True)
class Builder:
    """Mutable state of one build: the record under construction and the counters."""

    record: PatientRecord
    patient_id: str
    medications: dict[str, dict[str, Any]] = field(default_factory=dict)
    unrecognised_units: int = 0
    unreadable_entries: int = 0  # entries set aside as unreadable (record.unreadable)
    context_in_words: bool = False  # a back pain named in words (record/uncoded_entries)
    faults: list[Fault] = field(default_factory=list)  # record.reader_faults
    # resource (by identity) -> its lone surrogates read as U+FFFD (validation.MendedText)
    mended: dict[int, int] = field(default_factory=dict)
    # concept -> readings older than this cannot change any rule (:func:`reading_cutoffs`)
    cutoffs: dict[str, datetime] = field(default_factory=dict)
    # product text -> medication concepts named in it (medications._concepts_for_text)
    medication_texts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the fast path; tests pass cds_rules.validation.validated (the reference) to compare
    check: Validator = structure.validated
    # a post-void residual named as a red flag in an entry set aside unread (its volume is
    # not kept for the rule to judge): the site's CES_RESIDUAL_URINE_ML
    residual_urine_ml: float = DEFAULT_SETTINGS.ces_residual_urine_ml
    # characters of entries' words read so far (record/entry_words.CALL_WORDS_READ)
    words_read: int = 0
    # ... and of their notes (record/entry_words.CALL_NOTES_READ)
    notes_read: int = 0

    @property
    def quality(self) -> DataQuality:
        return self.record.quality

    def unrecognised(self) -> bool:
        """Count a resource none of whose codes any rule reads; False: nothing was added."""
        self.quality.unrecognised_codes += 1
        return False

    def validated(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """``resource`` checked against its R4B model, or None, counted as skipped."""
        checked = self.check(resource)
        if checked is None:
            self.quality.skipped_invalid += 1
            return None
        self.noting_mended(resource, checked)
        if "note" in resource and resource["resourceType"] in NOTES_READ:
            checked["note"] = resource["note"]  # read leniently (entry_words.note_texts)
            broken = sum(surrogates(note["text"]) for note in readable_notes(resource))
            if broken:  # read as U+FFFD by note_texts: counted with the entry's own
                self.mended[id(resource)] = getattr(checked, "mended", 0) + broken
        return checked

    def noting_mended(self, resource: dict[str, Any],
                      checked: dict[str, Any] | None) -> dict[str, Any] | None:
        """``checked``; if its text was mended, counted once per resource."""
        if type(checked) is MendedText:
            self.mended[id(resource)] = checked.mended
        return checked

