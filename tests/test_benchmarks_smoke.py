"""The benchmark harness runs end to end on tiny inputs, so that it never rots.

Speed is not asserted here (that is the harness's job, in `make bench`): this checks
that every measurement the full run reports is produced and well-formed.
"""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import ROOT, SYNTHEA_DIR, require


def test_smoke_run_produces_every_measurement(tmp_path):
    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")
    out = tmp_path / "smoke.json"
    subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    report = orjson.loads(out.read_bytes())

    assert report["machine"]["cpus"] >= 1
    proc = report["in_process"]
    for label in ("small_scenario", "synthea_1mb", "synthea_largest"):
        entry = proc[label]
        assert entry["service"]["p50_ms"] > 0
        assert entry["floor_orjson"]["p50_ms"] > 0
        assert entry["p50_ratio_to_floor"] > 0
    assert [s["resources"] for s in proc["sweep"]] == [10, 100]
    assert proc["synthea_largest"]["body_bytes"] > proc["synthea_1mb"]["body_bytes"]

    web = report["http"]
    assert web["service"]["requests"] > 0
    assert web["service"]["errors"] == 0, "the service answered a benchmark request with an error"
    assert web["bare_flask_ceiling"]["requests"] > 0
    assert web["worker_peak_rss_mb"]["after_largest_input"]
    assert {t["target"] for t in report["targets"]} >= {
        "small scenario: throughput >= 1/3 of bare Flask", "no HTTP errors"}
