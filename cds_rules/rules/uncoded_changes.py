"""What each version of the uncoded-entry rules (UNCODED-*) changed: kept apart from the
rules themselves (rules/uncoded), which read it through :func:`release`, so that the rules'
module stays the reading of the guideline; each family's versions move with its own
changes only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from cds_rules.model import Topic
from cds_rules.rules.base import (
    ANOTHER_PART,
    another_part_change,
    blank_answer_change,
    coded_answer_change,
    denial_naming_change,
    observation_reading_change,
    part_naming_change,
)
from cds_rules.rules.every_rule_changes import (
    column_value_change,
    notes_change,
    present_denial_change,
)
from cds_rules.rules.uncoded_residual import more_residual_forms_change, residual_history
from cds_rules.uncoded import reading
from cds_rules.uncoded_phrases import PHRASES

_WORDS_CHANGE = ("{version}: read also (1) the words a coded entry's codes do not say: its "
                 "text and the displays of codings no value set knows (a local code beside "
                 "ICD-10 M54.50; 'Low back pain with new urinary retention'), not a family "
                 "its own codes give; (2) an Observation's components in words, each with "
                 "its own presence; (3) each sign as its coded concept is read: a cancer, "
                 "osteoporosis or a fragility/vertebral fracture at any age and any "
                 "clinical status (resolved, remission), a known aortic aneurysm at any age "
                 "while current, a symptom while current and within "
                 "UNCODED_TEXT_WINDOW_DAYS. The card says the words were not coded, not that the "
                 "entry's code is unknown. ")


_LOINC_CHANGE = ("{loinc}: a LOINC code's words are not read however its system URI is "
                 "written (\"http://loinc.org/\", spaces, the aliases the value sets accept): "
                 "a test such as \"Cancer Ag 125\" sent as http://loinc.org/ no longer "
                 "gives a warning. ")


_HISTORY_CHANGE = ("1.2.0: the words name a history (cancer, aortic aneurysm), read at any "
                   "age as the coded history is; before, an entry older than "
                   "UNCODED_TEXT_WINDOW_DAYS was not read and the conservative card could "
                   "follow. ")


_BEFORE = ("1.1.0: summary leads with the action ('Check the record: uncoded entry "
           "suggests <sign>'). 1.0.0 (new): an uncoded entry naming a red flag is a warning "
           "on the family's topic, never critical.")


_HISTORY_TOPICS = frozenset({Topic.MALIGNANCY, Topic.VISCERAL_OR_VASCULAR})
"""Families that had 1.2.0 (histories read at any age): one minor version ahead since."""


_PERSISTING_TOPICS = frozenset({Topic.CAUDA_EQUINA, Topic.SPINAL_CORD_COMPRESSION,
                                Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, Topic.INFECTION})
"""Families whose coded rules warn of an old active sign never imaged: 1.5.0 reads their
uncoded Conditions so too."""

_PERSISTING_CHANGE = ("1.5.0: a Condition still active that names the sign in words, older "
                      "than UNCODED_TEXT_WINDOW_DAYS and with no spine MRI since it began "
                      "(for a cauda equina sign, none that may image the lumbar spine, as "
                      "CES-02 reads it), counts (the card says 'confirm it has been "
                      "assessed'), as the coded "
                      "rules warn of such a sign (CES-02, CORD-02, NEURO-02, INF-01); before, "
                      "it was not read and the conservative card could follow. ")


_PHRASING_CHANGE = ("{version}: the words are read part by part ('but', 'however') and a "
                    "denial where it stands: a sign after 'without', 'no', 'denies', 'does not "
                    "have', 'screening for', 'family history of'... is denied when only "
                    "words that carry the denial ('evidence of', 'any') or the bare items of "
                    "a list joined by 'or' / 'nor' come between ('Spondylosis without "
                    "myelopathy or radiculopathy', ICD-10-CM M47.812; 'No saddle "
                    "anaesthesia, urinary retention or faecal incontinence'); a comma list "
                    "without 'or', any other word, or words after the sign keep it ('No "
                    "trauma, foot drop'; 'MRI not yet done for suspected cauda equina'); an "
                    "item closing with a denial or 'ruled out' / 'excluded' denies its own "
                    "last sign, unless the question stays open ('not ruled out', '?'); a "
                    "free-text note's value (a code naming no sign) is read so too (before: "
                    "a sentence opening with a denial denied everything in it, and one "
                    "inside it nothing). ")


_PHRASES_CHANGE: dict[Topic, str] = {
    Topic.CAUDA_EQUINA: (
        "1.8.0: the cauda equina signs of CLINICAL.md read in the words clinicians write "
        "(before: not read, the conservative card could follow): retention and hesitancy "
        "('Unable to void', 'Not passed urine since yesterday', 'Hasn't urinated', "
        "'Catheterised for retention', 'Painless retention', 'Urinary hesitancy', 'Reduced "
        "bladder sensation'), saddle, perianal, perineal and genital sensation reduced or "
        "altered ('Reduced saddle sensation', 'Perianal sensation: absent', 'Sensory loss "
        "S2-S4', 'Numb down below', 'Numbness when wiping'), reduced anal tone or rectal "
        "sensation ('PR: reduced tone', 'Poor anal tone', 'Absent bulbocavernosus reflex'), "
        "overflow, double or new incontinence, 'Incontinent of urine / faeces', 'Lost control "
        "of bladder', bladder, bowel or sphincter dysfunction or disturbance ('Neurogenic "
        "bladder'), bilateral sciatica ('Bilat sciatica', 'Pain down both legs'), and 'CES' "
        "('?CES', 'CES-I', 'CES-R'; not 'CES-D', 'CESI'). A checklist's 'red flags: none' "
        "closes its sign. Safety-netting advice naming a sign still warns. "),
    Topic.SPINAL_CORD_COMPRESSION: (
        "1.8.0: read also 'Cord compromise', 'Compression of the spinal cord', 'Hoffmann's "
        "positive', 'Sensory level T10', 'Plantars: upgoing', 'Broad-based gait' (before: "
        "not read). "),
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: (
        "1.8.0: read also 'Footdrop', 'Foot-drop', 'Weakness in both legs' (before: not "
        "read). "),
    Topic.INFECTION: "1.8.0: read also 'Spondylodiscitis' (before: not read). ",
}


_SHORTHAND_CHANGE: dict[Topic, str] = {
    Topic.CAUDA_EQUINA: (
        "{version}: read also perineal, perianal or saddle paraesthesia, dysaesthesia, "
        "hypoaesthesia or tingling, reduced or lax sphincter tone ('Rectal exam: decreased "
        "sphincter tone', 'Sphincter tone: lax'; not the oesophagus's, stomach's, bladder's "
        "or urethra's) and conus medullaris syndrome or compression ('Compression of the "
        "conus') (before: not read). "),
    Topic.SPINAL_CORD_COMPRESSION: (
        "{version}: read also 'Lhermitte's sign' (not '-ve', 'neg', 'negative') and "
        "'Spastic paraparesis' (not hereditary or tropical) (before: not read). "),
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: (
        "{version}: read also 'Paraparesis', 'Tetraparesis', 'Quadriparesis' as leg "
        "weakness (before: not read). "),
    Topic.MALIGNANCY: (
        "{version}: read also metastases in shorthand ('Bone mets', 'Lytic mets', '?mets', "
        "'Mets to spine') and a site's cancer ('Hx breast ca', 'Ca prostate', 'Renal cell "
        "ca'; not calcium: 'Ca 2.4', 'Ca channel blocker', nor 'CA 125' or '4 METs') "
        "(before: not read). "),
    Topic.FRACTURE: (
        "{version}: read also a crush or burst fracture (not of a finger or toe), a spinal "
        "or vertebral fracture or collapse, and a fracture named by its level ('L1 crush "
        "fracture', 'Fx L1', 'L1 #', 'Fracture of L2 vertebra'; not 'Fracture L5 "
        "metacarpal', L for left) (before: not read). "),
}
"""The shorthand of the ninth session's notes (tenth session): one minor version ahead."""


_EARLY_STOP_CHANGE = ("{version}: no change in what is read or when it warns: a family with "
                      "no uncoded hint stops before working out its window (issue 15). ")
"""Every family, eleventh session: one patch version ahead, so that the audit tells the
code that sent a card apart."""


_TWELFTH_SESSION_CHANGE: dict[Topic, str] = {
    Topic.MALIGNANCY: (
        "{version}: read also a site's cancer written with a full stop after 'Ca' ('Ca. "
        "prostate', 'CA. of the breast', 'Ca. lung (NSCLC)'), when what follows the site "
        "is what follows a cancer in a history (the end, a year or stage, 'on hormones', "
        "'resected'...; not 'U&E, Ca. Prostate normal size', 'Ca. Bladder: retention', nor "
        "across a line break); before, the sentence reader cut at the stop and the entry "
        "was not read. It adds the cancer history only: every sign read sentence by "
        "sentence stands ('Family history of ca. Bowel incontinence' still warns of the "
        "incontinence). Read also 'Leukaemia' / 'Leukemia' as a cancer, as the coded "
        "cancer value set does (before: not read). "),
    Topic.INFECTION: (
        "{version}: read also spinal tuberculosis in other words ('TB spine', 'Tuberculosis "
        "of the spine', 'TB vertebra', 'Tuberculous spondylitis') (before: not read). "),
    Topic.VISCERAL_OR_VASCULAR: (
        "{version}: read also 'Dissection of the (thoracic / abdominal) aorta' and 'Type A / "
        "Type B (aortic) dissection' (before: not read; 'Vertebral artery dissection' is no "
        "aortic dissection). "),
}
"""The abbreviation's full stop (the tenth session's note) and the forms the twelfth
session's reviews found silent: one minor version ahead."""


_DENIAL_NAMING_CHANGE = (
    "An Observation whose value denies its code's finding ('Cord compression': 'No cord "
    "compression') keeps the signs of its components that the value does not answer for "
    "(a component 'Foot drop' without a value of its own; before: every component's sign "
    "was lost with the entry); one whose value names a component's sign ('No foot drop') "
    "does not read that component. ")
"""Every family, thirteenth session, with :func:`~cds_rules.rules.base.denial_naming_change`:
one minor version ahead."""

_THIRTEENTH_SESSION_PHRASES: dict[Topic, str] = {
    Topic.MALIGNANCY: (
        "Read also 'Leukaemic infiltration', a site's cancer after 'Ca.' written 'Ca . "
        "prostate', 'Ca. (prostate)', 'Ca.  prostate', 'Ca. left breast' or 'Adenoca. "
        "prostate', and the sigmoid and caecum as sites ('Ca sigmoid', 'Ca. caecum') "
        "(before: not read). "),
    Topic.INFECTION: (
        "Read also 'Pott disease', 'TB spondylitis' and spinal tuberculosis by region or "
        "level ('TB of lumbar spine', 'Tuberculosis of the L1 vertebra') (before: not "
        "read). "),
    Topic.VISCERAL_OR_VASCULAR: (
        "Read also 'Dissection of the descending thoracic aorta', 'Aortic root / arch "
        "dissection', 'Type-A dissection', 'Stanford A (dissection)', 'DeBakey type I' and "
        "'TAAD' / 'TBAD' (before: not read). "),
}
"""Forms the twelfth session's reviews listed as still silent (thirteenth session): in the
same version as the denial change, which had not gone live."""


def _both_of_another_part(version: str) -> str:
    return (f"{version}: 'bilateral' or 'both' before another part of the body names that "
            "part, not bilateral leg symptoms: a row 'Bilateral sciatica' holding 'No "
            "bilateral knee pain' or 'No pain in both knees' keeps its sign (before: "
            "silenced); 'No bilateral symptoms', 'No bilateral hip or leg pain' still deny "
            "it. ")


def _both_and_another_part(version: str) -> str:
    return _both_of_another_part(version) + ANOTHER_PART


_FOURTEENTH_SESSION: dict[Topic, Callable[[str], str]] = {
    Topic.FRACTURE: part_naming_change,
    Topic.VISCERAL_OR_VASCULAR: part_naming_change,
    Topic.CAUDA_EQUINA: _both_and_another_part,
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: another_part_change,
    Topic.SPINAL_CORD_COMPRESSION: another_part_change,
}
"""Fourteenth session: a family whose sign joins two findings, named apart by a denial
(:func:`~cds_rules.rules.base.part_naming_change`); "both knees" in a cauda equina row; a
denial of another part's weakness or numbness (saddle, foot drop, leg weakness, spastic
paraparesis: :func:`~cds_rules.rules.base.another_part_change`): one minor version ahead."""


def _display_change(version: str, topic: Topic) -> str:
    return (f"{version}: the display of a code the value sets know is read too, as the "
            "sender's words, which may say more than the code: SNOMED CT 279039007 sent with "
            "the display 'Low back pain with saddle anaesthesia' warns (before: not read, and "
            "the conservative card said no red flag was recorded); a family the entry's own "
            "codes give is still not read again; a SNOMED CT semantic tag ('(disorder)') is "
            "not read, and 'w/o' denies as 'without' does. The card's Why names it among the "
            "words read ('a code's display'). "
            + ("A neoplasm of the cauda equina (ICD-10 C72.1) is not the syndrome by name. "
               if topic is Topic.CAUDA_EQUINA else ""))


_MISREAD_WORDS: dict[Topic, str] = {
    Topic.CAUDA_EQUINA: "'No cauda equina compression' denies the syndrome; a stress, urge or "
                        "mixed incontinence as the qualifier closing a text that says nothing "
                        "else ('Urinary incontinence (stress)') is not the sign. ",
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: "'Legs giving way', 'Left leg keeps giving way' "
                                            "and 'Legs buckling' are read as leg weakness "
                                            "(before: not read); a knee's is not. ",
    Topic.MALIGNANCY: "A screen in a text that says nothing else ('Bowel cancer screening', "
                      "'Myeloma screen sent') is not a cancer; one that says more ('Myeloma "
                      "screen, paraprotein 30 g/L') is read. ",
    Topic.FRACTURE: "'Osteoporosis screening due' and 'Osteoporosis risk assessment', saying "
                    "nothing else, are not osteoporosis. ",
    Topic.VISCERAL_OR_VASCULAR: "A pulsatile abdominal or epigastric mass ('Pulsatile "
                                "abdominal mass', 'Pulsatile mass in the abdomen') is read as "
                                "a suspected aneurysm (before: not read); a bare 'pulsatile "
                                "mass', a non-pulsatile one or one not palpable is not. ",
}
"""Twenty-second session: each family's own new words (:func:`_misread_words_change`)."""
_TWENTY_FOURTH_SESSION_WORDS = {
    Topic.VISCERAL_OR_VASCULAR: "{version}: a pulsatile mass named by its site first ('Central "
                                "pulsatile mass', 'Epigastric pulsatile mass', 'Midline "
                                "pulsatile mass') or in the central or upper abdomen ('Pulsatile "
                                "mass in the central abdomen', '... in the epigastric region') "
                                "is read as a suspected aneurysm (before: not read; the "
                                "twenty-second session's closing note); one placed elsewhere, "
                                "after it or in a heading ('Central pulsatile mass in the "
                                "neck', 'Neck: midline pulsatile mass'), or denied with "
                                "'palpable' before it ('No palpable central pulsatile mass') "
                                "is not (before, 'Pulsatile central mass in the neck' and 'No "
                                "palpable pulsatile mass in the abdomen' were). ",
    Topic.CAUDA_EQUINA: "{version}: a saddle sensation changed in words naming the genitals or "
                        "the anus ('Altered sensation in the genitals', 'Reduced sensation "
                        "around the anus') and tingling or pins and needles there ('Pins and "
                        "needles around the back passage'), and those parts said numb "
                        "('Genitals feel numb', 'Can't feel his penis') are read (before: not "
                        "read). ",
    Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT: "{version}: legs called weak ('Weak legs', "
                                            "'Weakness of both legs', 'Legs feel weak', 'Weak "
                                            "left leg'; not a pulse: 'Weak pedal pulses') and a "
                                            "weak muscle of the leg's roots ('Weak "
                                            "dorsiflexion', 'EHL weakness', 'Weak hip "
                                            "flexion', 'L5 weakness', 'Unable to heel walk') "
                                            "are read as leg weakness (before: not read). ",
}
"""Twenty-fourth session: each family's words newly read."""
_TWENTY_FIFTH_SESSION_WORDS = {
    Topic.VISCERAL_OR_VASCULAR: "a pulsatile abdominal mass in more words is read as a "
                                "suspected aneurysm: 'Pulsating', 'swelling' or 'abdo' ('Pulsatile "
                                "abdo mass', 'Pulsating abdominal mass'), a comma or 'and' "
                                "between the words ('Central, pulsatile mass', 'Pulsatile and "
                                "expansile abdominal mass'), an expansile abdominal mass, the "
                                "place after a word of the examination ('Pulsatile mass felt "
                                "in the epigastrium', '... felt centrally') and under the "
                                "abdomen's heading ('Abdo: pulsatile mass', 'Abdo soft, "
                                "non-tender, pulsatile mass') (before: not read); a mass the "
                                "examiner could not feel ('Could not feel a central pulsatile "
                                "mass', 'Unable to palpate ...', '... not appreciated') or placed "
                                "in an iliac fossa (a kidney transplant) is not (before: 'Could "
                                "not feel ...' and 'Unable to palpate ...' were read). ",
    Topic.CAUDA_EQUINA: "the genitals named without a preposition ('Altered sensation "
                        "scrotum') or by their adjective ('Scrotal numbness', 'Penile "
                        "numbness', 'Reduced penile sensation', 'Scrotal sensation reduced'), "
                        "and 'Numb scrotum', 'Numbness of the penis', are read (before: not "
                        "read). ",
}
"""Twenty-fifth session: each family's words newly read (every family also reads a
checklist's question answered no: :func:`_twenty_fifth_session_change`)."""


def _twenty_fifth_session_change(version: str, topic: Topic) -> str:
    return (f"{version}: a checklist's question answered no ('Saddle anaesthesia? No', 'Legs "
            "giving way? N') denies its sign (before: the question mark kept the sign); "
            + _TWENTY_FIFTH_SESSION_WORDS.get(topic, ""))


_HISTORY_SIGN_TOPICS = frozenset(topic for topic, phrases in PHRASES.items()
                                  if all(reading(sign) != "symptom" for sign, _ in phrases))
"""Families whose signs are histories (:data:`cds_rules.uncoded.HISTORY_SIGNS`): one that is
over is still one."""


def _misread_words_change(version: str, topic: Topic) -> str:
    ended = ("a symptom closed by 'resolved', 'settled', 'subsided' or 'gone' in a text that "
             "says nothing else ('Foot drop (resolved)') is not read; "
             if topic not in _HISTORY_SIGN_TOPICS else "")
    return (f"{version}: 'FHx', 'FH:', 'Family history:' govern a short phrase as 'Family "
            "history of' does ('FHx prostate cancer' is not the patient's; 'FHx: myeloma "
            f"(patient)' is); {ended}"
            + _MISREAD_WORDS.get(topic, "") + "A denial closing with the study that looked "
            "('No cord compression on MRI') still warns. ")


def _next(version: str, part: Literal["minor", "patch"]) -> str:
    """``version`` with its minor (patch reset) or its patch number one ahead."""
    major, minor, patch = (int(n) for n in version.split("."))
    return f"{major}.{minor + 1}.0" if part == "minor" else f"{major}.{minor}.{patch + 1}"


def release(topic: Topic) -> tuple[str, str]:
    """The version of ``topic``'s uncoded rule and what each version changed, newest
    first (each change names the version it came in: a family's own changes move only
    its versions)."""
    history = topic in _HISTORY_TOPICS
    answers, words, loinc = (("1.5.0", "1.4.0", "1.3.0") if history
                             else ("1.4.0", "1.3.0", "1.2.0"))
    persisting = topic in _PERSISTING_TOPICS
    phrasing = "1.6.0" if history or persisting else "1.5.0"
    reading_version = "1.7.0" if history or persisting else "1.6.0"
    phrases = "1.8.0" if topic in _PHRASES_CHANGE else reading_version
    shorthand = _next(phrases, "minor") if topic in _SHORTHAND_CHANGE else phrases
    early_stop = _next(shorthand, "patch")
    twelfth = _next(shorthand, "minor") if topic in _TWELFTH_SESSION_CHANGE else early_stop
    denial = _next(twelfth, "minor")
    fourteenth = _FOURTEENTH_SESSION.get(topic)
    version = _next(denial, "minor") if fourteenth else denial
    displays = _next(version, "minor")
    misread = _next(displays, "minor")
    newly_read = _next(misread, "minor") if topic in _TWENTY_FOURTH_SESSION_WORDS else misread
    answered_no = _next(newly_read, "minor")
    residual = _next(answered_no, "minor") if topic is Topic.CAUDA_EQUINA else answered_no
    forms = _next(residual, "minor") if topic is Topic.CAUDA_EQUINA else residual
    blanks = _next(forms, "patch")
    more_forms = _next(blanks, "minor") if topic is Topic.CAUDA_EQUINA else blanks
    columns = _next(more_forms, "patch")
    notes = _next(columns, "minor")
    present = _next(notes, "patch")
    ces = topic is Topic.CAUDA_EQUINA
    changes = (present_denial_change(present) + notes_change(notes)
               + column_value_change(columns)
               + (more_residual_forms_change(more_forms) if ces else "")
               + blank_answer_change(blanks)
               + (residual_history(forms, residual) if ces else "")
               + _twenty_fifth_session_change(answered_no, topic)
               + _TWENTY_FOURTH_SESSION_WORDS.get(topic, "").format(version=newly_read)
               + _misread_words_change(misread, topic) + _display_change(displays, topic)
               + (fourteenth(version) if fourteenth else "")
               + denial_naming_change(denial) + _DENIAL_NAMING_CHANGE
               + _THIRTEENTH_SESSION_PHRASES.get(topic, "")
               + _TWELFTH_SESSION_CHANGE.get(topic, "").format(version=twelfth)
               + _EARLY_STOP_CHANGE.format(version=early_stop)
               + _SHORTHAND_CHANGE.get(topic, "").format(version=shorthand)
               + _PHRASES_CHANGE.get(topic, "")
               + observation_reading_change(reading_version)
               + _PHRASING_CHANGE.format(version=phrasing)
               + (_PERSISTING_CHANGE if persisting else "")
               + coded_answer_change(answers) + _WORDS_CHANGE.format(version=words)
               + _LOINC_CHANGE.format(loinc=loinc)
               + (_HISTORY_CHANGE if history else "") + _BEFORE)
    return present, changes
