"""What the core needs from the EHR: the prefetch keys and templates of the discovery document.

The shell publishes :func:`prefetch_templates` in each service's ``prefetch`` and uses
:data:`PREFETCH_KEYS` to decide what it must fetch itself (or answer 412) when the EHR
sent nothing. Templates use only ``{{context.patientId}}`` so that every hook can use
them. Conditions and Observations carry no code filter (CLINICAL.md, decisions of the
clinical review): a code list can hold neither the SNOMED CT descendants, WHO ICD-10 and
site codes the value sets match nor the uncoded entries whose text is read, and a list long
enough to try would pass the 2,048 characters many EHRs and proxies allow a URL. The record
builder skips what no rule reads cheaply; ``_count=1000`` keeps a large record (thousands
of lab results) within the fetch path's page bound. Every filled template stays within
:data:`MAX_TEMPLATE_CHARS` with a 64-character patient id (a test).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_rules import valuesets as vs

PATIENT = "{{context.patientId}}"
LOCAL_ORDER_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/order"  # our suggestions only


@dataclass(frozen=True, slots=True)
class PrefetchKey:
    key: str
    resource_type: str
    required: bool  # without it the core cannot judge: fetch it, or answer 412
    why: str


PREFETCH_KEYS: dict[str, PrefetchKey] = {
    k.key: k
    for k in (
        PrefetchKey("patient", "Patient", True, "age and sex (adults only; age red flags)"),
        PrefetchKey("conditions", "Condition", True,
                    "back-pain context and red-flag diagnoses, current and past"),
        PrefetchKey("observations", "Observation", False,
                    "findings, temperature, weight series, MRC grades, ESR/CRP"),
        PrefetchKey("medicationRequests", "MedicationRequest", False,
                    "systemic corticosteroids and immunosuppressants, with duration"),
        PrefetchKey("medicationStatements", "MedicationStatement", False,
                    "medications taken, as reported"),
        PrefetchKey("serviceRequests", "ServiceRequest", False,
                    "spine imaging, EMG/NCS and physiotherapy already ordered"),
        PrefetchKey("procedures", "Procedure", False,
                    "spine imaging or physiotherapy done; prior spine surgery"),
        PrefetchKey("diagnosticReports", "DiagnosticReport", False,
                    "spine imaging reported (repeat imaging)"),
        PrefetchKey("imagingStudies", "ImagingStudy", False,
                    "spine imaging performed (repeat imaging)"),
    )
}

REQUIRED_KEYS: tuple[str, ...] = tuple(k for k, v in PREFETCH_KEYS.items() if v.required)

MAX_TEMPLATE_CHARS = 2048  # a filled template, patient id of 64 characters (FHIR id maximum)

# Systems whose codes can head an Observation the rules read. ICD-10-CM codes diagnoses
# (Conditions), RxNorm medications, CPT procedures: none of them codes an Observation.
_OBSERVATION_SYSTEMS = (vs.LOINC, vs.SNOMED, vs.LOCAL)


def observation_codes() -> list[tuple[str, str]]:
    """Every (system, code) of every finding or quantity concept that can arrive as an
    Observation: LOINC vitals and labs, SNOMED CT findings, our local finding codes."""
    codes: set[tuple[str, str]] = set()
    for concept in vs.concepts_of_kind("finding", "quantity"):
        codes.update(c for c in vs.codes_of(concept) if c[0] in _OBSERVATION_SYSTEMS)
    return sorted(codes)


# Reports the rules read: spine imaging (repeat imaging) and EMG/NCS. Lab and referral
# orders are recognised from ServiceRequests and results, not from report codes (a list of
# every order code would pass the 2,048 characters of a prefetch URL).
REPORT_KINDS: tuple[str, ...] = ("spine_mri", "spine_ct", "spine_xray", "emg_ncs")


def order_codes() -> list[tuple[str, str]]:
    """Every standard (system, code) of the report kinds (:data:`REPORT_KINDS`)."""
    codes: set[tuple[str, str]] = set()
    for kind in REPORT_KINDS:
        codes.update(c for c in vs.codes_of(kind) if c[0] != LOCAL_ORDER_SYSTEM)
    return sorted(codes)


def _tokens(codes: list[tuple[str, str]]) -> str:
    return ",".join(f"{system}|{code}" for system, code in codes)


def prefetch_templates() -> dict[str, str]:
    """The CDS Hooks 2.0 prefetch templates, one per key of :data:`PREFETCH_KEYS`."""
    return {
        "patient": f"Patient/{PATIENT}",
        # Every clinical and verification status on purpose: a resolved cancer is still a
        # history of cancer (CLINICAL.md safety principle 2), and the record builder itself
        # drops refuted and entered-in-error Conditions.
        "conditions": f"Condition?patient={PATIENT}",
        # No code filter: descendants, WHO, site codes and uncoded text must still arrive.
        "observations": f"Observation?patient={PATIENT}&_count=1000",
        # Statuses the record builder counts (entered-in-error, cancelled, draft never do).
        # No _include of the Medication: CDS Hooks lists the search features a prefetch may
        # use (reads, patient searches, token equality, dates, _count, _sort) and _include
        # is not one, so a client may refuse the template; a medicationReference is read by
        # its display when the Medication is not sent (record/medications.py).
        "medicationRequests": f"MedicationRequest?patient={PATIENT}"
                              "&status=active,on-hold,completed,stopped,unknown",
        "medicationStatements": f"MedicationStatement?patient={PATIENT}"
                                "&status=active,on-hold,completed,stopped,unknown",
        "serviceRequests": f"ServiceRequest?patient={PATIENT}&status=active,completed",
        "procedures": f"Procedure?patient={PATIENT}&status=completed,in-progress,preparation",
        "diagnosticReports": f"DiagnosticReport?patient={PATIENT}"
                             f"&code={_tokens(order_codes())}",
        "imagingStudies": f"ImagingStudy?patient={PATIENT}&status=available,registered",
    }
