"""Spike (issue 15): what compiling the record builder with mypyc would buy, and break.

Not part of ``make bench``: ``python -m benchmarks.spikes.mypyc_core [--calls-scale N]``
(needs valgrind and a C compiler; mypyc ships with mypy, a development dependency). It
copies the committed tree (``git archive HEAD``) into a scratch directory, counts the
instructions of ``make bench``'s calls there (:mod:`benchmarks.instructions`), compiles
the modules the record build spends its time in (:data:`COMPILED`) with mypyc in place,
counts again, and then asks the compiled copy the clinical question: are the scenario and
Synthea snapshots (``python -m tools.snapshots check``) still identical?

Two lines of the copy are changed first, because mypyc 1.x refuses them as written (the
source itself is not changed): a frozen slotted dataclass field annotated ``object``
(mypyc fails at import with ``KeyError: 'object'``) and a local whose type mypy infers as
``None``. Everything else is compiled as it stands.

What it showed (eighteenth session, README "What would close the gaps"): fewer
instructions on the large patients, and cards lost. A mypyc function checks the declared
types of what it receives and of what its expressions produce; where the checker's
picture (typeshed) differs from what CPython returns, the compiled code raises
``TypeError`` where Python runs on, and the record builder's guard (one odd resource must
not stop the record) counts the resource as unreadable. ``frozenset - dict.keys()`` is a
``frozenset`` to the checker and a ``set`` at run time: in ``valuesets._icd_matches`` that
made every code of an ICD-10 system (WHO or CM) raise, so every Condition coded in ICD-10,
cauda equina's included, was set aside as unreadable and gave no card.
"""

from __future__ import annotations

import argparse
import json
import os
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

# (file, text as committed, text mypyc accepts): the same meaning.
_MYPYC_MENDS = (
    ("cds_rules/record/orders.py", "    code: object  # the resource's ``code_field``",
     "    code: Any  # the resource's ``code_field``"),
    ("cds_rules/fhir_time.py", "    start = parse_datetime(value)\n",
     "    start: datetime | None = parse_datetime(value)\n"),
)

# Scenario -> calls counted (the large patients take minutes under valgrind).
CALLS = {"small_cards": 200, "small_card_less": 200, "synthea_1mb/back_pain": 20,
         "synthea_largest/back_pain": 5}


def _scratch_copy(parent: Path) -> Path:
    """The committed tree in ``parent/backpain-cds``, beside a link to ``../shared`` (the
    Synthea patients are read from there) and to the project's virtual environment."""
    tree = parent / "backpain-cds"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    (parent / "shared").symlink_to(ROOT.parent / "shared")
    (tree / ".venv").symlink_to(ROOT / ".venv")
    for name, committed, accepted in _MYPYC_MENDS:
        path = tree / name
        text = path.read_text()
        if committed not in text:
            raise SystemExit(f"{name} no longer holds the line this spike mends: update it")
        path.write_text(text.replace(committed, accepted))
    return tree


def _instructions(tree: Path, scale: float) -> dict[str, int | None]:
    """Instructions per call of each scenario, counted with ``tree``'s code."""
    counts: dict[str, int | None] = {}
    for scenario, calls in CALLS.items():
        code = ("from benchmarks import instructions; "
                f"print(instructions.per_call({scenario!r}, {max(1, int(calls * scale))}))")
        out = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                             text=True, check=True).stdout.strip()
        counts[scenario] = None if out == "None" else int(out)
    return counts


def _compile(tree: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mypyc", *COMPILED], cwd=tree,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"mypyc failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    shutil.rmtree(tree / "build", ignore_errors=True)


def _snapshots(tree: Path) -> dict[str, Any]:
    """``tools.snapshots check`` in ``tree``: its verdict and the cases that differ."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-m", "tools.snapshots", "check", "--jobs",
                           str(os.cpu_count() or 1)], cwd=tree, env=env, capture_output=True,
                          text=True, check=False)
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    differing = sorted({line.split()[1].removeprefix("a/") for line in done.stdout.splitlines()
                        if line.startswith("--- ")})
    return {"verdict": verdict, "differing_cases": differing}


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
    report = {
        "compiled_modules": COMPILED,
        "instructions_per_call": {
            scenario: {"interpreted": interpreted[scenario], "compiled": compiled[scenario],
                       "change": _change(interpreted[scenario], compiled[scenario])}
            for scenario in CALLS},
        "snapshots_compiled": snapshots,
    }
    print(json.dumps(report, indent=2))
    return 0


def _change(before: int | None, after: int | None) -> str | None:
    if not before or after is None:
        return None
    return f"{(after - before) / before:+.1%}"


if __name__ == "__main__":
    raise SystemExit(main())
