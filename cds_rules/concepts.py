"""The concept vocabulary: every clinical idea a value set, the record builder and a rule
share by name (``cds_rules/valuesets/<concept>.json`` is named after its concept)."""

from __future__ import annotations

CONCEPTS: dict[str, str] = {
    # back-pain context
    "low_back_pain": "Low back pain (acute or chronic, lumbago)",
    "thoracic_back_pain": "Mid back / thoracic spine pain",
    "radiculopathy": "Sciatica, lumbar/lumbosacral radiculopathy, lumbago with sciatica",
    "spinal_stenosis": "Lumbar or thoracic spinal stenosis",
    "prior_spine_surgery": "Post-laminectomy syndrome or previous lumbar spine surgery",
    "leg_pain": "Leg pain",
    "leg_sensory_symptoms": "Numbness, tingling or altered skin sensation in the leg",
    # cauda equina
    "cauda_equina_syndrome": "Cauda equina syndrome (diagnosis)",
    "urinary_retention": "Urinary retention, hesitancy or reduced urine-flow sensation",
    "urinary_incontinence": "Urinary incontinence",
    "faecal_incontinence": "Faecal incontinence",
    "saddle_anaesthesia": "Saddle (perianal/perineal/genital) numbness",
    "loss_of_rectal_sensation": "Loss of rectal-fullness sensation",
    "sexual_dysfunction": "New sexual dysfunction",
    # cord compression / myelopathy
    "gait_disturbance": "Gait disturbance, ataxia, difficulty walking, imbalance",
    "hyperreflexia": "Hyperreflexia, abnormal reflexes, upgoing plantars",
    "myelopathy": "Myelopathy (spondylotic or disc), cord compression",
    # neurological deficit
    "muscle_weakness": "Muscle weakness of the leg(s)",
    "foot_drop": "Foot drop",
    "muscle_strength_grade": "Muscle strength (MRC grade 0-5), Observation",
    # malignancy
    "cancer": "Malignant neoplasm (active or any history, incl. Z85)",
    "bone_metastasis": "Secondary malignant neoplasm of bone / spine",
    "myeloma": "Multiple myeloma",
    "weight_loss": "Unintentional weight loss (coded)",
    "body_weight": "Body weight, Observation (kg)",
    "night_pain": "Night pain / pain at rest",
    # infection
    "fever": "Fever (coded)",
    "body_temperature": "Body temperature, Observation (Cel)",
    "iv_drug_use": "Intravenous drug use / drug dependence",
    "immunosuppression": "Immunocompromised state, immunodeficiency, HIV, transplant",
    "recent_infection": "Recent infection: pyelonephritis, bacteraemia, sepsis, UTI",
    "spinal_infection": "Discitis, vertebral osteomyelitis, spinal TB, epidural abscess",
    "epidural_abscess": "Intraspinal / epidural abscess",
    "recent_spinal_procedure": "Spinal procedure or injection",
    "long_term_steroids": "Long-term systemic corticosteroid use (coded, e.g. Z79.52)",
    "systemic_corticosteroid": "Systemic corticosteroid medication (RxNorm)",
    "immunosuppressant_drug": "Immunosuppressant medication (RxNorm)",
    # fracture
    "significant_trauma": "Significant trauma (fall from height, road traffic collision)",
    "osteoporosis": "Osteoporosis",
    "fragility_fracture": "Prior fragility / pathological / vertebral fracture",
    "vertebral_fracture_cord_injury": "Vertebral fracture with spinal cord injury",
    # inflammatory back pain (NICE NG65 features)
    "axial_spondyloarthritis": "Ankylosing spondylitis / axial spondyloarthritis",
    "night_waking_second_half": "Waking in the second half of the night with back pain",
    "buttock_pain": "Buttock pain (alternating or not)",
    "improves_with_movement": "Back pain better with movement, not rest",
    "nsaid_response": "Back pain better within 48 h of NSAIDs",
    "family_history_spa": "First-degree relative with spondyloarthritis",
    "arthritis": "Current or past arthritis",
    "enthesitis": "Current or past enthesitis",
    "psoriasis": "Current or past psoriasis",
    "hla_b27": "HLA-B27 test (positive/negative), Observation",
    # visceral / vascular
    "aortic_aneurysm": "Abdominal or thoracic aortic aneurysm",
    "aortic_dissection": "Aortic dissection",
    "chest_pain": "Chest pain",
    "dyspnoea": "Shortness of breath",
    "renal_stone_or_colic": "Kidney stone, ureteric stone, renal colic",
    "pyelonephritis": "Pyelonephritis",
    "haematuria": "Haematuria",
    # electrodiagnostic differentials
    "peripheral_neuropathy": "Peripheral (e.g. diabetic) polyneuropathy",
    "diabetes": "Diabetes mellitus",
    "plexopathy": "Lumbosacral plexopathy",
    "entrapment_neuropathy": "Entrapment neuropathy (e.g. piriformis, peroneal)",
    # labs and scores
    "esr": "ESR, Observation (mm/h)",
    "crp": "CRP, Observation (mg/L)",
    "fbc_result": "Full blood count result (CBC panel or haemoglobin), Observation",
    "calcium_result": "Serum calcium result, Observation",
    "pain_severity": "Pain severity 0-10, Observation",
    # care already given
    "conservative_care_given": "Physiotherapy / exercise therapy / NSAID trial recorded",
    "analgesic_drug": "Analgesic medication (NSAID, paracetamol, codeine)",
}
