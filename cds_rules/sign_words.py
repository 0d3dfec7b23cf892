"""The words that name a red-flag sign: does a denial in words deny *this* finding?

An Observation's value in words answers for the finding its code names: "Urinary
retention": "No urinary retention". A denial of something else is no answer: a flowsheet
row "Urinary retention" holding "No fever" or "No new bone pain" (a comment in the wrong
cell) does not say the retention is absent, and reading it so silenced an emergency
(independent review, twelfth session; CLINICAL.md principles 1 and 2). So a denial of a
red-flag sign's finding answers for it only when it names the sign (:data:`SIGN_WORDS`,
clinicians' words for the sign and for what it is a loss of: "No bladder problems", "No
numbness around back passage", "No AUR") or nothing but the denial ("No", "No new
symptoms", "Nil of note"; for a symptom also "No longer", "Not currently"). A syndrome
(cauda equina, cord compression) is denied by its own name only: incomplete cauda equina
syndrome has no retention, so "No urinary retention" does not deny it. A denial in other
words leaves the sign standing, a false alarm at worst, never a lost emergency; so does a
qualifier alone ("Not acute", "Not on the left": how the sign is, not whether) and "No
other red flags" (the row's sign is one). A history (a cancer, an osteoporotic fracture, a
known aneurysm) is denied only by its words or a word for history ("No history of note"),
a cancer not by another cancer's site or kind ("Bone metastases" holding "No Ca. prostate"
stands); a row naming several signs only when each is named.

Findings that are no red-flag sign (a test done, care given, a risk factor) are read as
before: there a finding stated present may take advice away ("FBC": "No sample received"
is no test), so every denial still answers for them (thirteenth session's review).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from cds_rules import uncoded
from cds_rules.uncoded import HISTORY_SIGNS
from cds_rules.uncoded_phrases import CANCER_SITE

_URINE = (r"urin\w*|bladder\w*|void\w*|micturi\w*|pee|peeing|peed|wee|weeing|waterworks|"
          r"luts|pu|catheter\w*|gu|genito\w*|aur|boo|overflow|bb")
_BOWEL = (r"faecal|fecal|faeces|feces|bowel\w*|stool\w*|anal|anus|rectal|rectum|sphincter\w*|"
          r"bo|fi|bb")
_SADDLE = (r"saddle|numb\w*|(?:an|hyp|hypo|par|dys)a?esthe\w*|sensat\w*|sensory|sense|"
           r"feel\w*|felt|tingl\w*|pins|needles|wip\w*|sa")
_NEUROLOGY = r"neuro\w*|focal|deficits?"
# A syndrome (cauda equina, cord compression) is denied by its own name only: "No urinary
# retention" in a row coded cauda equina syndrome leaves it standing (incomplete CES has no
# retention; second review of this change).
_CAUDA_EQUINA = r"cauda|equina|ces|conus|medullaris"
_CORD = r"cord|compress\w*|mscc|myelopath\w*"
_WEAKNESS = (rf"{_NEUROLOGY}|weak\w*|power|strength|mrc|dorsiflex\w*|plantarflex\w*|"
             r"drop\w*|footdrop|paresis|trip\w*|slap\w*")

SIGN_WORDS: dict[str, str] = {
    "cauda equina syndrome": _CAUDA_EQUINA,
    "conus medullaris syndrome": _CAUDA_EQUINA,
    "saddle anaesthesia": _SADDLE,
    "perineal or perianal numbness": _SADDLE,
    "loss of anal tone or rectal sensation": (rf"{_BOWEL}|tone|pr|dre|sensat\w*|feel\w*|"
                                              r"wink|bulbocavernos\w*"),
    "urinary retention": rf"{_URINE}|retent\w*|retain\w*|hesitan\w*|dribbl\w*",
    "urinary incontinence": (rf"{_URINE}|incontin\w*|enuresis|ui|leak\w*|wet\w*|accident\w*|"
                             r"pads?"),
    "faecal incontinence": rf"{_BOWEL}|incontin\w*|soil\w*|accident\w*|leak\w*",
    "bladder or bowel dysfunction": (rf"{_URINE}|{_BOWEL}|retent\w*|retain\w*|incontin\w*|"
                                     r"enuresis|ui|leak\w*|accident\w*"),
    "bilateral sciatica or leg symptoms": (rf"{_WEAKNESS}|sciatic\w*|bilateral\w*|both|"
                                           r"radicul\w*|numb\w*|tingl\w*|pins|needles|"
                                           r"sensat\w*|sensory"),
    "spinal cord compression": _CORD,
    "myelopathy": _CORD,
    "upper motor neurone signs": (r"reflex\w*|hyperreflex\w*|brisk|plantars?|babinski|"
                                  r"upgoing|clonus|hoffman\w*|umn|spastic\w*|tone|tract"),
    "gait disturbance": (r"gait|walk\w*|balance|ataxi\w*|unstead\w*|falls?|falling|mobil\w*|"
                         r"stagger\w*|wobbl\w*"),
    "Lhermitte's sign": r"l?hermitte\w*|electric\w*|shock\w*",
    "spastic paraparesis": r"spastic\w*|parapar\w*|paresis|weak\w*|tone|stiff\w*|power",
    "foot drop": _WEAKNESS,
    "leg weakness": _WEAKNESS,
    # a cancer by the words for any cancer (and its own kind: :data:`_CANCER_KINDS`):
    # "Prostate cancer" holding "No mets", "No lymphoma" or "No oncology follow-up" is
    # still a cancer history
    "cancer": r"cancer\w*|malignan\w*|tumou?r\w*|neoplas\w*|carcinom\w*|ca",
    "spinal infection": (r"infect\w*|discit\w*|osteomyel\w*|abscess\w*|spondylodisc\w*|"
                         r"sea|tb|tubercul\w*|pott\w*|empyema|collections?"),
    "vertebral fracture or osteoporosis": (r"fractur\w*|#|osteopor\w*|osteopen\w*|wedg\w*|"
                                           r"crush\w*|broken|breaks?|broke|density"),
    "aortic aneurysm or dissection": (r"aort\w*|aneurysm\w*|aaa|dissect\w*|triple|"
                                      r"pulsatil\w*|t[ab]ad|stanford|debakey|aortictype"),
}
"""Per sign of :data:`cds_rules.uncoded_phrases.PHRASES`, the words (whole words, lower case) by
which a denial names it or what it is a loss of; a syndrome's list holds its family's.
Words for a place alone (leg, buttock, groin) are not in them: "No leg pain" does not
deny weakness, "No buttock pain" does not deny saddle anaesthesia."""
# The two signs that join two findings, part by part: a denial of one part is no denial of
# the other ("Osteoporosis" holding "No fracture", "AAA" holding "No dissection": the
# thirteenth session's note). A row's part is its coded concept's (:data:`CODED_PARTS`) or
# the part its words name; a row naming both parts, or neither, is denied as the whole sign.
# Each part's words are the whole sign's, split (never a word the sign's list lacks: "No
# DEXA" is a scan not done, "No collapse" a faint; the second review of this change).
PART_WORDS: dict[str, dict[str, str]] = {
    "vertebral fracture or osteoporosis": {
        "osteoporosis": r"osteopor\w*|osteopen\w*|density",
        "vertebral fracture": r"fractur\w*|#|wedg\w*|crush\w*|broken|breaks?|broke",
    },
    "aortic aneurysm or dissection": {
        "aortic aneurysm": r"aneurysm\w*|aaa|pulsatil\w*|triple",
        "aortic dissection": r"dissect\w*|t[ab]ad|stanford|debakey|aortictype",
    },
}
# Words that name every part of their sign: they name a part only in a denial that names
# no other part ("No aortic problems" denies an aneurysm; "No aortic dissection" does not).
_SHARED_WORDS: dict[str, str] = {"aortic aneurysm or dissection": r"aort\w*"}
# More words by which a row names its part, never read in a denial ("Vertebral collapse" is
# a fracture row; "No collapse" is no faint, "No DEXA" a scan not done: the third review).
_ROW_WORDS: dict[str, str] = {"vertebral fracture": r"collaps\w*",
                              "osteoporosis": r"dexa|dxa|bmd"}
CODED_PARTS: dict[str, str] = {
    "osteoporosis": "osteoporosis", "fragility_fracture": "vertebral fracture",
    "vertebral_fracture_cord_injury": "vertebral fracture",
    "aortic_aneurysm": "aortic aneurysm", "aortic_dissection": "aortic dissection",
}
"""The part a coded red-flag concept names, for the concepts whose sign joins two."""
_WHOLE_OF_PART: dict[str, str] = {part: sign for sign, parts in PART_WORDS.items()
                                  for part in parts}
_WORDS: dict[str, re.Pattern[str]] = {sign: re.compile(words, re.I)
                                      for sign, words in SIGN_WORDS.items()}
"""Each sign's words, for one word at a time (``fullmatch``)."""
_UMBRELLAS = frozenset({"bladder or bowel dysfunction"})
"""Signs that hold their siblings: "No bladder/bowel dysfunction" denies a retention."""
_CANCER_KINDS = (r"metasta\w*|mets|secondaries", r"myelom\w*", r"lymphom\w*",
                 r"leuka?emi\w*", r"sarcom\w*")
"""Kinds of cancer a denial names only when the row is of that kind: "Bone metastases"
holding "No mets" denies them, "Prostate cancer" holding "No mets" does not."""

def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# What a denial may say besides the sign's name without naming anything: fillers, and words
# for "anything" ("No new symptoms", "Nil of note", "Patient denies any red flags",
# "Screen negative", "No to all of the above").
_FILLERS = _word_set(
    "no not nil none denies denied deny without negative neg absent never ve n the a an any "
    "and or of for to in at on with this that these is are was were has have had been be "
    "being patient pt he she they states says said c o complains complaining noted "
    "present found seen elicited evident identified evidence all so far yet above screen "
    "screening"
)
_ANYTHING = _word_set(
    "symptom symptoms sign signs issue issues problem problems complaint complaints concern "
    "concerns red flag flags finding findings abnormality abnormalities history hx note"
)
_PAST = _word_set("history hx")
# "No PMH": no past history, which denies a history sign only (for a symptom it is a
# comment in the wrong cell, as "No fever" is).
_NO_PAST = _word_set("pmh")
# "Nil else", "No other red flags", "No other symptoms": the row's own sign is there.
_SOMETHING_MORE = _word_set("else other others additional")
# Words that say how the sign is, not whether: with nothing else, they qualify it ("Not
# acute", "Not new", "Not on the left", "Not clinically significant", "Not reported");
# beside a word for anything they do not ("No new symptoms").
_QUALIFIERS = _word_set(
    "new acute recent recently significant significance relevant concerning clinical "
    "clinically obvious symptomatic reported known ongoing more left right l r lt rt"
)
# When: a symptom "No longer", "Not currently", "No further episodes" there is absent; a
# history (a cancer, an osteoporotic fracture, a known aneurysm) no longer active is still a
# history.
_NOW = _word_set(
    "longer currently current now today presently anymore further episode episodes")
# Phrases naming something else with a sign's word in them ("No urinary tract infection" in
# a retention row, "No CSF leak", "No arm weakness", "No family history of cancer", "No FHx
# of cancer", "FH: bowel cancer").
_SOMETHING_ELSE = re.compile(
    r"\b(?:urinary\s+tract\s+infection|urin(?:e|ary)\s+infection|uti|water\s+"
    r"(?:infection|tablets?|bottles?)|(?:chest|skin|wound|ear|throat|viral|recent|respiratory)"
    r"\s+infections?|csf\s+leak|broken\s+skin|ca(?:lcium)?\s+supplements?|ca\s*+-?\s*+(?:125|"
    r"19-?9|15-?3)|(?:road\s+traffic|rta|rtc)(?:\s+(?:accident|collision))?|rectal\s+bleed\w*|"
    r"pr\s+bleed\w*|bleeding\s+pr|(?:fhx?|family\s+(?:history|hx))(?:\s+of|\s*:)\s*[\w\s]+|"
    r"fhx\s+[\w\s]+|"
    r"(?:(?:arms?|hands?|fingers?|upper\s+limbs?|face|facial)\s+(?:weakness|numbness|tingling)|"
    r"(?:weakness|numbness|tingling|pins\s+and\s+needles)\s+(?:in|of)\s+(?:the\s+|both\s+|"
    r"his\s+|her\s+)?(?:arms?|hands?|fingers?|upper\s+limbs?|face))\b(?!\s*(?:or|and|/|&|,)\s*"
    r"(?:the\s+)?(?:legs?|feet|foot|lower\s+limbs?|perine\w*|saddle|buttocks?|groin|genital\w*))|"
    r"(?:nof|hip|wrist|ankle|rib|neck\s+of\s+femur)\s+(?:#|fracture)(?!\w)|post[\s-]?op\w*|"
    r"wrist\s+drop|(?:dental|tooth|skin|perianal|breast|groin|axillary|pilonidal)\s+abscess\w*|"
    r"tb\s+contacts?|(?:sample|specimen|blood(?:\s+cultures?)?|urine|stool|sputum)\s+"
    r"collections?|"
    # "bilateral" or "both" of another part ("No bilateral knee pain" in a bilateral sciatica
    # row), unless the legs are named beside it ("No bilateral hip or leg pain"); the word
    # only, so that the part's own phrase is still read ("No bilateral hip #": a hip #)
    r"(?:bilateral|bilat|both)(?=\s+(?:knees?|hips?|shoulders?|elbows?|wrists?|hands?|arms?|"
    r"eyes?|ears?|breasts?|kidneys?|lungs?)\b(?!\s*(?:or|and|/|&|,)\s*(?:the\s+)?(?:legs?|"
    r"feet|foot|lower\s+limbs?|buttocks?|thighs?|calf|calves))))", re.I)
# More parts of the body whose weakness, numbness or tingling is no saddle, leg or foot
# sign: "No knee numbness" in a saddle anaesthesia row, "No shoulder weakness" in a foot drop
# row (the third review of the fourteenth session: they silenced the row). Read so only in
# a denial naming no leg, foot or saddle word anywhere ("No leg or hip weakness", "No
# perineal or knee numbness" still deny: the review of that change). A knee or a hip is the
# leg, but its own weakness or numbness names neither a foot drop nor the saddle.
_ANOTHER_PART = (r"shoulders?|neck|chest|knees?|hips?|elbows?|wrists?|thumbs?|eyes?|eyelids?|"
                 r"jaw|tongue|lips?|trunk|abdomen|abdominal\s+wall")
_ANOTHER_PARTS_SYMPTOM = re.compile(
    rf"\b(?:(?:{_ANOTHER_PART})\s+(?:weakness|numbness|tingling)|(?:weakness|numbness|"
    rf"tingling|pins\s+and\s+needles)\s+(?:in|of)\s+(?:the\s+|both\s+|his\s+|her\s+)?"
    rf"(?:{_ANOTHER_PART}))\b", re.I)
_SOMETHING_ELSE_OR_ANOTHER_PART = re.compile(
    f"{_ANOTHER_PARTS_SYMPTOM.pattern}|{_SOMETHING_ELSE.pattern}", re.I)
_LEGS_OR_SADDLE = re.compile(
    r"\b(?:legs?|feet|foot|lower\s+limbs?|thighs?|calf|calves|ankles?|toes?|shins?|perine\w*|"
    r"perianal|saddle|buttocks?|groin|genital\w*|back\s+passage|bottom)\b", re.I)
_AORTIC_TYPE = re.compile(r"\btype\s*+-?\s*+[ab]\b", re.I)  # "No type A": of a dissection
_BLADDER_AND_BOWEL = re.compile(r"\bb\s*(?:&|\+|and|/)\s*b\b", re.I)  # "No B&B symptoms"
_WORD = re.compile(r"[a-z0-9]+|#")
_CANCER_SITE = re.compile(rf"\b{CANCER_SITE}\b", re.I)


def names_the_finding(sentence: str, signs: Iterable[str], own_words: Iterable[str] = ()
                      ) -> bool:
    """Does the denial ``sentence`` answer for a finding that is the red-flag ``signs`` (or,
    with none, for any finding: read as before)? A row naming several signs (a cancer and
    a cord compression) is denied only when each is named, or none is and the denial names
    nothing else. ``own_words``: the words of the row's code (a cancer's site and kind).
    See the module's note."""
    own_words = list(own_words)
    signs = sorted({part for sign in signs if sign in SIGN_WORDS or sign in _WHOLE_OF_PART
                    for part in _parts_meant(sign, own_words)})
    if not signs:
        return True
    return _names_the_signs(_without_sibling_signs(sentence, signs), signs, own_words)


def _names_the_signs(sentence: str, signs: list[str], own_words: list[str]) -> bool:
    """:func:`names_the_finding` for ``signs`` as the row means them."""
    named = [w for w in _WORD.findall(_read_as_words(sentence)) if w not in _FILLERS]
    signs_named = [_names_sign(sign, named, sentence, own_words) for sign in signs]
    if any(signs_named):
        return all(signs_named)  # "No Ca. prostate" leaves a cord compression standing
    if any(word in _SOMETHING_MORE for word in named):
        return False  # "No other red flags": the row's sign is one
    if any(_is_history(sign) for sign in signs):
        return _denies_a_history(named, all(_is_history(sign) for sign in signs))
    return _denies_a_symptom(named)


def _without_sibling_signs(sentence: str, signs: list[str]) -> str:
    """``sentence`` with each phrase of another red-flag sign taken out as another thing
    when one of its words is that sign's and none of the row's: a row coded urinary
    retention holding "No urinary incontinence", or one coded urinary incontinence holding
    "No urinary retention" or "No faecal incontinence", is not denied by the word both
    share (an independent review, December 2026: each gave the conservative card over a
    coded cauda equina sign). A phrase in the row's own words still denies ("No loss of
    bladder control" a retention, "No myelopathy" a cord compression, "No weakness in both
    legs" a bilateral sciatica, "No bladder/bowel dysfunction" any of them)."""
    rows = {_WHOLE_OF_PART.get(sign, sign) for sign in signs}  # a part's whole sign
    own = [_WORDS[sign] for sign in rows]
    spans = [(start, end) for sign, start, end in uncoded.sign_spans(sentence)
             if sign not in rows and sign not in _UMBRELLAS and any(
                 _WORDS[sign].fullmatch(word) and not any(p.fullmatch(word) for p in own)
                 for word in _WORD.findall(sentence[start:end].lower()))]
    for start, end in sorted(spans, reverse=True):
        sentence = f"{sentence[:start]} another thing {sentence[end:]}"
    return sentence


def _parts_meant(sign: str, own_words: list[str]) -> list[str]:
    """The sign a denial must name: a part as it stands; a sign that joins two findings,
    the one part the row's own words name ("AAA": the aneurysm), else the whole sign."""
    parts = PART_WORDS.get(sign)
    if parts is None:
        return [sign]
    words = [w for text in own_words for w in _WORD.findall(_read_as_words(text))]
    meant = [part for part, pattern in parts.items()
             if any(re.fullmatch(_row_words(part, pattern), word) for word in words)]
    return meant if len(meant) == 1 else [sign]


def _row_words(part: str, words: str) -> str:
    """The words by which a row's own words name ``part``: its denial words and more."""
    more = _ROW_WORDS.get(part)
    return f"{words}|{more}" if more else words


def _is_history(sign: str) -> bool:
    return _WHOLE_OF_PART.get(sign, sign) in HISTORY_SIGNS


def _names_sign(sign: str, named: list[str], sentence: str, own_words: list[str]) -> bool:
    """Is one of the denial's words one of ``sign``'s (for a cancer: and no other
    cancer's site, :func:`_another_site`; for a part of a sign, a word all its parts
    share only when the denial names no other part: :func:`_names_part`)?"""
    if sign in _WHOLE_OF_PART:
        return _names_part(sign, named)
    pattern = _sign_pattern(sign, _kinds_named(sign, own_words))
    return any(pattern.fullmatch(word) for word in named) and not (
        sign == "cancer" and _another_site(sentence, own_words))


def _names_part(part: str, named: list[str]) -> bool:
    """"No dissection" names the dissection, not the aneurysm; "No aortic problems" both."""
    whole = _WHOLE_OF_PART[part]
    if any(re.fullmatch(PART_WORDS[whole][part], word) for word in named):
        return True
    others = [p for name, p in PART_WORDS[whole].items() if name != part]
    shared = _SHARED_WORDS.get(whole)
    return shared is not None and any(re.fullmatch(shared, word) for word in named) \
        and not any(re.fullmatch(p, word) for p in others for word in named)


def _denies_a_history(named: list[str], only_histories: bool) -> bool:
    """A history (a cancer, an osteoporotic fracture, a known aneurysm) is denied by a word
    for history only ("No history of note"; "No PMH" when the row names histories only):
    "No new symptoms", "Nil of note", "No longer" in a "Prostate cancer follow-up" row
    leave the cancer history standing; a row naming a history and a symptom ("Metastatic
    cord compression") is read so too."""
    past = _PAST | _NO_PAST if only_histories else _PAST
    if any(word in past for word in named):
        return all(w in past or w in _ANYTHING or w in _QUALIFIERS for w in named)
    return not named


def _denies_a_symptom(named: list[str]) -> bool:
    """A symptom is denied by nothing named but the denial ("No", "No new symptoms", "No
    longer"); not by something else named, nor by a qualifier alone ("Not acute", "No
    longer acute": how the sign is, not whether)."""
    if [w for w in named if w not in _ANYTHING and w not in _QUALIFIERS and w not in _NOW]:
        return False
    if any(word in _QUALIFIERS for word in named) and not any(w in _ANYTHING for w in named):
        return False
    return not named or any(word in _ANYTHING or word in _NOW for word in named)


# "Cauda equina compression" is the nerve roots', not the cord's: a cord compression row
# holding "No cauda equina compression" keeps its sign (twenty-second session)
_ROOTS_COMPRESSED = re.compile(r"\b(caudal?[\s-]+equina)\s+(?:nerve\s+)?(?:roots?\s+)?"
                               r"compression\b")


def _read_as_words(sentence: str) -> str:
    lower = _ROOTS_COMPRESSED.sub(r"\1", sentence.lower())
    something_else = _SOMETHING_ELSE if _LEGS_OR_SADDLE.search(lower) else \
        _SOMETHING_ELSE_OR_ANOTHER_PART  # one pass: the phrase that starts first is read
    text = something_else.sub(" another thing ", lower)
    return _AORTIC_TYPE.sub(" aortictype ", _BLADDER_AND_BOWEL.sub(" bb ", text))


def _another_site(sentence: str, own_words: list[str]) -> bool:
    """Does the denial name a cancer's site the row does not ("Bone metastases" holding "No
    Ca. prostate", "No prostate cancer": the metastases stand)?"""
    sites = {m.group().lower() for m in _CANCER_SITE.finditer(sentence)}
    own = {m.group().lower() for text in own_words for m in _CANCER_SITE.finditer(text)}
    return bool(sites - own)


def _kinds_named(sign: str, own_words: list[str]) -> tuple[str, ...]:
    """The kinds of cancer (:data:`_CANCER_KINDS`) the row's own words name, unless they
    name a primary's site too: "Metastatic prostate cancer" holding "No mets" is still a
    prostate cancer (fifth review of this change)."""
    if sign != "cancer" or any(_CANCER_SITE.search(text) for text in own_words):
        return ()
    words = [w for text in own_words for w in _WORD.findall(text.lower())]
    return tuple(kind for kind in _CANCER_KINDS
                 if any(re.fullmatch(kind, word) for word in words))


@lru_cache(maxsize=256)
def _sign_pattern(sign: str, kinds: tuple[str, ...] = ()) -> re.Pattern[str]:
    return re.compile("|".join((SIGN_WORDS[sign], *kinds)))
