"""Uncoded entries that name a red flag: a warning on the family's topic, never silence.

CLINICAL.md (decisions of the clinical review): a code the service does not know never
yields reassurance. When a current Condition or Observation has no recognised code but
its text names a red flag (``cds_rules.uncoded``), the family's topic gets a *warning*
"Check the record: uncoded entry suggests <sign>" -- never critical (the words were not coded, the
service cannot grade them), and its red-flag finding keeps the low-risk pathway cards quiet.
"""

from __future__ import annotations

from datetime import timedelta

from cds_rules.model import Fact, Finding, PatientRecord, Topic
from cds_rules.rules.base import Rule, RuleContext, coded_answer_change, threshold
from cds_rules.uncoded import uncoded_concept

HISTORY_TOPICS = frozenset({Topic.MALIGNANCY, Topic.VISCERAL_OR_VASCULAR})
"""Families whose words name a history, not a symptom: a cancer or a known aortic
aneurysm counts at any age when coded (MAL-01, VV-01), so its uncoded words do too."""


def _recent(record: PatientRecord, topic: Topic, window_days: int) -> list[Fact]:
    """Uncoded hints of ``topic``: a history at any age; a symptom dated within the window,
    or undated (cannot be excluded)."""
    hints = record.having(uncoded_concept(topic))
    if topic in HISTORY_TOPICS:
        return list(hints)
    since = record.now - timedelta(days=window_days)
    return [f for f in hints if f.when is None or record.may_fall_within(f, since)]


def _check(record: PatientRecord, ctx: RuleContext, rule: Rule) -> Finding | None:
    facts = _recent(record, rule.topic, ctx.settings.uncoded_text_window_days)
    if not facts:
        return None
    signs = ", ".join(dict.fromkeys(f.detail for f in facts))
    return rule.finding(
        "warning",
        f"Check the record: uncoded entry suggests {signs}",
        facts,
        [f"An entry whose code the service does not recognise names {signs} in its text. "
         "It was not evaluated as a coded red flag: check the record and assess it, and "
         "code it so that the red-flag rules can read it."],
        thresholds=([] if rule.topic in HISTORY_TOPICS
                    else [threshold(ctx.settings, "uncoded_text_window_days")]),
    )


_ADVICE = (
    "Open the entry named below and confirm or exclude this red flag with the patient.",
    "If it is present, follow the red-flag pathway for this family.",
    "Record it with a standard code (SNOMED CT, ICD-10) or ask for the local code to be "
    "added to the site code file (BACKPAIN_CDS_SITE_CODES).",
)


_LOINC_CHANGE = ("{version}: a LOINC code's words are not read however its system URI is "
                 "written (\"http://loinc.org/\", spaces, the aliases the value sets accept): "
                 "a test such as \"Cancer Ag 125\" sent as http://loinc.org/ no longer "
                 "gives a warning. ")


_HISTORY_CHANGE = ("1.2.0: the words name a history (cancer, aortic aneurysm), read at any "
                   "age as the coded history is; before, an entry older than "
                   "UNCODED_TEXT_WINDOW_DAYS was not read and the conservative card could "
                   "follow. ")


_BEFORE = ("1.1.0: summary leads with the action ('Check the record: uncoded entry "
           "suggests <sign>'). 1.0.0 (new): an uncoded entry naming a red flag is a warning "
           "on the family's topic, never critical.")


def _rule(rule_id: str, topic: Topic, family: str, evidence: tuple[str, ...]) -> Rule:
    history = topic in HISTORY_TOPICS
    version = "1.4.0" if history else "1.3.0"
    before = "1.3.0" if history else "1.2.0"
    return Rule(id=rule_id, version=version, topic=topic,
                title=f"Uncoded entry suggests a {family} red flag", indicators=("warning",),
                evidence=evidence, advice=_ADVICE, check=_check,
                changes=(coded_answer_change(version) + _LOINC_CHANGE.format(version=before)
                         + (_HISTORY_CHANGE if history else "") + _BEFORE))


RULES = (
    _rule("UNCODED-CES", Topic.CAUDA_EQUINA, "cauda equina", ("girft-ces", "nice-cks-sciatica")),
    _rule("UNCODED-CORD", Topic.SPINAL_CORD_COMPRESSION, "spinal cord compression",
          ("nice-ng234",)),
    _rule("UNCODED-NEURO", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, "neurological deficit",
          ("acp-aps-2007",)),
    _rule("UNCODED-MAL", Topic.MALIGNANCY, "malignancy", ("acp-2011", "downie-2013")),
    _rule("UNCODED-INF", Topic.INFECTION, "spinal infection", ("acp-2011",)),
    _rule("UNCODED-FRAC", Topic.FRACTURE, "fracture", ("acp-2011", "downie-2013")),
    _rule("UNCODED-VV", Topic.VISCERAL_OR_VASCULAR, "vascular", ("nice-ng59-alternative",)),
)
