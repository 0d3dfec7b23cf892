"""Every ``BACKPAIN_CDS_*`` setting in one place, validated at start-up.

Configuration comes only from environment variables prefixed ``BACKPAIN_CDS_`` and from
an optional JSON settings file named by ``BACKPAIN_CDS_SETTINGS_FILE`` (environment wins).
A bad value stops start-up with a message naming the variable and what is wrong.

To add a setting: add one field to :class:`Settings` (pydantic-settings) with its default,
range (``ge``/``le``), unit and description; a clinical threshold is a field of the core's
:class:`RuleSettings` instead (nested as ``Settings.rules``). :data:`VARIABLES` and the
README table (``backpain-cds config-doc``, ``make readme-config``) are generated from them.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import annotated_types
from pydantic import Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cds_rules import RuleSettings, configurable
from service.config_text import (
    Env,
    auto_or_positive_int,
    by_type,
    database_url_text,
    default_database_url,
    site_codes_file,
)

PREFIX = "BACKPAIN_CDS_"


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable.
    ``problems``: every problem found, one sentence each."""

    def __init__(self, message: str, problems: list[str] | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])
        self.settings = settings  # when every value parsed (a combination is the problem)


class Settings(BaseSettings):
    """Validated configuration, one declaration per setting: its default, range, unit and
    meaning (the README table and :data:`VARIABLES` are generated from these fields). The
    clinical thresholds are the core's :class:`RuleSettings`, nested as ``rules``; their
    variables are flat (``BACKPAIN_CDS_FEVER_CELSIUS``) and so are keyword arguments
    (``Settings(fever_celsius=38.5)``). Build from the environment with :func:`load_settings`;
    ``Settings()`` is every default."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    # --- HTTP shell
    public_base_url: str = Field("", description="External base URL of the service as EHRs "
                                 "call it (e.g. https://cds.hospital.org/backpain); used for JWT "
                                 "`aud`. Empty: derived from the request.")
    max_body_bytes: int = Field(8388608, ge=1, description="Largest accepted request body in "
                                "bytes (larger: 413).")
    max_json_depth: int = Field(64, ge=1, description="Deepest accepted JSON nesting (deeper: "
                                "400).")
    large_body_bytes: int = Field(1048576, ge=1, description="A hook call whose body is at "
                                  "least this large (or of undeclared length) is a large call: "
                                  "a worker evaluates at most LARGE_CALLS_PER_WORKER of them at "
                                  "once, to bound its memory (an 8 MiB body takes about 85 MB).")
    large_calls_per_worker: int = Field(1, ge=1, description="Large calls one worker process "
                                        "evaluates at once; others wait their turn.")
    large_call_wait_seconds: float = Field(5.0, ge=0, allow_inf_nan=False, description="How "
                                           "long a large call waits for its turn; then 503 "
                                           "with Retry-After.")
    cors_origins: tuple[str, ...] = Field((), description="Comma-separated origins allowed for "
                                          "browser clients (the CDS Hooks sandbox runs in a "
                                          "browser), or `*`. Empty: `*` with "
                                          "ALLOW_UNAUTHENTICATED (local use), else no browser "
                                          "origin (production).")  # effective_cors_origins()
    trusted_proxies: tuple[str, ...] = Field((), description="Comma-separated proxy IPs or CIDR "
                                             "networks whose X-Forwarded-* headers are trusted "
                                             "(for the JWT `aud`).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO",
                                                                  description="Log level.")
    workers: Annotated[int, Env(auto_or_positive_int, shown="")] = Field(
        0, ge=0, description="gunicorn worker processes. Empty: 2 x usable CPUs + 1, capped at "
        "8 (CPUs from the cgroup quota when there is one).")  # 0: gunicorn.conf.py decides
    keepalive_requests: int = Field(
        100, ge=0, description="Requests answered on one HTTP keep-alive connection before "
        "it is closed (`Connection: close`), so that the client's next connection can go to "
        "another worker; as nginx's keepalive_requests. A connection stays with the worker "
        "that accepted it: without a limit, a proxy keeping a few connections open can load "
        "one worker and leave the others idle. 0: no limit.")
    # --- persistence
    database_url: Annotated[str, Env(database_url_text, shown="", secret=True)] = Field(
        default_factory=default_database_url, description="SQLAlchemy URL: SQLite (embedded "
        "default) or postgresql+psycopg://... for several replicas. Empty: the SQLite file "
        "`backpain-cds.sqlite3` in the install's instance folder (`instance/` of the source "
        "checkout, else `<prefix>/var/backpain-cds-instance/`), an absolute path printed at "
        "start. Also from a file: `BACKPAIN_CDS_DATABASE_URL_FILE`.")
    patient_hash_key: Annotated[str, Env(secret=True)] = Field(
        "", description="Secret key for the keyed hash that stands for patient ids at rest: at "
        "least 32 random characters (`openssl rand -hex 32`), never a placeholder. Required "
        "unless ALLOW_UNAUTHENTICATED is set. Also from a file: "
        "`BACKPAIN_CDS_PATIENT_HASH_KEY_FILE`.")
    audit_retention_days: int = Field(400, ge=1, description="Days audit records are kept.")
    snooze_days: int = Field(30, ge=1, le=365, description="Default snooze period for "
                             "non-critical cards.")
    critical_snooze_hours: int = Field(24, ge=1, le=168, description="Longest snooze of a "
                                       "critical card.")
    # --- trust
    trusted_clients_file: str = Field("", description="JSON file listing trusted CDS clients "
                                      "(iss, JWKS or jku, tenants, FHIR base URLs).")
    site_codes: Annotated[str, Env(site_codes_file)] = Field(
        "", description="FHIR ConceptMap, ValueSet or Bundle (JSON file) adding this site's "
        "local codes to concepts, e.g. its own cauda-equina screen code; checked at start-up "
        "(README: site codes).")
    allow_unauthenticated: bool = Field(False, description="Accept calls without a JWT (local "
                                        "development only; `make run` sets it and warns).")
    jwt_leeway_seconds: int = Field(60, ge=1, description="Clock leeway for exp/iat/nbf.")
    jwks_timeout_seconds: float = Field(2.0, ge=0, description="Timeout fetching a JWKS.")
    jwks_cache_seconds: int = Field(3600, ge=1, description="How long a fetched JWKS is cached.")
    # --- FHIR client
    fhir_timeout_seconds: float = Field(0.8, ge=0, description="Timeout of one FHIR request.")
    fhir_deadline_seconds: float = Field(2.5, ge=0, description="Budget for all fetching in "
                                         "one hook call.")
    fhir_max_pages: int = Field(20, ge=1, description="Most Bundle pages followed per query.")
    fhir_max_resources: int = Field(20000, ge=1, description="Most resources read per hook "
                                    "call.")
    fhir_retries: int = Field(2, ge=1, description="Attempts for an idempotent GET on "
                              "429/502/503/504.")
    fhir_server_allowlist: tuple[str, ...] = Field((), description="Comma-separated FHIR base "
                                                   "URLs the service may fetch from for any "
                                                   "client (trusted clients add their own).")
    allow_http_loopback: bool = Field(False, description="Allow http:// fhirServer and JWKS "
                                      "(jku) URLs on loopback (development and tests only).")
    # --- pages (/preview, /governance; the catalogue, /docs and /fhir are always open)
    pages: Literal["auto", "on", "off"] = Field("auto", description="The /preview and "
                                                "/governance pages. `auto`: on only with "
                                                "ALLOW_UNAUTHENTICATED (`make run`); `on`: on, "
                                                "behind PAGES_TOKEN unless "
                                                "ALLOW_UNAUTHENTICATED; `off`: 404.")
    pages_token: Annotated[str, Env(secret=True)] = Field(
        "", description="Operator credential for /preview and /governance when PAGES=on (at "
        "least 32 characters): HTTP Basic password (any user name) or Bearer token.")
    # --- clinical thresholds (our choices; CLINICAL.md): declared in the core
    rules: RuleSettings = Field(default_factory=RuleSettings,
                                description="The core's thresholds (flat variables).")
    # --- faults (appended: issue 13)
    db_timeout_seconds: float = Field(2.0, gt=0, allow_inf_nan=False, description="Client-side "
                                      "bound on each database operation of a hook call or "
                                      "feedback (connect, query, commit): a database that is "
                                      "down or frozen costs a call at most this long.")
    spool_dir: str = Field("", description="Directory of the local append-only spool holding "
                           "cards and audit the database could not take; replayed when it "
                           "returns and at start-up. Empty: backpain-cds-spool-<digest of "
                           "DATABASE_URL> in the system temporary directory.")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, and the environment only inside :func:`load_settings` (its
        own source: pydantic-settings' ignores unknown names and reads lists as JSON)."""
        source = _SOURCE.get()
        return (init_settings,) if source is None else (init_settings, source)

    @model_validator(mode="before")
    @classmethod
    def _nest_thresholds(cls, data: Any) -> Any:
        """``fever_celsius=...`` (a keyword or a variable) sets ``rules.fever_celsius``."""
        if not isinstance(data, dict) or not RuleSettings.model_fields.keys() & data.keys():
            return data
        data = dict(data)
        rules = data.get("rules", {})
        rules = dict(rules.__dict__ if isinstance(rules, RuleSettings) else rules)
        for name in RuleSettings.model_fields.keys() & data.keys():
            rules[name] = data.pop(name)
        data["rules"] = rules
        return data

    def rule_settings(self) -> RuleSettings:
        """The clinical thresholds, handed to the core."""
        return self.rules

    def effective_cors_origins(self) -> tuple[str, ...]:
        """CORS_ORIGINS, or when empty: every origin for local use, none in production."""
        if self.cors_origins:
            return self.cors_origins
        return ("*",) if self.allow_unauthenticated else ()

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed, thresholds by their flat name (tests, CLI
        overrides; not validated again, as a dataclass's replace)."""
        rules = {k: changes.pop(k) for k in RuleSettings.model_fields.keys() & changes.keys()}
        if rules:
            changes["rules"] = changes.get("rules", self.rules).model_copy(update=rules)
        return self.model_copy(update=changes)


@dataclass(frozen=True, slots=True)
class Var:
    """One environment variable, derived from its :class:`Settings` (or nested
    :class:`RuleSettings`) field: name (without prefix), meaning, default text, range."""

    name: str
    info: FieldInfo
    nested: bool  # a RuleSettings field

    @property
    def env(self) -> str:
        return PREFIX + self.name

    @property
    def field(self) -> str:
        return self.name.lower()

    @property
    def _env(self) -> Env:
        return next((m for m in self.info.metadata if isinstance(m, Env)), Env())

    @property
    def secret(self) -> bool:
        return self._env.secret

    @property
    def doc(self) -> str:
        return self.info.description or ""

    @property
    def unit(self) -> str:
        extra = self.info.json_schema_extra
        return str(extra.get("unit", "")) if isinstance(extra, dict) else ""

    def limit(self, kind: type) -> float | None:
        """The ``ge``/``le``/``gt`` bound of the field, or None."""
        bound = next((m for m in self.info.metadata if isinstance(m, kind)), None)
        return None if bound is None else float(getattr(bound, kind.__name__.lower()))

    @property
    def bounds(self) -> tuple[float, float] | None:
        """The plausible range (inclusive), when the setting has one."""
        low, high = self.limit(annotated_types.Ge), self.limit(annotated_types.Le)
        return None if low is None or high is None else (low, high)

    @property
    def default(self) -> str:
        """The default as its variable's text (the README shows this)."""
        if self._env.shown is not None:
            return self._env.shown
        value = self.info.get_default(call_default_factory=True)
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, tuple | frozenset):
            return ",".join(sorted(str(v) for v in value))
        return str(value)

    def parse(self, text: str) -> Any:
        """The text as the field's type (:class:`ValueError` if it is not one); the model
        checks ranges and choices."""
        return (self._env.parse or by_type(self.info.annotation))(text)

    def problem(self, error: Any) -> str:
        """Our sentence for a pydantic error on this variable's value."""
        value = error.get("input")
        if error["type"] == "literal_error":
            return "must be one of " + ", ".join(get_args(self.info.annotation))
        if error["type"] not in {"greater_than_equal", "less_than_equal", "greater_than",
                                 "finite_number"}:
            return str(error["msg"])
        if isinstance(value, float) and value != value and self.limit(annotated_types.Gt) is None:
            return "must be a number, not nan"  # nan was taken before the ranges were pydantic's
        if self.info.annotation is int and value <= 0:
            return "must be a positive whole number"
        if self.info.annotation is float and value < 0 and self.limit(annotated_types.Gt) is None:
            return "must not be negative"
        if self.bounds is None:
            return "must be a positive number of seconds"
        unit = f" {self.unit}" if self.unit else ""
        return (f"must be between {self.bounds[0]:g} and {self.bounds[1]:g}{unit}"
                " (a plausible value for this setting)")


def _variables() -> tuple[Var, ...]:
    """Every setting in declaration order, the core's configurable thresholds in place of
    ``rules``."""
    out: list[Var] = []
    for name, info in Settings.model_fields.items():
        if name == "rules":
            out += [Var(n.upper(), RuleSettings.model_fields[n], True) for n in configurable()]
        else:
            out.append(Var(name.upper(), info, False))
    return tuple(out)


VARIABLES: tuple[Var, ...] = _variables()
_BY_NAME = {var.name: var for var in VARIABLES}


class _EnvironSource(PydanticBaseSettingsSource):
    """``BACKPAIN_CDS_*`` text from the settings file, the environment and ``<SECRET>_FILE``
    files, parsed as each field's type (CSV lists). Keeps every problem, with the text given
    (:meth:`problems`), instead of stopping at the first."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.general: list[str] = []  # unknown names, secret files
        self.by_var: dict[str, str] = {}  # variable name -> its problem
        self.texts = _raw_values(environ, self.general)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, text in self.texts.items():
            var = _BY_NAME[name]
            try:
                values[var.field] = var.parse(text)
            except ValueError as exc:
                self.add(var, str(exc))
        return values

    def add(self, var: Var, problem: str) -> None:
        shown = "<secret>" if var.secret else repr(self.texts.get(var.name, var.default))
        self.by_var.setdefault(var.name, f"{var.env}={shown}: {problem}")

    def problems(self) -> list[str]:
        return self.general + [self.by_var[v.name] for v in VARIABLES if v.name in self.by_var]


_SOURCE: ContextVar[_EnvironSource | None] = ContextVar("settings_source", default=None)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read, parse and validate every variable. Raises :class:`ConfigError` naming every
    bad one (its ``problems`` lists them one by one)."""
    source = _EnvironSource(Settings, os.environ if environ is None else environ)
    token = _SOURCE.set(source)
    settings: Settings | None = None
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            var = _BY_NAME[str(error["loc"][-1]).upper()]
            source.add(var, var.problem(error))
    finally:
        _SOURCE.reset(token)
    problems = source.problems()
    if problems:
        settings = None  # a value is wrong: no settings to judge a combination on
    elif settings is not None:
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
            raw.pop(name)
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
