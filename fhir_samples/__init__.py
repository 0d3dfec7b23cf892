"""Hand-written synthetic patient scenarios (FHIR R4) with machine-readable expectations.

Each scenario in ``scenarios/<id>.json`` is a CDS Hooks call as an EHR would make it (hook,
context, prefetch) plus the exact set of cards the clinical core must answer with. The
expectations were written from CLINICAL.md and PATHWAY.md independently of the rules, so
that they can serve as the test oracle (``tests/contract/test_scenarios.py``), as demo data for
the CLI, and as patients to load into a FHIR server for integration tests.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from cds_rules.bundles import resources_from
from cds_rules.engine import HookRequest
from cds_rules.model import HOOKS, INDICATOR_RANK, Topic

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SITE_SCENARIO_DIR = Path(__file__).resolve().parent / "site_scenarios"
"""Scenarios coded with a site's own codes: each names its site code file (``siteCodes``)."""
SITE_CODES_DIR = Path(__file__).resolve().parent / "site_codes"

PREFETCH_KEYS: tuple[str, ...] = (
    "patient",
    "conditions",
    "observations",
    "medicationRequests",
    "medicationStatements",
    "serviceRequests",
    "procedures",
    "diagnosticReports",
    "imagingStudies",
)
"""The fixed prefetch keys; a scenario lists those it has data for, the rest are null."""

TOPIC_CODES: frozenset[str] = frozenset(t.value for t in Topic)


@dataclass(frozen=True)
class Scenario:
    """One synthetic patient, one hook call, and the cards it must produce.

    ``prefetch`` always has all of :data:`PREFETCH_KEYS`; ``None`` means "known to have no
    data" (CDS Hooks: do not fetch). ``expected`` is the exact set of (topic, indicator)
    pairs; ``must_not_include`` names topics a near-miss must not trigger.
    """

    id: str
    title: str
    description: str
    hook: str
    now: datetime
    context: dict[str, Any]
    prefetch: dict[str, Any]
    expected: frozenset[tuple[str, str]]
    must_not_include: frozenset[str]
    site_codes: Path | None = None
    """The site code file (BACKPAIN_CDS_SITE_CODES) the expectation assumes, if any."""
    expected_without_site_codes: frozenset[tuple[str, str]] | None = None
    """The exact cards when the service runs without that file (what the site gains)."""

    @property
    def patient_id(self) -> str:
        return str(self.context["patientId"])

    def request_body(self, hook_instance: str | None = None) -> dict[str, Any]:
        """The complete CDS Hooks request body an EHR would POST for this scenario."""
        return {
            "hook": self.hook,
            "hookInstance": hook_instance or str(uuid.uuid4()),
            "context": copy.deepcopy(self.context),
            "prefetch": copy.deepcopy(self.prefetch),
        }

    def hook_request(self) -> HookRequest:
        """The scenario as the clinical core's input: prefetch flattened, drafts resolved."""
        resources: list[dict[str, Any]] = []
        for key in PREFETCH_KEYS:
            resources.extend(_resources_from(self.prefetch.get(key)))
        return HookRequest(
            hook=self.hook,
            patient_id=self.patient_id,
            resources=tuple(copy.deepcopy(resources)),
            draft_orders=tuple(copy.deepcopy(self.draft_orders())),
            selections=tuple(self.context.get("selections") or ()),
            encounter_id=self.context.get("encounterId"),
        )

    def draft_orders(self) -> list[dict[str, Any]]:
        """The resources of ``context.draftOrders`` (order hooks), else an empty list."""
        return _resources_from(self.context.get("draftOrders"))

    def patient_resources(self) -> list[dict[str, Any]]:
        """Every prefetched resource, Patient first, once each (for loading a FHIR server).

        Draft orders are not included: they live in the hook context, not on the server.
        """
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, Any]] = []
        for key in PREFETCH_KEYS:
            for resource in _resources_from(self.prefetch.get(key)):
                ident = (resource.get("resourceType", ""), resource.get("id", ""))
                if ident in seen:
                    continue
                seen.add(ident)
                out.append(copy.deepcopy(resource))
        return out


def load_all() -> list[Scenario]:
    """Every scenario, sorted by id."""
    return list(_catalogue().values())


def load(scenario_id: str) -> Scenario:
    """One scenario by id; ``KeyError`` if there is none."""
    try:
        return _catalogue()[scenario_id]
    except KeyError:
        raise KeyError(f"unknown scenario: {scenario_id!r}") from None


def load_site_scenarios() -> list[Scenario]:
    """The scenarios coded with a site's own codes (``site_scenarios/``), sorted by id.

    They are kept apart from :func:`load_all` because they need the service started with
    their site code file; the others must pass on the shipped value sets alone.
    """
    paths = sorted(SITE_SCENARIO_DIR.glob("*.json"))
    return sorted((_parse(path) for path in paths), key=lambda s: s.id)


def scenario_ids() -> list[str]:
    """The ids of every scenario, sorted."""
    return list(_catalogue())


@cache
def _catalogue() -> dict[str, Scenario]:
    scenarios = (_parse(path) for path in sorted(SCENARIO_DIR.glob("*.json")))
    return {s.id: s for s in sorted(scenarios, key=lambda s: s.id)}


def _parse(path: Path) -> Scenario:
    """Read one scenario file, checking the parts every consumer relies on."""
    doc = json.loads(path.read_text(encoding="utf-8"))

    def fail(why: str) -> ValueError:
        return ValueError(f"{path.name}: {why}")

    if doc.get("id") != path.stem:
        raise fail("'id' must equal the file name")
    if doc.get("hook") not in HOOKS:
        raise fail(f"unknown hook {doc.get('hook')!r}")
    now = datetime.fromisoformat(doc["now"])
    if now.tzinfo is None:
        raise fail("'now' must carry a time zone")
    context = doc.get("context") or {}
    if not context.get("patientId"):
        raise fail("context.patientId is required")
    prefetch = doc.get("prefetch") or {}
    unknown = set(prefetch) - set(PREFETCH_KEYS)
    if unknown:
        raise fail(f"unknown prefetch keys {sorted(unknown)}")
    expect = doc.get("expect") or {}
    expected = frozenset((c["topic"], c["indicator"]) for c in expect.get("cards", []))
    must_not = frozenset(expect.get("mustNotInclude", []))
    _check_topics(fail, [t for t, _ in expected] + sorted(must_not))
    if any(ind not in INDICATOR_RANK for _, ind in expected):
        raise fail("indicator must be info, warning or critical")
    if len({t for t, _ in expected}) != len(expected):
        raise fail("one card per topic")
    if must_not & {t for t, _ in expected}:
        raise fail("a topic cannot be both expected and excluded")
    site_codes, without = _site_parts(fail, doc, expect)
    return Scenario(
        id=doc["id"],
        title=doc.get("title", ""),
        description=doc.get("description", ""),
        hook=doc["hook"],
        now=now,
        context=context,
        prefetch={key: prefetch.get(key) for key in PREFETCH_KEYS},
        expected=expected,
        must_not_include=must_not,
        site_codes=site_codes,
        expected_without_site_codes=without,
    )


def _site_parts(fail: Any, doc: dict[str, Any], expect: dict[str, Any]
                ) -> tuple[Path | None, frozenset[tuple[str, str]] | None]:
    """``siteCodes`` (a file in site_codes/) and ``expect.withoutSiteCodes``, both or neither."""
    name, without = doc.get("siteCodes"), expect.get("withoutSiteCodes")
    if name is None and without is None:
        return None, None
    if not isinstance(name, str) or not (SITE_CODES_DIR / name).is_file():
        raise fail(f"siteCodes must name a file in {SITE_CODES_DIR.name}/")
    if not isinstance(without, list):
        raise fail("a site scenario states expect.withoutSiteCodes (a list of cards)")
    pairs = frozenset((c["topic"], c["indicator"]) for c in without)
    _check_topics(fail, [t for t, _ in pairs])
    return SITE_CODES_DIR / name, pairs


def _check_topics(fail: Any, topics: Iterable[str]) -> None:
    bad = sorted(set(topics) - TOPIC_CODES)
    if bad:
        raise fail(f"unknown topic codes {bad}")


def _resources_from(value: Any) -> list[dict[str, Any]]:
    """A prefetch value or draftOrders Bundle as a flat list of resources."""
    return resources_from(value)


__all__ = ["PREFETCH_KEYS", "SCENARIO_DIR", "SITE_SCENARIO_DIR", "Scenario", "load", "load_all",
           "load_site_scenarios", "scenario_ids"]
