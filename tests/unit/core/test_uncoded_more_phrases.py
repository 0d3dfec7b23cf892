"""Red flags in clinicians' shorthand that the uncoded reader left silent (listed in the
ninth session's notes): perineal paraesthesia, reduced sphincter tone on rectal
examination, conus medullaris syndrome, paraparesis, Lhermitte's sign, "bone mets" and
"breast ca", and a vertebral fracture named by its level ("L1 crush fracture").
UNCODED-CES / CORD / NEURO 1.9.0, UNCODED-MAL 1.8.0, UNCODED-FRAC 1.7.0."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.catalogue import RULES
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import local_problem, with_back_pain

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

NAMED = [  # (text, topic, sign on the card): each silent before
    ("Perineal paraesthesia", Topic.CAUDA_EQUINA, "perineal or perianal numbness"),
    ("Perianal tingling since Tuesday", Topic.CAUDA_EQUINA, "perineal or perianal numbness"),
    ("Perineal hypoaesthesia", Topic.CAUDA_EQUINA, "perineal or perianal numbness"),
    ("Rectal exam: decreased sphincter tone", Topic.CAUDA_EQUINA,
     "loss of anal tone or rectal sensation"),
    ("Reduced sphincter tone on PR", Topic.CAUDA_EQUINA, "loss of anal tone or rectal sensation"),
    ("Sphincter tone: reduced", Topic.CAUDA_EQUINA, "loss of anal tone or rectal sensation"),
    ("Rectal examination - lax tone", Topic.CAUDA_EQUINA,
     "loss of anal tone or rectal sensation"),
    ("Conus medullaris syndrome", Topic.CAUDA_EQUINA, "conus medullaris syndrome"),
    ("?Conus compression", Topic.CAUDA_EQUINA, "conus medullaris syndrome"),
    ("Lhermitte's sign positive", Topic.SPINAL_CORD_COMPRESSION, "Lhermitte's sign"),
    ("Lhermitte phenomenon on neck flexion", Topic.SPINAL_CORD_COMPRESSION, "Lhermitte's sign"),
    ("Spastic paraparesis", Topic.SPINAL_CORD_COMPRESSION, "spastic paraparesis"),
    ("Paraparesis", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, "leg weakness"),
    ("Progressive quadriparesis", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, "leg weakness"),
    ("Bone mets", Topic.MALIGNANCY, "cancer"),
    ("Mets to spine", Topic.MALIGNANCY, "cancer"),
    ("Hx breast ca", Topic.MALIGNANCY, "cancer"),
    ("Breast ca 2015, mastectomy", Topic.MALIGNANCY, "cancer"),
    ("Ca prostate on hormones", Topic.MALIGNANCY, "cancer"),
    ("L1 crush fracture", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Burst fracture L1", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Fracture of L2 vertebra", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("T12 vertebral body fracture", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Fractured vertebra after fall", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    # the tenth session's review of these phrases (529 strings): more of the same signs
    ("Compression of the conus", Topic.CAUDA_EQUINA, "conus medullaris syndrome"),
    ("Peri-anal tingling", Topic.CAUDA_EQUINA, "perineal or perianal numbness"),
    ("Perianal pins & needles", Topic.CAUDA_EQUINA, "perineal or perianal numbness"),
    ("Saddle tingling", Topic.CAUDA_EQUINA, "saddle anaesthesia"),
    ("Sphincter tone: lax", Topic.CAUDA_EQUINA, "loss of anal tone or rectal sensation"),
    ("Anal tone lax", Topic.CAUDA_EQUINA, "loss of anal tone or rectal sensation"),
    ("Lytic mets", Topic.MALIGNANCY, "cancer"),
    ("Lytic lesion ?mets", Topic.MALIGNANCY, "cancer"),
    ("Mets to lumbar spine", Topic.MALIGNANCY, "cancer"),
    ("Breast ca 2.5cm, WLE 2019", Topic.MALIGNANCY, "cancer"),
    ("Renal cell ca", Topic.MALIGNANCY, "cancer"),
    ("L1 #", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Fx L1", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Closed fracture of lumbar vertebra", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Spinal fracture", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("Vertebral collapse", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
    ("L3 transverse process fracture", Topic.FRACTURE, "vertebral fracture or osteoporosis"),
]

NOT_NAMED = [  # denials, normal findings and other meanings of the same words
    "No perineal paraesthesia",
    "Perianal tingling: denies",
    "Sphincter tone normal",
    "Rectal exam: normal tone",
    "Lower oesophageal sphincter tone: reduced",
    "Reduced lower oesophageal sphincter tone",
    "Urethral sphincter tone reduced",
    "The conus terminates at L1",
    "Conus medullaris normal in position",
    "No Lhermitte's",
    "Lhermitte sign negative",
    "Hereditary spastic paraparesis",
    "4 METs exercise tolerance",
    "Ca 2.4 mmol/L",
    "Corrected Ca 2.61",
    "Ca channel blocker",
    "CA 125 raised",
    "Renal Ca 2.1",
    "Family history of breast ca",
    "No bone mets",
    "T1 weighted images show no fracture",
    "No fracture of L1",
    "Crush injury to finger",
    # the tenth session's review: "L" is left, a fingertip is no vertebra, -ve is negative
    "Fracture L5 metacarpal",
    "Fracture of L5 metatarsal",
    "Fracture L1 finger",
    "Crush fracture of distal phalanx",
    "Crush fracture of toe",
    "Lhermitte's -ve",
    "Negative Lhermitte's",
    "Lhermitte's and Hoffmann's signs negative",
    "Urinary sphincter tone reduced",
    "Pyloric sphincter tone reduced",
    "Rectal exam: no sphincter weakness",
    "Spastic paraparesis, hereditary",
    "Renal Ca 3 mmol/L",
    "ECG normal, METs 8",
    "Ca2+ 2.3",
]


@pytest.mark.parametrize(("text", "topic", "sign"), NAMED)
def test_the_sign_is_read(text: str, topic: Topic, sign: str) -> None:
    assert (topic, sign) in suggested(text, closes_negated)


@pytest.mark.parametrize("text", NOT_NAMED)
def test_a_denial_or_another_meaning_stays_quiet(text: str) -> None:
    assert suggested(text, closes_negated) == ()




def _cards(text: str) -> list[tuple[str, str, str]]:
    result = evaluate(HookRequest(hook="patient-view", patient_id="p",
                                  resources=with_back_pain(local_problem(text))), NOW)
    return [(c.topic, c.indicator, c.summary) for c in result.cards]


@pytest.mark.parametrize(("text", "topic", "sign"), [
    ("Rectal exam: decreased sphincter tone", "cauda-equina",
     "loss of anal tone or rectal sensation"),
    ("Lhermitte's sign positive", "spinal-cord-compression", "Lhermitte's sign"),
    ("Hx breast ca", "malignancy", "cancer"),
    ("L1 crush fracture", "fracture", "vertebral fracture or osteoporosis"),
])
def test_the_card_warns_instead_of_reassuring(text: str, topic: str, sign: str) -> None:
    cards = _cards(text)
    assert (topic, "warning", f"Check the record: uncoded entry suggests {sign}") in cards
    assert all(t != "conservative-care" for t, _, _ in cards)


def test_the_rules_that_read_more_carry_a_new_version() -> None:
    versions = {r.id: r.version for r in RULES}
    changes = {r.id: r.changes for r in RULES}
    # the shorthand's minor versions, each one patch on (eleventh session: no change in
    # meaning, cds_rules/CHANGELOG.md), then every family one minor on (thirteenth
    # session: a denial answers only for the finding it names,
    # test_denial_names_the_finding.py)
    for rule in ("UNCODED-CES", "UNCODED-CORD", "UNCODED-NEURO"):
        # one minor further (fourteenth session: "No bilateral knee pain" for CES; a denial
        # of another part's weakness or numbness for all three)
        # and a known code's display (twenty-first), and the twenty-second session's words
        # (and CES and NEURO one further: the twenty-fourth session's words), and a
        # question answered no (twenty-fifth session, test_question_answered_no.py), and
        # CES a post-void residual (twenty-sixth session, test_residual_urine.py; more of its
        # forms: twenty-eighth), and a patch for all (an answer after two blanks, twenty-eighth),
        # and a minor for all (the entries' notes, thirtieth session, test_entry_notes.py), and
        # a patch (a denial of the present: test_denial_of_the_present.py)
        assert versions[rule] == {"UNCODED-CORD": "1.15.1", "UNCODED-CES": "1.19.1"}.get(
            rule, "1.16.1")
        assert "1.9.1: no change in what is read" in changes[rule]
        assert "1.9.0: read also" in changes[rule]
    # UNCODED-MAL moved on to 1.9.0 ("Ca. prostate", test_uncoded_ca_full_stop.py) after
    # its 1.8.1
    # and a known code's display, and words, and a question answered no (twenty-fifth)
    assert versions["UNCODED-MAL"] == "1.14.1"  # and the notes (thirtieth session)
    assert "1.8.1: no change in what is read" in changes["UNCODED-MAL"]
    # FRAC and VV one minor further (fourteenth session: a denial names osteoporosis and a
    # fracture apart, an aneurysm and a dissection apart)
    assert versions["UNCODED-FRAC"] == "1.13.1"  # and the same two, a question, the notes
    after_words = changes["UNCODED-FRAC"].split("1.10.0: ", 1)[1]
    assert after_words.startswith("the display of a code the value sets know is read too")
    assert ("1.9.0: a denial in an Observation's value names osteoporosis and a vertebral "
            "fracture") in changes["UNCODED-FRAC"]
    assert "1.8.0: a sentence in an Observation's value" in changes["UNCODED-FRAC"]
    assert "1.7.1: no change in what is read" in changes["UNCODED-FRAC"]
    # no shorthand for INF and VV: their patch versions, then the twelfth session's phrases
    # (test_uncoded_review_phrases.py)
    # (and VV one minor further: the twenty-fourth session's site-first pulsatile mass;
    # both one further: the twenty-fifth session's question answered no)
    # and the notes (thirtieth session)
    assert (versions["UNCODED-INF"], versions["UNCODED-VV"]) == ("1.14.1", "1.15.1")
    assert "1.9.0: a sentence in an Observation's value" in changes["UNCODED-VV"]
    assert changes["UNCODED-INF"].split("1.8.1: no change in what is read")[1].startswith(
        " or when it warns: a family with no uncoded hint stops before working out its "
        "window (issue 15). 1.8.0: read also 'Spondylodiscitis'")
    assert "1.7.1: no change in what is read" in changes["UNCODED-VV"]
    assert all("shorthand" not in changes[rule] for rule in ("UNCODED-INF", "UNCODED-VV"))
