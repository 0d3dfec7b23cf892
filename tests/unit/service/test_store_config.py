"""The patient hash key: required in production, a fixed development key only when
running unauthenticated (with a warning), and the hash really keyed."""

from __future__ import annotations

import logging

import pytest

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
