"""The clinical core's shared vocabulary: facts, findings, the patient record and the result.

Everything here is plain data. The record builder (``cds_rules.record``) turns FHIR R4
resources into a :class:`PatientRecord`; the rule families (``cds_rules.rules``) read the
record and return :class:`Finding` objects; the card builder (``cds_rules.cards``) turns
findings into CDS Hooks cards. No Flask, no HTTP, no database, no clock: "now" is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

Indicator = Literal["info", "warning", "critical"]
INDICATOR_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


class Topic(StrEnum):
    """The fixed card topics of CLINICAL.md (external contract: never rename)."""

    CAUDA_EQUINA = "cauda-equina"
    SPINAL_CORD_COMPRESSION = "spinal-cord-compression"
    PROGRESSIVE_NEUROLOGICAL_DEFICIT = "progressive-neurological-deficit"
    MALIGNANCY = "malignancy"
    INFECTION = "infection"
    FRACTURE = "fracture"
    INFLAMMATORY_BACK_PAIN = "inflammatory-back-pain"
    VISCERAL_OR_VASCULAR = "visceral-or-vascular"
    IMAGING_NOT_INDICATED = "imaging-not-indicated"
    IMAGING_INDICATED = "imaging-indicated"
    REPEAT_IMAGING = "repeat-imaging"
    ELECTRODIAGNOSTIC_TESTING = "electrodiagnostic-testing"
    CONSERVATIVE_CARE = "conservative-care"


RED_FLAG_TOPICS: frozenset[Topic] = frozenset(
    {
        Topic.CAUDA_EQUINA,
        Topic.SPINAL_CORD_COMPRESSION,
        Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT,
        Topic.MALIGNANCY,
        Topic.INFECTION,
        Topic.FRACTURE,
        Topic.INFLAMMATORY_BACK_PAIN,
        Topic.VISCERAL_OR_VASCULAR,
    }
)

# Concepts whose facts are red flags, weak or strong: one dated after a study makes a new
# study no repeat; one in the window keeps the conservative card from saying "no red flag";
# one dated after now (beyond the clock tolerance) is named on every card as not read.
RED_FLAG_CONCEPTS = (
    "cauda_equina_syndrome", "urinary_retention", "urinary_incontinence",
    "faecal_incontinence", "saddle_anaesthesia", "loss_of_rectal_sensation",
    "sexual_dysfunction", "gait_disturbance", "hyperreflexia", "myelopathy",
    "muscle_weakness", "foot_drop", "cancer", "bone_metastasis", "myeloma", "weight_loss",
    "fever", "spinal_infection", "epidural_abscess", "significant_trauma",
    "fragility_fracture", "vertebral_fracture_cord_injury", "aortic_aneurysm",
    "aortic_dissection",
)

# What red-flag families read besides red flags (risk factors, visceral causes), which an
# unreadable entry (record/unreadable.py) must not hide either. Not a measurement (mostly
# normal: "check the temperature" on every malformed reading would be noise).
RED_FLAG_INPUTS: frozenset[str] = frozenset({
    *RED_FLAG_CONCEPTS, "osteoporosis", "iv_drug_use", "immunosuppression",
    "recent_infection", "recent_spinal_procedure", "long_term_steroids",
    "systemic_corticosteroid", "renal_stone_or_colic", "pyelonephritis", "haematuria",
    "chest_pain", "dyspnoea"})
# PATHWAY.md 2: current facts of these concepts put the record in a back-pain context.
BACK_PAIN_CONTEXT = ("low_back_pain", "thoracic_back_pain", "radiculopathy", "spinal_stenosis",
                     "cauda_equina_syndrome", "myelopathy", "spinal_infection")
# PATHWAY.md 9: leg symptoms (on both sides, radicular pain and sensory symptoms are cauda
# equina signs too).
LEG_SYMPTOMS = ("radiculopathy", "leg_pain", "leg_sensory_symptoms", "muscle_weakness")
# Back pain and leg symptoms that are no red flag alone. Red-flag families read them
# beside other findings (an aneurysm and back pain, a kidney stone and back pain, a new
# weakness and thoracic back pain; a sciatica on both sides is a cauda equina sign), and
# they give the call its context (PATHWAY.md 2).
SYMPTOM_CONCEPTS: frozenset[str] = frozenset(
    {*BACK_PAIN_CONTEXT, *LEG_SYMPTOMS}) - RED_FLAG_INPUTS
# What an entry that could not be read is set aside for (record/unreadable.py): what a
# red-flag family reads. A malformed back pain, passed over, left the call without context
# (a new urinary retention beside it without a card); named, it is the context, and no
# card reassures over it.
SET_ASIDE_CONCEPTS: frozenset[str] = RED_FLAG_INPUTS | SYMPTOM_CONCEPTS
UNREAD_DRAFT = "unread_draft"  # a draft order not read (PatientRecord.unread_drafts), on a card
UNREAD = "unread_entry"  # an entry set aside as itself: not read for a fault, names unknown
FAULT = "a fault in the service"  # why an entry set aside for a fault was not read (detail)

# Code systems of our own (FHIR canonical URIs). Topic codes are the external contract.
TOPIC_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/card-topic"
OVERRIDE_REASON_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/override-reason"
LOCAL_FINDING_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/local-finding"
RULE_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/rule"

HOOKS = ("patient-view", "encounter-start", "order-select", "order-sign")
ORDER_HOOKS = ("order-select", "order-sign")


class FactStatus(StrEnum):
    """Whether a fact describes the patient now or only their past.

    CURRENT: an active/recurrence/relapse Condition (or no clinicalStatus), or a
    final/amended/corrected/preliminary/registered Observation.
    HISTORY: a resolved/inactive/remission Condition: not a current symptom, but still
    history (a resolved cancer is still a history of cancer). Negated, refuted and
    entered-in-error data never becomes a Fact at all."""

    CURRENT = "current"
    HISTORY = "history"


# Positive/negative tests kept either way: value 1.0 positive, 0.0 negative (record/).
BINARY_RESULT_CONCEPTS: frozenset[str] = frozenset({"hla_b27"})


@dataclass(frozen=True, slots=True)
class Fact:
    """One clinical fact, traced to the resource it came from.

    ``concept`` is a value-set name from :data:`CONCEPTS`. ``when`` is the clinically
    relevant time (onset, effective, authored, performed, or recordedDate as a fallback),
    timezone-aware UTC, or None when the resource gives none. ``when_latest`` is the last
    instant a partial date may mean ("2026-02" -> end of February; None: ``when`` is
    exact), or for an Observation over a period (``effectivePeriod``) the last instant its
    end may mean: windows ask whether the possible period overlaps them (see :attr:`latest`).
    ``value``/``unit`` hold a normalised quantity (temperature in Cel, weight in kg, MRC
    grade 0-5, pain 0-10).
    """

    concept: str
    display: str
    source: str  # relative reference, e.g. "Condition/abc"
    resource_type: str
    system: str = ""
    code: str = ""
    when: datetime | None = None
    status: FactStatus = FactStatus.CURRENT
    value: float | None = None
    unit: str | None = None
    laterality: Literal["left", "right", "bilateral"] | None = None
    worsening: bool = False  # coded as worsening / progressive
    detail: str = ""  # free text worth showing (e.g. order status, body site)
    when_latest: datetime | None = None
    severe: bool = False  # Condition.severity severe: SNOMED 24484000, LOINC LA6750-9, or words
    recorded: datetime | None = None  # Condition.recordedDate, when it differs from ``when``
    # Quantity.comparator ("<", "<=", ">=", ">"): ``value`` is a bound, not the measurement
    # ("<35 Cel" from a thermometer below its range); the rules' thresholds read it
    # (rules/context.py ``at_least`` / ``below`` / ``at_most``).
    comparator: str | None = None
    # ``when`` was sent without a zone (fhir_time.floating): it may be up to 14 hours
    # earlier than read (a wall time in UTC+14), so it is never "after now" for that alone
    floating: bool = False
    # Over a period (an Observation's effectivePeriod, ``when_latest`` its end): the last
    # instant the period's start may mean; None otherwise (see :attr:`began_by`)
    start_latest: datetime | None = None

    @property
    def latest(self) -> datetime | None:
        """The latest time the fact may date from (``when`` when the date is exact), or over a
        period, the latest it may extend to: what a window asks of it."""
        return self.when_latest or self.when

    @property
    def began_by(self) -> datetime | None:
        """The latest time the fact may have begun: :attr:`latest`, except over a period, whose
        start's own. What "lasted at least N days" and "done since it began" ask: an
        Observation over a period is no later a sign for running to its end."""
        return self.start_latest or self.latest

    def describe(self, now: datetime | None = None, unread: bool = False,
                 undated: str = "date not recorded") -> str:
        """One line for a card: what, when, from which resource. ``unread``: named by an
        entry the service could not read (its date, if any, was not read either);
        ``undated``: what to say when there is no date (a back pain in words is read
        without its entry's date: record/uncoded_entries)."""
        parts = [self.display]
        if self.concept in BINARY_RESULT_CONCEPTS and self.value is not None:
            parts.append("(positive)" if self.value > 0 else "(negative)")
        elif self.value is not None:
            parts.append(f"{self.comparator or ''}{self.value:g} {self.unit or ''}".rstrip())
        if self.laterality:
            parts.append(f"({self.laterality})")
        if self.status is FactStatus.HISTORY:
            parts.append("[history]")
        when = self.when.date().isoformat() if self.when else (
            "not read" if unread else undated)
        return f"{' '.join(parts)} — {when} — `{self.source}`"


# The spine segments a study looked at (Order.segments), from its code, description or series
# body sites (record/spine_sites.py). The cauda equina lies in the lumbar and sacral canal,
# below the cord's end (L1-L2): a thoracic or cervical study alone cannot show it.
CERVICAL, THORACIC, LUMBAR, SACRAL = "cervical", "thoracic", "lumbar", "sacral"


@dataclass(frozen=True, slots=True)
class Order:
    """A ServiceRequest/Procedure/ImagingStudy/DiagnosticReport relevant to the rules.

    ``kind`` is an order-catalogue concept (e.g. "spine_mri", "spine_ct", "spine_xray",
    "emg_ncs", "physiotherapy"); ``state`` is "draft" (in the hook's draftOrders),
    "active" (ordered, not done) or "completed" (performed / reported). ``segments``: for
    spine imaging, the segments of the spine the study images (:data:`LUMBAR`, ...); empty
    when the record does not say ("MRI of spine").
    """

    kind: str
    display: str
    source: str
    state: Literal["draft", "active", "completed"]
    when: datetime | None = None
    resource_id: str = ""  # for drafts: the id the EHR knows, e.g. "ServiceRequest/abc"
    system: str = ""
    code: str = ""
    segments: frozenset[str] = frozenset()

    def may_image(self, segment: str) -> bool:
        """The study images ``segment``, or its region is not recorded: an MRI "of spine"
        may well be lumbar, and counting it never makes a warning nobody can act on."""
        return not self.segments or segment in self.segments


@dataclass(frozen=True, slots=True)
class UnreadDraft:
    """A draft order on an order hook's desk that could not be read: malformed (an
    impossible date, an id with a space) or not read for a fault in the service. It is
    what the clinician is ordering, so it still gives the call its context (PATHWAY.md 2:
    the red-flag families run) but no rule advises on it or offers it for deletion."""

    kinds: frozenset[str]  # what its codes order ("spine_mri", ...); empty: unknown (a fault)
    display: str  # its code's name, at most 60 characters
    source: str  # "<type>/<id>", "<type>/(malformed id)" or "<type>/(no id)": never an invalid id
    resource_type: str
    reference: str  # "<type>/<id>" as sent, to match order-select's selections; "" if none
    detail: str  # why it was not read: "malformed <element>", or FAULT


@dataclass(slots=True)
class DataQuality:
    """What the record builder had to leave out, for the audit and the card detail."""

    resources_seen: int = 0
    resources_used: int = 0
    skipped_invalid: int = 0
    reader_faults: int = 0  # entries a reader raised on: a fault in the service, not the data
    other_patient_dropped: int = 0
    unrecognised_codes: int = 0
    unrecognised_units: int = 0  # quantities in a unit we cannot convert (value left out)
    data_gaps: list[str] = field(default_factory=list)  # e.g. "Observation (server down)"
    # A gap's line as the audit keeps it, where the card's quotes an entry's own text (its
    # display or words: free text, which may hold anything): the same with our concept
    # names instead. The audit is pseudonymised (service/store) and keeps no record text.
    audit_lines: dict[str, str] = field(default_factory=dict)

    def add_gap(self, line: str, audit_line: str | None = None) -> None:
        """A data gap every card says; ``audit_line``: as the audit keeps it, if not so."""
        self.data_gaps.append(line)
        if audit_line is not None and audit_line != line:
            self.audit_lines[line] = audit_line

    def as_dict(self) -> dict[str, Any]:
        return {
            "resourcesSeen": self.resources_seen, "resourcesUsed": self.resources_used,
            "skippedInvalid": self.skipped_invalid,
            "readerFaults": self.reader_faults,
            "otherPatientDropped": self.other_patient_dropped,
            "unrecognisedCodes": self.unrecognised_codes,
            "unrecognisedUnits": self.unrecognised_units,
            "dataGaps": [self.audit_lines.get(gap, gap) for gap in self.data_gaps],
        }


@dataclass(slots=True)
class PatientRecord:
    """The patient as the rules see them: demographics, facts and orders at ``now``."""

    patient_id: str
    now: datetime
    birth_date: datetime | None = None
    sex: Literal["male", "female", "other", "unknown"] = "unknown"
    deceased: bool = False  # Patient.deceased[x]: true or a date -> no cards at all
    facts: list[Fact] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    # What red-flag families read (back pain and leg symptoms included), named by an entry
    # that is not valid FHIR R4 or not read for a fault (dropped, read by no rule): every
    # card names them, and no card says "no red flag" over them (record/unreadable.py).
    # ``detail`` says where the entry is malformed, or FAULT.
    unreadable_red_flags: list[Fact] = field(default_factory=list)
    unread_drafts: list[UnreadDraft] = field(default_factory=list)  # record/unreadable.py
    quality: DataQuality = field(default_factory=DataQuality)
    # How far after ``now`` an entry may be dated and still count as now: the EHR's clock
    # may run ahead of ours (RuleSettings.clock_skew_minutes; the builder sets it).
    clock_tolerance: timedelta = timedelta(0)
    # The concepts ``facts`` holds, kept with the list's identity and length it was read
    # from (``present_concepts``): most questions the rules ask name concepts the record
    # does not hold, and this answers them without a pass over the facts. Facts are only
    # ever appended, or the list replaced; an item changed in place must keep its concept
    # (the builder's ``with_latest`` does), or the set would be stale.
    _concepts_seen: tuple[list[Fact] | None, int, frozenset[str]] = field(
        default=(None, -1, frozenset()), init=False, repr=False, compare=False)

    @property
    def age(self) -> int | None:
        """Age in whole years at ``now``."""
        if self.birth_date is None:
            return None
        b, n = self.birth_date, self.now
        return n.year - b.year - ((n.month, n.day) < (b.month, b.day))

    @property
    def horizon(self) -> datetime:
        """The latest time an entry may be dated and still count (``now`` plus the clock
        tolerance): a retention dated minutes "after now" by a clock that runs ahead is
        today's retention, not a future one to ignore."""
        return self.now + self.clock_tolerance

    @property
    def clock_tolerance_minutes(self) -> int:
        return int(self.clock_tolerance.total_seconds() // 60)

    def red_flags_dated_ahead(self) -> list[Fact]:
        """Current red flags dated after ``horizon`` (a wrong year, a clock far ahead): no
        rule counts them as new, so a card must name them, never say "no red flag"."""
        horizon = self.horizon
        return [f for f in self.having(*RED_FLAG_CONCEPTS)
                if (start := earliest_start(f)) is not None and start > horizon]

    def having(
        self,
        *concepts: str,
        within: timedelta | None = None,
        current_only: bool = True,
    ) -> list[Fact]:
        """Facts of any of ``concepts``, newest first.

        ``within``: keep facts whose time may fall in [now - within, horizon] (a partial date
        counts when its possible period overlaps that window); facts with no time are kept
        only when ``within`` is None. ``current_only``: drop HISTORY facts.
        """
        if self.present_concepts().isdisjoint(concepts):  # most questions: no such fact
            return []
        since = self.now - within if within is not None else None
        until = self.horizon
        wanted = concepts if len(concepts) < 3 else set(concepts)  # cheaper to build / ask
        found = [
            f
            for f in self.facts
            if f.concept in wanted
            and (not current_only or f.status is FactStatus.CURRENT)
            and (since is None or _may_fall_within(f, since, until))
        ]
        return sorted(found, key=_newest_first) if len(found) > 1 else found

    def begun_within(self, *concepts: str, within: timedelta) -> list[Fact]:
        """:meth:`having` in a window, by when each fact began (:attr:`Fact.began_by`): what
        a window that stands a card down asks. An Observation over a period counts from its
        start: a blood count over a period from 2024 that ended this week is no test done
        this week (a review of reading periods to their end)."""
        since = self.now - within
        return [f for f in self.having(*concepts, within=within)
                if f.began_by is not None and f.began_by >= since]

    def present_concepts(self) -> frozenset[str]:
        """The concepts of ``facts``, read again whenever the list (or its length) changed:
        the builder appends facts until the rules run, and tests replace the list."""
        facts = self.facts
        seen, length, concepts = self._concepts_seen
        if seen is not facts or length != len(facts):
            length = len(facts)  # before the set: a fact appended meanwhile is read again
            concepts = frozenset(f.concept for f in facts)
            self._concepts_seen = (facts, length, concepts)
        return concepts

    def may_fall_within(self, fact: Fact, since: datetime) -> bool:
        """The fact's possible period [when, latest] overlaps [since, horizon] (dated
        only)."""
        return _may_fall_within(fact, since, self.horizon)

    def ever(self, *concepts: str) -> list[Fact]:
        """Facts of any of ``concepts``, current or history, any time."""
        return self.having(*concepts, within=None, current_only=False)

    def series(self, concept: str, within: timedelta | None = None) -> list[Fact]:
        """Valued facts of one concept, oldest first (for trends: weight, MRC grade)."""
        valued = [f for f in self.having(concept, within=within) if f.value is not None]
        return sorted(valued, key=lambda f: f.when or self.now)

    def orders_of(self, *kinds: str, states: Iterable[str] = ("draft", "active", "completed"),
                  within: timedelta | None = None) -> list[Order]:
        """Orders of any of ``kinds`` in ``states``; ``within`` bounds their time.

        An order without a date is judged by its state. A draft or active one is pending
        now, whenever it was written: it is in every window (an MRI on order is not
        suggested again). A completed one may have been done years ago: it is in no window,
        so it is never "recent" (a reason not to suggest a study or test again, or to call a
        draft a repeat) and never "done since" a sign (it could not have looked for it).
        Counting it either way would silence a suggestion on a date nobody recorded; not
        counting it at worst suggests a study the clinician can see was done.
        """
        wanted_states = set(states)
        since = self.now - within if within is not None else None
        until = self.horizon
        return [
            o
            for o in self.orders
            if o.kind in kinds
            and o.state in wanted_states
            and (since is None
                 or (o.when is None and o.state != "completed")
                 or (o.when is not None and since <= o.when <= until))
        ]


# A date without a time ("2026-03-02") is a day where it was recorded: in UTC+14 that day
# begins 14 hours before UTC midnight. Read as UTC, a red flag charted on a Sydney morning
# was "tomorrow" until 00:00 UTC and no rule counted it (independent review, December 2026).
DAY_BEGINS_EARLIER = timedelta(hours=14)
_EARLIEST_SHIFTABLE = datetime.min.replace(tzinfo=UTC) + DAY_BEGINS_EARLIER


def earliest_start(fact: Fact) -> datetime | None:
    """The earliest instant the fact may date from: ``when``, or for a date without a time
    (its start a span: :attr:`Fact.began_by` later than ``when``) the start of that day in
    the easternmost time zone, and for a time without a zone that wall time there. Only this
    end moves: how late the fact may be (``latest``) is as read, so no window that stands a
    card down grows. An Observation over a period from an exact instant starts at it."""
    when = fact.when
    # (:attr:`Fact.began_by` is ``when``: exact, or a period from an exact instant; asked
    # by its slots, as this runs for every fact a window asks about)
    if when is None or (not fact.floating
                        and (fact.when_latest is None or fact.start_latest == when)):
        return when
    if when < _EARLIEST_SHIFTABLE:  # "0001-01-01", a "no date" sentinel: cannot go earlier
        return when
    return when - DAY_BEGINS_EARLIER


def _may_fall_within(fact: Fact, since: datetime, until: datetime) -> bool:
    start, latest = earliest_start(fact), fact.latest
    return start is not None and latest is not None and start <= until and since <= latest


def _newest_first(fact: Fact) -> tuple[int, float]:
    return (0, -fact.when.timestamp()) if fact.when else (1, 0.0)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Something a card suggests doing, as a key into the order catalogue.

    ``order``: catalogue key (e.g. "mri-lumbar-without-contrast", "emergency-department",
    "crp", "esr", "emg-ncs"); ``priority``: FHIR ServiceRequest priority.
    """

    order: str
    priority: Literal["routine", "urgent", "asap", "stat"] = "routine"
    recommended: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fired: what it concluded, on which facts, and what to do.

    ``rule_id`` is stable (e.g. "CES-01"); ``rule_version`` changes whenever the rule's
    logic, thresholds or evidence change, so that audit and feedback can be traced.
    ``reasons``: short clinical sentences (why it fired) shown in the card detail.
    ``delete_drafts``: draft order references the card suggests removing.
    ``thresholds``: our own (non-guideline) thresholds used, name -> value, which the
    card must disclose as configurable choices. ``advice``: this finding's own (a card
    asking to check an entry first says neither "remove the order" nor "reassure").
    ``checks_unread``: it asks for an entry the service could not read to be checked
    before deciding: shown whatever the site's switches (PATHWAY.md 2).
    """

    topic: Topic
    rule_id: str
    rule_version: str
    indicator: Indicator
    summary: str
    facts: tuple[Fact, ...] = ()
    reasons: tuple[str, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    delete_drafts: tuple[Order, ...] = ()
    thresholds: tuple[tuple[str, str], ...] = ()
    advice: tuple[str, ...] | None = None
    checks_unread: bool = False
