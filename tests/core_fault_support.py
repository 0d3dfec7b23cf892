"""Faults injected into the clinical core, for the tests that check what the shell and the
pages do with them (a working core has none to cause)."""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules.record import builder as record_builder


def fail_condition_reader_on(monkeypatch: pytest.MonkeyPatch, resource_id: str) -> None:
    """The Condition reader raises TypeError on the entry ``resource_id``, reads the others."""
    real = record_builder._HANDLERS["Condition"]

    def read_condition(builder: Any, resource: dict[str, Any]) -> bool:
        if resource.get("id") == resource_id:
            raise TypeError("injected")
        return bool(real(builder, resource))
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_condition)
