"""Run the benchmarks: ``python -m benchmarks.run --full`` (make bench) or ``--smoke``.

Writes ``benchmarks/results/<mode>.json`` (with the machine description) and, for a full
run, the headline table into README.md between the ``bench:start``/``bench:end`` markers.
Targets (issue 8) are checked and reported plainly, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks import http, inprocess, inputs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SERVICE_PATH = "/cds-services/back-pain-patient-view"
SWEEP_FULL = (10, 100, 1000, 5000, 20000)
SWEEP_SMOKE = (10, 100)


def machine() -> dict[str, Any]:
    mem_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        mem_kb = int(meminfo.read_text().split()[1])
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                    if ln.startswith("model name")), "")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def make_app(workdir: Path, max_body: int) -> Any:
    from service.app import create_app
    from service.config import load_settings

    env = http.server_env(workdir, max_body)
    http.migrate(env)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("BACKPAIN_CDS_")})
    app = create_app(settings, clock=lambda: inputs.NOW)
    gc.freeze()  # as gunicorn's master does before forking (gunicorn.conf.py, freeze_heap)
    return app


def in_process(app: Any, iterations: int, sweep: tuple[int, ...]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    service, small = inputs.scenario_body()
    results["small_scenario"] = inprocess.compare(app, f"/cds-services/{service}", small,
                                                  iterations * 5)
    files = inputs.synthea_files()
    if files:
        one_mb = inputs.file_near(1_000_000)
        largest = files[-1]
        for label, path in (("synthea_1mb", one_mb), ("synthea_largest", largest)):
            entry = inprocess.compare(app, SERVICE_PATH, inputs.synthea_body(path), iterations)
            entry["source_file"] = path.name
            entry["source_file_bytes"] = path.stat().st_size
            results[label] = entry
        results["sweep"] = [
            {"resources": count, **inprocess.compare(app, SERVICE_PATH, body,
                                                     max(3, iterations // max(1, count // 500)))}
            for count, body in inputs.iter_sweep(sweep, one_mb)
        ]
    return results


def profile_one_mb(app: Any, iterations: int) -> str | None:
    """A pyinstrument profile of the 1 MB case, saved as text; returns the file name."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    if not inputs.synthea_files():
        return None
    call = inprocess.wsgi_caller(app, SERVICE_PATH,
                                 inputs.synthea_body(inputs.file_near(1_000_000)))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(iterations):
        call()
    profiler.stop()
    out = RESULTS / "profile-1mb.txt"
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return out.name


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 8's targets, each with the measured value and whether it was met."""
    checks: list[dict[str, Any]] = []
    proc = report.get("in_process", {})
    for label in ("synthea_1mb", "synthea_largest"):
        if label in proc:
            ratio = proc[label]["p50_ratio_to_floor"]
            checks.append({"target": f"{label}: p50 <= 3x orjson floor", "value": ratio,
                           "met": ratio is not None and ratio <= 3})
    if "synthea_1mb" in proc:
        p99 = proc["synthea_1mb"]["service"]["p99_ms"]
        checks.append({"target": "synthea_1mb: p99 <= 50 ms", "value": round(p99, 2),
                       "met": p99 <= 50})
    web = report.get("http")
    if web:
        ratio = web["throughput_ratio_to_ceiling"]
        checks.append({"target": "small scenario: throughput >= 1/3 of bare Flask",
                       "value": ratio, "met": ratio is not None and ratio >= 1 / 3})
        p99 = web["service"]["p99_ms"]
        connections = web["service"]["connections"]
        checks.append({"target": f"small scenario: p99 <= 25 ms at c={connections}",
                       "value": p99, "met": p99 <= 25})
        checks.append({"target": "no HTTP errors", "value": web["service"]["errors"],
                       "met": web["service"]["errors"] == 0})
        peaks = web["worker_peak_rss_mb"].get("after_largest_input") or []
        if peaks:
            checks.append({"target": "worker peak RSS < 200 MB with the largest input",
                           "value": max(peaks), "met": max(peaks) < 200})
    sweep = proc.get("sweep") or []
    if len(sweep) >= 3:
        per_resource = [s["service"]["p50_ms"] / s["resources"]
                        for s in sweep if s["resources"] >= 1000]
        if len(per_resource) >= 2:
            growth = per_resource[-1] / per_resource[0]
            checks.append({"target": "linear growth: per-resource cost at the largest size "
                                     "within 1.5x of 1,000 resources", "value": round(growth, 2),
                           "met": growth <= 1.5})
    return checks


def headline(report: dict[str, Any]) -> str:
    proc = report["in_process"]
    rows = ["| Input | Body | p50 | p95 | p99 | orjson floor p50 | ratio |",
            "|---|---|---|---|---|---|---|"]
    for label in ("small_scenario", "synthea_1mb", "synthea_largest"):
        if label in proc:
            e = proc[label]
            s = e["service"]
            rows.append(f"| {label} | {e['body_bytes'] / 1024:.0f} KiB | {s['p50_ms']:.2f} ms | "
                        f"{s['p95_ms']:.2f} ms | {s['p99_ms']:.2f} ms | "
                        f"{e['floor_orjson']['p50_ms']:.2f} ms | {e['p50_ratio_to_floor']}x |")
    for e in proc.get("sweep", []):
        s = e["service"]
        rows.append(f"| sweep {e['resources']} resources | {e['body_bytes'] / 1024:.0f} KiB | "
                    f"{s['p50_ms']:.2f} ms | {s['p95_ms']:.2f} ms | {s['p99_ms']:.2f} ms | "
                    f"{e['floor_orjson']['p50_ms']:.2f} ms | {e['p50_ratio_to_floor']}x |")
    lines = ["In process (WSGI app called directly, warm):", "", *rows, ""]
    web = report.get("http")
    if web:
        s, b = web["service"], web["bare_flask_ceiling"]
        lines += [
            f"Over HTTP (gunicorn, {web['workers']} workers, wrk c={s['connections']}, "
            "small scenario):",
            "",
            "| Server | req/s | p50 | p99 | errors |",
            "|---|---|---|---|---|",
            _server_row("backpain-cds", s),
            _server_row("bare Flask (ceiling)", b),
            "",
            f"Throughput ratio to the ceiling: {web['throughput_ratio_to_ceiling']}. "
            f"Worker peak RSS: {web['worker_peak_rss_mb']}.",
            "",
        ]
    lines += ["Targets:", ""]
    lines += [f"- {'met' if c['met'] else '**MISSED**'}: {c['target']} (measured {c['value']})"
              for c in report["targets"]]
    return "\n".join(lines)


def _server_row(name: str, run: dict[str, Any]) -> str:
    return (f"| {name} | {run['throughput_rps']} | {run['p50_ms']:.2f} ms | "
            f"{run['p99_ms']:.2f} ms | {run['errors']} |")


def update_readme(table: str, when: str) -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        return
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    note = f"Measured {when} (`make bench`; full results in `benchmarks/results/full.json`)."
    block = f"{start}\n{note}\n\n{table}\n{end}"
    readme.write_text(before + block + after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full run (make bench)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run that keeps the harness alive")
    parser.add_argument("--out", type=Path, default=None,
                        help="result file (default results/<mode>.json)")
    args = parser.parse_args(argv)
    full = args.full and not args.smoke
    mode = "full" if full else "smoke"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        largest_sweep = SWEEP_FULL if full else SWEEP_SMOKE
        app = make_app(Path(tmp), max_body=64_000_000)
        report: dict[str, Any] = {
            "mode": mode,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "in_process": in_process(app, 200 if full else 3, largest_sweep),
        }
        if full:
            report["profile"] = profile_one_mb(app, 100)
    if http.wrk_available():
        service, small = inputs.scenario_body()
        largest = inputs.sized_body(largest_sweep[-1], inputs.file_near(1_000_000)) \
            if inputs.synthea_files() else None
        report["http"] = http.throughput_comparison(
            f"/cds-services/{service}", small, workers=os.cpu_count() or 2, connections=8,
            seconds=15 if full else 1, largest_body=largest)
    report["targets"] = targets(report)
    out = args.out or RESULTS / f"{mode}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    table = headline(report)
    print(table)
    if full:
        update_readme(table, report["when"][:10])
    return 0


if __name__ == "__main__":
    sys.exit(main())
