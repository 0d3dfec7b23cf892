"""Property: a code and any other code of the same concept's expansion give the same cards.

For every scenario Condition coded with a code that belongs to exactly one concept (no
laterality, not a history code), replacing that code by any other such code of the same
concept's pinned expansion -- SNOMED CT descendant, WHO ICD-10 category, ICD-10-CM code --
must not change the cards (topic and indicator). This is what "the same rules fire on WHO,
CM and SNOMED codings of the same fact" means, checked over the whole expansion.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_rules import evaluate, to_json, uncoded
from cds_rules import valuesets as vs
from cds_rules.record.negation import closes_negated
from fhir_samples import Scenario, load_all

# Codes a rule singles out by value (e.g. a vertebral fracture *with* cord injury): they
# carry more than their concept, so they are not interchangeable with its other codes.
RULES_DIR = Path(vs.__file__).resolve().parent / "rules"
RULE_CODES = frozenset(re.findall(r'"([0-9A-Z][0-9A-Z.]{2,17})"', "\n".join(
    p.read_text(encoding="utf-8") for p in RULES_DIR.glob("*.py"))))


@cache
def _plain_codes(concept: str) -> tuple[tuple[str, str, str], ...]:
    """(system, code, display) of ``concept`` that mean exactly it: one concept, no side, no
    history mark, not an exclusion, not singled out by a rule."""
    out = []
    for entry in vs.VALUE_SETS[concept].entries:
        if entry.get("match") == "exclude" or entry.get("laterality") or entry.get("status") \
                or entry["code"] in RULE_CODES:
            continue
        found = vs.matches(entry["system"], entry["code"])
        if len(found) == 1 and found[0].concept == concept and not found[0].laterality \
                and not found[0].history and not _words_say_more([entry["display"]], concept):
            out.append((entry["system"], entry["code"], entry["display"]))
    return tuple(out)


def _slots(scenario: Scenario) -> list[tuple[str, int, str]]:
    """(prefetch key, entry index, concept) of each replaceable Condition code."""
    slots = []
    for key in ("conditions",):
        bundle = scenario.prefetch.get(key) or {}
        for i, entry in enumerate(bundle.get("entry", [])):
            resource = entry.get("resource", {})
            codings = resource.get("code", {}).get("coding", [])
            if len(codings) != 1:
                continue
            found = vs.matches(codings[0].get("system"), codings[0].get("code"))
            if codings[0].get("code") in RULE_CODES:
                continue
            if len(found) == 1 and not found[0].laterality and not found[0].history \
                    and len(_plain_codes(found[0].concept)) > 1 \
                    and not _words_say_more([resource["code"].get("text"),
                                             codings[0].get("display")], found[0].concept):
                slots.append((key, i, found[0].concept))
    return slots


def _words_say_more(words: list[Any], concept: str) -> bool:
    """Do the words (a display, a text) name a red flag of another family than
    ``concept``'s? Then they, not the code, give a card (a known code's display is read:
    test_known_code_display.py): a slot whose words do is not swapped, nor is a code whose
    own display does ("... lymphoma co-occurrent with HIV" is an immunosuppression and a
    cancer)."""
    given = uncoded.families_of([concept])
    return any(topic not in given for w in words if isinstance(w, str)
               for topic, _ in uncoded.suggested(w, closes_negated))


CASES = [(s, slot) for s in load_all() for slot in _slots(s)]


def _cards(scenario: Scenario, prefetch: dict[str, Any]) -> set[tuple[str, str]]:
    changed = Scenario(**{**scenario.__dict__, "prefetch": prefetch})
    result = evaluate(changed.hook_request(), scenario.now)
    return {(c["source"]["topic"]["code"], c["indicator"]) for c in to_json(result.cards)}


def test_there_are_replaceable_codes_in_many_scenarios() -> None:
    assert len({s.id for s, _ in CASES}) >= 40


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_code_of_the_same_expansion_gives_the_same_cards(data: st.DataObject) -> None:
    scenario, (key, index, concept) = data.draw(st.sampled_from(CASES), label="slot")
    system, code, display = data.draw(st.sampled_from(_plain_codes(concept)), label="code")
    prefetch = copy.deepcopy(scenario.prefetch)
    prefetch[key]["entry"][index]["resource"]["code"] = {
        "coding": [{"system": system, "code": code, "display": display}]}
    assert _cards(scenario, prefetch) == scenario.expected, (scenario.id, concept, system, code)


def test_curated_snomed_descendants_are_among_the_swapped_codes() -> None:
    """The concepts whose SNOMED CT descendants were curated (issue 11) have a scenario
    slot, so the property draws their descendants too (not only ICD codes)."""
    swapped = {concept for _, (_, _, concept) in CASES}
    curated = {concept for concept, vs_ in vs.VALUE_SETS.items()
               if any(e.get("descendant_of") for e in vs_.entries)}
    # pyelonephritis codes are also recent_infection codes: not single-concept, not swapped
    missing = curated - swapped - {"pyelonephritis", "recent_infection"}
    assert not missing, missing
