"""Building the record: resources sorted by patient and type, each read by its reader; what a
reader that raises did is undone, and the entry named (record/reader_faults).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cds_rules.back_pain_words import IN_WORDS
from cds_rules.bundles import reference_of, refers_to_patient, resources_from
from cds_rules.fhir_time import (
    as_utc,
)
from cds_rules.model import FAULT, SYMPTOM_CONCEPTS, UNREAD, Fact, FactStatus, PatientRecord
from cds_rules.record import reader_faults, structure, unreadable
from cds_rules.record.conditions import read_condition
from cds_rules.record.entry_notes import with_notes
from cds_rules.record.medications import read_medication
from cds_rules.record.observations import read_observation
from cds_rules.record.orders import (
    read_diagnostic_report,
    read_draft_order,
    read_imaging_study,
    read_procedure,
    read_service_request,
    set_aside_draft,
)
from cds_rules.record.patient import read_patient
from cds_rules.record.state import Builder, Validator
from cds_rules.record.timing import reading_cutoffs, require_aware
from cds_rules.validation import mended, mended_text, mended_text_gap
from cds_rules.validation import validated as reference_validated

if TYPE_CHECKING:
    from cds_rules.call import HookRequest
    from cds_rules.settings import RuleSettings


def build_record(request: HookRequest, now: datetime, settings: RuleSettings) -> PatientRecord:
    """Build the record the rules read. Never raises, whatever ``request`` holds.

    ``now`` is the request time, a timezone-aware datetime: anything else is the caller's
    bug and raises (TypeError; ValueError when naive) rather than silently yielding no
    cards. ``settings`` gives the windows of :func:`reading_cutoffs`: readings no rule
    can use are skipped before validation. Resources are validated on the fast path
    (:mod:`cds_rules.record.structure`).
    """
    return _build_record(request, now, settings, structure.validated)


def reference_record(request: HookRequest, now: datetime,
                     settings: RuleSettings) -> PatientRecord:
    """:func:`build_record` with every resource validated by its ``fhir.resources`` model:
    the reference the fast path is tested against."""
    return _build_record(request, now, settings, reference_validated)


def _build_record(request: HookRequest, now: datetime, settings: RuleSettings,
                  check: Validator) -> PatientRecord:
    moment = as_utc(require_aware(now))
    patient_id = getattr(request, "patient_id", "")
    patient_id = patient_id if isinstance(patient_id, str) else str(patient_id or "")
    record = PatientRecord(patient_id=patient_id, now=moment,
                           clock_tolerance=timedelta(minutes=settings.clock_skew_minutes))
    gaps = getattr(request, "data_gaps", ())
    if isinstance(gaps, list | tuple):
        record.quality.data_gaps = [mended(g) for g in gaps if isinstance(g, str)]
    builder = Builder(record=record, patient_id=patient_id,
                      cutoffs=reading_cutoffs(settings, moment), check=check,
                      residual_urine_ml=settings.ces_residual_urine_ml)
    try:
        _build(builder, request)
    except Exception as error:  # a last guard: a partial record beats a failed hook call
        reader_faults.note_fault(builder, "build_record", error, None)
    if builder.context_in_words:
        _back_pain_in_words_where_not_coded(record)
    builder.quality.unrecognised_units = builder.unrecognised_units
    if builder.unrecognised_units:
        record.quality.data_gaps.append(_unreadable_values(builder.unrecognised_units))
    if builder.mended:
        _mend_record_text(record)
        record.quality.data_gaps.append(mended_text_gap(sum(builder.mended.values())))
    if record.unreadable_red_flags:  # a red flag named leads, then back pain or leg
        # symptoms, an entry unread as itself last
        record.unreadable_red_flags = sorted(
            (mended_text(f) for f in record.unreadable_red_flags),
            key=lambda f: (f.concept == UNREAD, f.concept in SYMPTOM_CONCEPTS))
        _read_as_undated(record)
    if builder.unreadable_entries:  # malformed ones (a fault's are said below)
        malformed = [f for f in record.unreadable_red_flags
                     if f.detail not in (FAULT, unreadable.NOTES_TOO_LONG)]
        record.quality.add_gap(unreadable.gap(malformed, builder.unreadable_entries),
                               unreadable.gap(malformed, builder.unreadable_entries,
                                              for_audit=True))
    notes_gap = unreadable.notes_gap(record.unreadable_red_flags)
    if notes_gap:
        record.quality.add_gap(notes_gap)
    if record.unread_drafts:
        _note_unread_drafts(record)
    if builder.faults:
        record.quality.add_gap(reader_faults.gap(builder),
                               reader_faults.gap(builder, for_audit=True))
        reader_faults.log_faults(builder)
    try:
        ahead = record.red_flags_dated_ahead()
    except Exception:  # a date no arithmetic can take: say so rather than fail the call
        record.quality.add_gap("the dates of red-flag entries could not be compared with the "
                               "service's clock")
    else:
        if ahead:
            record.quality.add_gap(_dated_after_now(record, ahead),
                                   _dated_after_now(record, ahead, for_audit=True))
    return record


def _back_pain_in_words_where_not_coded(record: PatientRecord) -> None:
    """A back pain or sciatica named in words (record/uncoded_entries) counts where no
    current coded fact of its concept is on record: there it gives the call its context
    (PATHWAY.md 2) or its leg symptoms; beside a coded one it would only repeat it on the
    card (and move the onset the coded entries give)."""
    coded = {f.concept for f in record.facts
             if f.detail != IN_WORDS and f.status is FactStatus.CURRENT}
    record.facts = [f for f in record.facts if not (f.detail == IN_WORDS and f.concept in coded)]


def _read_as_undated(record: PatientRecord) -> None:
    """A back pain or leg symptom set aside (an entry not read) is also a current fact with
    no date: red-flag rules read it beside another finding (an aneurysm and back pain, a
    cancer history and a leg deficit), and a sign with no date cannot be excluded as new
    (PATHWAY.md 4); its onset unknown, it makes no judgement of time. The cards still ask
    for the entry to be checked (it stays set aside). A red flag set aside is not: it is
    for the clinician to read first, never an emergency on unreadable data alone."""
    symptoms = [f for f in record.unreadable_red_flags if f.concept in SYMPTOM_CONCEPTS]
    if symptoms:
        record.facts = [*record.facts, *symptoms]  # a new list: the concept cache follows


def _note_unread_drafts(record: PatientRecord) -> None:
    """Their text mended as the facts' is; the malformed ones on a line of their own (a
    faulted one is on the fault line)."""
    record.unread_drafts = [mended_text(d) for d in record.unread_drafts]
    malformed = [d for d in record.unread_drafts if d.detail != FAULT]
    if malformed:
        record.quality.add_gap(unreadable.drafts_gap(malformed),
                               unreadable.drafts_gap(malformed, for_audit=True))


def _dated_after_now(record: PatientRecord, ahead: list[Fact], for_audit: bool = False) -> str:
    """Said on every card: a red flag dated after now, beyond the clock tolerance (a wrong
    year, a clock far ahead), is never new to a rule, so it could leave a card reading "no
    red flag recorded"; a clinician must check its date. ``for_audit``: by concept, not by
    the entry's own text."""
    names = ", ".join(dict.fromkeys(f.concept if for_audit else f.display for f in ahead))
    entries = "entry" if len(ahead) == 1 else "entries"
    return (f"{len(ahead)} red-flag {entries} ({names}) dated more than "
            f"{record.clock_tolerance_minutes} minutes after the service's clock, not counted "
            "as new: check the date")


def _mend_record_text(record: PatientRecord) -> None:
    """Lone surrogates out of the facts' and orders' text: an entry was read with U+FFFD in
    their place (validation.MendedText), but its codes were chosen from the resource as
    sent, and a card quoting a lone surrogate could not be written (no Unicode text)."""
    record.facts = [mended_text(fact) for fact in record.facts]
    record.orders = [mended_text(order) for order in record.orders]


def _unreadable_values(count: int) -> str:
    """Said on every card: a measurement the rules could not read (a temperature in a unit
    no table knows, an implausible value) may hide a red flag (audit finding 8)."""
    return (f"{count} measurement(s) (temperature, weight, pain score, strength grade, ESR or "
            "CRP) in a unit the service cannot convert or out of the plausible range")


def _build(builder: Builder, request: object) -> None:
    resources = _as_resources(getattr(request, "resources", ()))
    drafts = _as_resources(getattr(request, "draft_orders", ()))
    builder.quality.resources_seen += len(resources)
    own = frozenset((f"Patient/{builder.patient_id}",
                     *getattr(request, "patient_references", ())))
    mine: list[dict[str, Any]] = []
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            builder.quality.skipped_invalid += 1
        elif resource["resourceType"] == "Medication":
            if isinstance(resource.get("id"), str):
                builder.medications[resource["id"]] = resource
        elif _is_other_patient(resource, builder.patient_id, own):
            builder.quality.other_patient_dropped += 1
        else:
            mine.append(resource)
    for resource in mine:  # the Patient first: onsetAge needs the birth date
        if resource["resourceType"] == "Patient":
            _guarded(builder, read_patient, resource)
    _read_entries(builder, mine)
    for resource in drafts:
        builder.quality.resources_seen += 1
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            builder.quality.skipped_invalid += 1
        elif _is_other_patient(resource, builder.patient_id, own):
            builder.quality.other_patient_dropped += 1
        else:
            _guarded(builder, read_draft_order, resource, set_aside_draft)


def _as_resources(value: object) -> list[Any]:
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            if isinstance(item, dict) and item.get("resourceType") == "Bundle":
                out.extend(resources_from(item))
            else:
                out.append(item)
        return out
    return resources_from(value)


def _read_entries(builder: Builder, resources: list[dict[str, Any]]) -> None:
    """Each entry by its reader. Optimistic, as a mark before each entry cost 1.1 % of the
    1 MB patient's call (#15, 144 entries): one mark for them all; should any reader raise,
    all is undone and the entries are read again one by one, each under its guard."""
    before = reader_faults.mark(builder)
    try:
        for resource in resources:
            handler = _HANDLERS.get(resource["resourceType"])
            if handler is not None and handler(builder, resource):
                builder.quality.resources_used += 1
    except Exception as error:  # found out below, entry by entry
        reader_faults.undo(builder, before, None)
        faults = len(builder.faults)
        for resource in resources:
            handler = _HANDLERS.get(resource["resourceType"])
            if handler is not None:
                _guarded(builder, handler, resource)
        if len(builder.faults) == faults:
            reader_faults.log_passing_fault(error)


def _guarded(builder: Builder, handler: Any, resource: dict[str, Any],
             set_aside_as: reader_faults.SetAside | None = None) -> None:
    """``handler`` reads ``resource``; if it raises, what it did is undone and the entry is
    a fault in the service, not invalid data: counted and named apart, never passed over
    (record/reader_faults; ``set_aside_as``: how, when not by its red flags)."""
    before = reader_faults.mark(builder)
    try:
        used = handler(builder, resource)
    except Exception as error:  # one entry's fault must not stop the record
        reader_faults.undo(builder, before, resource)
        reader_faults.note_fault(builder, getattr(handler, "__name__", "reader"), error,
                                 resource, set_aside_as)
        return
    if used:
        builder.quality.resources_used += 1


def _is_other_patient(resource: dict[str, Any], patient_id: str, own: frozenset[str]) -> bool:
    """Does ``resource`` belong to a patient other than ``patient_id``? ``own`` holds the
    references known to name the patient (``Patient/<id>``, its Bundle entry's fullUrl),
    built once per record."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return bool(patient_id) and isinstance(rid, str) and rid != patient_id
    if not patient_id:
        return False
    for name in ("subject", "patient"):
        value = resource.get(name)
        if value is None or (type(value) is dict and type(ref := value.get("reference")) is str
                             and ref in own):
            continue  # the common case, without parsing the reference
        if refers_to_patient(value, patient_id) is False and reference_of(value) not in own:
            return True
    return False


_HANDLERS: dict[str, Any] = {
    "Condition": read_condition,
    "Observation": read_observation,
    "MedicationRequest": with_notes(read_medication),
    "MedicationStatement": with_notes(read_medication),
    "ServiceRequest": read_service_request,
    "Procedure": with_notes(read_procedure),
    "ImagingStudy": read_imaging_study,
    "DiagnosticReport": with_notes(read_diagnostic_report),
}
