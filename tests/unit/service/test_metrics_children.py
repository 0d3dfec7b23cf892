"""metrics.labelled: a metric's child found once per process is the child
``labels()`` gives, and real calls still count once each through it."""

from __future__ import annotations

from prometheus_client import REGISTRY

import fhir_samples
from service import metrics
from tests.helpers import make_test_app

SCENARIO = fhir_samples.load("cc-acute-lbp-snomed")
SERVICE = f"back-pain-{SCENARIO.hook}"


def test_the_child_is_the_one_labels_gives() -> None:
    assert metrics.labelled(metrics.REQUESTS, SERVICE, SCENARIO.hook, "200") \
        is metrics.REQUESTS.labels(service=SERVICE, hook=SCENARIO.hook, status="200")
    assert metrics.labelled(metrics.CARDS, "conservative-care", "info") \
        is metrics.CARDS.labels(topic="conservative-care", indicator="info")
    assert metrics.labelled(metrics.REQUESTS, SERVICE, SCENARIO.hook, "404") \
        is not metrics.labelled(metrics.REQUESTS, SERVICE, SCENARIO.hook, "200")


def test_each_call_is_counted_once_with_its_labels_and_cards() -> None:
    client = make_test_app(clock=lambda: SCENARIO.now).test_client()

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok = {"service": SERVICE, "hook": SCENARIO.hook, "status": "200"}
    bad = {**ok, "status": "400"}
    latency = {"service": SERVICE, "hook": SCENARIO.hook}
    before = (sample("backpain_cds_requests_total", **ok),
              sample("backpain_cds_requests_total", **bad),
              sample("backpain_cds_request_seconds_count", **latency))
    cards_before = sample("backpain_cds_cards_total", topic="conservative-care",
                          indicator="info")
    answers = [client.post(f"/cds-services/{SERVICE}", json=SCENARIO.request_body())
               for _ in range(3)]
    assert client.post(f"/cds-services/{SERVICE}", json={"hook": 1}).status_code == 400
    assert all(a.status_code == 200 for a in answers)
    cards = sum(1 for a in answers for c in a.get_json()["cards"]
                if c["source"]["topic"]["code"] == "conservative-care" and c["indicator"] == "info")
    assert cards > 0
    assert sample("backpain_cds_requests_total", **ok) == before[0] + 3
    assert sample("backpain_cds_requests_total", **bad) == before[1] + 1
    assert sample("backpain_cds_request_seconds_count", **latency) == before[2] + 4
    assert sample("backpain_cds_cards_total", topic="conservative-care",
                  indicator="info") == cards_before + cards
