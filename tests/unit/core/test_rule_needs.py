"""A rule with ``needs`` is not run on a record that holds none of those concepts (issue
#15: most red-flag checks ask about signs the record does not hold). The gate is safe only
if the check itself could find nothing there: a concept missing from ``needs`` would
silence the rule. So every gated check is run, ungated, on records built from every other
concept in many forms (and on any subset hypothesis picks, for checks that stand down when
something is present), and must find nothing; and the findings over every scenario and
every Synthea patient are those of the rules run without the gate."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import timedelta
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.inputs import synthea_files
from cds_rules import engine
from cds_rules.catalogue import RULES
from cds_rules.concepts import CONCEPTS
from cds_rules.engine import could_not_run
from cds_rules.model import Fact, FactStatus, Order, PatientRecord, Topic
from cds_rules.record import build_record
from cds_rules.rules.base import Rule, RuleContext
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.uncoded import uncoded_concept
from cds_rules.valuesets import ORDER_KINDS
from fhir_samples import load_all
from tests.conftest import SYNTHEA_DIR, require
from tests.unit.core.corpus import corpus_requests
from tests.unit.core.rule_records import NOW

GATED = [rule for rule in RULES if rule.needs is not None]
UNCODED_CONCEPTS = {uncoded_concept(topic) for topic in Topic}
# The uncoded hints' readings (cds_rules.uncoded.reading): each counts differently.
UNCODED_DETAILS = ("ever: cancer", "current: aortic aneurysm", "symptom: urinary retention")


def test_the_gated_rules_are_the_red_flag_checks_that_need_a_sign():
    """The checks left ungated can fire on the age (FRAC-01's older age, MAL-01's weak
    factors with a worsening pain, MAL-02's myeloma tests) or on what is absent (the
    pathway rules): no concept is needed for them, so none may be declared."""
    assert {rule.id for rule in RULES if rule.needs is None} == {
        "FRAC-01", "MAL-01", "MAL-02",
        "CONS-01", "IMG-01", "IMG-02", "IMG-03", "IMG-04", "EMG-01", "EMG-02"}
    assert all(rule.phase == "red-flag" for rule in GATED)


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
def test_every_need_is_a_concept_a_fact_can_have(rule: Rule):
    """A misspelt need matches no fact: the rule would not run on the sign it names."""
    assert rule.needs
    assert rule.needs <= set(CONCEPTS) | UNCODED_CONCEPTS


def _forms(concept: str) -> Iterator[Fact]:
    """``concept`` in the forms the rules tell apart: current or history, new, old,
    undated, partly dated, after now, one side or both, worsening, severe, low and high
    values with and without a comparator, a Condition or an Observation."""
    times = [(NOW - timedelta(days=1), None), (NOW - timedelta(days=400), None), (None, None),
             (NOW - timedelta(days=20), NOW + timedelta(days=10)),
             (NOW + timedelta(days=30), None)]
    values = [(None, None), (0.0, None), (3.0, None), (9.5, ">"), (39.5, None), (60.0, "<")]
    details = UNCODED_DETAILS if concept in UNCODED_CONCEPTS else ("", "L5 myotome")
    variants = itertools.product(times, list(FactStatus), (None, "left", "right", "bilateral"),
                                 (False, True), values, ("Condition", "Observation"), details)
    for n, ((when, latest), status, side, flagged, (value, comparator), kind, detail) \
            in enumerate(variants):
        if n % 7:  # every seventh combination: each form still appears many times
            continue
        yield Fact(concept=concept, display=concept.replace("_", " "),
                   source=f"{kind}/{concept}-{n}", resource_type=kind, code=f"c{n % 3}",
                   when=when, when_latest=latest, status=status, value=value,
                   comparator=comparator, laterality=side,  # type: ignore[arg-type]
                   worsening=flagged, severe=n % 3 == 0, detail=detail,
                   recorded=NOW - timedelta(hours=2) if n % 2 else None,
                   floating=n % 5 == 0)


def _orders() -> list[Order]:
    """Every order kind in every state: dated recently, long ago, undated."""
    found = []
    for n, (kind, state, days_ago) in enumerate(itertools.product(
            ORDER_KINDS, ("draft", "active", "completed"), (2, 700, None))):
        when = None if days_ago is None else NOW - timedelta(days=days_ago)
        source = f"ServiceRequest/{kind}-{n}"
        found.append(Order(kind=kind, display=kind, source=source, state=state,  # type: ignore[arg-type]
                           when=when, resource_id=source if state == "draft" else ""))
    return found


ORDERS = _orders()
ALL_FORMS = {concept: list(_forms(concept)) for concept in [*CONCEPTS, *UNCODED_CONCEPTS]}
FEW_FORMS = {concept: forms[::11] for concept, forms in ALL_FORMS.items()}


@cache
def _without(needs: frozenset[str]) -> list[Fact]:
    """Every form of every concept not in ``needs``."""
    return [f for concept, forms in ALL_FORMS.items() if concept not in needs for f in forms]


def _record(facts: list[Fact], age: int | None, sex: str, orders: list[Order],
            tolerance: timedelta = timedelta(0)) -> PatientRecord:
    """``age`` None: no birth date (evaluated as an adult)."""
    birth = None if age is None else NOW.replace(year=NOW.year - age) - timedelta(days=30)
    unreadable = list(facts[:2])  # entries no rule reads, named by every card
    return PatientRecord("pat-1", NOW, birth_date=birth, sex=sex,  # type: ignore[arg-type]
                         facts=list(facts), orders=list(orders),
                         unreadable_red_flags=unreadable, clock_tolerance=tolerance)


def _site_settings(bound: str) -> RuleSettings:
    """Every site threshold at the end of its allowed range (``"ge"`` or ``"le"``), ACP's
    fracture ages: a check whose firing a setting opens must still need its concepts."""
    extremes = {name: getattr(limit, bound) for name, field in RuleSettings.model_fields.items()
                for limit in field.metadata if hasattr(limit, bound)}
    return RuleSettings(**extremes, fracture_age_mode="acp")


SETTINGS = [DEFAULT_SETTINGS, _site_settings("ge"), _site_settings("le")]


def _finds_nothing_ungated(rule: Rule, record: PatientRecord, hook: str,
                           rule_settings: RuleSettings = DEFAULT_SETTINGS,
                           fired: tuple[Rule, ...] = ()) -> bool:
    """``fired``: earlier rules that found something (and, the same, could not run)."""
    context = RuleContext(hook=hook, settings=rule_settings,
                          findings=[could_not_run(r) for r in fired], failed=list(fired),
                          selections=tuple(o.resource_id for o in record.orders[:3]))
    return rule.check(record, context, rule) is None


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
@pytest.mark.parametrize(("age", "sex"), [(19, "female"), (52, "male"), (88, "unknown"),
                                          (None, "other")])
@pytest.mark.parametrize("orders", [ORDERS, []], ids=["every-order", "no-order"])
@pytest.mark.parametrize("rule_settings", SETTINGS, ids=["default", "every-min", "every-max"])
def test_a_gated_check_finds_nothing_among_every_other_concept(
        rule: Rule, age: int | None, sex: str, orders: list[Order],
        rule_settings: RuleSettings):
    """Without orders too: a spine MRI since a sign stands the "not assessed" checks down."""
    facts = _without(rule.needs or frozenset())
    assert len(facts) > 3000  # the record holds every other concept, in every form
    record = _record(facts, age, sex, orders, timedelta(minutes=10))
    for hook in rule.hooks:
        assert _finds_nothing_ungated(rule, record, hook, rule_settings), (rule.id, hook)


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
def test_a_gated_check_finds_nothing_on_any_two_other_concepts(rule: Rule):
    """Any two other concepts beside back pain, in a young patient (an early onset is an
    NG65 feature): a check that needs a combination and stands down when something else is
    present (SPA-02: exactly three features, no known diagnosis, no HLA-B27 result) is
    caught here when "everything" stands it down. Every eleventh form of each (25), no
    orders, default settings: the pairs are many."""
    needs = rule.needs or frozenset()
    others = sorted(c for c in ALL_FORMS if c not in needs)
    context = FEW_FORMS["low_back_pain"] if "low_back_pain" not in needs else []
    for first, second in itertools.combinations(others, 2):
        record = _record([*context, *FEW_FORMS[first], *FEW_FORMS[second]], 19, "male", [])
        for hook in rule.hooks:
            assert _finds_nothing_ungated(rule, record, hook), (rule.id, hook, first, second)


@cache
def _any_fact_without(needs: frozenset[str]) -> st.SearchStrategy[Fact]:
    return st.sampled_from(_without(needs))


@st.composite
def _records_without(draw: st.DrawFn, needs: frozenset[str]) -> PatientRecord:
    facts = draw(st.lists(_any_fact_without(needs), max_size=12))
    orders = draw(st.lists(st.sampled_from(ORDERS), max_size=4))
    tolerance = draw(st.sampled_from([timedelta(0), timedelta(minutes=10), timedelta(days=1)]))
    return _record(facts, draw(st.one_of(st.none(), st.integers(16, 95))),
                   draw(st.sampled_from(["female", "male", "other", "unknown"])), orders,
                   tolerance)


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_gated_check_finds_nothing_on_any_record_without_its_needs(rule: Rule, data):
    """Subsets too: a check that stands down when something is present (SPA-02 beside a
    known diagnosis) could fire once that is gone."""
    record = data.draw(_records_without(rule.needs or frozenset()))
    hook = data.draw(st.sampled_from(rule.hooks))
    rule_settings = data.draw(st.sampled_from(SETTINGS))
    fired = tuple(data.draw(st.lists(st.sampled_from(RULES), max_size=3)))
    assert _finds_nothing_ungated(rule, record, hook, rule_settings, fired), \
        (rule.id, hook, record.facts)


def test_the_gate_skips_the_check_and_only_then():
    asked: list[str] = []

    def check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> None:
        asked.append(record.patient_id)

    rule = dataclasses.replace(GATED[0], check=check, needs=frozenset({"urinary_retention"}))
    context = RuleContext(hook="patient-view", settings=DEFAULT_SETTINGS)
    without = PatientRecord("without", NOW, facts=list(ALL_FORMS["low_back_pain"][:3]))
    with_it = PatientRecord("with", NOW, facts=[ALL_FORMS["urinary_retention"][5]])
    history = [f for f in ALL_FORMS["urinary_retention"] if f.status is FactStatus.HISTORY]
    as_history = PatientRecord("history", NOW, facts=history[:1])
    for record in (without, with_it, as_history):
        rule.evaluate(record, context)
    assert asked == ["with", "history"]  # any status, any date: the check decides


SCENARIOS = load_all()


def test_the_findings_are_those_of_the_rules_run_without_the_gate(monkeypatch):
    compared = fired = synthea = 0
    for name, request, now in corpus_requests():
        records = [build_record(request, now, DEFAULT_SETTINGS) for _ in range(2)]
        found = []
        for record, rules in zip(records, (RULES, tuple(dataclasses.replace(r, needs=None)
                                                        for r in RULES)), strict=True):
            monkeypatch.setattr(engine, "RULES", rules)
            found.append(engine.run_rules(record, request.hook, DEFAULT_SETTINGS,
                                          request.selections))
        assert found[0] == found[1], name
        compared += 1
        synthea += "/" in name
        fired += bool(found[0])
    assert compared >= len(SCENARIOS) and fired > len(SCENARIOS) // 2
    assert synthea == 3 * len(synthea_files())
    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")  # after: the scenarios ran
