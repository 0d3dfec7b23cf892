"""``/rules`` and ``/rules/<id>``: the catalogue a clinical safety officer signs off from.

Per rule: id, version, topic, indicators, hooks, what fires it (the rule module's own
description), the value sets it reads with every code and where the code was checked,
the orders it may suggest, this site's value of every threshold it reads with the
variable that sets it, the evidence with links, the samples that exercise it and the
change-log lines that name it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, abort, render_template

import cds_rules
from cds_rules.orders import ORDERS, parts
from service import rulebook
from service.knowledge import valueset_id
from service.pages import terminology
from service.pages.render import markdown, site_rule_settings

bp = Blueprint("catalogue", __name__, template_folder="templates",
               static_folder="static", static_url_path="/pages-static")

CHANGELOG = Path(cds_rules.__file__).resolve().parent / "CHANGELOG.md"


@bp.get("/rules")
def rules_index() -> str:
    return render_template("rules.html", rules=rulebook.all_rules(), changelog=_changelog())


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
        changes=[line for line in _changelog_lines() if rule.id in line],
        valueset_id=valueset_id)


@cache
def samples_for(topic: str) -> list[tuple[str, str, str]]:
    """(id, title, indicator) of the sample scenarios that expect a card of ``topic``."""
    import fhir_samples

    return [(s.id, s.title, indicator) for s in fhir_samples.load_all()
            for t, indicator in s.expected if t == topic]


def _changelog_lines() -> list[str]:
    try:
        return CHANGELOG.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _changelog() -> object:
    lines = _changelog_lines()
    return markdown("\n".join(lines)) if lines else None
