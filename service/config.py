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

import difflib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from cds_rules import DEFAULT_SETTINGS as RULE_DEFAULTS
from cds_rules import RuleSettings, Topic

PREFIX = "BACKPAIN_CDS_"


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable.
    ``problems``: every problem found, one sentence each."""

    def __init__(self, message: str, problems: list[str] | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])
        self.settings = settings  # when every value parsed (a combination is the problem)


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


def _database_url(raw: str) -> str:
    return raw.strip() or default_database_url()


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
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


def _site_codes_file(raw: str) -> str:
    """A site code file (FHIR ConceptMap / ValueSet / Bundle), validated now: a bad entry
    stops start-up with its name (cds_rules.site_codes)."""
    if not raw.strip():
        return ""
    from cds_rules import VALUE_SETS
    from cds_rules import load_site_codes as load_file

    load_file(raw.strip(), set(VALUE_SETS))  # raises SiteCodeError (a ValueError)
    return raw.strip()


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
    secret: bool = False  # never echoed in a message; may also come from <NAME>_FILE
    bounds: tuple[float, float] | None = None  # plausible range, inclusive
    unit: str = ""

    @property
    def env(self) -> str:
        return PREFIX + self.name

    def value(self, text: str) -> Any:
        """The parsed value; :class:`ValueError` if unparsable or outside :attr:`bounds`."""
        value = self.parse(text)
        if self.bounds is not None and not self.bounds[0] <= value <= self.bounds[1]:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"must be between {self.bounds[0]:g} and {self.bounds[1]:g}{unit}"
                             " (a plausible value for this setting)")
        return value


VARIABLES: tuple[Var, ...] = (
    # --- HTTP shell
    Var("PUBLIC_BASE_URL", str, "", "External base URL of the service as EHRs call it "
        "(e.g. https://cds.hospital.org/backpain); used for JWT `aud`. Empty: derived "
        "from the request."),
    Var("MAX_BODY_BYTES", _positive_int, "8388608", "Largest accepted request body in bytes "
        "(larger: 413)."),
    Var("MAX_JSON_DEPTH", _positive_int, "64", "Deepest accepted JSON nesting (deeper: 400)."),
    Var("CORS_ORIGINS", _csv, "", "Comma-separated origins allowed for browser clients "
        "(the CDS Hooks sandbox runs in a browser), or `*`. Empty: `*` with "
        "ALLOW_UNAUTHENTICATED (local use), else no browser origin (production)."),
    Var("TRUSTED_PROXIES", _csv, "", "Comma-separated proxy IPs or CIDR networks whose "
        "X-Forwarded-* headers are trusted (for the JWT `aud`)."),
    Var("LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Log level."),
    Var("WORKERS", _auto_or_positive_int, "", "gunicorn worker processes. Empty: "
        "2 x usable CPUs + 1, capped at 8 (CPUs from the cgroup quota when there is one)."),
    # --- persistence
    Var("DATABASE_URL", _database_url, "", "SQLAlchemy URL: SQLite (embedded default) or "
        "postgresql+psycopg://... for several replicas. Empty: the SQLite file "
        "`backpain-cds.sqlite3` in the install's instance folder (`instance/` of the source "
        "checkout, else `<prefix>/var/backpain-cds-instance/`), an absolute path printed at "
        "start. Also from a file: `BACKPAIN_CDS_DATABASE_URL_FILE`.", secret=True),
    Var("PATIENT_HASH_KEY", str, "", "Secret key for the keyed hash that stands for patient "
        "ids at rest: at least 32 random characters (`openssl rand -hex 32`), never a "
        "placeholder. Required unless ALLOW_UNAUTHENTICATED is set. Also from a file: "
        "`BACKPAIN_CDS_PATIENT_HASH_KEY_FILE`.", secret=True),
    Var("AUDIT_RETENTION_DAYS", _positive_int, "400", "Days audit records are kept."),
    Var("SNOOZE_DAYS", _positive_int, "30", "Default snooze period for non-critical cards.",
        bounds=(1, 365)),
    Var("CRITICAL_SNOOZE_HOURS", _positive_int, "24", "Longest snooze of a critical card.",
        bounds=(1, 168)),
    # --- trust
    Var("TRUSTED_CLIENTS_FILE", str, "", "JSON file listing trusted CDS clients (iss, JWKS "
        "or jku, tenants, FHIR base URLs)."),
    Var("SITE_CODES", _site_codes_file, "", "FHIR ConceptMap, ValueSet or Bundle (JSON file) "
        "adding this site's local codes to concepts, e.g. its own cauda-equina screen code; "
        "checked at start-up (README: site codes)."),
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
    # --- pages (/preview, /governance; the catalogue, /docs and /fhir are always open)
    Var("PAGES", _choice("auto", "on", "off"), "auto", "The /preview and /governance pages. "
        "`auto`: on only with ALLOW_UNAUTHENTICATED (`make run`); `on`: on, behind "
        "PAGES_TOKEN unless ALLOW_UNAUTHENTICATED; `off`: 404."),
    Var("PAGES_TOKEN", str, "", "Operator credential for /preview and /governance when "
        "PAGES=on (at least 32 characters): HTTP Basic password (any user name) or Bearer "
        "token.", secret=True),
    # --- clinical thresholds (our choices; CLINICAL.md); bounds: plausible values only
    Var("FEVER_CELSIUS", _non_negative_float, "38.0", "Fever threshold in degrees Celsius.",
        bounds=(37.5, 40.0), unit="degrees Celsius"),
    Var("FEVER_WINDOW_DAYS", _positive_int, "7", "Fever counts if recorded within these days.",
        bounds=(1, 90)),
    Var("CAUDA_EQUINA_WINDOW_DAYS", _positive_int, "14", "A CES sign is 'new' within these "
        "days.", bounds=(1, 365)),
    Var("LONG_TERM_STEROID_DAYS", _positive_int, "90", "Systemic steroids for at least this "
        "long count as long-term.", bounds=(7, 730)),
    Var("REPEAT_IMAGING_WINDOW_DAYS", _positive_int, "365", "A spine MRI/CT within these "
        "days makes a new one a repeat.", bounds=(30, 3650)),
    Var("EMG_MIN_LEG_SYMPTOM_DAYS", _positive_int, "21", "Leg symptoms must persist this long "
        "before EMG/NCS is suggested.", bounds=(7, 365)),
    Var("WEIGHT_LOSS_PERCENT", _non_negative_float, "5.0", "Weight loss (percent) that counts "
        "as significant.", bounds=(1, 50), unit="percent"),
    Var("WEIGHT_LOSS_WINDOW_DAYS", _positive_int, "182", "Window for the weight-loss trend.",
        bounds=(30, 730)),
    Var("FRACTURE_AGE", _positive_int, "70", "Age above which back pain is a fracture risk.",
        bounds=(18, 110), unit="years"),
    Var("FRACTURE_AGE_MODE", _choice("single", "acp"), "single", "'single' uses FRACTURE_AGE; "
        "'acp' uses FRACTURE_AGE_MALE / FRACTURE_AGE_FEMALE (ACP 2011: men > 65, women > 75)."),
    Var("FRACTURE_AGE_MALE", _positive_int, "65", "With FRACTURE_AGE_MODE=acp: age above "
        "which a man's back pain is a fracture risk.", bounds=(18, 110), unit="years"),
    Var("FRACTURE_AGE_FEMALE", _positive_int, "75", "With FRACTURE_AGE_MODE=acp: age above "
        "which a woman's back pain is a fracture risk.", bounds=(18, 110), unit="years"),
    Var("SEVERE_WEAKNESS_MRC_GRADE", _positive_int, "3", "An MRC muscle grade at or below "
        "this is a severe motor deficit.", bounds=(1, 4)),
    Var("RECENT_RISK_DAYS", _positive_int, "90", "An infection or spinal procedure this "
        "recent is a risk factor for spinal infection.", bounds=(1, 730)),
    Var("RECENT_ORDER_DAYS", _positive_int, "7", "A lab test or referral completed this "
        "recently is not suggested again.", bounds=(1, 365)),
    Var("SEVERE_PAIN_SCORE", _positive_int, "7", "A pain score (0-10) at or above this is "
        "severe (known aortic aneurysm with severe back pain).", bounds=(1, 10)),
    Var("NEW_DIAGNOSIS_DAYS", _positive_int, "14", "A red-flag diagnosis (cauda equina, cord "
        "compression, epidural abscess, discitis, vertebral fracture) recorded within these "
        "days is an emergency; older is history (at most a warning).", bounds=(1, 365)),
    Var("EPISODE_MAX_DAYS", _positive_int, "84", "'Pain not improving' (malignancy) is judged "
        "only in a back-pain episode that began within these days.", bounds=(28, 365)),
    Var("MYELOMA_PERSISTENCE_DAYS", _positive_int, "42", "Back pain lasting at least this "
        "long at age 60 or over gives the NICE NG12 myeloma blood-test card.",
        bounds=(14, 365)),
    Var("CONSERVATIVE_MANAGEMENT_DAYS", _positive_int, "182", "Physiotherapy or analgesia "
        "recorded within these days counts as prior management (ACR variant 2 vs 3).",
        bounds=(30, 730)),
    Var("UNCODED_TEXT_WINDOW_DAYS", _positive_int, "90", "A current entry with an unknown "
        "code whose text names a red flag gives a warning when dated within this many days "
        "(or undated).", bounds=(1, 3650)),
    Var("DISABLED_TOPICS", _topics, "", "Comma-separated card topics switched off at this "
        "site. A critical card is shown even when its topic is switched off (an emergency "
        "in the record is never silenced); a switched-off red-flag family still quiets the "
        "pathway cards."),
    # --- faults (appended: issue 13)
    Var("DB_TIMEOUT_SECONDS", _positive_float, "2.0", "Client-side bound on each database "
        "operation of a hook call or feedback (connect, query, commit): a database that is "
        "down or frozen costs a call at most this long."),
    Var("SPOOL_DIR", str, "", "Directory of the local append-only spool holding cards and "
        "audit the database could not take; replayed when it returns and at start-up. "
        "Empty: backpain-cds-spool-<digest of DATABASE_URL> in the system temporary directory."),
)

_BY_NAME = {var.name: var for var in VARIABLES}


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated configuration. Build with :func:`load_settings`."""

    public_base_url: str = ""
    max_body_bytes: int = 8388608
    max_json_depth: int = 64
    cors_origins: tuple[str, ...] = ()  # see effective_cors_origins()
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "INFO"
    workers: int = 0  # 0: derived from the CPU count (gunicorn.conf.py)
    database_url: str = field(default_factory=default_database_url)
    patient_hash_key: str = ""
    audit_retention_days: int = 400
    snooze_days: int = 30
    critical_snooze_hours: int = 24
    trusted_clients_file: str = ""
    site_codes: str = ""
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
    pages: str = "auto"
    pages_token: str = ""
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
    new_diagnosis_days: int = RULE_DEFAULTS.new_diagnosis_days
    episode_max_days: int = RULE_DEFAULTS.episode_max_days
    myeloma_persistence_days: int = RULE_DEFAULTS.myeloma_persistence_days
    conservative_management_days: int = RULE_DEFAULTS.conservative_management_days
    uncoded_text_window_days: int = RULE_DEFAULTS.uncoded_text_window_days
    disabled_topics: frozenset[Topic] = field(default_factory=frozenset)
    db_timeout_seconds: float = 2.0
    spool_dir: str = ""

    def rule_settings(self) -> RuleSettings:
        """The clinical thresholds, handed to the core: every :class:`RuleSettings` field
        that is also a setting (same name); the others keep the core's defaults."""
        return RuleSettings(**{name: getattr(self, name) for name in _shared_with_rules()})

    def effective_cors_origins(self) -> tuple[str, ...]:
        """CORS_ORIGINS, or when empty: every origin for local use, none in production."""
        if self.cors_origins:
            return self.cors_origins
        return ("*",) if self.allow_unauthenticated else ()

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
    """Read, parse and validate every variable. Raises :class:`ConfigError` naming every
    bad one (its ``problems`` lists them one by one)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    raw = _raw_values(env, problems)
    values: dict[str, Any] = {}
    for var in VARIABLES:
        text = raw.get(var.name, var.default)
        try:
            values[var.name.lower()] = var.value(text)
        except ValueError as exc:
            shown = "<secret>" if var.secret else repr(text)
            problems.append(f"{var.env}={shown}: {exc}")
    settings = Settings(**values) if not problems else None
    if settings is not None:
        problems += filter(None, [hash_key_problem(settings)])
    if problems or settings is None:
        raise ConfigError("\n".join(problems), problems, settings)
    return settings


def _raw_values(env: Mapping[str, str], problems: list[str]) -> dict[str, str]:
    """Name -> text from the settings file, the environment and ``<SECRET>_FILE`` files;
    an unknown name is a problem (with the closest known name)."""
    raw = _file_values(env)
    raw.update({k[len(PREFIX):]: v for k, v in env.items() if k.startswith(PREFIX)})
    raw.pop("SETTINGS_FILE", None)
    for name in sorted(set(raw) - set(_BY_NAME)):
        secret = _BY_NAME.get(name.removesuffix("_FILE"))
        if name.endswith("_FILE") and secret is not None and secret.secret:
            _read_secret_file(secret, raw, problems)
        else:
            problems.append(f"{PREFIX}{name}: unknown setting{_did_you_mean(name)}")
    return raw


def _read_secret_file(var: Var, raw: dict[str, str], problems: list[str]) -> None:
    """``<NAME>_FILE``: the secret is the file's content (Docker/Kubernetes secret files),
    without its trailing newline."""
    path = raw.pop(var.name + "_FILE")
    if var.name in raw:
        problems.append(f"{var.env} and {var.env}_FILE are both set: use one")
        return
    try:
        raw[var.name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        problems.append(f"{var.env}_FILE={path!r}: cannot read the file ({reason})")


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean X?)`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _did_you_mean(name: str) -> str:
    hint = did_you_mean(PREFIX + name, [var.env for var in VARIABLES])
    return hint or " (typo?)"


MIN_HASH_KEY_CHARS = 32
_PLACEHOLDER_WORDS = ("replace", "changeme", "change-me", "change_me", "example", "placeholder",
                      "your-", "secret", "password", "...")


def hash_key_problem(settings: Settings) -> str | None:
    """Why PATIENT_HASH_KEY is too weak to stand for patient ids, or None. Patient ids
    are guessable, so a short or known key makes the hashes reversible. Not checked with
    ALLOW_UNAUTHENTICATED (local development); an empty key is the app's to refuse."""
    key = settings.patient_hash_key
    if settings.allow_unauthenticated or not key:
        return None
    lowered = key.lower()
    placeholder = next((w for w in _PLACEHOLDER_WORDS if w in lowered), None)
    if placeholder is not None:
        return (f"{PREFIX}PATIENT_HASH_KEY=<secret>: looks like a placeholder (contains "
                f"{placeholder!r}); generate one: openssl rand -hex 32")
    if len(key) < MIN_HASH_KEY_CHARS or len(set(key)) < 10:
        return (f"{PREFIX}PATIENT_HASH_KEY=<secret>: too weak ({len(key)} characters, "
                f"{len(set(key))} distinct); use at least {MIN_HASH_KEY_CHARS} random "
                "characters: openssl rand -hex 32")
    return None


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
        doc = var.doc
        if var.bounds is not None:
            unit = f" {var.unit}" if var.unit else ""
            doc += f" Allowed: {var.bounds[0]:g}-{var.bounds[1]:g}{unit}."
        rows.append(f"| `{var.env}` | {default} | {doc} |")
    return "\n".join(rows)
