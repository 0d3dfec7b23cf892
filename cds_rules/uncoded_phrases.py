"""The words of each red-flag sign, per family, as clinicians write them: the phrases
:mod:`cds_rules.uncoded` looks for (a regular expression per sign, matched case-blind from a
word boundary). A phrase says only what names the sign; whether the text denies it, ends it
or says it of someone else is the reader's question (:mod:`cds_rules.uncoded_reading`).
"""

from __future__ import annotations

import re

from cds_rules.model import Topic

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


# ... not a loss asked and answered no: "Anal tone? Reduced - no", "Anal tone: reduced? no"
_NOT_ANSWERED_NO = r"(?![ \t]*+[?\-\u2013:][ \t]*+(?:no|n|nil|none)[ \t]*+(?:$|[.;,\n|]))"


def _loss_of(sense: str) -> str:
    """``sense`` said to be lost, before or after it: "reduced X", "X: reduced", a form's
    "X? Absent"."""
    return (rf"{_LESS}\s+(?:{sense})|no\s+(?:{sense}){_NOT_A_LOSS}|"
            rf"(?:{sense})\s*+[:\-\u2013?]?\s*+{_REDUCED}\b{_NOT_ANSWERED_NO}")


# The saddle named by its parts: the genitals, the anus, the back passage
_GENITALS_OR_ANUS = (r"(?:genitals?|genitalia|anus|back\s+passage|penis|vagina|vulva|scrotum|"
                     r"labia)")
# ... and by their adjectives: "Scrotal numbness", "Reduced penile sensation"
_GENITAL = r"(?:genital|penile|scrotal|vaginal|vulva[lr]|labial)"
_GENITAL_SENSATION = r"(?:peri(?:neal|anal)|" + _GENITAL + r")\s+sensation"
# ... said numb or changed in the patient's words: "Sensation reduced around the anus",
# "Genitals feel numb", "Can't feel his penis", "Change in sensation in the genitals"
_PARTS_NUMB = (r"sensation\s+(?:is\s+)?(?:reduced|altered|decreased|diminished|lost|absent|"
               r"changed)\s+(?:in|of|around|over)\s+(?:the\s+)?" + _GENITALS_OR_ANUS + "|"
               + _GENITALS_OR_ANUS + r"\s+(?:feels?|felt|is|are|went|gone|going)\s+numb|"
               r"(?:can't|cannot|can\s+not|unable\s+to)\s+feel\s+(?:(?:his|her|their|my|"
               r"the)\s+)?" + _GENITALS_OR_ANUS + "|"
               r"changes?\s+in\s+sensation\s+(?:in|of|around)\s+(?:the\s+)?"
               + _GENITALS_OR_ANUS)
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
    r"sacral\s+sensation|pinprick\s+peri(?:anally|neally)|"
    # "Altered sensation in the genitals", "Reduced sensation around the anus", "Altered
    # sensation scrotum"
    r"sensation\s+(?:(?:in|of|around|over)\s+(?:the\s+)?)?" + _GENITALS_OR_ANUS)
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
    r"saddle\s+(?:area|region|distribution)\s*+[:\-\u2013]?\s*+" + _REDUCED + r"|"
    r"sensory\s+loss\s+(?:in\s+|over\s+)?(?:the\s+)?" + _SADDLE_PLACE + r"|"
    + _SADDLE_PLACE + r"\s+sensory\s+loss|"
    r"(?:hyp(?:o)?a?esthesia|an(?:a)?esthesia|numbness)\s+(?:over\s+|in\s+)?" + _SADDLE_PLACE
    + r"|saddle\s*+[:\-\u2013]\s*+numb\w*|"
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
                     r"\s+(?-i:ca|Ca|CA)\b(?!\s*+[-:]?\s*+\d+\.\d+(?!\d)(?!\s*(?:cm|mm))|"
                     r"\s*+[-:]?\s*+\d+(?:\.\d+)?\s*mmol|\s*+(?:\+|channel|"
                     r"antagonist|blocker|level|supplement|excretion|oxalate|stone|mmol))|"
                     r"(?-i:ca|Ca|CA)\s+(?:of\s+(?:the\s+)?)?" + CANCER_SITE + r"\b")
# "L1 fracture", "T12 vertebral body fracture", "Fracture of L2 vertebra" (tenth session)
_LEVEL = r"(?:c[1-7]|t(?:1[0-2]|[1-9])|l[1-5])"
_NOT_A_DIGIT = (r"(?!\s*+(?:st|nd|rd|th)?\s*+(?:meta\w*|m[ct]s?|mcp|mtp|pip|dip|finger|toe|"
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
                        r"(?<!\bhv\s)sphincter\s+tone\s*+[:\-\u2013?]?\s*+(?:" + _REDUCED
                        + r"\b|(?:lax|low|flaccid)\b|\u2193)|"
                        r"anal\s+(?:sphincter\s+)?tone\s*+[:\-\u2013?]?\s*+(?:lax|low|flaccid)\b")


# "Leg gave way on stairs - knee OA", "Leg giving way - patellar instability": in its own
# item ("Legs giving way, no knee pain" is the legs'), and a short reach (linear in a text)
_NOT_A_KNEE = (r"(?![^.;,]{0,40}?\b(?:knee|patell\w*|hoover\w*|non-?organic|functional)"
               r"\b)")
# topic -> (sign shown on the card, phrase patterns). Patterns are regex fragments.
# An aortic dissection by its class: "Stanford A", "DeBakey type I", "DeBakey III"; not
# "Stanford A&E", "Seen at Stanford a week ago", "Debakey 1 week ago" (a lower-case letter or
# an Arabic numeral only before "dissection").
_BEFORE_DISSECTION = r"(?=\s+(?:aortic\s+)?dissection)"
_STANFORD_DEBAKEY = (r"(?:stanford\s+(?:type\s+)?(?:(?-i:[AB])(?!\s*(?:&|\+|and|/)\s*e\b)|[ab]"
                     + _BEFORE_DISSECTION + r")|debakey\s+(?:type\s+(?:i{1,3}|[123])[ab]?|"
                     r"(?-i:I{1,3}|i{2,3})[ab]?|(?:i{1,3}|[123])[ab]?" + _BEFORE_DISSECTION
                     + r"))\b(?:\s+(?:aortic\s+)?dissection)?")
# An aneurysm felt: "Pulsatile abdominal mass", "Expansile pulsatile epigastric mass",
# "Central pulsatile mass", "Midline pulsatile mass", "Pulsatile mass in the central
# abdomen"; not a bare "pulsatile mass" (a groin's, a neck's), nor one placed elsewhere,
# after it ("Central pulsatile mass in the neck") or in a heading before it ("Neck:
# midline pulsatile mass"). Since the twenty-fifth session also "Pulsating" or "swelling",
# "abdo", a comma or "and" between the words ("Central, pulsatile mass", "Pulsatile and
# expansile abdominal mass"), an expansile abdominal mass, the place after a word of the
# exam ("Pulsatile mass felt in the epigastrium", "... felt centrally") and under the
# abdomen's heading ("Abdo: pulsatile mass", "Abdo soft, non-tender, pulsatile mass").
_ABDOMINAL_SITE = r"(?:abdominal|abdo|epigastric|peri-?umbilical|central|midline)"
_OTHER_SITES = (r"neck|groin|scalp|head|face|forehead|occiput|tongue|pelvis|thigh|arm|forearm|"
                r"wrist|leg|buttock|breast|liver|kidney|renal|spleen|thyroid|chest|brain|"
                r"orbit|popliteal|femoral|inguinal|axilla|uterus|adnexa|mediastinum|"
                r"antecubital\s+fossa|hilum|pancrea\w*|transplant\w*(?:\s+kidney)?")
# Sites named right after the mass only ("Pulsatile mass RIF", "... in the RUQ", "... at
# the puncture site"), never after a comma, a dash or a bracket, where they start the next
# finding ("Pulsatile abdominal mass, PR normal", "..., LIF tender": an independent review).
# A kidney transplant in an iliac fossa is pulsatile, as a femoral puncture's false aneurysm.
_NEAR_SITES = (r"groin|neck|thigh|popliteal|femoral|inguinal|axilla|"
               r"iliac\s+fossa|rif|lif|graft|ruq|luq|rlq|llq|suprapubic|knee|"
               r"(?:av\s+)?fistula|puncture\s+site|pr|rectum|(?:abdominal\s+)?wall")
_FOUND = r"(?:felt|palpable|palpated|noted|present|found)"  # "... felt in the epigastrium"
_SIDE = r"(?:(?:left|right|l|r|anterior|central|midline)\s+)?"
_IN = r"\s(?:in|of|over|at|on|within|behind)\s+"
# A site after a comma, a dash, a bracket or a space places the mass only when it ends the
# mass's item ("Central pulsatile mass, right groin", "... RIF (transplant)"); followed by
# more it is the next finding ("Pulsatile abdominal mass, femoral pulses weak", "... groin
# pain", "..., chest clear": a fourth review)
_SITE_ENDS = (r"(?=\s*(?:$|[,.;:()\-\u2013?])|\s+(?:region|area|fossa|post|after|from|due|"
              r"known|transplant\w*|kidney|graft)\b)")
_ELSEWHERE = (r"(?!(?:\s+" + _FOUND + r")?\s*(?:" + _IN + r"(?:the\s+)?(?:base\s+of\s+"
              r"(?:the\s+)?)?" + _SIDE + r"(?:" + _OTHER_SITES + r")\b|[,(\-\u2013]\s*\??"
              r"(?:the\s+)?" + _SIDE + r"(?:" + _OTHER_SITES + r")\b" + _SITE_ENDS + r")|"
              r"(?:\s+" + _FOUND + r")?(?:" + _IN + r"(?:the\s+)?" + _SIDE + r"(?:"
              + _NEAR_SITES + r")\b|\s(?:the\s+)?" + _SIDE + r"(?:" + _NEAR_SITES + r")\b"
              + _SITE_ENDS + r"))")
_HEADING_SITES = ("neck", "groin", "thyroid", "scalp", "pelvis", "breast", "liver", "kidney",
                  "wall", "hilum", "thigh", "buttock", "fossa", "forearm", "wrist", "arm",
                  "leg", "head", "face", "tongue", "orbit", "occiput", "forehead", "uterus",
                  "adnexa", "axilla", "femoral region", "inguinal region")
_NOT_UNDER_ANOTHER_HEADING = "".join(
    rf"(?<!{site}{heading})" for site in _HEADING_SITES
    for heading in (":", ": ", " exam: ", " examination: ", " - "))
_PULSATILE = r"(?<!non-)(?<!non\s)(?:pulsatile|pulsating)"
_MASS = r"(?:mass(?:es)?|swellings?)\b"
_THEN = r"(?:\s*,\s*|\s+and\s+|\s+)"  # "pulsatile, expansile", "pulsatile and expansile"
# before "pulsatile": "palpable", and what else the examiner says of the mass ("No tender
# pulsatile mass felt centrally" is denied whole)
_FELT = (r"(?:(?:palpable|tender|non-?tender|large|small|firm|smooth|obvious|definite)\s+){0,2}"
         r"(?:expansile" + _THEN + r")?")
_AND_EXPANSILE = r"(?:expansile" + _THEN + r")?"  # after it
_IN_THE_ABDOMEN = (r"(?:" + _FOUND + r"\s+)?(?:(?:in|of|over|at|"
                   r"around|above|below)\s+(?:the\s+)?(?:(?:central|mid|upper|lower)[\s-]+)?"
                   r"(?:abdomen(?!\s+wall)|abdo|epigastrium|umbilicus|(?:epigastric|peri-?umbilical|"
                   r"umbilical|central\s+abdominal)\s+(?:region|area))\b|(?:centrally|"
                   r"peri-?umbilical(?:ly)?|epigastric(?:ally)?|in\s+(?:the\s+)?midline)\b"
                   + _ELSEWHERE + ")")
# the abdomen's heading, and what an abdominal exam says before the mass
_ABDOMEN_HEADING = (r"(?:abdo(?:men|minal)?|abd)(?:\s+exam(?:ination)?)?(?:\s*+[:\-\u2013]\s*+|"
                    r"\s+)(?:(?:soft|non[\s-]?tender|snt|obese|distended|(?:mildly\s+)?"
                    r"tender)" + _THEN + r"){0,4}")
# What closes the mass's own item saying it was not found: "... not palpable", "... absent";
# "... not appreciated" / "not seen" at its end only ("not appreciated previously, now
# obvious" is a mass); a bare answer, "...: no", "... - none", "...? No" (under a heading the
# match starts at the heading, an item before the answer's: "Abdo: SNT, pulsatile mass: no")
_ITEM_ENDS = r"\s*(?:[,.;!)]|$)"
_NOT_FOUND_AFTER = (r"(?!\s*+[:\-\u2013]?\s*+(?:not\s+(?:palpable|palpated|felt|present)|"
                    r"impalpable|absent)\b|\s*+[:\-\u2013]?\s*+not\s+(?:appreciated|detected|"
                    r"found|identified|elicited|seen|noted)" + _ITEM_ENDS + r"|\s*+[:\-\u2013]\s*+"
                    r"(?:no|none|nil|n|neg|negative)" + _ITEM_ENDS + r"|\s*\?\s*+[:\-\u2013]?\s*+"
                    r"(?:no|none|nil|n|neg|negative)\s*(?:[.;!)]|$))")
# Site words and the exam's words before a mass are bounded ({1,3}, {0,4}): unbounded, a
# long run of them ("abdo, abdo, ...") was scanned again from each of its words (50 KB: 20 s)
_PULSATILE_MASS = (r"(?:" + _FELT + _PULSATILE + _THEN + _AND_EXPANSILE
                   + r"(?:" + _ABDOMINAL_SITE + r"\s+){1,3}" + _MASS + _ELSEWHERE + "|"
                   # the site first; "palpable" or "expansile" before it is part of the
                   # phrase, so "No palpable central pulsatile mass" is denied
                   + _NOT_UNDER_ANOTHER_HEADING + _FELT
                   + r"(?:" + _ABDOMINAL_SITE + r"(?:\s*,\s*|\s+)){1,3}" + _FELT + _PULSATILE
                   + _THEN + _AND_EXPANSILE + r"(?:" + _ABDOMINAL_SITE + r"\s+){0,3}" + _MASS
                   + _ELSEWHERE + "|"
                   + _FELT + _PULSATILE + _THEN + _AND_EXPANSILE + _MASS + r"\s+"
                   + _IN_THE_ABDOMEN + "|"
                   + _ABDOMEN_HEADING + _FELT + _PULSATILE + _THEN + _AND_EXPANSILE + _MASS
                   + _ELSEWHERE + "|"
                   r"(?<!non-)(?<!non\s)expansile\s+(?:(?:abdominal|abdo|epigastric|"
                   r"peri-?umbilical)\s+" + _MASS + _ELSEWHERE + r"|" + _MASS + r"\s+"
                   + _IN_THE_ABDOMEN + "))"
                   # "No pulsatile abdominal mass on examination": the exam is the finding's
                   r"(?:\s+" + _IN_THE_ABDOMEN + r"|\s+(?:(?:on|at)\s+"
                   r"(?:(?:abdominal|clinical)\s+)?(?:examination|exam|palpation)|"
                   r"at\s+this\s+time|palpable|palpated|felt|"
                   r"appreciated|elicited|today|clinically))?" + _NOT_FOUND_AFTER)
# A mass the examiner looked for and did not find: "Could not feel a central pulsatile
# mass", "Unable to palpate a pulsatile abdominal mass" ("unable to" is no denial of a
# symptom: "Unable to void"). Asked of a mass only: "Unable to palpate AAA (obese)" keeps a
# known aneurysm.
FELT_FOR = re.compile(r"puls|expansil", re.I)
NOT_FOUND_ON_EXAMINATION = re.compile(
    r"(?:\bnot|n't|\bunable\s+to|\bfailed\s+to|\bcannot|\bnor)\s+(?:feel|palpate|appreciate|"
    r"detect|find|identify|elicit|demonstrate)\s+(?:(?:an?|any)\s+)?$", re.I)
# Legs called weak: "Weak legs", "Weakness both legs", "Legs feel weak", "Legs went weak",
# "Weak left leg"; not a pulse ("Weak leg pulses", "Pulses weak in both legs")
_NOT_A_PULSE = r"(?!\s+(?:pulses?|pedal|arterial|dorsalis))"
_WEAK_LEGS = (r"(?<!pulses\s)(?<!pulse\s)(?<!pulses\sare\s)"
              r"weak(?:ness)?\s+(?:in\s+|of\s+)?(?:(?:both|the|his|her|their|left|right|l|r|"
              r"lt|rt|bilateral)\s+){0,2}(?:legs?|lower\s+limbs?)\b" + _NOT_A_PULSE + "|"
              r"(?:legs?|lower\s+limbs?)\s+(?:(?:feel|feels|felt|feeling|are|is|became|"
              r"becoming|become|getting|going|went|gone|have|has|very|both|now)\s+){0,3}weak\b"
              + _NOT_A_PULSE)
# A weak muscle of the leg's roots (L2-S1) by its movement, name or root: "Weak
# dorsiflexion", "DF weakness", "Unable to dorsiflex the ankle", "EHL weakness", "Weak
# plantarflexion", "Weak hip flexion", "Quadriceps weakness", "L5 weakness", "Unable to heel
# walk"
_LEG_MOVEMENT = (r"(?:(?:ankle|foot|great\s+toe|big\s+toe|toe|hallux)\s+)?(?:dorsi|plantar)"
                 r"[\s-]?flex\w*|(?:ankle\s+)?df\b|hip\s+flex\w*|knee\s+extens\w*|"
                 r"quadriceps|quads|tibialis\s+anterior|gastrocnemius|ehl|extensor\s+hallucis"
                 r"(?:\s+longus)?|(?:l[2-5]|s1)(?:\s+myotome)?")
_WEAK_LEG_MUSCLE = (r"weak(?:ness)?\s+(?:of\s+|in\s+)?(?:the\s+)?(?:(?:left|right|l|r|lt|"
                    r"rt)\s+)?(?:" + _LEG_MOVEMENT + r")|(?:" + _LEG_MOVEMENT + r")\s+"
                    r"(?:is\s+|are\s+)?weak\w*|(?:unable|cannot|can't|can\s+not)\s+(?:to\s+)?"
                    r"(?:(?:dorsi|plantar)[\s-]?flex\w*|heel[\s-]walk\w*|toe[\s-]walk\w*|"
                    r"walk\s+on\s+(?:(?:his|her|their|the)\s+)?(?:heels|toes))")
PHRASES: dict[Topic, tuple[tuple[str, str], ...]] = {
    Topic.CAUDA_EQUINA: (
        # "?CES", "CES pathway", in capitals (French "ces"); not the LOINC scales "CES-D"
        # (depression) and "CES - Compulsive eating scale"; CES-I incomplete, CES-R with
        # retention (not "CESI", a US epidural steroid injection)
        # "No cauda equina compression": the compression is the syndrome's own name
        ("cauda equina syndrome", r"caudal?[\s-]+equina(?:\s+(?:nerve\s+)?(?:root\s+)?"
                                  r"compression)?|(?-i:CES)\b(?!-(?-i:D)|\s+-\s+"
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
                               + _NUMB_WIPING + "|" + _SADDLE_REDUCED + "|" + _SADDLE_EXAM
                               + "|" + _PARTS_NUMB),
        ("perineal or perianal numbness", r"peri-?(?:neal|anal)\s+(?:numbness|an(?:a)?esthesia|"
                                          r"par(?:a)?esthesi\w*|dys(?:a)?esthesi\w*|"
                                          r"hyp(?:o)?(?:a)?esthesia|"
                                          r"tingling|pins\s+(?:and|&|\+)\s+needles)|"
                                          + _loss_of(_GENITAL_SENSATION)
                                          + r"|numb(?:ness)?\s+(?:in\s+|of\s+|around\s+)?"
                                          r"(?:the\s+)?(?:perineum|" + _GENITALS_OR_ANUS
                                          + r"|peri(?:neal|anal)\s+(?:area|region))|"
                                          + _GENITAL + r"\s+(?:numbness|hyp(?:o)?(?:a)?esthesia)|"
                                          # "Pins and needles around the back passage"
                                          r"(?:pins\s+(?:and|&|\+)\s+needles|tingling|"
                                          r"par(?:a)?esthesi\w*)\s+(?:in|around|of)\s+"
                                          r"(?:the\s+)?(?:back\s+passage|anus|genitals?|"
                                          r"genitalia|perineum)"),
        ("loss of anal tone or rectal sensation",
         _loss_of(r"(?:anal|rectal)\s+(?:sphincter\s+)?(?:tone|sensation|squeeze|reflex|wink)|"
                  r"bulbocavernosus\s+reflex")
         + r"|(?:lax|patulous)\s+anal\s+(?:tone|sphincter)|" + _SPHINCTER_TONE_LOST
         + r"|(?:(?-i:PR|DRE)|rectal)(?:\s+exam\w*)?\s*+[:\-\u2013]?\s*+(?:"
         + _loss_of(r"tone|squeeze|sphincter") + r"|lax\s+(?:tone|sphincter)|"
         r"(?:tone|sphincter)\s+lax)"),
        ("urinary retention", r"(?:urinary|urine)\s+retention|retention\s+of\s+urine|"
                              r"bladder\s*+[:\-\u2013]\s*+retention|"
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
                                 r"(?:bladder|b\s*\+\s*b)\s*+[:\-\u2013]\s*+incontinent|"
                                 r"(?:lost|unable\s+to|can't|cannot)\s+"
                                 r"control\s+(?:of\s+)?(?:(?:his|her|their)\s+)?bladder"),
        ("faecal incontinence", r"(?:f(?:a)?ecal|bowel)\s+incontinence|"
                                r"incontinen(?:ce|t)\s+of\s+(?:f(?:a)?eces|stool)|"
                                r"loss\s+of\s+(?:control\s+of\s+(?:the\s+)?)?bowels?(?:\s+control)?|"
                                r"bowels?\s*+[:\-\u2013]\s*+incontinent|"
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
                                               r"both\s+legs|sciatica\s*+[:\-\u2013]\s*+bilateral|"
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
                                      r"plantars?\s*+[:\-\u2013]?\s*+(?:upgoing|extensor)|"
                                      r"hoffman+n?'?s?\s+(?:sign\s+|reflex\s+)?(?:positive|"
                                      r"present|\+\s*ve)|positive\s+hoffman+n?|"
                                      r"sensory\s+level\s+(?:at\s+)?[ct]\d|"
                                      r"babinski|clonus"),
        ("gait disturbance", r"(?:ataxic|spastic|(?:wide|broad)[- ]based)\s+gait"),
        ("Lhermitte's sign", r"(?<!negative\s)(?<!\bneg\s)(?<!-ve\s)"
                              r"(?>l['\u2019]?hermitte(?:['\u2019]?s)?(?:\s+(?:sign|phenomenon|symptom))?)"
                              r"(?!(?:\s*(?:,|and|&|/)\s*hoffmann?['\u2019]?s?)?(?:\s+(?:signs?|tests?))?"
                              r"\s*+[:\-\u2013]?\s*+(?:-\s*ve\b|neg\b|negative|not\s+(?:elicited|"
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
                         + _WEAK_LEGS + "|" + _WEAK_LEG_MUSCLE + "|"
                         # "Legs giving way", "Left leg keeps giving way"; not a knee's, nor
                         # the examiner's "give-way weakness" (a sign of effort)
                         r"(?:legs?|lower\s+limbs?)\s+(?:(?:keeps?|kept|are|is|has|have|"
                         r"has\s+been|have\s+been|been|intermittently|occasionally|"
                         r"sometimes)\s+)?(?:(?:giving|gave|gives|give|given)\s+(?:way|out)"
                         r"(?![\s-]+weakness)|buckl(?:ing|ed|es|e))" + _NOT_A_KNEE + "|"
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
                                          + r"|(?-i:TAAD|TBAD)\b|" + _PULSATILE_MASS),
    ),
}
"""Per family, (sign, pattern): the sign as the card names it, the words that name it."""
