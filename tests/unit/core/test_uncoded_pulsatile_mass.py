"""An aneurysm felt, written site first (UNCODED-VV, twenty-fourth session) and in more
words (twenty-fifth session).

The twenty-second session read "Pulsatile abdominal mass" and "Pulsatile mass in the
abdomen" as a suspected aortic aneurysm, and its closing note listed "Central pulsatile
mass" as still missed: with back pain, the conservative card ("No red flag recorded") over
the sign of an aneurysm. The site may come first ("Central", "Epigastric", "Midline"), or
name the part of the abdomen ("in the central abdomen", "in the epigastric region"). A
groin's or a neck's pulsatile mass, a non-pulsatile one, or one denied or not felt, is not
read, as before; nor, since the second review of this change, one denied with "palpable"
before it ("No palpable central pulsatile mass"; "No palpable pulsatile mass in the
abdomen" was read before too), or one placed elsewhere, after it or in a heading before it
("Central pulsatile mass in the neck", "Neck: midline pulsatile mass"; "Pulsatile central
mass in the neck" was read before too). The twenty-fifth session reads more words ("Abdo:
pulsatile mass", "Pulsating abdominal mass", "Pulsatile mass felt in the epigastrium") and
no longer a mass the examiner could not feel ("Unable to palpate a pulsatile abdominal
mass")."""

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

# the twenty-fifth session (the twenty-fourth's closing note and a probe of common
# phrasings): silent before
MORE_WORDS = [
    "Abdo: pulsatile mass", "Abdomen: pulsatile mass", "Abdominal exam: pulsatile mass",
    "Abdo exam: pulsatile mass palpable", "Abdo - pulsatile mass", "Abdo soft, pulsatile mass",
    "Abdo: soft, non-tender, pulsatile mass", "Pulsatile abdo mass",
    "Pulsatile mass felt in the epigastrium", "Pulsatile mass palpable in the epigastrium",
    "Pulsatile mass palpated in the abdomen", "Pulsatile mass above umbilicus",
    "Pulsatile mass in the periumbilical area", "Pulsatile mass periumbilical",
    "Pulsatile mass centrally", "Pulsatile mass felt centrally",
    "Central, pulsatile mass", "Central, pulsatile, expansile mass",
    "Pulsatile swelling in the abdomen", "Pulsatile abdominal swelling",
    "Pulsating abdominal mass", "Pulsating mass in the abdomen", "Expansile abdominal mass",
    "Expansile mass in the abdomen", "Pulsatile and expansile abdominal mass",
]

NOT_FELT_OR_ELSEWHERE = [  # the first three were read before
    "Could not feel a central pulsatile mass", "Unable to palpate a pulsatile abdominal mass",
    "Central pulsatile mass felt in neck",
    "Central pulsatile mass not appreciated", "Did not detect any pulsatile abdominal mass",
    "Failed to palpate pulsatile mass in the abdomen", "Abdo: no pulsatile mass",
    "Abdo: SNT, no pulsatile mass", "Abdominal exam: no palpable pulsatile mass",
    "Abdo: non-pulsatile mass", "Abdo: soft, non tender, pulsatile mass absent",
    "Abdomen: pulsatile mass in the groin", "Abdo: soft, pulsatile mass in RIF",
    "Abdo: pulsatile mass over the liver", "Pulsatile mass in the abdominal wall",
    "Pulsatile mass felt in the groin", "Pulsatile mass centrally in the neck",
    "Midline pulsatile swelling of the neck", "Pulsatile swelling in the neck",
    "Pulsating groin mass", "No pulsating abdominal mass", "No expansile abdominal mass",
    "Expansile lytic lesion", "Expansile mass in the abdomen not felt",
    "Pulsatile mass epigastric? No",
    # the independent review: a heading's answer, a denial reaching the place, other sites
    "Abdo: SNT, pulsatile mass: no", "Abdo: soft, pulsatile mass: none",
    "Abdo: SNT, pulsatile mass - no", "Abdo: SNT, pulsatile mass? No",
    "Abdo soft, non-tender, pulsatile mass ? N", "No tender pulsatile mass felt centrally",
    "No pulsatile abdo mass felt centrally", "Abdo: soft, pulsatile mass right groin",
    "Abdo: SNT, pulsatile mass R groin post angiogram",
    "Abdo: soft, pulsatile mass RIF (known renal transplant)",
    "Abdo: pulsatile mass right iliac fossa", "Abdo: pulsatile mass, ?transplant kidney",
    "Abdo: pulsatile mass in RUQ", "Abdo: pulsatile mass suprapubic",
    "Pulsatile mass in midline neck", "Expansile mass in the abdomen wall",
    "Abdo: pulsatile mass behind knee", "Abdo: pulsatile mass at AV fistula",
    "Abdo: pulsatile mass on PR",
]

STILL_READ = [  # read before and after
    "Pulsatile abdominal mass not appreciated previously, now obvious",  # not at its end
    "Patient could not feel a pulsatile abdominal mass but GP did",  # a contrast after
    # the third review: a site after a comma, a dash or a bracket starts the next finding
    "Pulsatile abdominal mass, PR normal", "Abdo: pulsatile mass, PR normal tone",
    "Central pulsatile mass, knee jerks brisk", "Pulsatile abdominal mass, LIF tender",
    "Expansile pulsatile abdominal mass - RIF pain", "Tender pulsatile abdominal mass (graft 2019)",
    "Pulsatile abdominal mass chest clear",
    # the fourth review: a site followed by more is the next finding
    "Pulsatile abdominal mass groin pain", "Pulsatile abdominal mass femoral pulses weak",
    "Pulsatile abdominal mass, femoral pulses absent", "Pulsatile abdominal mass, chest clear",
    "Pulsatile abdominal mass (groin pulses present)",
    "Pulsatile epigastric mass, left leg numb",
    "Pulsatile abdominal mass", "Pulsatile central mass", "Pulsatile mass in the abdomen",
    "Abdomen: expansile pulsatile epigastric mass",
    "Central pulsatile mass ?AAA",  # by its "AAA"
]


@pytest.mark.parametrize("text", SITE_FIRST + MORE_WORDS + STILL_READ)
def test_a_pulsatile_abdominal_mass_is_read_as_a_suspected_aneurysm(text: str) -> None:
    assert ANEURYSM in suggested(text, closes_negated)


@pytest.mark.parametrize("text", NOT_READ + NOT_FELT_OR_ELSEWHERE)
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


def test_under_the_abdomens_heading_it_warns() -> None:
    """An abdominal examination written as a heading and its findings: the mass is the
    abdomen's (before: the conservative card)."""
    assert set(_cards("Abdo: soft, non-tender, pulsatile mass")) == {"visceral-or-vascular"}


def test_a_mass_the_examiner_could_not_feel_leaves_the_conservative_card() -> None:
    assert set(_cards("Unable to palpate a pulsatile abdominal mass")) == {"conservative-care"}


def test_a_known_aneurysm_not_palpable_is_still_one() -> None:
    """"Unable to palpate" is read before a mass only: it says nothing of a known aneurysm."""
    assert ANEURYSM in suggested("Known AAA, unable to palpate due to habitus", closes_negated)
    assert ANEURYSM in suggested("Unable to palpate AAA (obese)", closes_negated)
