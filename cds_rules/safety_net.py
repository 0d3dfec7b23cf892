"""Safety-netting advice: a red flag named as what to come back for, not as the patient's.

A back-pain consultation ends with the red flags the patient must return for, and the
notes say so: "Advised to return urgently if urinary retention or saddle anaesthesia
develop", "If develops urinary retention attend ED". Read as the patient's signs they gave
the uncoded cauda equina warning on every such record (the thirtieth session's review, once
notes were read). Only the hypothesis is read as advice: a condition ("if", "should", "in
case of") opening the sentence or after advice to return, seek help or call, with only a
list of signs between. A sign the patient has ("Has urinary retention, advised to attend if
worse"), one asked about ("Unsure if urinary retention"), one going on ("Return if still
retaining urine", "... if the retention worsens") stays a sign; and so does advice naming
a sign as its topic ("Safety-netted for CES", "Ortho advice re suspected CES", "Advised re
urinary retention, catheter inserted"): the seventh and eighth reviews found every rule that
read such advice as no sign silencing real ones, so it warns (an accepted false alarm).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A condition opening the hypothesis: "if", "should", "in case (of)", "in the event of"
_IF = re.compile(r"\b(?:if|should|in\s+case(?:\s+of)?|in\s+the\s+event\s+of)\b", re.I)
# Advice before it in the same sentence: to come back, to seek help, told, warned
_ADVICE = re.compile(
    r"\b(?:return\w*|come\s+back|re-?attend\w*|attend|seek|call|contact|phone|ring|go\s+to|"
    r"present|advi[cs]\w*|told|safety[\s-]*net\w*|warned|instructed|aware|leaflet|informed|"
    r"information|educated|explained|counsell?ed)\b", re.I)
# A question, not a hypothesis: "Unsure if urinary retention", "Check if retention"
_ASKED = re.compile(r"(?:\b(?:unsure|not\s+sure|unclear|uncertain|query|check\w*|see|ask\w*|"
                    r"assess\w*|wonder\w*|whether|know|determine|confirm)|\?)\s*$", re.I)
# What says the sign is there now, between the condition and the sign or just after it:
# "if still retaining", "if the retention worsens", "if no better"
_GOING_ON = re.compile(r"\b(?:still|continu\w*|persist\w*|remain\w*|ongoing|worse\w*|worsen\w*|"
                       r"no\s+better|not\s+(?:better|improv\w*|settl\w*|resolv\w*)|again|"
                       r"already|recurr?\w*|further)\b", re.I)
# The only words between the condition and its sign, besides other signs of a list: "if
# any new urinary retention, saddle anaesthesia or ...", "if develops urinary retention"
_BETWEEN = frozenset({
    "any", "new", "the", "a", "an", "sign", "signs", "symptom", "symptoms", "of", "or", "and",
    "nor", "develop", "develops", "developing", "get", "gets", "getting", "notice", "notices",
    "experience", "experiences", "he", "she", "you", "they", "patient", "pt", "there", "is",
    "are", "sudden", "onset", "suddenly"})
_WORD = re.compile(r"[^\s,/&]+")
_REACH = 160  # characters before a sign searched for its advice: a sentence's stretch


def advice_about(part: str, start: int, end: int, without_signs: Callable[[str], str]
                 ) -> bool:
    """Is the sign at ``part[start:end]`` named as safety-netting advice, what to come back
    for, rather than the patient's sign? Only a stretch before it is searched (linear in a
    long part with many signs). ``without_signs``: a text with its red-flag phrases taken
    out (the other signs of a list)."""
    opening = max(0, start - _REACH)
    before = part[opening:start]
    condition = _last(_IF, before)
    if condition is None:
        return False
    leading = before[:condition.start()]
    between = before[condition.end():]
    if _ASKED.search(leading) or _GOING_ON.search(part, end, end + 40) or any(
            word.lower() not in _BETWEEN for word in _WORD.findall(without_signs(between))):
        return False
    opens = opening == 0 and not leading.strip(" \t-\u2013:;,(")
    return opens or bool(_ADVICE.search(leading))


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text`` (a short part: a sentence's piece)."""
    matches = list(pattern.finditer(text))
    return matches[-1] if matches else None
