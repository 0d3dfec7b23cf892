"""The pages in a real browser: Debian's headless Chromium driven by Playwright.

The app runs on a loopback port (werkzeug, threads) as under ``make run``; the browser may
reach nothing else (every other request is aborted: no CDN, no network). What a clinician
sees is read from the DOM and compared with the clinical core's own answer for the same
input. ``UPDATE_SCREENSHOTS=1`` also writes the README's screenshots (docs/screenshots/).
Chromium is a real component: the tests skip without it locally and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

import fhir_samples
from cds_rules import evaluate, to_json
from cds_rules.engine import HookRequest
from tests.conftest import ROOT, SYNTHEA_DIR, require
from tests.pages_support import issue_and_feedback, local_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
NOW = "2026-12-01T09:00:00+00:00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    app = local_app(tmp_path_factory.mktemp("browser"))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app
    httpd.shutdown()
    thread.join(5)
    app.extensions["backpain"]["store"].dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).exists() and shutil.which("chromium") is not None,
            "Debian chromium (.ci/install-system.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # the dev extra installs it: under CI=true its absence fails
        require(False, "playwright (pip install -e '.[dev]')")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: tuple[str, Any]) -> Iterator[Any]:
    base = server[0]
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    tab.route("**/*", only_local)
    yield tab
    context.close()
    assert not blocked, f"the page tried to reach beyond the service: {blocked}"


def shoot(page: Any, name: str, top: str = "") -> None:
    """A README screenshot (viewport only: small PNGs), from ``top`` when given."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if top:
            page.locator(top).evaluate("e => { e.scrollIntoView(); window.scrollBy(0, -70); }")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def shown_cards(page: Any) -> list[tuple[str, str]]:
    """(indicator, summary) of every card, as the browser renders them."""
    return [(card.locator("[data-role=indicator]").inner_text().strip().lower(),
             card.locator(".summary").inner_text().strip())
            for card in page.locator("article.card").all()]


@pytest.mark.parametrize(("sample", "indicator"), [
    ("ces-diagnosis-g834", "critical"), ("fracture-osteoporosis-snomed", "warning"),
    ("cc-acute-lbp-snomed", "info")])
def test_preview_of_a_sample_renders_its_cards(page: Any, server: tuple[str, Any],
                                               sample: str, indicator: str) -> None:
    scenario = fhir_samples.load(sample)
    page.goto(f"{server[0]}/preview?sample={sample}")
    expected = to_json(evaluate(scenario.hook_request(), scenario.now).cards)
    assert shown_cards(page) == [(c["indicator"], c["summary"]) for c in expected]
    assert shown_cards(page)[0][0] == indicator
    card = page.locator("article.card").first
    bar = card.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert bar == {"critical": "rgb(164, 0, 29)", "warning": "rgb(208, 140, 0)",
                   "info": "rgb(11, 79, 156)"}[indicator]
    assert card.locator(".detail strong").first.is_visible()  # Markdown rendered, not raw
    if indicator == "critical":
        shoot(page, "preview-critical", "#result")


def _synthea_with_back_pain() -> tuple[dict[str, Any], str]:
    """The smallest shared Synthea patient plus one "Low back pain" Condition (none of
    the shared patients has back pain: without it no rule has a context)."""
    path = min(SYNTHEA_DIR.glob("*.json"), key=lambda p: p.stat().st_size)
    bundle = json.loads(path.read_text(encoding="utf-8"))
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": "added-low-back-pain",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                       "condition-clinical", "code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007",
                             "display": "Low back pain"}]},
        "subject": {"reference": f"urn:uuid:{patient['id']}"},
        "onsetDateTime": "2026-11-25"}})
    return bundle, patient["id"]


def test_paste_a_synthea_bundle(page: Any, server: tuple[str, Any]) -> None:
    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")
    bundle, patient_id = _synthea_with_back_pain()
    resources = tuple(e["resource"] for e in bundle["entry"])
    expected = evaluate(HookRequest("patient-view", patient_id, resources),
                        datetime.fromisoformat(NOW))
    page.goto(f"{server[0]}/preview")
    page.fill("#document", json.dumps(bundle))
    page.fill("#now", NOW)
    page.select_option("#hook", "patient-view")
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.wait_for_selector("#card-count")
    assert page.inner_text("#q-seen") == str(len(resources))
    assert page.inner_text("#q-used") == str(expected.quality.resources_used)
    assert to_json(expected.cards), "the added back pain gives at least the pathway card"
    assert shown_cards(page) == [(c["indicator"], c["summary"]) for c in to_json(expected.cards)]
    assert patient_id in page.inner_text("#result")
    shoot(page, "preview-synthea", "#result")


def test_rule_page_lists_its_codes(page: Any, server: tuple[str, Any]) -> None:
    page.goto(f"{server[0]}/rules")
    assert page.locator("table.rules tbody tr").count() >= 16
    shoot(page, "rules")
    page.click("text=CES-01")
    page.wait_for_url("**/rules/CES-01")
    valueset = page.locator("#vs-cauda_equina_syndrome")
    if valueset.get_attribute("open") is None:
        valueset.locator("summary").click()  # as a reader opens a closed value set
    codes = valueset.locator("code.code")
    assert {c.inner_text() for c in codes.all()} >= {"G83.4", "192970008"}
    assert codes.first.is_visible()
    assert page.locator("text=BACKPAIN_CDS_CAUDA_EQUINA_WINDOW_DAYS").first.is_visible()
    shoot(page, "rule-ces-01")


def test_governance_draws_a_chart_from_real_feedback(page: Any, server: tuple[str, Any]) -> None:
    expected = issue_and_feedback(server[1].test_client())
    page.goto(f"{server[0]}/governance")
    bars = page.locator("#chart-by-rule svg rect.bar")
    drawn = {b.get_attribute("data-series"): int(b.get_attribute("data-value") or 0)
             for b in bars.all() if b.bounding_box()["width"] > 0}
    assert drawn["accepted"] == expected["accepted"]
    assert drawn["snoozed"] == expected["snoozed"]
    assert sum(drawn.values()) >= expected["issued"]
    assert page.locator("#chart-issued svg rect.bar").count() >= 1
    shoot(page, "governance")


def test_docs_loads_swagger_ui_offline(page: Any, server: tuple[str, Any]) -> None:
    page.goto(f"{server[0]}/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 4  # discovery, the services, feedback
    assert "backpain-cds" in page.inner_text(".info .title")
    shoot(page, "docs")


def test_preview_form_is_labelled_and_printable(page: Any, server: tuple[str, Any]) -> None:
    page.goto(f"{server[0]}/preview?sample=ces-diagnosis-g834")
    for control in page.locator("form.preview textarea, form.preview select, "
                                "form.preview input").all():
        ident = control.get_attribute("id")
        assert ident and page.locator(f"label[for={ident}]").count() == 1, ident
    page.emulate_media(media="print")
    assert not page.locator("form.preview").first.is_visible()
    assert page.locator("article.card").first.is_visible()
    assert page.locator("details.override li").first.is_visible()  # closed details print


AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("path", ["/", "/preview?sample=ces-diagnosis-g834", "/preview",
                                  "/rules", "/rules/CES-01", "/governance"])
def test_pages_pass_axe_wcag_aa_checks(page: Any, server: tuple[str, Any], path: str) -> None:
    """axe-core (the engine behind Lighthouse's accessibility audit) in the real browser:
    no WCAG 2 A/AA violation (contrast, labels, landmarks, headings, names...)."""
    require(AXE.exists(), "axe-core (make tests/a11y/node_modules)")
    page.goto(server[0] + path)
    page.evaluate(AXE.read_text(encoding="utf-8"))  # DevTools evaluation: outside the CSP
    violations = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}))
        .violations.map(v => `${v.id} (${v.impact}): ${v.nodes.length} x ${v.help}: `
                        + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))""")
    assert violations == [], "\n".join(violations)
