"""``backpain-cds serve``: run the service under gunicorn with ``gunicorn.conf.py``.

gunicorn runs in this process (it becomes the master, PID 1 in the image), so SIGTERM
reaches it directly. The pre-flight (:mod:`service.preflight`, what ``config-check``
runs) comes first: a bad BACKPAIN_CDS_* variable, a combination the app factory would
refuse, or a database not migrated to this version exits with status 2 and names each
problem. A database that does not answer is logged and start-up goes on (``/readyz``
keeps the replica out of the load balancer until it answers).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from service import preflight
from service.commands.gunicorn_check import configuration_problems
from service.config import ConfigError

CONFIG_NAME = "gunicorn.conf.py"
APP_URI = "service.app:create_app()"
EXIT_CONFIG = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the CDS Hooks service with gunicorn",
        description="Serve with gunicorn and gunicorn.conf.py. Any other gunicorn setting "
                    "can be given in GUNICORN_CMD_ARGS.",
    )
    parser.add_argument("--bind", metavar="HOST:PORT",
                        help="address to listen on (default: gunicorn.conf.py's, "
                             "127.0.0.1:8080; the image binds 0.0.0.0:8080)")
    parser.add_argument("--workers", type=_positive, metavar="N",
                        help="worker processes (default: BACKPAIN_CDS_WORKERS or from CPUs)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help=f"gunicorn configuration file (default: the project's {CONFIG_NAME})")
    parser.set_defaults(func=serve)


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def config_path() -> Path:
    """The project's gunicorn.conf.py: the working directory's (the image: /app), else
    the one beside the source tree (an editable install, ``make run``)."""
    for candidate in (Path.cwd() / CONFIG_NAME,
                      Path(__file__).resolve().parents[2] / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{CONFIG_NAME} not found in {Path.cwd()} or beside the source")


def gunicorn_argv(args: argparse.Namespace) -> list[str]:
    argv = ["--config", str(args.config or config_path())]
    if args.bind:
        argv += ["--bind", args.bind]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    return [*argv, APP_URI]


def serve(args: argparse.Namespace) -> int:
    report = preflight.run()
    for problem in report.problems:
        print(f"configuration error: {problem}", file=sys.stderr)
    if report.problems:
        return EXIT_CONFIG
    if report.unreachable:
        _log_json(f"{report.unreachable}; starting anyway: /readyz answers 503 "
                  "until the database answers")
    try:
        argv = gunicorn_argv(args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _Server(argv).run()  # returns only by sys.exit from the arbiter
    return 0


def _log_json(message: str) -> None:
    """A warning in the service's JSON log format (gunicorn's logging is not set up yet)."""
    from service.logs import json_formatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("backpain_cds.preflight")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning(message)
    logger.removeHandler(handler)


try:
    from gunicorn.app.wsgiapp import WSGIApplication
except ImportError:  # pragma: no cover  (gunicorn is a runtime dependency)
    WSGIApplication = object  # type: ignore[assignment,misc]


class _Server(WSGIApplication):  # type: ignore[misc,valid-type]
    """gunicorn's own command-line application, fed our arguments instead of sys.argv."""

    def __init__(self, argv: list[str]) -> None:
        self._argv = argv
        super().__init__("%(prog)s [OPTIONS]", prog="backpain-cds serve")

    def load_config(self) -> None:
        saved = sys.argv
        sys.argv = [saved[0], *self._argv]  # gunicorn parses sys.argv; also on SIGHUP
        try:
            super().load_config()
        finally:
            sys.argv = saved
        for problem in configuration_problems(self.cfg):
            _log_json(problem)

    def load_wsgiapp(self) -> Any:
        try:
            return super().load_wsgiapp()
        except ConfigError as exc:  # raised by the app factory (e.g. missing secrets)
            print(f"configuration error: {exc}", file=sys.stderr)
            sys.exit(EXIT_CONFIG)
