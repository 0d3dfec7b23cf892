"""Lint: no source file in ``service/`` or ``cds_rules/`` is over 500 lines.

A long module holds several concerns (issue #14). The files being split are listed in
:data:`ALLOWED` until their split lands; the list only shrinks: an entry whose file is
gone or back under the limit is an error too, so whoever splits a file removes it here.

    python -m tools.max_lines        # exit 1 and a list when a file is over
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "cds_rules")
LIMIT = 500
# Files allowed over the limit while their split is under way; the list only shrinks
# (issue #14 emptied it: record.py and store.py became packages).
ALLOWED: frozenset[str] = frozenset()


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def problems(root: Path = ROOT) -> list[str]:
    """Every file over the limit that is not allowed, and every stale allowance."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            lines = line_count(path)
            if lines > LIMIT and name not in ALLOWED:
                found.append(f"{name}: {lines} lines (limit {LIMIT}): split it by concern")
    for name in sorted(ALLOWED):
        path = root / name
        if not path.is_file() or line_count(path) <= LIMIT:
            found.append(f"{name}: no longer over {LIMIT} lines: remove it from "
                         "tools/max_lines.py ALLOWED")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
