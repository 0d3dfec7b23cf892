"""pytest plugin: no test may make the service log a JWT, an access token or a bearer value.

Loaded from ``tests/conftest.py`` (``pytest_plugins``). For every test an autouse fixture
captures every log record that any logger emits (a handler on the root logger at DEBUG)
and fails the test if the rendered text contains

- a string a test registered as secret with :func:`register_secret` (tokens the trust
  tests mint, access tokens they put in hook bodies), or
- anything secret-shaped: a compact JWT, ``Bearer <value>``, an ``access_token`` value;

and also if the service's redaction safety net (:mod:`service.trust.redact`) had to scrub
a record during the test: the output is clean then, but some code tried to log a secret.
A test that logs a secret on purpose (to test the redaction itself) is marked
``@pytest.mark.logs_secrets``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

_SECRETS: set[str] = set()
_SHAPES = (
    ("a JWT", re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")),
    ("a bearer value", re.compile(r"(?i)\bbearer\s+(?!\[REDACTED\])[A-Za-z0-9\-._~+/]{4,}")),
    ("an authorization value", re.compile(
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|digest|token)\s+)?"
        r"(?!\[REDACTED\]|(?:bearer|basic|digest|token)\b)[^\s\"',;}&]{4,}")),
    ("an access token", re.compile(
        r"(?i)[\"']?\baccess_token[\"']?\s*[:=]\s*[\"']?(?!\[REDACTED\])[^\s\"',;}&]{4,}")),
)


def register_secret(value: str) -> str:
    """Remember ``value`` as something no log line may contain; returns it."""
    if len(value) >= 6:
        _SECRETS.add(value)
    return value


def find_secrets(text: str) -> list[str]:
    """What secret-looking things ``text`` holds (descriptions only, never the values)."""
    found = [f"a registered secret ({len(s)} chars)" for s in _SECRETS if s in text]
    found += [name for name, pattern in _SHAPES if pattern.search(text)]
    return found


class CapturingHandler(logging.Handler):
    """Keeps the fully rendered text of every record (message, exception, stack)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append((record.name, self.format(record)))
        except Exception:  # pragma: no cover - a broken record is logging's business
            self.lines.append((record.name, repr(record.__dict__)))


def _redaction_count() -> int:
    try:
        from service.trust import redact
    except ImportError:  # pragma: no cover
        return 0
    return redact.redaction_count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "logs_secrets: the test logs a secret on purpose (redaction tests)"
    )


@pytest.fixture(autouse=True)
def no_secrets_in_logs(request: pytest.FixtureRequest) -> Iterator[CapturingHandler]:
    """Fail the test if anything it made the code log contains a token."""
    handler = CapturingHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    redactions_before = _redaction_count()
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    if request.node.get_closest_marker("logs_secrets"):
        return
    leaks = [(name, what) for name, line in handler.lines for what in find_secrets(line)]
    if leaks:
        shown = "; ".join(f"{what} in a record of logger {name!r}" for name, what in leaks[:5])
        pytest.fail(f"secret in the logs: {shown}", pytrace=False)
    if _redaction_count() != redactions_before:
        pytest.fail("the log redaction safety net had to scrub a record: some code tried "
                    "to log a token (the output was cleaned, the code must be fixed)",
                    pytrace=False)
