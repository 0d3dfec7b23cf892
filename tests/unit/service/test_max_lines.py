"""The file-length lint (``make lint``): over 500 lines fails unless allowed, and an
allowance that is no longer needed fails too (the list only shrinks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import max_lines


def _write(root: Path, name: str, lines: int) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x = 1\n" * lines)


def test_the_repository_passes() -> None:
    assert max_lines.problems() == []


def test_a_long_file_fails_and_a_stale_allowance_fails(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(max_lines, "ALLOWED", frozenset({"service/big.py", "cds_rules/gone.py"}))
    _write(tmp_path, "service/big.py", 900)
    _write(tmp_path, "service/ok.py", 500)
    _write(tmp_path, "cds_rules/rules/long.py", 501)
    assert max_lines.problems(tmp_path) == [
        "cds_rules/rules/long.py: 501 lines (limit 500): split it by concern",
        "cds_rules/gone.py: no longer over 500 lines: remove it from tools/max_lines.py ALLOWED",
    ]
