"""``/rules`` and ``/rules/<id>``: the catalogue a clinical safety officer signs off from.

Per rule: id, version, topic, indicators, hooks, what fires it (the rule module's own
description), the value sets it reads with every code and where the code was checked,
the orders it may suggest, this site's value of every threshold it reads with the
variable that sets it, the evidence with links, the samples that exercise it and the
change-log lines that name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, render_template

import cds_rules
from cds_rules import HOOKS, ORDERS, parts
from service import rulebook
from service.knowledge import valueset_id
from service.pages import terminology
from service.pages.render import markdown, site_rule_settings

bp = Blueprint("catalogue", __name__, template_folder="templates",
               static_folder="static", static_url_path="/pages-static")

CHANGELOG = Path(cds_rules.__file__).resolve().parent / "CHANGELOG.md"


@bp.get("/")
def start() -> str:
    """Where a person landing on the service's address finds the pages."""
    return render_template("index.html")


@bp.get("/rules")
def rules_index() -> str:
    return render_template("rules.html", rules=rulebook.all_rules(), changelog=_changelog(),
                           all_hooks=list(HOOKS))


@bp.get("/rules/<rule_id>")
def rule_page(rule_id: str) -> str:
    rule = rulebook.rule_by_id(rule_id)
    if rule is None:
        abort(404)
    found = rulebook.reads(rule.id)
    return render_template(
        "rule.html", rule=rule, words=rulebook.plain_words(rule),
        valuesets=[terminology.view(c) for c in (*found.concepts, *found.order_kinds)],
        orders=[spec for key in found.orders for spec in parts(key) if spec.key in ORDERS],
        thresholds=rulebook.thresholds(rule, site_rule_settings()),
        evidence=rulebook.evidence(rule), samples=samples_for(rule.topic.value),
        changes=changes_for(rule.id),
        valueset_id=valueset_id)


@cache
def samples_for(topic: str) -> list[tuple[str, str, str]]:
    """(id, title, indicator) of the sample scenarios that expect a card of ``topic``."""
    import fhir_samples

    return [(s.id, s.title, indicator) for s in fhir_samples.load_all()
            for t, indicator in s.expected if t == topic]


@dataclass(frozen=True, slots=True)
class Change:
    """One change-log entry naming a rule: a table row (header -> cell) or a list item."""

    section: str
    fields: tuple[tuple[str, str], ...]


def changes_for(rule_id: str) -> list[Change]:
    """The change-log rows whose first cell starts with ``rule_id`` (the table layout of
    cds_rules/CHANGELOG.md: "| CES-01 2.0.0 | what changed | ... |"), and list items that
    start with it, each with the section heading above it."""
    own = re.compile(rf"{re.escape(rule_id)}(?![\w-])")
    found: list[Change] = []
    section, header = "", None
    for line in _changelog_lines():
        stripped = line.strip()
        if stripped.startswith("#"):
            section, header = stripped.lstrip("#").strip(), None
        elif stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if header is None:
                header = cells
            elif not all(set(c) <= set("-: ") for c in cells) and own.match(cells[0]):
                found.append(Change(section, tuple(zip(header, cells, strict=False))))
        else:
            header = None
            item = stripped.lstrip("-* ")
            if stripped[:1] in "-*" and own.match(item):
                found.append(Change(section, (("change", item),)))
    return found


def _changelog_lines() -> list[str]:
    try:
        return CHANGELOG.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _changelog() -> object:
    lines = _changelog_lines()
    return markdown("\n".join(lines)) if lines else None
