"""Shared pytest fixtures, the layer markers, and the CI rule: under CI=true real components
are mandatory.

Layers (a test's directory gives its marker, so ``-m unit`` and ``-m "not integration"`` work):
``tests/unit`` calls modules directly; ``tests/contract`` holds what the service answers and
stores, through the in-process app, and the scenario checks; ``tests/integration`` runs real
servers and processes (PostgreSQL the tests start, Medplum, gunicorn, nginx, the container,
a browser). Shared helpers (``helpers.py``, ``*_support.py``) stay at ``tests/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SYNTHEA_DIR = SHARED / "data" / "synthea-r4"
IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = ["tests.fhir_server_fixture", "tests.log_guard"]
LAYERS = ("unit", "contract", "integration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its layer, taken from its directory under tests/."""
    tests_dir = ROOT / "tests"
    for item in items:
        parts = item.path.relative_to(tests_dir).parts
        if parts and parts[0] in LAYERS:
            item.add_marker(parts[0])


def require(condition: bool, component: str) -> None:
    """Skip when a real component is unavailable locally; fail instead under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{component} is required under CI=true but is not available")
    pytest.skip(f"{component} not available")
