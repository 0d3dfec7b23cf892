"""Keyed digests that stand for identifiers at rest, and the key they are made with."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from cds_rules import Fact, Finding
from service.config import ConfigError, Settings
from service.hmac_sha256 import HmacSha256

log = logging.getLogger(__name__)

# Used only when PATIENT_HASH_KEY is empty and ALLOW_UNAUTHENTICATED is set (local dev).
DEVELOPMENT_HASH_KEY = b"backpain-cds-development-key-not-for-production"
_dev_key_warned = threading.Event()


def patient_hash_key(settings: Settings) -> bytes:
    """The configured hash key; the development key only when running unauthenticated."""
    if settings.patient_hash_key:
        return settings.patient_hash_key.encode("utf-8")
    if settings.allow_unauthenticated:
        if not _dev_key_warned.is_set():
            _dev_key_warned.set()
            log.warning("BACKPAIN_CDS_PATIENT_HASH_KEY is empty: using the fixed development "
                        "key (ALLOW_UNAUTHENTICATED is set). Never run like this with real "
                        "patients.")
        return DEVELOPMENT_HASH_KEY
    raise ConfigError("BACKPAIN_CDS_PATIENT_HASH_KEY: required (a long random secret: patient "
                      "ids are stored only as keyed hashes) unless "
                      "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 for local development")


@dataclass(frozen=True, slots=True)
class Hasher:
    """Keyed digests that stand for identifiers at rest. Facts and comments are digested
    with a domain prefix, so that none can equal a patient's hash."""

    key: bytes = field(repr=False)  # a secret: never in a repr, a log line or a trace
    _mac: HmacSha256 = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_mac", HmacSha256(self.key))

    def __reduce__(self) -> tuple[type[Hasher], tuple[bytes]]:
        """Copied and pickled by its key (the digest states cannot be)."""
        return (Hasher, (self.key,))

    def _digest(self, domain: str, value: str, length: int = 64) -> str:
        return self._mac.digest(f"{domain}\x00{value}".encode()).hex()[:length]

    def patient(self, patient_id: str) -> str:
        """HMAC-SHA256(key, patientId), hex: an operator with the key can compute it (e.g.
        ``openssl dgst -sha256 -hmac KEY``) to find one patient's records."""
        return self._mac.digest(patient_id.encode()).hex()

    def fact(self, fact: Fact) -> str:
        """A fact's identity: concept, source resource, time and value; for a sign named in
        words (an ``uncoded:`` concept), the sign too: one entry's words may name several
        under one concept ("urinary retention", then "saddle anaesthesia" added to the same
        note), and each is a new sign. A new sign, a new resource, a new time or a changed
        value is a different fact. A coded fact's digest is as it always was (the snoozes
        stored keep matching)."""
        when = fact.when.isoformat() if fact.when else ""
        value = "" if fact.value is None else repr(fact.value)
        sign = f"|{fact.detail}" if fact.concept.startswith("uncoded:") and fact.detail else ""
        return self._digest("fact", f"{fact.concept}|{fact.source}|{when}|{value}{sign}", 32)

    def fingerprint(self, finding: Finding | None) -> list[str]:
        return sorted({self.fact(f) for f in finding.facts}) if finding else []

    def comment(self, comment: str) -> str:
        return self._digest("comment", comment, 32)

