"""Instructions per call under valgrind: a CPU measure that a noisy machine cannot move.

Wall-clock and CPU-time results on these shared machines swing by a third from run to run
(one run's rounds of the same card call: 1.30 to 1.90 ms of server CPU a call), so a
change worth a few per cent cannot be seen in them. The instructions a call executes do not
depend on the machine's load: the same code gives the same count to well under 1 %. Each
scenario runs in a child process under callgrind with ``PYTHONHASHSEED=0``; the child warms
the app, then brackets ``calls`` calls with ``os.getppid()``, before which callgrind dumps
its counters (``--dump-before=getppid``), so the second dump holds those calls alone. Only
the calling thread is counted: the call writer's and log writer's batches depend on timing
(they are a few per cent of a call, measured apart in the README's history).

``python -m benchmarks.instructions <scenario> <calls>`` is the child.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the harness counts: the small scenario with and without its card, the ~1 MB Synthea
# patient with back pain (the full rule path).
SCENARIOS = ("small_cards", "small_card_less", "synthea_1mb/back_pain")
_WARM_UP_CALLS = 30


def available() -> bool:
    return shutil.which("valgrind") is not None


def per_call(scenario: str, calls: int) -> int | None:
    """Instructions per call of ``scenario`` on the calling thread; None without valgrind
    or when the child fails (the report then says so, the run goes on)."""
    if not available():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        command = ["valgrind", "--tool=callgrind", "--dump-before=getppid",
                   "--separate-threads=yes", f"--callgrind-out-file={out}",
                   sys.executable, "-m", "benchmarks.instructions", scenario, str(calls)]
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
        dump = Path(f"{out}.2-01")  # the second dump, of the main thread
        if done.returncode != 0 or not dump.exists():
            return None
        total = _total(dump.read_text())
    return total // calls if total is not None else None


def _total(dump: str) -> int | None:
    """The event total of a callgrind dump (its ``summary:`` or ``totals:`` line)."""
    for line in dump.splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    return None


def _caller(scenario: str, workdir: Path) -> object:
    from benchmarks import inprocess, inputs, run

    app = run.make_app(workdir, run.DEFAULT_MAX_BODY)
    if scenario.startswith("small_"):
        service, small = inputs.small_bodies(inputs.NOW)
        return inprocess.wsgi_caller(app, f"/cds-services/{service}",
                                     small[scenario.removeprefix("small_")])
    label, variant = scenario.split("/")
    files = inputs.synthea_files()
    path = files[-1] if label == "synthea_largest" else inputs.file_near(1_000_000)
    return inprocess.wsgi_caller(app, run.SERVICE_PATH, inputs.synthea_body(path, variant))


def _child(scenario: str, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        call = _caller(scenario, Path(tmp))
        for _ in range(_WARM_UP_CALLS):
            call()  # type: ignore[operator]
        time.sleep(0.3)  # the writers' first batches, outside the counted calls
        os.getppid()  # callgrind dumps here: start-up and warm-up
        for _ in range(calls):
            call()  # type: ignore[operator]
        os.getppid()  # and here: the counted calls


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
