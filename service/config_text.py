"""Reading a ``BACKPAIN_CDS_*`` variable's text as its setting's type (service.config):
the parsers whose messages a bad value's problem quotes, and the instance folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

from cds_rules import Topic


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def auto_or_positive_int(raw: str) -> int:
    """Empty means "choose for me" (0); otherwise a positive whole number."""
    return _positive_int(raw) if raw.strip() else 0


def instance_dir() -> Path:
    """The install's instance folder (as Flask names it): ``instance/`` of the source
    checkout (an editable install, ``make run``), else ``<prefix>/var/backpain-cds-instance``
    (an installed wheel, e.g. the image, which sets its own DATABASE_URL anyway).
    Absolute, so a server started from another directory finds the same database."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path(sys.prefix) / "var" / "backpain-cds-instance"


def default_database_url() -> str:
    return f"sqlite:///{instance_dir() / 'backpain-cds.sqlite3'}"


def database_url_text(raw: str) -> str:
    return raw.strip() or default_database_url()


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _topics(raw: str) -> frozenset[Topic]:
    names = _csv(raw)
    try:
        return frozenset(Topic(name) for name in names)
    except ValueError as exc:
        valid = ", ".join(t.value for t in Topic)
        raise ValueError(f"unknown topic in {raw!r}; valid topics: {valid}") from exc


def site_codes_file(raw: str) -> str:
    """A site code file (FHIR ConceptMap / ValueSet / Bundle), validated now: a bad entry
    stops start-up with its name (cds_rules.site_codes)."""
    if not raw.strip():
        return ""
    from cds_rules import VALUE_SETS
    from cds_rules import load_site_codes as load_file

    load_file(raw.strip(), set(VALUE_SETS))  # raises SiteCodeError (a ValueError)
    return raw.strip()


@dataclass(frozen=True, slots=True)
class Env:
    """How a setting reads from its variable's text, when not by its type: ``parse``, the
    default as the README shows it (``shown``), ``secret`` (never echoed in a message; may
    also come from ``<NAME>_FILE``)."""

    parse: Callable[[str], Any] | None = None
    shown: str | None = None
    secret: bool = False


def _int(raw: str) -> int:
    return int(raw)


def by_type(annotation: Any) -> Callable[[str], Any]:
    """The text parser of a field's type (a CSV list, not JSON, for a collection)."""
    if annotation is bool:
        return _bool
    if annotation is int:
        return _int
    if annotation is float:
        return float
    if get_origin(annotation) is frozenset:
        return _topics
    if get_origin(annotation) is tuple:
        return _csv
    return str  # str and Literal choices (the model checks the choice)
