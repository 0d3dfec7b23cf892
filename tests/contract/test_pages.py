"""The pages through the WSGI app: catalogue, preview, governance access, docs.

Browser rendering is tested in ``test_pages_browser.py``; here: what each page says, that
pasted data is neither stored nor logged, and who may open what."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import fhir_samples
from cds_rules.catalogue import RULES
from service.config import ConfigError
from service.db import AuditEvent, IssuedCard
from service.pages.render import markdown
from tests.core_fault_support import fail_reader_on
from tests.pages_support import PAGES_TOKEN, issue_and_feedback, local_app, production_app
from tests.store_support import *  # noqa: F403  (fixtures: database_url on SQLite and PostgreSQL)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    app = local_app(tmp_path)
    yield app.test_client()
    app.extensions["backpain"]["store"].dispose()


def text(response: Any) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# --- catalogue -----------------------------------------------------------------------------


def test_rules_lists_every_rule_with_its_version_and_a_link(client: Any) -> None:
    html = client.get("/rules").get_data(as_text=True)
    for rule in RULES:
        assert f'href="/rules/{rule.id}"' in html
        assert re.search(rf">{re.escape(rule.id)}</a></th>\s*<td>{re.escape(rule.version)}<",
                         html), rule.id


def test_rule_page_shows_codes_thresholds_evidence_and_what_fires_it(client: Any) -> None:
    page = text(client.get("/rules/CES-01"))
    assert "G83.4" in page and "192970008" in page  # cauda equina syndrome codes
    assert "Urinary retention" in page  # a sign it reads, with its value set
    assert "BACKPAIN_CDS_CAUDA_EQUINA_WINDOW_DAYS" in page
    assert "GIRFT" in page and "https://gettingitrightfirsttime.co.uk" in \
        client.get("/rules/CES-01").get_data(as_text=True)
    assert "bilateral" in page.lower()  # the family's description: what fires it


def test_rule_page_says_when_the_rule_runs(client: Any) -> None:
    """A red-flag check not run on a record without the signs it reads says which they
    are (Rule.needs: the safety officer signs the lists off); one that always runs says so."""
    gated = " ".join(text(client.get("/rules/CES-02")).split())
    assert ("Runs only on a record holding one of: cauda_equina_syndrome , "
            "faecal_incontinence , leg_pain , loss_of_rectal_sensation , radiculopathy , "
            "saddle_anaesthesia , urinary_incontinence , urinary_retention (any status, any "
            "date)") in gated
    assert "Runs on every record in scope" in " ".join(text(client.get("/rules/FRAC-01")).split())


def test_rule_page_shows_this_sites_threshold_and_marks_it_changed(tmp_path: Path) -> None:
    app = local_app(tmp_path, cauda_equina_window_days=21)
    html = app.test_client().get("/rules/CES-01").get_data(as_text=True)
    row = re.search(r"<tr class=\"changed\">.*?</tr>", html, re.S)
    assert row and ">21 <strong>(changed at this site)" in row.group(0)
    assert "<td>14</td>" in row.group(0)  # the default beside it
    app.extensions["backpain"]["store"].dispose()


def test_unknown_rule_is_a_404_operation_outcome(client: Any) -> None:
    response = client.get("/rules/NOPE-99")
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"


# --- preview -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["ces-diagnosis-g834", "fracture-age-over-70",
                                    "cc-acute-lbp-snomed", "emg-order-select-axial-pain"])
def test_preview_of_a_sample_shows_its_expected_cards(client: Any, sample: str) -> None:
    scenario = fhir_samples.load(sample)
    html = client.get(f"/preview?sample={sample}").get_data(as_text=True)
    shown = set(re.findall(r'class="card" data-indicator="(\w+)" data-topic="([\w-]+)"', html))
    assert {(topic, indicator) for indicator, topic in shown} == set(scenario.expected)
    assert "Matches the sample's expected cards" in unescape(html)


def test_preview_shows_the_facts_and_rule_behind_a_card(client: Any) -> None:
    page = text(client.get("/preview?sample=ces-diagnosis-g834"))
    assert "CES-01 v" in page
    assert "Condition/" in page  # the resource each fact came from


def _bundle_with(*resources: dict[str, Any]) -> str:
    return json.dumps({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": r} for r in resources]})


PATIENT = {"resourceType": "Patient", "id": "pv-secret-patient-77", "birthDate": "1970-01-01",
           "gender": "female"}


def _condition(cid: str, code: str, display: str, patient: str = "pv-secret-patient-77",
               onset: str = "2026-11-20") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code,
                                 "display": display}]},
            "subject": {"reference": f"Patient/{patient}"}, "onsetDateTime": onset}


def test_pasted_bundle_is_evaluated_neither_stored_nor_logged(
        client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bundle = _bundle_with(PATIENT, _condition("c1", "279039007", "Low back pain"),
                          _condition("c2", "279039007", "Low back pain", patient="someone-else"))
    response = client.post("/preview", data={"document": bundle, "hook": "patient-view",
                                             "now": "2026-12-01T09:00:00Z"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert "conservative-care" in page
    assert re.search(r"Dropped: about another patient\s+1", page)
    assert "pv-secret-patient-77" not in caplog.text
    engine = client.application.extensions["backpain"]["store"].engine
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IssuedCard)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_pasted_bundle_with_a_cut_emoji_is_read_as_the_service_reads_it(client: Any) -> None:
    """Half an emoji in a display (a lone surrogate escape): read as U+FFFD, the red flag
    shown, and the card says a word may be garbled (before: "not valid JSON")."""
    bundle = _bundle_with(PATIENT, _condition("c1", "267064002", "Retention of urine \ud83d"),
                          _condition("c2", "279039007", "Low back pain"))
    assert "\\ud83d" in bundle
    response = client.post("/preview", data={"document": bundle, "hook": "patient-view",
                                             "now": "2026-12-01T09:00:00Z"})
    assert response.status_code == 200
    page = text(response)
    assert "cauda-equina" in page and "critical" in page
    assert "1 character of the sent text" in page


def test_pasted_cds_hooks_request_with_a_draft_order(client: Any) -> None:
    body = fhir_samples.load("cc-acute-lbp-snomed").request_body()
    response = client.post("/preview", data={"document": json.dumps(body),
                                             "hook": "order-select", "draft": "xray-lumbar",
                                             "now": fhir_samples.load("cc-acute-lbp-snomed")
                                             .now.isoformat()})
    page = text(response)
    assert "Draft order added: X-ray lumbar spine" in page
    assert "imaging-not-indicated" in page  # imaging in the first six weeks


def test_uploaded_file_is_read(client: Any) -> None:
    bundle = _bundle_with(PATIENT, _condition("c1", "279039007", "Low back pain"))
    import io
    response = client.post("/preview", data={"file": (io.BytesIO(bundle.encode()), "b.json"),
                                             "now": "2026-12-01T09:00:00Z"},
                           content_type="multipart/form-data")
    assert "conservative-care" in text(response)


@pytest.mark.parametrize(("form", "message"), [
    ({"document": "{not json"}, "not valid JSON"),
    ({"document": ""}, "paste a FHIR Bundle"),
    ({"document": json.dumps({"resourceType": "Bundle", "entry": []})}, "no Patient"),
    ({"document": _bundle_with(PATIENT), "now": "yesterday"}, "not an ISO 8601"),
    ({"document": _bundle_with(PATIENT), "hook": "medication-prescribe"}, "unknown hook"),
])
def test_bad_input_is_a_400_page_that_says_why(client: Any, form: dict[str, str],
                                               message: str) -> None:
    response = client.post("/preview", data=form)
    assert response.status_code == 400
    assert message in text(response)


def test_unknown_sample_is_a_400(client: Any) -> None:
    response = client.get("/preview?sample=no-such-sample")
    assert response.status_code == 400 and "no sample scenario" in text(response)


def test_markdown_never_passes_html_or_script_links_through() -> None:
    html = str(markdown("**Why**\n\n<script>alert(1)</script> [x](javascript:alert(1)) "
                        "<img src=x onerror=alert(1)>"))
    assert "<strong>Why</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html


def test_pasted_markup_in_a_display_is_shown_as_text(client: Any) -> None:
    evil = "Low back pain <script>alert('x')</script>"
    bundle = _bundle_with(PATIENT, _condition("c1", "279039007", evil))
    html = client.post("/preview", data={"document": bundle,
                                         "now": "2026-12-01T09:00:00Z"}).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


# --- docs ----------------------------------------------------------------------------------


def test_docs_uses_only_local_assets(client: Any) -> None:
    html = client.get("/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for src in re.findall(r'src="([^"]+)"', html):
        assert client.get(src).status_code == 200, src
    assert "openapi.json" in client.get("/docs/init.js").get_data(as_text=True)


# --- access ----------------------------------------------------------------------------------


def test_production_default_has_no_preview_or_governance_but_an_open_catalogue(
        tmp_path: Path) -> None:
    client = production_app(tmp_path).test_client()
    assert client.get("/preview").status_code == 404
    assert client.get("/governance").status_code == 404
    assert client.post("/preview", data={"document": "{}"}).status_code == 404
    for url in ("/rules", "/rules/CES-01", "/docs", "/fhir/PlanDefinition"):
        assert client.get(url).status_code == 200, url
    assert b"/preview" not in client.get("/rules").data  # no link to a page that is off


def test_pages_on_in_production_needs_an_operator_credential(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PAGES_TOKEN"):
        production_app(tmp_path, pages="on")
    with pytest.raises(ConfigError, match="PAGES_TOKEN"):
        production_app(tmp_path, pages="on", pages_token="short")


@pytest.mark.parametrize("url", ["/preview", "/governance"])
def test_pages_on_in_production_ask_for_the_credential(tmp_path: Path, url: str) -> None:
    client = production_app(tmp_path, pages="on", pages_token=PAGES_TOKEN).test_client()
    missing = client.get(url)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Basic")
    assert missing.get_json()["resourceType"] == "OperationOutcome"
    basic = base64.b64encode(f"operator:{PAGES_TOKEN}".encode()).decode()
    wrong = base64.b64encode(b"operator:guess-guess-guess-guess-guess").decode()
    assert client.get(url, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Bearer {PAGES_TOKEN}"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic !!!"}).status_code == 401


def test_pages_off_even_under_make_run(tmp_path: Path) -> None:
    app = local_app(tmp_path, pages="off")
    assert app.test_client().get("/preview").status_code == 404
    assert app.test_client().get("/rules").status_code == 200
    app.extensions["backpain"]["store"].dispose()


# --- governance ----------------------------------------------------------------------------


def test_governance_reports_real_feedback_rows_in_table_and_chart(client: Any) -> None:
    expected = issue_and_feedback(client)
    html = client.get("/governance").get_data(as_text=True)
    row = re.search(r'<a href="/rules/CES-01">CES-01</a> v[\d.]+</th>(.*?)</tr>', html, re.S)
    assert row
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[1:5] == [str(expected["issued"]), str(expected["accepted"]),
                          str(expected["overridden"]), "already-assessed: 1; not-applicable: 1"]
    bars = dict(re.findall(r'<rect class="bar" data-series="([\w ]+)" data-value="(\d+)"',
                           html.split('id="chart-by-rule"')[1].split("</figure>")[0]))
    assert bars == {"accepted": "1", "overridden": "1", "snoozed": "1"}
    issued_today = re.findall(r'data-series="CES-01 v[\d.]+" data-value="(\d+)"', html)
    assert issued_today == ["3"]


def test_governance_bad_since_is_a_400(client: Any) -> None:
    assert client.get("/governance?since=last-week").status_code == 400


def test_config_check_names_a_missing_pages_token(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from service.cli import main

    for key in [k for k in os.environ if k.startswith("BACKPAIN_CDS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("BACKPAIN_CDS_PAGES", "on")
    assert main(["config-check"]) == 2
    assert "BACKPAIN_CDS_PAGES=on needs BACKPAIN_CDS_PAGES_TOKEN" in capsys.readouterr().err


def test_preview_names_an_entry_not_read_for_a_fault(client: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected into the Condition reader on one entry: counted and named apart
    from invalid data (cds_rules/record/reader_faults.py)."""
    fail_reader_on(monkeypatch, "Condition", "c-ces")
    bundle = _bundle_with(PATIENT, _condition("c-lbp", "279039007", "Low back pain"),
                          _condition("c-ces", "192970008", "Cauda equina syndrome"))
    page = text(client.post("/preview", data={"document": bundle,
                                              "now": "2026-12-01T09:00:00Z"}))
    assert re.search(r"Not read: a fault in the service \(logged\)\s+1", page)
    assert re.search(r"Not read: a fault in the service \(logged\) \(1\)\s+Condition/c-ces",
                     page)
    assert "Dropped as invalid, and why" not in page


def test_preview_names_what_was_dropped_and_why_no_card(client: Any) -> None:
    bad = _condition("c-bad", "44054006", "Diabetes mellitus type 2")  # no back pain
    bad["onsetDateTime"] = "not-a-date"
    unknown = _condition("c-flu", "6142004", "Influenza")
    bundle = _bundle_with(PATIENT, bad, unknown)
    page = text(client.post("/preview", data={"document": bundle,
                                              "now": "2026-12-01T09:00:00Z"}))
    assert re.search(r"Dropped as invalid, and why \(1\)\s+Condition/c-bad: onsetDateTime", page)
    assert "Condition/c-flu: http://snomed.info/sct|6142004" in page
    assert "no back-pain context" in page  # why there is no card


def test_a_large_pasted_bundle_is_accepted_as_the_browser_sends_it(client: Any) -> None:
    """A browser posts the form as multipart: a 1 MB Synthea patient in the text field is
    above Werkzeug's 500 kB default for a field and must still be read (not 413)."""
    from tests.conftest import SYNTHEA_DIR, require

    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")
    path = max(SYNTHEA_DIR.glob("*.json"), key=lambda p: p.stat().st_size)
    document = path.read_text(encoding="utf-8")
    assert len(document) > 1_000_000
    response = client.post("/preview", data={"document": document},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    entries = len(json.loads(document)["entry"])
    assert re.search(rf"Resources seen\s+{entries}\b", text(response))
    assert len(response.data) < 200_000  # the 1 MB input is not echoed into the form


def test_rule_page_shows_its_change_log_rows(client: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from service.pages import catalogue_views

    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Rule change log\n\n## 2026-12 review\n\n"
        "| rule version | what changed | signed off |\n|---|---|---|\n"
        "| CES-01 2.0.0 | an old diagnosis is **history** | AB 2026-12-02 |\n"
        "| CES-010 1.0.0 | not this rule | |\n"
        "| CORD-01 2.0.0 | cord: mentions CES-01 in passing | |\n", encoding="utf-8")
    monkeypatch.setattr(catalogue_views, "CHANGELOG", changelog)
    html = client.get("/rules/CES-01").get_data(as_text=True)
    section = html.split('id="changes"')[1]
    assert "2026-12 review" in section and "<strong>history</strong>" in section
    assert "AB 2026-12-02" in section
    assert "not this rule" not in section and "in passing" not in section
    assert "<table>" in client.get("/rules").get_data(as_text=True).split('id="changelog"')[1]


def test_a_sample_at_another_now_is_not_compared_with_its_expectation(client: Any) -> None:
    page = text(client.get("/preview?sample=ces-diagnosis-g834&hook=patient-view"
                           "&now=2026-03-10T09:00:00Z"))
    assert re.search(r"patient-view for\s+Patient/\S+\s+at 2026-03-10T09:00:00\+00:00", page)
    assert "expected cards" not in page  # the expectation holds only as written


def test_each_rule_page_shows_the_change_log_row_of_its_version(client: Any) -> None:
    from service.pages.catalogue_views import CHANGELOG

    if not CHANGELOG.exists():
        pytest.skip("no cds_rules/CHANGELOG.md in this release")
    logged = CHANGELOG.read_text(encoding="utf-8")
    checked = 0
    for rule in RULES:
        if f"| {rule.id} {rule.version} |" in logged:
            section = text(client.get(f"/rules/{rule.id}")).split("Change log")[-1]
            assert f"{rule.id} {rule.version}" in section, rule.id
            checked += 1
    assert checked


@pytest.mark.parametrize("document", [
    {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": 123}}]},
    {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p",
                                                       "birthDate": "xx"}}]},
    {"hook": "patient-view", "context": {"patientId": {"a": 1}}},
    {"hook": "patient-view", "context": {"patientId": "p"}, "prefetch": [1, 2]},
    {"hook": "order-select", "context": {"patientId": "p", "draftOrders": "x",
                                         "selections": "y"}},
    {"hook": 123, "context": []}, [1, 2, 3], "text", 5, None,
])
@pytest.mark.parametrize("hook", ["", "order-select"])
def test_odd_documents_are_answered_never_a_500(client: Any, document: Any, hook: str) -> None:
    response = client.post("/preview", data={"document": json.dumps(document), "hook": hook,
                                             "draft": "xray-lumbar"})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Could not evaluate" in text(response)


def test_a_json_client_gets_an_operation_outcome_for_bad_input(client: Any) -> None:
    response = client.post("/preview", data={"document": "{not json"},
                           headers={"Accept": "application/fhir+json"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert "not valid JSON" in body["issue"][0]["diagnostics"]


def test_the_start_page_links_every_page(client: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    for href in ("/preview", "/rules", "/governance", "/docs", "/fhir/PlanDefinition"):
        assert f'href="{href}"' in html



def test_governance_on_both_databases(database_url: str) -> None:
    """The per-day series use each database's own date function (PostgreSQL: the UTC day
    of a timestamptz), with real rows written through the API."""
    from service.app import create_app
    from service.migrations import upgrade
    from tests.store_support import settings_for

    app = create_app(settings_for(database_url, allow_unauthenticated=True))
    store = app.extensions["backpain"]["store"]
    upgrade(store.engine)
    try:
        client = app.test_client()
        expected = issue_and_feedback(client)
        html = client.get("/governance").get_data(as_text=True)
        per_day = [int(n) for n in re.findall(r'data-series="CES-01 v[\d.]+" data-value="(\d+)"',
                                              html)]
        assert per_day == [expected["issued"]]
        feedback = re.findall(r'data-series="(accepted|overridden)" data-value="(\d+)"',
                              html.split('id="chart-feedback"')[1])
        assert sorted(feedback) == [("accepted", "1"), ("overridden", "2")]
    finally:
        store.dispose()


@pytest.mark.parametrize("url", ["/", "/rules", "/preview", "/governance", "/docs"])
def test_pages_send_a_content_security_policy(client: Any, url: str) -> None:
    headers = client.get(url).headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # no inline script anywhere (Swagger UI's is a file)
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_pasted_request_without_some_prefetch_keys_says_so(client: Any) -> None:
    body = fhir_samples.load("cc-acute-lbp-snomed").request_body()
    del body["prefetch"]["observations"]
    page = text(client.post("/preview", data={"document": json.dumps(body)}))
    assert re.search(r"Not in the pasted request's prefetch, and not fetched here: "
                     r"observations\.", page)
