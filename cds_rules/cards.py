"""Findings -> CDS Hooks 2.0.1 cards (typed wire objects, :mod:`cds_rules.wire`).

One card per topic: the findings of a topic are merged (most urgent indicator, union of
facts, reasons, suggestions). Every card says why (each fired fact with when and which
resource), what to do, which of our own thresholds it used, what data could not be read,
and the evidence with version and strength. Nothing empty is ever emitted: an optional
field without a value is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache

from cds_rules import orders, override_reasons
from cds_rules.back_pain_words import IN_WORDS
from cds_rules.catalogue import BY_ID, TOPIC_ORDER
from cds_rules.evidence import SOURCES, Source
from cds_rules.ids import new_uuid
from cds_rules.model import (
    INDICATOR_RANK,
    TOPIC_SYSTEM,
    UNREAD_DRAFT,
    Fact,
    Finding,
    Indicator,
    Order,
    PatientRecord,
    Recommendation,
    Topic,
    earliest_start,
)
from cds_rules.rules.base import unique_facts
from cds_rules.settings import OUR_THRESHOLDS, RuleSettings, env_name
from cds_rules.wire import (
    SUMMARY_LIMIT,
    Action,
    Card,
    Coding,
    Link,
    Suggestion,
    written_once,
)
from cds_rules.wire import Source as WireSource

AGE_UNKNOWN_NOTE = "Age not recorded: evaluated as an adult."
SOURCE_LABEL = "backpain-cds"
WHOLE_SPINE = "mri-whole-spine"
EVIDENCE_LIMIT = 3  # clinical review 2026: at most three evidence links per card
PRIORITY_RANK = {"stat": 0, "asap": 1, "urgent": 2, "routine": 3}
TOPIC_DISPLAY: dict[Topic, str] = {
    Topic.CAUDA_EQUINA: "Cauda equina syndrome",
    Topic.SPINAL_CORD_COMPRESSION: "Spinal cord compression",
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: "Progressive neurological deficit",
    Topic.MALIGNANCY: "Possible spinal malignancy",
    Topic.INFECTION: "Possible spinal infection",
    Topic.FRACTURE: "Possible vertebral fracture",
    Topic.INFLAMMATORY_BACK_PAIN: "Inflammatory back pain",
    Topic.VISCERAL_OR_VASCULAR: "Visceral or vascular cause",
    Topic.IMAGING_NOT_INDICATED: "Spine imaging not indicated",
    Topic.IMAGING_INDICATED: "Spine imaging indicated",
    Topic.REPEAT_IMAGING: "Repeat spine imaging",
    Topic.ELECTRODIAGNOSTIC_TESTING: "Electrodiagnostic testing",
    Topic.CONSERVATIVE_CARE: "Conservative care",
}


def group_by_topic(findings: Iterable[Finding]) -> list[list[Finding]]:
    """Findings grouped per topic, most urgent group first (ties: CLINICAL.md order);
    within a group, the most urgent finding first."""
    groups: dict[Topic, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.topic, []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: INDICATOR_RANK[f.indicator])
    return sorted(groups.values(),
                  key=lambda g: (INDICATOR_RANK[g[0].indicator], TOPIC_ORDER[g[0].topic]))


def single_imaging(findings: Sequence[Finding]) -> list[Finding]:
    """One imaging study per response (clinical review 2026): the most urgent card that
    suggests spine imaging keeps that suggestion (ties: the more urgent order, then the
    whole spine, which covers the lumbar spine, then CLINICAL.md order); every other
    spine-imaging suggestion is dropped, and its card says which card carries it."""
    candidates = [(finding, rec) for finding in findings for rec in finding.recommendations
                  if orders.is_spine_imaging(rec.order)]
    if not candidates:
        return list(findings)
    carrier, kept = min(candidates, key=lambda c: (
        INDICATOR_RANK[c[0].indicator], PRIORITY_RANK[c[1].priority],
        c[1].order != WHOLE_SPINE, TOPIC_ORDER[c[0].topic]))
    return [_without_other_imaging(f, carrier.topic, kept) for f in findings]


def _without_other_imaging(finding: Finding, carrier: Topic, kept: Recommendation
                           ) -> Finding:
    imaging = [r for r in finding.recommendations if orders.is_spine_imaging(r.order)]
    if finding.topic is carrier:
        imaging = [r for r in imaging if r.order != kept.order]
    if not imaging:
        return finding
    recs = tuple(r for r in finding.recommendations if r not in imaging)
    note: tuple[str, ...] = ()
    if finding.topic is not carrier:
        note = (f"Imaging: see the {TOPIC_DISPLAY[carrier].lower()} card, which carries the "
                "one imaging study suggested for this patient.",)
    return replace(finding, recommendations=recs, reasons=(*finding.reasons, *note))


def build_card(
    findings: Sequence[Finding],
    record: PatientRecord,
    settings: RuleSettings,
    encounter_id: str | None = None,
) -> Card:
    """The card of one topic from its findings (most urgent first). Raises
    :class:`cds_rules.wire.InvalidWireObject` if it would break CDS Hooks."""
    lead = findings[0]
    sources = _sources(findings)[:EVIDENCE_LIMIT]
    facts = one_per_source(f for finding in findings for f in finding.facts)
    suggestions, already = _suggestions(findings, facts, record, settings, encounter_id)
    return Card(
        uuid=new_uuid(),
        summary=_clip(lead.summary),
        indicator=lead.indicator,
        detail=_detail(findings, facts, sources, already, record),
        source=_card_source(lead.topic, sources[0] if sources else None),
        override_reasons=override_reasons.codings(),
        links=_links(tuple(sources)),
        suggestions=tuple(suggestions),
        selection_behavior="any" if suggestions else None,
    )


@cache
def topic_coding(topic: Topic) -> Coding:
    """A card's ``source.topic``: our card-topic code system. One object per topic: wire
    objects are immutable, and building and checking the same Coding on every card was
    part of what a card-producing call paid beyond a card-less one (#15)."""
    return written_once(Coding(system=TOPIC_SYSTEM, code=topic.value,
                               display=TOPIC_DISPLAY[topic]))


@cache
def _card_source(topic: Topic, lead_source: Source | None) -> WireSource:
    """A card's ``source``: the service, the topic and the lead evidence (one object per
    topic and source, as :func:`topic_coding`)."""
    return written_once(WireSource(
        label=SOURCE_LABEL + (f" · {lead_source.short}" if lead_source else ""),
        topic=topic_coding(topic),
        url=lead_source.url if lead_source else None,
    ))


@cache
def _links(sources: tuple[Source, ...]) -> tuple[Link, ...]:
    """A card's links: one per evidence URL (one tuple per list of sources, as
    :func:`topic_coding`; the catalogue's rules name a few dozen such lists)."""
    return written_once(tuple(
        Link(label=f"{s.short} ({s.version})"[:80], url=s.url, type="absolute")
        for s in _unique_urls(sources)))


def one_per_source(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """The facts of a card, each source resource once (first occurrence kept): a resource
    matching two concepts (cancer and bone metastasis) is one line of "Why", which names
    what else the card read from it ("Numbness or tingling in the leg; Intervertebral
    discitis": an Observation's code and its coded value, both read)."""
    kept: dict[str, Fact] = {}
    for fact in unique_facts(facts):
        first = kept.setdefault(fact.source, fact)
        if first is not fact and fact.display not in first.display.split("; "):
            kept[fact.source] = replace(first, display=f"{first.display}; {fact.display}")
    return tuple(kept.values())


def _why_line(fact: Fact, record: PatientRecord) -> str:
    """A fact's line; one set aside from an entry not read, or a draft not read, says "not
    read", not "date not recorded" (the entry may well have a date: an impossible one, or
    one not read); a back pain named in words, "read without its date"."""
    unread = fact.concept == UNREAD_DRAFT or any(
        fact.source == aside.source and fact.concept == aside.concept
        for aside in record.unreadable_red_flags)  # a line may name more (one_per_source)
    if fact.detail == IN_WORDS:
        return fact.describe(record.now, unread=unread, undated="read without its date")
    return fact.describe(record.now, unread=unread)


def minimal_card(findings: Sequence[Finding], record: PatientRecord) -> Card:
    """A card without suggestions or links, for when the full card cannot be built: an
    emergency must still reach the clinician."""
    lead = findings[0]
    facts = one_per_source(f for finding in findings for f in finding.facts)
    lines = ["**Why**", "", *(f"- {_why_line(fact, record)}" for fact in facts),
             *(f"- {r}" for finding in findings for r in finding.reasons),
             *_age_lines(record)]
    return Card(uuid=new_uuid(), summary=_clip(lead.summary),
                indicator=lead.indicator, detail="\n".join(lines),
                source=WireSource(label=SOURCE_LABEL, topic=topic_coding(lead.topic)),
                override_reasons=override_reasons.codings())


def fallback_card(topic: Topic, indicator: Indicator,
                  findings: Sequence[Finding] = ()) -> Card:
    """The last-resort card of a topic, for when the built card breaks the response rules
    and would be dropped: an emergency must never vanish silently. Fixed wording, no
    suggestions or links; it names the rules and the resources behind the topic's findings
    (never their free text, which may be what broke the card)."""
    mine = [f for f in findings if f.topic is topic]
    sources = dict.fromkeys(fact.source for f in mine for fact in f.facts)
    rules = ", ".join(dict.fromkeys(f"{f.rule_id} v{f.rule_version}" for f in mine))
    lines = ["The full card could not be shown. Review this topic in the record now."]
    if sources:
        lines += ["", "**Why**: " + ", ".join(f"`{source}`" for source in sources)]
    if rules:
        lines += ["", f"_Rule {rules}._"]
    return Card(uuid=new_uuid(),
                summary=_clip(f"{TOPIC_DISPLAY[topic]}: review now (the full card could not "
                              "be shown)"),
                indicator=indicator, detail="\n".join(lines),
                source=WireSource(label=SOURCE_LABEL, topic=topic_coding(topic)),
                override_reasons=override_reasons.codings())


def _age_lines(record: PatientRecord) -> list[str]:
    """PATHWAY.md 1: without a birth date the patient is evaluated as an adult (an
    emergency must not be silenced by missing data); the clinician is told so."""
    if record.age is not None:
        return []
    return ["", f"**Data quality:** {AGE_UNKNOWN_NOTE}"]


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def _sources(findings: Sequence[Finding]) -> list[Source]:
    keys: list[str] = []
    for finding in findings:
        rule = BY_ID.get(finding.rule_id)
        if rule is not None:
            keys.extend(rule.evidence)
    return [SOURCES[k] for k in dict.fromkeys(keys)]


def _unique_urls(sources: Sequence[Source]) -> list[Source]:
    seen: dict[str, Source] = {}
    for s in sources:
        seen.setdefault(s.url, s)
    return list(seen.values())


def _detail(findings: Sequence[Finding], facts: Sequence[Fact], sources: Sequence[Source],
            already: Sequence[str], record: PatientRecord) -> str:
    lines = ["**Why**", ""]
    lines += [f"- {_why_line(fact, record)}" for fact in facts]
    for finding in findings:
        lines += [f"- {reason}" for reason in finding.reasons]
    lines += ["", "**What to do**", ""]
    advice: list[str] = []
    for finding in findings:
        rule = BY_ID.get(finding.rule_id)
        if finding.advice is not None:
            advice.extend(finding.advice)
        elif rule is not None:
            advice.extend(rule.advice)
    lines += [f"- {line}" for line in dict.fromkeys(advice)]
    lines += [f"- Already ordered or recently done, not suggested again: `{ref}`"
              for ref in already]
    thresholds = dict(t for finding in findings for t in finding.thresholds)
    if any((start := earliest_start(fact)) is not None and start > record.now
           for fact in facts):
        # counted as now only by the clock tolerance: the card says so (safety principle 6)
        thresholds["clock_skew_minutes"] = str(record.clock_tolerance_minutes)
    if thresholds:
        lines += ["", "**Thresholds we chose** (site-configurable, not from a guideline)", ""]
        lines += [f"- {OUR_THRESHOLDS.get(name, name)}: `{env_name(name)}` = {value}"
                  for name, value in thresholds.items()]
    gaps = list(dict.fromkeys(record.quality.data_gaps))
    if gaps:
        lines += ["", f"**Could not read:** {'; '.join(gaps)}; this card may be incomplete."]
    lines += _age_lines(record)
    if sources:
        lines += ["", "**Evidence**", ""]
        lines += [f"- [{s.citation()}]({s.url})" for s in sources]
    rules = ", ".join(f"{f.rule_id} v{f.rule_version}" for f in findings)
    lines += ["", f"_Rule {rules}._"]
    return "\n".join(lines)


def _merged_recommendations(findings: Sequence[Finding]) -> list[Recommendation]:
    """One recommendation per order key: the most urgent priority; at most one recommended."""
    merged: dict[str, Recommendation] = {}
    for finding in findings:
        for rec in finding.recommendations:
            old = merged.get(rec.order)
            if old is None:
                merged[rec.order] = rec
            else:
                priority = min(old.priority, rec.priority, key=PRIORITY_RANK.__getitem__)
                merged[rec.order] = Recommendation(rec.order, priority,
                                                   old.recommended or rec.recommended)
    chosen = False
    result: list[Recommendation] = []
    for rec in merged.values():
        recommended = rec.recommended and not chosen
        chosen = chosen or recommended
        result.append(Recommendation(rec.order, rec.priority, recommended))
    return result


def _suggestions(
    findings: Sequence[Finding],
    facts: Sequence[Fact],
    record: PatientRecord,
    settings: RuleSettings,
    encounter_id: str | None,
) -> tuple[list[Suggestion], list[str]]:
    suggestions: list[Suggestion] = []
    already: list[str] = []
    drafts: list[Order] = list({o.resource_id or o.source: o for finding in findings
                                for o in finding.delete_drafts}.values())
    for index, draft in enumerate(drafts):
        ref = draft.resource_id or draft.source
        suggestions.append(Suggestion(
            uuid=new_uuid(),
            label=_clip(f"Remove the draft order: {draft.display}"),
            actions=(Action(type="delete",
                            description=f"Remove the draft order {draft.display} ({ref})",
                            resource_id=ref),),
            is_recommended=True if index == 0 else None,
        ))
    recommended_taken = bool(drafts)
    # a sign is dated by when it began (Fact.began_by: a Condition's onset, the recordedDate
    # only when no onset is given, an Observation's period's start), never by a later
    # recording: a diagnosis recorded today, after the MRI of yesterday that made it, is not
    # newer than that MRI
    newest_sign = max((f.began_by for f in facts if f.began_by is not None), default=None)
    for rec in _merged_recommendations(findings):
        # an emergency order stays on offer when the last study predates the newest sign
        since = newest_sign if rec.priority == "stat" else None
        dupes = orders.duplicates(record, rec.order, settings, done_since=since)
        if dupes:
            already.extend(dupes)
            continue
        actions = tuple(
            Action(type="create", description=f"Order {spec.display} ({rec.priority})",
                   resource=orders.service_request(spec, rec, record.patient_id,
                                                   encounter_id, facts, record.now))
            for spec in orders.parts(rec.order)
        )
        recommended = rec.recommended and not recommended_taken
        recommended_taken = recommended_taken or recommended
        suggestions.append(Suggestion(uuid=new_uuid(), label=_clip(orders.label(rec.order)),
                                      actions=actions,
                                      is_recommended=True if recommended else None))
    return suggestions, list(dict.fromkeys(already))
