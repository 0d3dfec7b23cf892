"""``backpain-cds config-doc`` and ``config-check``: document and validate configuration.

``config-check`` is the pre-flight (:mod:`service.preflight`): every check ``serve`` makes,
each problem on its own line. Exit status 0 when ``serve`` would start and the database is
ready, 2 for a configuration problem, 1 when the only problem is a database that does not
answer.
"""

from __future__ import annotations

import argparse
import sys

from service import preflight
from service.config import markdown_table


def register(subparsers: argparse._SubParsersAction) -> None:
    doc = subparsers.add_parser("config-doc", help="print the table of BACKPAIN_CDS_* variables")
    doc.set_defaults(func=lambda _args: print(markdown_table()) or 0)
    check = subparsers.add_parser(
        "config-check", help="pre-flight: run every check `serve` runs (settings, trusted "
        "clients, keys, database migrated, writable directories) and exit")
    check.set_defaults(func=_check)


def _check(_args: argparse.Namespace) -> int:
    report = preflight.run()
    for note in report.notes:
        print(note)
    for problem in report.problems:
        print(f"configuration error: {problem}", file=sys.stderr)
    if report.unreachable:
        print(f"database error: {report.unreachable}", file=sys.stderr)
    if report.problems:
        return 2
    if report.unreachable:
        return 1
    print("configuration ok")
    return 0
