"""Red flags named in the text of an entry whose code no value set knows.

An EHR that codes a red flag with a local or unknown code still writes words: "urinary
retention", "saddle anaesthesia", "cord compression". CLINICAL.md (decisions of the
clinical review): such an entry never yields reassurance; it gives a *warning* on its
family's topic saying "uncoded entry suggests <sign>: check", never a critical card.

A short phrase list per family (the signs of CLINICAL.md's rule-family table), matched per
clause with word boundaries; a clause negated by the caller's negation test ("no saddle
anaesthesia", "retention: absent") does not count, and a few phrases are excluded where
the family itself excludes them (non-melanoma skin cancer is not a cancer history).
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
from cds_rules.uncoded_reading import Part, closed_signs, denied, excluded_near

UNCODED_PREFIX = "uncoded:"

# A sign stated as a loss ("reduced saddle sensation", "anal tone: reduced"): the word of
# loss is part of the phrase, so a denial before it ("No reduced anal tone") still denies it
# and a closing "absent" ("Perianal sensation absent") names the sign, never its denial.
_LESS = (r"(?:reduced|altered|loss\s+of|lost|absent|diminished|decreased|impaired|abnormal|"
         r"poor|weak|patchy)")
_REDUCED = (r"(?:reduced|altered|lost|absent|diminished|decreased|impaired|abnormal|poor|weak|"
            r"patchy|nil|none)")
# "No anal tone abnormality", "No saddle sensation change": a "no" that denies a change
_NOT_A_LOSS = (r"(?!(?:\s+tone)?\s+(?:abnormal\w*|loss|deficit\w*|chang\w*|disturb\w*|"
               r"problem\w*|issues?|alter\w*|impair\w*|concerns?|reduc\w*|weak\w*|"
               r"dysfunction|injur\w*|defect\w*))")


def _loss_of(sense: str) -> str:
    """``sense`` said to be lost, before or after it: "reduced X", "X: reduced"."""
    return (rf"{_LESS}\s+(?:{sense})|no\s+(?:{sense}){_NOT_A_LOSS}|"
            rf"(?:{sense})\s*[:\-\u2013]?\s*{_REDUCED}\b")


# The saddle's sensation in examiners' words: "Reduced saddle and perianal sensation",
# "Reduced sensation in the saddle distribution", "Reduced sensation S2-S4"; and in the
# patient's: "Numbness when wiping", "Can't feel the paper when wiping", "Numb bum".
_SADDLE_SENSATION = (
    r"(?:saddle|peri(?:neal|anal))\s+(?:and|&|/)\s+(?:saddle|peri(?:neal|anal))\s+sensation|"
    r"sensation\s+(?:to\s+\w+\s+)?(?:in|over)\s+(?:the\s+)?saddle\s+(?:area|region|"
    r"distribution)|"
    r"s[2-5]\s*(?:-|/|to)\s*s?[2-5]\s+(?:sensation|dermatomes?)|"
    r"sensation\s+(?:at\s+|in\s+)?s[2-5]\s*(?:-|/|to)\s*s?[2-5](?:\s+dermatomes?)?|"
    r"sensation\s+(?:peri(?:anally|neally)|(?:over\s+|in\s+)?(?:the\s+)?perineum)|"
    r"sacral\s+sensation|pinprick\s+peri(?:anally|neally)")
# "Sensation reduced in the saddle distribution"
_SADDLE_REDUCED = (r"sensation\s+" + _REDUCED + r"\s+(?:in|over|around)\s+(?:the\s+)?"
                   r"(?:saddle|peri(?:neal|anal))\b")
_NUMB_WIPING = (r"(?:numb(?:ness)?|(?:can't|cannot|unable\s+to)\s+feel\b[\w\s]{0,20}?|"
                r"(?:altered|reduced)\s+sensation)\s+(?:on\s+|when\s+)?(?:\w+\s+)?wip(?:ing|es?)|"
                r"numb(?:ness)?\s+(?:around\s+(?:the\s+)?)?(?:bum|back\s+passage)")


# "Reduced pinprick sensation in saddle area", "Saddle area: reduced LT", "Sensory loss
# S2-S4", "Numb down below", "Tingling in the saddle area" (eighth independent review)
# S2-S4 alone is no place: "no S3/S4" is a heart sound (ninth independent review)
_SADDLE_PLACE = r"(?:saddle|perineum|peri(?:neal|anal)|s[2-5]\s*(?:-|/|to)\s*s?[2-5])"
_SENSE = r"(?:sensation|sensory|sense|pinprick|pp|lt|light\s+touch|touch|feeling)"
_SADDLE_EXAM = (
    # a sense between the loss and the place: not "Reduced swelling in perineum"
    r"(?:reduced|altered|diminished|decreased|impaired|absent|abnormal|loss\s+of)\s+"
    r"(?:[\w/&]+\s+){0,3}?" + _SENSE + r"(?:\s+[\w/&]+){0,3}?\s+(?:in|over|around)\s+"
    r"(?:the\s+)?" + _SADDLE_PLACE + r"|"
    r"saddle\s+(?:area|region|distribution)\s*[:\-\u2013]?\s*" + _REDUCED + r"|"
    r"sensory\s+loss\s+(?:in\s+|over\s+)?(?:the\s+)?" + _SADDLE_PLACE + r"|"
    + _SADDLE_PLACE + r"\s+sensory\s+loss|"
    r"(?:hyp(?:o)?a?esthesia|an(?:a)?esthesia|numbness)\s+(?:over\s+|in\s+)?" + _SADDLE_PLACE
    + r"|saddle\s*[:\-\u2013]\s*numb\w*|"
    r"numb(?:ness)?\s+(?:down\s+below|around\s+(?:the\s+)?anus)|genital\s+numbness|"
    r"saddle\s+(?:area\s+|region\s+)?(?:tingling|pins\s+and\s+needles)|"
    r"(?:tingling|pins\s+and\s+needles|par(?:a)?esthesi\w*|dys(?:a)?esthesi\w*)\s+"
    r"(?:in\s+|around\s+|over\s+)?(?:the\s+)?"
    r"(?:saddle|perineum|peri(?:neal|anal))")


# "Bone mets", "Mets to spine", "Hx breast ca", "Ca prostate" (tenth session); not "4 METs"
# of exercise, "Ca 2.4" or "Ca channel blocker" (calcium), "CA 125" (a tumour marker)
CANCER_SITE = (r"(?:breast|prostate|prostatic|lung|bronchial|bronchus|renal|kidney|thyroid|"
               r"bowel|colon|colonic|colorectal|rectal|rectum|oesophageal|oesophagus|"
               r"esophageal|gastric|stomach|pancreatic|pancreas|ovarian|ovary|bladder|"
               r"cervical|cervix|endometrial|uterine|testicular|sigmoid|caecal|caecum|cecal|"
               r"cecum)")
"""A cancer's site, as the uncoded reader and :mod:`cds_rules.sign_words` read it."""
_CANCER_SHORTHAND = (r"(?:bone|bony|osseous|skeletal|spinal|spine|vertebral|liver|hepatic|"
                     r"lung|pulmonary|brain|cerebral|adrenal|nodal)\s+mets\b|"
                     r"(?:lytic|sclerotic|blastic|osteolytic|osteoblastic|mixed|widespread|multiple|known|"
                     r"distant|diffuse|disseminated|extensive|spine)\s+mets\b|(?<=\?)\s*mets\b|"
                     r"mets\s+(?:to|in)\s+(?:the\s+)?(?:bones?|(?:[clt][\s-]?|cervical\s+|thoracic\s+|"
                     r"lumbar\s+|lumbosacral\s+)?spine|vertebra\w*|liver|lungs?|brain|adrenals?|"
                     r"(?:lymph\s+)?nodes|[ctl]\d+)\b|"
                     + r"(?:" + CANCER_SITE
                     + r"|(?:renal|small|transitional)\s+cell|ductal|lobular)"
                     r"\s+(?-i:ca|Ca|CA)\b(?!\s*[-:]?\s*\d+\.\d+(?!\d)(?!\s*(?:cm|mm))|"
                     r"\s*[-:]?\s*\d+(?:\.\d+)?\s*mmol|\s*(?:\+|channel|"
                     r"antagonist|blocker|level|supplement|excretion|oxalate|stone|mmol))|"
                     r"(?-i:ca|Ca|CA)\s+(?:of\s+(?:the\s+)?)?" + CANCER_SITE + r"\b")
# "L1 fracture", "T12 vertebral body fracture", "Fracture of L2 vertebra" (tenth session)
_LEVEL = r"(?:c[1-7]|t(?:1[0-2]|[1-9])|l[1-5])"
_NOT_A_DIGIT = (r"(?!\s*(?:st|nd|rd|th)?\s*(?:meta\w*|m[ct]s?|mcp|mtp|pip|dip|finger|toe|"
               r"digit|thumb|phalan\w*|ray|rib)\b)")  # "Fracture L5 metacarpal": L = left
_LEVEL_FRACTURE = (_LEVEL + r"(?:\s+(?:vertebra(?:l)?(?:\s+body)?|body|transverse\s+process|"
                   r"spinous\s+process|pars|(?:superior\s+|inferior\s+)?end\s*plate))?"
                   r"\s+(?:fracture|fx\b)|" + _LEVEL + r"\s*#|(?:(?<=#)|(?<=#\s))" + _LEVEL
                   + r"\b" + _NOT_A_DIGIT + r"|"
                   r"vertebral\s+body\s+fracture|(?:fracture[ds]?|fx)\s+(?:of\s+|at\s+|through\s+|"
                   r"involving\s+)?(?:the\s+)?" + _LEVEL
                   + r"(?:\s+vertebra\w*)?\b" + _NOT_A_DIGIT + r"|fractured\s+vertebra|"
                   r"fracture[ds]?\s+of\s+(?:the\s+)?(?:\w+\s+){0,2}?vertebra\w*|"
                   r"(?:spinal|spine|vertebral)\s+fractures?|fracture\s+of\s+(?:the\s+)?"
                   r"(?:(?:cervical|thoracic|lumbar)\s+)?spine\b(?!\s+of)|"
                   r"vertebral\s+(?:body\s+)?collapse|collapse\s+of\s+(?:the\s+)?"
                   r"(?:" + _LEVEL + r"\b|vertebra\w*)")
_NOT_STRESS = r"(?<!stress\s)(?<!urge\s)(?<!mixed\s)"
# "Reduced sphincter tone", "Sphincter tone: decreased": the anal sphincter, not the
# oesophagus's, the stomach's or the urethra's (tenth session)
_SPHINCTER_TONE_LOST = (r"(?:reduced|decreased|diminished|absent|poor|lax|weak|impaired|"
                        r"loss\s+of)\s+(?:(?:internal|external)\s+)?(?:anal\s+)?sphincter\s+tone|"
                        r"(?<!phageal\s)(?<!gastric\s)(?<!urethral\s)(?<!\bles\s)(?<!\blos\s)"
                        r"(?<!\bues\s)(?<!\buos\s)(?<!urinary\s)(?<!bladder\s)(?<!pyloric\s)"
                        r"(?<!\bhv\s)sphincter\s+tone\s*[:\-\u2013]?\s*(?:" + _REDUCED
                        + r"\b|(?:lax|low|flaccid)\b|\u2193)|"
                        r"anal\s+(?:sphincter\s+)?tone\s*[:\-\u2013]?\s*(?:lax|low|flaccid)\b")


# topic -> (sign shown on the card, phrase patterns). Patterns are regex fragments.
# An aortic dissection by its class: "Stanford A", "DeBakey type I", "DeBakey III"; not
# "Stanford A&E", "Seen at Stanford a week ago", "Debakey 1 week ago" (a lower-case letter or
# an Arabic numeral only before "dissection").
_BEFORE_DISSECTION = r"(?=\s+(?:aortic\s+)?dissection)"
_STANFORD_DEBAKEY = (r"(?:stanford\s+(?:type\s+)?(?:(?-i:[AB])(?!\s*(?:&|\+|and|/)\s*e\b)|[ab]"
                     + _BEFORE_DISSECTION + r")|debakey\s+(?:type\s+(?:i{1,3}|[123])[ab]?|"
                     r"(?-i:I{1,3}|i{2,3})[ab]?|(?:i{1,3}|[123])[ab]?" + _BEFORE_DISSECTION
                     + r"))\b(?:\s+(?:aortic\s+)?dissection)?")
_PHRASES: dict[Topic, tuple[tuple[str, str], ...]] = {
    Topic.CAUDA_EQUINA: (
        # "?CES", "CES pathway", in capitals (French "ces"); not the LOINC scales "CES-D"
        # (depression) and "CES - Compulsive eating scale"; CES-I incomplete, CES-R with
        # retention (not "CESI", a US epidural steroid injection)
        ("cauda equina syndrome", r"caudal?[\s-]+equina|(?-i:CES)\b(?!-(?-i:D)|\s+-\s+"
                                  r"compulsive)|(?<=\?)\s*ces\b|(?:query|suspected|possible|"
                                  r"likely|probable)\s+ces\b"),
        ("conus medullaris syndrome", r"conus(?:\s+medullaris)?\s+(?:syndrome|compression|"
                                      r"lesion)|(?:compression|compressing|compressed|"
                                      r"impinging\s+on|impingement\s+of)\s+(?:of\s+|on\s+)?"
                                      r"(?:the\s+)?conus\b"),
        ("saddle anaesthesia", r"saddle\s+(?:area\s+|region\s+)?(?:(?:an|hyp|hypo|par)(?:a)?"
                               r"esthesia|numbness|sensory)|"
                               + _loss_of(r"saddle\s+sensation|" + _SADDLE_SENSATION)
                               + r"|numb(?:ness)?\s+(?:in\s+|of\s+|around\s+)?(?:the\s+)?saddle|"
                               + _NUMB_WIPING + "|" + _SADDLE_REDUCED + "|" + _SADDLE_EXAM),
        ("perineal or perianal numbness", r"peri-?(?:neal|anal)\s+(?:numbness|an(?:a)?esthesia|"
                                          r"par(?:a)?esthesi\w*|dys(?:a)?esthesi\w*|"
                                          r"hyp(?:o)?(?:a)?esthesia|"
                                          r"tingling|pins\s+(?:and|&|\+)\s+needles)|"
                                          + _loss_of(r"(?:peri(?:neal|anal)|genital)\s+sensation")
                                          + r"|numb(?:ness)?\s+(?:in\s+|of\s+|around\s+)?"
                                          r"(?:the\s+)?(?:perineum|genitals?|"
                                          r"peri(?:neal|anal)\s+(?:area|region))"),
        ("loss of anal tone or rectal sensation",
         _loss_of(r"(?:anal|rectal)\s+(?:sphincter\s+)?(?:tone|sensation|squeeze|reflex|wink)|"
                  r"bulbocavernosus\s+reflex")
         + r"|(?:lax|patulous)\s+anal\s+(?:tone|sphincter)|" + _SPHINCTER_TONE_LOST
         + r"|(?:(?-i:PR|DRE)|rectal)(?:\s+exam\w*)?\s*[:\-\u2013]?\s*(?:"
         + _loss_of(r"tone|squeeze|sphincter") + r"|lax\s+(?:tone|sphincter)|"
         r"(?:tone|sphincter)\s+lax)"),
        ("urinary retention", r"(?:urinary|urine)\s+retention|retention\s+of\s+urine|"
                              r"bladder\s*[:\-\u2013]\s*retention|"
                              r"(?:unable|cannot|can't|inability)\s+to\s+empty\s+(?:the\s+|"
                              r"(?:his|her|their)\s+)?bladder|no\s+urine\s+passed|"
                              r"(?:not|\w+n't)\s+(?:urinated|micturated|pee'?d|wee'?d)|"
                              r"(?:unable|cannot|can't|can\s+not|inability|difficulty)\s+"
                              r"(?:to\s+)?(?:pass(?:ing)?\s+(?:urine|water)|void(?:ing)?\b|"
                              r"micturat\w*|urinat\w*|pee\b)|"
                              r"(?:not|\w+n't)\s+(?:passed|passing|pass|voided|void|"
                              r"been\s+able\s+to\s+(?:pass|void))"
                              r"(?:\s+(?:any\s+)?(?:urine|water))?(?<!passed)(?<!passing)(?<!pass)|"
                              r"(?:acute|painless|chronic|new|suspected|possible)\s+"
                              r"retention(?!\s+of\s+(?!urine))|"
                              r"(?:in|into)\s+retention|(?<!stool\s)(?<!faecal\s)(?<!fecal\s)retention\s+with\s+overflow|(?-i:AUR)\b|"
                              r"(?:not|\w+n't|unable\s+to|can't|cannot)\s+(?-i:PU)(?:'?d)?\b|"
                              r"(?:unable\s+to|can't|cannot)\s+wee\b|"
                              r"(?:struggling|straining)\s+to\s+(?:pass\s+urine|void|"
                              r"urinate|micturate)|"
                              r"(?:catheteri[sz](?:ed|ation)|(?:idc|foley|catheter)(?:\s+catheter)?"
                              r"(?:\s+(?:inserted|placed|sited))?)\s+for\s+(?!clot)(?:\w+\s+)?retention|"
                              r"difficulty\s+(?:initiating|starting|emptying)\s+(?:micturition|"
                              r"voiding|(?:to\s+)?(?:void|pass\s+urine)|(?:the\s+)?bladder)|"
                              r"(?:unaware|no\s+awareness)\s+of\s+bladder\s+(?:fullness|filling)|"
                              r"(?:no|loss\s+of(?:\s+the)?|lost|absent)\s+(?:urge|desire|sensation)\s+"
                              r"(?:to|of\s+needing\s+to)\s+(?:void|pass\s+urine|micturate|urinate)|"
                              r"urinary\s+hesitancy|hesitancy\s+(?:of|in|on)\s+(?:micturition|"
                              r"voiding|urination)|"
                              + _loss_of(r"(?:urinary|bladder)\s+(?:filling\s+)?sensation|"
                                         r"sensation\s+of\s+(?:bladder\s+fullness|bladder\s+"
                                         r"filling|urine\s+flow|passing\s+urine)")),
        # not stress, urge or mixed incontinence (the value set leaves them out)
        ("urinary incontinence", _NOT_STRESS + r"(?:(?:urinary|bladder|overflow|double|new|"
                                 r"new[- ]onset|sudden)\s+incontinence|incontinence\s+since\b|"
                                 r"incontinence\s+of\s+urine)|incontinent\s+of\s+urine|"
                                 r"wet\s+(?:him|her|them)sel(?:f|ves)|"
                                 r"loss\s+of\s+(?:control\s+of\s+(?:the\s+)?)?bladder(?:\s+control)?|"
                                 r"(?:bladder|b\s*\+\s*b)\s*[:\-\u2013]\s*incontinent|"
                                 r"(?:lost|unable\s+to|can't|cannot)\s+"
                                 r"control\s+(?:of\s+)?(?:(?:his|her|their)\s+)?bladder"),
        ("faecal incontinence", r"(?:f(?:a)?ecal|bowel)\s+incontinence|"
                                r"incontinen(?:ce|t)\s+of\s+(?:f(?:a)?eces|stool)|"
                                r"loss\s+of\s+(?:control\s+of\s+(?:the\s+)?)?bowels?(?:\s+control)?|"
                                r"bowels?\s*[:\-\u2013]\s*incontinent|"
                                r"(?:lost|unable\s+to|can't|cannot)\s+"
                                r"control\s+(?:of\s+)?(?:(?:his|her|their)\s+)?bowels?|"
                                r"soiled\s+(?:him|her|them)sel(?:f|ves)"),
        ("bladder or bowel dysfunction", r"(?:(?:bladder|bowel)\s*(?:/|\+|&)\s*)?"
                                         r"(?<!induced\s)(?<!functional\s)(?<!phageal\s)"
                                         r"(?<!biliary\s)(?<!pyloric\s)"
                                         r"(?:bladder|bowel|sphincter)\s+"
                                         r"(?:dysfunction|disturbance)|"
                                         r"neurogenic\s+(?:bladder|bowel)|neuropathic\s+bladder"),
        ("bilateral sciatica or leg symptoms", r"(?:bilateral|bilat|b/l)\s+(?:sciatica|"
                                               r"sciatic\s+pain|"
                                               r"(?:l[3-5]|s1)\s+radicul\w+|radicul\w+|"
                                               r"(?:leg|lower\s+limb)\s+(?:pain|numbness|"
                                               r"weakness|symptoms|paraesthesia))|"
                                               r"(?:sciatica|radicular\s+pain)\s+(?:in\s+)?"
                                               r"both\s+legs|sciatica\s*[:\-\u2013]\s*bilateral|"
                                               r"(?:radiating|shooting)\s+down\s+both\s+legs|"
                                               r"(?:sciatica|radicular\s+pain|leg\s+pain)\s+"
                                               r"bilaterally|(?:pain|numbness|tingling)\s+"
                                               r"(?:down|in)\s+both\s+legs|"
                                               r"both\s+legs\s+(?:numb|weak)\w*"),
    ),
    Topic.SPINAL_CORD_COMPRESSION: (
        ("spinal cord compression", r"(?:spinal\s+)?cord\s+(?:compression|compromise)|mscc|"
                                    r"compression\s+of\s+(?:the\s+)?(?:spinal\s+)?cord"),
        ("myelopathy", r"myelopath\w*"),
        ("upper motor neurone signs", r"hyperreflexia|upgoing\s+plantars?|extensor\s+plantars?|"
                                      r"plantars?\s*[:\-\u2013]?\s*(?:upgoing|extensor)|"
                                      r"hoffman+n?'?s?\s+(?:sign\s+|reflex\s+)?(?:positive|"
                                      r"present|\+\s*ve)|positive\s+hoffman+n?|"
                                      r"sensory\s+level\s+(?:at\s+)?[ct]\d|"
                                      r"babinski|clonus"),
        ("gait disturbance", r"(?:ataxic|spastic|(?:wide|broad)[- ]based)\s+gait"),
        ("Lhermitte's sign", r"(?<!negative\s)(?<!\bneg\s)(?<!-ve\s)"
                              r"(?>l['\u2019]?hermitte(?:['\u2019]?s)?(?:\s+(?:sign|phenomenon|symptom))?)"
                              r"(?!(?:\s*(?:,|and|&|/)\s*hoffmann?['\u2019]?s?)?(?:\s+(?:signs?|tests?))?"
                              r"\s*[:\-\u2013]?\s*(?:-\s*ve\b|neg\b|negative|not\s+(?:elicited|"
                              r"present|demonstrated)|absent))"),
        # not hereditary or tropical spastic paraparesis, lifelong diagnoses
        ("spastic paraparesis", r"(?<!hereditary\s)(?<!familial\s)(?<!tropical\s)spastic\s+"
                                r"(?:para|tetra|quadri)paresis(?!\s*[,(]\s*(?:hereditary|"
                                r"familial|tropical))"),
    ),
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: (
        ("foot drop", r"foot[\s-]*drop|drop[\s-]+foot"),
        ("leg weakness", r"(?:leg|limb|lower\s+limb)\s+weakness|weakness\s+of\s+(?:the\s+)?"
                         r"(?:legs?|lower\s+limbs?)|progressive\s+weakness|"
                         r"weakness\s+in\s+both\s+legs|both\s+legs\s+weak\w*|"
                         r"(?<!spastic\s)(?:para|tetra|quadri)paresis"),
    ),
    Topic.MALIGNANCY: (
        ("cancer", r"malignan\w*|metasta\w*|\w*carcinoma|cancer|myeloma|lymphoma|sarcoma|"
                   r"leuk(?:a)?emia|leuk(?:a)?emic\s+(?:infiltrat\w*|deposits?)|"
                   r"neoplasm\s+malignant|" + _CANCER_SHORTHAND),
    ),
    Topic.INFECTION: (
        ("spinal infection", r"(?:spondylo)?dis[ck]itis|osteomyelitis|"
                             r"(?:epidural|spinal|paraspinal)\s+abscess|spinal\s+(?:infection|tuberculosis|tb)|pott'?s?\s+disease|"
                             r"(?:tb|tuberculosis)\s+(?:of\s+(?:the\s+)?)?(?:(?:lumbar|thoracic|"
                             r"dorsal|cervical|sacral|lumbosacral|thoracolumbar|" + _LEVEL
                             + r")\s+)?(?:spine|vertebra\w*)|"
                             r"(?:tuberculous|tb)\s+spondyl(?!odis[ck]itis)\w*"),
    ),
    Topic.FRACTURE: (
        ("vertebral fracture or osteoporosis", r"(?:vertebral|compression|wedge|fragility|"
                                               r"osteoporotic|burst)\s+fracture|crush\s+fractures?(?!\s+(?:of\s+)?(?:the\s+)?"
                                               r"(?:(?:left|right|l|r|lt|rt)\s+)?(?:\w+\s+)?"
                                               r"(?:finger|toe|thumb|phalan\w*|tuft|digit|hand|"
                                               r"foot)\b)|"
                                               r"collapsed\s+vertebra|osteoporo\w+|"
                                               + _LEVEL_FRACTURE),
    ),
    Topic.VISCERAL_OR_VASCULAR: (
        ("aortic aneurysm or dissection", r"aortic\s+(?:aneurysm|dissection)|"
                                          r"abdominal\s+aortic|\baaa\b|dissecting\s+aneurysm|"
                                          r"(?<!blunt\s)(?<!careful\s)(?<!sharp\s)"
                                          r"dissection\s+of\s+(?:the\s+)?(?:(?:thoracic|abdominal|"
                                          r"ascending|descending)\s+){0,2}aorta(?!\s+(?:off|from)\b)|"
                                          r"type[\s-]+[ab]\s+dissection|aortic\s+(?:root|arch)\s+"
                                          r"dissection|" + _STANFORD_DEBAKEY
                                          + r"|(?-i:TAAD|TBAD)\b"),
    ),
}

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
_CLAUSES = re.compile(r"[.;\n\t]+|\s{2,}")  # a checklist flattened: "Fever: no  Trauma: no"
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
    found = _named_signs(text, closes_negated)
    if Topic.MALIGNANCY not in found and _CA_ABBREVIATION.search(text):
        joined = _named_signs(ca_without_stop(text), closes_negated)
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


def _named_signs(text: str, closes_negated: Callable[[str], bool]) -> dict[Topic, str]:
    """:func:`suggested`'s reading of ``text`` sentence by sentence, part by part."""
    found: dict[Topic, str] = {}
    if not _ANY.search(text):  # the common case: one search, nothing found
        return found
    for part in parts_of(text):
        _add_named(found, part, closes_negated)
    return found


def without_signs(text: str) -> str:
    """``text`` with every red-flag phrase it names taken out (what else it says)."""
    return _ANY.sub(" ", text)


def parts_of(text: str) -> Iterator[str]:
    """The parts of each sentence of ``text`` that are read on their own (not empty)."""
    for clause in (c.strip() for c in _CLAUSES.split(text)):
        yield from (p for p in (p.strip() for p in _PARTS.split(clause)) if p)


def _add_named(found: dict[Topic, str], text: str,
               closes_negated: Callable[[str], bool]) -> None:
    """The signs the part ``text`` names, not denied."""
    matches = [(topic, sign, m) for topic, sign, pattern in _PATTERNS
               for m in pattern.finditer(text)]
    if not matches:
        return
    part = Part(text)
    closed = closed_signs(part, [m for _, _, m in matches], closes_negated)
    for topic, sign, match in matches:
        excluded = _EXCLUDED_PATTERNS.get(topic)
        if topic in found or match.start() in closed or (
                excluded and excluded_near(excluded, part, match)):
            continue
        if not denied(part, match, _names_a_sign):
            found[topic] = sign


def _names_a_sign(words: str) -> bool:
    return bool(_ANY.search(words))
