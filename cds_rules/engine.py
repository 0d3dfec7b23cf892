"""One evaluation: resources -> patient record -> rule families -> findings -> cards.

PATHWAY.md fixes the composition: back-pain context only, never a deceased patient or a
known minor (an unknown
age is evaluated as an adult: a missing birth date must not silence an emergency);
red-flag families on every hook (critical ones are never suppressed); then the pathway
rules, which stand down when a red flag fired; one card per topic, most urgent first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from cds_rules.call import Evaluation, HookRequest
from cds_rules.cards import (
    build_card,
    fallback_card,
    group_by_topic,
    minimal_card,
    single_imaging,
)
from cds_rules.catalogue import BY_ID, RULES
from cds_rules.failures import raised_at
from cds_rules.model import RED_FLAG_TOPICS, Finding, PatientRecord
from cds_rules.record import build_record
from cds_rules.rules.base import Rule, RuleContext, shown_at_site
from cds_rules.rules.context import has_context, may_hide_back_pain
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.wire import Card, InvalidWireObject

log = logging.getLogger(__name__)
ADULT_AGE = 18


def evaluate(
    request: HookRequest, now: datetime, settings: RuleSettings = DEFAULT_SETTINGS
) -> Evaluation:
    """Evaluate one hook call. ``now`` must be timezone-aware."""
    record = build_record(request, now, settings)
    return evaluate_record(record, request.hook, settings, request.selections,
                           request.encounter_id)


def evaluate_record(
    record: PatientRecord,
    hook: str,
    settings: RuleSettings = DEFAULT_SETTINGS,
    selections: tuple[str, ...] = (),
    encounter_id: str | None = None,
) -> Evaluation:
    """Run the rules over a built record (the unit-test seam: no FHIR parsing here)."""
    result = Evaluation(quality=record.quality)
    if record.deceased or is_known_minor(record):
        return result
    if has_context(record, hook, selections):
        findings = run_rules(record, hook, settings, selections, result.failed_rules)
    elif may_hide_back_pain(record):  # PATHWAY.md 2: the check-first card alone
        findings = run_rules(record, hook, settings, selections, result.failed_rules,
                             rules=(BY_ID["CONS-01"],))
    else:
        return result
    shown = single_imaging([f for f in findings if is_shown(f, settings)])
    result.findings = shown
    for group in group_by_topic(shown):
        card, full = _card(group, record, settings, encounter_id, result.findings)
        if not full:
            result.replaced.append(group[0].topic.value)
        if card is not None:
            result.cards.append(card)
    return result


def _card(group: Sequence[Finding], record: PatientRecord, settings: RuleSettings,
          encounter_id: str | None, findings: Sequence[Finding]
          ) -> tuple[Card | None, bool]:
    """The topic's card, and whether it is the full one. A card that cannot be built (a
    bug, or one that would break CDS Hooks: wire objects check themselves) must not sink
    the others, and an emergency is never lost: the minimal card (facts and reasons, no
    suggestions), else the fixed last-resort card for a critical or warning topic; a
    broken info card is left out.
    (:class:`cds_rules.wire.InvalidWireObject` names the field, never its value.)"""
    topic = group[0].topic.value
    try:
        return build_card(group, record, settings, encounter_id), True
    except Exception as error:
        log_failure(f"card for topic {topic} could not be built", error)
    try:
        return minimal_card(group, record), False
    except Exception as error:
        log_failure(f"the minimal card of topic {topic} could not be built either", error)
    if group[0].indicator == "info":
        return None, False
    return fallback_card(group[0].topic, group[0].indicator, findings), False


def log_failure(what: str, error: Exception) -> None:
    """One ERROR line: what failed, the exception's type and where it was raised, never its
    text or traceback's values (they may quote the record: a name, a number), as for a
    reader's fault (record/reader_faults). A wire object's own complaint names the field
    and the rule it broke, never a value (:class:`InvalidWireObject`), so it is kept."""
    said = f": {error}" if isinstance(error, InvalidWireObject) else ""
    log.error("%s: %s at %s%s", what, type(error).__name__, raised_at(error), said)


def is_shown(finding: Finding, settings: RuleSettings) -> bool:
    """Shown at the site (:func:`shown_at_site`), or it asks for an entry the service
    could not read to be checked (PATHWAY.md 2): a switch must not silence what no rule
    could read."""
    return shown_at_site(finding, settings) or finding.checks_unread


def is_known_minor(record: PatientRecord) -> bool:
    """PATHWAY.md 1: a recorded age under 18 is out of scope (CLINICAL.md "Who and when").

    Unknown age is *not* a minor: the card then says it assumed an adult (cards.py)."""
    return record.age is not None and record.age < ADULT_AGE


def run_rules(
    record: PatientRecord,
    hook: str,
    settings: RuleSettings,
    selections: tuple[str, ...] = (),
    failed: list[str] | None = None,
    rules: Sequence[Rule] | None = None,
) -> list[Finding]:
    """Every finding, red flags first. Red-flag families run even when switched off at the
    site (their findings still keep the pathway rules quiet; only critical ones are shown);
    a switched-off pathway family neither shows nor silences anything, but for a card
    asking for an entry the service could not read to be checked first (PATHWAY.md 2:
    :attr:`Rule.asks_to_check_unread`). The id of each rule
    that raised is appended to ``failed`` when given (for the shell's metric). ``rules``:
    those to run, in that order (default: the catalogue, red flags first)."""
    ctx = RuleContext(hook=hook, settings=settings, selections=selections)
    present = _concepts_or_none(record)  # for Rule.needs, asked once, not once a rule
    for rule in _in_phase_order(RULES) if rules is None else rules:
        if present is not None and rule.holds_none_of_its_needs(present):
            continue  # as Rule.evaluate would answer, without calling it
        switched_off = rule.topic not in RED_FLAG_TOPICS and not settings.enabled(rule.topic)
        if switched_off and not (rule.asks_to_check_unread and record.unreadable_red_flags):
            continue
        try:
            finding = rule.evaluate(record, ctx)
        except Exception as error:  # tolerate messy data: one failure is logged, not fatal
            log_failure(f"rule {rule.id} failed", error)
            record.quality.data_gaps.append(f"rule {rule.id} could not be evaluated")
            ctx.failed.append(rule)
            if failed is not None:
                failed.append(rule.id)
            finding = could_not_run(rule) if rule.topic in RED_FLAG_TOPICS else None
        if finding is not None and (finding.checks_unread or not switched_off):
            ctx.findings.append(finding)  # a switched-off family's other cards: none
    return ctx.findings


def _concepts_or_none(record: PatientRecord) -> frozenset[str] | None:
    """The record's concepts; None when they cannot be read (facts that are not facts):
    then each rule asks, and one that fails is a "could not run" warning as before."""
    try:
        return record.present_concepts()
    except Exception:
        return None


_last_order: tuple[tuple[Rule, ...], tuple[Rule, ...]] = ((), ())


def _in_phase_order(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The red-flag rules, then the pathway rules, each in catalogue order; kept for the
    last tuple asked about (the catalogue, or a test's stand-in: read at every call; a
    list, which may change in place, is ordered again each time)."""
    global _last_order
    asked, ordered = _last_order
    if asked is not rules or type(rules) is not tuple:
        ordered = (*(r for r in rules if r.phase == "red-flag"),
                   *(r for r in rules if r.phase == "pathway"))
        _last_order = (rules, ordered)
    return ordered


def could_not_run(rule: Rule) -> Finding:
    """A red-flag rule that raised has not excluded its red flag: a warning on its topic
    asks for a manual assessment (never "no red flags"). The detail names the rule and its
    version only: the exception's text may hold patient data (the log has its type and
    place only: :func:`log_failure`)."""
    topic = rule.topic.value.replace("-", " ")
    return rule.finding(
        "warning",
        f"Red-flag check for {topic} could not run: assess manually",
        (),
        [f"The automated check {rule.id} v{rule.version} ({rule.title}) failed on this "
         f"record, so {topic} has not been excluded: assess these red flags manually."],
    )
