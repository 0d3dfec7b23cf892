"""The decisions of the clinical review (December 2026, CLINICAL.md) at rule level: facts
in, findings and cards out. Each test would fail if the decision were undone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from cds_rules import to_json
from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import (
    NOW,
    card,
    fact,
    obs,
    order,
    patient,
    run,
    suggested_orders,
    topics,
)

DRAFT = "ServiceRequest/draft-mri"


def _draft() -> object:
    return order("spine_mri", "draft", ref=DRAFT)


def _month_only(concept: str, month_start: datetime) -> object:
    """A fact dated only by month ("2026-11"): first instant and last instant."""
    nxt = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    base = fact(concept, (NOW - month_start).total_seconds() / 86400)
    return replace(base, when=month_start, when_latest=nxt - timedelta(microseconds=1))


# ---------------------------------------------------------------- deceased patients


def test_deceased_patient_gets_no_cards_even_with_an_emergency() -> None:
    record = patient(fact("urinary_retention", 1))
    assert topics(run(record))["cauda-equina"] == "critical"
    record.deceased = True
    assert to_json(run(record).cards) == []


# ---------------------------------------------------------------- never contradict


def test_repeat_imaging_stands_down_with_a_red_flag_even_before_the_study() -> None:
    """ces-plus-recent-mri: new incontinence, an MRI yesterday, a new MRI drafted."""
    record = patient(fact("faecal_incontinence", 2), orders=(
        _draft(), order("spine_mri", "completed", 1)))
    result = run(record, "order-select", selections=(DRAFT,))
    assert topics(result) == {"cauda-equina": "critical"}
    actions = [a for c in result.cards for s in c.suggestions for a in to_json(s.actions)]
    assert all(a["type"] != "delete" for a in actions)


def test_repeat_imaging_never_offers_delete_while_a_red_flag_fact_is_current() -> None:
    """A current red-flag fact that fires no family (an old cancer history is MAL-01, so use
    a weight-loss Condition older than its window): the repeat card stays, without delete."""
    record = patient(fact("weight_loss", 400), orders=(
        _draft(), order("spine_mri", "completed", 100)))
    result = run(record, "order-sign")
    assert topics(result) == {"repeat-imaging": "info"}
    repeat = card(result, "repeat-imaging")
    assert "no red flag recorded since" in repeat["summary"]
    assert not any(a["type"] == "delete" for s in repeat.get("suggestions", [])
                   for a in s["actions"])


def test_red_flag_dated_by_month_after_an_mri_that_month_is_new() -> None:
    """Near miss (open question d): retention "2026-11" vs an MRI on 15 November: it may be
    after the study, so no "do not repeat" card."""
    month = datetime(2026, 11, 1, tzinfo=NOW.tzinfo)
    flag = replace(_month_only("weight_loss", month), when=month)
    study = order("spine_mri", "completed", (NOW - datetime(2026, 11, 15,
                                                            tzinfo=NOW.tzinfo)).days)
    result = run(patient(flag, orders=(_draft(), study)), "order-sign")
    assert "repeat-imaging" not in topics(result)
    exact_before = replace(flag, when_latest=None)
    assert "repeat-imaging" in topics(run(patient(exact_before, orders=(_draft(), study)),
                                          "order-sign"))


def test_one_imaging_suggestion_per_response_carried_by_the_most_urgent_card() -> None:
    """New incontinence (CES critical: MRI lumbar stat) with a cancer history (MAL-01
    warning: MRI with and without contrast): one MRI, on the critical card; the malignancy
    card refers to it instead of suggesting a second study."""
    record = patient(fact("urinary_incontinence", 2), fact("cancer", 900, history=True))
    result = run(record)  # CES, MSCC (cord) and malignancy fire
    imaging = [t for c in to_json(result.cards) for t in suggested_orders(c)
               if "MRI" in t or "X-ray" in t]
    assert len(imaging) == 1
    carrier = [c for c in to_json(result.cards) if any("MRI" in t for t in suggested_orders(c))]
    assert carrier[0]["indicator"] == "critical"
    referring = [c for c in to_json(result.cards)
                 if "which carries the one imaging study" in c["detail"]]
    assert {c["source"]["topic"]["code"] for c in referring} | {
        carrier[0]["source"]["topic"]["code"]} == {c["source"]["topic"]["code"]
                                                   for c in to_json(result.cards)}


def test_whole_spine_mri_carries_when_cauda_equina_and_mscc_tie() -> None:
    """Both critical and stat: the whole-spine MRI (MSCC) covers the lumbar spine."""
    record = patient(fact("urinary_incontinence", 2), fact("cancer", 900, history=True))
    result = run(record)
    cord = card(result, "spinal-cord-compression")
    assert "MRI whole spine (cervical, thoracic, lumbar) without contrast" in \
        suggested_orders(cord)
    assert not any("MRI" in t for t in suggested_orders(card(result, "cauda-equina")))


def test_single_imaging_keeps_a_lone_imaging_card_whole() -> None:
    result = run(patient(fact("osteoporosis", 900)))
    assert "X-ray lumbar spine" in suggested_orders(card(result, "fracture"))
    assert "which carries" not in card(result, "fracture")["detail"]


def test_why_lists_each_source_resource_once() -> None:
    one = fact("cancer", 900)
    twin = replace(fact("bone_metastasis", 900), source=one.source)
    result = run(patient(one, twin))
    detail = card(result, "malignancy")["detail"]
    assert detail.count(f"`{one.source}`") == 1


# ---------------------------------------------------------------- reassurance


def test_conservative_care_says_what_was_checked_and_safety_nets_ces() -> None:
    found = card(run(patient()), "conservative-care")
    assert "no red flags" not in found["summary"].lower()
    assert "No red flag recorded in the last 14 days (coded data)" in found["summary"]
    assert "https://www.nhs.uk/conditions/cauda-equina-syndrome/" in [
        link["url"] for link in found["links"]]
    assert "Safety-net for cauda equina syndrome" in found["detail"]
    wider = card(run(patient(), settings=RuleSettings(cauda_equina_window_days=21)),
                 "conservative-care")
    assert "in the last 21 days" in wider["summary"]


def test_conservative_card_names_a_weak_red_flag_instead_of_claiming_none() -> None:
    """Night pain alone at 40 fires no family: the card must not say 'No red flag'."""
    found = card(run(patient(fact("night_pain", 3), age=40)), "conservative-care")
    assert "No red flag recorded" not in found["summary"]
    assert found["summary"].startswith("Self-management, stay active; safety-net and re-assess")
    assert "night pain" in found["summary"]
    old = card(run(patient(fact("night_pain", 30), age=40)), "conservative-care")
    assert "No red flag recorded in the last 14 days" in old["summary"]


def test_persisting_sign_past_window_replaces_conservative_care() -> None:
    """retention-20d: active retention 20 days old, never imaged: a warning, not 'no red
    flags'."""
    result = run(patient(fact("urinary_retention", 20)))
    assert topics(result) == {"cauda-equina": "warning"}
    assert "recorded" in card(result, "cauda-equina")["summary"]


# ---------------------------------------------------------------- grading malignancy


def test_weak_malignancy_factors_get_bloods_and_xray_not_mri() -> None:
    result = run(patient(fact("night_pain", 3), age=55))
    assert topics(result)["malignancy"] == "warning"
    orders_ = suggested_orders(card(result, "malignancy"))
    assert not any("MRI" in t for t in orders_)
    assert {"Erythrocyte sedimentation rate (ESR)", "C-reactive protein (CRP)",
            "Full blood count", "X-ray lumbar spine"} <= set(orders_)
    assert "MRI only if" in card(result, "malignancy")["detail"]


def test_cancer_history_is_the_strong_flag_with_mri() -> None:
    result = run(patient(fact("cancer", 900, history=True), age=45))
    assert any("MRI" in t for t in suggested_orders(card(result, "malignancy")))


def test_not_improving_only_within_the_current_episode() -> None:
    """Scores since an onset 40 days ago: counts; chronic pain (onset 2 years ago): not."""
    scores = (obs("pain_severity", 6, 35), obs("pain_severity", 6, 1))
    episode = patient(*scores, age=55, back_pain_days=40)
    assert topics(run(episode))["malignancy"] == "warning"
    chronic = patient(*scores, age=55, back_pain_days=730)
    assert "malignancy" not in topics(run(chronic))
    longer = RuleSettings.model_construct(episode_max_days=800)  # past the range
    assert topics(run(chronic, settings=longer))["malignancy"] == "warning"


def test_not_improving_ignores_scores_before_the_episode() -> None:
    old_then_new = (obs("pain_severity", 5, 300), obs("pain_severity", 6, 1))
    record = patient(*old_then_new, age=55, back_pain_days=40)
    assert "malignancy" not in topics(run(record))


# ---------------------------------------------------------------- NICE NG12 myeloma


def test_ng12_myeloma_info_at_60_with_persistent_back_pain() -> None:
    result = run(patient(age=62, back_pain_days=50))
    assert topics(result) == {"malignancy": "info"}
    found = card(result, "malignancy")
    assert {"Full blood count", "Serum calcium (adjusted)",
            "Erythrocyte sedimentation rate (ESR)"} <= set(suggested_orders(found))
    assert "NICE NG12" in found["summary"]


def test_ng12_not_before_60_nor_before_the_persistence_threshold() -> None:
    assert "malignancy" not in topics(run(patient(age=59, back_pain_days=50)))
    assert "malignancy" not in topics(run(patient(age=62, back_pain_days=30)))
    shorter = RuleSettings(myeloma_persistence_days=28)
    assert topics(run(patient(age=62, back_pain_days=30), settings=shorter)) == {
        "malignancy": "info"}


def test_ng12_not_when_the_tests_were_just_done() -> None:
    done = (order("fbc", "completed", 2), order("calcium", "completed", 2),
            order("lab_esr", "completed", 2))
    assert "malignancy" not in topics(run(patient(age=62, back_pain_days=50, orders=done)))


# ---------------------------------------------------------------- MSCC (NG234)


def test_mscc_card_contacts_the_coordinator_and_whole_spine_mri() -> None:
    record = patient(fact("cancer", 2000, history=True), fact("leg_pain", 3, laterality="left"))
    found = card(run(record), "spinal-cord-compression")
    assert found["indicator"] == "critical"
    assert found["summary"].startswith("Contact acute oncology / MSCC coordinator now")
    assert "within 24 h" in found["summary"]
    labels = [s["label"] for s in found["suggestions"]]
    assert labels[0] == "Contact the acute oncology / MSCC coordinator now"
    assert found["suggestions"][0].get("isRecommended") is True
    assert "MRI whole spine (cervical, thoracic, lumbar) without contrast" in \
        suggested_orders(found)


def test_new_bilateral_sciatica_still_critical_near_miss() -> None:
    record = patient(fact("radiculopathy", 3, laterality="left"),
                     fact("radiculopathy", 2, laterality="right"))
    assert topics(run(record))["cauda-equina"] == "critical"


def test_old_onset_diagnosis_recorded_now_is_new() -> None:
    """CLINICAL.md: a red-flag diagnosis is new when its onset *or recording* is in the
    window."""
    dx = replace(fact("cauda_equina_syndrome", 730), recorded=NOW - timedelta(days=1))
    assert topics(run(patient(dx)))["cauda-equina"] == "critical"
    cord = replace(fact("myelopathy", 730), recorded=NOW - timedelta(days=1))
    assert topics(run(patient(cord)))["spinal-cord-compression"] == "critical"
    old = replace(fact("cauda_equina_syndrome", 730), recorded=NOW - timedelta(days=700))
    assert topics(run(patient(old)))["cauda-equina"] == "warning"


# ---------------------------------------------------------------- audit round (issue 12)


def test_ng12_names_done_results_and_suggests_only_what_is_missing() -> None:
    """FBC and calcium resulted 2 days ago (Observations, not orders): only the ESR."""
    done = (obs("fbc_result", 13.1, 2, display="Hemoglobin"),
            obs("calcium_result", 9.6, 2, display="Calcium"))
    found = card(run(patient(*done, age=62, back_pain_days=50)), "malignancy")
    assert found["summary"].startswith("ESR (or plasma viscosity): 60 or over")
    assert suggested_orders(found) == ["Erythrocyte sedimentation rate (ESR)"]
    assert "Already done, not suggested again: Hemoglobin" in found["detail"]
    assert f"`{done[1].source}`" in found["detail"]


def test_ng12_stands_down_when_all_three_were_resulted_but_not_for_old_results() -> None:
    done = (obs("fbc_result", 13.1, 2), obs("calcium_result", 9.6, 2), obs("esr", 12, 2))
    assert "malignancy" not in topics(run(patient(*done, age=62, back_pain_days=50)))
    old = (obs("fbc_result", 13.1, 30), obs("calcium_result", 9.6, 30), obs("esr", 12, 30))
    found = card(run(patient(*old, age=62, back_pain_days=50)), "malignancy")
    assert found["summary"].startswith("Full blood count, calcium and ESR")
    longer = RuleSettings(recent_order_days=45)
    assert "malignancy" not in topics(run(patient(*old, age=62, back_pain_days=50),
                                          settings=longer))


def test_malignancy_warning_does_not_re_suggest_resulted_bloods() -> None:
    """MAL-01 at 62 with weak factors: a CRP resulted yesterday is named, not suggested."""
    crp = obs("crp", 4, 1, display="CRP")
    found = card(run(patient(fact("night_pain", 3), crp, age=62)), "malignancy")
    assert "C-reactive protein (CRP)" not in suggested_orders(found)
    assert "Erythrocyte sedimentation rate (ESR)" in suggested_orders(found)
    assert "Already done, not suggested again: CRP" in found["detail"]


def test_years_old_active_ces_sign_never_imaged_is_a_warning_not_critical() -> None:
    """CLINICAL.md 'time': history is at most a warning; persisting and never assessed by
    imaging is 'confirm it has been assessed', whatever its age."""
    result = run(patient(fact("urinary_retention", 2000)))
    assert topics(result) == {"cauda-equina": "warning"}
    assert card(result, "cauda-equina")["summary"].startswith("Confirm it has been assessed")


def test_years_old_active_ces_sign_with_an_mri_since_gives_no_cauda_equina_card() -> None:
    imaged = patient(fact("urinary_retention", 2000),
                     orders=(order("spine_mri", "completed", 1500),))
    assert topics(run(imaged)) == {"conservative-care": "info"}
    before = patient(fact("urinary_retention", 2000),
                     orders=(order("spine_mri", "completed", 2100),))  # MRI before the sign
    assert topics(run(before)) == {"cauda-equina": "warning"}


def test_years_old_active_cord_sign_warning_and_mri_since_stands_it_down() -> None:
    assert topics(run(patient(fact("gait_disturbance", 2000)))) == {
        "spinal-cord-compression": "warning"}
    imaged = patient(fact("gait_disturbance", 2000),
                     orders=(order("spine_mri", "completed", 1500),))
    assert "spinal-cord-compression" not in topics(run(imaged))


def test_old_resolved_ces_sign_is_neither_warning_nor_emergency() -> None:
    assert "cauda-equina" not in topics(run(patient(fact("urinary_retention", 2000,
                                                           history=True))))


def test_why_lists_the_red_flag_before_age_and_back_pain() -> None:
    found = card(run(patient(fact("night_pain", 3), age=55)), "malignancy")
    why = [line for line in found["detail"].split("**What to do**")[0].splitlines()
           if line.startswith("- ") and line.endswith("`")]
    assert "night pain" in why[0] and "Age 55" in why[-1]


def test_mscc_why_lists_the_new_symptom_before_the_cancer_history() -> None:
    cancer = fact("cancer", 2000, history=True)
    numb = fact("leg_sensory_symptoms", 3, laterality="left")
    detail = card(run(patient(cancer, numb)), "spinal-cord-compression")["detail"]
    assert detail.index(f"`{numb.source}`") < detail.index(f"`{cancer.source}`")


def test_critical_infection_why_leads_with_the_abscess() -> None:
    abscess = fact("epidural_abscess", 2)
    fever = obs("body_temperature", 38.6, 1, unit="Cel")
    detail = card(run(patient(fever, fact("iv_drug_use", 30), abscess)), "infection")["detail"]
    why = detail.split("**What to do**")[0]
    assert why.index(f"`{abscess.source}`") < why.index(f"`{fever.source}`")
