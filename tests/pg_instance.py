"""A PostgreSQL server of the test's own (initdb + pg_ctl on a free port, its own data
directory), to stop and freeze at will: never the shared server on 5432."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.conftest import require
from tests.ops_support import free_port


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PgInstance:
    bin: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/cds"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=check)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync")
        self.start()
        with psycopg.connect(f"host=127.0.0.1 port={self.port} dbname=postgres "
                             "user=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE cds")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.root} -c fsync=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def processes(self) -> list[int]:
        """The postmaster and every process it started."""
        pid_file = self.data / "postmaster.pid"
        master = int(pid_file.read_text().split()[0])
        pids, todo = [master], [master]
        while todo:
            pid = todo.pop()
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                pids += [int(c) for c in children]
                todo += [int(c) for c in children]
        return pids

    def freeze(self) -> list[int]:
        """SIGSTOP the whole server: it accepts TCP (the kernel does) but never answers."""
        frozen = self.processes()
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def own_postgres() -> PgInstance | None:
    """A fresh, running server, or None when PostgreSQL's binaries are not installed."""
    binaries = pg_bin()
    if binaries is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="bpcd-pg-"))
    os.chmod(root, 0o755)
    instance = PgInstance(binaries, root / "pg", free_port())
    instance.init()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error), psycopg.connect(
                f"host=127.0.0.1 port={instance.port} dbname=cds user=postgres"):
            return instance
        time.sleep(0.2)
    instance.destroy()
    raise RuntimeError("own PostgreSQL did not start")


def module_postgres() -> Iterator[PgInstance]:
    """The body of a module's ``pg`` fixture: a server of the module's own, destroyed
    after it; skipped without PostgreSQL's binaries, a failure under CI=true."""
    require(pg_bin() is not None, "PostgreSQL binaries (initdb, pg_ctl)")
    instance = own_postgres()
    assert instance is not None
    yield instance
    instance.destroy()
