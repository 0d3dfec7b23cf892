"""pytest plugin: a real FHIR R4 server for the session (Medplum's in-memory FHIR router).

``fhir_server`` starts ``tests/fhirserver/server.mjs`` once per session on a free loopback
port (the server binds port 0 and prints "ready <port>"), and stops it at the end. Tests
load the resources they need through :meth:`FhirServer.load`. Without node or the npm
packages (``npm ci`` in tests/fhirserver, done by ``make test``) the tests that use it skip
locally and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require

SERVER_DIR = Path(__file__).resolve().parent / "fhirserver"
START_TIMEOUT_SECONDS = 60.0


class FhirServer:
    """A running test FHIR server: its base URL and its test-administration endpoints."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.base = f"{self.origin}/fhir"
        self._admin = httpx.Client(base_url=self.origin, timeout=30.0, trust_env=False)

    def load(self, resources: Iterable[dict[str, Any]]) -> int:
        """PUT every resource by its id (create or replace); returns how many were loaded.
        Sent as ASCII JSON, as EHRs write it: a lone surrogate goes as its escape."""
        response = self._admin.post("/__load", content=json.dumps(list(resources)).encode(),
                                    headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return int(response.json()["loaded"])

    def clear(self) -> None:
        self._admin.post("/__clear").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """Requests received under the FHIR base since the last :meth:`reset_requests`."""
        response = self._admin.get("/__requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def reset_requests(self) -> None:
        self._admin.post("/__reset").raise_for_status()

    def close(self) -> None:
        self._admin.close()


def _node_command() -> list[str] | None:
    node = shutil.which("node")
    if node is None or not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        return None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    major = int(version.stdout.strip().lstrip("v").split(".")[0] or 0)
    # Medplum needs a global WebSocket; Node 20 has it only behind this flag (22+: built in).
    flags = ["--experimental-websocket"] if major < 22 else []
    return [node, *flags, "server.mjs", "0"]


def _wait_ready(process: subprocess.Popen[str], stderr_path: Path) -> int:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.5):
            if process.poll() is not None:
                break
            continue
        line = process.stdout.readline()
        if line.startswith("ready "):
            return int(line.split()[1])
        if not line and process.poll() is not None:
            break
    process.kill()
    process.wait()
    errors = stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    pytest.fail(f"the Medplum FHIR server did not start: {errors}")


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[FhirServer]:
    command = _node_command()
    require(command is not None, "Medplum FHIR server (node and tests/fhirserver/node_modules)")
    assert command is not None
    with tempfile.TemporaryDirectory(prefix="fhirserver-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        with stderr_path.open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                command,
                cwd=SERVER_DIR,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "FHIR_SERVER_PORT": "0"},
            )
        try:
            server = FhirServer(_wait_ready(process, stderr_path))
            yield server
            server.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
