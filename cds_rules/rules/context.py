"""Clinical facts shared by several families: back-pain context and onset, leg symptoms,
laterality, neurological signs, fever, steroids, weight loss.

Each helper returns the facts that make the statement true (empty when it is false), so a
rule can both decide and say why. Windows count back from ``record.now``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache

from cds_rules.back_pain_words import IN_WORDS
from cds_rules.model import (
    BACK_PAIN_CONTEXT,
    FAULT,
    LUMBAR,
    ORDER_HOOKS,
    Fact,
    FactStatus,
    Order,
    PatientRecord,
    UnreadDraft,
    earliest_start,
)
from cds_rules.settings import RuleSettings

RADICULAR_PAIN = ("radiculopathy", "leg_pain")
LEG_DEFICIT = ("muscle_weakness", "foot_drop", "leg_sensory_symptoms")
MOTOR_DEFICIT = ("muscle_weakness", "foot_drop")
# The cauda equina lies in the lumbar (and sacral) canal, below the end of the cord: an MRI
# assesses a cauda equina sign only when it images the lumbar spine (or its region is not
# recorded); GIRFT 2023 asks for an MRI of the lumbosacral spine.
CAUDA_EQUINA_SEGMENT = LUMBAR
CES_SIGNS = (
    "urinary_retention",
    "urinary_incontinence",
    "faecal_incontinence",
    "saddle_anaesthesia",
    "loss_of_rectal_sensation",
)
CORD_SIGNS = ("gait_disturbance", "hyperreflexia")
# Any neurological symptom or sign (NICE NG234: radicular pain, limb weakness, difficulty
# walking, sensory loss, bladder or bowel dysfunction).
NEURO_SYMPTOMS = (
    *RADICULAR_PAIN,
    *LEG_DEFICIT,
    *CORD_SIGNS,
    *CES_SIGNS,
)
NEURO_DEFICITS = (*LEG_DEFICIT, *CORD_SIGNS, *CES_SIGNS)
CANCER = ("cancer", "bone_metastasis", "myeloma")
SPINE_IMAGING = ("spine_mri", "spine_ct", "spine_xray")
CROSS_SECTIONAL = ("spine_mri", "spine_ct")
MRC_NORMAL = 5.0
# An MRC strength grade (0-5) of one muscle: a measured motor deficit when under 5.
MRC_GRADE = "muscle_strength_grade"


@cache
def days(n: int | float) -> timedelta:
    """``n`` days (kept: the rules ask for the same few windows on every call)."""
    return timedelta(days=n)


def age_on(record: PatientRecord, when: datetime) -> int | None:
    """Age in whole years on ``when`` (None without a birth date)."""
    b = record.birth_date
    if b is None:
        return None
    return when.year - b.year - ((when.month, when.day) < (b.month, b.day))


def context_facts(record: PatientRecord) -> list[Fact]:
    """Current back-pain context facts (PATHWAY.md 2)."""
    return record.having(*BACK_PAIN_CONTEXT)


def earliest(facts: Iterable[Fact]) -> datetime | None:
    dated = [f.when for f in facts if f.when is not None]
    return min(dated) if dated else None


def latest_onset(facts: Iterable[Fact]) -> datetime | None:
    """The onset that is certain: the earliest of the facts' *latest* possible starts
    (``Fact.began_by``). For "lasted at least N days" judgements that must not rest on a
    partial date's first day ("2026-10" may be 31 October), nor end at a period's last."""
    dated = [f.began_by for f in facts if f.began_by is not None]
    return min(dated) if dated else None


def coded_context(record: PatientRecord) -> list[Fact]:
    """The context facts not named only in words (cds_rules/back_pain_words): what the
    low-risk pathway cards may speak over. A back pain read only from words opens the
    red-flag checks, but no card reassures ("no red flag recorded") or advises against an
    order over it: the rest of its words are not assessed (fever, weight loss, trauma)."""
    return [f for f in context_facts(record) if f.detail != IN_WORDS]


def back_pain_only_in_words(record: PatientRecord) -> bool:
    """Is every current back-pain fact named only in words (:func:`coded_context`)?"""
    return bool(context_facts(record)) and not coded_context(record)


def back_pain_onset(record: PatientRecord) -> datetime | None:
    """Earliest time of the current context facts not named only in words (an entry's date
    is not always its words' back pain's); None when no such fact is dated."""
    return earliest(coded_context(record))


def duration_days(record: PatientRecord, since: datetime | None) -> float | None:
    if since is None:
        return None
    return (record.now - since).total_seconds() / 86400.0


def drafts(
    record: PatientRecord, kinds: Sequence[str], hook: str, selections: Sequence[str] = ()
) -> list[Order]:
    """Draft orders of ``kinds`` on the desk of an order hook.

    On order-select with selections, only the selected drafts count (the others are not
    what the clinician is choosing now); without selections every draft counts.
    """
    if hook not in ORDER_HOOKS:
        return []
    found = record.orders_of(*kinds, states=("draft",))
    if hook == "order-select" and selections:
        chosen = set(selections)
        selected = [o for o in found if (o.resource_id or o.source) in chosen]
        return selected
    return found


def unread_drafts(record: PatientRecord, kinds: Sequence[str], hook: str,
                  selections: Sequence[str] = ()) -> list[UnreadDraft]:
    """Draft orders of ``kinds`` on the desk that could not be read, or whose kind is
    unknown (it may be one of them), chosen as :func:`drafts` chooses; one without an id
    counts whatever the selections (it cannot be shown not to be the one chosen)."""
    if hook not in ORDER_HOOKS:
        return []
    found = [d for d in record.unread_drafts if not d.kinds or not d.kinds.isdisjoint(kinds)]
    if hook == "order-select" and selections:
        return [d for d in found if not d.reference or d.reference in selections]
    return found


def has_context(record: PatientRecord, hook: str, selections: Sequence[str] = ()) -> bool:
    """PATHWAY.md 2: back-pain facts, read or not, or a draft spine imaging / EMG-NCS
    order, read or not (malformed data must not leave a red flag beside it unchecked)."""
    if context_facts(record) or unread_context(record):
        return True
    kinds = (*SPINE_IMAGING, "emg_ncs")
    return bool(drafts(record, kinds, hook, selections)
                or unread_drafts(record, kinds, hook, selections))


def unread_context(record: PatientRecord) -> list[Fact]:
    """Back-pain context named by an entry the service could not read (record/unreadable):
    the call's context all the same (PATHWAY.md 2), so that a red flag beside it is not
    passed over. A back pain or leg symptom so set aside is also read as one with no date
    (record/builder), so :func:`context_facts` has it too; this adds the red flags among
    them (cauda equina syndrome, myelopathy, spinal infection), which are not so read."""
    return [f for f in record.unreadable_red_flags if f.concept in BACK_PAIN_CONTEXT]


def may_hide_back_pain(record: PatientRecord) -> bool:
    """An entry that can record back pain or leg symptoms (any but a medicine or an imaging
    study: a report's conclusions and a procedure's reasons are read too) was not read for
    a fault in the service and set aside (record/reader_faults): the record's lack of
    context is not known (PATHWAY.md 2: the conservative card's check-first form only)."""
    return any(may_record_symptoms(f) for f in record.unreadable_red_flags)


def may_record_symptoms(fact: Fact) -> bool:
    """Set aside for a fault, from an entry that can record back pain or leg symptoms."""
    return fact.detail == FAULT and fact.resource_type not in _NO_CONTEXT_TYPES


_NO_CONTEXT_TYPES = frozenset({"MedicationRequest", "MedicationStatement", "ImagingStudy"})


def is_new(fact: Fact, record: PatientRecord, window: timedelta) -> bool:
    """New within ``window``, coded as worsening, or undated (cannot be excluded as new).

    A partial date counts as new when any instant it may mean falls in the window: a sign
    dated "2026-11" seen on 22 November may be a few days old."""
    if fact.status is not FactStatus.CURRENT:
        return False
    if fact.worsening or fact.when is None:
        return True
    return record.may_fall_within(fact, record.now - window)


def may_be_after(fact: Fact, moment: datetime) -> bool:
    """The fact may date from after ``moment``: its latest possible start is later (a red
    flag dated "2026-02" may follow a 15 February MRI; ``Fact.began_by``: an Observation
    over a period begins at its start, as a Condition at its onset). An undated fact may be
    after anything. An ambiguous date must never discourage imaging or hide a red flag."""
    began = fact.began_by
    return began is None or began > moment


def mri_since(record: PatientRecord, fact: Fact, segment: str | None = None) -> list[Order]:
    """Completed spine MRIs certainly done after ``fact`` began (the study is later than
    the fact's latest possible start, ``Fact.began_by``); none for an undated fact. With
    ``segment``, only studies that may image it (:meth:`Order.may_image`): a cauda equina
    sign asks for the lumbar spine (:data:`CAUDA_EQUINA_SEGMENT`), and a thoracic-only MRI
    cannot show it.
    An MRI whose region is not recorded counts: it may well be lumbar, and refusing it would
    make warnings nobody can act on; only a study that says it looked elsewhere is left out
    (never silence a sign because of an MRI that could not show it)."""
    began = fact.began_by
    if began is None:
        return []
    return [o for o in record.orders_of("spine_mri", states=("completed",))
            if o.when is not None and o.when >= began
            and (segment is None or o.may_image(segment))]


def mri_elsewhere_since(record: PatientRecord, facts: Sequence[Fact],
                        segment: str) -> list[Order]:
    """Completed spine MRIs done after one of ``facts`` began that did not image
    ``segment`` (a thoracic MRI after a cauda equina sign): named on the card, since "no
    spine MRI since" would not be true."""
    return list({o.source: o for f in facts for o in mri_since(record, f)
                 if not o.may_image(segment)}.values())


def persisting_unassessed(record: PatientRecord, concepts: Sequence[str],
                          window: timedelta, segment: str | None = None) -> list[Fact]:
    """Active Conditions of ``concepts`` older than ``window`` (not new, not worsening)
    with no spine MRI since their onset (of ``segment``, when given: :func:`mri_since`): a
    red flag nobody may have assessed (CLINICAL.md review, time). Observations are findings
    of their day, not persisting states."""
    return [f for f in record.having(*concepts)
            if f.resource_type == "Condition" and not is_new(f, record, window)
            and not mri_since(record, f, segment)]


def assessment_reason(facts: Sequence[Fact], mri: str = "spine MRI") -> str:
    """The "confirm it has been assessed" sentence of a persisting-sign warning (``mri``:
    the study missing since, "lumbar spine MRI" when another one was done)."""
    named = "; ".join(f"{f.display} recorded {f.when.date().isoformat() if f.when else '?'}"
                      for f in facts)
    return (f"{named}: still active, older than the 'new' window, and no {mri} since: "
            "confirm it has been assessed.")


def new_diagnoses(record: PatientRecord, concepts: Sequence[str],
                  window: timedelta) -> list[Fact]:
    """Current diagnoses that are new: onset *or recording* within ``window`` (CLINICAL.md
    review: a red-flag diagnosis recorded today is an emergency even with an older onset),
    worsening, or undated."""
    since = record.now - window
    return [f for f in record.having(*concepts)
            if is_new(f, record, window)
            or (f.recorded is not None and since <= f.recorded <= record.horizon)]


def new_or_worsening(
    record: PatientRecord, concepts: Sequence[str], window: timedelta
) -> list[Fact]:
    return [f for f in record.having(*concepts) if is_new(f, record, window)]


# A measured value read against a threshold, with its Quantity.comparator (FHIR R4: "<"
# means the real value is below the stated one). A value bounded above ("<38", "<=38")
# cannot show a value at or above a threshold; a value bounded below (">39") cannot show a
# value under one, except an MRC grade: grades are whole numbers, so ">3" is read as 4, a
# possible deficit (:func:`below`, :func:`at_most`). Each is safe: it stands down only a
# conclusion the data cannot support, and it still proves what it can: ">39 Cel" is a
# fever, "<3" a weak muscle. Unit conversions keep the order, so the bound holds in the
# canonical unit.
BOUNDED_ABOVE = frozenset({"<", "<="})
BOUNDED_BELOW = frozenset({">", ">="})


def at_least(fact: Fact, limit: float) -> bool:
    """The value is at or above ``limit``: measured, or bounded below, at or above it."""
    return (fact.value is not None and fact.comparator not in BOUNDED_ABOVE
            and fact.value >= limit)


def below(fact: Fact, limit: float) -> bool:
    """The MRC grade may be under ``limit``: measured or bounded above under it, or "<"
    ``limit`` itself ("<5": under 5); a grade bounded below counts as the lowest whole grade
    it allows (">3" and ">=4": 4), since grades are whole numbers and a possible deficit is
    never silenced (">3" after a 5 may be a fall). No value at all counts as 0, as it always
    has (a grade with no number is a deficit)."""
    if fact.value is None:
        return limit > 0
    if fact.comparator in BOUNDED_BELOW:
        return _lowest_whole_grade(fact.value, fact.comparator) < limit
    return fact.value < limit or (fact.comparator == "<" and fact.value <= limit)


def _least_strength(grade: Fact) -> float:
    """The strength an earlier grade shows at least: its value, or for a lower bound its
    lowest whole grade (">3": 4, so a later 3 or "<4" is a fall)."""
    if grade.value is not None and grade.comparator in BOUNDED_BELOW:
        return _lowest_whole_grade(grade.value, grade.comparator)
    return grade.value or 0


def _lowest_whole_grade(value: float, comparator: str) -> int:
    """The lowest whole grade a lower bound allows: ">3" -> 4, ">=3" -> 3, ">3.5" -> 4."""
    return math.floor(value) + 1 if comparator == ">" else math.ceil(value)


def at_most(fact: Fact, limit: float) -> bool:
    """The MRC grade may be at or below ``limit``: measured, or bounded above, at or below
    it; bounded below, its lowest whole grade is (">=3" may be 3: severe; ">3" is 4 or 5)."""
    if fact.value is None:
        return False
    if fact.comparator in BOUNDED_BELOW:
        return _lowest_whole_grade(fact.value, fact.comparator) <= limit
    return fact.value <= limit


def weak_grades(record: PatientRecord, within: timedelta | None = None) -> list[Fact]:
    """MRC strength grades below normal (5) -- an observed motor deficit."""
    grades = record.series(MRC_GRADE, within)
    return [f for f in grades if below(f, MRC_NORMAL)]


def motor_deficit(record: PatientRecord) -> list[Fact]:
    """Current weakness or foot drop, coded or measured (MRC grade < 5, latest per muscle)."""
    latest = [group[-1] for group in grade_groups(record).values()]
    return [*record.having(*MOTOR_DEFICIT), *(g for g in latest if below(g, MRC_NORMAL))]


def grade_groups(record: PatientRecord) -> dict[tuple[str, str, str], list[Fact]]:
    """Serial MRC grades grouped per muscle (code, side, body site), oldest first."""
    groups: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)
    for fact in record.series(MRC_GRADE):
        groups[(fact.code or fact.display, fact.laterality or "", fact.detail)].append(fact)
    return groups


def falling_grades(record: PatientRecord) -> list[Fact]:
    """Serial MRC grades of one muscle whose latest value is below an earlier one. An
    earlier grade bounded above ("<4") says no strength to fall from and is not compared;
    a grade bounded below, earlier or latest, counts as its lowest whole grade (">3" after
    a 5 is a fall; a 3 after ">3" too)."""
    falling: list[Fact] = []
    for series in grade_groups(record).values():
        if len(series) < 2:
            continue
        latest = series[-1]
        earlier = [f for f in series[:-1] if f.comparator not in BOUNDED_ABOVE]
        earlier_best = max((_least_strength(f) for f in earlier), default=None)
        if earlier_best is not None and below(latest, earlier_best):
            falling.extend(series)
    return falling


def bilateral(facts: Sequence[Fact]) -> list[Fact]:
    """Facts that together show both sides: one bilateral fact, or a left and a right."""
    both = [f for f in facts if f.laterality == "bilateral"]
    if both:
        return both
    left = [f for f in facts if f.laterality == "left"]
    right = [f for f in facts if f.laterality == "right"]
    if left and right:
        return [*left, *right]
    return []


def both_sides_shown(facts: Sequence[Fact]) -> list[Fact]:
    """Every fact with a side, when together they show both sides (an entry coded bilateral,
    or a left and a right). Unlike :func:`bilateral`, a left or right entry beside a
    bilateral one is kept: it may be the side that is new, or the one not imaged since
    (an independent review, December 2026: an old bilateral entry hid a new left and right
    pair from the cauda equina check)."""
    sided = [f for f in facts if f.laterality in ("left", "right", "bilateral")]
    sides = {f.laterality for f in sided}
    return sided if "bilateral" in sides or {"left", "right"} <= sides else []


def several_levels(facts: Sequence[Fact]) -> list[Fact]:
    """Motor deficit at two or more different places (muscles or body sites), either side."""
    places: dict[str, Fact] = {}
    for fact in facts:
        measured = fact.code if fact.concept == MRC_GRADE else ""
        site = _site_without_side(fact.detail) or measured
        if site:
            places.setdefault(site, fact)
    return list(places.values()) if len(places) >= 2 else []


def _site_without_side(text: str) -> str:
    words = [w for w in text.lower().replace(",", " ").split()
             if w not in {"left", "right", "bilateral", "both", "l", "r"}]
    return " ".join(words)


def fever_within_window(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    """Fever coded, or a temperature at or above the threshold, within the fever window:
    measured, or bounded below (">39 Cel" is a fever); a temperature bounded above
    ("<38 Cel") is no fever (:func:`at_least`)."""
    window = days(settings.fever_window_days)
    coded = record.having("fever", within=window)
    measured = [f for f in record.having("body_temperature", within=window)
                if at_least(f, settings.fever_celsius)]
    return [*coded, *measured]


def long_term_steroids(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    """Coded long-term steroid use, or systemic corticosteroids for at least the threshold.

    A medication fact's duration is its value in days when the record builder gives one,
    else the time from its earliest current start to now.
    """
    coded = record.having("long_term_steroids")
    if coded:
        return coded
    meds = record.having("systemic_corticosteroid")
    if not meds:
        return []
    minimum = settings.long_term_steroid_days
    for med in meds:
        if med.value is not None and (med.unit or "d").lower() in {"d", "day", "days"} \
                and med.value >= minimum:
            return [med]
    start = earliest(meds)
    span = duration_days(record, start)
    if span is not None and span >= minimum:
        return meds
    return []


def weight_loss(record: PatientRecord, settings: RuleSettings) -> tuple[list[Fact], float | None]:
    """Unintentional weight loss: coded within the window, or the weight series falling by
    at least the threshold percentage (highest earlier weight against the latest). The
    loss must be shown: an earlier weight bounded above ("<80 kg") is not the heaviest, and
    a latest weight bounded below (">70 kg") shows no loss; any other bound only makes the
    real loss larger than the one computed."""
    window = days(settings.weight_loss_window_days)
    coded = record.having("weight_loss", within=window) or [
        f for f in record.having("weight_loss") if f.when is None
    ]
    if coded:
        return coded, None
    weights = [f for f in record.series("body_weight", window) if (f.value or 0) > 0]
    if len(weights) < 2:
        return [], None
    shown: tuple[list[Fact], float | None] = ([], None)
    for latest in _may_be_last(weights):  # an ambiguous order must not hide a loss
        earlier = [f for f in weights if f is not latest and f.comparator not in BOUNDED_ABOVE]
        if not earlier or latest.comparator in BOUNDED_BELOW:
            continue
        heaviest = max(earlier, key=lambda f: f.value or 0)
        lost = ((heaviest.value or 0) - (latest.value or 0)) / (heaviest.value or 1) * 100.0
        if lost >= settings.weight_loss_percent and (shown[1] is None or lost > shown[1]):
            shown = ([heaviest, latest], lost)
    return shown


def _may_be_last(weights: list[Fact]) -> list[Fact]:
    """The weights (oldest first, dated) that may be the latest: a time sent without a zone
    may be up to 14 hours earlier than read (``earliest_start``), so a weight read as the
    last may have come before one read as earlier (independent review, December 2026)."""
    return [w for w in weights
            if all(w.latest is None or g.latest is None
                   or w.latest >= (earliest_start(g) or g.latest)
                   for g in weights if g is not w)] or weights[-1:]


def over_fracture_age(record: PatientRecord, settings: RuleSettings) -> tuple[bool, str]:
    """Age above the fracture-risk age: one age, or ACP's men > 65 / women > 75."""
    age = record.age
    if age is None:
        return False, ""
    if settings.fracture_age_mode == "acp" and record.sex in ("male", "female"):
        limit = settings.fracture_age_male if record.sex == "male" else settings.fracture_age_female
        return age > limit, f"age {age} (over {limit}, ACP 2011 {record.sex} threshold)"
    return age > settings.fracture_age, f"age {age} (over {settings.fracture_age})"


def completed_cross_sectional(record: PatientRecord, settings: RuleSettings) -> list[Order]:
    """Spine MRI/CT completed within the repeat-imaging window, newest first."""
    found = record.orders_of(*CROSS_SECTIONAL, states=("completed",),
                             within=days(settings.repeat_imaging_window_days))
    dated = [o for o in found if o.when is not None]  # an undated study cannot be "recent"
    return sorted(dated, key=lambda o: o.when.timestamp() if o.when else 0.0, reverse=True)


def age_fact(record: PatientRecord) -> Fact | None:
    """The patient's age as a fact traced to the Patient resource (for "Why" lists)."""
    if record.age is None:
        return None
    return Fact(concept="age", display=f"Age {record.age} years (date of birth)",
                source=f"Patient/{record.patient_id}", resource_type="Patient",
                when=record.birth_date)
