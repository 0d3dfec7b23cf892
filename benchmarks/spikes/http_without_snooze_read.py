"""Spike (issue 15): what the snooze read costs a card call over HTTP.

Not part of ``make bench``: ``python -m benchmarks.spikes.http_without_snooze_read``. It
runs ``make bench``'s HTTP comparison (gunicorn, 2 workers, wrk c=8, the small scenario
with and without its card, bare Flask) twice, in turn: the service as shipped, then the
service with ``Snoozes.snoozed_cards`` answering "nothing hidden" without reading the
snooze counter (``BACKPAIN_SPIKE_NO_SNOOZE_READ``, read by this module's ``_make_app``,
which gunicorn calls in place of ``service.app:create_app()``). The difference in server CPU per
card call is what the per-call counter read costs under load; the card-less call never
reads it. A measurement only: a service without the read would miss a snooze committed
on another worker or replica just before a call.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from benchmarks import http, inputs

SPIKE_FLAG = "BACKPAIN_SPIKE_NO_SNOOZE_READ"


def _make_app() -> Any:
    """The service, its snooze read switched off when the flag is set (gunicorn's app)."""
    from service.app import create_app
    from service.store import snoozes

    if os.environ.get(SPIKE_FLAG):
        snoozes.Snoozes.snoozed_cards = lambda self, call: []  # type: ignore[method-assign]
    return create_app()


def compare(without_read: bool) -> dict[str, Any]:
    shipped_app, shipped_env = http.SERVICE_APP, http.server_env
    http.SERVICE_APP = "benchmarks.spikes.http_without_snooze_read:_make_app()"

    def env(*args: Any, **kwargs: Any) -> dict[str, str]:
        values = shipped_env(*args, **kwargs)
        values["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        if without_read:
            values[SPIKE_FLAG] = "1"
        return values

    http.server_env = env  # type: ignore[assignment]
    try:
        service, small = inputs.small_bodies(inputs.NOW)
        return http.http_comparison(f"/cds-services/{service}", small, workers=2,
                                    connections=8, seconds=5, rounds=3, memory_body=None)
    finally:
        http.SERVICE_APP, http.server_env = shipped_app, shipped_env  # type: ignore[assignment]


def main() -> int:
    if not http.wrk_available():
        print("wrk is not installed (make install-system)", file=sys.stderr)
        return 1
    for _ in range(2):
        for without_read in (False, True):
            result = compare(without_read)
            cpu = {name: result[name].get("server_cpu_ms_per_call")
                   for name in ("cards", "card_less", "bare_flask")}
            print("without the snooze read" if without_read else "as shipped",
                  f"throughput / bare Flask {result['throughput_ratio_to_ceiling']}",
                  f"CPU card / card-less {result['cpu_ratio_cards_to_card_less']}",
                  f"server CPU ms per call {cpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
