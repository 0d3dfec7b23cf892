"""Faults injected into the clinical core, for the tests that check what the record, the
shell and the pages do with them (a working core has none to cause)."""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules.record import builder as record_builder


def fail_reader_on(monkeypatch: pytest.MonkeyPatch, resource_type: str,
                   resource_id: str | None = None) -> None:
    """The reader of ``resource_type`` raises TypeError on the entry ``resource_id`` (every
    entry of that type when None) and reads the others as before."""
    real = record_builder._HANDLERS[resource_type]

    def faulty_reader(builder: Any, resource: dict[str, Any]) -> bool:
        if resource_id is None or resource.get("id") == resource_id:
            raise TypeError("injected")
        return bool(real(builder, resource))
    monkeypatch.setitem(record_builder._HANDLERS, resource_type, faulty_reader)
