"""Entries that name a red flag, a back pain or a leg symptom but could not be read: set
aside, never passed over (``model.SET_ASIDE_CONCEPTS``; a back pain so set aside is the
call's context, PATHWAY.md 2).

An entry the rules read is validated first, and one that fails (an impossible date such as
"2026-02-30", an id with a space) is dropped whole, so no rule reads it. When its codes
(or, uncoded, its words) name something a red-flag family reads, it is kept aside here
(``PatientRecord.unreadable_red_flags``): every card names it (:func:`gap`) and the cards
that would say "no red flag" ask for the chart to be checked instead (CONS-01, IMG-01,
IMG-03, IMG-04). What is not named: an entry refuted, entered in error, cancelled or (an
order) revoked, a coded finding stated absent, a resolved symptom (a resolved cancer is
still a history).

What reaches a card and the audit is bounded: the entry's type and the element at fault,
not its id (an invalid id is any text, and may hold the patient's id); a name of at most
:data:`_NAME_LIMIT` characters; at most :data:`_LISTED` entries; the element's path from
the model's field names only (:func:`cds_rules.validation.invalid_element`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cds_rules import uncoded
from cds_rules.concepts import CONCEPTS
from cds_rules.model import (
    SET_ASIDE_CONCEPTS,
    SYMPTOM_CONCEPTS,
    UNREAD,
    Fact,
    UnreadDraft,
)
from cds_rules.record.codes import Hit, codings_of, label_of, listed_concept_hits
from cds_rules.record.negation import presence
from cds_rules.record.state import Builder
from cds_rules.record.status import (
    CONDITION_HISTORY,
    CONDITION_REFUTED,
    MEDICATION_IGNORED,
    OBSERVATION_IGNORED,
    status_code,
)
from cds_rules.validation import MODELS, invalid_element

log = logging.getLogger(__name__)

_NAME_LIMIT = 60  # with the words around it, a summary under the CDS Hooks 140
_LISTED = 3
_PROCEDURE_NOT_DONE = frozenset({"not-done", "entered-in-error"})
# An order withdrawn, a report cancelled: nothing was asked for or found.
_ORDER_WITHDRAWN = frozenset({"revoked", "entered-in-error"})
_REPORT_CANCELLED = frozenset({"cancelled", "entered-in-error"})


def set_aside(builder: Builder, resource: dict[str, Any], hits: Iterable[Hit],
              detail: str | None = None) -> None:
    """A coded entry dropped as invalid: its concepts a red-flag family reads (back pain
    and leg symptoms included: ``model.SET_ASIDE_CONCEPTS``), set aside
    (once each) unless the entry says they are not there now; with those of a ``code``
    sent as a list (:func:`listed_code_hits`). ``detail``: why it was not read, when not
    malformed (record/reader_faults: a fault in the service)."""
    _add(builder, resource, _coded_names(resource, [*hits, *listed_code_hits(resource)]),
         detail)


def set_aside_unread(builder: Builder, resource: dict[str, Any], detail: str) -> None:
    """An entry not read for a fault whose codes and words name no red flag, or could not
    be looked up (record/reader_faults): set aside as itself, unless it says it is not
    there, so that no card says "no red flag" over it (it may be a temperature)."""
    try:
        withdrawn = _withdrawn(resource)
    except Exception:  # its status cannot be read either: it may well be there
        withdrawn = False
    if not withdrawn:
        _add(builder, resource, {UNREAD: f"an unread {entry_type(resource)} entry"}, detail)


NOTES_TOO_LONG = "its notes longer than the service reads in one call"


def set_aside_notes(builder: Builder, resource: dict[str, Any]) -> None:
    """An entry read without its notes, which are longer than a call reads
    (record/entry_words): named as unread, so that no card says "no red flag" over what they
    may say; its codes and other words are read (record/builder says so on every card)."""
    log.warning("record: an entry's notes not read: past what a call reads")
    if not notes_withdrawn(resource):
        _add(builder, resource, {UNREAD: f"the notes of a {entry_type(resource)} entry"},
             NOTES_TOO_LONG)


def notes_withdrawn(resource: dict[str, Any]) -> bool:
    """An entry whose notes are not read: entered in error, cancelled, or a Condition
    refuted. A procedure not done, a draft or a medicine not taken is read (its note may say
    why: "Not done: new urinary retention"), so its notes past the limits are named too (a
    review: they were passed over under "no red flag")."""
    return (status_code(resource, "status") in _NOTES_WITHDRAWN
            or status_code(resource, "verificationStatus") in CONDITION_REFUTED)


_NOTES_WITHDRAWN = frozenset({"entered-in-error", "cancelled"})


def notes_gap(flags: list[Fact]) -> str | None:
    """The line every card carries while an entry's notes were not read for their length."""
    count = sum(1 for flag in flags if flag.detail == NOTES_TOO_LONG)
    if not count:
        return None
    whose = "1 entry's notes" if count == 1 else f"{count} entries' notes"
    return (f"{whose} not read because of their length: longer than the service reads in "
            "one call (logged for its operators); what they record is read by no rule: "
            "check the chart")


def entry_type(resource: dict[str, Any]) -> str:
    """The entry's resource type when it is one the service knows, else "Resource": a
    ``resourceType`` is any text the sender wrote (a draft order's is not validated)."""
    kind = resource.get("resourceType")
    return kind if isinstance(kind, str) and kind in MODELS else "Resource"


def set_aside_words(builder: Builder, resource: dict[str, Any],
                    signs: dict[Any, tuple[str, str]], detail: str | None = None,
                    uncoded_entry: bool = True, context: dict[str, str] | None = None
                    ) -> None:
    """An uncoded entry dropped as invalid whose words name red flags (topic: (sign,
    text)), or a back pain or sciatica (``context``, concept: text), as :func:`set_aside`
    does for codes (a ``code`` sent as a list included). ``uncoded_entry``: named 'Uncoded
    entry "<words>"'; else '"<words>"' (an entry not read for a fault may well be coded)."""
    if _withdrawn(resource):
        return
    counts = _still_counts(resource)
    called = 'Uncoded entry "{}"' if uncoded_entry else '"{}"'
    _add(builder, resource, {**{uncoded.uncoded_concept(topic): called.format(text)
                                for topic, (sign, text) in signs.items() if counts(sign)},
                             **{concept: called.format(text)  # a resolved one: no context
                                for concept, text in (context or {}).items()
                                if counts("") and not _stated_absent(resource)},
                             **_coded_names(resource, listed_code_hits(resource))}, detail)


def listed_code_hits(resource: dict[str, Any]) -> list[Hit]:
    """The red flags named in a ``code`` sent as a list of CodeableConcepts (one in FHIR
    R4: the entry is invalid, and the readers find no code in it). Named beside whatever
    else the entry names, never instead of it."""
    code = resource.get("code")
    if not isinstance(code, list):
        return []
    return [hit for hit in listed_concept_hits(code) if hit.concept in SET_ASIDE_CONCEPTS]


def set_aside_listed_code(builder: Builder, resource: dict[str, Any]) -> None:
    """An entry a reader found nothing in (no known code, no words) whose ``code`` came as
    a list naming a red flag: checked (it cannot be valid) and set aside."""
    if listed_code_hits(resource) and builder.validated(resource) is None:
        set_aside(builder, resource, ())


def _coded_names(resource: dict[str, Any], hits: Iterable[Hit]) -> dict[str, str]:
    named = {hit.concept: hit for hit in hits if hit.concept in SET_ASIDE_CONCEPTS}
    if not named or _withdrawn(resource) or _stated_absent(resource):
        return {}
    counts = _still_counts(resource)
    return {concept: label_of(hit.coding, _concept_of(resource, hit),
                              CONCEPTS.get(concept, concept))
            for concept, hit in named.items() if counts(uncoded.CODED_SIGNS.get(concept, ""))}


def _concept_of(resource: dict[str, Any], hit: Hit) -> object:
    """The entry's ``code`` when the hit is one of its codings (its text may name it);
    else None: a value's or a report conclusion's hit is not named by the code's text
    ("MRI lumbar spine" for a cauda equina syndrome it concludes)."""
    code = resource.get("code")
    return code if any(hit.coding is coding for coding in codings_of(code)) else None


def _add(builder: Builder, resource: dict[str, Any], names: dict[str, str],
         detail: str | None = None) -> None:
    """One fact per concept (concept: its name). ``detail``: why it was not read; None:
    malformed, and where (then the entry is counted for :func:`gap`)."""
    if not names:
        return
    if detail is None:
        where = invalid_element(resource)
        detail = f"malformed {where}" if where else "malformed"
        builder.unreadable_entries += 1
    builder.record.unreadable_red_flags += [
        Fact(concept=concept, display=_short(name), source=_safe_source(resource),
             resource_type=entry_type(resource), detail=detail)
        for concept, name in names.items()]


def gap(flags: list[Fact], entries: int, *, for_audit: bool = False) -> str:
    """The line every card carries: the malformed ``entries`` set aside, by name, type and
    fault (no id), for the clinician to find in the chart. Those not read for a fault in the
    service have their own line (record/reader_faults). ``for_audit``: by concept, not by
    the entry's own text (``DataQuality.audit_lines``)."""
    named = dict.fromkeys(f"{f.concept if for_audit else f.display} "
                          f"({f.resource_type} entry: {f.detail})" for f in flags)
    listed = listed_labels([(label, 1) for label in named])
    one = entries == 1
    # a back pain or leg symptom is read as one with no date (record/builder), a red flag
    # by no rule
    naming, read = (("a red flag", "read by no rule")
                    if all(f.concept not in SYMPTOM_CONCEPTS for f in flags) else
                    ("a red flag, back pain or leg symptoms", "not read as written"))
    return (f"{entries} {'entry' if one else 'entries'} naming {naming}, malformed, so "
            f"{read}: {listed}; check {'it' if one else 'them'} in the chart")


def unread_draft(resource: dict[str, Any], kinds: frozenset[str], name: str,
                 why: str | None = None) -> UnreadDraft:
    """A draft order that could not be read (``PatientRecord.unread_drafts``), bounded as a
    set-aside entry is: its name shortened, its id only when it is a FHIR id. ``why``: a
    fault in the service; None: malformed, and where."""
    if why is None:
        where = invalid_element(resource)
        why = f"malformed {where}" if where else "malformed"
    rid = resource.get("id")
    has_id = isinstance(rid, str) and bool(rid)
    return UnreadDraft(kinds=kinds, display=_short(name),
                       source=_safe_source(resource) if has_id else
                       f"{entry_type(resource)}/(no id)",
                       resource_type=entry_type(resource),
                       reference=f"{resource.get('resourceType')}/{rid}" if has_id else "",
                       detail=why)


def drafts_gap(drafts: Sequence[UnreadDraft], *, for_audit: bool = False) -> str:
    """The line every card carries while a draft order was malformed (one not read for a
    fault is on the fault line): what it is, where it is malformed, that no rule advised.
    ``for_audit``: by the kinds it orders, not by its own text."""
    listed = listed_labels([(f"{_draft_label(d, for_audit)} ({d.resource_type} entry: "
                             f"{d.detail})", 1) for d in drafts])
    one = len(drafts) == 1
    return (f"{len(drafts)} draft {'order' if one else 'orders'} malformed, so checked by no "
            f"rule: {listed}; no advice for or against {'it' if one else 'them'} is given")


def _draft_label(draft: UnreadDraft, for_audit: bool) -> str:
    if not for_audit:
        return draft.display
    return ", ".join(sorted(draft.kinds)) or "order of unknown kind"


def listed_labels(labels: Sequence[tuple[str, int]]) -> str:
    """ "a; b; c; and 4 more": the first :data:`_LISTED` labels, then how many of what they
    stand for (label, how many) are left."""
    more = sum(n for _, n in labels[_LISTED:])
    return "; ".join(label for label, _ in labels[:_LISTED]) + (
        f"; and {more} more" if more else "")


def _safe_source(resource: dict[str, Any]) -> str:
    """The entry's reference when its id is a FHIR id; else its type only (an invalid id
    is any text, of any length, and may hold the patient's id)."""
    rtype = entry_type(resource)
    rid = resource.get("id")
    return f"{rtype}/{rid}" if isinstance(rid, str) and _is_fhir_id(rid) else \
        f"{rtype}/(malformed id)"


def _is_fhir_id(text: str) -> bool:
    return 0 < len(text) <= 64 and all(c.isascii() and (c.isalnum() or c in "-.")
                                       for c in text)


def _short(text: str) -> str:
    return text if len(text) <= _NAME_LIMIT else text[: _NAME_LIMIT - 1].rstrip() + "…"


def _withdrawn(resource: dict[str, Any]) -> bool:
    """Refuted, entered in error, cancelled, revoked, a medicine not taken: not there,
    whatever else is malformed."""
    kind = resource.get("resourceType")
    status = status_code(resource, "status")
    return (status_code(resource, "verificationStatus") in CONDITION_REFUTED
            or (kind == "Observation" and status in OBSERVATION_IGNORED)
            or (str(kind).startswith("Medication") and status in MEDICATION_IGNORED)
            or (kind == "Procedure" and status in _PROCEDURE_NOT_DONE)
            or (kind == "ServiceRequest" and status in _ORDER_WITHDRAWN)
            or (kind == "DiagnosticReport" and status in _REPORT_CANCELLED))


def _stated_absent(resource: dict[str, Any]) -> bool:
    """A coded Observation whose value says its finding is absent ("Absent", false)."""
    if resource.get("resourceType") != "Observation":
        return False
    try:
        return presence(resource) is False
    except Exception:  # malformed beyond what presence reads: not stated absent
        return False


def _still_counts(resource: dict[str, Any]) -> Callable[[str], bool]:
    """Which signs (uncoded.HISTORY_SIGNS' names) the entry still names: all, unless it is
    resolved; then a history only (a resolved cancer, fracture or aneurysm still counts)."""
    if status_code(resource, "clinicalStatus") not in CONDITION_HISTORY:
        return lambda sign: True
    return lambda sign: sign in uncoded.HISTORY_SIGNS
