"""An aneurysm felt, written site first (UNCODED-VV, twenty-fourth session).

The twenty-second session read "Pulsatile abdominal mass" and "Pulsatile mass in the
abdomen" as a suspected aortic aneurysm, and its closing note listed "Central pulsatile
mass" as still missed: with back pain, the conservative card ("No red flag recorded") over
the sign of an aneurysm. The site may come first ("Central", "Epigastric", "Midline"), or
name the part of the abdomen ("in the central abdomen", "in the epigastric region"). A groin's or a
neck's pulsatile mass, a non-pulsatile one, or one denied or not felt, is not read, as
before; nor, since the second review of this change, one denied with "palpable" before it
("No palpable central pulsatile mass"; "No palpable pulsatile mass in the abdomen" was
read before too), or one placed elsewhere, after it or in a heading before it ("Central
pulsatile mass in the neck", "Neck: midline pulsatile mass"; "Pulsatile central mass in
the neck" was read before too)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.catalogue import RULES
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import local_problem, with_back_pain

ANEURYSM = (Topic.VISCERAL_OR_VASCULAR, "aortic aneurysm or dissection")

SITE_FIRST = [  # silent before
    "Central pulsatile mass", "central pulsatile masses", "Epigastric pulsatile mass",
    "Abdominal pulsatile mass", "Periumbilical pulsatile mass", "Midline pulsatile mass",
    "Pulsatile midline mass", "O/E midline pulsatile mass noted",
    "Epigastric region: central pulsatile mass", "Central pulsatile mass, 5 cm",
    "Central pulsatile mass - expansile",
    "Central expansile pulsatile mass", "Central palpable pulsatile mass",
    "Palpable central pulsatile mass", "Pulsatile mass in the central abdomen",
    "Pulsatile mass in the upper abdomen", "Pulsatile mass in the epigastric region",
    "Abdomen: central pulsatile mass", "Central pulsatile mass on examination",
]

NOT_READ = [  # not read before either
    "No central pulsatile mass", "Abdomen soft, no central pulsatile mass",
    "No epigastric pulsatile mass palpable", "Central pulsatile mass not felt",
    "Central pulsatile mass - not palpable", "Central non-pulsatile mass",
    "Central nonpulsatile mass", "Abdominal non pulsatile mass", "Central mass, not pulsatile",
    "Pulsatile mass in groin", "Neck pulsatile mass", "Pulsatile mass",
    "Denies central pulsatile mass",
    # the second review: "palpable" or "expansile" before the site is the phrase's
    "No palpable central pulsatile mass", "No expansile central pulsatile mass",
    "Soft, non-tender, no palpable central pulsatile mass",
    "No palpable epigastric pulsatile mass", "No palpable pulsatile mass in the central abdomen",
    "No palpable pulsatile mass in the abdomen",
    # ... and a mass placed elsewhere, after it or in a heading before it, is no aneurysm
    "Central pulsatile mass in the neck", "Central pulsatile mass in the groin",
    "Pulsatile central mass in the neck", "Midline pulsatile mass in the neck",
    "US neck: midline pulsatile mass", "Groin: central pulsatile mass",
    "Central pulsatile mass in the liver", "Pulsatile central mass in the breast",
    # the third review: other headings, and a site after a comma, a dash or a bracket
    "Thigh: central pulsatile mass", "Neck exam: central pulsatile mass",
    "Popliteal fossa: central pulsatile mass", "Central pulsatile mass, right groin",
    "Central pulsatile mass - neck", "Midline pulsatile mass (thyroid)",
    "Midline pulsatile mass at base of tongue",
]

STILL_READ = [  # read before and after
    "Pulsatile abdominal mass", "Pulsatile central mass", "Pulsatile mass in the abdomen",
    "Abdomen: expansile pulsatile epigastric mass",
    "Central pulsatile mass ?AAA",  # by its "AAA"
]


@pytest.mark.parametrize("text", SITE_FIRST + STILL_READ)
def test_a_pulsatile_abdominal_mass_is_read_as_a_suspected_aneurysm(text: str) -> None:
    assert ANEURYSM in suggested(text, closes_negated)


@pytest.mark.parametrize("text", NOT_READ)
def test_one_denied_not_felt_or_elsewhere_is_not(text: str) -> None:
    assert suggested(text, closes_negated) == ()


def _cards(text: str) -> dict[str, dict[str, object]]:
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(local_problem(text)))
    result = evaluate(request, datetime(2026, 3, 1, 10, tzinfo=UTC))
    return {c["source"]["topic"]["code"]: c for c in to_json(result.cards)}


def test_with_back_pain_it_warns_instead_of_reassuring() -> None:
    cards = _cards("Central pulsatile mass")
    assert set(cards) == {"visceral-or-vascular"}
    card = cards["visceral-or-vascular"]
    assert card["indicator"] == "warning"
    assert "aortic aneurysm or dissection" in str(card["summary"])
    version = next(r.version for r in RULES if r.id == "UNCODED-VV")
    assert f"_Rule UNCODED-VV v{version}._" in str(card["detail"])


def test_denied_it_leaves_the_conservative_card() -> None:
    assert set(_cards("No central pulsatile mass")) == {"conservative-care"}
