"""What every rule is: an identified, versioned, evidence-backed predicate over the record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cds_rules.model import (
    HOOKS,
    RED_FLAG_TOPICS,
    SYMPTOM_CONCEPTS,
    UNREAD,
    UNREAD_DRAFT,
    Fact,
    Finding,
    Indicator,
    Order,
    PatientRecord,
    Recommendation,
    Topic,
    UnreadDraft,
)
from cds_rules.rules.context import assessment_reason
from cds_rules.settings import RuleSettings


@dataclass(slots=True)
class RuleContext:
    """What a rule may know beyond the record: the hook, the settings, earlier findings.

    ``findings`` holds the findings of every rule evaluated so far (red-flag families run
    first), so that pathway rules can stand down when a red flag fired.
    ``selections``: on order-select, the draft orders being selected (relative refs).
    ``failed``: rules that raised. A red-flag rule that could not run cannot exclude its
    red flag, so it counts as fired (safety principle 1): the pathway cards stand down.
    """

    hook: str
    settings: RuleSettings
    selections: tuple[str, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    failed: list[Rule] = field(default_factory=list)

    def fired(self, *topics: Topic) -> bool:
        wanted = set(topics)
        return any(f.topic in wanted for f in self.findings)

    @property
    def red_flag_fired(self) -> bool:
        return any(f.topic in RED_FLAG_TOPICS for f in self.findings) or any(
            rule.topic in RED_FLAG_TOPICS for rule in self.failed)

    def stands_down_for_red_flag(self, record: PatientRecord) -> bool:
        """Should a pathway card stand down for a red flag? Yes if one fired; but while an
        entry could not be read, only for a red-flag card the site shows (critical, or its
        topic on): every card names the unread entry, and a hidden card names nothing."""
        if not record.unreadable_red_flags:
            return self.red_flag_fired
        return self.red_flag_shown

    @property
    def red_flag_shown(self) -> bool:
        """A red-flag card the site shows (critical, or its topic on) was given."""
        return any(f.topic in RED_FLAG_TOPICS and shown_at_site(f, self.settings)
                   for f in self.findings)


def shown_at_site(finding: Finding, settings: RuleSettings) -> bool:
    """A finding of a topic switched off at the site is not shown, unless it is critical:
    an emergency in the record is always shown (safety principle 1, PATHWAY.md 4)."""
    return finding.indicator == "critical" or settings.enabled(finding.topic)


def sentence(names: Sequence[str]) -> str:
    """"A", "A and B", "A, B and C", capitalised: names listed on a card."""
    text = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return text[:1].upper() + text[1:]


def coded_answer_change(version: str) -> str:
    """What ``version`` changed for every rule (terminology audit, December 2026, finding
    10): a coded "no" answer was read as a finding (cds_rules/CHANGELOG.md)."""
    return (f"{version}: an Observation whose coded value answers no, absent or negative "
            "(HL7 v2-0136 N, SNOMED CT 373067005, LOINC LA32-8, LA9634-2, LA6577-6, "
            "LA11883-8), or says so in the value's text or display, states its finding "
            "absent (before: counted present; an HLA-B27 coded Negative read as positive). ")


def observation_reading_change(version: str) -> str:
    """What ``version`` changed for every rule (December 2026): an Observation's
    dataAbsentReason and a coded value's text read as what they say (cds_rules/CHANGELOG.md)."""
    return (f"{version}: a finding Observation's dataAbsentReason not-asked, not-performed or "
            "not-applicable (nobody asked or looked) is no fact; any other (asked-unknown, "
            "unknown, asked-declined, masked, error...) does not deny the finding, which counts "
            "as a value 'Unknown' does (before: any dataAbsentReason read as absent); a coded "
            "value's text that denies the finding ('No urinary retention') states it absent "
            "when no value set knows the value's codings (before: read as present). ")


def denial_naming_change(version: str) -> str:
    """What ``version`` changed for every rule reading Observations (thirteenth session,
    December 2026): a denial of something else silenced the Observation's own finding."""
    return (f"{version}: a sentence in an Observation's value (valueString or a coded "
            "value's text) that denies something states a red-flag sign's finding absent "
            "only when it names that sign ('No bladder problems' for urinary retention, 'No "
            "tingling' for saddle anaesthesia; a syndrome, cauda equina or cord compression, by "
            "its own name only) or names nothing but the denial ('No new symptoms', 'Nil of "
            "note'; for a symptom also 'No longer'); a denial of something else ('No fever', "
            "'No new bone pain' in a row coded urinary retention), a qualifier alone ('Not "
            "acute', 'Not on the left') or 'No other red flags' leaves the sign standing "
            "(before: any such denial silenced it, and an emergency gave no card); a panel's "
            "value denies a component without a value of its own only when it would deny the "
            "component's own finding; findings that are no red-flag sign (tests, care given, "
            "risk factors) and HLA-B27 results in words are read as before. ")


def value_beside_code_change(version: str) -> str:
    """What ``version`` changed for every rule reading a finding from an Observation
    (twenty-third session, December 2026): a coded value naming a finding the code does not
    is read, where it was read only under a code no value set knows."""
    return (f"{version}: an Observation's or a component's coded value naming a finding its "
            "code does not is read as that finding, present unless the value says no, as a "
            "value under an unknown code already was: a panel's component 'Bladder' valued "
            "urinary retention (SNOMED CT 267064002), 'Low back pain' (279039007) valued 'Cauda "
            "equina syndrome' (192970008) or a urinary retention code, a urinary retention "
            "code valued a cauda equina syndrome, a body temperature valued 'Fever' (before: "
            "the value was passed over, so the conservative card said no red flag recorded, "
            "or only the uncoded warning of its display was given). Left to its words, as "
            "before: a value under a past-history code (Z85), a family history, a past "
            "operation or procedure, or care given, and a value whose text says more than its "
            "displays ('CES ruled out'), and a back pain or sciatica valued under another "
            "code (it would date the episode); its display is still read for a red flag the "
            "coded rules do not count. ")


def question_answered_no_change(version: str) -> str:
    """What ``version`` changed for every rule (twenty-fifth session, December 2026): a
    checklist's question answered no was read as the sign it asks about."""
    return (f"{version}: a red-flag sign written as a checklist's question answered no "
            "('Saddle anaesthesia? No', 'Urinary retention? - N', 'Legs giving way?: nil'), in "
            "an Observation's value or an entry's words, states the sign absent (before: the "
            "question mark kept the sign, so a coded saddle anaesthesia valued 'Saddle "
            "anaesthesia? No' gave the critical cauda equina card, and the same words in a "
            "note the uncoded warning); a question with any other answer ('Retention? Yes', "
            "'? not sure', 'Retention? No - 900 ml on bladder scan') or a query before the sign "
            "('?CES - no') keeps it, as before. ")


def blank_answer_change(version: str) -> str:
    """What ``version`` changed for every rule (twenty-eighth session, December 2026): a
    question answered no after two blanks or a tab was read as the sign it asks about."""
    return (f"{version}: a checklist's question answered no after two blanks or a tab "
            "('Urinary retention?  No', 'Saddle anaesthesia?<tab>No', a flattened form's "
            "columns) states the sign absent, as after one blank (before: the blanks split "
            "the answer off, so a coded retention row so valued gave the critical cauda "
            "equina card, and the same words the uncoded warning or a weak red flag). ")


def words_in_values_change(version: str) -> str:
    """What ``version`` changed for every rule reading a red-flag sign in an Observation's
    value (twenty-second session, December 2026): the red-flag words a value's denial
    leaves standing are read as the uncoded reader now reads them."""
    return (f"{version}: an Observation's value in words is read with the red-flag words of "
            "this date: 'No cauda equina compression' states a cauda equina sign absent "
            "(before: the compression left it standing, a false critical card), and does not "
            "deny a cord compression; a value naming a red flag its denial leaves standing "
            "('legs giving way', 'a pulsatile abdominal mass') is no denial of the row's "
            "sign; a value naming the sign as a screen, a risk, a stress or urge type, an "
            "ending or a family's history ('No cancer screening', 'Denies urinary "
            "incontinence (stress)', 'No FHx of cancer', 'Not screened for retention') is "
            "weighed as before; a denial of another sign by a word the two share no longer "
            "denies the row's ('No urinary incontinence' in a row coded urinary retention, "
            "'No urinary retention' or 'No faecal incontinence' in one coded urinary "
            "incontinence, 'No conus compression' in one coded cord compression: before, "
            "each gave the conservative card over the coded sign). ")


def part_naming_change(version: str) -> str:
    """What ``version`` changed for the rules reading an osteoporosis, a vertebral fracture,
    an aortic aneurysm or dissection (fourteenth session, December 2026): a denial naming
    one of two findings that share a sign silenced the other."""
    return (f"{version}: a denial in an Observation's value names osteoporosis and a "
            "vertebral fracture apart, and an aortic aneurysm and a dissection: a row coded "
            "or worded osteoporosis holding 'No fracture', or an aneurysm ('AAA') holding 'No "
            "dissection' or 'No aortic dissection', keeps its finding (before: silenced: the "
            "two findings shared one list of words); 'No aortic problems' still denies either, "
            "a row in words naming both findings is denied by a word for either, as before, "
            "and a code in both value sets needs a word for each. ")


ANOTHER_PART = ("a denial of another part of the body's weakness, numbness or tingling "
                "(shoulder, neck, chest, knee, hip, elbow, wrist, eye, jaw, tongue, trunk, as "
                "arms, hands and face before) no longer denies a saddle, foot-drop or "
                "leg-weakness sign: a saddle anaesthesia row holding 'No knee numbness', a foot "
                "drop holding 'No shoulder weakness' keeps its sign (before: silenced); 'No "
                "weakness in hips or legs' still denies it. ")


def fault_named_change(version: str) -> str:
    """What ``version`` changed on a check-first card (CONS-01, IMG-01): an entry the
    service failed to read (record/reader_faults) is set aside like a malformed one."""
    return (f"{version}: the check-first card's advice names a fault in the service beside "
            "a malformed entry as why the service could not read it (before: 'malformed: an "
            "impossible date, an id with a space' only) and asks to correct only a malformed "
            "entry: an entry a reader failed on is now set aside like a malformed one, by its "
            "red flags or as itself ('an unread <type> entry', whose reason says so). ")


def symptoms_set_aside_change(version: str = "") -> str:
    """What ``version`` changed where a card turns on an entry the service could not read
    (twentieth session): back pain and leg symptoms in such an entry are set aside too.
    No ``version``: a second change of a version already named."""
    return (f"{f'{version}: ' if version else 'Also '}a back pain, sciatica, leg pain or "
            "leg numbness in an entry the service could not read (malformed, or not read for "
            "a fault) is set aside like a red flag and read as one with no date (red-flag "
            "rules read back pain beside an aneurysm, a kidney stone or a weakness, and a "
            "sciatica on both sides is a cauda equina sign; its onset unknown): the card asks "
            "for it to be checked first instead of 'no red flag' or advice against the order; "
            "such a back pain is the call's context. An entry set aside is listed as 'not "
            "read', not 'date not recorded'. ")


def another_part_change(version: str) -> str:
    """What ``version`` changed for the rules reading a saddle, foot-drop or leg-weakness
    sign (fourteenth session, December 2026): a denial of another part's weakness or
    numbness silenced it (:data:`ANOTHER_PART`)."""
    return f"{version}: {ANOTHER_PART}"


def unreadable_entry(fact: Fact) -> str:
    """A reason's opening for a red flag set aside unread (record/unreadable.py), or for an
    entry set aside as itself (not read for a fault, what it names unknown)."""
    if fact.concept == UNREAD:
        article = "An" if fact.resource_type[:1] in "AEIOU" else "A"
        return (f"{article} {fact.resource_type} entry could not be read ({fact.detail}): "
                "what it records is unknown, and no red-flag rule read it")
    read = ("it is read as one with no date" if fact.concept in SYMPTOM_CONCEPTS else
            "no red-flag rule read it")
    return (f"{fact.display} is named by an entry the service could not read "
            f"({fact.resource_type}: {fact.detail}), so {read}")


def check_before_deciding(rule: Rule, facts: list[Fact], order: str, why: str) -> Finding:
    """The card over a draft ``order`` while an entry could not be read (``facts[0]``):
    never "remove the draft" over it, nor silence on the order; the clinician checks the
    entry before deciding (IMG-01, EMG-02)."""
    first = facts[0]
    return rule.finding(
        "info",
        f"Check {first.display} in the chart before deciding on {order}: entry unreadable",
        facts,
        [f"{unreadable_entry(first)}: {why}"],
        advice=CHECK_THE_ENTRY_FIRST,
        checks_unread=True,
    )


def order_not_read(rule: Rule, unread: Sequence[UnreadDraft], order: str,
                   others_read: bool = False) -> Finding:
    """The card over a draft ``order`` the service could not read (PATHWAY.md 2): no card
    would read as "checked, nothing to say"; no advice for or against the order, nothing
    offered for deletion (IMG-01, EMG-02). The red-flag checks ran on the rest of the
    record (IMG-01 stands down for a red-flag card the site shows: every card names the
    draft). ``others_read``: drafts of the same kind were read, and had nothing said of
    them. A draft whose kind is unknown (its codes could not be looked up) is "order"."""
    first = unread[0]
    what = order if any(d.kinds for d in unread) else "order"
    which = "one of the orders" if others_read else "the order"
    return rule.finding(
        "info",
        f"Decide on the draft {what} without this service: it could not read {which}",
        [Fact(concept=UNREAD_DRAFT, display=f"{d.display} (draft order)", source=d.source,
              resource_type=d.resource_type, detail=d.detail) for d in unread],
        [f"The draft {first.display} could not be read ({first.resource_type}: "
         f"{first.detail}), so no rule advised for or against it; the red-flag checks ran "
         "on the rest of the record."],
        advice=ORDER_NOT_READ,
    )


ORDER_NOT_READ = (
    "Decide on the order as you would without decision support: the service could not read "
    "the draft (malformed, such as an impossible date or an id with a space, or a fault in "
    "the service).",
    "A malformed draft is the EHR's to correct (its operators see it in the service's audit "
    "as a data gap); one not read for a fault in the service needs no change.",
)
"""What to do on a card over a draft order the service could not read (:func:`order_not_read`)."""


PATHWAY_IF_CURRENT = ("If the red flag is current, its pathway applies now (for a cauda "
                      "equina sign: emergency MRI of the lumbar spine, GIRFT 2023)")
"""The second line of every check-first card's advice, before what to do with the entry."""

CHECK_THE_ENTRY_FIRST = (
    "Open the entry in the chart and read it: the service could not (malformed, such as "
    "an impossible date or an id with a space, or a fault in the service), so no red-flag "
    "rule read it.",
    f"{PATHWAY_IF_CURRENT}; if not, and the entry is malformed, correct or remove it (one "
    "not read for a fault in the service needs no change).",
)
"""What to do on a card that asks for an unreadable red-flag entry to be checked first
(record/unreadable.py): no "reassure", no "remove the order" beside it."""


def comparator_change(version: str, reads: str) -> str:
    """What ``version`` changed where a rule reads a measured value (terminology audit,
    December 2026, finding 12): Quantity.comparator was ignored."""
    return (f"{version}: {reads} read with its Quantity.comparator: a value bounded above "
            "('<38 Cel') cannot show a value at or above a threshold, one bounded below "
            "('>7' pain) cannot show a value under one, except an MRC grade, which counts as "
            "the lowest whole grade it allows ('>3' as 4); what a bound shows still counts "
            "('>39 Cel' is a fever). Before, the comparator was ignored. ")


def lumbar_mri_words_change(version: str) -> str:
    """What ``version`` changed where a rule reads a completed spine MRI (December 2026,
    safety-b): lumbar MRIs written in PACS shorthand were not recognised."""
    return (f"{version}: an ImagingStudy is also a spine MRI when its description says "
            "'LSPINE', 'LSSPINE', 'TLSPINE', 'thoracolumbar' or 'cauda equina' ('MR LSPINE', "
            "'MRI CAUDA EQUINA PROTOCOL'), or a series body site is a DICOM Body Part Examined "
            "term of the spine below the neck (SPINE, TSPINE, TLSPINE, LSPINE, LSSPINE; code "
            "or display); before, no spine MRI was found: 'no spine MRI since' warnings and "
            "MRI suggestions over a lumbar MRI. CSPINE, CTSPINE, SSPINE, COCCYX and WHOLEBODY "
            "are no spine MRI. ")


Check = Callable[[PatientRecord, RuleContext, "Rule"], Finding | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One recommendation of the guideline turned into a check (one artefact each).

    ``id`` is stable; ``version`` (semver) is bumped whenever logic, a threshold or the
    evidence changes. ``indicators``: the indicators this rule can produce (catalogue).
    ``advice``: the "What to do" lines of its card. ``phase``: red flags run before the
    pathway rules, which may depend on them. ``changes``: what this version changed
    (``backpain-cds rules``; the full history is ``cds_rules/CHANGELOG.md``).
    ``needs``: concepts of which the record must hold a fact (any status, any date) for
    ``check`` to find anything; on a record holding none the check is not run (issue
    #15: most checks ask about signs the record does not hold). None: always run (a check
    that can fire on age, orders or the absence of facts). A superset is always safe; a
    missing concept would silence the rule, so every gated check is tested to find
    nothing on records without its needs (tests/unit/core/test_rule_needs.py). A check
    not run cannot raise either: no "could not run" warning on such a record.
    ``asks_to_check_unread``: its card may ask for an entry the service could not read to
    be checked first (:attr:`Finding.checks_unread`): while one could not be read it runs
    where its topic is switched off too, and only such a card of it is then kept.
    """

    id: str
    version: str
    topic: Topic
    title: str
    indicators: tuple[Indicator, ...]
    evidence: tuple[str, ...]
    advice: tuple[str, ...]
    check: Check
    hooks: tuple[str, ...] = HOOKS
    phase: Literal["red-flag", "pathway"] = "red-flag"
    changes: str = ""
    needs: frozenset[str] | None = None
    asks_to_check_unread: bool = False

    def evaluate(self, record: PatientRecord, ctx: RuleContext) -> Finding | None:
        if ctx.hook not in self.hooks:
            return None
        if self.needs is not None and self.holds_none_of_its_needs(record.present_concepts()):
            return None
        return self.check(record, ctx, self)

    def holds_none_of_its_needs(self, present: frozenset[str]) -> bool:
        """A record of the concepts ``present`` holds nothing this check reads
        (:attr:`needs`): the check is not run on it."""
        return self.needs is not None and present.isdisjoint(self.needs)

    def finding(
        self,
        indicator: Indicator,
        summary: str,
        facts: Iterable[Fact],
        reasons: Iterable[str] = (),
        recommendations: Iterable[Recommendation] = (),
        thresholds: Iterable[tuple[str, str]] = (),
        delete_drafts: Iterable[Order] = (),
        advice: Iterable[str] | None = None,
        checks_unread: bool = False,
    ) -> Finding:
        """A finding of this rule; facts are de-duplicated, first occurrence kept;
        ``advice``: this finding's own, instead of the rule's; ``checks_unread``: see
        :attr:`Finding.checks_unread`."""
        return Finding(
            topic=self.topic,
            rule_id=self.id,
            rule_version=self.version,
            indicator=indicator,
            summary=summary,
            facts=most_telling_first(unique_facts(facts)),
            reasons=tuple(dict.fromkeys(reasons)),
            recommendations=tuple(recommendations),
            delete_drafts=tuple(delete_drafts),
            thresholds=tuple(dict.fromkeys(thresholds)),
            advice=None if advice is None else tuple(advice),
            checks_unread=checks_unread,
        )


def unassessed_finding(rule: Rule, facts: Sequence[Fact], what: str,
                       thresholds: Iterable[tuple[str, str]] = (),
                       elsewhere: Sequence[Order] = (), segment: str = "",
                       name: str | None = None, imaged_side: Sequence[Fact] = ()) -> Finding:
    """The warning for a red flag that is history, or persists past its "new" window, with
    no spine MRI since it began: "confirm it has been assessed" (CLINICAL.md review: never
    an emergency at every visit, never the conservative-care card). No order: the
    clinician decides what the assessment needs. ``elsewhere``: MRIs done since that did
    not image ``segment`` (a thoracic MRI after a cauda equina sign): the summary says "no
    <segment> spine MRI since" and the card names each, so it does not read as untrue.
    ``name``: the summary's name of the first fact (default: its display). ``imaged_side``:
    the other side of a bilateral sign, imaged since it began but before this side did:
    shown, and said to be imaged, so that "no MRI since" is said only of what it is true of."""
    first = facts[0]
    when = _date(first)
    name = name or first.display
    name = name if len(name) <= 48 else name[:47].rstrip() + "…"
    mri = f"{segment} spine MRI" if elsewhere and segment else "spine MRI"
    not_counted = [f"{o.display} ({_date(o)}, "
                   f"`{o.source}`) was done since but does not image the {segment} spine: "
                   f"not counted as its assessment." for o in elsewhere]
    imaged = [f"{f.display} ({f.laterality}) recorded {_date(f)} has a spine MRI since; the "
              "other side's sign may have begun after that MRI, so the sign on both sides may "
              "not have been imaged." for f in imaged_side]
    return rule.finding(
        "warning",
        f"Confirm it has been assessed: {name}, recorded {when}, no {mri} since",
        [*facts, *imaged_side],
        [f"{assessment_reason(facts, mri)} ({what})", *imaged, *not_counted,
         "Older than the 'new' window, so not treated as an emergency; it is not excluded "
         "either: re-ask about the symptom and look for an assessment in the notes."],
        (),
        thresholds,
    )


def _date(item: Fact | Order) -> str:
    """The day a fact or an order is dated, or "undated"."""
    return item.when.date().isoformat() if item.when else "undated"


# Facts that only set the scene: shown after the facts that make the finding (review 4.6:
# the most important "why" fact first, e.g. the red-flag sign before the patient's age).
_BACKGROUND = {"age": 2, "low_back_pain": 1, "thoracic_back_pain": 1}


def most_telling_first(facts: tuple[Fact, ...]) -> tuple[Fact, ...]:
    """The facts in the rule's order, except that back-pain and age facts (which set the
    scene) follow the facts that make the finding; a stable sort keeps the rule's order."""
    return tuple(sorted(facts, key=lambda fact: _BACKGROUND.get(fact.concept, 0)))


def unique_facts(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    seen: set[tuple[str, str, str]] = set()
    kept: list[Fact] = []
    for fact in facts:
        key = (fact.source, fact.concept, fact.code)
        if key not in seen:
            seen.add(key)
            kept.append(fact)
    return tuple(kept)


def threshold(settings: RuleSettings, name: str) -> tuple[str, str]:
    """A (setting name, value) pair for :attr:`Finding.thresholds`."""
    return (name, f"{getattr(settings, name):g}" if isinstance(getattr(settings, name), float)
            else str(getattr(settings, name)))
