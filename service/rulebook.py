"""What each rule reads, said from the rule's own code (never a second, hand-kept copy).

A safety officer signs off a rule by its inputs: the value sets (concepts) it reads, the
orders it may suggest and the thresholds it uses. Those are named in the rule's check
function and in the helpers it calls (``cds_rules.rules.*``) as string constants,
tuples of concept names and ``settings.<field>`` reads. :func:`reads` walks that code
once (``ast``) and collects them, so the catalogue page and the PlanDefinitions cannot
drift from the Python that runs. It over-approximates (a helper's every branch counts),
which is the safe direction for a review.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from types import FunctionType
from typing import Any

from cds_rules import (
    BUNDLED,
    BY_ID,
    CONCEPTS,
    ORDER_KINDS,
    ORDERS,
    OUR_THRESHOLDS,
    RULES,
    SOURCES,
    Rule,
    RuleSettings,
    env_name,
)

_SETTING_FIELDS = frozenset(RuleSettings.model_fields) - {"disabled_topics"}
_ORDER_KEYS = frozenset(ORDERS) | frozenset(BUNDLED)
_RULE_PACKAGE = "cds_rules.rules"


@dataclass(frozen=True, slots=True)
class Reads:
    """The inputs and outputs of one rule, in first-seen order."""

    concepts: tuple[str, ...]
    order_kinds: tuple[str, ...]
    settings: tuple[str, ...]
    orders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Threshold:
    """One setting a rule reads, as this site has it."""

    name: str
    variable: str
    value: str
    default: str
    ours: bool  # our choice (CLINICAL.md "Thresholds we chose"), not a guideline's
    meaning: str


class _Collector:
    def __init__(self) -> None:
        self.found: dict[str, dict[str, None]] = {
            "concepts": {}, "order_kinds": {}, "settings": {}, "orders": {}}
        self.visited: set[Any] = set()

    def string(self, text: str) -> None:
        if text in CONCEPTS:
            self.found["concepts"][text] = None
        elif text in ORDER_KINDS:
            self.found["order_kinds"][text] = None
        if text in _SETTING_FIELDS:
            self.found["settings"][text] = None
        if text in _ORDER_KEYS:
            self.found["orders"][text] = None

    def value(self, obj: Any, depth: int = 0) -> None:
        """A global a function names: concept names in a tuple, set or dict (keys and
        values, nested), or a helper of the rules package to follow."""
        if isinstance(obj, str):
            self.string(obj)
        elif isinstance(obj, dict) and depth < 3:
            for key, item in obj.items():
                self.value(key, depth + 1)
                self.value(item, depth + 1)
        elif isinstance(obj, (tuple, list, frozenset, set)) and depth < 3:
            for item in obj:
                self.value(item, depth + 1)
        elif isinstance(obj, FunctionType) and obj.__module__.startswith(_RULE_PACKAGE):
            self.function(obj)

    def function(self, fn: object) -> None:
        if not isinstance(fn, FunctionType) or fn in self.visited:
            return
        self.visited.add(fn)
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        except (OSError, TypeError, SyntaxError):  # no source (frozen, built): nothing named
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.string(node.value)
            elif isinstance(node, ast.Attribute) and node.attr in _SETTING_FIELDS:
                self.found["settings"][node.attr] = None
            elif isinstance(node, ast.Name) and node.id in fn.__globals__:
                self.value(fn.__globals__[node.id])


@cache
def reads(rule_id: str) -> Reads:
    """Concepts, order kinds, settings and order keys named by the rule's code."""
    collector = _Collector()
    check = BY_ID[rule_id].check
    collector.function(getattr(check, "func", check))  # a functools.partial: its function
    found = collector.found
    return Reads(tuple(found["concepts"]), tuple(found["order_kinds"]),
                 tuple(found["settings"]), tuple(found["orders"]))


def plain_words(rule: Rule) -> str:
    """What fires the rule, in the words of its module's docstring (one per family)."""
    doc = inspect.getdoc(rule.check) or inspect.getdoc(sys.modules[rule.check.__module__])
    return (doc or rule.title).strip()


def thresholds(rule: Rule, site: RuleSettings) -> list[Threshold]:
    """The settings the rule reads, with this site's value and the default."""
    default = RuleSettings()
    return [
        Threshold(name, env_name(name), _show(getattr(site, name)), _show(getattr(default, name)),
                  name in OUR_THRESHOLDS, OUR_THRESHOLDS.get(name, name.replace("_", " ")))
        for name in reads(rule.id).settings
    ]


def _show(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def evidence(rule: Rule) -> list[Any]:
    """The rule's sources (cds_rules.evidence.Source), in the rule's order."""
    return [SOURCES[key] for key in rule.evidence]


def all_rules() -> tuple[Rule, ...]:
    return RULES


def rule_by_id(rule_id: str) -> Rule | None:
    return BY_ID.get(rule_id)
