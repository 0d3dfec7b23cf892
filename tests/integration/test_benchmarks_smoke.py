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
    labels = ["small_cards", "small_card_less"] + [
        f"{patient}/{variant}" for patient in ("synthea_1mb", "synthea_largest")
        for variant in ("without", "back_pain", "red_flags")]
    for label in labels:
        entry = proc[label]
        for timed in ("service", "floor_orjson", "floor_orjson_alone", "bare_flask"):
            assert entry[timed]["p50_ms"] > 0, (label, timed)
        assert entry["p50_ratio_to_floor"] > 0 and entry["p50_ratio_to_floor_alone"] > 0
    # The full rule path is measured: the added back pain reaches the rules (cards), the
    # patients as they are do not; the card-less small call is really card-less.
    assert proc["small_cards"]["cards"] and not proc["small_card_less"]["cards"]
    for patient in ("synthea_1mb", "synthea_largest"):
        assert not proc[f"{patient}/without"]["cards"]
        assert proc[f"{patient}/back_pain"]["cards"]
        assert any(c.endswith("/critical") for c in proc[f"{patient}/red_flags"]["cards"])
    assert [s["resources"] for s in proc["sweep"]] == [10, 100]
    assert len(proc["all_patients"]["patients"]) == 2
    assert proc["synthea_largest/without"]["body_bytes"] > proc["synthea_1mb/without"]["body_bytes"]

    web = report["http"]
    assert web["answers"]["cards"] and not web["answers"]["card_less"]
    for kind in ("cards", "card_less", "bare_flask"):
        assert web[kind]["requests"] > 0
        assert web[kind]["errors"] == 0, f"{kind}: a benchmark request was answered with an error"
        assert web[kind]["server_cpu_ms_per_call"] is not None
        assert 1 / web["workers"] <= web[kind]["busiest_worker_cpu_share"] <= 1
    memory = web["worker_peak_rss_mb"]
    assert memory["after_largest_input"] and set(memory["statuses"]) == {200}
    assert memory["after_two_at_once_per_worker"] and set(memory["statuses_at_once"]) == {200}
    assert 8 * 2**20 * 0.98 <= memory["largest_input_bytes"] <= 8 * 2**20
    # The deterministic CPU measure (valgrind, which .ci/install-system.sh installs).
    counted = report["instructions"]["per_call"]
    assert set(counted) == {"small_card_less"} and counted["small_card_less"] > 100_000
    assert {t["target"] for t in report["targets"]} >= {
        "HTTP, small scenario with a card: throughput >= 1/3 of bare Flask", "no HTTP errors"}
