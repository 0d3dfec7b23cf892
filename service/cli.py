"""The ``backpain-cds`` console command.

Each subcommand lives in a module of :mod:`service.commands` exposing
``register(subparsers) -> None``; the subparser sets ``func`` to a callable taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
from collections.abc import Sequence

import service.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backpain-cds",
        description="CDS Hooks service for back pain with leg symptoms.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = sorted(pkgutil.iter_modules(service.commands.__path__), key=lambda m: m.name)
    for module_info in modules:
        module = importlib.import_module(f"service.commands.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
    except BrokenPipeError:
        return _reader_went_away()
    return code


def _reader_went_away() -> int:
    """``backpain-cds samples | head -1``: the reader closed the pipe. That is not an
    error of ours, so no traceback; stdout is pointed at /dev/null so that Python's own
    flush at exit cannot raise again. Exit 141 (128 + SIGPIPE), as a shell tool would."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except OSError:  # stdout without a file descriptor (in-process capture): nothing to flush
        pass
    return 128 + int(getattr(signal, "SIGPIPE", 13))


if __name__ == "__main__":
    sys.exit(main())
