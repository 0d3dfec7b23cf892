"""Negation: whether an Observation (or a component) states its finding present or absent,
coded or in free text (CLINICAL.md principle 2).
"""

from __future__ import annotations

import re
from typing import Any

from cds_rules import sign_words, uncoded
from cds_rules import valuesets as vs
from cds_rules.record.codes import codings_of, concept_hits, concepts_list

_NEGATIVE_INTERPRETATION = {"NEG", "ND", "N"}  # negative, not detected, normal
_POSITIVE_INTERPRETATION = {"POS", "DET"}
_NEGATIVE_WORDS = {"absent", "negative", "no", "none", "not present", "not detected", "false",
                   "denied", "denies", "nil"}
_POSITIVE_WORDS = {"present", "positive", "yes", "detected", "true"}
# A test result written as a sentence ("HLA-B27 not detected"): any negative statement.
NEGATIVE_TEXT = re.compile(r"\b(negative|neg|not detected|not present|not positive|absent)\b|"
                           r"-\s*ve\b", re.I)
# ... and a positive one: a result in words is positive only when it says so (independent
# review, December 2026: "Result: unknown", "Pending" read as positive).
POSITIVE_TEXT = re.compile(r"\b(?:positive|pos|detected|present)\b|\+\s*ve\b|\bb\*?27:\d", re.I)
# A character the sender's encoding lost (a cut emoji read as U+FFFD: CHANGELOG, "a broken
# UTF-16 character costs a character"): at either end of an answer it is no word of it
LOST = "\ufffd"

# A test result that is no result, in words ("Indeterminate", "HLA-B27 equivocal") or as an
# interpretation (HL7 v3 ObservationInterpretation / v2 table 0078 IND indeterminate, v3 E
# equivocal); coded values: valuesets.INDETERMINATE_CODES.
# "Unknown" is no result only as the whole answer: "Positive (B*27 subtype unknown)" is a
# positive result (independent review, December 2026).
INDETERMINATE_TEXT = re.compile(r"\b(?:indeterminat\w*|equivocal|inconclusive|undetermined)\b|"
                                r"^\W*(?:result\s+)?unknown(?:\s+result)?\W*$", re.I)
INDETERMINATE_INTERPRETATION = frozenset({"IND", "E"})
# A finding written as free text is negated when every clause opens with a negation cue
# ("no urinary retention", "patient denies ...", "without ...") or closes with one
# ("retention: absent", "retention not present"). A cue inside a clause ("retention
# without overflow") negates something else, so the finding stays (principles 1 and 2).
_NEGATION_CUES = r"(?:no|not|denies|denied|absent|negative|without|nil|none)"
_LEADING_NEGATION = re.compile(rf"^(?:(?:the\s+)?(?:patient|pt)\s+)?{_NEGATION_CUES}\b",
                               re.I)
_TRAILING_NEGATION = re.compile(rf"\b{_NEGATION_CUES}(?:\s+(?:present|detected|seen|found))?$",
                                re.I)
_CLAUSE_BREAK = re.compile(r"[.;\n]+")
# A value in words for a coded finding ("No urinary retention") denies it only when it opens
# with a denial and says nothing of the course, the output or an assessment: "Not able to
# void", "No urine output since yesterday", "None voided", "No improvement", "Not assessed"
# describe retention or its course, not its absence (second independent review).
_DENIAL = re.compile(r"^(?:(?:the\s+)?(?:patient|pt)\s+)?(?:no|not|denies|denied|without|nil|"
                     r"negative\s+for)\b", re.I)
_CLOSING_ANSWER = re.compile(r"\b(?:absent|negative|not present|not detected|denied|none|no|"
                             r"nil)$",
                             re.I)
_NOT_A_DENIAL = re.compile(r"\b(?:chang\w*|improv\w*|better|worse\w*|resolv\w*|settl\w*|"
                           r"recover\w*|output|void\w*|pass\w*|since|able|unable|assess\w*|"
                           r"examin\w*|check\w*|measur\w*|record\w*|done|performed|tested|"
                           r"known|sure|certain|clear|applicable|urine|"
                           # a loss described, not a finding denied ("No bowel control", "No
                           # rectal sensation", "No - numb buttocks", "Not walking", "No,
                           # brisk reflexes"; independent reviews, December 2026)
                           r"sensat\w*|feel\w*|felt|control\w*|aware\w*|power|strength|"
                           r"mov\w*|function\w*|numb\w*|tingl\w*|weak\w*|reduc\w*|"
                           r"decreas\w*|alter\w*|abnormal\w*|problem\w*|troubl\w*|"
                           r"difficult\w*|tone|reflex\w*|brisk|walk\w*|urge\w*|loss|lost|"
                           # a deficit found, in the examiner's words ("No dorsiflexion", "Not
                           # continent", "No anal wink", "Pinprick S2-4: absent", "No, 900ml
                           # residual"; fourth independent review, December 2026)
                           r"dorsiflex\w*|plantarflex\w*|continent|dry|wet|weight|bearing|"
                           r"mobilis\w*|mobiliz\w*|wink|pinprick|clonus|plantars?|residual|"
                           r"scan|catheter\w*|\d+\s*ml|pu|"
                           # when, how much or what was done, not whether ("Not until today",
                           # "Not treated", "Not mild"; sixth independent review)
                           r"until|before|prior|initially|first|admission|triage|yet|"
                           r"remission|treat\w*|respond\w*|decompress\w*|drain\w*|repair\w*|"
                           r"surgery|mri|transient|partial|mild|subtle|unilateral|only|doubt|"
                           r"equivocal)\b", re.I)
# A denied denial is no denial: "Not ruled out", "Not excluded", "Not absent", "No longer
# denies", "Not negative".
_DOUBLE_NEGATION = re.compile(r"\b(?:not|no\s+longer|never)\s+(?:yet\s+)?(?:ruled\s+out|"
                              r"exclud\w*|absent|negative|denied|denies|deny)\b", re.I)
_PART_BREAK = re.compile(r",|(?<!\s)\s++[-\u2013]\s+")  # (?<!\s): linear on blank runs
# A plain denial of a symptom or of a loss, nothing after it ("No numbness", "Denies saddle
# numbness", "No loss of bladder control", "No altered perianal sensation", "No difficulty
# walking"): those words deny the finding. Only in such a clause: "No - numb buttocks",
# "No, altered saddle sensation" answer something else and describe the sign.
_PLAIN_DENIAL = re.compile(r"(?:(?:the\s+)?(?:patient|pt)\s+)?(?:no|not|denies|denied|nil|"
                           r"without|negative\s+for)\s+[a-z][a-z' /]*", re.I)
_LOSS_OF = re.compile(r"\b(?:loss|lack|reduc\w*|decreas\w*|alter\w*|abnormal\w*|impair\w*|"
                      r"difficult\w*|problems?|troubl\w*)\s+(?:(?:of|in|with|to)\s+)?"
                      r"(?:\w+\s+){0,2}?(?:sensat\w*|feel\w*|control\w*|aware\w*|power|"
                      r"strength|mov\w*|function\w*|walk\w*|void\w*|pass\w*)\b", re.I)
_SYMPTOM_WORDS = re.compile(r"\b(?:numb\w*|tingl\w*|weak\w*|problems?|troubl\w*)\b", re.I)
# Clauses of a value in words: a denial answers for its own clause only ("No urinary
# symptoms but new faecal incontinence" does not deny the incontinence).
_DENIAL_CLAUSE_BREAK = re.compile(r"[.;\n]+|\b(?:but|however|although|though|except|whereas|"
                                  r"yet)\b", re.I)
_ANSWER_BREAK = re.compile(r"[,;/]|(?<!\s)\s+-\s+")  # (?<!\s): linear on long blank runs


_OWN_CODE = object()
"""``presence(about=...)``'s default: the holder's own code."""
_A_TEST = object()
"""What a test's result in words answers for: the test, whatever the words name."""


def presence(holder: dict[str, Any], sentences: bool = True, *, about: object = _OWN_CODE,
             test_result: bool = False) -> bool | None:
    """True: the finding is stated present; False: stated absent, or nothing recorded (a
    dataAbsentReason saying nobody asked or looked: :func:`nothing_recorded`); None:
    nothing said either way (also any other dataAbsentReason, "asked but unknown": it does
    not deny the finding the Observation names, as an "Unknown" answer does not).

    Read in this order, the most explicit first: a dataAbsentReason; ``valueBoolean``; a
    coded answer of ``valueCodeableConcept`` (qualifiers and yes/no, positive/negative,
    detected answers: :data:`~cds_rules.valuesets.ABSENT_CODES` / ``PRESENT_CODES``);
    then words: ``valueString`` as an answer word or a sentence that denies the finding
    (:func:`_denies`: "No urinary retention", but not "Not able to void since 6am"), the
    coded value's text and displays as answer words ("No", "Absent", "No, denies"), then
    its text as a sentence that denies the finding, only when no value set knows its
    codings (:func:`_text_denies`; a display is never read as a sentence, since a coded
    value's name such as "Not improving" or "... BCR/ABL negative" is not an answer); then
    the interpretation (NEG/POS...). ``sentences=False``: words only as answer words, for an
    entry read for its words (:func:`cds_rules.uncoded.suggested` reads each part of a
    sentence with its own denial: "No leg weakness but new urinary retention")."""
    if "dataAbsentReason" in holder and nothing_recorded(holder["dataAbsentReason"]):
        return False
    boolean = holder.get("valueBoolean")
    if boolean is False:
        return False
    if boolean is True:
        return True
    concept = holder.get("valueCodeableConcept")
    codings = codings_of(concept) if concept is not None else []
    for coding in codings:
        if vs.is_absent_qualifier(coding.get("system"), coding.get("code")):
            return False
        if vs.is_present_qualifier(coding.get("system"), coding.get("code")):
            return True
    finding = _A_TEST if test_result else holder.get("code") if about is _OWN_CODE else about
    string = holder.get("valueString")
    if isinstance(string, str) and (said := _stated(string, sentences, finding)) is not None:
        return said
    for word in coded_value_words(concept, codings):
        if (said := _answer_word(word)) is not None:
            return said
    if sentences and _text_denies(concept, codings, finding):
        return False
    for interpretation in concepts_list(holder.get("interpretation")):
        for coding in codings_of(interpretation):
            code = str(coding.get("code", "")).upper()
            if code in _NEGATIVE_INTERPRETATION:
                return False
            if code in _POSITIVE_INTERPRETATION:
                return True
    return None


def has_value(holder: dict[str, Any]) -> bool:
    """Does the Observation (or component) hold a value of any type (``value[x]``)?"""
    return any(key.startswith("value") for key in holder)


def panel_denies(component: dict[str, Any], observation: dict[str, Any]) -> bool:
    """Does the panel's own value state a component's finding absent? A component with a
    value or dataAbsentReason of its own answers for itself; for any other, the panel's
    value (never its dataAbsentReason) speaks as it would for the component's own code: a
    coded No or a bare "No" does, "No urinary retention" does not deny "Foot drop". Read
    the same on the coded and the uncoded path."""
    if "dataAbsentReason" in component or has_value(component):
        return False
    panel_value = {k: v for k, v in observation.items()
                   if k not in ("component", "dataAbsentReason")}
    return presence(panel_value, about=component.get("code")) is False


def nothing_recorded(reason: object) -> bool:
    """Does a dataAbsentReason say that nobody asked or looked (not-asked, not-performed,
    not-applicable: :data:`~cds_rules.valuesets.NOTHING_RECORDED_REASONS`, with the FHIR R4
    CodeSystem it is checked against)? Only its DataAbsentReason codings are read, and all
    of them must say so: a reason in words only, or another DataAbsentReason code beside
    ("asked-unknown"), does not deny the finding."""
    codes = [c.get("code") for c in codings_of(reason)
             if vs.normalise_system(c.get("system")) == vs.DATA_ABSENT_REASON]
    return bool(codes) and all(
        isinstance(code, str) and code.strip() in vs.NOTHING_RECORDED_REASONS for code in codes)


def interpretation_codes(holder: dict[str, Any]) -> set[str]:
    """The codes of ``interpretation``, upper case (read whatever their system, as
    :func:`presence` reads NEG/POS)."""
    return {str(coding.get("code", "")).upper()
            for interpretation in concepts_list(holder.get("interpretation"))
            for coding in codings_of(interpretation)}


def coded_value_words(concept: object, codings: list[dict[str, Any]]) -> list[str]:
    """The coded value's words: its text, then its codings' displays."""
    words = [concept.get("text")] if isinstance(concept, dict) else []
    words += [c.get("display") for c in codings]
    return [w for w in words if isinstance(w, str)]


def _names_the_finding(sentence: str, code: object) -> bool:
    """Does a denial ``sentence`` answer for the finding ``code`` names? For a red-flag
    sign (its coded concept, or its words as the uncoded reader reads them) only when it
    names the sign or nothing but the denial (:mod:`cds_rules.sign_words`); for any other
    finding, and a test's result (:data:`_A_TEST`), always. Asked only of a denial."""
    if code is _A_TEST:
        return True
    signs = {sign_words.CODED_PARTS.get(hit.concept, uncoded.CODED_SIGNS[hit.concept])
             for hit in concept_hits(code) if hit.concept in uncoded.CODED_SIGNS}
    own_words = coded_value_words(code, codings_of(code))
    signs.update(sign for text in own_words for _, sign in uncoded.suggested(text, closes_negated))
    return sign_words.names_the_finding(sentence, signs, own_words)


def _text_denies(concept: object, codings: list[dict[str, Any]], finding: object) -> bool:
    """Does the coded value's text deny the finding as a ``valueString`` would (:func:`_denies`:
    "No urinary retention", not "Not able to void since 6am")? Read only when no value set
    knows any of its codings: a recognised coded value (the finding's own code, a site code)
    is never silenced by its words. Displays are never read so: a coded value's name ("Not
    improving") is not an answer."""
    text = concept.get("text") if isinstance(concept, dict) else None
    return (isinstance(text, str) and _denies(text)
            and not any(vs.knows(c.get("system"), c.get("code")) for c in codings)
            and _names_the_finding(text, finding))


def _answer_word(text: str) -> bool | None:
    """One answer word or phrase ("absent", "not detected", "yes"), or answer words of one
    sense joined by punctuation ("No, denies", "No!"), else None."""
    parts = {p.strip(" \t.!?" + LOST) for p in _ANSWER_BREAK.split(text.lower())} - {""}
    if parts and parts <= _NEGATIVE_WORDS:
        return False
    if parts and parts <= _POSITIVE_WORDS:
        return True
    return None


def _stated(text: str, sentences: bool, finding: object) -> bool | None:
    """A value in words: one answer word ("absent", "yes"), or (``sentences``) a sentence
    that denies the finding and names it (``finding``, the code it must name: "No urinary
    retention", "Patient denies saddle numbness"; not "No fever" for urinary retention)."""
    said = _answer_word(text)
    if said is not None:
        return said
    return False if sentences and _denies(text) and _names_the_finding(text, finding) else None


def _denies(text: str) -> bool:
    """Every clause opens with a denial ("No retention") or closes with an answer ("retention:
    absent", "retention not present"), none speaks of the course or an assessment, and the
    words name no red flag their denials leave standing ("No trauma, urinary retention",
    "Without warning developed urinary retention": :func:`cds_rules.uncoded.suggested`)."""
    if uncoded.named_or_qualified(text, closes_negated) or _DOUBLE_NEGATION.search(text):
        return False
    clauses = [c.strip(" \t:-,!?\"'()" + LOST)
               for c in _DENIAL_CLAUSE_BREAK.split(uncoded.ca_without_stop(text))]
    clauses = [c for c in clauses if c]
    return bool(clauses) and all(_clause_denies(c) for c in clauses)


def _clause_denies(clause: str) -> bool:
    """A clause that opens with a denial denies only as a plain denial ("No urinary
    retention") or when each of its parts does ("No trauma, onset this morning" and "No -
    seen on MRI" do not: fifth independent review, December 2026); a clause that closes
    with an answer ("retention: absent") is read whole."""
    if _DENIAL.search(clause):
        if not _PLAIN_DENIAL.fullmatch(clause):
            parts = [p.strip(" \t:-!?\"'()" + LOST) for p in _PART_BREAK.split(clause)]
            if not all(_DENIAL.search(p) or _CLOSING_ANSWER.search(p) for p in parts if p):
                return False
    elif not _CLOSING_ANSWER.search(clause):
        return False
    return not _NOT_A_DENIAL.search(_plain_denial_words(clause))


def _plain_denial_words(clause: str) -> str:
    """The clause with the symptom and loss words of a plain denial taken out (they are
    what it denies); any other clause as it is."""
    if not _PLAIN_DENIAL.fullmatch(clause):
        return clause
    return _SYMPTOM_WORDS.sub(" ", _LOSS_OF.sub(" ", clause))


# "Cauda equina syndrome ruled out", "Cord compression excluded": a closing verdict, unless
# the words keep the question open ("not excluded", "cannot be ruled out", "to be ruled
# out", "?CES - excluded?").
_RULED_OUT = re.compile(r"\b(?:ruled\s+out|excluded)$", re.I)
_STILL_OPEN = re.compile(r"\b(?:not|cannot|can't|unable|yet|be|needs?|must|should|query|"
                         r"possible|suspected|pending|awaiting)\b|\?", re.I)


# A checklist's question answered no: "Saddle anaesthesia? No", "Urinary retention? - N",
# "Legs giving way?: nil", "... ? No." (and a mark the text lost after it); not "?CES - no"
# (the query is the note's), "Retention? No change", "Retention? not sure"
_ANSWERED_NO = re.compile(r"([^?]+)\?\s*+(?:[(\[]\s*+y(?:es)?\s*+/\s*+no?\s*+[)\]]\s*+)?"
                          r"[:\-\u2013]?\s*+(?:no|n|nil|none|negative|neg|absent|denies|denied)"
                          r"[^\w?]*", re.I)  # "Urinary retention? (Y/N) No" too
# A question that is itself a denial or a verdict: "Urinary retention ruled out? No" says it
# was not ruled out, "Saddle anaesthesia absent? No" that it is there (an independent review)
_NEGATED_QUESTION = re.compile(r"\b(?:no|not|none|nil|absent|negative|neg|denie[sd]|deny|"
                               r"excluded|ruled|without|free|normal|resolved|n't)\b|n't",
                               re.I)


def closes_negated(segment: str) -> bool:
    """A part of a sentence that ends by denying what it names: "urinary retention: absent",
    "retention not present", "cauda equina syndrome ruled out" (not "... to be ruled out"),
    "saddle anaesthesia? No". Read on its own: "Foot drop, urinary retention absent" denies
    the retention only."""
    if "?" in segment:
        answered = _ANSWERED_NO.fullmatch(segment.strip())
        return answered is not None and not _NEGATED_QUESTION.search(answered[1])
    words = segment.strip(" \t:-,!\"'()" + LOST)
    if _TRAILING_NEGATION.search(words):
        return True
    return bool(_RULED_OUT.search(words)) and not _STILL_OPEN.search(_RULED_OUT.sub("", words))


def negated_text(text: str) -> bool:
    """Free text that states the finding absent: every clause negated (see
    ``_LEADING_NEGATION`` / ``_TRAILING_NEGATION``)."""
    clauses = [c.strip(" \t:-,!?\"'()" + LOST) for c in _CLAUSE_BREAK.split(text)]
    clauses = [c for c in clauses if c]
    return bool(clauses) and all(
        _LEADING_NEGATION.search(c) or _TRAILING_NEGATION.search(c) for c in clauses)
