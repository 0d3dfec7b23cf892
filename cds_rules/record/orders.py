"""Orders: ServiceRequest, Procedure, ImagingStudy, DiagnosticReport and draft orders as
:class:`~cds_rules.model.Order`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.fhir_time import (
    first_time,
    first_time_span,
)
from cds_rules.model import (
    FactStatus,
    Order,
    UnreadDraft,
)
from cds_rules.record.codes import (
    Hit,
    OrderState,
    as_list,
    codings_of,
    concept_hits,
    concepts_list,
    label_of,
    misshapen_order_hits,
    order_hits,
    source_of,
)
from cds_rules.record.facts import make_fact
from cds_rules.record.laterality import laterality_of
from cds_rules.record.spine_sites import (
    names_the_spine,
    segments_of_concept,
    segments_of_site,
    segments_of_study,
    segments_of_text,
    spine_site,
)
from cds_rules.record.state import Builder
from cds_rules.record.status import status_code
from cds_rules.record.timing import RECENT_ORDER
from cds_rules.record.unreadable import set_aside, set_aside_listed_code, unread_draft

# DICOM acquisition modalities (PS3.16 CID 29; system http://dicom.nema.org/resources/
# ontology/DCM): MR magnetic resonance, CT computed tomography, DX digital radiography, CR
# computed radiography. ImagingStudy.modality (study) and series.modality carry them.
_MODALITY_KIND = {"MR": "spine_mri", "CT": "spine_ct", "DX": "spine_xray", "CR": "spine_xray"}
_ORDER_TITLES = {"spine_mri": "Spine MRI", "spine_ct": "Spine CT", "spine_xray": "Spine X-ray",
                 "emg_ncs": "EMG / nerve conduction studies", "physiotherapy": "Physiotherapy"}


def _add_orders(builder: Builder, resource: dict[str, Any], concept: object,
                state: OrderState, when: datetime | None, resource_id: str = "", *,
                study: dict[str, Any] | None = None) -> bool:
    """The orders ``concept`` names. A spine imaging order keeps the segments it images: as
    its codes say, else its words, else its ``bodySite`` (a ServiceRequest's or Procedure's:
    "MRI of spine" with body site thoracic spine), else (an ImagingStudy ``study``) its
    description and the body sites of its series of that kind."""
    added = False
    for kind, coding in order_hits(concept):
        segments = frozenset[str]()
        if kind in vs.SPINE_IMAGING_KINDS:
            segments = segments_of_concept(concept) or _site_segments(resource)
            if not segments and study is not None:
                segments = _study_segments(study, kind)
        builder.record.orders.append(Order(
            kind=kind,
            display=label_of(coding, concept, _ORDER_TITLES.get(kind, kind)),
            source=source_of(resource),
            state=state,
            when=when,
            resource_id=resource_id,
            system=vs.normalise_system(coding.get("system")),
            code=str(coding.get("code", "")),
            segments=segments,
        ))
        added = True
        if kind == "physiotherapy" and state != "draft" and not any(
                f.source == source_of(resource) and f.concept == "conservative_care_given"
                for f in builder.record.facts):
            hit = Hit("conservative_care_given", coding, None, False)
            builder.record.facts.append(make_fact(hit, resource, when, FactStatus.CURRENT, None,
                                                  "", concept_cc=concept))
    return added


@dataclass(frozen=True, slots=True)
class _OrderSpec:
    """How one resource type that records an order is read."""

    states: dict[str, OrderState]  # status -> order state; any other status is skipped
    time_fields: tuple[str, ...]  # where its time is, in order of preference
    code_field: str = "code"  # the CodeableConcept (or list of them) naming the order
    refusal_flag: str | None = None  # a boolean that, when true, orders NOT doing it


_SERVICE_REQUEST = _OrderSpec(
    states={"active": "active", "on-hold": "active", "completed": "completed"},
    time_fields=("occurrenceDateTime", "occurrencePeriod", "authoredOn"),
    refusal_flag="doNotPerform",
)
_PROCEDURE = _OrderSpec(
    states={"completed": "completed", "in-progress": "active", "preparation": "active"},
    time_fields=("performedDateTime", "performedPeriod"),
)
_IMAGING_STUDY = _OrderSpec(
    states={"available": "completed", "registered": "active"},
    time_fields=("started",),
    code_field="procedureCode",
)
_DIAGNOSTIC_REPORT = _OrderSpec(
    states={"final": "completed", "amended": "completed", "corrected": "completed",
            "appended": "completed", "preliminary": "completed", "partial": "completed",
            "registered": "active"},
    time_fields=("effectiveDateTime", "effectivePeriod", "issued"),
)


@dataclass(frozen=True, slots=True)
class _OrderRead:
    resource: dict[str, Any]  # validated
    state: OrderState
    when: datetime | None
    code: object  # the resource's ``code_field``


def _read_order(builder: Builder, resource: dict[str, Any], spec: _OrderSpec, *,
                recognised: bool, findings: Sequence[Hit] = ()) -> _OrderRead | None:
    """The steps the order readers share. An unrecognised code and an invalid resource
    are counted in the data quality; an invalid one's red flags are named (its code's,
    and ``findings``: those a valid one would add). A status outside ``spec.states`` or a
    refusal is skipped silently (nothing is wrong with the data)."""
    if not recognised:
        builder.unrecognised()
        set_aside_listed_code(builder, resource)  # a code sent as a list naming a red flag
        return None
    if _done_long_ago(builder, resource, spec):
        return None
    checked = builder.validated(resource)
    if checked is None:  # a spinal procedure an infection rule reads, say: named
        set_aside(builder, resource, [*concept_hits(resource.get(spec.code_field)), *findings])
        return None
    state = spec.states.get(status_code(checked, "status") or "")
    if state is None or (spec.refusal_flag and checked.get(spec.refusal_flag) is True):
        return None
    return _OrderRead(checked, state, first_time(checked, *spec.time_fields),
                      checked.get(spec.code_field))


def _done_long_ago(builder: Builder, resource: dict[str, Any], spec: _OrderSpec) -> bool:
    """A completed lab test or referral (no finding code) dated before the reuse window:
    no rule can use it, so it is not validated (a Synthea record holds years of panels)."""
    cutoff = builder.cutoffs.get(RECENT_ORDER)
    code = resource.get(spec.code_field)
    if cutoff is None or spec.states.get(str(resource.get("status"))) != "completed" \
            or isinstance(code, list) or concept_hits(code):
        return False
    kinds = {kind for kind, _ in order_hits(code)}
    if not kinds or not kinds <= vs.SHORT_REUSE_KINDS:
        return False
    _, latest = first_time_span(resource, *spec.time_fields)
    return latest is not None and latest < cutoff


def read_service_request(builder: Builder, resource: dict[str, Any]) -> bool:
    read = _read_order(builder, resource, _SERVICE_REQUEST,
                       recognised=bool(order_hits(resource.get("code"))))
    if read is None:
        return False
    return _add_orders(builder, read.resource, read.code, read.state, read.when)


def read_draft_order(builder: Builder, resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    hits = _ordered(code)
    if not hits:
        return False
    checked = builder.validated(resource)
    if checked is None:  # what the clinician is ordering: kept as unread, not passed over
        builder.record.unread_drafts.append(_unread_draft(resource, hits))
        return False
    when = first_time(checked, "authoredOn", "occurrenceDateTime", "occurrencePeriod")
    rid = checked.get("id")
    resource_id = f"{checked['resourceType']}/{rid}" if isinstance(rid, str) and rid else ""
    return _add_orders(builder, checked, checked.get("code"), "draft", when, resource_id)


def set_aside_draft(builder: Builder, resource: dict[str, Any], why: str) -> tuple[str, ...]:
    """A draft order not read for a fault in the service (record/reader_faults), kept as
    unread when it orders something a rule reads, or when what it orders cannot be looked
    up either (then its kind is unknown); its name for the fault line."""
    try:
        hits: list[tuple[str, dict[str, Any]]] | None = _ordered(resource.get("code"))
    except Exception:  # nor its codes: it may be the spine MRI
        hits = None
    if hits == []:
        return ()  # it orders nothing a rule reads
    try:
        draft = _unread_draft(resource, hits, why)
    except Exception:  # nor its name: kept all the same
        draft = _unread_draft(resource, None, why)
    builder.record.unread_drafts.append(draft)
    return (f"draft {draft.display}",)


def _ordered(code: object) -> list[tuple[str, dict[str, Any]]]:
    """What a draft's ``code`` orders, also when it is of the wrong shape (a list of
    CodeableConcepts, one Coding where a list belongs): such a draft is invalid, but it
    is still the spine MRI being ordered."""
    return order_hits(code) or misshapen_order_hits(code)


def _unread_draft(resource: dict[str, Any], hits: list[tuple[str, dict[str, Any]]] | None,
                  why: str | None = None) -> UnreadDraft:
    """``hits``: what it orders; None when that could not be looked up (its kinds then
    unknown: empty). ``why``: a fault in the service; None: malformed."""
    if hits is None:
        return unread_draft(resource, frozenset(), _own_name(resource), why)
    kind, coding = hits[0]
    name = label_of(coding, resource.get("code"), _ORDER_TITLES.get(kind, kind))
    return unread_draft(resource, frozenset(k for k, _ in hits), name, why)


def _own_name(resource: dict[str, Any]) -> str:
    """What a draft whose codes could not be looked up calls itself, if it can be read."""
    try:
        code = resource.get("code")
        return label_of(next(iter(codings_of(code)), None), code, _UNNAMED)
    except Exception:  # the lookup's fault may be in reading the codings themselves
        return _UNNAMED


_UNNAMED = "order of unknown kind"


def read_procedure(builder: Builder, resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    hits = concept_hits(code)
    read = _read_order(builder, resource, _PROCEDURE,
                       recognised=bool(hits or order_hits(code)))
    if read is None:
        return False
    side, detail = laterality_of(read.resource)
    for hit in hits:  # before the orders: a physiotherapy order then adds no second fact
        builder.record.facts.append(make_fact(hit, read.resource, read.when, FactStatus.CURRENT,
                                              side, detail, concept_cc=read.code))
    return _add_orders(builder, read.resource, read.code, read.state, read.when) or bool(hits)


def read_imaging_study(builder: Builder, resource: dict[str, Any]) -> bool:
    kinds = _imaging_kinds(resource)
    read = _read_order(builder, resource, _IMAGING_STUDY, recognised=bool(kinds))
    if read is None:
        return False
    added = False
    for concept in concepts_list(read.code):  # procedureCode is a list
        added = _add_orders(builder, read.resource, concept, read.state, read.when,
                            study=read.resource) or added
    if not added:  # no coded procedure: the kinds found by modality and body site
        for kind, label in kinds:
            builder.record.orders.append(Order(kind=kind, display=label,
                                               source=source_of(read.resource),
                                               state=read.state, when=read.when,
                                               segments=_study_segments(read.resource, kind)))
            added = True
    return added


def _site_segments(resource: dict[str, Any]) -> frozenset[str]:
    """The segments a ServiceRequest's or Procedure's ``bodySite`` names (codes as a series
    body site is read, else the text); an ImagingStudy has none at that level."""
    found: set[str] = set()
    for site in as_list(resource.get("bodySite")):
        if isinstance(site, dict):
            for coding in codings_of(site):
                found |= segments_of_site(coding)
            found |= segments_of_text(site.get("text"))
    return frozenset(found)


def _study_segments(study: dict[str, Any], kind: str) -> frozenset[str]:
    """The spine segments a study of ``kind`` images: its description and the body sites of
    its series of that modality (a CT series does not say where the MRI looked)."""
    series = [s for s in as_list(study.get("series"))
              if isinstance(s, dict) and _modality_kind(s.get("modality")) == kind]
    return segments_of_study(study, series)


def _imaging_kinds(study: dict[str, Any]) -> list[tuple[str, str]]:
    """Spine imaging kinds of an ImagingStudy: by procedure code; else by a series' modality
    with a spine site (its body site, or the study's description); else by the study-level
    modality list when the description names the spine. A body site is a spine site by its
    code (value set spine_body_site, or a DICOM Body Part Examined term such as LSPINE) or
    its display's words (:mod:`.spine_sites`). A series names its own
    modality (R4: 1..1), so a spine-coded report (SR) series beside an MR knee series makes
    no spine MRI."""
    found: dict[str, str] = {}
    for concept in concepts_list(study.get("procedureCode")):
        for kind, coding in order_hits(concept):
            found.setdefault(kind, label_of(coding, concept, _ORDER_TITLES[kind]))
    if found:
        return list(found.items())
    described = names_the_spine(study.get("description"))
    for series in as_list(study.get("series")):
        if not isinstance(series, dict):
            continue
        by_series = _modality_kind(series.get("modality"))
        if by_series and (described or spine_site(series.get("bodySite"))):
            found.setdefault(by_series, _ORDER_TITLES[by_series])
    if not found and described:
        for modality in as_list(study.get("modality")):
            by_study = _modality_kind(modality)
            if by_study:
                found.setdefault(by_study, _ORDER_TITLES[by_study])
    return list(found.items())


def _modality_kind(modality: object) -> str | None:
    """The spine imaging kind of a DICOM modality Coding (MR, CT, DX, CR), else None."""
    code = modality.get("code") if isinstance(modality, dict) else None
    return _MODALITY_KIND.get(code.strip().upper()) if isinstance(code, str) else None


def read_diagnostic_report(builder: Builder, resource: dict[str, Any]) -> bool:
    conclusions = concepts_list(resource.get("conclusionCode"))
    hits = [h for c in conclusions for h in concept_hits(c)]
    reported = _DIAGNOSTIC_REPORT.states.get(status_code(resource, "status") or "") \
        == "completed"
    read = _read_order(builder, resource, _DIAGNOSTIC_REPORT,
                       recognised=bool(order_hits(resource.get("code")) or hits),
                       findings=hits if reported else ())  # findings: a report that has them
    if read is None:
        return False
    added = _add_orders(builder, read.resource, read.code, read.state, read.when)
    if read.state == "completed":  # findings only from a report that has them (not registered)
        for concept in concepts_list(read.resource.get("conclusionCode")):
            for hit in concept_hits(concept):
                builder.record.facts.append(make_fact(hit, read.resource, read.when,
                                                      FactStatus.CURRENT, None, "",
                                                      concept_cc=concept))
                added = True
    return added
