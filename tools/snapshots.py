"""Before/after equivalence snapshots: what the service answers and stores, per case.

A refactor must not change behaviour. This records, for every ``fhir_samples`` scenario
and every Synthea patient in ``../shared/data/synthea-r4`` (all four hooks), through the
real Flask app with the scenario's fixed clock and a fresh SQLite database:

- the cards the clinical core produces (``cds_rules.evaluate``),
- the whole HTTP answer of the hook call (status, headers that matter, body; the raw
  body's bytes are pinned by a digest, the parsed body is kept readable),
- the rows stored (issued cards, audit, feedback, snoozes),
- for a case with cards: feedback overriding its first card with a snoozing reason, then
  the same call again (the snooze hides the card; the audit says so).

UUIDs (card ids, minted at random) become ``<uuid-N>`` in order of appearance and the
measured latency becomes ``<latency>``; everything else is deterministic. Files live in
``tests/snapshots/`` (one JSON text per case); ``tests/integration/test_snapshots.py`` compares.

    python -m tools.snapshots record [--jobs N] [CASE...]   # rewrite the files
    python -m tools.snapshots check  [--jobs N] [CASE...]   # diff against them (exit 1)

Refactors leave the files byte-identical; a behaviour change regenerates them and says
why in its commit.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import difflib
import hashlib
import json
import os
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = ROOT / "tests" / "snapshots"
SYNTHEA_DIR = ROOT.parent / "shared" / "data" / "synthea-r4"
SYNTHEA_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # benchmarks.inputs.NOW
HOOKS = ("patient-view", "encounter-start", "order-select", "order-sign")
HEADERS = ("Content-Type", "Cache-Control", "Retry-After", "Warning")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NS = uuid.UUID("6f1d1b1e-4c1a-4a53-9a3e-1d2b9b7d2c10")


@dataclass(frozen=True)
class Case:
    """One snapshot file: a scenario id or a Synthea file; its calls are built on demand
    (in the worker process: reading a Synthea patient takes a while)."""

    name: str
    source: str  # scenario id, or Synthea file path

    @property
    def path(self) -> Path:
        return SNAPSHOT_DIR / f"{self.name}.json"

    def now(self) -> datetime:
        if self.name.startswith("synthea/"):
            return SYNTHEA_NOW
        import fhir_samples

        return fhir_samples.load(self.source).now

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(hook, request body) of every hook call to make, in order."""
        if self.name.startswith("synthea/"):
            return synthea_calls(Path(self.source))
        import fhir_samples

        scenario = fhir_samples.load(self.source)
        return [(scenario.hook, scenario.request_body(str(uuid.uuid5(_NS, scenario.id))))]


# --- the cases ---------------------------------------------------------------------------


def all_cases() -> list[Case]:
    import fhir_samples

    cases = [Case(f"scenarios/{s.id}", s.id) for s in fhir_samples.load_all()]
    return cases + [Case(f"synthea/{p.stem}", str(p)) for p in synthea_files()]


def synthea_files() -> list[Path]:
    return sorted(SYNTHEA_DIR.glob("*.json")) if SYNTHEA_DIR.is_dir() else []


def synthea_calls(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The patient as an EHR would send it (seeded with back pain and a fever so that the
    rules do real work; benchmarks.inputs), once per hook."""
    from benchmarks.inputs import request_body, seeded_back_pain, synthea_resources

    patient_id, resources = synthea_resources(path)
    body = json.loads(request_body(patient_id, resources + seeded_back_pain(patient_id)))
    encounters = sorted((r for r in resources if r["resourceType"] == "Encounter"),
                        key=lambda r: str(r.get("period", {}).get("start", "")))
    calls = []
    for hook in HOOKS:
        call = copy.deepcopy(body)
        call["hook"] = hook
        call["hookInstance"] = str(uuid.uuid5(_NS, f"{path.stem}/{hook}"))
        if hook == "encounter-start":
            call["context"]["encounterId"] = encounters[-1]["id"] if encounters else "enc-1"
        if hook in ("order-select", "order-sign"):
            call["context"]["draftOrders"] = _draft_mri(patient_id)
        if hook == "order-select":
            call["context"]["selections"] = ["ServiceRequest/draft-mri"]
        calls.append((hook, call))
    return calls


def _draft_mri(patient_id: str) -> dict[str, Any]:
    order = {"resourceType": "ServiceRequest", "id": "draft-mri", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{patient_id}"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "24967-2",
                                  "display": "MR Lumbar spine WO contrast"}]}}
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}


def discovery_case() -> str:
    """The discovery document (no database involved)."""
    from tests.helpers import make_test_app

    response = make_test_app(log_level="ERROR").test_client().get("/cds-services")
    return _render({"discovery": _http(response)})


# --- running one case --------------------------------------------------------------------


def run_case(case: Case) -> str:
    """The snapshot text of ``case`` (deterministic for the same code)."""
    from cds_rules import evaluate
    from tests.helpers import SERVICE_OF_HOOK, make_test_app

    now = case.now()
    out: dict[str, Any] = {"now": now.isoformat(), "calls": []}
    with tempfile.TemporaryDirectory(prefix="snapshots-") as spool:
        # the database bound is a fault behaviour (test_db_outage): on a loaded machine a
        # slow SQLite write must not turn a snapshot into a 503 or a fail-open answer
        app = make_test_app(clock=lambda: now, spool_dir=spool, log_level="ERROR",
                            db_timeout_seconds=30.0)
        client = app.test_client()
        memory = app.extensions["backpain"]["memory"]
        try:
            for hook, body in case.calls():
                service = SERVICE_OF_HOOK[hook]
                entry: dict[str, Any] = {"hook": hook,
                                         "core_cards": _core_cards(evaluate, body, now)}
                response = client.post(f"/cds-services/{service}", json=body)
                memory.flush()
                entry["answer"] = _http(response)
                cards = (response.get_json() or {}).get("cards") or []
                if cards:
                    entry["feedback"], entry["again"] = _snooze_first(
                        client, memory, service, body, cards[0], now)
                out["calls"].append(entry)
            out["rows"] = _rows(app)
        finally:
            app.extensions["backpain"]["store"].dispose()
    return _render(out)


def _core_cards(evaluate: Any, body: dict[str, Any], now: datetime) -> list[Any]:
    """The core's cards for the call's prefetch as sent (no fetching)."""
    from cds_rules import HookRequest
    from cds_rules.bundles import resources_from

    resources: list[dict[str, Any]] = []
    for value in (body.get("prefetch") or {}).values():
        resources.extend(resources_from(value))
    context = body["context"]
    request = HookRequest(
        hook=body["hook"], patient_id=context["patientId"], resources=tuple(resources),
        draft_orders=tuple(resources_from(context.get("draftOrders"))),
        selections=tuple(context.get("selections") or ()),
        encounter_id=context.get("encounterId"))
    return [_plain(card) for card in evaluate(request, now).cards]


def _snooze_first(client: Any, memory: Any, service: str, body: dict[str, Any],
                  card: dict[str, Any], now: datetime) -> tuple[Any, Any]:
    """Override ``card`` with a snoozing reason, then make the same call again."""
    from cds_rules.model import OVERRIDE_REASON_SYSTEM

    reason = {"system": OVERRIDE_REASON_SYSTEM, "code": "already-assessed"}
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden",
                              "overrideReason": {"reason": reason},
                              "outcomeTimestamp": now.isoformat()}]}
    answer = _http(client.post(f"/cds-services/{service}/feedback", json=feedback))
    again = copy.deepcopy(body)
    again["hookInstance"] = str(uuid.uuid5(_NS, body["hookInstance"]))
    response = client.post(f"/cds-services/{service}", json=again)
    memory.flush()
    return answer, _http(response)


def _http(response: Any) -> dict[str, Any]:
    raw = response.get_data()
    return {
        "status": response.status_code,
        "headers": {name: response.headers[name] for name in HEADERS
                    if name in response.headers},
        "body_sha256": hashlib.sha256(_UUID.sub("<uuid>", raw.decode()).encode()).hexdigest(),
        "body": json.loads(raw) if raw else None,
    }


def _rows(app: Any) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import text

    engine = app.extensions["backpain"]["store"].engine
    order = {"issued_card": "issued_at, hook_instance, topic", "audit_event": "id",
             "feedback": "id", "snooze": "id"}
    rows: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table, by in order.items():
            result = connection.execute(text(f"SELECT * FROM {table} ORDER BY {by}"))
            rows[table] = [_row(dict(r._mapping)) for r in result]
    return rows


def _row(row: dict[str, Any]) -> dict[str, Any]:
    if "latency_ms" in row:
        row["latency_ms"] = "<latency>"
    for key, value in row.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                row[key] = json.loads(value)
    return row


def _plain(value: Any) -> Any:
    """A card (a typed wire object, or a dict before cds_rules.wire) as JSON data."""
    if isinstance(value, dict):
        return value
    from cds_rules import to_json

    return to_json(value)


def _render(data: dict[str, Any]) -> str:
    """Pretty JSON with UUIDs numbered in order of appearance (same uuid, same number)."""
    text = json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n"
    seen: dict[str, str] = {}
    return _UUID.sub(lambda m: seen.setdefault(m.group(0), f"<uuid-{len(seen) + 1}>"), text)


# --- record / check ----------------------------------------------------------------------


def _selected(names: list[str]) -> list[Case]:
    cases = all_cases()
    if not names:
        return cases
    return [c for c in cases if any(c.name == n or c.name.startswith(n + "/")
                                    or c.name.endswith("/" + n) for n in names)]


def _run_all(cases: list[Case], jobs: int) -> Iterator[tuple[Case, str]]:
    if jobs <= 1:
        for case in cases:
            yield case, run_case(case)
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield from zip(cases, pool.map(run_case, cases, chunksize=4), strict=True)


def diff(expected: str, got: str, name: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                        f"{name} (committed)", f"{name} (now)", n=3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.snapshots", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("record", "check"))
    parser.add_argument("cases", nargs="*", help="case names or prefixes (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_intermixed_args(argv)
    os.environ.setdefault("BACKPAIN_CDS_LOG_LEVEL", "CRITICAL")
    cases = _selected(args.cases)
    results = [("discovery", SNAPSHOT_DIR / "discovery.json", discovery_case())]
    results += [(c.name, c.path, text) for c, text in _run_all(cases, args.jobs)]
    failures = 0
    for name, path, text in results:
        if args.command == "record":
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
            continue
        expected = path.read_text() if path.exists() else ""
        if expected != text:
            failures += 1
            sys.stdout.write(diff(expected, text, name)[:20000] + "\n")
    if args.command == "record":
        print(f"recorded {len(results)} snapshots in {SNAPSHOT_DIR.relative_to(ROOT)}")
        return 0
    print(f"{len(results) - failures} of {len(results)} snapshots identical")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
