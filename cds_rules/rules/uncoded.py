"""Uncoded entries that name a red flag: a warning on the family's topic, never silence.

CLINICAL.md (decisions of the clinical review): a code the service does not know never
yields reassurance. When a Condition or Observation names a red flag in words its codes do
not say (``cds_rules.uncoded``), the family's topic gets a *warning* "Check the record:
uncoded entry suggests <sign>" -- never critical (the words were not coded, the service
cannot grade them), and its red-flag finding keeps the low-risk pathway cards quiet. Each
sign counts as its coded concept does (``uncoded.HISTORY_SIGNS``): a cancer, osteoporosis
or a fragility fracture at any age and status, a known aneurysm at any age while current,
a symptom while current and within UNCODED_TEXT_WINDOW_DAYS, or in a Condition still
active, older, with no spine MRI since (as the coded rules warn of a sign never assessed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cds_rules.model import Fact, FactStatus, Finding, PatientRecord, Topic
from cds_rules.residual_urine import RESIDUAL_SIGN, Residual
from cds_rules.rules.base import (
    Rule,
    RuleContext,
    threshold,
)
from cds_rules.rules.context import CAUDA_EQUINA_SEGMENT, assessment_reason, mri_since
from cds_rules.rules.uncoded_changes import release
from cds_rules.rules.uncoded_residual import RESIDUAL_REASON
from cds_rules.uncoded import families_of, reading, uncoded_concept


def _counted(record: PatientRecord, topic: Topic, window_days: int,
             residual_ml: float | None) -> list[Fact]:
    """Uncoded hints of ``topic``, each counted as its sign's coded concept is counted; a
    post-void residual only when it reaches ``residual_ml`` (UNCODED-CES alone reads one)."""
    hints = record.ever(uncoded_concept(topic))
    if not hints:
        return []
    since = record.now - timedelta(days=window_days)
    return [f for f in hints if _counts(record, f, since) and (
        f.detail != RESIDUAL_SIGN or (residual_ml is not None
        and Residual(f.value or 0.0, f.comparator).reaches(residual_ml)))]


def _not_read_as_coded(hints: list[Fact], ctx: RuleContext, topic: Topic) -> list[Fact]:
    """The hints whose entry gave no coded fact of this family to a card of it that fired:
    a display of an Observation's value read as coded too ("Low back pain" valued "Cauda
    equina syndrome", displayed) must not add "not evaluated as a coded red flag" to the
    coded card (an independent review, December 2026). A display whose coded fact made no
    card of its family ("Weakness of the leg") still warns."""
    if not hints or not ctx.fired(topic):
        return hints
    coded = {fact.source for finding in ctx.findings if finding.topic is topic
             for fact in finding.facts if topic in families_of((fact.concept,))}
    return [hint for hint in hints if hint.source not in coded]


def _counts(record: PatientRecord, hint: Fact, since: datetime) -> bool:
    """``ever``: any age and status; ``current``: any age while current; a symptom: current
    and dated within the window, or undated (cannot be excluded)."""
    how = reading(hint.detail)
    if how == "ever":
        return True
    if hint.status is not FactStatus.CURRENT:
        return False
    return (how == "current" or hint.when is None or record.may_fall_within(hint, since)
            or _unassessed(record, hint))


def _unassessed(record: PatientRecord, hint: Fact) -> bool:
    """A symptom or diagnosis in a Condition still active, older than the window, with no
    spine MRI since it began: the coded rules warn of such a sign nobody may have assessed
    (CES-02, CORD-02, NEURO-02; INF-01 for an old infection), so its words must not fall
    silent either. An Observation is a finding of its day: read within the window only."""
    segment = CAUDA_EQUINA_SEGMENT if hint.concept == _CES_HINT else None
    return hint.resource_type == "Condition" and not mri_since(record, hint, segment)


_CES_HINT = uncoded_concept(Topic.CAUDA_EQUINA)  # assessed by a lumbar MRI only, as CES-02


def _check_ces(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    """UNCODED-CES: :func:`_check`, a post-void residual counted at the site's threshold."""
    settings = ctx.settings
    return _check(record, ctx, rule, (settings.ces_residual_urine_ml,
                                      threshold(settings, "ces_residual_urine_ml")))


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule,
           residual: tuple[float, tuple[str, str]] | None = None) -> Finding | None:
    """``residual``: the threshold a residual fact must reach, and its card line."""
    facts = _not_read_as_coded(_counted(record, rule.topic,
                                        ctx.settings.uncoded_text_window_days,
                                        residual[0] if residual else None), ctx, rule.topic)
    if not facts:
        return None
    signs = ", ".join(dict.fromkeys(f.detail for f in facts))
    since = record.now - timedelta(days=ctx.settings.uncoded_text_window_days)
    old = [f for f in facts if reading(f.detail) == "symptom" and f.when is not None
           and not record.may_fall_within(f, since)]
    measured = residual is not None and any(f.detail == RESIDUAL_SIGN for f in facts)
    return rule.finding(
        "warning",
        f"Check the record: uncoded entry suggests {signs}",
        facts,
        [f"An entry names {signs} in words that no code the service recognises says (an "
         "unknown code, its text, a code's display or a component). It was not evaluated as "
         "a coded red flag: check the record and assess it, and code it so that the "
         "red-flag rules can read it.", *([assessment_reason(old)] if old else []),
         *([RESIDUAL_REASON] if measured else [])],
        thresholds=([threshold(ctx.settings, "uncoded_text_window_days")]
                    if any(reading(f.detail) == "symptom" for f in facts) else [])
        + ([residual[1]] if measured and residual else []),
    )


_ADVICE = (
    "Open the entry named below and confirm or exclude this red flag with the patient.",
    "If it is present, follow the red-flag pathway for this family.",
    "Record it with a standard code (SNOMED CT, ICD-10) or ask for the local code to be "
    "added to the site code file (BACKPAIN_CDS_SITE_CODES).",
)


def _rule(rule_id: str, topic: Topic, family: str, evidence: tuple[str, ...]) -> Rule:
    version, changes = release(topic)
    return Rule(id=rule_id, version=version, topic=topic,
                title=f"Uncoded entry suggests a {family} red flag", indicators=("warning",),
                evidence=evidence, advice=_ADVICE,
                check=_check_ces if topic is Topic.CAUDA_EQUINA else _check,
                needs=frozenset({uncoded_concept(topic)}), changes=changes)


RULES = (
    _rule("UNCODED-CES", Topic.CAUDA_EQUINA, "cauda equina",
          ("girft-ces", "nice-cks-sciatica", "katzouraki-2020")),
    _rule("UNCODED-CORD", Topic.SPINAL_CORD_COMPRESSION, "spinal cord compression",
          ("nice-ng234",)),
    _rule("UNCODED-NEURO", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, "neurological deficit",
          ("acp-aps-2007",)),
    _rule("UNCODED-MAL", Topic.MALIGNANCY, "malignancy", ("acp-2011", "downie-2013")),
    _rule("UNCODED-INF", Topic.INFECTION, "spinal infection", ("acp-2011",)),
    _rule("UNCODED-FRAC", Topic.FRACTURE, "fracture", ("acp-2011", "downie-2013")),
    _rule("UNCODED-VV", Topic.VISCERAL_OR_VASCULAR, "vascular", ("nice-ng59-alternative",)),
)
