"""``backpain-cds config-doc`` and ``config-check``: document and validate configuration."""

from __future__ import annotations

import argparse
import sys

from service.config import ConfigError, load_settings, markdown_table


def register(subparsers: argparse._SubParsersAction) -> None:
    doc = subparsers.add_parser("config-doc", help="print the table of BACKPAIN_CDS_* variables")
    doc.set_defaults(func=lambda _args: print(markdown_table()) or 0)
    check = subparsers.add_parser("config-check", help="validate the configuration and exit")
    check.set_defaults(func=_check)


def _check(_args: argparse.Namespace) -> int:
    try:
        load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print("configuration ok")
    return 0
