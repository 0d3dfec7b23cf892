"""Before/after equivalence: every scenario's and Synthea patient's cards, HTTP answers and
stored rows are exactly those committed in ``tests/snapshots`` (:mod:`tools.snapshots`).

Not the clinical oracle (that is ``test_scenarios.py``): these files pin what the
code does today, so that a refactor can prove it changed nothing. A refactor leaves them
byte-identical; a behaviour change regenerates them (``python -m tools.snapshots record``)
and says why in its commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require
from tools import snapshots

CASES = snapshots.all_cases()
RECORD = "regenerate after a deliberate behaviour change: python -m tools.snapshots record"


def test_every_case_has_a_committed_snapshot_and_no_file_is_stale() -> None:
    files = {p.relative_to(snapshots.SNAPSHOT_DIR).with_suffix("").as_posix()
             for p in snapshots.SNAPSHOT_DIR.rglob("*.json")}
    if not snapshots.SYNTHEA_DIR.is_dir():  # a fresh clone: the scenarios only
        files = {f for f in files if not f.startswith("synthea/")}
    assert files == {case.name for case in CASES} | {"discovery"}, RECORD


def test_discovery_is_unchanged() -> None:
    _compare("discovery", snapshots.SNAPSHOT_DIR / "discovery.json",
             snapshots.discovery_case())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_is_unchanged(case: snapshots.Case) -> None:
    if case.name.startswith("synthea/"):
        require(snapshots.SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")
    _compare(case.name, case.path, snapshots.run_case(case))


def _compare(name: str, path: Path, got: str) -> None:
    expected = path.read_text() if path.exists() else ""
    if got != expected:
        pytest.fail(f"{name} changed ({RECORD}):\n{snapshots.diff(expected, got, name)[:8000]}",
                    pytrace=False)
