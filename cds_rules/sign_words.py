"""The words that name a red-flag sign: does a denial in words deny *this* finding?

An Observation's value in words answers for the finding its code names: "Urinary
retention": "No urinary retention". A denial of something else is no answer: a flowsheet
row "Urinary retention" holding "No fever" or "No new bone pain" (a comment in the wrong
cell) does not say the retention is absent, and reading it so silenced an emergency
(independent review, twelfth session; CLINICAL.md principles 1 and 2). So a denial
sentence answers for a finding only when it is a bare answer ("No new symptoms", "Nil of
note": nothing named but the denial) or names the finding: one of its sign's words
(:data:`SIGN_WORDS`, clinicians' words for the sign and for what it is a loss of: "No
bladder problems", "No numbness around back passage"), or, for a finding that is no red
flag sign, a word of its own code's name ("Night pain": "Not at night"). A denial in other
words leaves the finding standing: a false alarm at worst, never a lost emergency.

A family's syndrome (cauda equina, cord compression) is answered by a denial of any of
its signs: a "CES screen" row holding "No saddle anaesthesia, no retention" denies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_URINE = (r"urin\w*|bladder\w*|void\w*|micturi\w*|pee|peeing|peed|wee|weeing|waterworks|"
          r"water|luts|pu|catheter\w*")
_BOWEL = r"faecal|fecal|faeces|feces|bowel\w*|stool\w*|anal|anus|rectal|rectum|sphincter\w*"
_SADDLE = (r"saddle|numb\w*|(?:an|hyp|hypo|par|dys)a?esthe\w*|sensat\w*|sensory|sense|"
           r"feel\w*|felt|perine\w*|perian\w*|peri|genital\w*|buttock\w*|bottom|groin\w*|"
           r"passage|s[2-5]|pinprick|pp|tingl\w*|pins|needles|wip\w*|anal|anus")
_CAUDA_EQUINA = (rf"{_URINE}|{_BOWEL}|{_SADDLE}|retent\w*|retain\w*|incontin\w*|continen\w*|"
                 r"leak\w*|accident\w*|cauda|equina|ces|conus|sciatic\w*|bilateral\w*|"
                 r"tone|squeeze|sexual|erect\w*|impoten\w*|ejaculat\w*")
_CORD = (r"cord|compress\w*|mscc|myelopath\w*|reflex\w*|hyperreflex\w*|brisk|plantars?|"
         r"babinski|upgoing|clonus|hoffman\w*|umn|spastic\w*|tone|gait|walk\w*|balance|"
         r"ataxi\w*|unstead\w*|falls?|falling|mobil\w*|stagger\w*|lhermitte\w*|weak\w*|"
         r"power|strength|parapar\w*|legs?|numb\w*|sensory|sensat\w*")
_WEAKNESS = (r"weak\w*|power|strength|motor|mrc|legs?|limbs?|foot|feet|ankles?|knees?|"
             r"hips?|thighs?|dorsiflex\w*|plantarflex\w*|toes?|drop\w*|trip\w*|slap\w*")

SIGN_WORDS: dict[str, str] = {
    "cauda equina syndrome": _CAUDA_EQUINA,
    "conus medullaris syndrome": _CAUDA_EQUINA,
    "saddle anaesthesia": _SADDLE,
    "perineal or perianal numbness": _SADDLE,
    "loss of anal tone or rectal sensation": (rf"{_BOWEL}|tone|squeeze|pr|dre|sensat\w*|"
                                              r"feel\w*|wink|bulbocavernos\w*"),
    "urinary retention": (rf"{_URINE}|retent\w*|retain\w*|empty\w*|emptied|hesitan\w*|"
                          r"stream|flow|dribbl\w*"),
    "urinary incontinence": rf"{_URINE}|incontin\w*|continen\w*|leak\w*|wet\w*|accident\w*|pads?",
    "faecal incontinence": rf"{_BOWEL}|incontin\w*|continen\w*|soil\w*|accident\w*|leak\w*",
    "bladder or bowel dysfunction": (rf"{_URINE}|{_BOWEL}|retent\w*|retain\w*|incontin\w*|"
                                     r"continen\w*|leak\w*|accident\w*"),
    "bilateral sciatica or leg symptoms": (rf"{_WEAKNESS}|sciatic\w*|bilateral\w*|both|"
                                           r"radicul\w*|numb\w*|tingl\w*|pins|needles|"
                                           r"calf|calves|sensat\w*|sensory"),
    "spinal cord compression": _CORD,
    "myelopathy": _CORD,
    "upper motor neurone signs": (r"reflex\w*|hyperreflex\w*|brisk|plantars?|babinski|"
                                  r"upgoing|clonus|hoffman\w*|umn|spastic\w*|tone"),
    "gait disturbance": (r"gait|walk\w*|balance|ataxi\w*|unstead\w*|falls?|falling|mobil\w*|"
                         r"stagger\w*|wobbl\w*"),
    "Lhermitte's sign": r"lhermitte\w*|electric\w*|shock\w*",
    "spastic paraparesis": r"spastic\w*|parapar\w*|weak\w*|legs?|tone|stiff\w*|power",
    "foot drop": _WEAKNESS,
    "leg weakness": _WEAKNESS,
    "cancer": (r"cancer\w*|malignan\w*|tumou?r\w*|neoplas\w*|carcinom\w*|metasta\w*|mets|"
               r"secondaries|oncolog\w*|lymphom\w*|myelom\w*|leuka?emi\w*|sarcom\w*|ca|"
               r"adenoca\w*"),
    "spinal infection": (r"infect\w*|discit\w*|osteomyel\w*|abscess\w*|spondylodisc\w*|tb|"
                         r"tubercul\w*|pott\w*|septic|sepsis|empyema"),
    "vertebral fracture or osteoporosis": (r"fractur\w*|osteopor\w*|osteopen\w*|collaps\w*|"
                                           r"wedg\w*|crush\w*|broken|breaks?|broke|density"),
    "aortic aneurysm or dissection": r"aort\w*|aneurysm\w*|aaa|dissect\w*|triple",
}
"""Per sign of :data:`cds_rules.uncoded._PHRASES`, the words (whole words, lower case) by
which a denial names it or what it is a loss of; a syndrome's list holds its family's."""

# Words that name nothing: a denial, a filler, a word for "anything" ("No new symptoms",
# "Nil of note", "Patient denies any red flags").
_NAMING_NOTHING = (
    "no not nil none denies denied deny without negative neg absent never ve n the a an any "
    "and or of for to in at on with this that these is are was were has have had been be "
    "being patient pt he she they states reports reported report says said c o complains "
    "complaining new other others further more known noted note notable significant "
    "significance relevant concerning concern concerns issue issues problem problems "
    "complaint complaints symptom symptoms symptomatic sign signs red flag flags finding "
    "findings abnormality abnormalities evidence history hx current currently today now time "
    "present presently elicited found seen evident identified ongoing recent recently all "
    "obvious clinical clinically feature features suggestive suggestion acute so far yet left "
    "right l r lt rt"
)
_NAMES_NOTHING = frozenset(_NAMING_NOTHING.split())
_WORD = re.compile(r"[a-z0-9]+")


def names_the_finding(sentence: str, signs: Iterable[str], own_words: Iterable[str]) -> bool:
    """Does the denial ``sentence`` answer for the finding: nothing named but the denial,
    a word of one of its ``signs`` (:data:`SIGN_WORDS`), or, with no sign, a word of its
    code's name (``own_words``: text, displays, concept names)? A finding with no words at
    all (a holder without a code) cannot be told from another: the denial answers for it.
    See the module's note."""
    words = _content_words(sentence)
    if not words:
        return True
    sign_words = [_sign_pattern(sign) for sign in signs if sign in SIGN_WORDS]
    if sign_words:
        return any(pattern.fullmatch(word) for pattern in sign_words for word in words)
    own = {word for text in own_words for word in _content_words(text)}
    return not own or any(_same_stem(word, other) for word in words for other in own)


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _NAMES_NOTHING
            and not w.isdigit()]


@lru_cache(maxsize=64)
def _sign_pattern(sign: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{SIGN_WORDS[sign]})")


def _same_stem(word: str, other: str) -> bool:
    """The same word, or words sharing their first four letters ("pain", "painful")."""
    return word == other or (len(word) >= 4 and len(other) >= 4 and word[:4] == other[:4])
