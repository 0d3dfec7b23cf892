""".ci/install-system.sh: a Node too old for the test FHIR server stops CI (exit 1) and
only warns locally.

The script runs for real; every tool it looks for is a stub on PATH (so nothing is
installed or started), except ``node``: the real one, told it is version 20.18.0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require

SCRIPT = ROOT / ".ci" / "install-system.sh"
STUBS = ("npm", "wrk", "buildah", "mmdebstrap", "nginx", "pg_isready", "apt-get")


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def old_node_path(tmp_path: Path) -> str:
    """A PATH whose ``node`` reports 20.18.0 and whose other tools do nothing."""
    real_node = shutil.which("node")
    require(real_node is not None, "node")
    version = tmp_path / "node-20.18.js"
    version.write_text('Object.defineProperty(process.versions, "node", {value: "20.18.0"});\n'
                       'Object.defineProperty(process, "version", {value: "v20.18.0"});\n',
                       encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "node", f'#!/bin/sh\nexec "{real_node}" -r "{version}" "$@"\n')
    for tool in STUBS:  # apt-get too: the test must never install anything
        _executable(bin_dir / tool, "#!/bin/sh\nexit 0\n")
    return f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"


def run_script(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env={"PATH": path, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_old_node_fails_the_ci_run(old_node_path: str) -> None:
    result = run_script(old_node_path, CI="true")
    assert result.returncode == 1
    assert "v20.18.0 < 20.19" in result.stderr


def test_old_node_only_warns_outside_ci(old_node_path: str) -> None:
    result = run_script(old_node_path)
    assert result.returncode == 0, result.stderr
    assert "warning: node v20.18.0 < 20.19" in result.stderr
