"""Inflammatory back pain / axial spondyloarthritis (NICE NG65, recognition and referral).

NG65: back pain that began before ``spa_max_onset_age`` and has lasted longer than
``spa_min_duration_days``; refer to rheumatology with 4 or more of the nine additional
criteria (onset before 35, waking in the second half of the night, buttock pain,
improvement with movement, improvement within 48 h of NSAIDs, a first-degree relative with
SpA, current or past arthritis, current or past enthesitis, current or past psoriasis:
each counted on its own, clinical review 2026); with exactly 3, perform an HLA-B27 test
and refer if it is positive.

* SPA-01 (refer): 4 or more features, or exactly 3 and HLA-B27 positive, or known axial
  SpA. Info, or warning when a neurological symptom is new.
* SPA-02 (test): exactly 3 features and no HLA-B27 result on record -> test HLA-B27
  (with CRP and ESR). Info. A negative result closes this step: no card (NG65 still
  warns that a negative test does not rule SpA out; the clinician re-assesses on new
  features).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    another_part_change,
    blank_answer_change,
    coded_answer_change,
    denial_naming_change,
    observation_reading_change,
    question_answered_no_change,
    threshold,
    value_beside_code_change,
)
from cds_rules.rules.context import (
    NEURO_DEFICITS,
    age_on,
    back_pain_onset,
    context_facts,
    days,
    duration_days,
    new_or_worsening,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.settings import RuleSettings

NG65_FEATURES = (
    ("night_waking_second_half", "waking in the second half of the night"),
    ("buttock_pain", "buttock pain"),
    ("improves_with_movement", "better with movement, not rest"),
    ("nsaid_response", "better within 48 hours of NSAIDs"),
    ("family_history_spa", "first-degree relative with spondyloarthritis"),
    ("arthritis", "current or past arthritis"),
    ("enthesitis", "current or past enthesitis"),
    ("psoriasis", "current or past psoriasis"),
)
# The coded NG65 features (the early onset, read from the age, is not among them).
NG65_CONCEPTS = frozenset(concept for concept, _ in NG65_FEATURES)
CURRENT_OR_PAST = frozenset({"arthritis", "enthesitis", "psoriasis"})
REFER_FEATURES = 4  # NG65: 4 or more criteria -> refer
TEST_FEATURES = 3  # NG65: exactly 3 criteria -> HLA-B27 test, refer if positive


def _positive(result: Fact) -> bool:
    """The record builder keeps a negative Observation as value 0.0, a positive one as
    1.0; a fact without a value (e.g. a coded Condition) is read from its text."""
    if result.value is not None:
        return result.value > 0
    text = f"{result.display} {result.detail}".lower()
    return not ("negative" in text or "not detected" in text)


def hla_b27_result(record: PatientRecord) -> tuple[bool | None, list[Fact]]:
    """True/False for the newest HLA-B27 result, None when there is none. Results of the
    same time disagreeing: positive (the order of resources must not decide, and a
    referral is the safer error)."""
    results = record.having("hla_b27")
    if not results:
        return None, []
    newest = [f for f in results if f.when == results[0].when]
    positive = [f for f in newest if _positive(f)]
    return (True, positive[:1]) if positive else (False, newest[:1])


def ng65_features(record: PatientRecord, settings: RuleSettings,
                  onset_age: int | None) -> list[tuple[str, list[Fact]]]:
    found = [(name, record.ever(concept) if concept in CURRENT_OR_PAST
              else record.having(concept)) for concept, name in NG65_FEATURES]
    features = [(name, facts) for name, facts in found if facts]
    if onset_age is not None and onset_age < settings.spa_early_onset_age:
        features.append((f"onset before {settings.spa_early_onset_age}", []))
    return features


@dataclass(frozen=True, slots=True)
class _Assessment:
    """The NG65 screen of one record: features counted only when the pain qualifies."""

    features: list[tuple[str, list[Fact]]]
    onset_facts: list[Fact]

    @property
    def listed(self) -> str:
        return ", ".join(name for name, _ in self.features)

    @property
    def feature_facts(self) -> list[Fact]:
        return [f for _, group in self.features for f in group]


def _assess(record: PatientRecord, settings: RuleSettings) -> _Assessment:
    """Back pain from before ``spa_max_onset_age`` lasting over ``spa_min_duration_days``:
    its NG65 features and the fact that dates its onset; otherwise nothing."""
    onset = back_pain_onset(record)
    onset_age = age_on(record, onset) if onset else None
    span = duration_days(record, onset)
    eligible = (onset_age is not None and onset_age < settings.spa_max_onset_age
                and span is not None and span > settings.spa_min_duration_days)
    if not eligible:
        return _Assessment([], [])
    onset_facts = [f for f in context_facts(record) if f.when == onset][:1]
    return _Assessment(ng65_features(record, settings, onset_age), onset_facts)


def _refer(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    known = record.having("axial_spondyloarthritis")
    screen = _assess(record, settings)
    count = len(screen.features)
    b27, b27_facts = hla_b27_result(record)
    recs: list[Recommendation] = []
    reasons: list[str] = []
    if known:
        reasons.append("Known ankylosing spondylitis / axial spondyloarthritis.")
    if count >= REFER_FEATURES:
        reasons.append(f"Back pain from before {settings.spa_max_onset_age}, lasting over 3 "
                       f"months, with {count} NICE NG65 features: {screen.listed}.")
        recs.append(Recommendation("rheumatology-referral", "routine", recommended=True))
    elif count == TEST_FEATURES and b27:
        reasons.append(f"3 NICE NG65 features ({screen.listed}) and HLA-B27 positive.")
        recs.append(Recommendation("rheumatology-referral", "routine", recommended=True))
    elif not known:
        return None
    if known and not recs:
        recs.append(Recommendation("rheumatology-referral", "routine"))
    recs += [Recommendation("crp", "routine"), Recommendation("esr", "routine")]
    neuro = new_or_worsening(record, NEURO_DEFICITS, days(settings.cauda_equina_window_days))
    if neuro:
        reasons.append("A new neurological symptom needs assessment in its own right.")
    facts = [*known, *screen.feature_facts, *(b27_facts if b27 else []), *neuro]
    return rule.finding(
        "warning" if neuro else "info",
        "Consider rheumatology referral: possible inflammatory back pain (axial "
        "spondyloarthritis)",
        [*facts, *screen.onset_facts],
        reasons,
        recs,
        [threshold(settings, "cauda_equina_window_days")] if neuro else [],
    )


def _test_hla_b27(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    if record.having("axial_spondyloarthritis"):
        return None  # already diagnosed: SPA-01 refers, a screening test adds nothing
    screen = _assess(record, ctx.settings)
    b27, _ = hla_b27_result(record)
    if len(screen.features) != TEST_FEATURES or b27 is not None:
        return None
    return rule.finding(
        "info",
        "Test HLA-B27 (refer if positive): possible inflammatory back pain, 3 NICE NG65 "
        "features, no HLA-B27 result",
        [*screen.feature_facts, *screen.onset_facts],
        [f"Back pain from before {ctx.settings.spa_max_onset_age}, lasting over 3 months, "
         f"with exactly 3 NICE NG65 features ({screen.listed}) and no HLA-B27 result on "
         "record."],
        (Recommendation("hla-b27", "routine", recommended=True),
         Recommendation("crp", "routine"), Recommendation("esr", "routine")),
    )


SPA_01 = Rule(
    id="SPA-01",
    version="2.8.1",
    topic=Topic.INFLAMMATORY_BACK_PAIN,
    title="Inflammatory back pain / axial spondyloarthritis: refer (NICE NG65)",
    indicators=("info", "warning"),
    evidence=("nice-ng65",),
    advice=(
        "Refer to rheumatology for assessment of axial spondyloarthritis when 4 or more "
        "features are present, or 3 features with a positive HLA-B27.",
        "CRP and ESR can support, but normal values do not exclude, axial SpA.",
    ),
    check=_refer,
    # a known diagnosis, or NG65 features: 3 or 4 of them need 2 coded at least (the
    # early onset is the only one read from the age)
    needs=frozenset({"axial_spondyloarthritis", *NG65_CONCEPTS}),
    changes=present_denial_change("2.8.1")
    + notes_change("2.8.0") + column_value_change("2.7.2") + blank_answer_change("2.7.1")
    + question_answered_no_change("2.7.0")
    + value_beside_code_change("2.6.0")
    + "2.5.1: no change in meaning: the coded NG65 features it needs named once "
            "(NG65_CONCEPTS, shared with SPA-02). "
    + another_part_change("2.5.0")
    + denial_naming_change("2.4.0")
    + observation_reading_change("2.3.0")
    + "An HLA-B27 result indeterminate, equivocal, inconclusive or unknown (LOINC "
            "LA11884-6, SNOMED CT 82334004, v2-0078 / ObservationInterpretation IND, those "
            "words) is no result: with 3 features, no referral (before: read as positive, a "
            "referral card saying 'HLA-B27 (positive)'). "
    + coded_answer_change("2.2.0")
    + "2.1.0: summary leads with the action. "
            "2.0.0: NICE NG65's nine criteria counted separately: current or past "
            "arthritis, enthesitis and psoriasis are three criteria (were one), and "
            "'buttock pain' (alternating or not) replaces 'alternating buttock pain'; "
            "evidence cites NG65 1.1 with a deep link.",
)

SPA_02 = Rule(
    id="SPA-02",
    version="2.7.1",
    topic=Topic.INFLAMMATORY_BACK_PAIN,
    title="Inflammatory back pain, exactly 3 NG65 features: test HLA-B27 (NICE NG65)",
    indicators=("info",),
    evidence=("nice-ng65",),
    advice=(
        "With exactly 3 features, perform an HLA-B27 test; if it is positive, refer to "
        "rheumatology for a spondyloarthritis assessment.",
        "A negative HLA-B27 does not rule axial SpA out: advise re-assessment if new "
        "features develop.",
        "CRP and ESR can support, but normal values do not exclude, axial SpA.",
    ),
    check=_test_hla_b27,
    needs=NG65_CONCEPTS,  # as SPA-01's features
    changes=present_denial_change("2.7.1")
    + notes_change("2.7.0") + column_value_change("2.6.2") + blank_answer_change("2.6.1")
    + question_answered_no_change("2.6.0")
    + value_beside_code_change("2.5.0")
    + "2.4.1: no change in meaning: the NG65 features it needs read from SPA-01's "
            "one list (NG65_CONCEPTS). "
    + denial_naming_change("2.4.0")
    + observation_reading_change("2.3.0")
    + "An HLA-B27 result indeterminate, equivocal, inconclusive or unknown is no result: "
            "with 3 features, 'Test HLA-B27' (before: read as positive, SPA-01's referral "
            "instead). "
    + coded_answer_change("2.2.0")
    + "2.1.0: summary leads with the action (test HLA-B27). "
            "2.0.0: counts NG65's nine criteria separately (arthritis, enthesitis, psoriasis; "
            "buttock pain), so 'exactly 3' is judged on the guideline's count.",
)

RULES = (SPA_01, SPA_02)
