"""IMG-01 not indicated, IMG-02 indicated, IMG-03 repeat imaging (PATHWAY.md 6-8)."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, order, patient, run, suggested_orders, topics

DRAFT_MRI = "ServiceRequest/draft-mri"


def draft(kind: str = "spine_mri", ref: str = DRAFT_MRI):
    return order(kind, "draft", ref=ref)


@pytest.mark.parametrize("kind", ["spine_mri", "spine_ct", "spine_xray"])
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_acute_back_pain_imaging_not_indicated(kind: str, hook: str) -> None:
    ref = f"ServiceRequest/{kind}"
    result = run(patient(orders=(draft(kind, ref),), back_pain_days=10), hook,
                 selections=(ref,) if hook == "order-select" else ())
    found = card(result, "imaging-not-indicated")
    assert found["indicator"] == "warning"
    deletes = [a for s in found["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == [{"type": "delete", "resourceId": ref,
                        "description": deletes[0]["description"]}]
    assert "Physiotherapy / exercise programme referral" in suggested_orders(found)


def test_not_on_patient_view() -> None:
    result = run(patient(orders=(draft(),), back_pain_days=10), "patient-view")
    assert "imaging-not-indicated" not in topics(result)


def test_after_six_weeks_without_management_is_variant_2_info_without_delete() -> None:
    result = run(patient(orders=(draft(),), back_pain_days=50), "order-sign")
    assert topics(result) == {"imaging-not-indicated": "info"}
    found = card(result, "imaging-not-indicated")
    assert "ACR variant 2" in found["summary"]
    assert all(a["type"] != "delete" for s in found.get("suggestions", [])
               for a in s["actions"])


def test_after_six_weeks_with_recent_management_is_quiet() -> None:
    record = patient(fact("conservative_care_given", 30), orders=(draft(),),
                     back_pain_days=50)
    assert "imaging-not-indicated" not in topics(run(record, "order-sign"))
    old_care = patient(fact("conservative_care_given", 400), orders=(draft(),),
                       back_pain_days=500)
    assert topics(run(old_care, "order-sign")) == {"imaging-not-indicated": "info"}


def test_variant_2_analgesia_counts_as_prior_management() -> None:
    current = fact("analgesic_drug", 400, resource_type="MedicationStatement")
    record = patient(current, orders=(draft(),), back_pain_days=500)
    assert "imaging-not-indicated" not in topics(run(record, "order-sign"))
    stopped = fact("analgesic_drug", 400, resource_type="MedicationStatement", history=True)
    record = patient(stopped, orders=(draft(),), back_pain_days=500)
    assert topics(run(record, "order-sign")) == {"imaging-not-indicated": "info"}


def test_variant_2_window_is_a_setting() -> None:
    record = patient(fact("conservative_care_given", 100), orders=(draft(),),
                     back_pain_days=300)
    assert "imaging-not-indicated" not in topics(run(record, "order-sign"))
    narrow = RuleSettings(conservative_management_days=60)
    assert topics(run(record, "order-sign", settings=narrow)) == {"imaging-not-indicated":
                                                                 "info"}


def test_unknown_onset_makes_no_judgement() -> None:
    record = patient(fact("low_back_pain", None), orders=(draft(),), back_pain_days=None)
    assert "imaging-not-indicated" not in topics(run(record, "order-sign"))


def test_red_flag_silences_it_and_stays_critical() -> None:
    record = patient(fact("urinary_retention", 1), orders=(draft(),), back_pain_days=10)
    result = topics(run(record, "order-sign"))
    assert result == {"cauda-equina": "critical"}


def test_unselected_draft_is_not_judged_on_order_select() -> None:
    record = patient(orders=(draft(),), back_pain_days=10)
    result = run(record, "order-select", selections=("ServiceRequest/other",))
    assert "imaging-not-indicated" not in topics(result)


def test_repeat_imaging_within_window() -> None:
    record = patient(orders=(draft(), order("spine_mri", "completed", 100)), back_pain_days=10)
    result = run(record, "order-sign")
    assert topics(result) == {"repeat-imaging": "info"}
    actions = [a for s in card(result, "repeat-imaging")["suggestions"] for a in s["actions"]]
    assert actions[0]["resourceId"] == DRAFT_MRI


def test_old_study_is_no_repeat() -> None:
    record = patient(orders=(draft(), order("spine_mri", "completed", 500)), back_pain_days=10)
    assert "repeat-imaging" not in topics(run(record, "order-sign"))


def test_new_red_flag_after_study_allows_new_imaging() -> None:
    record = patient(fact("urinary_retention", 2),
                     orders=(draft(), order("spine_mri", "completed", 100)))
    result = topics(run(record, "order-sign"))
    assert "repeat-imaging" not in result
    assert result["cauda-equina"] == "critical"


def test_imaging_indicated_after_conservative_care() -> None:
    record = patient(fact("radiculopathy", 70, laterality="left"),
                     fact("conservative_care_given", 40, resource_type="Procedure"))
    result = run(record)
    assert topics(result) == {"imaging-indicated": "info"}
    assert "MRI lumbar spine without contrast" in suggested_orders(card(result,
                                                                       "imaging-indicated"))


def test_not_indicated_without_conservative_care_or_too_early() -> None:
    assert "imaging-indicated" not in topics(run(patient(fact("radiculopathy", 70))))
    early = patient(fact("radiculopathy", 20), fact("conservative_care_given", 10))
    assert "imaging-indicated" not in topics(run(early))


def test_not_indicated_with_recent_mri() -> None:
    record = patient(fact("spinal_stenosis", 200), fact("conservative_care_given", 100),
                     orders=(order("spine_mri", "completed", 60),))
    assert "imaging-indicated" not in topics(run(record))


def test_after_spine_surgery_with_new_symptoms() -> None:
    record = patient(fact("prior_spine_surgery", 400, resource_type="Procedure"),
                     fact("radiculopathy", 20, laterality="right"), back_pain_days=None)
    result = run(record)
    assert "MRI lumbar spine without and with contrast" in suggested_orders(
        card(result, "imaging-indicated"))


def test_after_spine_surgery_old_symptoms_only() -> None:
    record = patient(fact("radiculopathy", 600, laterality="right"),
                     fact("prior_spine_surgery", 400, resource_type="Procedure"),
                     back_pain_days=None)
    assert "imaging-indicated" not in topics(run(record))


def test_suggestion_never_duplicates_an_active_order() -> None:
    record = patient(fact("radiculopathy", 70), fact("conservative_care_given", 40),
                     orders=(order("spine_mri", "active", 2),))
    found = card(run(record), "imaging-indicated")
    assert "suggestions" not in found
    assert "Already ordered" in found["detail"]


def test_new_symptoms_after_surgery_make_an_acute_draft_indicated_not_contradicted() -> None:
    record = patient(fact("prior_spine_surgery", 1000, resource_type="Procedure"),
                     fact("radiculopathy", 14, laterality="left"),
                     orders=(draft(),), back_pain_days=None)
    result = topics(run(record, "order-select", selections=(DRAFT_MRI,)))
    assert result == {"imaging-indicated": "info"}
