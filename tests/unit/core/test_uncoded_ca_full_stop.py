""""Ca. prostate": a site's cancer written with a full stop after "Ca" was silent (the
sentence reader cut at the stop: the tenth session's note). UNCODED-MAL 1.9.0 reads it in
a second reading that adds the cancer history only: every sign the sentence-by-sentence
reading finds stands, so a denial or an exclusion in one sentence never reaches into the
next (an independent review found a first version that joined the sentences silencing
"Family history of ca. Bowel incontinence")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.catalogue import RULES
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import LOCAL, local_problem, with_back_pain

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
CANCER = (Topic.MALIGNANCY, "cancer")
RETENTION = (Topic.CAUDA_EQUINA, "urinary retention")


@pytest.mark.parametrize("text", [
    "Ca. prostate",
    "Ca. prostate on hormones",
    "CA. of the breast",
    "Hx: Ca. breast 2015",
    "ca.prostate",
    "Ca. bowel, resected 2019",
    "PMH: Ca. breast 2015, Ca. bowel 2019",
    "Ca. prostate T3N0M0",
    # what follows the site in a history (the second review)
    "Ca. Prostate (Gleason 7)",
    "Ca. lung (NSCLC)",
    "Ca. breast - WLE 2015",
    "Ca. breast in remission",
    "Ca. prostate dx 2018",
    # the third review: a treatment or a side after the site
    "Ca. prostate radiotherapy 2019",
    "Ca. prostate RT 2019",
    "Ca. prostate ADT",
    "Ca. prostate PSA 0.1",
    "Ca. prostate hormone therapy",
    "Ca. prostate active surveillance",
    "Ca. breast left 2015",
    "Ca. breast R WLE 2010",
    "Ca. breast mastectomy 2012",
    "Ca. bowel hemicolectomy 2018",
    "Ca. lung chemo 2024",
])
def test_a_site_after_the_stop_is_a_cancer_history(text: str) -> None:
    assert CANCER in suggested(text, closes_negated)


@pytest.mark.parametrize("text", [
    "No Ca. prostate",
    "Family history of Ca. breast",
    "Ca. 2.4 mmol/L",  # calcium, no site follows
    "ca. 2010 back injury",  # circa
    "Corrected Ca. 2.61",
])
def test_a_denial_or_another_meaning_stays_quiet(text: str) -> None:
    assert suggested(text, closes_negated) == ()


# The review's strings: the sign of the second sentence was read before the change and
# must still be; a first version that joined the sentences lost each of them.
SECOND_SENTENCE_SIGNS = [
    ("Family history of ca. Bowel incontinence", Topic.CAUDA_EQUINA, "faecal incontinence"),
    ("No family history of ca. Bowel incontinence", Topic.CAUDA_EQUINA,
     "faecal incontinence"),
    ("Family history of ca. Bladder: retention today", Topic.CAUDA_EQUINA,
     "urinary retention"),
    ("FH of ca. Bladder dysfunction since Monday", Topic.CAUDA_EQUINA,
     "bladder or bowel dysfunction"),
    ("FH of Ca. Bowel incontinence overnight", Topic.CAUDA_EQUINA, "faecal incontinence"),
    ("Family history of CA. Rectal tone reduced", Topic.CAUDA_EQUINA,
     "loss of anal tone or rectal sensation"),
    ("Screening for ca. Bowel incontinence", Topic.CAUDA_EQUINA, "faecal incontinence"),
    ("Fear of ca. Bladder dysfunction", Topic.CAUDA_EQUINA, "bladder or bowel dysfunction"),
    ("Non-melanoma skin ca. Prostate cancer 2019", Topic.MALIGNANCY, "cancer"),
    ("Non-melanoma skin ca. Prostate ca on hormones", Topic.MALIGNANCY, "cancer"),
    ("Rodent ulcer - ca. Breast carcinoma 2010", Topic.MALIGNANCY, "cancer"),
    ("In situ ca. Colon cancer 2019", Topic.MALIGNANCY, "cancer"),
    ("Hx breast ca. Cervical carcinoma in situ 2001", Topic.MALIGNANCY, "cancer"),
    ("Prostate ca. Bladder ca in situ", Topic.MALIGNANCY, "cancer"),
    ("Bowel ca. Breast: BCC", Topic.MALIGNANCY, "cancer"),
]


@pytest.mark.parametrize(("text", "topic", "sign"), SECOND_SENTENCE_SIGNS)
def test_a_denial_or_exclusion_never_reaches_the_next_sentence(text: str, topic: Topic,
                                                               sign: str) -> None:
    assert (topic, sign) in suggested(text, closes_negated)


@pytest.mark.parametrize("text", [
    "Bloods: Na, K, Ca. Renal function normal",
    "Na 140, K 4.1, Ca. Renal function stable",
    "Adj Ca. Kidney function normal",
    "Serum Ca. Bladder scan residual 200",
    "Lives in CA. Kidney stones",
    "Moved from CA. Lung function normal",
    "Ca. Bladder scan 600 ml",
    "PR ca. Rectal exam: normal tone",
    "Hx Ca. Cervical spondylosis",
    "No ca. Kidney stones",
    "No ca. Renal colic",
    "Ca.\nprostate",  # a line break is a boundary, as in every other sentence
    # a calcium list, then an organ (the second review)
    "Bloods: FBC, U&E, LFT, Ca. Prostate normal size on PR",
    "TFTs, Ca. Thyroid normal",
    "Bloods: Na, K, Ca. Breast lump 2cm",
    "Ca. Renal angle tenderness",
    "Lives in CA. Kidney transplant 2010",
    "Ca. Bowel movement normal",
    "Ca. Gastric reflux",
])
def test_no_cancer_where_the_site_starts_another_statement(text: str) -> None:
    assert all(topic is not Topic.MALIGNANCY for topic, _ in suggested(text, closes_negated))


def test_the_stop_still_ends_a_sentence_when_no_site_follows() -> None:
    # Joined to the denial before it, the retention would be read as denied.
    assert RETENTION in suggested("No breast ca. Urinary retention since Monday",
                                  closes_negated)
    assert suggested("Breast ca. Urinary retention", closes_negated) == (CANCER, RETENTION)


def test_the_card_warns_instead_of_reassuring() -> None:
    cards = evaluate(HookRequest(hook="patient-view", patient_id="p",
                                 resources=with_back_pain(local_problem("Ca. prostate"))),
                     NOW).cards
    shown = [(c.topic, c.indicator, c.summary) for c in cards]
    assert ("malignancy", "warning", "Check the record: uncoded entry suggests cancer") in shown
    assert all(topic != "conservative-care" for topic, _, _ in shown)


def test_the_rule_that_reads_more_carries_a_new_version() -> None:
    rule = next(r for r in RULES if r.id == "UNCODED-MAL")
    # thirteenth session (test_denial_names_the_finding.py), then a known code's display
    # (test_known_code_display.py), then the twenty-second session's words
    # (test_uncoded_misread_words.py), then a question answered no (twenty-fifth session,
    # test_question_answered_no.py), then a patch (test_question_answered_no_after_blanks.py),
    # then a minor (the entries' notes: test_entry_notes.py)
    assert rule.version == "1.14.1"
    assert "1.9.0: read also a site's cancer written with a full stop" in rule.changes
    assert "1.8.1: no change in what is read" in rule.changes


def _observation_cards(code_text: str, value: str, component: str) -> list[tuple[str, str]]:
    observation = {
        "resourceType": "Observation", "id": "o1", "status": "final",
        "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
        "code": {"coding": [{"system": LOCAL, "code": "X1", "display": code_text}]},
        "valueString": value,
        "component": [{"code": {"coding": [{"system": LOCAL, "code": "C1",
                                            "display": component}]}}],
    }
    cards = evaluate(HookRequest(hook="patient-view", patient_id="p",
                                 resources=with_back_pain(observation)), NOW).cards
    return sorted((c.topic, c.indicator) for c in cards)


@pytest.mark.parametrize(("code_text", "value", "component", "topic"), [
    ("Ca. prostate follow-up", "No new bone pain", "Urinary retention", "cauda-equina"),
    ("Ca. breast surveillance", "No new lumps", "New urinary retention", "cauda-equina"),
    ("Hx Ca. breast", "No pain", "Foot drop", "progressive-neurological-deficit"),
])
def test_a_denying_value_does_not_silence_the_entrys_other_words(
        code_text: str, value: str, component: str, topic: str) -> None:
    # The second review: with "Ca. prostate" read as naming a sign, the value "No ... pain"
    # was taken to answer for the whole entry and its component's sign was lost (the
    # conservative card followed). The code's own question reads sentence by sentence.
    cards = _observation_cards(code_text, value, component)
    assert (topic, "warning") in cards
    assert all(t != "conservative-care" for t, _ in cards)
