"""``PatientRecord.having`` answers from the concepts the record holds before it looks at
any fact (issue #15): the answers must be those of a plain pass over the facts, and the
shortcut must follow the facts as the builder appends them or a test replaces them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_rules.concepts import CONCEPTS
from cds_rules.model import Fact, FactStatus, PatientRecord

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SOME_CONCEPTS = sorted(CONCEPTS)[:12]


def fact(concept: str, days_ago: int | None = 1,
         status: FactStatus = FactStatus.CURRENT) -> Fact:
    when = None if days_ago is None else NOW - timedelta(days=days_ago)
    return Fact(concept=concept, display=concept, source=f"Condition/{concept}",
                resource_type="Condition", when=when, status=status)


def plain_having(record: PatientRecord, concepts: tuple[str, ...],
                 within: timedelta | None, current_only: bool) -> list[Fact]:
    """What ``having`` answers, as a pass over every fact."""
    since = NOW - within if within is not None else None
    found = [f for f in record.facts
             if f.concept in concepts
             and (not current_only or f.status is FactStatus.CURRENT)
             and (since is None or record.may_fall_within(f, since))]
    return sorted(found, key=lambda f: (0, -f.when.timestamp()) if f.when else (1, 0.0))


facts_strategy = st.lists(st.builds(
    fact, st.sampled_from(SOME_CONCEPTS), st.one_of(st.none(), st.integers(-2, 400)),
    st.sampled_from(list(FactStatus))), max_size=8)


@settings(max_examples=300, deadline=None)
@given(facts_strategy, st.lists(st.sampled_from(SOME_CONCEPTS), min_size=1, max_size=5),
       st.one_of(st.none(), st.integers(1, 200).map(lambda d: timedelta(days=d))),
       st.booleans())
def test_having_answers_as_a_pass_over_the_facts(facts, concepts, within, current_only):
    record = PatientRecord(patient_id="p", now=NOW, facts=list(facts))
    asked = tuple(concepts)
    assert record.having(*asked, within=within, current_only=current_only) \
        == plain_having(record, asked, within, current_only)


def test_a_fact_appended_after_a_question_is_found_by_the_next():
    record = PatientRecord(patient_id="p", now=NOW, facts=[fact("low_back_pain")])
    assert record.having("urinary_retention") == []
    retention = fact("urinary_retention")
    record.facts.append(retention)
    assert record.having("urinary_retention") == [retention]


def test_a_replaced_fact_list_is_read_again_even_at_the_same_length():
    record = PatientRecord(patient_id="p", now=NOW, facts=[fact("low_back_pain")])
    assert record.having("urinary_retention") == []
    retention = fact("urinary_retention")
    record.facts = [retention]
    assert record.having("urinary_retention") == [retention]
    assert record.having("low_back_pain") == []
