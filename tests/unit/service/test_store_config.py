"""The patient hash key: required in production, a fixed development key only when
running unauthenticated (with a warning), and the hash really keyed."""

from __future__ import annotations

import copy
import logging
import pickle
import subprocess
from datetime import UTC, datetime

import pytest

from cds_rules import Fact
from service.card_ids import CardIds
from service.config import ConfigError, Settings
from service.store import DEVELOPMENT_HASH_KEY, Hasher, Store, patient_hash_key
from service.store import keys as store_module


def test_production_refuses_to_start_without_a_hash_key() -> None:
    with pytest.raises(ConfigError, match="BACKPAIN_CDS_PATIENT_HASH_KEY"):
        Store.from_settings(Settings(database_url="sqlite://"))


def test_development_uses_a_fixed_key_and_warns_once(caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_dev_key_warned", store_module.threading.Event())
    caplog.set_level(logging.WARNING, logger="service.store")
    settings = Settings(allow_unauthenticated=True)
    assert patient_hash_key(settings) == DEVELOPMENT_HASH_KEY
    assert patient_hash_key(settings) == DEVELOPMENT_HASH_KEY
    warnings = [r for r in caplog.records if "PATIENT_HASH_KEY" in r.getMessage()]
    assert len(warnings) == 1


def test_a_configured_key_wins_even_in_development() -> None:
    settings = Settings(allow_unauthenticated=True, patient_hash_key="site-secret")
    assert patient_hash_key(settings) == b"site-secret"


def test_the_patient_hash_depends_on_the_key() -> None:
    one, other = Hasher(b"key-one"), Hasher(b"key-two")
    assert one.patient("pat-1") == one.patient("pat-1")
    assert one.patient("pat-1") != other.patient("pat-1")
    assert one.patient("pat-1") != one.patient("pat-2")
    assert len(one.patient("pat-1")) == 64 and "pat-1" not in one.patient("pat-1")


def test_a_hasher_copies_and_pickles_by_its_key_and_never_shows_it() -> None:
    hasher = Hasher(b"site-secret")
    for twin in (copy.copy(hasher), copy.deepcopy(hasher),
                 pickle.loads(pickle.dumps(hasher))):
        assert twin == hasher and twin.patient("pat-1") == hasher.patient("pat-1")
    assert "site-secret" not in repr(hasher)


def test_the_patient_hash_is_what_openssl_computes_with_the_key() -> None:
    """The docstring's promise to operators: ``openssl dgst -sha256 -hmac KEY`` finds one
    patient's records."""
    done = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", "site-secret"],
                          input=b"pat-1", capture_output=True, check=True)
    assert done.stdout.decode().split()[-1] == Hasher(b"site-secret").patient("pat-1")


def test_stored_hashes_and_card_ids_of_earlier_releases_still_match() -> None:
    """Values computed by the releases before the one-shot HMAC (``hmac.new``): stored
    patient hashes, fact digests (snooze fingerprints) and the tags of card uuids issued
    by a replica not yet upgraded must keep matching, or snoozes and feedback are lost."""
    hasher = Hasher(b"site-secret")
    assert hasher.patient("pat-1") == (
        "ccd1eb1aef150a3a90529825c1073b71ea1921a6c161f0a5d501e87b6d079a6e")
    fact = Fact(concept="low_back_pain", display="Low back pain", source="Condition/1",
                resource_type="Condition", when=datetime(2026, 11, 1, tzinfo=UTC))
    assert hasher.fact(fact) == "6960c0e13f06320d2eb4b24424b9a917"
    card_ids = CardIds(b"site-secret")
    assert card_ids._tag(123, 456) == 1651681152
    minted = card_ids.mint(1_790_000_000.5)
    assert card_ids.issued_at(minted) == 1_790_000_000.0
    assert CardIds(b"another-key").issued_at(minted) is None
