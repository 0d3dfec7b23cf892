"""A weight dated after today that shows a loss is checked first (CONS-01 2.17.0, IMG-01
1.13.0, IMG-04 1.12.0; the twenty-fourth session's closing note).

Weights are read for a loss within the weight-loss window up to now: 82 kg in November and
76 kg dated four days after today (a wrong date on the latest weight) showed no loss, and
the conservative card said "No red flag recorded in the last 14 days" (the imaging card on
an order hook, "Remove the draft ... no red flag"), though dated right the same weights
name a weight loss. Now the weight dated ahead leads the "Check the date of ..." card, as
a night pain or a fever temperature dated ahead does, named by what it shows and the
weight it is compared with."""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from tests.unit.core.test_fever_and_weight_loss_named import NOW, _cards, _measured, _patient
from tests.unit.core.test_imaging_over_red_flags import BACK_PAIN, DRAFT_MRI

EARLIER = "2025-11-02T09:00:00Z"
AHEAD = "2026-03-05T09:00:00Z"  # four days after NOW


def _weight(resource_id: str, when: str, kg: float, comparator: str | None = None
            ) -> dict[str, Any]:
    return _measured(resource_id, "29463-7", when, kg, "kg", comparator)


def test_a_weight_dated_ahead_that_shows_a_loss_leads_the_check_the_date_card() -> None:
    card = _cards(_weight("w1", EARLIER, 82), _weight("w2", AHEAD, 76))["conservative-care"]
    assert card["summary"] == ("Check the date of weight 76 kg, 82 kg on 2025-11-02: "
                               "recorded after today, not counted as a red flag")
    assert "Reassure" not in card["detail"]


def test_exactly_the_threshold_is_a_loss_and_a_fever_keeps_its_advice() -> None:
    """80 to 76 kg is 5.0 %: at the threshold, a loss; a fever of the window beside it keeps
    its re-assessment in the advice (the third review: the weight dated ahead led the card
    and "Fever with back pain: re-assess today" went)."""
    fever = _measured("temp", "8310-5", "2026-02-28T18:00:00Z", 38.6, "Cel")
    card = _cards(_weight("w1", EARLIER, 80), _weight("w2", AHEAD, 76), fever)[
        "conservative-care"]
    assert card["summary"].startswith("Check the date of weight 76 kg, 80 kg on 2025-11-02")
    assert "Fever with back pain: re-assess today" in card["detail"]


@pytest.mark.parametrize(("earlier", "ahead"), [
    (_weight("w1", EARLIER, 82), _weight("w2", AHEAD, 80)),  # 2.4 %: under the threshold
    (_weight("w1", EARLIER, 82), _weight("w2", AHEAD, 70, ">")),  # may be no loss
    (_weight("w1", EARLIER, 90, "<"), _weight("w2", AHEAD, 76)),  # no heaviest shown
    (_weight("w1", "2025-06-01T09:00:00Z", 82), _weight("w2", AHEAD, 76)),  # outside 182 d
])
def test_one_that_shows_no_loss_is_not_a_red_flag(earlier: dict[str, Any],
                                                  ahead: dict[str, Any]) -> None:
    card = _cards(earlier, ahead)["conservative-care"]
    assert card["summary"].startswith("Self-management, stay active")
    assert "No red flag recorded" in card["summary"]


def test_dated_right_the_same_weights_name_a_weight_loss_as_before() -> None:
    card = _cards(_weight("w1", EARLIER, 82),
                  _weight("w2", "2026-02-28T09:00:00Z", 76))["conservative-care"]
    assert card["summary"].startswith("Safety-net and re-assess: weight loss (82 to 76 kg)")


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_the_draft_imaging_is_not_called_unneeded_over_it(hook: str) -> None:
    request = HookRequest(hook=hook, patient_id="p",
                          resources=(_patient("1986-05-01"), BACK_PAIN,
                                     _weight("w1", EARLIER, 82), _weight("w2", AHEAD, 76)),
                          draft_orders=(DRAFT_MRI,))
    cards = to_json(evaluate(request, NOW).cards)
    (imaging,) = [c for c in cards if c["source"]["topic"]["code"] == "imaging-not-indicated"]
    assert imaging["indicator"] == "info"
    assert imaging["summary"].startswith("Check the date of weight 76 kg, 82 kg on 2025-11-02 "
                                         "before deciding on the spine imaging")
    assert "suggestions" not in imaging
