"""Red flags named in the text of an entry whose code no value set knows.

An EHR that codes a red flag with a local or unknown code still writes words: "urinary
retention", "saddle anaesthesia", "cord compression". CLINICAL.md (decisions of the
clinical review): such an entry never yields reassurance; it gives a *warning* on its
family's topic saying "uncoded entry suggests <sign>: check", never a critical card.

A short phrase list per family (the signs of CLINICAL.md's rule-family table:
:mod:`cds_rules.uncoded_phrases`), matched per clause with word boundaries; a clause
negated by the caller's negation test ("no saddle anaesthesia", "retention: absent") does
not count, a symptom said to be over ("Foot drop (resolved)") does not either, and a few
phrases are excluded where the family itself excludes them (non-melanoma skin cancer is not
a cancer history).
Results are cached per text: records repeat the same displays thousands of times.

Each sign is read as the coded path reads its family's concept (:data:`HISTORY_SIGNS`): a
history (a cancer, osteoporosis) at any age, a symptom only when current and recent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Literal

from cds_rules.model import Topic
from cds_rules.uncoded_phrases import (
    CANCER_SITE,
    FELT_FOR,
    NOT_FOUND_ON_EXAMINATION,
)
from cds_rules.uncoded_phrases import PHRASES as _PHRASES
from cds_rules.uncoded_reading import Part, closed_signs, denied, excluded_near

UNCODED_PREFIX = "uncoded:"

Reading = Literal["symptom", "current", "ever"]
"""How an uncoded sign counts: ``symptom``, a current entry dated within
UNCODED_TEXT_WINDOW_DAYS (or undated); ``current``, a current entry of any age; ``ever``,
an entry of any age and any clinical status (not refuted, entered in error or absent)."""

HISTORY_SIGNS: dict[str, Reading] = {
    # MAL-01 and CORD-01 read a cancer with record.ever(*CANCER): any status, any age.
    "cancer": "ever",
    # FRAC-01 reads osteoporosis and a prior fragility or vertebral fracture with
    # record.ever: any status, any age.
    "vertebral fracture or osteoporosis": "ever",
    # VV-01 reads a known aneurysm or a dissection with record.having: current, any age.
    "aortic aneurysm or dissection": "current",
}
"""Signs read as their coded concept is read at any age; every other sign is a symptom
(its coded concept counts when new, within its family's window)."""


def reading(sign: str) -> Reading:
    """How ``sign`` (a fact's detail) counts: see :data:`HISTORY_SIGNS`."""
    return HISTORY_SIGNS.get(sign, "symptom")


# The sign each red flag's coded concept names (the concepts of the families' coded rules):
# an entry coded with one already gives its family, so its words do not give an uncoded
# card too; and a denial in words answers for it only when it names the sign
# (:mod:`cds_rules.sign_words`).
CODED_SIGNS: dict[str, str] = {
    "cauda_equina_syndrome": "cauda equina syndrome", "urinary_retention": "urinary retention",
    "urinary_incontinence": "urinary incontinence", "faecal_incontinence": "faecal incontinence",
    "saddle_anaesthesia": "saddle anaesthesia",
    "loss_of_rectal_sensation": "loss of anal tone or rectal sensation",
    "myelopathy": "myelopathy", "gait_disturbance": "gait disturbance",
    "hyperreflexia": "upper motor neurone signs",
    "foot_drop": "foot drop", "muscle_weakness": "leg weakness",
    **dict.fromkeys(("cancer", "bone_metastasis", "myeloma"), "cancer"),
    **dict.fromkeys(("spinal_infection", "epidural_abscess"), "spinal infection"),
    **dict.fromkeys(("osteoporosis", "fragility_fracture", "vertebral_fracture_cord_injury"),
                    "vertebral fracture or osteoporosis"),
    **dict.fromkeys(("aortic_aneurysm", "aortic_dissection"), "aortic aneurysm or dissection"),
}
_FAMILY_OF_SIGN: dict[str, Topic] = {sign: topic for topic, phrases in _PHRASES.items()
                                     for sign, _ in phrases}
_CODED_FAMILIES: dict[str, Topic] = {concept: _FAMILY_OF_SIGN[sign]
                                     for concept, sign in CODED_SIGNS.items()}


def families_of(concepts: Iterable[str]) -> frozenset[Topic]:
    """The red-flag families the coded ``concepts`` of an entry already give."""
    return frozenset(_CODED_FAMILIES[c] for c in concepts if c in _CODED_FAMILIES)


# Phrases that take a clause out of a family (the family excludes them by code too).
_EXCLUDED: dict[Topic, str] = {
    Topic.MALIGNANCY: r"basal[- ]cell|bcc\b|rodent\s+ulcer|squamous\s+cell\s+carcinoma\s+of\s+"
                      r"(?:the\s+)?skin|skin\s+cancer|non[- ]melanoma|in[- ]situ|"
                      r"malignant\s+neoplasm\s+of\s+(?:the\s+)?skin",
    # a cancer of the nerve roots (ICD-10 C72.1) is a cancer, not the syndrome by name
    Topic.CAUDA_EQUINA: r"neoplasm\s*(?:of|:)\s*(?:the\s+)?cauda\s+equina",
}
# Parts of a sentence read on their own ("No leg weakness but new urinary retention").
_PARTS = re.compile(r"\bbut\b|\bhowever\b|\bwhereas\b|\balthough\b", re.I)
_PATTERNS: tuple[tuple[Topic, str, re.Pattern[str]], ...] = tuple(
    (topic, sign, re.compile(rf"\b(?:{pattern})", re.I))
    for topic, phrases in _PHRASES.items() for sign, pattern in phrases
)
_EXCLUDED_PATTERNS = {topic: re.compile(p, re.I) for topic, p in _EXCLUDED.items()}
_ANY = re.compile("|".join(rf"\b(?:{p})" for phrases in _PHRASES.values() for _, p in phrases),
                  re.I)
# A checklist flattened: "Fever: no  Trauma: no", "Trauma?  Urinary retention? No": each
# sentence is split into its cells at a tab or two blanks, and a cell is joined to the label
# before it only when it is that label's value (:func:`_clauses`).
_DENIAL = r"(?:no|n|nil|none|absent|negative|neg|denie[sd])(?![/\w])"  # not "N/A", "N/K"
_ANSWER = (r"(?:(?:yes|y|present|positive|pos)(?![/\w])|" + _DENIAL
           + r"|\u2713|\u2714|\[\s*+[x\u2713\u2714]\s*+\]|\+)")
_FINDING = r"(?:reduced|altered|lost|diminished|decreased|impaired|abnormal|lax|patulous)(?![/\w])"
_SENTENCES = re.compile(r"[.;\n]+")
_CELL_BREAK = re.compile(r"\s{2,}|\t")  # a run of blanks once (two tabs are one break)
_MARK = r"[:\-\u2013]?[ \t]*+"
_AN_ANSWER = re.compile(_MARK + _ANSWER + r"\.?", re.I)  # a whole cell
_A_VALUE = re.compile(_MARK + r"(?:" + _ANSWER + "|" + _FINDING + r")\.?", re.I)
_A_DENIAL = re.compile(_MARK + _DENIAL + r"\.?", re.I)
_A_FIGURE = re.compile(_MARK + r"\d")
# after a label's value, only the form's next item keeps the value the label's: a label of
# its own with its mark ("Fever: no", "Saddle anaesthesia?"), not another column's value or
# words ("Yes - catheterised", "Not recorded", "-", "08:00", "else")
_A_NEXT_ITEM = re.compile(r"(?!(?i:" + _MARK + r"(?:" + _ANSWER + "|" + _FINDING + r"|not|unable|"
                          r"declined|refused|unknown|n/?[ak]|new|same|comments?|notes?|details?|"
                          r"remarks?|time|date|onset|since|today)\b))[A-Z][^?:]*+[?:].*+", re.S)
# ... nor a label said in words: "Reports urinary retention  No", "c/o retention  Nil"
_SAID_IN_WORDS = re.compile(r"\b(?:reports?|reported|c/o|complain\w*|has|had|have|new|"
                            r"developed|history|hx|presents?|presented|states?|describes?|"
                            r"noted|since|onset|with|patient|pt)\b", re.I)
# ... and a value of another column that is no answer or loss: "Foot drop<tab>Absent<tab>Normal"
# is a row of two values (a side's, a visit's), not a denial
_ANOTHER_VALUE = re.compile(_MARK + r"(?:normal|intact|unknown|unsure|n/?[ak]|not\s+(?:known|"
                            r"assessed|tested|examined|done)|nad|ok|same|unchanged|new|"
                            r"worse|better|left|right|bilateral|both)(?![/\w])\.?", re.I)


def _clauses(text: str) -> Iterator[str]:
    """Each sentence's clauses: its cells, each value joined to its label.

    A question's answer standing alone ("Saddle anaesthesia?  No", "Urinary retention?<tab>
    No<tab>Fever?<tab>No") or a figure ("Temp?  38.9", "PVR?  250ml") is its question's, as
    since the twenty-eighth session; an answer with more after it in its cell ("Urinary
    retention?  No - failed TWOC") is not, so the question stays open and keeps its sign.
    A label's value standing alone ("Urinary retention:  No", "Anal tone<tab>Reduced",
    "Saddle sensation?  Reduced") is its label's when it is the row's only value, or when
    every value of the run denies ("Urinary retention?<tab>No<tab>No"): a row with two
    columns of values ("Urinary retention<tab>Present<tab>No", now and before) keeps its
    label standing, and a row that opens with its answer ("Yes<tab>Urinary retention<tab>
    No<tab>Fever"), whose value is followed by anything but the form's next item with its
    own mark ("Fever: no", "Saddle anaesthesia?": not "Yes - catheterised", "Not recorded",
    "else"), or whose label is said in words ("Reports urinary retention  No") joins nothing
    new (two independent reviews: a second column's "No", a later column's "Yes - new", or a
    word of the prose after it, denied the sign)."""
    for sentence in _SENTENCES.split(text):
        cells = [cell.strip() for cell in _CELL_BREAK.split(sentence)]
        answer_first = bool(_A_VALUE.fullmatch(cells[0]))
        at = 0
        while at < len(cells):
            taken = _values_taken(cells, at, answer_first)
            yield " ".join(cells[at:at + 1 + taken])
            at += 1 + taken


def _values_taken(cells: list[str], at: int, answer_first: bool) -> int:
    """How many cells after ``cells[at]`` are its value (0 or 1)."""
    if at + 1 == len(cells):
        return 0
    label, value = cells[at], cells[at + 1]
    if label.endswith("?") and (_AN_ANSWER.fullmatch(value) or _A_FIGURE.match(value)):
        return 1  # a question's answer or figure (the twenty-eighth session's reading)
    if answer_first or not _A_VALUE.fullmatch(value) or _A_VALUE.fullmatch(label) \
            or _SAID_IN_WORDS.search(label):
        return 0
    run = 1
    while at + 1 + run < len(cells) and (_A_VALUE.fullmatch(cells[at + 1 + run])
                                         or _ANOTHER_VALUE.fullmatch(cells[at + 1 + run])):
        run += 1
    after = at + 1 + run
    if after < len(cells) and not _A_NEXT_ITEM.fullmatch(cells[after]):
        return 0  # "... No<tab>Yes - catheterised", "... Nil  else": another column, words
    return 1 if run == 1 or all(_A_DENIAL.fullmatch(cells[at + 1 + i]) for i in range(run)) \
        else 0


# "Ca. prostate", "CA. of the breast" (twelfth session): the abbreviation's full stop, two
# spaces at most (no line break), a bracket or a side ("Ca. (prostate)", "Ca. left
# breast", "Adenoca. prostate": thirteenth session), a site, and then only what follows a
# cancer's name in a history: the end, punctuation, a year or stage, "on hormones",
# "resected", "in remission", a treatment ("radiotherapy 2019", "mastectomy", "ADT") or a
# side ("left 2015")... A list ending in calcium and a new sentence about an organ ("U&E,
# Ca. Prostate normal size on PR", "Ca. Bladder: retention", "Lives in CA. Kidney stones")
# is not joined.
_CANCER_CONTEXT = (r"(?=\s*(?:$|[,.;)(\-\u2013]|\d|[tnm][0-4x]|stage|grade|gleason|on\b|"
                   r"with\b|treated|resected|excised|removed|in\s+remission|remission|dx\b|"
                   r"diagnosed|since|post\b|s/p\b|follow|surveillance|review|hx\b|mets\b|"
                   r"metasta\w*|recurren\w*|primary|cancer|carcinoma|adeno\w*|nsclc|sclc|"
                   r"rcc|tcc|hcc|er\b|her2|pr\b|radiotherapy|rt\b|dxt\b|chemo\w*|\w+ectomy|"
                   r"wle\b|adt\b|psa\b|hormone\w*|active\s+surveillance|left\b|right\b|"
                   r"lt\b|l\b|r\b|bilateral))")
_SIDE = r"(?:(?:left|right|l|r|lt|rt)[ \t]+)?"
_CA_ABBREVIATION = re.compile(
    r"\b(?:(?-i:ca|Ca|CA)\. ?|adeno(?-i:ca|Ca|CA) ?\.[ \t]{0,2}\(?" + _SIDE
    + r"|(?P<loose>(?-i:ca|Ca|CA) ?\.[ \t]{0,2}\(?" + _SIDE + r"))(?=(?:of\s+(?:the\s+)?)?"
    + CANCER_SITE + r"\b" + _CANCER_CONTEXT + ")", re.I)
# The thirteenth session's forms ("Ca . prostate", "Ca. (prostate)", "Ca. left breast") are
# not joined after a laboratory list: "Na, K, Ca. Left breast - tender" lists a calcium;
# "PMH: HTN, Ca. left breast 2015" is a history.
_LAB_LIST_REACH = 80
_AFTER_LABS = re.compile(r"\b(?:na|k|u\s*[&+]\s*es?|ues?|lfts?|tfts?|fbc|crp|esr|mg|po4|"
                         r"phos\w*|alb\w*|urea|creat\w*|egfr|electrolytes|bone\s+profile|"
                         r"calcium|adj\w*|bloods?)[\s,;/:]*$", re.I)


def ca_without_stop(text: str) -> str:
    """``text`` with a site's cancer after "Ca." written "Ca <site>" ("Ca. prostate" read as
    one sentence, not two)."""
    return _CA_ABBREVIATION.sub(_ca_as_written_without_stop, text)


def _ca_as_written_without_stop(match: re.Match[str]) -> str:
    before = max(0, match.start() - _LAB_LIST_REACH)  # a short stretch: linear in the text
    if match.group("loose") is not None and _AFTER_LABS.search(match.string, before,
                                                               match.start()):
        return match.group(0)
    return "Ca "


def uncoded_concept(topic: Topic) -> str:
    """The fact concept of an uncoded hint on ``topic`` (not a value-set concept)."""
    return UNCODED_PREFIX + topic.value


@lru_cache(maxsize=8192)
def suggested(text: str, closes_negated: Callable[[str], bool]
              ) -> tuple[tuple[Topic, str], ...]:
    """(topic, sign) of every red flag ``text`` names and does not deny: per part of each
    sentence, neither a denial before the sign (:func:`cds_rules.uncoded_reading.denied`)
    nor, for the last sign of an item between commas, one closing that item
    (``closes_negated``: "retention: absent", "... ruled out"; "Urinary retention - cauda
    equina syndrome ruled out" names the retention). A family's exclusions read the sign's
    own item of a list.

    A site's cancer written "Ca. prostate" is read as "Ca prostate" in a second reading that
    adds the cancer history only: every sign of the first reading, where the full stop
    ends the sentence, stands (joined, a denial or an exclusion in one sentence would
    reach into the next: "Family history of ca. Bowel incontinence")."""
    return _read(text, closes_negated, qualified=True)


@lru_cache(maxsize=2048)
def named_or_qualified(text: str, closes_negated: Callable[[str], bool]
                       ) -> tuple[tuple[Topic, str], ...]:
    """:func:`suggested`, with a sign a text says is a screen's, of another type or over
    ("Bowel cancer screening", "Urinary incontinence (stress)", "Foot drop (resolved)")
    counted as named: asked whether a value in words denies its row's finding
    (:mod:`cds_rules.record.negation`), where such words are no denial ("No cancer
    screening" in a row coded cancer, "Denies urinary incontinence (stress)" in one coded
    incontinence)."""
    return _read(text, closes_negated, qualified=False)


def _read(text: str, closes_negated: Callable[[str], bool], qualified: bool
          ) -> tuple[tuple[Topic, str], ...]:
    found = _named_signs(text, closes_negated, qualified)
    if Topic.MALIGNANCY not in found and _CA_ABBREVIATION.search(text):
        joined = _named_signs(ca_without_stop(text), closes_negated, qualified)
        if Topic.MALIGNANCY in joined:
            found[Topic.MALIGNANCY] = joined[Topic.MALIGNANCY]
    return tuple(found.items())


def named_sentence_by_sentence(text: str, closes_negated: Callable[[str], bool]
                               ) -> tuple[tuple[Topic, str], ...]:
    """:func:`suggested`'s first reading, without the second ("Ca. prostate"); asked on its
    own where the answer must not change with the second (does an entry's code name a
    sign, so that its value answers for the whole entry:
    :mod:`cds_rules.record.uncoded_entries`). Not cached: asked only of an entry's code,
    when its words name a red flag or it is a panel with a value, while a second cache of
    whole texts beside :func:`suggested`'s doubled the memory held for large values (fifth
    review)."""
    return tuple(_named_signs(text, closes_negated).items())


def _named_signs(text: str, closes_negated: Callable[[str], bool], qualified: bool = True
                 ) -> dict[Topic, str]:
    """:func:`suggested`'s reading of ``text`` sentence by sentence, part by part
    (``qualified``: a screen's, another type's or a sign over is not named)."""
    found: dict[Topic, str] = {}
    if not _ANY.search(text):  # the common case: one search, nothing found
        return found
    parts = list(parts_and_contrasts(text))
    for part, contrast_follows in parts:
        closes = refusing_questions(closes_negated) if contrast_follows else closes_negated
        _add_named(found, part, closes, only=qualified and len(parts) == 1,
                   contrast_follows=contrast_follows)
    return found


def sign_spans(text: str) -> list[tuple[str, int, int]]:
    """(sign, start, end) of every red-flag phrase ``text`` names, denied or not."""
    return [(sign, m.start(), m.end()) for _, sign, pattern in _PATTERNS
            for m in pattern.finditer(text)]


def without_signs(text: str) -> str:
    """``text`` with every red-flag phrase it names taken out (what else it says)."""
    return _ANY.sub(" ", text)


def parts_of(text: str) -> Iterator[str]:
    """The parts of each sentence of ``text`` that are read on their own (not empty)."""
    return (part for part, _ in parts_and_contrasts(text))


def parts_and_contrasts(text: str) -> Iterator[tuple[str, bool]]:
    """:func:`parts_of`, each with whether a contrast follows it in its sentence ("Urinary
    retention? No, | but residual 800ml")."""
    for clause in _clauses(text):
        parts = [p for p in (p.strip() for p in _PARTS.split(clause)) if p]
        yield from ((part, i < len(parts) - 1) for i, part in enumerate(parts))


def refusing_questions(closes_negated: Callable[[str], bool]) -> Callable[[str], bool]:
    """``closes_negated`` but for a question answered no ("Saddle anaesthesia? No"): asked
    of a part a contrast follows ("... ? No - but tingling", "... ? no, but residual
    800ml"), where the contrast may be the sign the answer denied (an independent review)."""
    return lambda segment: "?" not in segment and closes_negated(segment)


def _add_named(found: dict[Topic, str], text: str, closes_negated: Callable[[str], bool],
               only: bool, contrast_follows: bool = False) -> None:
    """The signs the part ``text`` names, not denied (``only``: the part is the whole text,
    and a sign it says is not the patient's present one is left out; ``contrast_follows``:
    "... but" follows, and a mass the examiner could not feel is kept: "Could not feel a
    pulsatile abdominal mass but the GP did")."""
    matches = [(topic, sign, m) for topic, sign, pattern in _PATTERNS
               for m in pattern.finditer(text)]
    if not matches:
        return
    part = Part(text)
    closed = closed_signs(part, [m for _, _, m in matches], closes_negated)
    for topic, sign, match in matches:
        excluded = _EXCLUDED_PATTERNS.get(topic)
        if topic in found or match.start() in closed or (
                excluded and excluded_near(excluded, part, match)) or (
                only and _not_the_sign(sign, match)) or (
                not contrast_follows and _not_found_on_examination(match)):
            continue
        if not denied(part, match, _names_a_sign):
            found[topic] = sign


# A symptom back after it was over, or never quite gone: "Foot drop resolved, recurred
# today", "... but worse again", "Urinary retention resolved, re-catheterised", "...,
# residual weakness", "Retention - resolved. TWOC failed x2, long-term catheter"
_REOPENED = re.compile(r"\b(?:recur\w*|return\w*|again|back|relaps\w*|re-\w+|recath\w*|"
                       r"worse\w*|worsen\w*|new|persist\w*|residual|ongoing|still|further|"
                       r"today|yesterday|since|current\w*|except|"
                       r"fail\w*|twoc|catheter\w*|in\s+situ|partial\w*|part\w*|incomplete\w*|"
                       r"mostly|almost|nearly|some)\b|\?", re.I)
# What makes a sign not the patient's present red flag, in a text that says nothing else:
# a heading before it at most, the qualifier after it and the end (an allowlist: three
# reviews found every "unless it says more" list incomplete, "Urinary retention - resolved.
# Bladder scan 850ml", "Myeloma screen, paraprotein 30 g/L", "Urinary incontinence, urge,
# overflow").
_HEADING_WORDS = (r"hx|h/o|pmh|previous|prior|known|recent|history\s+of|left|right|l|r|lt|rt|"
                  r"bilateral|acute|new|chronic|mild|severe")
_HEADING = re.compile(r"(?:[\s\-\u2013:(,]|\b(?:" + _HEADING_WORDS + r")\b)*", re.I)
# before a cancer's screen, its site or programme too: "NHS bowel cancer screening"
_SCREEN_HEADING = re.compile(r"(?:[\s\-\u2013:(,]|\b(?:" + _HEADING_WORDS
                             + r"|nhs|national|routine|annual|last|" + CANCER_SITE + r")\b)*",
                             re.I)
# A symptom said to be over: "Foot drop (resolved)", "Leg weakness - now resolved"; not
# "resolving", "not resolved", "resolved?"
_ENDED = re.compile(r"(?:\s+(?:syndrome|compression))?\s*[(\-\u2013:,]?\s*"
                    r"(?:(?:now|has|have|had|fully|completely|all)\s+)*"
                    r"(?:resolved|settled|subsided|gone)[\s).!]*", re.I)
# A screen or a risk assessment that says nothing found: "Bowel cancer screening", "Myeloma
# screen sent", "Osteoporosis screening due", "Osteoporosis risk assessment"
_SCREEN_ONLY = re.compile(
    r"\s+(?:screen(?:ing|s)?|risk\s+(?:assessment|score|calculation))(?:\s+(?:programme|"
    r"program|test|tests|bloods?))?(?:\s*+[:\-\u2013]?\s*+(?:(?:was|is|has\s+been)\s+)?"
    r"(?:sent|requested|done|due|overdue|up\s+to\s+date|declined|invited|offered|normal|"
    r"negative|nad|clear|awaited|pending|booked|completed|advised|discussed|not\s+done))?"
    r"[\s).!]*", re.I)
# A type the value set leaves out, as the whole qualifier: "Urinary incontinence (stress)",
# "... - urge type", "..., stress"
_OTHER_INCONTINENCE = re.compile(r"\s*[(,:\-\u2013]?\s*(?:stress|urge|mixed)(?:\s+(?:type|"
                                 r"incontinence))?[\s).!]*", re.I)
# What a metastasis or a metastatic cord compression says of a cancer is never over or a
# screen's: "Bone mets screen", "MSCC (resolved)" are a cancer history
_A_CANCER_BEHIND = re.compile(r"meta|mets|mscc", re.I)


def _not_the_sign(sign: str, match: re.Match[str]) -> bool:
    """Does a text that is one part (``match.string``), a heading at most before the sign at
    ``match``, close by saying it is not the patient's present red flag: a screen that found
    nothing, a stress incontinence, a symptom over and nothing saying it came back? ("but",
    "however", "although" would have made two parts.)"""
    named, text, end = match.group().lower(), match.string, match.end()
    if _A_CANCER_BEHIND.search(named):
        return False
    if sign == "cancer" or named.startswith("osteopor"):  # not a fracture named
        return (_SCREEN_ONLY.fullmatch(text, end) is not None
                and _SCREEN_HEADING.fullmatch(text, 0, match.start()) is not None)
    if _HEADING.fullmatch(text, 0, match.start()) is None:
        return False
    if sign == "urinary incontinence" and _OTHER_INCONTINENCE.fullmatch(text, end):
        return True
    return (reading(sign) == "symptom" and _ENDED.fullmatch(text, end) is not None
            and not _REOPENED.search(text))


def _not_found_on_examination(match: re.Match[str]) -> bool:
    """Is the mass at ``match`` one the examiner says they could not feel ("Unable to
    palpate a pulsatile abdominal mass")? Read in the 40 characters before it."""
    return bool(FELT_FOR.search(match.group()) and NOT_FOUND_ON_EXAMINATION.search(
        match.string, max(0, match.start() - 40), match.start()))


def _names_a_sign(words: str) -> bool:
    return bool(_ANY.search(words))
