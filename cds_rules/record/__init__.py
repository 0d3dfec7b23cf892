"""The patient record: FHIR R4 resources (JSON dicts) -> :class:`~cds_rules.model.PatientRecord`.

What the rules see is decided here, so the safety principles of CLINICAL.md live here:

* Negation and status (principle 2). Condition ``verificationStatus`` refuted or
  entered-in-error: no fact. ``clinicalStatus`` active/recurrence/relapse (or absent, or
  unknown): CURRENT; inactive/remission/resolved, or an abatement in the past: HISTORY; an
  ICD-10-CM "personal history of" code (Z85) is always HISTORY. Observation ``status``
  entered-in-error or cancelled: ignored. A finding Observation whose value is
  ``valueBoolean: false``, a coded "no" answer (absent/negative/not-detected/no SNOMED
  qualifiers 2667000, 260385009, 260415000, 373067005; HL7 v2-0136 N; LOINC LA32-8,
  LA9634-2, LA6577-6, LA11883-8: ``valuesets.ABSENT_CODES``), negative words in
  ``valueString`` or in the coded value's text or displays ("absent", "negative", "no"), a
  sentence that denies the finding in ``valueString``, or in the coded value's text when no
  value set knows its codings ("no urinary retention", "retention: absent"; not one of its
  course or output, "Not able to void since 6am"; never a display), or a
  NEG/ND interpretation, or that carries a ``dataAbsentReason`` saying nobody asked or
  looked (not-asked, not-performed, not-applicable: nothing recorded): no fact (in that
  order: reason, boolean, code, words, interpretation). Present (52101004, yes answers,
  true, positive, "Unknown", any other ``dataAbsentReason`` such as asked-unknown, or no
  value at all): a fact. A quantity or a test result with any ``dataAbsentReason`` has no
  value: no fact.
* Messy data (principle 5). Times: onsetDateTime, onsetPeriod, onsetAge (birth date +
  age), onsetRange.low (Age), then recordedDate (onsetString is free text and ignored);
  effectiveDateTime, effectivePeriod (start, else end), effectiveInstant, then issued.
  A partial date is its first day, and the fact of a Condition or Observation also keeps
  the last instant it may mean (``Fact.when_latest``); an Observation over a period whose
  end is not before its start keeps its end's instead (``timing.observation_time``: it is
  dated by its start, and counts until its end); zone-less times are UTC.
  Quantities are normalised by :mod:`cds_rules.units` (°F -> Cel, lb/g -> kg); an
  unknown unit drops that value and is counted in ``quality.unrecognised_units``. A
  ``Quantity.comparator`` is kept on the fact (``Fact.comparator``): the value is then a
  bound, and the rules' thresholds read it as one (rules/context.py ``at_least``). Invalid
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
  active; a spine study is also recognised by modality MR/CT/DX/CR plus a spine body site,
  SNOMED CT or a DICOM Body Part Examined term), DiagnosticReport
  (final/amended/corrected/appended/preliminary -> completed); the hook's draftOrders are
  "draft" with ``resource_id`` "Type/id". A spine imaging order keeps the segments of the
  spine it images (``Order.segments``: its codes' value-set displays, else its words and
  series body sites; :mod:`.spine_sites`). A completed or active physiotherapy order is
  also a ``conservative_care_given`` fact.

Layout: :mod:`.builder` sorts the resources and calls one reader per type
(:mod:`.patient`, :mod:`.conditions`, :mod:`.observations`, :mod:`.medications`,
:mod:`.orders`, with :mod:`.spine_sites` for where an imaging study looked);
:mod:`.negation`, :mod:`.laterality`, :mod:`.status`, :mod:`.timing` and
:mod:`.uncoded_entries` hold what several readers share.

Performance: resources are selected by type and code from the raw dicts first (frozenset
and dict lookups); only the selected ones are validated, the elements the record reads
only, and plainly valid ones without building their ``fhir.resources.R4B`` model
(:mod:`.structure`; :func:`.builder.reference_record` always builds it).
"""

from cds_rules.record.builder import build_record
from cds_rules.record.timing import reading_cutoffs, require_aware

__all__ = ["build_record", "reading_cutoffs", "require_aware"]
