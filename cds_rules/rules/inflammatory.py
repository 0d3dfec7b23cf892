"""Inflammatory back pain / axial spondyloarthritis (NICE NG65 1.1.1-1.1.6).

Back pain that began before ``spa_max_onset_age`` and has lasted longer than
``spa_min_duration_days``, with 4 or more NG65 features, or exactly 3 features and a
positive HLA-B27 (CLINICAL.md; 3 features without a result do not fire a card -- the
card's advice says to test HLA-B27 first); or known axial SpA.
Info, or warning when a neurological symptom is new.
"""

from __future__ import annotations

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import Rule, RuleContext, threshold
from cds_rules.rules.context import (
    NEURO_DEFICITS,
    age_on,
    back_pain_onset,
    context_facts,
    days,
    duration_days,
    new_or_worsening,
)
from cds_rules.settings import RuleSettings

NG65_FEATURES = (
    ("night_waking_second_half", "waking in the second half of the night"),
    ("alternating_buttock_pain", "alternating buttock pain"),
    ("improves_with_movement", "better with movement, not rest"),
    ("nsaid_response", "better within 48 hours of NSAIDs"),
    ("family_history_spa", "first-degree relative with spondyloarthritis"),
    ("arthritis_enthesitis_psoriasis", "arthritis, enthesitis or psoriasis"),
)


def hla_b27_result(record: PatientRecord) -> tuple[bool | None, list[Fact]]:
    """True/False for the newest HLA-B27 result, None when there is none.

    A result is negative when its value is 0 or its text says negative/not detected;
    the record builder drops results recorded as absent altogether.
    """
    results = record.having("hla_b27")
    if not results:
        return None, []
    newest = results[0]
    text = f"{newest.display} {newest.detail}".lower()
    negative = newest.value == 0 or "negative" in text or "not detected" in text
    return (not negative), [newest]


def ng65_features(record: PatientRecord, settings: RuleSettings,
                  onset_age: int | None) -> list[tuple[str, list[Fact]]]:
    found = [(name, record.ever(concept) if concept == "arthritis_enthesitis_psoriasis"
              else record.having(concept)) for concept, name in NG65_FEATURES]
    features = [(name, facts) for name, facts in found if facts]
    if onset_age is not None and onset_age < settings.spa_early_onset_age:
        features.append((f"onset before {settings.spa_early_onset_age}", []))
    return features


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    known = record.having("axial_spondyloarthritis")
    onset = back_pain_onset(record)
    onset_age = age_on(record, onset) if onset else None
    span = duration_days(record, onset)
    eligible = (onset_age is not None and onset_age < settings.spa_max_onset_age
                and span is not None and span > settings.spa_min_duration_days)
    features = ng65_features(record, settings, onset_age) if eligible else []
    b27, b27_facts = hla_b27_result(record)
    recs: list[Recommendation] = []
    reasons: list[str] = []
    if known:
        reasons.append("Known ankylosing spondylitis / axial spondyloarthritis.")
    if len(features) >= 4:
        reasons.append(f"Back pain from before {settings.spa_max_onset_age}, lasting over 3 "
                       f"months, with {len(features)} NICE NG65 features: "
                       + ", ".join(name for name, _ in features) + ".")
        recs.append(Recommendation("rheumatology-referral", "routine", recommended=True))
    elif len(features) == 3 and b27:
        listed = ", ".join(name for name, _ in features)
        reasons.append(f"3 NICE NG65 features ({listed}) and HLA-B27 positive.")
        recs.append(Recommendation("rheumatology-referral", "routine", recommended=True))
    elif not known:
        return None
    if known and not recs:
        recs.append(Recommendation("rheumatology-referral", "routine"))
    recs += [Recommendation("crp", "routine"), Recommendation("esr", "routine")]
    neuro = new_or_worsening(record, NEURO_DEFICITS, days(settings.cauda_equina_window_days))
    if neuro:
        reasons.append("A new neurological symptom needs assessment in its own right.")
    facts = [*known, *(f for _, group in features for f in group),
             *(b27_facts if b27 else []), *neuro]
    onset_facts = [f for f in context_facts(record) if f.when == onset] if eligible else []
    return rule.finding(
        "warning" if neuro else "info",
        "Possible inflammatory back pain (axial spondyloarthritis): consider rheumatology "
        "referral",
        [*facts, *onset_facts[:1]],
        reasons,
        recs,
        [threshold(settings, "cauda_equina_window_days")] if neuro else [],
    )


SPA_01 = Rule(
    id="SPA-01",
    version="1.1.0",
    topic=Topic.INFLAMMATORY_BACK_PAIN,
    title="Inflammatory back pain / axial spondyloarthritis (NICE NG65)",
    indicators=("info", "warning"),
    evidence=("nice-ng65",),
    advice=(
        "Refer to rheumatology for assessment of axial spondyloarthritis when 4 or more "
        "features are present, or 3 features with a positive HLA-B27.",
        "With exactly 3 features, test HLA-B27 first.",
        "CRP and ESR can support, but normal values do not exclude, axial SpA.",
    ),
    check=_check,
)

RULES = (SPA_01,)
