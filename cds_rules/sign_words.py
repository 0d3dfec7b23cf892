"""The words that name a red-flag sign: does a denial in words deny *this* finding?

An Observation's value in words answers for the finding its code names: "Urinary
retention": "No urinary retention". A denial of something else is no answer: a flowsheet
row "Urinary retention" holding "No fever" or "No new bone pain" (a comment in the wrong
cell) does not say the retention is absent, and reading it so silenced an emergency
(independent review, twelfth session; CLINICAL.md principles 1 and 2). So a denial of a
red-flag sign's finding answers for it only when it names nothing but the denial ("No",
"No new symptoms", "Nil of note") or names the sign: one of its words (:data:`SIGN_WORDS`,
clinicians' words for the sign and for what it is a loss of: "No bladder problems", "No
numbness around back passage"; a family's syndrome, cauda equina or cord compression, by
any of its signs' words: a "CES screen" row holding "No saddle anaesthesia, no retention").
A denial in other words leaves the sign standing: a false alarm at worst, never a lost
emergency. A qualifier alone ("Not acute", "Not new", "Not on the left", "Not clinically
significant") describes the sign, it does not deny it.

Findings that are no red-flag sign (a test done, care given, a risk factor) are read as
before: there a finding stated present may take advice away ("FBC": "No sample received"
is no test), so every denial still answers for them (thirteenth session's review).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_URINE = (r"urin\w*|bladder\w*|void\w*|micturi\w*|pee|peeing|peed|wee|weeing|waterworks|"
          r"luts|pu|catheter\w*|gu|genito\w*|aur|boo|overflow|bb")
_BOWEL = (r"faecal|fecal|faeces|feces|bowel\w*|stool\w*|anal|anus|rectal|rectum|sphincter\w*|"
          r"bo|fi|bb")
_SADDLE = (r"saddle|numb\w*|(?:an|hyp|hypo|par|dys)a?esthe\w*|sensat\w*|sensory|sense|"
           r"feel\w*|felt|pinprick|pp|tingl\w*|pins|needles|wip\w*|sa")
_NEUROLOGY = r"neuro\w*|focal|deficits?"
_CAUDA_EQUINA = (rf"{_URINE}|{_BOWEL}|{_SADDLE}|{_NEUROLOGY}|retent\w*|retain\w*|incontin\w*|"
                 r"continen\w*|enuresis|ui|leak\w*|accident\w*|cauda|equina|ces|conus|"
                 r"sciatic\w*|bilateral\w*|tone|squeeze|sexual|erect\w*|ed|impoten\w*|"
                 r"ejaculat\w*")
_CORD = (rf"{_NEUROLOGY}|cord|compress\w*|mscc|myelopath\w*|reflex\w*|hyperreflex\w*|brisk|"
         r"plantars?|babinski|upgoing|clonus|hoffman\w*|umn|spastic\w*|tone|tract|gait|"
         r"walk\w*|balance|ataxi\w*|unstead\w*|falls?|falling|mobil\w*|stagger\w*|"
         r"l?hermitte\w*|clums\w*|weak\w*|power|strength|parapar\w*|paresis|numb\w*|sensory|"
         r"sensat\w*")
_WEAKNESS = (rf"{_NEUROLOGY}|weak\w*|power|strength|motor|mrc|dorsiflex\w*|plantarflex\w*|"
             r"drop\w*|footdrop|paresis|trip\w*|slap\w*")

SIGN_WORDS: dict[str, str] = {
    "cauda equina syndrome": _CAUDA_EQUINA,
    "conus medullaris syndrome": _CAUDA_EQUINA,
    "saddle anaesthesia": _SADDLE,
    "perineal or perianal numbness": _SADDLE,
    "loss of anal tone or rectal sensation": (rf"{_BOWEL}|tone|squeeze|pr|dre|sensat\w*|"
                                              r"feel\w*|wink|bulbocavernos\w*"),
    "urinary retention": (rf"{_URINE}|retent\w*|retain\w*|empty\w*|emptied|hesitan\w*|"
                          r"stream|flow|dribbl\w*"),
    "urinary incontinence": (rf"{_URINE}|incontin\w*|continen\w*|enuresis|ui|leak\w*|wet\w*|"
                             r"accident\w*|pads?"),
    "faecal incontinence": rf"{_BOWEL}|incontin\w*|continen\w*|soil\w*|accident\w*|leak\w*",
    "bladder or bowel dysfunction": (rf"{_URINE}|{_BOWEL}|retent\w*|retain\w*|incontin\w*|"
                                     r"continen\w*|enuresis|ui|leak\w*|accident\w*"),
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
    "cancer": (r"cancer\w*|malignan\w*|tumou?r\w*|neoplas\w*|carcinom\w*|metasta\w*|mets|"
               r"secondaries|oncolog\w*|lymphom\w*|myelom\w*|leuka?emi\w*|sarcom\w*|ca|"
               r"adenoca\w*"),
    "spinal infection": (r"infect\w*|discit\w*|osteomyel\w*|abscess\w*|spondylodisc\w*|"
                         r"sea|tb|tubercul\w*|pott\w*|septic|sepsis|empyema"),
    "vertebral fracture or osteoporosis": (r"fractur\w*|#|osteopor\w*|osteopen\w*|op|wedg\w*|"
                                           r"crush\w*|broken|breaks?|broke|density"),
    "aortic aneurysm or dissection": (r"aort\w*|aneurysm\w*|aaa|dissect\w*|triple|"
                                      r"pulsatil\w*"),
}
"""Per sign of :data:`cds_rules.uncoded._PHRASES`, the words (whole words, lower case) by
which a denial names it or what it is a loss of; a syndrome's list holds its family's.
Words for a place alone (leg, buttock, groin) are not in them: "No leg pain" does not
deny weakness, "No buttock pain" does not deny saddle anaesthesia."""

def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# What a denial may say besides the sign's name without naming anything: fillers, and words
# for "anything" ("No new symptoms", "Nil of note", "Patient denies any red flags",
# "Screen negative", "No to all of the above").
_FILLERS = _word_set(
    "no not nil none denies denied deny without negative neg absent never ve n the a an any "
    "and or of for to in at on with this that these is are was were has have had been be "
    "being patient pt he she they states says said c o complains complaining note noted "
    "present found seen elicited evident identified evidence all so far yet else above "
    "screen screening"
)
_ANYTHING = _word_set(
    "symptom symptoms sign signs issue issues problem problems complaint complaints concern "
    "concerns red flag flags finding findings abnormality abnormalities history hx"
)
# Words that say how the sign is, not whether: with nothing else, they qualify it ("Not
# acute", "Not new", "Not on the left", "Not clinically significant", "Not reported");
# beside a word for anything they do not ("No new symptoms").
_QUALIFIERS = _word_set(
    "new acute recent recently significant significance relevant concerning clinical "
    "clinically obvious symptomatic reported known current currently today now time ongoing "
    "other others further more left right l r lt rt"
)
# Phrases naming something else with a sign's word in them ("No urinary tract infection" in
# a retention row, "No CSF leak", "No Ca supplements"): read as another thing.
_SOMETHING_ELSE = re.compile(
    r"\b(?:urinary\s+tract\s+infection|urin(?:e|ary)\s+infection|uti|water\s+"
    r"(?:infection|tablets?|bottles?)|(?:chest|skin|wound|ear|throat|viral|recent|respiratory)"
    r"\s+infections?|csf\s+leak|broken\s+skin|ca(?:lcium)?\s+supplements?)\b", re.I)
_BLADDER_AND_BOWEL = re.compile(r"\bb\s*(?:&|\+|and|/)\s*b\b", re.I)  # "No B&B symptoms"
_WORD = re.compile(r"[a-z0-9]+|#")


def names_the_finding(sentence: str, signs: Iterable[str]) -> bool:
    """Does the denial ``sentence`` answer for a finding that is one of the red-flag
    ``signs`` (or, with none, for any finding: read as before)? See the module's note."""
    patterns = [_sign_pattern(sign) for sign in signs if sign in SIGN_WORDS]
    if not patterns:
        return True
    words = _WORD.findall(_read_as_words(sentence))
    named = [w for w in words if w not in _FILLERS]
    if not [w for w in named if w not in _ANYTHING and w not in _QUALIFIERS]:
        # nothing named but the denial ("No", "No new symptoms"); a qualifier alone ("Not
        # acute") says how the sign is, not that it is absent
        return not named or any(w in _ANYTHING for w in named)
    return any(pattern.fullmatch(word) for pattern in patterns for word in named)


def _read_as_words(sentence: str) -> str:
    text = _SOMETHING_ELSE.sub(" another thing ", sentence.lower())
    return _BLADDER_AND_BOWEL.sub(" bb ", text)


@lru_cache(maxsize=64)
def _sign_pattern(sign: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{SIGN_WORDS[sign]})")
