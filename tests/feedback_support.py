"""Feedback tests' app (the real app on the parametrised database, unauthenticated) and
builders of hook calls and feedback entries, shared by the contract and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from cds_rules import OVERRIDE_REASON_SYSTEM, Card, Topic
from service.app import create_app
from service.migrations import upgrade
from service.ports import HookCall
from service.store import Store
from tests.store_support import (
    RETENTION,
    SADDLE,
    SERVICE,
    T0,
    FakeClock,
    answer,
    finding,
    hook_call,
    settings_for,
)

URL = f"/cds-services/{SERVICE}/feedback"


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(settings_for(database_url, allow_unauthenticated=True), clock=clock)
    store: Store = application.extensions["backpain"]["store"]
    upgrade(store.engine)
    yield application
    store.dispose()


def issue(app: Flask, *topics: Topic) -> HookCall:
    """A hook call answered by the app's memory: its cards are now issued."""
    call = hook_call(*(finding(t, RETENTION, SADDLE) for t in topics), at=T0)
    answer(app.extensions["backpain"]["memory"], call)
    return call


def overridden(card: Card, reason: dict[str, Any] | None = None,
               comment: str | None = None, at: str = "2026-03-01T08:05:00Z") -> dict[str, Any]:
    override: dict[str, Any] = {}
    if reason is not None:
        override["reason"] = reason
    if comment is not None:
        override["userComment"] = comment
    return {"card": card.uuid, "outcome": "overridden", "outcomeTimestamp": at,
            "overrideReason": override}


def snooze_reason(code: str = "already-assessed") -> dict[str, str]:
    return {"system": OVERRIDE_REASON_SYSTEM, "code": code}  # no display, like the sandbox


def rows(app: Flask, model: type[Any]) -> int:
    with app.extensions["backpain"]["store"].engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
