"""A process's spool file is never taken for a dead process's by another's replay.

Several processes (gunicorn workers, replicas on one host) share the spool directory; each
replays the files no live process holds (:meth:`Spool.orphans`). A file must be locked
before a replay can see it: otherwise a replay that runs between its creation and its lock
takes it (and deletes it after replaying), and the owner's first append fails, leaving
the call unspooled. The interleaving is forced here by running the other process's replay
at the moment the owner is about to lock (the only fault injected; the files, locks and
directory are real).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import pytest

from service import spool as spool_module
from service.spool import Spool


def test_a_replay_between_creation_and_lock_does_not_take_a_live_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner, other = Spool(tmp_path), Spool(tmp_path)
    other._pid = -2  # another process's spool object (this test runs in one process)
    taken: list[tuple[Path, int]] = []
    real_flock = fcntl.flock
    replaying = False

    def flock_after_a_replay(fd: int, operation: int) -> Any:
        nonlocal replaying
        if not replaying and not taken:
            replaying = True
            try:
                taken.extend(other.orphans())  # the other process's replay, right now
            finally:
                replaying = False
        return real_flock(fd, operation)

    monkeypatch.setattr(spool_module.fcntl, "flock", flock_after_a_replay)
    assert owner.append(b'{"call": 1}\n')
    assert taken == []  # the replay saw no file it could take
    monkeypatch.setattr(spool_module.fcntl, "flock", real_flock)
    assert owner.append(b'{"call": 2}\n')
    assert owner.own_lines() == [b'{"call": 1}', b'{"call": 2}']
    assert list(other.orphans()) == []  # locked by its live owner
    assert sorted(p.name for p in tmp_path.iterdir()) == [owner._path.name]  # type: ignore[union-attr]


def test_a_dead_process_file_is_still_replayed(tmp_path: Path) -> None:
    dead = tmp_path / f"{spool_module.PREFIX}99999-deadbeef{spool_module.SUFFIX}"
    dead.write_bytes(b'{"call": 1}\n')
    found = list(Spool(tmp_path).orphans())
    assert [path for path, _ in found] == [dead]
    assert Spool.read(found[0][1]) == [b'{"call": 1}']
    os.close(found[0][1])


def _staging(directory: Path, name: str, age_seconds: float, content: bytes = b"") -> Path:
    path = directory / f".{spool_module.PREFIX}{name}{spool_module.SUFFIX}.new"
    path.write_bytes(content)
    then = path.stat().st_mtime - age_seconds
    os.utime(path, (then, then))
    return path


def test_a_staging_file_left_by_a_dead_process_is_removed(tmp_path: Path) -> None:
    """A process killed between creating its file and renaming it leaves an empty staging
    file; a replay removes it once it is older than STALE_STAGING_SECONDS (before: kept for
    ever, one more per crash)."""
    stale = _staging(tmp_path, "99999-deadbeef", spool_module.STALE_STAGING_SECONDS + 5)
    assert list(Spool(tmp_path).orphans()) == []
    assert not stale.exists()


def test_a_staging_file_being_created_or_holding_lines_is_kept(tmp_path: Path) -> None:
    fresh = _staging(tmp_path, "11111-cafecafe", 1)  # created a second ago: may be renamed now
    locked = _staging(tmp_path, "22222-feedfeed", spool_module.STALE_STAGING_SECONDS + 5)
    with_lines = _staging(tmp_path, "33333-beefbeef", spool_module.STALE_STAGING_SECONDS + 5,
                          b'{"call": 1}\n')
    holder = os.open(locked, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # its process is renaming it
        assert list(Spool(tmp_path).orphans()) == []
    finally:
        os.close(holder)
    assert fresh.exists() and locked.exists() and with_lines.exists()


def test_the_staging_sweep_never_locks_a_file_its_creator_is_about_to_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The creator's ``flock`` is tried at the moment the sweep holds each file it locked
    (the only fault injected: when the sweep reads the file's size). Before, the sweep
    locked a just-created staging file too, the creator's non-blocking ``flock`` failed
    and its call went unspooled (seen recording the snapshots)."""
    young = tmp_path / f".{spool_module.PREFIX}44444-c0ffee00{spool_module.SUFFIX}.new"
    creator = os.open(young, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
    stale = _staging(tmp_path, "99999-deadbeef", spool_module.STALE_STAGING_SECONDS + 5)
    blocked: list[bool] = []
    real_fstat = os.fstat

    def creator_locks_now(fd: int) -> os.stat_result:
        try:
            fcntl.flock(creator, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(creator, fcntl.LOCK_UN)  # still about to lock, at every moment
            blocked.append(False)
        except BlockingIOError:
            blocked.append(True)
        return real_fstat(fd)

    try:
        with monkeypatch.context() as patched:
            patched.setattr(spool_module.os, "fstat", creator_locks_now)
            assert list(Spool(tmp_path).orphans()) == []
        assert blocked == [False]  # the sweep locked the stale file only: never blocked
        assert young.exists() and not stale.exists()
    finally:
        os.close(creator)
