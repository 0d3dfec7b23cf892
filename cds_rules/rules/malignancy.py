"""Possible malignancy: a history of cancer (any status), or two or more weaker risk
factors (ACP 2011 table 2; Downie BMJ 2013). Critical only through cord compression.

Graded as Downie 2013 and ACP 2011 table 2 grade them (clinical review 2026): a cancer
history is the strong flag (MRI with and without contrast, ESR, CRP); two or more weak
factors without one give ESR, CRP, FBC and an X-ray, with MRI only if these are abnormal
or symptoms persist.

"Pain not improving after 4 weeks" needs evidence of non-improvement within the current
episode: back pain that began between ``no_improvement_days`` and ``episode_max_days``
ago, coded as worsening, or whose pain scores since its onset, at least
``no_improvement_days`` apart, have not fallen.

MAL-02 (NICE NG12, myeloma): age >= ``myeloma_screen_age`` with back pain persisting at
least ``myeloma_persistence_days``: FBC, calcium and ESR (or plasma viscosity), unless
done within ``recent_order_days``: ordered, or a result on record (a CBC panel or
haemoglobin, a serum calcium, an ESR). The tests already done are named and not
suggested; with all three done there is no card. Info.
"""

from __future__ import annotations

from cds_rules import orders
from cds_rules.model import Fact, Finding, PatientRecord, Recommendation, Topic
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    blank_answer_change,
    coded_answer_change,
    comparator_change,
    denial_naming_change,
    observation_reading_change,
    question_answered_no_change,
    sentence,
    threshold,
    value_beside_code_change,
    words_in_values_change,
)
from cds_rules.rules.context import (
    CANCER,
    age_fact,
    at_least,
    back_pain_onset,
    context_facts,
    days,
    duration_days,
    latest_onset,
    weight_loss,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.settings import RuleSettings


def pain_not_improving(record: PatientRecord, settings: RuleSettings) -> list[Fact]:
    onset = back_pain_onset(record)
    span = duration_days(record, onset)
    if onset is None or span is None or not (
            settings.no_improvement_days <= span <= settings.episode_max_days):
        return []  # too early to judge, or chronic pain: not this episode's red flag
    worsening = [f for f in context_facts(record) if f.worsening]
    if worsening:
        return worsening
    scores = [f for f in record.series("pain_severity") if f.when and f.when >= onset]
    if len(scores) >= 2 and scores[0].when and scores[-1].when:
        covered = (scores[-1].when - scores[0].when).days >= settings.no_improvement_days
        if covered and _not_lower(scores[-1], scores[0]):
            return [scores[0], scores[-1]]
    return []


def _not_lower(latest: Fact, first: Fact) -> bool:
    """The latest pain score is shown to be at least the first: the latest bounded below or
    measured, the first bounded above or measured ("<=4" then 6: not improving); a latest
    "<7" or a first ">5" may hide an improvement (Quantity.comparator, context.at_least)."""
    if first.comparator in (">", ">="):
        return False
    return at_least(latest, first.value or 0)


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    settings = ctx.settings
    cancer = record.ever(*CANCER)
    factors: list[tuple[str, list[Fact]]] = []
    age = record.age
    lost, percent = weight_loss(record, settings)
    if lost:
        how = f" ({percent:.1f} % of body weight)" if percent is not None else ""
        factors.append((f"Unexplained weight loss{how}.", lost))
    not_improving = pain_not_improving(record, settings)
    if not_improving:
        factors.append((f"Back pain not improving after {settings.no_improvement_days} days.",
                        not_improving))
    night = record.having("night_pain")
    if night:
        factors.append(("Night pain or pain at rest.", night))
    over_age = age is not None and age > settings.malignancy_age
    count = len(factors) + (1 if over_age else 0)
    if not cancer and count < 2:
        return None
    reasons: list[str] = []
    if cancer:
        reasons.append("History of cancer with back pain: the strongest single red flag for "
                       "spinal malignancy (post-test probability about 33 %, Downie 2013).")
    if over_age:
        reasons.append(f"Age {age} (over {settings.malignancy_age}).")
    reasons += [text for text, _ in factors]
    if not cancer:
        reasons.append(f"{count} weak risk factors for malignancy together, no cancer "
                       "history: blood tests and an X-ray first; MRI only if these are "
                       "abnormal or symptoms persist (ACP 2011 table 2; Downie 2013).")
    recs = _cancer_history_orders() if cancer else _weak_factor_orders()
    if age is not None and age >= settings.myeloma_screen_age:
        recs += [Recommendation("fbc", "urgent"), Recommendation("calcium", "urgent")]
        if cancer:
            recs.append(Recommendation("myeloma-screen", "urgent"))
    done = {key: results for key in ("fbc", "calcium", "esr", "crp")
            if (results := recent_results(record, key, settings))}
    recs = [r for r in recs if r.order not in done]
    reasons += _done_reasons(done)
    thresholds = []
    if lost and percent is not None:
        thresholds += [threshold(settings, "weight_loss_percent"),
                       threshold(settings, "weight_loss_window_days")]
    if not_improving:
        thresholds.append(threshold(settings, "episode_max_days"))
    return rule.finding(
        "warning",
        "MRI with and without contrast, ESR and CRP: history of cancer with back pain"
        if cancer else
        "ESR, CRP, full blood count and X-ray (MRI if abnormal or persisting): weak "
        "malignancy risk factors",
        [*cancer, *(f for _, group in factors for f in group),
         *([fact] if over_age and (fact := age_fact(record)) else [])],
        reasons,
        recs,
        thresholds,
    )


def _cancer_history_orders() -> list[Recommendation]:
    return [
        Recommendation("mri-lumbar-with-and-without-contrast", "urgent", recommended=True),
        Recommendation("esr", "urgent"),
        Recommendation("crp", "urgent"),
    ]


def _weak_factor_orders() -> list[Recommendation]:
    return [
        Recommendation("esr", "routine", recommended=True),
        Recommendation("crp", "routine"),
        Recommendation("fbc", "routine"),
        Recommendation("xray-lumbar", "routine"),
    ]


MYELOMA_TESTS = ("fbc", "calcium", "esr")
MYELOMA_LABELS = {"fbc": "Full blood count", "calcium": "calcium",
                  "esr": "ESR (or plasma viscosity)"}
# Result concepts that show a suggested blood test was done (an Observation, not an order).
RESULT_OF = {"fbc": "fbc_result", "calcium": "calcium_result", "esr": "esr", "crp": "crp"}


def recent_results(record: PatientRecord, key: str, settings: RuleSettings) -> list[Fact]:
    """Results of the blood test ``key`` within ``recent_order_days``: the test was done,
    so suggesting it again would be a duplicate (orders.duplicates sees orders only)."""
    concept = RESULT_OF.get(key)
    if concept is None:
        return []
    return record.begun_within(concept, within=days(settings.recent_order_days))


def _done_reasons(done: dict[str, list[Fact]]) -> list[str]:
    return [f"Already done, not suggested again: {facts[-1].display} "
            f"({facts[-1].when.date().isoformat() if facts[-1].when else 'undated'}, "
            f"`{facts[-1].source}`)." for facts in done.values()]


def _myeloma_blood_tests(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    """NICE NG12: 60 or over with persistent back pain -> FBC, calcium, ESR / PV."""
    settings = ctx.settings
    age = record.age
    if ctx.fired(Topic.MALIGNANCY) or age is None or age < settings.myeloma_screen_age:
        return None
    context = context_facts(record)
    span = duration_days(record, latest_onset(context))  # certain duration, partial dates
    if span is None or span < settings.myeloma_persistence_days:
        return None
    done = {key: results for key in MYELOMA_TESTS
            if (results := recent_results(record, key, settings))}
    missing = [key for key in MYELOMA_TESTS
               if key not in done and not orders.duplicates(record, key, settings)]
    if not missing:
        return None  # all three done or on order: NG12's step is taken
    onset = [f for f in context if f.began_by == latest_onset(context)][:1]
    fact = age_fact(record)
    tests = sentence([MYELOMA_LABELS[key] for key in missing])
    return rule.finding(
        "info",
        f"{tests}: 60 or over with persistent back pain (NICE NG12, myeloma)",
        [*onset, *([fact] if fact else [])],
        [f"Age {age} with back pain for {span / 7:.0f} weeks: NICE NG12 recommends blood "
         "tests for myeloma at 60 or over with persistent bone pain, particularly back "
         "pain.", *_done_reasons(done)],
        [Recommendation(key, "routine", recommended=key == missing[0])
         for key in MYELOMA_TESTS if key not in done],  # ordered ones: "already ordered"
        [threshold(settings, "myeloma_persistence_days"),
         threshold(settings, "recent_order_days")],
    )


MAL_01 = Rule(
    id="MAL-01",
    version="2.9.1",
    topic=Topic.MALIGNANCY,
    title="Possible spinal malignancy",
    indicators=("warning",),
    evidence=("downie-2013", "acp-2011", "acr-lbp-v7"),
    advice=(
        "History of cancer: MRI of the lumbar spine (or whole spine) without and with "
        "contrast (ACR variant 7: usually appropriate), ESR and CRP.",
        "Weak factors only (age over 50, weight loss, not improving, night pain): ESR, CRP, "
        "full blood count and an X-ray; MRI only if these are abnormal or the symptoms "
        "persist (ACP 2011 table 2).",
        "Safety-net: any new neurological symptom means emergency assessment for spinal "
        "cord compression.",
    ),
    check=_check,
    changes=present_denial_change("2.9.1")
    + notes_change("2.9.0") + column_value_change("2.8.2") + blank_answer_change("2.8.1")
    + question_answered_no_change("2.8.0")
    + value_beside_code_change("2.7.0")
    + words_in_values_change("2.6.0")
    + denial_naming_change("2.5.0")
    + observation_reading_change("2.4.0")
    + comparator_change("2.3.0",
                              "a body weight (weight loss) or pain score (not improving) is")
    + coded_answer_change("2.2.0")
    + "2.1.0: a blood test with a result in the last RECENT_ORDER_DAYS (CBC panel or "
            "haemoglobin, serum calcium, ESR, CRP) is named as done and not suggested "
            "again; evidence cites ACR variant 7. "
            "2.0.0: graded as Downie 2013 / ACP 2011: a cancer history keeps MRI with and "
            "without contrast; two or more weak factors give ESR, CRP, FBC and X-ray (MRI "
            "only if abnormal or persisting); 'not improving' only within an episode begun "
            "<= EPISODE_MAX_DAYS ago, scores since its onset; the myeloma step moved to "
            "MAL-02; summary leads with the action.",
)

MAL_02 = Rule(
    id="MAL-02",
    version="1.9.1",
    topic=Topic.MALIGNANCY,
    title="NICE NG12 myeloma: 60 or over with persistent back pain, blood tests",
    indicators=("info",),
    evidence=("nice-ng12-myeloma",),
    advice=(
        "Full blood count, serum calcium and ESR or plasma viscosity (NICE NG12, myeloma: "
        "60 and over with persistent bone pain, particularly back pain).",
        "If these suggest myeloma: serum protein electrophoresis and serum free light chains "
        "very urgently (within 48 hours), as NG12 advises.",
    ),
    check=_myeloma_blood_tests,
    changes=present_denial_change("1.9.1")
    + notes_change("1.9.0") + column_value_change("1.8.2") + blank_answer_change("1.8.1")
    + question_answered_no_change("1.8.0")
    + value_beside_code_change("1.7.0")
    + words_in_values_change("1.6.0")
    + denial_naming_change("1.5.0")
    + "1.4.0: a blood test whose only record is a completed order with no date is "
            "not done recently (it may be years old): suggested (before: counted as done; "
            "all three so: no card); an active order with no date is still on order. "
    + observation_reading_change("1.3.0")
    + coded_answer_change("1.2.0")
    + "1.1.0: results count as done, not only orders: an FBC (CBC panel or "
            "haemoglobin), serum calcium or ESR result in the last RECENT_ORDER_DAYS is "
            "named and not suggested; all three done: no card. "
            "1.0.0 (new): NICE NG12 myeloma step on its own: age >= 60 with back pain "
            "persisting >= MYELOMA_PERSISTENCE_DAYS -> info FBC, calcium, ESR unless done "
            "within RECENT_ORDER_DAYS.",
)

RULES = (MAL_01, MAL_02)

