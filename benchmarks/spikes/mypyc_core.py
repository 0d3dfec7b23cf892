"""Spike (issue 15): what compiling the record builder with mypyc would buy, and break.

Not part of ``make bench``: ``python -m benchmarks.spikes.mypyc_core [--calls-scale N]``
(needs valgrind and a C compiler; mypyc ships with mypy, a development dependency). It
copies the committed tree (``git archive HEAD``) into a scratch directory, counts the
instructions of ``make bench``'s counted calls and of the largest Synthea patient's there
(:mod:`benchmarks.instructions`), compiles the modules the record build spends its time in
(:data:`COMPILED`) with mypyc in place, counts again, and then asks the compiled copy the
clinical question: are the scenario and Synthea snapshots (``python -m tools.snapshots
check``) still identical? Then it mends the one line found to change them
(:data:`_CAUSE_FOUND`, same meaning in Python), compiles again, counts and checks again:
the first compiled count is of a build that drops entries (the large patients' seeded leg
pain is coded in ICD-10-CM), the second of one that does the same work as the interpreted
code.

Two lines of the copy are changed before anything is counted, because mypyc (mypy 2.4
here) refuses them as written; the source itself is not changed: a frozen slotted
dataclass field annotated ``object`` (``KeyError: 'object'`` at import) and a local whose
type mypy infers as ``None``. Both are annotations only: the code runs the same.

What it showed (eighteenth session, README's "Eighteenth session" bullet): fewer
instructions on the large patients, and cards lost without a word. A mypyc function checks
the declared types of what it receives and of what its expressions produce; where the
checker's picture (typeshed) differs from what CPython returns, the compiled code raises
``TypeError`` where Python runs on, and the record builder's guard (one odd resource must
not stop the record) skips the resource as invalid (``skippedInvalid``, no line on any
card, unlike an entry set aside as unreadable). ``frozenset - dict.keys()`` is a
``frozenset`` to the checker and a ``set`` in CPython: in ``valuesets._icd_matches`` it
raised on every ICD-10 (WHO or CM) and OPCS-4 code of 3 to 8 characters, so every entry
read through such a coding was dropped, cauda equina's diagnosis included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import instructions

ROOT = Path(__file__).resolve().parents[2]

# The record build and what it calls per element: value-set matching, dates, units, the
# uncoded reader, Bundle handling. The rules, cards and the HTTP shell stay interpreted.
COMPILED = ("cds_rules/record/", "cds_rules/valuesets.py", "cds_rules/fhir_time.py",
            "cds_rules/units.py", "cds_rules/uncoded.py", "cds_rules/uncoded_reading.py",
            "cds_rules/sign_words.py", "cds_rules/site_codes.py", "cds_rules/bundles.py")

# (file, text as committed, text mypyc accepts): the same meaning, annotations only.
_MYPYC_MENDS = (
    ("cds_rules/record/orders.py", "    code: object  # the resource's ``code_field``",
     "    code: Any  # the resource's ``code_field``"),
    ("cds_rules/fhir_time.py", "    start = parse_datetime(value)\n",
     "    start: datetime | None = parse_datetime(value)\n"),
)
# The line whose compiled form raised (a set where mypyc expects a frozenset), written so
# that CPython returns what the checker believes: frozenset.difference gives a frozenset.
_CAUSE_FOUND = (
    "cds_rules/valuesets.py",
    "excluded.update(_ICD_EXCLUDE.get((system, code[:n]), frozenset()) - found.keys())",
    "excluded.update(_ICD_EXCLUDE.get((system, code[:n]), frozenset()).difference(found))",
)

# Scenario -> calls counted (the large patients take minutes under valgrind).
CALLS = {"small_cards": 200, "small_card_less": 200, "synthea_1mb/back_pain": 20,
         "synthea_largest/back_pain": 5}
_VERDICT = re.compile(r"\d+ of \d+ snapshots identical")


def _scratch_copy(parent: Path) -> Path:
    """The committed tree in ``parent/backpain-cds``, beside a link to ``../shared`` (the
    Synthea patients are read from there) and to the project's virtual environment."""
    shared = ROOT.parent / "shared"
    if not (shared / "data" / "synthea-r4").is_dir():
        raise SystemExit(f"{shared}/data/synthea-r4 is missing: the large patients need it")
    tree = parent / "backpain-cds"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    (parent / "shared").symlink_to(shared)
    (tree / ".venv").symlink_to(ROOT / ".venv")
    for mend in _MYPYC_MENDS:
        _replace(tree, *mend)
    return tree


def _replace(tree: Path, name: str, committed: str, mended: str) -> None:
    path = tree / name
    text = path.read_text()
    if text.count(committed) != 1:
        raise SystemExit(f"{name} no longer holds the line this spike mends: update it")
    path.write_text(text.replace(committed, mended))


def _env(tree: Path) -> dict[str, str]:
    """The children import ``tree``'s modules (a compiled ``.so`` before its ``.py``)."""
    return dict(os.environ, PYTHONPATH=str(tree))


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=tree, env=_env(tree),
                          capture_output=True, text=True, check=False)


def _instructions(tree: Path, scale: float) -> dict[str, int | None]:
    """Instructions per call of each scenario, counted with ``tree``'s code."""
    counts: dict[str, int | None] = {}
    for scenario, calls in CALLS.items():
        done = _run(tree, "-c", "from benchmarks import instructions; print(instructions"
                    f".per_call({scenario!r}, {max(1, int(calls * scale))}))")
        if done.returncode != 0:
            raise SystemExit(f"counting {scenario} failed:\n{done.stderr[-3000:]}")
        out = done.stdout.strip()
        counts[scenario] = None if out == "None" else int(out)
    return counts


def _compile(tree: Path) -> None:
    """Compile :data:`COMPILED` in place: each ``.so`` lands beside its ``.py`` and is the
    one imported from then on."""
    for stale in (tree / "cds_rules").rglob("*.so"):
        stale.unlink()
    for stale in tree.glob("*__mypyc*.so"):
        stale.unlink()
    done = _run(tree, "-m", "mypyc", *COMPILED)
    if done.returncode != 0:
        raise SystemExit(f"mypyc failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    shutil.rmtree(tree / "build", ignore_errors=True)
    if not list((tree / "cds_rules").glob("valuesets.*.so")):
        raise SystemExit("mypyc reported success but left no compiled module")


def _snapshots(tree: Path) -> dict[str, Any]:
    """``tools.snapshots check`` in ``tree``: its verdict and the cases that differ."""
    done = _run(tree, "-m", "tools.snapshots", "check", "--jobs", str(os.cpu_count() or 1))
    lines = done.stdout.splitlines()
    verdict = next((line for line in lines if _VERDICT.fullmatch(line)), None)
    differing = sorted(line.split()[1] for line in lines
                       if line.startswith("--- ") and line.endswith(" (committed)"))
    return {"verdict": verdict or f"no verdict: {done.stderr[-2000:]}",
            "returncode": done.returncode, "differing_cases": differing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spikes.mypyc_core",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls-scale", type=float, default=1.0,
                        help="scale the calls counted per scenario (default 1)")
    args = parser.parse_args(argv)
    if not instructions.available():
        print("valgrind is not installed (make install-system)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        tree = _scratch_copy(Path(tmp))
        interpreted = _instructions(tree, args.calls_scale)
        _compile(tree)
        compiled = _instructions(tree, args.calls_scale)
        snapshots = _snapshots(tree)
        _replace(tree, *_CAUSE_FOUND)
        _compile(tree)
        compiled_mended = _instructions(tree, args.calls_scale)
        snapshots_mended = _snapshots(tree)
    report = {
        "compiled_modules": COMPILED,
        "instructions_per_call": {
            scenario: {"interpreted": interpreted[scenario], "compiled": compiled[scenario],
                       "change": _change(interpreted[scenario], compiled[scenario]),
                       "compiled_cause_mended": compiled_mended[scenario],
                       "change_cause_mended": _change(interpreted[scenario],
                                                      compiled_mended[scenario])}
            for scenario in CALLS},
        "snapshots_compiled": snapshots,
        "snapshots_compiled_cause_mended": snapshots_mended,
    }
    print(json.dumps(report, indent=2))
    return 0


def _change(before: int | None, after: int | None) -> str | None:
    if not before or after is None:
        return None
    return f"{(after - before) / before:+.1%}"


if __name__ == "__main__":
    raise SystemExit(main())
