"""How a part of a sentence reads the red-flag signs it names: a denial before a sign, an
answer closing its item, an exclusion in its own item (:mod:`cds_rules.uncoded` names the
signs).

What each reading looks up (the denial cues, the ends of items, the words after a sign) is
found once per part (:class:`Part`), so a clause that names a sign thousands of times is
read in about the time of one pass over it; each sign rescanning the whole part took 1-2.5 s
on a clause of 20,000 characters (ninth independent review). Every lookup answers exactly
what a rescan of the part would (a property test holds them to it).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import cached_property

from cds_rules.found_matches import Found, Positions

# A denial governs the sign right after it, through words that only carry it ("no evidence
# of", "no clinical signs of", "denies any") and the other items of a list joined by "or" /
# "nor" ("Spondylosis without myelopathy or radiculopathy", ICD-10-CM M47.812; "No saddle
# anaesthesia, urinary retention or faecal incontinence"), each item a bare phrase of at
# most three words. Anything else keeps the sign (the safe side): a comma list without "or"
# ("No trauma, foot drop"; "No allergies, osteoporosis on alendronate"), any other word
# ("MRI not yet done for suspected cauda equina", "No improvement in urinary retention"),
# words after the sign in its item ("Denies saddle anaesthesia, urinary retention 600ml on
# bladder scan"). "Screening for", "family history of" ("FHx", "FH:", "Family history:";
# not a heading shared with the patient's own history, "PMH/FH:", "PMH & FHx:") and "fear
# of" deny the sign they govern only.
_NOT_JOINT = r"(?<![/&,+])(?<![/&,+]\s)(?<!\band\s)"
_DENIAL_CUE = re.compile(
    _NOT_JOINT + r"\b(?:family\s+(?:history|hx)|fhx?)\s*:|"  # first: "FHx:" whole
    r"\b(?:(?:does|do|did)\s+not\s+(?:have|has)|(?:has|have)\s+(?:not|never)\s+had|"
    r"(?:has|have|had)\s+(?:not|never)|without|w/o|no|not|never|nil|denies|denied|deny|"
    r"negative\s+for|free\s+of|absence\s+of|screening\s+for|screen\s+for|"
    r"family\s+history\s+of|fh\s+of|fear\s+of)\b|"
    + _NOT_JOINT + r"\b(?:family\s+hx\s+of|fhx\s+of|fhx)\b", re.I)
# Cues that name whose or what the sign is, not whether it is there: they govern a short
# phrase ("Family history of breast cancer", "Screening for colon cancer"). Safety-netting
# advice ("Safety-netted for CES") is read as naming the sign: two review rounds found every
# rule for it silencing real signs ("advice from urology", "red flags for cauda equina").
_GOVERNS = re.compile(r"(?:screening|screen|family\s+(?:history|hx)|fhx?|fear)\s+(?:for|of)$|"
                      r"(?:family\s+(?:history|hx)|fhx?)\s*:?$", re.I)
# After a family's history, the patient named too: "FHx: myeloma (patient)", "FH: myeloma -
# patient too", "FHx: prostate cancer in father and patient" are the patient's as well
_THE_PATIENT_TOO = re.compile(
    r"(?<!not\s)\b(?:(?:patient|pt)\b(?!['\u2019]s)|(?:patient|pt)['\u2019]?s\s+own\b|"
    r"(?:patient|pt)['\u2019]?s(?=\s*[)\]]|\s*$)|(?:self|also|too|personal\w*|himself|"
    r"herself)\b)",
    re.I)  # "(patient's own)", "(pt's)"; not "(patient's mum)", "(not patient's own)"
_CARRIES_DENIAL = frozenset({
    "any", "obvious", "clear", "definite", "definitive", "significant", "clinical",
    "objective", "evidence", "sign", "signs", "symptom", "symptoms", "feature", "features",
    "history", "hx", "h/o", "sx", "pmh", "past", "previous", "prior", "personal", "medical",
    "complaint", "complaints", "suggestion", "suggestive", "suggesting", "of", "other",
    "further", "known", "the", "a", "an", "frank", "overt", "focal", "acute", "recent",
    "current", "chronic", "or"})
# Words after a sign that keep a plain denial ("No urinary retention noted", "No cauda equina
# syndrome"); any other ("No urinary retention until today", "... on admission") keeps the
# sign.
_AFTER_DENIED = frozenset({
    "noted", "seen", "found", "reported", "present", "identified", "elicited", "documented",
    "detected", "evident", "demonstrated", "syndrome", "symptoms", "signs", "features"})
# ... and words of the present after it, which keep the denial now ("No urinary retention
# today", "Denies saddle anaesthesia currently", "... at present", "... at all": before, a
# coded retention row so valued gave the critical card); a past or bounded time ("...
# overnight", "... on admission", "... until today") still keeps the sign (thirtieth session)
_NOW_AFTER_DENIED = frozenset({"today", "now", "currently", "presently", "at", "all"})
_ASSERTED = _AFTER_DENIED - {"syndrome", "symptoms", "signs", "features"}
_LONGEST_ASSERTED = max(map(len, _ASSERTED))
# A checklist answer right after its sign ("Saddle anaesthesia: denies", "Urinary retention
# - no", "Cauda equina syndrome has been ruled out"); "Urinary retention - catheter: no"
# answers another question.
_ANSWER_WORDS = frozenset({
    "no", "not", "none", "nil", "absent", "negative", "denied", "denies", "without",
    "present", "detected", "seen", "found", "ruled", "out", "excluded", "syndrome", "is",
    "was", "has", "have", "been", "are", "were", "screen", "screening", "symptoms", "signs",
    "features", "assessment", "check",  # "Cauda equina screen: negative"
    "red", "flag", "flags",  # "CES red flags: none"
    "n", "neg",  # a checklist's question answered "Retention? N" (record.negation)
    "y/n", "yes/no"})  # ... after its choices: "Retention? (Y/N) No"
_ITEM_BREAK = re.compile(r"\s*,\s*(?:(?:or|nor|and)\s+)?|\s+(?:or|nor)\s+", re.I)
_WORD = re.compile(r"[^\W_][\w'/*+]*", re.I)
_WORD_START = re.compile(r"[^\W_]")
_BARE_WORD = re.compile(r"[a-z][a-z'/-]*", re.I)
_JOINED_BY_OR = re.compile(r"\b(?:or|nor)\b", re.I)
_OR_AT_CUT = re.compile(r"(?:or|nor)\b", re.I)  # ... in a text cut at its first letter
_NEGATED_CUE = re.compile(r"(?:\bnot|n't|\bno\s+longer|\bnever)\s*$", re.I)
_OWN_ANSWER = re.compile(r"\s*+[:\-\u2013]\s*+(?:present|yes|positive|seen|noted|identified|found|"
                         r"confirmed)\b", re.I)
_RESULT_WORDS = (r"(?:positive|confirm\w*|seen|noted|identified|found|present|detected|"
                 r"diagnos\w*|mri|ct|biopsy|has|have|had|shows?|showed)\b")
_RESULT = re.compile(r"\b" + _RESULT_WORDS + r"|\d", re.I)
_RESULT_AT_CUT = re.compile(_RESULT_WORDS + r"|\d", re.I)  # a text cut at its first letter
_OR_NEXT = re.compile(r"\s*,\s*(?:or|nor)\b", re.I)  # "A, B, or C"
_TAIL_END = re.compile(r"\s*,\s*|\s+(?:or|nor|and)\s+", re.I)
# Items of a checklist, each closing with its own answer ("Saddle anaesthesia: denies,
# urinary retention: denies"; "Cauda equina syndrome ruled out, for physio").
_ITEMS = re.compile(r"[^,]+")
_LIST_ITEM = re.compile(r",|;|\band\b|\bexcept\b|\bapart\s+from\b", re.I)
_LONG_SPACE = re.compile(r"\s{8,}")
_INSIDE_WORD = re.compile(r"\w\w")  # at a position between two word characters


class Part:
    """A part of a sentence, read on its own ("No leg weakness | but new urinary retention"),
    with the positions its readings look up found once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lists: dict[int, _List] = {}
        self.excluded_items: dict[tuple[str, int], bool] = {}  # (pattern, item): excluded?
        self._negated: dict[int, bool] = {}
        self._blanks_before: dict[int, int] = {}

    @cached_property
    def commas(self) -> list[int]:
        """Where each comma is (found once per part: a search per sign is quadratic)."""
        return [at for at, char in enumerate(self.text) if char == ","]

    def next_comma(self, at: int) -> int:
        """Where the first comma from ``at`` is (the end of the part: none)."""
        following = bisect_left(self.commas, at)
        return self.commas[following] if following < len(self.commas) else len(self.text)

    def negated_before(self, at: int) -> bool:
        """:func:`_negated_before`, once per cue (every sign a cue governs asks it)."""
        if at not in self._negated:
            self._negated[at] = _negated_before(self.text, at)
        return self._negated[at]

    def stripped(self, start: int, end: int) -> tuple[int, int]:
        """Where ``text[start:end].strip()`` begins and ends. The blanks before ``end``
        walked once an ``end`` (many items read up to the same comma: linear)."""
        start = min(_first_non_space(self.text, start), end)
        if end not in self._blanks_before:
            back = end
            while back > 0 and self.text[back - 1].isspace():
                back -= 1
            self._blanks_before[end] = back
        return start, max(start, self._blanks_before[end])

    @cached_property
    def _cues(self) -> Found:
        return Found(_DENIAL_CUE, self.text)

    @cached_property
    def _tail_ends(self) -> Found:
        return Found(_TAIL_END, self.text)

    @cached_property
    def _results(self) -> Found:
        return Found(_RESULT, self.text)

    @cached_property
    def _the_patient_too(self) -> Found:
        return Found(_THE_PATIENT_TOO, self.text)

    def the_patient_after(self, at: int) -> bool:
        """Is the patient named after ``at`` ("FHx: myeloma (patient)")?"""
        found = self._the_patient_too
        return found.first_from(at) < len(found.starts)

    @cached_property
    def _words(self) -> Found:
        return Found(_WORD, self.text)

    @cached_property
    def _asserted(self) -> list[int]:
        """The starts of the words that assert a sign ("noted", "present")."""
        return [w.start() for w in self._words.matches if w.group().lower() in _ASSERTED]

    @cached_property
    def _item_breaks(self) -> Found:
        return Found(_ITEM_BREAK, self.text)

    @cached_property
    def list_bounds(self) -> list[int]:
        """Where each item of a list begins (and, last, one past the end of the part)."""
        return [0, *(m.end() for m in _LIST_ITEM.finditer(self.text)), len(self.text) + 1]

    def list_after(self, cue: re.Match[str]) -> _List:
        """The items that follow the denial ``cue``: split at the part's own breaks from
        there on, unless one runs through where they begin."""
        found = self._lists.get(cue.start())
        if found is None:
            begin = _first_non_space(self.text, cue.end())
            found = _List(self, begin, *self._item_breaks.from_position(begin))
            self._lists[cue.start()] = found
        return found

    def last_cue_before(self, at: int) -> re.Match[str] | None:
        """The last denial cue that ends by ``at``, read as if the part ended there."""
        cues = self._cues
        if cues.runs_through(at) or _inside_word(self.text, at):
            found = list(_DENIAL_CUE.finditer(self.text, 0, at))  # read up to ``at``
            return found[-1] if found else None
        before = cues.first_from(at)
        return cues.matches[before - 1] if before else None

    def item_end(self, at: int) -> int:
        """Where the item that goes on at ``at`` ends: the next comma, "or", "nor", "and"."""
        breaks = self._tail_ends
        if breaks.runs_through(at):
            found = _TAIL_END.search(self.text, at)
            return found.start() if found else len(self.text)
        following = breaks.first_from(at)
        return breaks.starts[following] if following < len(breaks.starts) else len(self.text)

    def result_after(self, at: int) -> bool:
        """Does a result ("positive", "on MRI", a number) follow ``at``?"""
        results = self._results
        if results.first_from(at) < len(results.starts):
            return True  # a result that starts from ``at`` is one the text cut there names
        if results.runs_through(at):
            return self._result_cut(at, results.end_through(at))
        return _inside_word(self.text, at) and self._result_cut(at, at + 1)

    def _result_cut(self, at: int, end: int) -> bool:
        """Does the text cut at ``at`` name a result that starts before ``end`` (none
        starts later but those of the whole text)? The search of the text cut there, without
        a copy of the rest per sign (17.5 s on 100 KB of "FHx of carcinomas ")."""
        return bool(_RESULT_AT_CUT.match(self.text, at)) or any(
            _RESULT.match(self.text, start) for start in range(at + 1, end))

    def asserted_after(self, at: int) -> bool:
        """Does a word that asserts a sign ("noted", "present") follow ``at``?"""
        words = self._words
        end = at
        if words.runs_through(at):  # a word cut at ``at``: what is left of it is one word
            end = words.end_through(at)
            start = _WORD_START.search(self.text, at, end)
            if start and end - start.start() <= _LONGEST_ASSERTED \
                    and self.text[start.start():end].lower() in _ASSERTED:
                return True
        return bisect_left(self._asserted, end) < len(self._asserted)


def _inside_word(text: str, at: int) -> bool:
    return at > 0 and bool(_INSIDE_WORD.match(text, at - 1))


def closed_signs(part: Part, matches: list[re.Match[str]],
                 closes_negated: Callable[[str], bool]) -> set[int]:
    """The starts of the signs a closing denial answers: the last sign of each item between
    commas that closes with one."""
    in_order = sorted(matches, key=lambda m: m.start())
    starts = [m.start() for m in in_order]
    closed: set[int] = set()
    for item in _ITEMS.finditer(part.text):
        first, past = bisect_left(starts, item.start()), bisect_left(starts, item.end())
        if first == past or not closes_negated(item.group()):
            continue
        last = in_order[bisect_left(starts, starts[past - 1])]  # the first of the last start
        answer = _WORD.findall(part.text[last.end():item.end()])
        # "Perianal sensation absent": the sign's own words close the item, no answer does
        if answer and all(w.lower() in _ANSWER_WORDS for w in answer):
            closed.add(last.start())
    return closed


def excluded_near(excluded: re.Pattern[str], part: Part, match: re.Match[str]) -> bool:
    """Is the sign at ``match`` one its family excludes ("basal cell carcinoma", "skin
    cancer")? Read in the sign's own item of a list and an inverted qualifier right after
    it ("Carcinoma, basal cell"), never across the list: "Skin cancer and prostate cancer",
    "BCC excised 2019, myeloma 2021" name a cancer (sixth independent review)."""
    bounds, text = part.list_bounds, part.text
    item = bisect_left(bounds, match.start() + 1) - 1  # bounds[0] = 0, bounds[-1] > len
    found = part.excluded_items.get((excluded.pattern, item))
    if found is None:  # once an item: its signs ask alike (a long item, linear)
        start, end = bounds[item], bounds[item + 1]
        found = bool(excluded.search(text[start:end]) or _excluded_after(excluded, part, end))
        part.excluded_items[(excluded.pattern, item)] = found
    return found


def _excluded_after(excluded: re.Pattern[str], part: Part, end: int) -> bool:
    """Does the qualifier from ``end`` to the next comma, blanks aside, begin with an
    exclusion? Read in place, not copied to the comma ("skin cancer and " 4 MB: 28 s); the
    exclusions read nothing before their first letter, so the bounds read as a copy's."""
    if end > len(part.text):
        return bool(excluded.match(""))
    start, stop = part.stripped(end, part.next_comma(end))
    return bool(excluded.match(part.text, start, stop))


def denied(part: Part, match: re.Match[str], names_a_sign: Callable[[str], bool]) -> bool:
    """Is the sign at ``match`` governed by the last denial before it, through nothing but
    words that carry it and the bare items of a list joined by "or" / "nor"?
    ``names_a_sign``: does a phrase name any red-flag sign."""
    cue = part.last_cue_before(match.start())
    if cue is None:
        return False
    text, after = part.text, match.end()
    if part.negated_before(cue.start()):
        return False  # "Does not deny urinary retention", "No longer denies ..."
    if _OWN_ANSWER.match(text, after):
        return False  # "Fever: no Urinary retention: present"
    listed = part.list_after(cue)
    governs = bool(_GOVERNS.search(cue.group()))
    if governs and (part.result_after(after) or part.the_patient_after(after)):
        return False  # "Screening for cauda equina: positive", "... confirmed on biopsy"
    if governs and not listed.has_comma(match.start()):
        # "Family history of breast cancer in mother"; not "Screening for cancer found
        # metastatic carcinoma" (another sign between: the finding of the screen)
        between = listed.between(match.start())
        return (len(between.split(None, 2)) <= 2 and _bare(between)
                and not names_a_sign(between))
    words_after = [w.group().lower() for w in _WORD.finditer(text, after, part.item_end(after))]
    if not all(word in _AFTER_DENIED or word in _NOW_AFTER_DENIED for word in words_after) \
            or _now_asserted(words_after):
        return False  # "No urinary retention until today", "... 600ml on bladder scan"
    return _denied_through(part, listed, match)


def _now_asserted(words: list[str]) -> bool:
    """Do the words after a denied sign say it is there now: a word of the present beside
    one that asserts ("Previously no urinary retention now present", "... noted today",
    "... at all: present"; a review found the first reading of the present denied them)?
    "At present" is a time, not an assertion."""
    if not any(word in _NOW_AFTER_DENIED for word in words):
        return False
    return any(word in _ASSERTED and not (word == "present" and index and words[index - 1] == "at")
               for index, word in enumerate(words))


def _denied_through(part: Part, listed: _List, match: re.Match[str]) -> bool:
    """Do the words between the denial and the sign carry the denial to it?"""
    carried = listed.carries_to(match.start())
    if not carried:
        return carried is None and _split_carries(listed.between(match.start()))
    if not listed.has_comma(match.start()):
        return True
    text, after = part.text, match.end()
    if part.asserted_after(after):
        return False  # "No leg weakness, urinary retention and saddle anaesthesia noted"
    # "A, B or C": the "or" closes the list the sign is in (after the last comma before it,
    # or after the sign); "No A or B, C" denies A and B, not C. Read in place: a copy per
    # sign of the text to the comma is quadratic
    return bool(_joined_by_or(text, listed.after_last_comma_at(match.start()), match.start())
                or _joined_by_or(text, after, part.next_comma(after))
                or _OR_NEXT.match(text, after))


def _joined_by_or(text: str, start: int, end: int) -> bool:
    """``_JOINED_BY_OR.search(text[start:end])`` without the copy: a word cut at ``start``
    read as one that begins there."""
    return bool(_JOINED_BY_OR.search(text, start, end)
                or (_inside_word(text, start) and _OR_AT_CUT.match(text, start, end)))


def _split_carries(between: str) -> bool:
    """:meth:`_List.carries_to` read from the words alone (a break running through the
    sign's first character)."""
    items = _ITEM_BREAK.split(between) if between else [""]
    *listed, own = items
    return _carries_only(own) and all(_bare(i) for i in listed if i)


class _List:
    """The items after one denial cue, split at commas, "or" and "nor": each checked bare
    once, however many signs of the list ask."""

    def __init__(self, part: Part, begin: int, starts: Positions, ends: Positions,
                 first: int) -> None:
        """``starts[first:]``, ``ends[first:]``: the item breaks a search of the part from
        ``begin`` finds."""
        self.text = part.text
        self._commas = part.commas
        self.begin = begin
        self._starts, self._ends = starts, ends
        self._first = first
        self._checked = first
        self._first_not_bare = len(ends)

    def between(self, at: int) -> str:
        """The words from the cue to ``at``, spaces after the cue aside."""
        return self.text[self.begin:at]

    def has_comma(self, at: int) -> bool:
        return self._last_comma(at) >= 0

    def after_last_comma(self, at: int) -> str:
        return self.text[self.after_last_comma_at(at):at]

    def after_last_comma_at(self, at: int) -> int:
        """Where the words after the last comma before ``at`` begin (the cue's: none)."""
        return max(self.begin, self._last_comma(at) + 1)

    def _last_comma(self, at: int) -> int:
        """The last comma from the cue to ``at`` (-1: none), found in the part's commas: a
        search back per sign is quadratic."""
        before = bisect_left(self._commas, at) - 1
        return self._commas[before] if before >= 0 and self._commas[before] >= self.begin \
            else -1

    def carries_to(self, at: int) -> bool | None:
        """Is the item that ends at ``at`` nothing but words that carry a denial, and each
        item before it bare? None when a break runs through ``at``."""
        ends = self._ends
        past = bisect_right(ends, at, lo=self._first)
        if past < len(ends) and self._starts[past] < at:
            return None
        if past == self._first:
            return _carries_only(self.between(at))
        return _carries_only(self.text[ends[past - 1]:at]) and self._bare_before(past)

    def _bare_before(self, past: int) -> bool:
        """Are the items before break ``past`` bare?"""
        while self._checked < min(past, self._first_not_bare):
            k = self._checked
            start = self.begin if k == self._first else self._ends[k - 1]
            if not _bare(self.text[start:self._starts[k]]):
                self._first_not_bare = k
            self._checked += 1
        return past <= self._first_not_bare


def _first_non_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _negated_before(text: str, at: int) -> bool:
    """Does a "not", "never" or "no longer" end right before ``at`` (spaces aside)? Read in
    the 64 characters before it unless a long run of spaces could carry one from further."""
    window = max(0, at - 64)
    if _NEGATED_CUE.search(text, window, at):
        return True
    return bool(window and _LONG_SPACE.search(text, window, at)
                and _NEGATED_CUE.search(text, 0, at))


def _carries_only(words: str) -> bool:
    return all(w.lower() in _CARRIES_DENIAL for w in words.split())


def _bare(item: str) -> bool:
    """A list item such as "saddle anaesthesia": at most three plain words (the words that
    carry the denial before the first one aside)."""
    words = item.split()
    while words and words[0].lower() in _CARRIES_DENIAL:
        words.pop(0)
    return len(words) <= 3 and all(_BARE_WORD.fullmatch(w) for w in words)
