"""The order catalogue: what a card may suggest, as coded FHIR R4 ``ServiceRequest``s.

Each catalogue key has SNOMED CT (procedure), LOINC (radiology playbook / lab) and CPT
(extra coding for US sites) where a verified code exists (CLINICAL.md "Codes"), and a local
code with a plain display otherwise: a code we could not verify is never sent as if it
were SNOMED or LOINC. Every built resource gets ``fhir.resources.R4B``'s verdict before
it leaves the core (:mod:`cds_rules.order_check`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cds_rules.model import CERVICAL, LUMBAR, THORACIC, Fact, PatientRecord, Recommendation
from cds_rules.order_check import check_service_request
from cds_rules.settings import RuleSettings
from cds_rules.valuesets import SPINE_IMAGING_KINDS

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
LOCAL_ORDER_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/order"
CATEGORY_SYSTEM = SNOMED  # FHIR R4 servicerequest-category example value set (SNOMED CT)
REASON_REFERENCE_TYPES = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")


@dataclass(frozen=True, slots=True)
class Code:
    system: str
    code: str
    display: str
    verified: str  # where the code was checked

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One orderable thing. ``kind``: the record's order kind (value set name) used to
    avoid duplicates; ``reuse_window``: the RuleSettings field whose days bound how long
    a completed order of the same kind makes a new one a duplicate; ``segments``: for spine
    imaging, the segments of the spine it images (an order of the same kind stands in for
    it only when it may image them all: :meth:`cds_rules.model.Order.may_image`)."""

    key: str
    display: str
    codes: tuple[Code, ...]
    category: tuple[str, str] | None = None  # (SNOMED code, display)
    kind: str = ""
    reuse_window: str = "recent_order_days"
    segments: frozenset[str] = frozenset()


def _local(key: str, display: str) -> Code:
    return Code(LOCAL_ORDER_SYSTEM, key, display,
                "local code: no SNOMED/LOINC code verified yet (CLINICAL.md 'not yet verified')")


_CLIN = "CLINICAL.md verified list"
_LOINC_RAD = "LOINC radiology playbook list (Azure Health Insights appendix A), checked 2026"
_REVIEWED = "verified replacement for a local code (CLINICAL.md decisions; clinical review 1.3)"
_REVIEWED_MODERATE = "moderate-confidence replacement for a local code (CLINICAL.md decisions)"
IMAGING = ("363679005", "Imaging")
_LUMBAR = frozenset({LUMBAR})
_WHOLE_SPINE = frozenset({CERVICAL, THORACIC, LUMBAR})
LAB = ("108252007", "Laboratory procedure")

_ORDERS = (
    OrderSpec("mri-lumbar-without-contrast", "MRI lumbar spine without contrast", (
        Code(SNOMED, "394451000119106", "MRI of lumbar spine without contrast", _CLIN),
        Code(LOINC, "30679-5", "MR Lumbar spine WO contrast", _LOINC_RAD),
        Code(CPT, "72148", "MRI lumbar spine without contrast", _CLIN),
    ), IMAGING, "spine_mri", "repeat_imaging_window_days", _LUMBAR),
    OrderSpec("mri-lumbar-with-and-without-contrast",
              "MRI lumbar spine without and with contrast", (
        # no SNOMED coding: 41333006 is MRI *with* contrast (clinical review finding 12)
        Code(LOINC, "24967-2", "MR Lumbar spine WO and W contrast IV", _CLIN),
        Code(CPT, "72158", "MRI lumbar spine without and with contrast", _CLIN),
    ), IMAGING, "spine_mri", "repeat_imaging_window_days", _LUMBAR),
    OrderSpec("mri-whole-spine", "MRI whole spine (cervical, thoracic, lumbar) without "
              "contrast", (
        Code(SNOMED, "411611000119102", "MRI of cervical, thoracic and lumbar spine without "
             "contrast", _CLIN),
        Code(LOINC, "30854-4", "MR Cervical and thoracic and lumbar spine WO contrast", _CLIN),
    ), IMAGING, "spine_mri", "repeat_imaging_window_days", _WHOLE_SPINE),
    OrderSpec("xray-lumbar", "X-ray lumbar spine", (
        Code(SNOMED, "840361000", "X-ray of lumbar spine", _CLIN),
        Code(LOINC, "24970-6", "XR Lumbar spine AP and lateral", _CLIN),
        Code(CPT, "72100", "X-ray lumbosacral spine, 2 or 3 views", _CLIN),
    ), IMAGING, "spine_xray", "repeat_imaging_window_days", _LUMBAR),
    OrderSpec("xray-thoracic", "X-ray thoracic spine", (
        Code(SNOMED, "1290654008", "X-ray of thoracic spine", _CLIN),
        Code(LOINC, "24983-9", "XR Thoracic spine Views", _LOINC_RAD),
        Code(CPT, "72070", "X-ray thoracic spine, 2 views", _CLIN),
    ), IMAGING, "spine_xray", "repeat_imaging_window_days", frozenset({THORACIC})),
    OrderSpec("esr", "Erythrocyte sedimentation rate (ESR)", (
        Code(LOINC, "4537-7", "Erythrocyte sedimentation rate by Westergren method", _CLIN),
    ), LAB, "lab_esr"),
    OrderSpec("crp", "C-reactive protein (CRP)", (
        Code(LOINC, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", _CLIN),
    ), LAB, "lab_crp"),
    OrderSpec("blood-cultures", "Blood cultures (two sets)", (
        Code(LOINC, "600-7", "Bacteria identified in Blood by Culture", _REVIEWED),
    ), LAB, "blood_cultures"),
    OrderSpec("fbc", "Full blood count", (
        Code(LOINC, "58410-2", "CBC panel - Blood by Automated count", _REVIEWED),
    ), LAB, "fbc"),
    OrderSpec("calcium", "Serum calcium (adjusted)", (
        Code(LOINC, "29265-6", "Calcium [Moles/volume] corrected for albumin in Serum or "
             "Plasma", _REVIEWED),
    ), LAB, "calcium"),
    OrderSpec("myeloma-screen", "Myeloma screen: serum protein electrophoresis and free "
              "light chains", (_local("myeloma-screen", "Myeloma screen (serum protein "
                                      "electrophoresis, serum free light chains)"),),
              LAB, "myeloma_screen"),
    OrderSpec("hla-b27", "HLA-B27", (
        Code(LOINC, "4821-5", "HLA-B27 [Presence]", _REVIEWED_MODERATE),
    ), LAB, "hla_b27_test"),
    OrderSpec("urinalysis", "Urinalysis (dipstick and microscopy)", (
        Code(LOINC, "24356-8", "Urinalysis complete panel - Urine", _REVIEWED_MODERATE),
    ), LAB, "urinalysis"),
    OrderSpec("emg-needle", "Needle electromyography of the legs with paraspinal muscles", (
        _local("emg-needle", "Needle EMG, lower limb(s) with paraspinals, done with nerve "
               "conduction studies"),
        Code(CPT, "95886", "Needle EMG, each extremity, with paraspinal areas, done with "
             "nerve conduction studies, complete", _CLIN),
    ), None, "emg_ncs", "repeat_imaging_window_days"),
    OrderSpec("ncs", "Nerve conduction studies of the legs (with needle EMG)", (
        _local("ncs", "Nerve conduction studies, lower limbs (with needle EMG)"),
        Code(CPT, "95909", "Nerve conduction studies, 5-6 studies", _CLIN),
    ), None, "emg_ncs", "repeat_imaging_window_days"),
    OrderSpec("emergency-department", "Same-day emergency department assessment",
              (_local("emergency-department", "Referral for same-day emergency department "
                      "assessment"),), None, "emergency_department"),
    OrderSpec("mscc-coordinator", "Contact the acute oncology / MSCC coordinator now",
              (_local("mscc-coordinator", "Referral to the acute oncology / metastatic spinal "
                      "cord compression (MSCC) coordinator, immediate (NICE NG234)"),), None,
              "mscc_coordinator"),
    OrderSpec("spinal-surgery-referral", "Urgent spinal surgical opinion",
              (_local("spinal-surgery-referral", "Referral to spinal surgery (on-call "
                      "spinal team)"),), None, "spinal_surgery_referral"),
    OrderSpec("rheumatology-referral", "Rheumatology referral (suspected axial "
              "spondyloarthritis)", (_local("rheumatology-referral", "Referral to "
                                            "rheumatology"),), None, "rheumatology_referral"),
    OrderSpec("physiotherapy-referral", "Physiotherapy / exercise programme referral",
              (_local("physiotherapy-referral", "Referral to physiotherapy"),), None,
              "physiotherapy"),
    OrderSpec("dxa", "Bone densitometry (DXA)", (
        Code(SNOMED, "413841000119101", "Dual energy X-ray absorptiometry of bone of hip joint "
             "region and bone of spine", _REVIEWED),
    ), IMAGING, "dxa"),
)

ORDERS: dict[str, OrderSpec] = {o.key: o for o in _ORDERS}

# A catalogue key suggested as several ServiceRequests accepted together (one suggestion,
# several actions): needle EMG is always ordered with NCS, never NCS alone (AANEM).
BUNDLED: dict[str, tuple[str, ...]] = {"emg-ncs": ("emg-needle", "ncs")}


def is_spine_imaging(key: str) -> bool:
    """The suggestion is a spine imaging study (one per response, clinical review 2026)."""
    return any(spec.kind in SPINE_IMAGING_KINDS for spec in parts(key))


def parts(key: str) -> tuple[OrderSpec, ...]:
    """The catalogue entries a suggestion key stands for."""
    return tuple(ORDERS[k] for k in BUNDLED.get(key, (key,)))


def label(key: str) -> str:
    if key == "emg-ncs":
        return "Needle EMG with nerve conduction studies (together)"
    return ORDERS[key].display


def duplicates(record: PatientRecord, key: str, settings: RuleSettings,
               done_since: datetime | None = None) -> list[str]:
    """Sources of orders that make suggesting ``key`` a duplicate: a draft or active order
    of the same kind, or one completed within the entry's reuse window (and, with
    ``done_since``, not before it: a study done before the sign it must look for does not
    answer it; a completed one with no date answers nothing: ``PatientRecord.orders_of``).
    A spine study stands in only for one whose segments it may image: a thoracic MRI, done
    or pending, does not answer the emergency lumbar MRI of a cauda equina card, nor a
    lumbar one the whole-spine MRI of a cord-compression card; a study whose region is not
    recorded answers any."""
    found: list[str] = []
    for spec in parts(key):
        if not spec.kind:
            continue
        window = timedelta(days=getattr(settings, spec.reuse_window))
        pending = record.orders_of(spec.kind, states=("draft", "active"))
        done = [o for o in record.orders_of(spec.kind, states=("completed",), within=window)
                if done_since is None or (o.when is not None and o.when >= done_since)]
        found.extend(o.resource_id or o.source for o in [*pending, *done]
                     if all(o.may_image(segment) for segment in spec.segments))
    return list(dict.fromkeys(found))


def proposed_service_request(
    spec: OrderSpec,
    rec: Recommendation,
    patient_id: str,
    encounter_id: str | None,
    reasons: Sequence[Fact],
    now: datetime,
) -> dict[str, Any]:
    """The proposed R4 ServiceRequest for ``spec``, not yet checked."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": rec.priority,
        "code": {"coding": [c.coding() for c in spec.codes], "text": spec.display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": now.isoformat(),
    }
    if spec.category is not None:
        code, display = spec.category
        resource["category"] = [{"coding": [{"system": CATEGORY_SYSTEM, "code": code,
                                             "display": display}]}]
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    references = [
        {"reference": f.source, "display": f.display}
        for f in reasons
        if f.source.split("/", 1)[0] in REASON_REFERENCE_TYPES
    ]
    if references:
        resource["reasonReference"] = list({r["reference"]: r for r in references}.values())
    return resource


def service_request(spec: OrderSpec, rec: Recommendation, patient_id: str,
                    encounter_id: str | None, reasons: Sequence[Fact], now: datetime
                    ) -> dict[str, Any]:
    """A proposed R4 ServiceRequest for ``spec``, validated as fhir.resources would
    (:mod:`cds_rules.order_check`): raises on anything an EHR would reject."""
    resource = proposed_service_request(spec, rec, patient_id, encounter_id, reasons, now)
    check_service_request(resource)
    return resource
