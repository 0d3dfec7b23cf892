"""Every ``BACKPAIN_CDS_*`` setting in one place, validated at start-up.

Configuration comes only from environment variables prefixed ``BACKPAIN_CDS_`` and from
an optional JSON settings file named by ``BACKPAIN_CDS_SETTINGS_FILE`` (environment wins).
A bad value stops start-up with a message naming the variable and what is wrong.

To add a setting: add one :class:`Var` to :data:`VARIABLES` and a field to
:class:`Settings` with the same (lower-case) name. The README table is generated from
:data:`VARIABLES` (``backpain-cds config-doc``). A clinical threshold is also a
:class:`RuleSettings` field of the same name: its Settings default is the RuleSettings
default, and :meth:`Settings.rule_settings` copies every field the two share
(``tests/test_config.py`` checks that the Var default still parses to it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from cds_rules.model import Topic
from cds_rules.settings import DEFAULT_SETTINGS as RULE_DEFAULTS
from cds_rules.settings import RuleSettings

PREFIX = "BACKPAIN_CDS_"


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


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


def _auto_or_positive_int(raw: str) -> int:
    """Empty means "choose for me" (0); otherwise a positive whole number."""
    return _positive_int(raw) if raw.strip() else 0


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _topics(raw: str) -> frozenset[Topic]:
    names = _csv(raw)
    try:
        return frozenset(Topic(name) for name in names)
    except ValueError as exc:
        valid = ", ".join(t.value for t in Topic)
        raise ValueError(f"unknown topic in {raw!r}; valid topics: {valid}") from exc


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw

    return parse


@dataclass(frozen=True, slots=True)
class Var:
    """One environment variable: its name (without prefix), parser, default and meaning."""

    name: str
    parse: Callable[[str], Any]
    default: str
    doc: str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name


VARIABLES: tuple[Var, ...] = (
    # --- HTTP shell
    Var("PUBLIC_BASE_URL", str, "", "External base URL of the service as EHRs call it "
        "(e.g. https://cds.hospital.org/backpain); used for JWT `aud`. Empty: derived "
        "from the request."),
    Var("MAX_BODY_BYTES", _positive_int, "8388608", "Largest accepted request body in bytes "
        "(larger: 413)."),
    Var("MAX_JSON_DEPTH", _positive_int, "64", "Deepest accepted JSON nesting (deeper: 400)."),
    Var("CORS_ORIGINS", _csv, "*", "Comma-separated origins allowed for browser clients "
        "(the CDS Hooks sandbox runs in a browser)."),
    Var("TRUSTED_PROXIES", _csv, "", "Comma-separated proxy IPs or CIDR networks whose "
        "X-Forwarded-* headers are trusted (for the JWT `aud`)."),
    Var("LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Log level."),
    Var("WORKERS", _auto_or_positive_int, "", "gunicorn worker processes. Empty: "
        "2 x usable CPUs + 1, capped at 8 (CPUs from the cgroup quota when there is one)."),
    # --- persistence
    Var("DATABASE_URL", str, "sqlite:///instance/backpain-cds.sqlite3", "SQLAlchemy URL: "
        "SQLite (embedded default) or postgresql+psycopg://... for several replicas.",
        secret=True),
    Var("PATIENT_HASH_KEY", str, "", "Secret key for the keyed hash that stands for patient "
        "ids at rest. Required unless ALLOW_UNAUTHENTICATED is set.", secret=True),
    Var("AUDIT_RETENTION_DAYS", _positive_int, "400", "Days audit records are kept."),
    Var("SNOOZE_DAYS", _positive_int, "30", "Default snooze period for non-critical cards."),
    Var("CRITICAL_SNOOZE_HOURS", _positive_int, "24", "Longest snooze of a critical card."),
    # --- trust
    Var("TRUSTED_CLIENTS_FILE", str, "", "JSON file listing trusted CDS clients (iss, JWKS "
        "or jku, tenants, FHIR base URLs)."),
    Var("ALLOW_UNAUTHENTICATED", _bool, "0", "Accept calls without a JWT (local development "
        "only; `make run` sets it and warns)."),
    Var("JWT_LEEWAY_SECONDS", _positive_int, "60", "Clock leeway for exp/iat/nbf."),
    Var("JWKS_TIMEOUT_SECONDS", _non_negative_float, "2.0", "Timeout fetching a JWKS."),
    Var("JWKS_CACHE_SECONDS", _positive_int, "3600", "How long a fetched JWKS is cached."),
    # --- FHIR client
    Var("FHIR_TIMEOUT_SECONDS", _non_negative_float, "0.8", "Timeout of one FHIR request."),
    Var("FHIR_DEADLINE_SECONDS", _non_negative_float, "2.5", "Budget for all fetching in one "
        "hook call."),
    Var("FHIR_MAX_PAGES", _positive_int, "20", "Most Bundle pages followed per query."),
    Var("FHIR_MAX_RESOURCES", _positive_int, "20000", "Most resources read per hook call."),
    Var("FHIR_RETRIES", _positive_int, "2", "Attempts for an idempotent GET on 429/502/503/504."),
    Var("FHIR_SERVER_ALLOWLIST", _csv, "", "Comma-separated FHIR base URLs the service may "
        "fetch from for any client (trusted clients add their own)."),
    Var("ALLOW_HTTP_LOOPBACK", _bool, "0", "Allow http:// fhirServer and JWKS (jku) URLs "
        "on loopback (development and tests only)."),
    # --- clinical thresholds (our choices; CLINICAL.md)
    Var("FEVER_CELSIUS", _non_negative_float, "38.0", "Fever threshold in degrees Celsius."),
    Var("FEVER_WINDOW_DAYS", _positive_int, "7", "Fever counts if recorded within these days."),
    Var("CAUDA_EQUINA_WINDOW_DAYS", _positive_int, "14", "A CES sign is 'new' within these "
        "days."),
    Var("LONG_TERM_STEROID_DAYS", _positive_int, "90", "Systemic steroids for at least this "
        "long count as long-term."),
    Var("REPEAT_IMAGING_WINDOW_DAYS", _positive_int, "365", "A spine MRI/CT within these "
        "days makes a new one a repeat."),
    Var("EMG_MIN_LEG_SYMPTOM_DAYS", _positive_int, "21", "Leg symptoms must persist this long "
        "before EMG/NCS is suggested."),
    Var("WEIGHT_LOSS_PERCENT", _non_negative_float, "5.0", "Weight loss (percent) that counts "
        "as significant."),
    Var("WEIGHT_LOSS_WINDOW_DAYS", _positive_int, "182", "Window for the weight-loss trend."),
    Var("FRACTURE_AGE", _positive_int, "70", "Age above which back pain is a fracture risk."),
    Var("FRACTURE_AGE_MODE", _choice("single", "acp"), "single", "'single' uses FRACTURE_AGE; "
        "'acp' uses FRACTURE_AGE_MALE / FRACTURE_AGE_FEMALE (ACP 2011: men > 65, women > 75)."),
    Var("FRACTURE_AGE_MALE", _positive_int, "65", "With FRACTURE_AGE_MODE=acp: age above "
        "which a man's back pain is a fracture risk."),
    Var("FRACTURE_AGE_FEMALE", _positive_int, "75", "With FRACTURE_AGE_MODE=acp: age above "
        "which a woman's back pain is a fracture risk."),
    Var("SEVERE_WEAKNESS_MRC_GRADE", _positive_int, "3", "An MRC muscle grade at or below "
        "this is a severe motor deficit."),
    Var("RECENT_RISK_DAYS", _positive_int, "90", "An infection or spinal procedure this "
        "recent is a risk factor for spinal infection."),
    Var("RECENT_ORDER_DAYS", _positive_int, "7", "A lab test or referral completed this "
        "recently is not suggested again."),
    Var("SEVERE_PAIN_SCORE", _positive_int, "7", "A pain score (0-10) at or above this is "
        "severe (known aortic aneurysm with severe back pain)."),
    Var("DISABLED_TOPICS", _topics, "", "Comma-separated card topics switched off at this "
        "site. A critical card is shown even when its topic is switched off (an emergency "
        "in the record is never silenced); a switched-off red-flag family still quiets the "
        "pathway cards."),
)

_BY_NAME = {var.name: var for var in VARIABLES}


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated configuration. Build with :func:`load_settings`."""

    public_base_url: str = ""
    max_body_bytes: int = 8388608
    max_json_depth: int = 64
    cors_origins: tuple[str, ...] = ("*",)
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "INFO"
    workers: int = 0  # 0: derived from the CPU count (gunicorn.conf.py)
    database_url: str = "sqlite:///instance/backpain-cds.sqlite3"
    patient_hash_key: str = ""
    audit_retention_days: int = 400
    snooze_days: int = 30
    critical_snooze_hours: int = 24
    trusted_clients_file: str = ""
    allow_unauthenticated: bool = False
    jwt_leeway_seconds: int = 60
    jwks_timeout_seconds: float = 2.0
    jwks_cache_seconds: int = 3600
    fhir_timeout_seconds: float = 0.8
    fhir_deadline_seconds: float = 2.5
    fhir_max_pages: int = 20
    fhir_max_resources: int = 20000
    fhir_retries: int = 2
    fhir_server_allowlist: tuple[str, ...] = ()
    allow_http_loopback: bool = False
    # clinical thresholds: defaults are the core's (RuleSettings), fields named as there
    fever_celsius: float = RULE_DEFAULTS.fever_celsius
    fever_window_days: int = RULE_DEFAULTS.fever_window_days
    cauda_equina_window_days: int = RULE_DEFAULTS.cauda_equina_window_days
    long_term_steroid_days: int = RULE_DEFAULTS.long_term_steroid_days
    repeat_imaging_window_days: int = RULE_DEFAULTS.repeat_imaging_window_days
    emg_min_leg_symptom_days: int = RULE_DEFAULTS.emg_min_leg_symptom_days
    weight_loss_percent: float = RULE_DEFAULTS.weight_loss_percent
    weight_loss_window_days: int = RULE_DEFAULTS.weight_loss_window_days
    fracture_age: int = RULE_DEFAULTS.fracture_age
    fracture_age_mode: str = RULE_DEFAULTS.fracture_age_mode
    fracture_age_male: int = RULE_DEFAULTS.fracture_age_male
    fracture_age_female: int = RULE_DEFAULTS.fracture_age_female
    severe_weakness_mrc_grade: int = RULE_DEFAULTS.severe_weakness_mrc_grade
    recent_risk_days: int = RULE_DEFAULTS.recent_risk_days
    recent_order_days: int = RULE_DEFAULTS.recent_order_days
    severe_pain_score: int = RULE_DEFAULTS.severe_pain_score
    disabled_topics: frozenset[Topic] = field(default_factory=frozenset)

    def rule_settings(self) -> RuleSettings:
        """The clinical thresholds, handed to the core: every :class:`RuleSettings` field
        that is also a setting (same name); the others keep the core's defaults."""
        return RuleSettings(**{name: getattr(self, name) for name in _shared_with_rules()})

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (tests, CLI overrides)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


@cache
def _shared_with_rules() -> tuple[str, ...]:
    """The :class:`RuleSettings` fields that are configurable (a :class:`Settings` field)."""
    configurable = {f.name for f in fields(Settings)}
    return tuple(f.name for f in fields(RuleSettings) if f.name in configurable)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read, parse and validate every variable; raise :class:`ConfigError` on the first bad one."""
    env = os.environ if environ is None else environ
    raw = _file_values(env)
    raw.update({k[len(PREFIX):]: v for k, v in env.items() if k.startswith(PREFIX)})
    raw.pop("SETTINGS_FILE", None)
    unknown = sorted(set(raw) - set(_BY_NAME))
    if unknown:
        raise ConfigError(f"{PREFIX}{unknown[0]}: unknown setting (typo?)")
    values: dict[str, Any] = {}
    for var in VARIABLES:
        text = raw.get(var.name, var.default)
        try:
            values[var.name.lower()] = var.parse(text)
        except ValueError as exc:
            shown = "<secret>" if var.secret else repr(text)
            raise ConfigError(f"{var.env}={shown}: {exc}") from None
    return Settings(**values)


def _file_values(env: Mapping[str, str]) -> dict[str, str]:
    path = env.get(PREFIX + "SETTINGS_FILE")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{PREFIX}SETTINGS_FILE={path!r}: cannot read JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{PREFIX}SETTINGS_FILE={path!r}: must hold a JSON object")
    return {str(k).removeprefix(PREFIX): str(v) for k, v in data.items()}


def markdown_table() -> str:
    """The README table of every variable with its default."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for var in VARIABLES:
        default = f"`{var.default}`" if var.default else "(empty)"
        rows.append(f"| `{var.env}` | {default} | {var.doc} |")
    return "\n".join(rows)
