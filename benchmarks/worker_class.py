"""Which gunicorn worker class? ``python -m benchmarks.worker_class`` (about 2 minutes).

The real server (gunicorn.conf.py, N workers) under wrk, once per worker class, for two
kinds of hook call:

- ``fetch``: the EHR did not prefetch the observations, so each call reads them from a FHIR
  server on loopback that answers after ``--fhir-delay-ms`` (a real EHR's FHIR API takes
  tens of milliseconds): the service waits on I/O;
- ``prefetched``: everything is in the request: pure CPU.

The numbers are recorded in the comment above ``worker_class`` in gunicorn.conf.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fhir_samples
from benchmarks import http as bench_http
from tests.ops_support import shifted_request_body, slow_fhir_server

SCENARIO = "ces-faecal-incontinence-snomed"
CLASSES = (("sync", 1), ("gthread", 2), ("gthread", 4), ("gthread", 8))


def bodies(fhir_base: str) -> dict[str, dict[str, Any]]:
    scenario = fhir_samples.load(SCENARIO)
    prefetched = shifted_request_body(scenario, datetime.now(UTC))
    fetch = copy.deepcopy(prefetched)
    fetch["prefetch"].pop("observations")
    fetch["fhirServer"] = fhir_base
    fetch["fhirAuthorization"] = {"access_token": "benchmark", "token_type": "Bearer",
                                  "expires_in": 300, "scope": "patient/*.read",
                                  "subject": "backpain-cds"}
    return {"fetch": fetch, "prefetched": prefetched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--fhir-delay-ms", type=float, default=40.0)
    args = parser.parse_args()
    scenario = fhir_samples.load(SCENARIO)
    observations = shifted_request_body(scenario, datetime.now(UTC))["prefetch"]["observations"]
    upstream = slow_fhir_server(observations or {"resourceType": "Bundle", "type": "searchset"},
                                args.fhir_delay_ms / 1000)
    fhir_base = f"http://127.0.0.1:{upstream.server_port}"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = bench_http.server_env(workdir, 8_000_000)
        env.update({"BACKPAIN_CDS_FHIR_SERVER_ALLOWLIST": fhir_base,
                    "BACKPAIN_CDS_ALLOW_HTTP_LOOPBACK": "1"})
        bench_http.migrate(env)
        for kind, body in bodies(fhir_base).items():
            body_file = workdir / f"{kind}.json"
            body_file.write_text(json.dumps(body))
            for worker_class, threads in CLASSES:
                env["GUNICORN_CMD_ARGS"] = f"--worker-class={worker_class} --threads={threads}"
                with bench_http.gunicorn(bench_http.SERVICE_APP, args.workers, env) as (base, _):
                    path = "/cds-services/back-pain-patient-view"
                    bench_http.run_wrk(base + path, body_file, args.connections, 2)  # warm
                    run = bench_http.run_wrk(base + path, body_file, args.connections,
                                             args.seconds)
                row = {"calls": kind, "worker_class": worker_class, "threads": threads, **run}
                results.append(row)
                print(f"{kind:10} {worker_class:7} threads={threads}: "
                      f"{run['throughput_rps']:7.1f} req/s  p50 {run['p50_ms']:6.1f} ms  "
                      f"p99 {run['p99_ms']:6.1f} ms  errors {run['errors']}", flush=True)
    upstream.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
