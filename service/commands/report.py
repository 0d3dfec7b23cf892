"""``backpain-cds feedback-report [--since DATE] [--format table|csv|json]``.

What a clinical governance meeting reviews: per card topic and rule version, the cards
issued, accepted, overridden (by reason), snoozed, and how often a snooze hid the topic.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime

from service.commands._common import run_on_store
from service.store import ReportRow

COLUMNS = ("topic", "rule_id", "rule_version", "issued", "accepted", "overridden",
           "overridden_by_reason", "snoozed", "suppressed")


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "feedback-report", help="cards issued, accepted, overridden and snoozed per topic/rule")
    report.add_argument("--since", type=_since, default=None, metavar="DATE",
                        help="only cards issued from DATE (ISO date or date-time; UTC if no "
                             "zone is given)")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(func=_run)


def _since(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _run(args: argparse.Namespace) -> int:
    return run_on_store(lambda store, _settings: render(store.report(args.since), args.format),
                        hashes=False)


def render(rows: list[ReportRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(row) for row in rows], indent=2) + "\n"
    cells = [[_cell(getattr(row, column)) for column in COLUMNS] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(cells)
        return out.getvalue()
    table = [list(COLUMNS), *cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
             for line in table]
    if not rows:
        lines.append("(no cards issued in this period)")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{reason}={n}" for reason, n in sorted(value.items()))
    return str(value)
