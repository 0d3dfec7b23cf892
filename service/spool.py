"""The writer's local spool: an append-only file per process, written ahead of the database.

Every hook call's rows (issued cards, audit) are appended here *before* the call is
answered, with one ``write(2)`` of one JSON line; the background writer then puts them in
the database. A killed process (SIGKILL, OOM) therefore loses nothing it answered: the
kernel keeps what was written (only a crash of the whole machine can lose the last lines,
which are not fsync'ed). The file is emptied whenever everything in it is known to be in
the database, and replayed when the database returns, and at start-up for the files of
processes that are gone (each live process holds an ``flock`` on its own file).

Replays may write a call twice (a batch that committed just before its process died):
the writer skips calls already in the audit (:meth:`service.store.Store.write_calls`).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

PREFIX = "calls-"
SUFFIX = ".jsonl"
_STAGING = ".new"  # ".calls-<pid>-<id>.jsonl.new": a file being created, not yet locked
_TIMES = ("issued_at", "received_at")
# A staging file older than this, unlocked and empty, was left by a process that died
# between creating and renaming it (it never held a line: lines are written after the
# rename). The age keeps a sweep away from a file being created right now.
STALE_STAGING_SECONDS = 60.0


def default_dir(database_url: str) -> Path:
    """One directory per database (never replay one database's calls into another)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"backpain-cds-spool-{digest}"


def encode(issued: list[dict[str, Any]], audit: dict[str, Any]) -> bytes:
    return orjson.dumps({"issued": issued, "audit": audit}) + b"\n"


def decode(line: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """One spooled call, or None for a line cut short by a kill."""
    try:
        data = orjson.loads(line)
        issued = [_with_times(row) for row in data["issued"]]
        return issued, _with_times(data["audit"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _with_times(row: dict[str, Any]) -> dict[str, Any]:
    for name in _TIMES:
        if isinstance(row.get(name), str):
            row[name] = datetime.fromisoformat(row[name])
    return row


class Spool:
    """This process's spool file and the replay of every spool file in the directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._pid = -1
        self._fd = -1
        self._path: Path | None = None
        self.lines = 0  # lines appended since the file was last emptied

    # --- this process's file -------------------------------------------------------
    def append(self, line: bytes) -> bool:
        """Append one line (one ``write``); False if the file cannot be written."""
        with self._lock:
            try:
                fd = self._own_fd()
                os.write(fd, line)
            except OSError as exc:
                log.error("spool: cannot write %s (%s)", self.directory, type(exc).__name__)
                return False
            self.lines += 1
            return True

    def clear_if(self, condition: Callable[[], bool]) -> bool:
        """Empty this process's file if ``condition()`` holds (checked under the lock that
        every append takes, so no line appended meanwhile is lost)."""
        with self._lock:
            if self._fd < 0 or self._pid != os.getpid() or not condition():
                return False
            if self.lines:
                os.ftruncate(self._fd, 0)
                self.lines = 0
            return True

    def own_lines(self) -> list[bytes]:
        """Everything in this process's file now."""
        with self._lock:
            if self._path is None or self._pid != os.getpid():
                return []
            return self._path.read_bytes().splitlines()

    def _own_fd(self) -> int:
        """This process's file, created on first use (a forked worker writes its own).

        It is created under a name no replay looks for and locked before it takes its
        spool name: created under that name, another process's replay could lock it between
        the ``open`` and our ``flock``, take it for the file of a dead process (replay it,
        delete it) and make our ``flock`` fail, so that the call was not spooled (seen
        under load with several processes on one directory)."""
        if self._pid != os.getpid():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
            staging = self.directory / f".{name}{_STAGING}"
            fd = os.open(staging, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours alone while we live
                path = self.directory / name
                os.rename(staging, path)
            except BaseException:
                os.close(fd)
                staging.unlink(missing_ok=True)
                raise
            self._fd, self._path, self._pid, self.lines = fd, path, os.getpid(), 0
        return self._fd

    # --- files of processes that are gone ------------------------------------------
    def orphans(self) -> Iterator[tuple[Path, int]]:
        """(path, locked fd) of every other spool file no live process holds; the caller
        replays it, then :meth:`discard` s it (or closes the fd to leave it for later)."""
        if not self.directory.is_dir():
            return
        self._sweep_staging()
        for path in sorted(self.directory.glob(f"{PREFIX}*{SUFFIX}")):
            if path == self._path and self._pid == os.getpid():
                continue
            fd = _locked(path)
            if fd is not None:  # else its process is alive: it replays its own file
                yield path, fd

    def _sweep_staging(self) -> None:
        """Remove staging files left by processes that died before renaming them: empty,
        unlocked and older than :data:`STALE_STAGING_SECONDS` (else they pile up)."""
        for path in self.directory.glob(f".{PREFIX}*{SUFFIX}{_STAGING}"):
            if not _old(path):
                continue  # never locked, not even for a moment: its creator locks it now
            fd = _locked(path)
            if fd is None:
                continue  # its process is renaming it now
            try:
                if os.fstat(fd).st_size == 0:  # old (above), and it stays old
                    path.unlink(missing_ok=True)
            finally:
                os.close(fd)

    @staticmethod
    def read(fd: int) -> list[bytes]:
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read().splitlines()

    @staticmethod
    def discard(path: Path, fd: int) -> None:
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _old(path: Path) -> bool:
    """Is ``path`` older than :data:`STALE_STAGING_SECONDS`? (A lock taken on a file just
    created, between its creator's ``open`` and ``flock``, made that ``flock`` fail and the
    call go unspooled: seen recording the snapshots.)"""
    try:
        return time.time() - path.stat().st_mtime > STALE_STAGING_SECONDS
    except OSError:
        return False


def _locked(path: Path) -> int | None:
    """A read fd of ``path`` holding its exclusive lock, or None when it is gone or another
    process holds the lock (a live owner)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
