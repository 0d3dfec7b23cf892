"""Run the benchmarks: ``python -m benchmarks.run --full`` (make bench) or ``--smoke``.

Writes ``benchmarks/results/<mode>.json`` (with the machine description) and, for a full
run, the headline table into README.md between the ``bench:start``/``bench:end`` markers.
Targets (issue 15) are checked and reported plainly, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks import http, inprocess, inputs, instructions

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SERVICE_PATH = "/cds-services/back-pain-patient-view"
SWEEP_FULL = (10, 100, 1000, 5000, 20000)
SWEEP_SMOKE = (10, 100)
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # BACKPAIN_CDS_MAX_BODY_BYTES's default (8 MiB)


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
    """The service as the server builds it (INFO logs, to nowhere), clock at inputs.NOW."""
    from service.app import create_app
    from service.config import load_settings
    from service.logs import configure_logging
    from service.runtime import tune_collector

    env = http.server_env(workdir, max_body, log_level="INFO")
    http.migrate(env)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("BACKPAIN_CDS_")})
    configure_logging("INFO", stream=open(os.devnull, "w"))  # noqa: SIM115 (process-long)
    app = create_app(settings, clock=lambda: inputs.NOW)
    tune_collector()  # as gunicorn's master does before forking (gunicorn.conf.py)
    gc.freeze()  # likewise (gunicorn.conf.py, freeze_heap)
    return app


def load() -> dict[str, Any]:
    """How busy the machine is: load averages and the share of CPU time not idle since
    the previous reading (the harness itself keeps one core busy in process, two over
    HTTP: the rest is other work on the machine)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, total = fields[3] + fields[4], sum(fields[:8])
    previous = getattr(load, "last", None)
    load.last = (idle, total)  # type: ignore[attr-defined]
    busy = None
    if previous and total > previous[1]:
        busy = round(1 - (idle - previous[0]) / (total - previous[1]), 2)
    return {"loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "cpu_busy_since_last": busy, "cpus": os.cpu_count()}


def in_process(app: Any, iterations: int, sweep: tuple[int, ...],
               all_patients: int | None) -> dict[str, Any]:
    from benchmarks.bare_app import app as bare

    results: dict[str, Any] = {"load_before": load()}
    service, small = inputs.small_bodies(inputs.NOW)
    for name, body in small.items():
        results[f"small_{name}"] = inprocess.compare(app, f"/cds-services/{service}", body,
                                                     iterations * 5, bare)
    files = inputs.synthea_files()
    if files:
        one_mb = inputs.file_near(1_000_000)
        for label, path in (("synthea_1mb", one_mb), ("synthea_largest", files[-1])):
            for variant in inputs.VARIANTS:
                entry = inprocess.compare(app, SERVICE_PATH, inputs.synthea_body(path, variant),
                                          iterations if path == one_mb else iterations // 2,
                                          bare)
                entry["source_file"] = path.name
                entry["source_file_bytes"] = path.stat().st_size
                results[f"{label}/{variant}"] = entry
        results["breakdown"] = {
            "small_cards": inprocess.breakdown(app, f"/cds-services/{service}", small["cards"],
                                               iterations * 2),
            "small_card_less": inprocess.breakdown(app, f"/cds-services/{service}",
                                                   small["card_less"], iterations * 2),
            **{f"{label}/back_pain": inprocess.breakdown(
                app, SERVICE_PATH, inputs.synthea_body(path, "back_pain"), iterations // 2)
               for label, path in (("synthea_1mb", one_mb), ("synthea_largest", files[-1]))},
        }
        results["all_patients"] = every_patient(app, files[:all_patients], max(5, iterations // 10))
        results["sweep"] = [
            {"resources": count, **inprocess.compare(app, SERVICE_PATH, body,
                                                     max(3, iterations // max(1, count // 500)))}
            for count, body in inputs.iter_sweep(sweep, one_mb)
        ]
    results["load_after"] = load()
    return results


def every_patient(app: Any, files: list[Path], iterations: int) -> dict[str, Any]:
    """Every Synthea patient without and with back pain: p50 ratio to the floor."""
    rows = []
    for path in files:
        row: dict[str, Any] = {"file": path.name, "file_bytes": path.stat().st_size}
        for variant in ("without", "back_pain"):
            body = inputs.synthea_body(path, variant)
            entry = inprocess.compare(app, SERVICE_PATH, body, iterations)
            row[variant] = {"body_bytes": len(body), "cards": len(entry["cards"]),
                            "p50_ms": round(entry["service"]["p50_ms"], 3),
                            "floor_p50_ms": round(entry["floor_orjson"]["p50_ms"], 3),
                            "p50_ratio_to_floor": entry["p50_ratio_to_floor"]}
        rows.append(row)
    summary = {}
    for variant in ("without", "back_pain"):
        ratios = sorted(r[variant]["p50_ratio_to_floor"] for r in rows)
        if ratios:
            summary[variant] = {"patients": len(ratios), "median_ratio": ratios[len(ratios) // 2],
                                "max_ratio": ratios[-1], "min_ratio": ratios[0],
                                "with_cards": sum(1 for r in rows if r[variant]["cards"])}
    return {"summary": summary, "patients": rows}


def profile_one_mb(app: Any, iterations: int) -> str | None:
    """A pyinstrument profile of the 1 MB patient with back pain, saved as text."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    if not inputs.synthea_files():
        return None
    call = inprocess.wsgi_caller(app, SERVICE_PATH,
                                 inputs.synthea_body(inputs.file_near(1_000_000), "back_pain"))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(iterations):
        call()
    profiler.stop()
    out = RESULTS / "profile-1mb.txt"
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return out.name


def instructions_per_call(full: bool) -> dict[str, Any]:
    """Instructions per call of each of :data:`instructions.SCENARIOS` (valgrind, run side by
    side after the timed parts: the counts do not depend on the load); the smoke run counts
    one scenario, a few calls."""
    if not instructions.available():
        return {"note": "valgrind is not installed: no instruction counts"}
    scenarios = instructions.SCENARIOS if full else ("small_card_less",)
    if not inputs.synthea_files():
        scenarios = tuple(s for s in scenarios if s.startswith("small_"))
    calls = {s: (200 if s.startswith("small_") else 30) if full else 2 for s in scenarios}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = dict(zip(scenarios, pool.map(lambda s: instructions.per_call(s, calls[s]),
                                               scenarios), strict=True))
    return {"calls": calls, "per_call": counted}


FULL_PATH = ("synthea_1mb/back_pain", "synthea_1mb/red_flags",
             "synthea_largest/back_pain", "synthea_largest/red_flags")


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15's targets, each with the measured value and whether it was met."""
    checks: list[dict[str, Any]] = []
    proc = report.get("in_process", {})
    for label in FULL_PATH:
        if label in proc:
            ratio = proc[label]["p50_ratio_to_floor"]
            checks.append({"target": f"{label}: p50 <= 3x the orjson floor", "value": ratio,
                           "met": ratio is not None and ratio <= 3})
            tail = proc[label]["p99_ratio_to_p50"]
            checks.append({"target": f"{label}: p99 <= 3x p50", "value": tail,
                           "met": tail is not None and tail <= 3})
    web = report.get("http")
    if web:
        ratio = web["throughput_ratio_to_ceiling"]
        checks.append({"target": "HTTP, small scenario with a card: throughput >= 1/3 of "
                                 "bare Flask", "value": ratio,
                       "met": ratio is not None and ratio >= 1 / 3})
        p99 = web["cards"]["p99_ms"]
        checks.append({"target": f"HTTP, small scenario with a card: p99 <= 25 ms at "
                                 f"c={web['cards']['connections']}", "value": p99,
                       "met": p99 <= 25})
        cpu = web["cpu_ratio_cards_to_card_less"]
        checks.append({"target": "HTTP: CPU per call with a card within 1.3x of card-less",
                       "value": cpu, "met": cpu is not None and cpu <= 1.3})
        errors = sum(web[k]["errors"] for k in ("cards", "card_less", "bare_flask"))
        checks.append({"target": "no HTTP errors", "value": errors, "met": errors == 0})
        memory = web["worker_peak_rss_mb"]
        peaks = memory.get("after_largest_input") or []
        if peaks:
            ok = all(s == 200 for s in memory.get("statuses", []))
            checks.append({"target": f"worker peak RSS < 200 MB with a "
                                     f"{memory['largest_input_bytes'] / 2**20:.2f} MiB body "
                                     "(default 8 MiB limit)",
                           "value": max(peaks), "met": ok and max(peaks) < 200})
    sweep = [s for s in proc.get("sweep") or [] if s["resources"] >= 1000]
    if len(sweep) >= 2:
        per_resource = [s["service"]["p50_ms"] / s["resources"] for s in sweep]
        growth = max(per_resource) / min(per_resource)
        checks.append({"target": "linear growth: per-resource cost from 1,000 to "
                                 f"{sweep[-1]['resources']:,} resources within 1.5x",
                       "value": round(growth, 2), "met": growth <= 1.5})
    return checks


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value >= 0.1 else f"{value * 1000:.0f} µs"


def _alone(entry: dict[str, Any]) -> str:
    """The floor-alone cells of a row (absent from results of older runs)."""
    alone = entry.get("floor_orjson_alone")
    if not alone:
        return "- | -"
    return f"{_ms(alone['p50_ms'])} | {entry['p50_ratio_to_floor_alone']}x"


def headline(report: dict[str, Any]) -> str:
    proc = report["in_process"]
    rows = ["| Input | Body | Cards | p50 | p99 | orjson floor p50 | bare Flask p50 | "
            "p50 / floor | p99 / p50 | floor alone p50 | p50 / floor alone |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, e in proc.items():
        if not isinstance(e, dict) or "service" not in e:
            continue
        s = e["service"]
        bare = _ms(e["bare_flask"]["p50_ms"]) if "bare_flask" in e else "-"
        rows.append(f"| {label} | {e['body_bytes'] / 1024:.0f} KiB | "
                    f"{', '.join(e['cards']) or 'none'} | {_ms(s['p50_ms'])} | "
                    f"{_ms(s['p99_ms'])} | {_ms(e['floor_orjson']['p50_ms'])} | {bare} | "
                    f"{e['p50_ratio_to_floor']}x | {e['p99_ratio_to_p50']}x | {_alone(e)} |")
    for e in proc.get("sweep", []):
        s = e["service"]
        rows.append(f"| sweep {e['resources']:,} resources | {e['body_bytes'] / 1024:.0f} KiB | "
                    f"{len(e['cards'])} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | "
                    f"{_ms(e['floor_orjson']['p50_ms'])} | - | {e['p50_ratio_to_floor']}x | "
                    f"{e['p99_ratio_to_p50']}x | {_alone(e)} |")
    lines = ["In process (WSGI app called directly, warm; service, floor and bare Flask timed "
             "in turn, call after call; the targets use that floor; \"floor alone\": "
             "orjson.loads timed call after call with nothing in between):", "", *rows, ""]
    steps = proc.get("breakdown", {})
    if steps:
        names = list(next(iter(steps.values())))
        lines += ["Where a call's time goes (median ms of each step, service.hooks' functions "
                  "timed; medians need not add up; `other`, each call's remainder: Flask, trust, "
                  "logging, metrics, freeing the parsed request):",
                  "",
                  "| Step | " + " | ".join(steps) + " |", "|---" * (len(steps) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(f"{v.get(name, 0):.3f}" for v in steps.values())
                  + " |" for name in names]
        lines.append("")
    every = proc.get("all_patients", {}).get("summary", {})
    for variant, v in every.items():
        lines.append(f"- all {v['patients']} Synthea patients, {variant.replace('_', ' ')}: "
                     f"p50 / floor median {v['median_ratio']}x (min {v['min_ratio']}x, "
                     f"max {v['max_ratio']}x); {v['with_cards']} answered with cards")
    if every:
        lines.append("")
    web = report.get("http")
    if web:
        lines += [
            f"Over HTTP (gunicorn as shipped, {web['workers']} workers, wrk "
            f"c={web['cards']['connections']}, {web['rounds']} interleaved rounds of "
            f"{web['seconds_per_run']} s; p50/p99: median of the rounds):",
            "",
            "| Calls | Cards | req/s | p50 | p99 | worst p99 | server CPU per call | errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, title in (("cards", "small scenario, with a card"),
                            ("card_less", "same call, card-less (patient 16)"),
                            ("bare_flask", "bare Flask (ceiling)")):
            r = web[name]
            cards = ", ".join(web["answers"].get(name, [])) if name != "bare_flask" else "fixed"
            lines.append(f"| {title} | {cards or 'none'} | {r['throughput_rps']} | "
                         f"{_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | "
                         f"{_ms(r['p99_ms_worst_round'])} | "
                         f"{r['server_cpu_ms_per_call']} ms | {r['errors']} |")
        memory = web["worker_peak_rss_mb"]
        lines += ["", f"Throughput ratio to the ceiling (median of rounds): "
                      f"{web['throughput_ratio_to_ceiling']}; CPU per call with a card / "
                      f"card-less: {web['cpu_ratio_cards_to_card_less']}. Worker peak RSS "
                      f"after the load: {memory.get('after_load')} MB; after a "
                      f"{memory.get('largest_input_bytes', 0) / 2**20:.2f} MiB body: "
                      f"{memory.get('after_largest_input')} MB (then with two such calls at once "
                      f"per worker: {memory.get('after_two_at_once_per_worker')} MB). "
                      f"The busiest worker's share of its server's worker CPU (median of "
                      f"rounds; {1 / web['workers']:.2f} is an even spread, 1 is one worker "
                      f"doing all): with a card {web['cards'].get('busiest_worker_cpu_share')}, "
                      f"card-less {web['card_less'].get('busiest_worker_cpu_share')}, bare "
                      f"Flask {web['bare_flask'].get('busiest_worker_cpu_share')}.", ""]
    counted = report.get("instructions", {}).get("per_call", {})
    if counted:
        lines += [_instructions_line(counted), ""]
    before, after = proc.get("load_before", {}), report.get("load_after", {})
    lines += [f"Machine: {report['machine']['cpus']} CPUs ({report['machine']['cpu_model']}), "
              f"load average before {before.get('loadavg_1_5_15')}, after "
              f"{after.get('loadavg_1_5_15')}; CPU busy during the HTTP runs "
              f"{after.get('cpu_busy_since_last')} (the harness itself: about 1 of "
              f"{report['machine']['cpus']} CPUs in process, all of them over HTTP).", ""]
    lines += ["Targets:", ""]
    lines += [f"- {'met' if c['met'] else '**MISSED**'}: {c['target']} (measured {c['value']})"
              for c in report["targets"]]
    return "\n".join(lines)


def _instructions_line(counted: dict[str, int | None]) -> str:
    """The deterministic CPU measure, for comparing code across runs and machines."""
    def millions(name: str) -> str:
        value = counted.get(name)
        return f"{value / 1e6:.3f} M" if value else "-"

    cards, card_less = counted.get("small_cards"), counted.get("small_card_less")
    ratio = f" (ratio {cards / card_less:.2f})" if cards and card_less else ""
    return ("Instructions per call (valgrind, `PYTHONHASHSEED=0`, the calling thread, warm; "
            "the same code gives the same count whatever the machine's load: compare code "
            "with these, not with the timings above): small scenario with a card "
            f"{millions('small_cards')}, card-less {millions('small_card_less')}{ratio}; "
            f"~1 MB patient with back pain {millions('synthea_1mb/back_pain')}.")


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
            "in_process": in_process(app, 200 if full else 3, largest_sweep,
                                     None if full else 2),
        }
        if full:
            report["profile"] = profile_one_mb(app, 100)
        # The in-process app's writer still holds calls to store: finish it here, so that
        # it takes no CPU from the servers measured next.
        app.extensions["backpain"]["store"].dispose()
    load()
    if http.wrk_available():
        service, small = inputs.small_bodies(datetime.now(UTC))
        memory_body = inputs.body_under(DEFAULT_MAX_BODY, inputs.file_near(1_000_000)) \
            if inputs.synthea_files() else None
        report["http"] = http.http_comparison(
            f"/cds-services/{service}", small, workers=2, connections=8,
            seconds=5 if full else 1, rounds=3 if full else 1, memory_body=memory_body)
    report["load_after"] = load()
    report["instructions"] = instructions_per_call(full)
    report["targets"] = targets(report)
    out = args.out or RESULTS / f"{mode}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    table = headline(report)
    print(table)
    if full:
        update_readme(table, report["when"][:16].replace("T", " ") + " UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
