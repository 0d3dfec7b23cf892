"""What the commands that read or write the memory share (no ``register``: not a command)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from cds_rules import RuleSettings
from service.config import ConfigError, Settings, load_settings
from service.store import Store, StoreUnavailable

# The store's hasher needs a key, but a read-only aggregate report never hashes anything.
_NO_HASHING = "report-only: this command computes no patient hash"


def run_on_store(work: Callable[[Store, Settings], str], *, hashes: bool = True) -> int:
    """Run ``work`` on a store opened from the environment's settings and print what it
    returns; the store is disposed even on failure. ``hashes=False``: ``work`` computes
    no patient hash, so PATIENT_HASH_KEY is not needed. Exit codes, as every command gives
    them: 2 for a bad configuration, 1 for a database that did not answer, 0 otherwise."""
    try:
        settings = load_settings()
        if not hashes and not settings.patient_hash_key:
            settings = settings.replace(patient_hash_key=_NO_HASHING)
        store = Store.from_settings(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    try:
        output = work(store, settings)
    except StoreUnavailable as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(output, end="")
    return 0


def site_rule_settings() -> RuleSettings | None:
    """This site's thresholds from the environment, or None once each configuration
    problem is printed (the command then exits 2)."""
    try:
        return load_settings().rule_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return None
