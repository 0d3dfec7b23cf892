"""The patient record: FHIR R4 resources (JSON dicts) -> :class:`PatientRecord`.

What the rules see is decided here, so the safety principles of CLINICAL.md live here:

* Negation and status (principle 2). Condition ``verificationStatus`` refuted or
  entered-in-error: no fact. ``clinicalStatus`` active/recurrence/relapse (or absent, or
  unknown): CURRENT; inactive/remission/resolved, or an abatement in the past: HISTORY; an
  ICD-10-CM "personal history of" code (Z85) is always HISTORY. Observation ``status``
  entered-in-error or cancelled: ignored. A finding Observation whose value is
  ``valueBoolean: false``, an absent/negative/not-detected SNOMED qualifier (2667000,
  260385009, 260415000), a negative ``valueString`` ("absent", "negative", "no", or a
  sentence whose every clause opens or closes with no / not / denies / denied / absent /
  negative / without / nil / none: "no urinary retention", "retention not present") or a
  NEG/ND interpretation, or that carries a ``dataAbsentReason``: no fact. Present (52101004,
  true, positive, or no value at all): a fact.
* Messy data (principle 5). Times: onsetDateTime, onsetPeriod, onsetAge (birth date +
  age), onsetRange.low (Age), then recordedDate (onsetString is free text and ignored);
  effectiveDateTime, effectivePeriod (start, else end), effectiveInstant, then issued.
  A partial date is its first day, and the fact of a Condition or Observation also keeps
  the last instant it may mean (``Fact.when_latest``); zone-less times are UTC.
  Quantities are normalised by :mod:`cds_rules.units` (°F -> Cel, lb/g -> kg); an
  unknown unit drops that value and is counted in ``quality.unrecognised_units``. Invalid
  resources are skipped and counted; nothing here raises.
* Laterality: bodySite codings left 7771000 / right 24028007 / right-and-left 51440002,
  bodySite words ("left", "right", "both", "bilateral"), and ICD-10-CM laterality codes
  (M54.31/M54.41 right ...). Each fact keeps its own side; the rules derive "left +
  right = bilateral". ``Fact.detail`` holds the body-site text (e.g. the muscle of an MRC
  grade) so that the rules can tell levels apart.
* Worsening: a fact is marked ``worsening`` when the resource carries the HL7 v3
  ObservationInterpretation code ``W`` (worse) in ``interpretation``, or our local
  qualifier (LOCAL_FINDING_SYSTEM ``worsening`` / ``progressive``) in ``interpretation``,
  ``severity``, ``stage.summary``, ``valueCodeableConcept``, ``code`` or an extension's
  ``valueCodeableConcept`` / ``valueCoding``.
* Medications (MedicationRequest / MedicationStatement): RxNorm ingredient codes, or the
  ingredient named in the product's display/text. Statuses entered-in-error, cancelled,
  draft, not-taken and intended, and ``doNotPerform``, give nothing; active / on-hold /
  unknown are CURRENT, completed / stopped HISTORY. For steroids and immunosuppressants a
  topical, inhaled, nasal, eye, ear, rectal or vaginal product or route is not systemic and
  is skipped. ``Fact.when`` is the start; ``Fact.value`` the duration in days ("d") up to
  the end of the period, or up to now when ongoing (None when a finished course has no end).
* Orders: ServiceRequest (active/on-hold -> active, completed), Procedure (completed,
  in-progress/preparation -> active), ImagingStudy (available -> completed, registered ->
  active; a spine study is also recognised by modality MR/CT/DX/CR plus a spine body site),
  DiagnosticReport (final/amended/corrected/appended/preliminary -> completed); the hook's
  draftOrders are "draft" with ``resource_id`` "Type/id". A completed or active
  physiotherapy order is also a ``conservative_care_given`` fact.

Performance: resources are selected by type and code from the raw dicts first (frozenset
and dict lookups); only the selected ones are validated with ``fhir.resources.R4B``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from cds_rules import uncoded
from cds_rules import valuesets as vs
from cds_rules.bundles import parse_reference, reference_of, refers_to_patient, resources_from
from cds_rules.fhir_time import (
    add_age,
    as_utc,
    duration_of,
    first_time,
    first_time_span,
    parse_datetime,
    period_end,
    period_start,
)
from cds_rules.model import (
    BINARY_RESULT_CONCEPTS,
    CONCEPTS,
    LOCAL_FINDING_SYSTEM,
    DataQuality,
    Fact,
    FactStatus,
    Order,
    PatientRecord,
    Topic,
)
from cds_rules.units import QUANTITY_CONCEPTS, normalise
from cds_rules.validation import validated

if TYPE_CHECKING:
    from cds_rules.engine import HookRequest
    from cds_rules.settings import RuleSettings

Side = Literal["left", "right", "bilateral"]
OrderState = Literal["draft", "active", "completed"]

# SNOMED CT laterality qualifiers: FHIR ValueSet bodystructure-laterality (51440002 is
# "right and left", also in CLINICAL.md).
LEFT, RIGHT, BILATERAL = "7771000", "24028007", "51440002"
_SIDE_CODES: dict[str, Side] = {LEFT: "left", RIGHT: "right", BILATERAL: "bilateral"}
# HL7 v3 ObservationInterpretation: W = worse, NEG/POS, ND/DET (not detected/detected).
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_WORSE = {(V3_INTERPRETATION, "W"), (LOCAL_FINDING_SYSTEM, "worsening"),
          (LOCAL_FINDING_SYSTEM, "progressive")}
_NEGATIVE_INTERPRETATION = {"NEG", "ND", "N"}  # negative, not detected, normal
_POSITIVE_INTERPRETATION = {"POS", "DET"}
_NEGATIVE_WORDS = {"absent", "negative", "no", "none", "not present", "not detected", "false",
                   "denied", "denies", "nil"}
_POSITIVE_WORDS = {"present", "positive", "yes", "detected", "true"}
# A test result written as a sentence ("HLA-B27 not detected"): any negative statement.
_NEGATIVE_TEXT = re.compile(r"\b(negative|neg|not detected|not present|absent)\b", re.I)
# A finding written as free text is negated when every clause opens with a negation cue
# ("no urinary retention", "patient denies ...", "without ...") or closes with one
# ("retention: absent", "retention not present"). A cue inside a clause ("retention
# without overflow") negates something else, so the finding stays (principles 1 and 2).
_NEGATION_CUES = r"(?:no|not|denies|denied|absent|negative|without|nil|none)"
_LEADING_NEGATION = re.compile(rf"^(?:(?:the\s+)?(?:patient|pt)\s+)?{_NEGATION_CUES}\b",
                               re.I)
_TRAILING_NEGATION = re.compile(rf"\b{_NEGATION_CUES}(?:\s+(?:present|detected|seen|found))?$",
                                re.I)
_CLAUSE_BREAK = re.compile(r"[.;\n]+")

CONDITION_CURRENT = {"active", "recurrence", "relapse"}
CONDITION_HISTORY = {"inactive", "remission", "resolved"}
CONDITION_REFUTED = {"refuted", "entered-in-error"}
OBSERVATION_IGNORED = {"entered-in-error", "cancelled"}
MEDICATION_IGNORED = {"entered-in-error", "cancelled", "draft", "not-taken", "intended"}
MEDICATION_HISTORY = {"completed", "stopped"}
_NON_SYSTEMIC = re.compile(
    r"\b(topical|cutaneous|transdermal|cream|ointment|lotion|gel|foam|shampoo|paste|"
    r"inhal\w*|inhaler|metered|powder for inhalation|dry powder|nasal|intranasal|"
    r"ophthalmic|eye|otic|ear|rectal|enema|suppository|vaginal|dental|mouthwash|"
    r"intra-?articular|intralesional)\b",
    re.I,
)
_SYSTEMIC_CHECKED = frozenset({"systemic_corticosteroid", "immunosuppressant_drug"})
_SPINE_WORDS = re.compile(r"\b(spine|spinal|lumbar|lumbosacral|sacrum|sacral|vertebra\w*|"
                          r"thoracic spine|l-spine|t-spine)\b", re.I)
_MODALITY_KIND = {"MR": "spine_mri", "CT": "spine_ct", "DX": "spine_xray", "CR": "spine_xray"}
_ORDER_TITLES = {"spine_mri": "Spine MRI", "spine_ct": "Spine CT", "spine_xray": "Spine X-ray",
                 "emg_ncs": "EMG / nerve conduction studies", "physiotherapy": "Physiotherapy"}


@dataclass(slots=True)
class _Builder:
    """Mutable state of one build: the record under construction and the counters."""

    record: PatientRecord
    patient_id: str
    medications: dict[str, dict[str, Any]] = field(default_factory=dict)
    unrecognised_units: int = 0
    # concept -> readings older than this cannot change any rule (:func:`reading_cutoffs`)
    cutoffs: dict[str, datetime] = field(default_factory=dict)

    @property
    def quality(self) -> DataQuality:
        return self.record.quality

    def unrecognised(self) -> bool:
        """Count a resource none of whose codes any rule reads; False: nothing was added."""
        self.quality.unrecognised_codes += 1
        return False

    def validated(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """``resource`` checked against its R4B model, or None, counted as skipped."""
        checked = validated(resource)
        if checked is None:
            self.quality.skipped_invalid += 1
        return checked


def build_record(request: HookRequest, now: datetime, settings: RuleSettings) -> PatientRecord:
    """Build the record the rules read. Never raises, whatever ``request`` holds.

    ``now`` is the request time, a timezone-aware datetime: anything else is the caller's
    bug and raises (TypeError; ValueError when naive) rather than silently yielding no
    cards. ``settings`` gives the windows of :func:`reading_cutoffs`: readings no rule
    can use are skipped before validation.
    """
    moment = as_utc(require_aware(now))
    patient_id = getattr(request, "patient_id", "")
    patient_id = patient_id if isinstance(patient_id, str) else str(patient_id or "")
    record = PatientRecord(patient_id=patient_id, now=moment)
    gaps = getattr(request, "data_gaps", ())
    if isinstance(gaps, list | tuple):
        record.quality.data_gaps = [g for g in gaps if isinstance(g, str)]
    builder = _Builder(record=record, patient_id=patient_id,
                       cutoffs=reading_cutoffs(settings, moment))
    try:
        _build(builder, request)
    except Exception:  # a last guard: a partial record is better than a failed hook call
        builder.quality.skipped_invalid += 1
    builder.quality.unrecognised_units = builder.unrecognised_units
    return record


def _build(builder: _Builder, request: object) -> None:
    resources = _as_resources(getattr(request, "resources", ()))
    drafts = _as_resources(getattr(request, "draft_orders", ()))
    builder.quality.resources_seen += len(resources)
    mine: list[dict[str, Any]] = []
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            builder.quality.skipped_invalid += 1
        elif resource["resourceType"] == "Medication":
            if isinstance(resource.get("id"), str):
                builder.medications[resource["id"]] = resource
        elif _is_other_patient(resource, builder.patient_id):
            builder.quality.other_patient_dropped += 1
        else:
            mine.append(resource)
    for resource in mine:  # the Patient first: onsetAge needs the birth date
        if resource["resourceType"] == "Patient":
            _guarded(builder, _read_patient, resource)
    for resource in mine:
        handler = _HANDLERS.get(resource["resourceType"])
        if handler is not None:
            _guarded(builder, handler, resource)
    for resource in drafts:
        builder.quality.resources_seen += 1
        if not isinstance(resource, dict):
            builder.quality.skipped_invalid += 1
        elif _is_other_patient(resource, builder.patient_id):
            builder.quality.other_patient_dropped += 1
        else:
            _guarded(builder, _read_draft_order, resource)


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


def _guarded(builder: _Builder, handler: Any, resource: dict[str, Any]) -> None:
    try:
        used = handler(builder, resource)
    except Exception:  # never let one odd resource stop the record
        builder.quality.skipped_invalid += 1
        return
    if used:
        builder.quality.resources_used += 1


def _is_other_patient(resource: dict[str, Any], patient_id: str) -> bool:
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return bool(patient_id) and isinstance(rid, str) and rid != patient_id
    if not patient_id:
        return False
    for name in ("subject", "patient"):
        if refers_to_patient(resource.get(name), patient_id) is False:
            return True
    return False


def require_aware(now: object) -> datetime:
    """``now`` if it is a timezone-aware datetime; no clock in the core, so no default."""
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a timezone-aware datetime, not {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (it has no timezone)")
    return now


# Quantity concepts that every rule reads only within a window of RuleSettings, by the
# name of that window: body temperatures only within the fever window (context
# fever_within_window), body weights only within the weight-loss window (weight_loss).
# Pain scores and MRC grades are read as whole series (pain not improving since the first
# score, grades falling from any earlier value), and findings, conditions and medications
# keep all their dates. A rule that reads one of these concepts further back must add its
# window here.
_RECENT_ORDER = "(recent order)"  # a cutoff key: not a concept
_WINDOWED_READINGS = {"body_temperature": "fever_window_days",
                      "body_weight": "weight_loss_window_days",
                      # a done lab test or referral counts only this recently (orders.py)
                      _RECENT_ORDER: "recent_order_days"}
_CUTOFF_MARGIN = timedelta(days=1)


def reading_cutoffs(settings: object, now: datetime) -> dict[str, datetime]:
    """Per windowed concept, the time before which a reading cannot change any rule: ``now``
    minus its window, minus a day's margin. The record builder skips such an Observation
    before validating it (the costly step: Synthea patients carry decades of vitals)."""
    cutoffs: dict[str, datetime] = {}
    for concept, name in _WINDOWED_READINGS.items():
        days = getattr(settings, name, None)
        if isinstance(days, int) and not isinstance(days, bool) and 0 <= days < 100_000:
            try:
                cutoffs[concept] = now - timedelta(days=days) - _CUTOFF_MARGIN
            except OverflowError:
                continue
    return cutoffs


def _too_old(builder: _Builder, resource: dict[str, Any], concepts: set[str]) -> bool:
    """True when every concept of the Observation has a window and its time (the latest
    moment a partial date may mean) is before all of their cutoffs."""
    cutoffs = [builder.cutoffs.get(concept) for concept in concepts]
    if not cutoffs or None in cutoffs:
        return False
    _, latest = first_time_span(resource, "effectiveDateTime", "effectivePeriod",
                                "effectiveInstant", "issued")
    return latest is not None and all(latest < cutoff for cutoff in cutoffs if cutoff)


# --------------------------------------------------------------------------- helpers


def _as_list(value: object) -> list[Any]:
    """A JSON array as a list; anything else (junk before validation) as empty."""
    return value if isinstance(value, list) else []


def _codings(concept: object) -> list[dict[str, Any]]:
    """The Coding dicts of a CodeableConcept (junk entries dropped)."""
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return []
    return [c for c in codings if isinstance(c, dict)]


def _concepts_list(value: object) -> list[dict[str, Any]]:
    """A CodeableConcept or a list of them, as a list."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _label(coding: dict[str, Any] | None, concept: object, fallback: str) -> str:
    if coding is not None and isinstance(coding.get("display"), str) and coding["display"]:
        return str(coding["display"])
    if isinstance(concept, dict) and isinstance(concept.get("text"), str) and concept["text"]:
        return str(concept["text"])
    return fallback


def _source(resource: dict[str, Any]) -> str:
    rid = resource.get("id")
    rtype = resource.get("resourceType", "Resource")
    return f"{rtype}/{rid}" if isinstance(rid, str) and rid else f"{rtype}/(no id)"


@dataclass(frozen=True, slots=True)
class _Hit:
    concept: str
    coding: dict[str, Any]
    laterality: Side | None
    history: bool


def _hits(concept: object) -> list[_Hit]:
    """Concepts recognised in a CodeableConcept, one hit per concept (first coding wins,
    but a coding that carries a side beats one that does not)."""
    found: dict[str, _Hit] = {}
    for coding in _codings(concept):
        for match in vs.matches(coding.get("system"), coding.get("code")):
            hit = _Hit(match.concept, coding, match.laterality, match.history)
            old = found.get(match.concept)
            if old is None or (old.laterality is None and hit.laterality is not None):
                found[match.concept] = hit
    return list(found.values())


def _order_hits(concept: object) -> list[tuple[str, dict[str, Any]]]:
    found: dict[str, dict[str, Any]] = {}
    for coding in _codings(concept):
        for kind in vs.order_kinds_for(coding.get("system"), coding.get("code")):
            found.setdefault(kind, coding)
    return list(found.items())


def _has_recognised_code(*concepts: object) -> bool:
    for concept in concepts:
        for coding in _codings(concept):
            system, code = coding.get("system"), coding.get("code")
            if vs.matches(system, code) or vs.order_kinds_for(system, code):
                return True
    return False


def _laterality(resource: dict[str, Any]) -> tuple[Side | None, str]:
    """Side and body-site text from ``bodySite`` (a CodeableConcept or a list of them)."""
    sides: set[str] = set()
    texts: list[str] = []
    for site in _concepts_list(resource.get("bodySite")):
        label = ""
        for coding in _codings(site):
            side = _SIDE_CODES.get(str(coding.get("code", ""))) \
                if vs.normalise_system(coding.get("system")) == vs.SNOMED else None
            if side:
                sides.add(side)
            elif not label and isinstance(coding.get("display"), str):
                label = coding["display"]
        if isinstance(site.get("text"), str) and site["text"]:
            label = site["text"]
        if label:
            texts.append(label)
            words = set(re.findall(r"[a-z]+", label.lower()))
            if words & {"bilateral", "both"}:
                sides.add("bilateral")
            sides.update(words & {"left", "right"})
        for coding in _codings(site):  # a side-only coding still names the site
            if not label and isinstance(coding.get("display"), str) \
                    and str(coding.get("code", "")) not in _SIDE_CODES:
                texts.append(coding["display"])
    detail = ", ".join(texts)
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral", detail
    if sides:
        return sides.pop(), detail  # type: ignore[return-value]
    return None, detail


def _combine_sides(a: Side | None, b: Side | None) -> Side | None:
    if a is None:
        return b
    if b is None or a == b:
        return a
    return "bilateral"


def _worsening(resource: dict[str, Any]) -> bool:
    candidates: list[object] = [resource.get("code"), resource.get("severity"),
                                resource.get("valueCodeableConcept")]
    candidates += _concepts_list(resource.get("interpretation"))
    for stage in _as_list(resource.get("stage")):
        if isinstance(stage, dict):
            candidates.append(stage.get("summary"))
    for ext in _as_list(resource.get("extension")):
        if isinstance(ext, dict):
            candidates.append(ext.get("valueCodeableConcept"))
            if isinstance(ext.get("valueCoding"), dict):
                candidates.append({"coding": [ext["valueCoding"]]})
    for concept in candidates:
        for coding in _codings(concept):
            key = (vs.normalise_system(coding.get("system")), coding.get("code"))
            if key in _WORSE:
                return True
    return False


def _fact(hit: _Hit, resource: dict[str, Any], when: datetime | None, status: FactStatus,
          side: Side | None, detail: str, *, concept_cc: object = None,
          value: float | None = None, unit: str | None = None,
          worsening: bool = False) -> Fact:
    return Fact(
        concept=hit.concept,
        display=_label(hit.coding, concept_cc, CONCEPTS.get(hit.concept, hit.concept)),
        source=_source(resource),
        resource_type=str(resource.get("resourceType", "")),
        system=vs.normalise_system(hit.coding.get("system")),
        code=str(hit.coding.get("code", "")),
        when=when,
        status=FactStatus.HISTORY if hit.history else status,
        value=value,
        unit=unit,
        laterality=_combine_sides(side, hit.laterality),
        worsening=worsening,
        detail=detail,
    )


def _status_code(resource: dict[str, Any], name: str) -> str | None:
    """A status that may be a code string or a CodeableConcept (Condition)."""
    value = resource.get(name)
    if isinstance(value, str):
        return value.strip().lower()
    for coding in _codings(value):
        if isinstance(coding.get("code"), str):
            return str(coding["code"]).strip().lower()
    return None


# --------------------------------------------------------------------------- Patient


def _read_patient(builder: _Builder, resource: dict[str, Any]) -> bool:
    if builder.record.birth_date is not None or builder.record.sex != "unknown":
        return False  # the first matching Patient wins
    checked = builder.validated(resource)
    if checked is None:
        return False
    builder.record.birth_date = parse_datetime(checked.get("birthDate"))
    gender = checked.get("gender")
    if gender in ("male", "female", "other", "unknown"):
        builder.record.sex = gender
    builder.record.deceased = _is_deceased(checked)
    return True


def _is_deceased(patient: dict[str, Any]) -> bool:
    """Patient.deceasedBoolean true, or any deceasedDateTime (CLINICAL.md review: a
    deceased patient gets no cards)."""
    return patient.get("deceasedBoolean") is True or bool(patient.get("deceasedDateTime"))


# --------------------------------------------------------------------------- Condition


def _read_condition(builder: _Builder, resource: dict[str, Any]) -> bool:
    hits = _hits(resource.get("code"))
    if not hits:
        return _uncoded(builder, resource)
    checked = builder.validated(resource)
    if checked is None:
        return False
    if _status_code(checked, "verificationStatus") in CONDITION_REFUTED:
        return False
    clinical = _status_code(checked, "clinicalStatus")
    status = FactStatus.HISTORY if clinical in CONDITION_HISTORY else FactStatus.CURRENT
    if clinical is None and _abated(checked, builder.record.now):
        status = FactStatus.HISTORY
    when, latest = _condition_time(checked, builder.record.birth_date)
    side, detail = _laterality(checked)
    worse = _worsening(checked)
    severe = _severe(checked)
    recorded = parse_datetime(checked.get("recordedDate"))
    for hit in hits:
        fact = _fact(hit, checked, when, status, side, detail,
                     concept_cc=checked.get("code"), worsening=worse)
        if severe:
            fact = replace(fact, severe=True)
        if recorded is not None and recorded != when:
            fact = replace(fact, recorded=recorded)  # "new diagnosis": onset or recording
        builder.record.facts.append(_with_latest(fact, latest))
    return True


# Condition.severity "severe": FHIR R4 core ValueSet condition-severity (SNOMED CT).
_SEVERE = frozenset({(vs.SNOMED, "24484000")})


def _severe(condition: dict[str, Any]) -> bool:
    """Condition.severity coded (or written) as severe."""
    severity = condition.get("severity")
    if any((vs.normalise_system(c.get("system")), c.get("code")) in _SEVERE
           for c in _codings(severity)):
        return True
    return isinstance(severity, dict) and str(severity.get("text", "")).strip().lower() == "severe"


def _abated(condition: dict[str, Any], now: datetime) -> bool:
    if condition.get("abatementBoolean") is True or isinstance(
            condition.get("abatementString"), str):
        return True
    end = parse_datetime(condition.get("abatementDateTime")) or period_start(
        condition.get("abatementPeriod"))
    return end is not None and end <= now


def _condition_time(condition: dict[str, Any],
                    birth: datetime | None) -> tuple[datetime | None, datetime | None]:
    """(first, last) instant the onset may mean: a partial date keeps its precision."""
    when, latest = first_time_span(condition, "onsetDateTime", "onsetPeriod")
    if when is None:
        when = add_age(birth, condition.get("onsetAge"))
    if when is None and isinstance(condition.get("onsetRange"), dict):
        when = add_age(birth, condition["onsetRange"].get("low"))
    if when is None:
        when, latest = first_time_span(condition, "recordedDate")
    return when, latest or when


def _with_latest(fact: Fact, latest: datetime | None) -> Fact:
    """The fact with the end of its partial date (unchanged when the date is exact)."""
    if latest is None or latest == fact.when:
        return fact
    return replace(fact, when_latest=latest)


# --------------------------------------------------------------------------- Observation


def _read_observation(builder: _Builder, resource: dict[str, Any]) -> bool:
    code_hits = _hits(resource.get("code"))
    value_hits = _hits(resource.get("valueCodeableConcept"))
    components = [c for c in _as_list(resource.get("component")) if isinstance(c, dict)]
    component_hits = [(c, _hits(c.get("code"))) for c in components]
    component_hits = [(c, h) for c, h in component_hits if h]
    if not (code_hits or value_hits or component_hits):
        return _uncoded(builder, resource)
    concepts = {h.concept for h in code_hits or value_hits}
    concepts.update(h.concept for _, hits in component_hits for h in hits)
    if _too_old(builder, resource, concepts):
        return False
    checked = builder.validated(resource)
    if checked is None:
        return False
    if _status_code(checked, "status") in OBSERVATION_IGNORED:
        return False
    if checked is not resource:  # zone-repaired copy: read hits from it
        components = [c for c in _as_list(checked.get("component")) if isinstance(c, dict)]
        component_hits = [(c, _hits(c.get("code"))) for c in components]
        component_hits = [(c, h) for c, h in component_hits if h]
    when, latest = first_time_span(checked, "effectiveDateTime", "effectivePeriod",
                                   "effectiveInstant", "issued")
    side, detail = _laterality(checked)
    worse = _worsening(checked)
    before = len(builder.record.facts)
    for hit in code_hits:
        _observed(builder, hit, checked, checked, when, side, detail, worse)
    if not code_hits and _presence(checked) is not False:
        # a generic "finding" Observation whose value names the finding (e.g. SNOMED)
        for hit in value_hits:
            if hit.concept not in QUANTITY_CONCEPTS:
                builder.record.facts.append(_fact(hit, checked, when, FactStatus.CURRENT, side,
                                                  detail, concept_cc=checked.get(
                                                      "valueCodeableConcept"),
                                                  worsening=worse))
    for component, hits in component_hits:
        for hit in hits:
            _observed(builder, hit, checked, component, when, side, detail, worse)
    facts = builder.record.facts
    facts[before:] = [_with_latest(fact, latest) for fact in facts[before:]]
    return len(facts) > before


def _observed(builder: _Builder, hit: _Hit, observation: dict[str, Any],
              holder: dict[str, Any], when: datetime | None, side: Side | None, detail: str,
              worse: bool) -> None:
    """One recognised code of an Observation (or of one of its components): a quantity
    concept needs a usable number, a finding needs to be present."""
    if hit.concept in QUANTITY_CONCEPTS:
        if "dataAbsentReason" in holder:
            return
        number = _quantity(hit.concept, holder)
        if number is None:
            if _has_value(holder):
                builder.unrecognised_units += 1
            return
        value, unit = number
        builder.record.facts.append(_fact(hit, observation, when, FactStatus.CURRENT, side,
                                          detail, concept_cc=holder.get("code"), value=value,
                                          unit=unit, worsening=worse))
        return
    if hit.concept in BINARY_RESULT_CONCEPTS:
        _binary_result(builder, hit, observation, holder, when)
        return
    if _presence(holder) is False or _presence(observation) is False:
        return
    builder.record.facts.append(_fact(hit, observation, when, FactStatus.CURRENT, side, detail,
                                      concept_cc=holder.get("code"), worsening=worse))


def _binary_result(builder: _Builder, hit: _Hit, observation: dict[str, Any],
                   holder: dict[str, Any], when: datetime | None) -> None:
    """A positive/negative test (HLA-B27): kept either way, value 1.0 positive / 0.0
    negative, because "tested negative" and "never tested" lead to different advice
    (NICE NG65: 3 features and no result -> test). A dataAbsentReason, or no value and no
    interpretation at all (a pending test), is no result."""
    if "dataAbsentReason" in holder or "dataAbsentReason" in observation:
        return
    stated = [_presence(holder), _presence(observation)]
    if all(p is None for p in stated) and not _has_value(holder) \
            and "interpretation" not in observation:
        return
    text = holder.get("valueString")
    negated = isinstance(text, str) and bool(_NEGATIVE_TEXT.search(text))
    positive = False not in stated and not negated
    builder.record.facts.append(_fact(hit, observation, when, FactStatus.CURRENT, None, "",
                                      concept_cc=holder.get("code"),
                                      value=1.0 if positive else 0.0))


def _has_value(holder: dict[str, Any]) -> bool:
    return any(k.startswith("value") for k in holder)


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
    for coding in _codings(holder.get("valueCodeableConcept")):  # e.g. MRC grade as a code
        code = coding.get("code")
        if isinstance(code, str) and re.fullmatch(r"\d(?:\.\d+)?", code.strip()):
            return normalise(concept, float(code))
    return None


def _presence(holder: dict[str, Any]) -> bool | None:
    """True: the finding is stated present; False: stated absent (or no value, because a
    dataAbsentReason says it is missing); None: nothing said either way."""
    if "dataAbsentReason" in holder:
        return False
    boolean = holder.get("valueBoolean")
    if boolean is False:
        return False
    if boolean is True:
        return True
    for coding in _codings(holder.get("valueCodeableConcept")):
        if vs.is_absent_qualifier(coding.get("system"), coding.get("code")):
            return False
        if vs.is_present_qualifier(coding.get("system"), coding.get("code")):
            return True
    text = holder.get("valueString")
    if isinstance(text, str):
        lowered = text.strip().lower().rstrip(".")
        if lowered in _NEGATIVE_WORDS:
            return False
        if lowered in _POSITIVE_WORDS:
            return True
        if _negated_text(text):
            return False
    for concept in _concepts_list(holder.get("interpretation")):
        for coding in _codings(concept):
            code = str(coding.get("code", "")).upper()
            if code in _NEGATIVE_INTERPRETATION:
                return False
            if code in _POSITIVE_INTERPRETATION:
                return True
    return None


def _negated_text(text: str) -> bool:
    """Free text that states the finding absent: every clause negated (see
    ``_LEADING_NEGATION`` / ``_TRAILING_NEGATION``)."""
    clauses = [c.strip(" \t:-,!?\"'()") for c in _CLAUSE_BREAK.split(text)]
    clauses = [c for c in clauses if c]
    return bool(clauses) and all(
        _LEADING_NEGATION.search(c) or _TRAILING_NEGATION.search(c) for c in clauses)


# --------------------------------------------------------------------------- uncoded text


def _uncoded(builder: _Builder, resource: dict[str, Any]) -> bool:
    """A Condition or Observation no value set knows: counted as unrecognised, but a red
    flag its text names (not negated) becomes an ``uncoded:<topic>`` fact, so that it is
    never silently ignored (:mod:`cds_rules.uncoded`)."""
    builder.unrecognised()
    found: dict[Topic, tuple[str, str]] = {}
    for text in _entry_texts(resource):
        for topic, sign in uncoded.suggested(text, _negated_text):
            found.setdefault(topic, (sign, text))
    if not found:
        return False
    checked = builder.validated(resource)
    if checked is None or not _current_entry(checked, builder.record.now):
        return False
    if checked["resourceType"] == "Condition":
        when, latest = _condition_time(checked, builder.record.birth_date)
    else:
        when, latest = first_time_span(checked, "effectiveDateTime", "effectivePeriod",
                                       "effectiveInstant", "issued")
    for topic, (sign, text) in found.items():
        builder.record.facts.append(_with_latest(Fact(
            concept=uncoded.uncoded_concept(topic), display=f'Uncoded entry "{text}"',
            source=_source(checked), resource_type=checked["resourceType"], when=when,
            detail=sign), latest))
    return True


_LOINC_SYSTEMS = frozenset(k for k, v in vs._SYSTEM_ALIASES.items() if v == vs.LOINC) | {vs.LOINC}


def _entry_texts(resource: dict[str, Any]) -> list[str]:
    """The words of an entry's code (and an Observation's value): text and displays. A
    LOINC code names a test, not a finding ("Cancer Ag 125"): only its value is read."""
    texts: list[str] = []
    code = resource.get("code")
    codings = _codings(code)
    if not any(isinstance(c.get("system"), str) and c["system"] in _LOINC_SYSTEMS
               for c in codings):
        _add_words(texts, code, codings)
    value = resource.get("valueCodeableConcept")
    if value is not None:
        _add_words(texts, value, _codings(value))
    if isinstance(resource.get("valueString"), str):
        texts.append(resource["valueString"])
    return texts


def _add_words(texts: list[str], concept: object, codings: list[dict[str, Any]]) -> None:
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        texts.append(concept["text"])
    texts.extend(c["display"] for c in codings if isinstance(c.get("display"), str))


def _current_entry(resource: dict[str, Any], now: datetime) -> bool:
    """Neither refuted, entered in error, resolved, cancelled nor stated absent."""
    if resource["resourceType"] == "Condition":
        return (_status_code(resource, "verificationStatus") not in CONDITION_REFUTED
                and _status_code(resource, "clinicalStatus") not in CONDITION_HISTORY
                and not _abated(resource, now))
    return (_status_code(resource, "status") not in OBSERVATION_IGNORED
            and _presence(resource) is not False)


# --------------------------------------------------------------------------- medications


def _medication_concept(builder: _Builder, resource: dict[str, Any]) -> dict[str, Any] | None:
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        return concept
    ref = reference_of(resource.get("medicationReference"))
    if ref is None:
        return None
    if ref.startswith("#"):
        for contained in _as_list(resource.get("contained")):
            if isinstance(contained, dict) and contained.get("id") == ref[1:] \
                    and contained.get("resourceType") == "Medication":
                code = contained.get("code")
                return code if isinstance(code, dict) else None
        return None
    _, rid = parse_reference(ref)
    medication = builder.medications.get(rid or "")
    if medication is not None and validated(medication) is not None:
        code = medication.get("code")
        return code if isinstance(code, dict) else None
    return None


def _medication_hits(concept: dict[str, Any]) -> list[_Hit]:
    hits = {h.concept: h for h in _hits(concept)}
    texts = [c.get("display") for c in _codings(concept)] + [concept.get("text")]
    for text in texts:
        for name in vs.medication_concepts_for_text(text):
            if name not in hits:
                coding = next((c for c in _codings(concept) if c.get("display") == text),
                              {"display": text})
                hits[name] = _Hit(name, coding, None, False)
    return list(hits.values())


def _read_medication(builder: _Builder, resource: dict[str, Any]) -> bool:
    concept = _medication_concept(builder, resource)
    hits = _medication_hits(concept) if concept else []
    if not hits:
        return builder.unrecognised()
    checked = builder.validated(resource)
    if checked is None:
        return False
    status = _status_code(checked, "status")
    if status in MEDICATION_IGNORED or checked.get("doNotPerform") is True:
        return False
    start, end, ongoing = _medication_span(checked)
    now = builder.record.now
    fact_status = FactStatus.HISTORY if status in MEDICATION_HISTORY else FactStatus.CURRENT
    if end is None and ongoing and fact_status is FactStatus.CURRENT:
        end = now
    days = None
    if start is not None and end is not None:
        days = float(max(0, (min(end, now) - start).days))
    product = " ".join(str(t) for t in [concept.get("text") if concept else None,
                                        *(c.get("display") for c in _codings(concept))] if t)
    routes = " ".join(_route_texts(checked))
    added = False
    for hit in hits:
        if hit.concept in _SYSTEMIC_CHECKED and (_NON_SYSTEMIC.search(product)
                                                 or _NON_SYSTEMIC.search(routes)):
            continue
        builder.record.facts.append(_fact(hit, checked, start, fact_status, None, routes,
                                          concept_cc=concept, value=days,
                                          unit="d" if days is not None else None))
        added = True
    return added


def _dosages(resource: dict[str, Any]) -> list[dict[str, Any]]:
    dosages = _as_list(resource.get("dosageInstruction")) or _as_list(resource.get("dosage"))
    return [d for d in dosages if isinstance(d, dict)]


def _route_texts(resource: dict[str, Any]) -> Iterator[str]:
    for dosage in _dosages(resource):
        route = dosage.get("route")
        if isinstance(route, dict):
            if isinstance(route.get("text"), str):
                yield route["text"]
            for coding in _codings(route):
                if isinstance(coding.get("display"), str):
                    yield coding["display"]


def _medication_span(resource: dict[str, Any]) -> tuple[datetime | None, datetime | None, bool]:
    """(start, end, ongoing) of a medication: bounds of the dosage timing, the statement's
    effective period, authoredOn / dateAsserted as the start of last resort."""
    start = end = None
    for dosage in _dosages(resource):
        timing = dosage.get("timing")
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if isinstance(repeat, dict):
            bounds = repeat.get("boundsPeriod")
            start = start or period_start(bounds)
            end = end or period_end(bounds)
            span = duration_of(repeat.get("boundsDuration"))
            if span is not None and end is None:
                begin = start or parse_datetime(resource.get("authoredOn"))
                end = begin + span if begin is not None else None
    effective = resource.get("effectivePeriod")
    start = start or period_start(effective) or parse_datetime(resource.get("effectiveDateTime"))
    end = end or period_end(effective)
    start = start or parse_datetime(resource.get("authoredOn")) or parse_datetime(
        resource.get("dateAsserted"))
    if end is None:
        dispense = resource.get("dispenseRequest")
        if isinstance(dispense, dict):
            end = period_end(dispense.get("validityPeriod"))
    ongoing = end is None and _status_code(resource, "status") in (None, "active", "on-hold",
                                                                   "unknown")
    return start, end, ongoing


# --------------------------------------------------------------------------- orders


def _add_orders(builder: _Builder, resource: dict[str, Any], concept: object,
                state: OrderState, when: datetime | None, resource_id: str = "") -> bool:
    added = False
    for kind, coding in _order_hits(concept):
        builder.record.orders.append(Order(
            kind=kind,
            display=_label(coding, concept, _ORDER_TITLES.get(kind, kind)),
            source=_source(resource),
            state=state,
            when=when,
            resource_id=resource_id,
            system=vs.normalise_system(coding.get("system")),
            code=str(coding.get("code", "")),
        ))
        added = True
        if kind == "physiotherapy" and state != "draft" and not any(
                f.source == _source(resource) and f.concept == "conservative_care_given"
                for f in builder.record.facts):
            hit = _Hit("conservative_care_given", coding, None, False)
            builder.record.facts.append(_fact(hit, resource, when, FactStatus.CURRENT, None,
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


def _read_order(builder: _Builder, resource: dict[str, Any], spec: _OrderSpec, *,
                recognised: bool) -> _OrderRead | None:
    """The steps the order readers share. An unrecognised code and an invalid resource
    are counted in the data quality; a status outside ``spec.states`` or a refusal is
    skipped silently (nothing is wrong with the data)."""
    if not recognised:
        builder.unrecognised()
        return None
    if _done_long_ago(builder, resource, spec):
        return None
    checked = builder.validated(resource)
    if checked is None:
        return None
    state = spec.states.get(_status_code(checked, "status") or "")
    if state is None or (spec.refusal_flag and checked.get(spec.refusal_flag) is True):
        return None
    return _OrderRead(checked, state, first_time(checked, *spec.time_fields),
                      checked.get(spec.code_field))


def _done_long_ago(builder: _Builder, resource: dict[str, Any], spec: _OrderSpec) -> bool:
    """A completed lab test or referral (no finding code) dated before the reuse window:
    no rule can use it, so it is not validated (a Synthea record holds years of panels)."""
    cutoff = builder.cutoffs.get(_RECENT_ORDER)
    code = resource.get(spec.code_field)
    if cutoff is None or spec.states.get(str(resource.get("status"))) != "completed" \
            or isinstance(code, list) or _hits(code):
        return False
    kinds = {kind for kind, _ in _order_hits(code)}
    if not kinds or not kinds <= vs.SHORT_REUSE_KINDS:
        return False
    _, latest = first_time_span(resource, *spec.time_fields)
    return latest is not None and latest < cutoff


def _read_service_request(builder: _Builder, resource: dict[str, Any]) -> bool:
    read = _read_order(builder, resource, _SERVICE_REQUEST,
                       recognised=bool(_order_hits(resource.get("code"))))
    if read is None:
        return False
    return _add_orders(builder, read.resource, read.code, read.state, read.when)


def _read_draft_order(builder: _Builder, resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    if not _order_hits(code):
        return False
    checked = builder.validated(resource)
    if checked is None:
        return False
    when = first_time(checked, "authoredOn", "occurrenceDateTime", "occurrencePeriod")
    rid = checked.get("id")
    resource_id = f"{checked['resourceType']}/{rid}" if isinstance(rid, str) and rid else ""
    return _add_orders(builder, checked, checked.get("code"), "draft", when, resource_id)


def _read_procedure(builder: _Builder, resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    hits = _hits(code)
    read = _read_order(builder, resource, _PROCEDURE,
                       recognised=bool(hits or _order_hits(code)))
    if read is None:
        return False
    side, detail = _laterality(read.resource)
    for hit in hits:  # before the orders: a physiotherapy order then adds no second fact
        builder.record.facts.append(_fact(hit, read.resource, read.when, FactStatus.CURRENT,
                                          side, detail, concept_cc=read.code))
    return _add_orders(builder, read.resource, read.code, read.state, read.when) or bool(hits)


def _read_imaging_study(builder: _Builder, resource: dict[str, Any]) -> bool:
    kinds = _imaging_kinds(resource)
    read = _read_order(builder, resource, _IMAGING_STUDY, recognised=bool(kinds))
    if read is None:
        return False
    added = False
    for concept in _concepts_list(read.code):  # procedureCode is a list
        added = _add_orders(builder, read.resource, concept, read.state, read.when) or added
    if not added:  # no coded procedure: the kinds found by modality and body site
        for kind, label in kinds:
            builder.record.orders.append(Order(kind=kind, display=label,
                                               source=_source(read.resource),
                                               state=read.state, when=read.when))
            added = True
    return added


def _imaging_kinds(study: dict[str, Any]) -> list[tuple[str, str]]:
    """Spine imaging kinds of an ImagingStudy: by procedure code, else by a series'
    modality (MR, CT, DX, CR) with a spine body site."""
    found: dict[str, str] = {}
    for concept in _concepts_list(study.get("procedureCode")):
        for kind, coding in _order_hits(concept):
            found.setdefault(kind, _label(coding, concept, _ORDER_TITLES[kind]))
    if found:
        return list(found.items())
    for series in _as_list(study.get("series")):
        if not isinstance(series, dict):
            continue
        modality = series.get("modality")
        modality_code = modality.get("code") if isinstance(modality, dict) else None
        modality_kind = _MODALITY_KIND.get(str(modality_code or "").upper())
        site = series.get("bodySite")
        site_text = " ".join(str(site.get(k, "")) for k in ("display", "code")) \
            if isinstance(site, dict) else ""
        if modality_kind and _SPINE_WORDS.search(f"{site_text} {study.get('description', '')}"):
            found.setdefault(modality_kind, _ORDER_TITLES[modality_kind])
    return list(found.items())


def _read_diagnostic_report(builder: _Builder, resource: dict[str, Any]) -> bool:
    conclusions = _concepts_list(resource.get("conclusionCode"))
    hits = [h for c in conclusions for h in _hits(c)]
    read = _read_order(builder, resource, _DIAGNOSTIC_REPORT,
                       recognised=bool(_order_hits(resource.get("code")) or hits))
    if read is None:
        return False
    added = _add_orders(builder, read.resource, read.code, read.state, read.when)
    if read.state == "completed":  # findings only from a report that has them (not registered)
        for concept in _concepts_list(read.resource.get("conclusionCode")):
            for hit in _hits(concept):
                builder.record.facts.append(_fact(hit, read.resource, read.when,
                                                  FactStatus.CURRENT, None, "",
                                                  concept_cc=concept))
                added = True
    return added


_HANDLERS: dict[str, Any] = {
    "Condition": _read_condition,
    "Observation": _read_observation,
    "MedicationRequest": _read_medication,
    "MedicationStatement": _read_medication,
    "ServiceRequest": _read_service_request,
    "Procedure": _read_procedure,
    "ImagingStudy": _read_imaging_study,
    "DiagnosticReport": _read_diagnostic_report,
}

__all__ = ["build_record"]
