"""The pages from the real server as ``make run`` starts it (``backpain-cds serve``,
gunicorn, the preloaded app, ALLOW_UNAUTHENTICATED): the installed package carries its
templates, stylesheet and Swagger UI files, and each page answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

import fhir_samples
from cds_rules.catalogue import RULES
from tests.integration.test_gunicorn_server import Server, start_server, stop
from tests.ops_support import http


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("pages-served"), workers=1, name="pages")
    yield running
    stop(running)


def get(server: Server, path: str) -> tuple[int, str]:
    status, _headers, body = http(server.base, path)
    return status, body.decode("utf-8")


def test_rules_lists_every_rule(served: Server) -> None:
    status, html = get(served, "/rules")
    assert status == 200
    assert {rule.id for rule in RULES} <= set(re.findall(r'href="/rules/([\w-]+)"', html))


def test_preview_of_a_sample_shows_its_cards(served: Server) -> None:
    scenario = fhir_samples.load("ces-diagnosis-g834")
    status, html = get(served, f"/preview?sample={scenario.id}")
    assert status == 200
    shown = set(re.findall(r'class="card" data-indicator="(\w+)" data-topic="([\w-]+)"', html))
    assert {(t, i) for i, t in shown} == set(scenario.expected)


def test_docs_and_its_assets_load(served: Server) -> None:
    status, html = get(served, "/docs")
    assert status == 200
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert http(served.base, src)[0] == 200, src


def test_fhir_plan_definitions_one_per_rule(served: Server) -> None:
    status, body = get(served, "/fhir/PlanDefinition")
    assert status == 200
    bundle = json.loads(body)
    assert sorted(e["resource"]["id"] for e in bundle["entry"]) == sorted(r.id for r in RULES)
