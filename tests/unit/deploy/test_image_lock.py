"""The image is reproducible: its base is pinned by digest with the Python CI tests, every
package comes from a lock with hashes that satisfies pyproject.toml, and the build writes
an SBOM. Static checks (seconds); tests/integration/test_container.py builds and runs the image.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"
TOOLS_LOCK = ROOT / "deploy" / "image" / "build-tools.lock"


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes file."""
    text = path.read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9._-]+)==(\S+)", block)
        if match:
            found[canonicalize_name(match[1])] = (match[2],
                                                  re.findall(r"--hash=sha256:([0-9a-f]{64})",
                                                             block))
    return found


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_every_runtime_dependency_is_locked_with_hashes_and_satisfies_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = pins(LOCK)
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        version, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    assert all(hashes for _, hashes in locked.values())
    assert all(hashes for _, hashes in pins(TOOLS_LOCK).values())
    assert {"setuptools", "wheel", "cyclonedx-bom"} <= set(pins(TOOLS_LOCK))


def test_the_image_installs_only_from_the_locks() -> None:
    text = dockerfile()
    installs = re.findall(r"pip install ([^\n\\]*)", text)
    assert installs, "no pip install in the Dockerfile"
    for args in installs:
        assert "--require-hashes" in args or "--no-index" in args, args
    assert "--requirement requirements.lock" in text
    assert "--requirement build-tools.lock" in text


def test_the_base_is_pinned_by_digest_with_the_python_ci_tests() -> None:
    base = re.search(r"^ARG BASE=(\S+)$", dockerfile(), re.MULTILINE)
    assert base, "no ARG BASE"
    image, _, digest = base.group(1).partition("@")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), base.group(1)
    python = re.search(r":(\d+\.\d+)-", image)
    script = (ROOT / ".ci" / "container-test.sh").read_text()
    suite = re.search(r"^SUITE=(\w+)$", script, re.MULTILINE)
    assert python and suite
    # CI's base is Debian's python3 of that suite; the lock was resolved for the same Python
    debian_python = {"bookworm": "3.11", "trixie": "3.13"}[suite.group(1)]
    assert python.group(1) == debian_python and suite.group(1) in image
    assert f"with Python {debian_python}" in LOCK.read_text()


def test_the_build_writes_a_cyclonedx_sbom_into_the_image() -> None:
    text = dockerfile()
    assert re.search(r"cyclonedx-py environment .*--of JSON", text)
    assert "COPY --from=build /opt/backpain-cds/sbom.cdx.json /opt/backpain-cds/sbom.cdx.json" \
        in text
