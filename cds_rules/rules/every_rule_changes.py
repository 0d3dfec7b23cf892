"""What the thirtieth and twenty-ninth sessions' reading changes did to every rule: the
change texts each rule's history names (out of rules/base, which holds the older ones)."""

from __future__ import annotations


def present_denial_change(version: str) -> str:
    """What ``version`` changed for every rule (thirtieth session, December 2026): a denial
    followed by a word of the present was read as no denial."""
    return (f"{version}: a denial followed by a word of the present denies its sign ('No "
            "urinary retention today', 'Denies saddle anaesthesia currently', '... now', '... "
            "at present', '... at all'; before: the word kept the sign, so a coded retention "
            "row so valued gave the critical cauda equina card, and a note or problem so "
            "worded the uncoded warning); a past or bounded time ('... overnight', '... on "
            "admission', '... until today', '... at 14:00'), and a word of the present beside "
            "one that asserts ('Previously no urinary retention now present'), still keep "
            "the sign. ")


def notes_change(version: str) -> str:
    """What ``version`` changed for every rule (thirtieth session, December 2026): no
    entry's notes, nor a report's conclusion in words, were read."""
    return (f"{version}: an entry's notes (Annotation.text) are read as its words: a "
            "Condition's and an Observation's with its other words, a procedure's, a "
            "medicine's and a report's (and a report's conclusion) apart from their codes; a "
            "red flag, a weak red flag, a temperature, a post-void residual or (a Condition's) "
            "a back pain a note names counts as the entry's words do (before: never read: a "
            "haemoglobin noted 'New urinary retention, PVR 900 ml' gave the conservative "
            "card). A note beside a value denying its code ('Urinary retention': No) is read "
            "apart, as a current entry's; a malformed note is passed over, never costing the "
            "entry; notes past the reading limits are named, the entry read without them. ")


def column_value_change(version: str) -> str:
    """What ``version`` changed for every rule (twenty-ninth session, December 2026): a
    form's label and its value after two blanks or a tab were read apart."""
    return (f"{version}: a flattened form's label and its value standing alone after two "
            "blanks or a tab ('Urinary retention:  No', 'Urinary retention<tab>No', 'Urinary "
            "retention? (Y/N)  No', 'Anal tone<tab>Reduced', 'Perianal sensation<tab>absent') "
            "are read as after one blank: the sign stated absent, or named (before: the blanks "
            "split the value off, so a coded retention row so valued gave the critical cauda "
            "equina card, and a sign written as a label and its finding was not read); a "
            "question answered by a finding of loss ('Anal tone? Absent', 'Saddle sensation? "
            "Reduced') and a question with its choices ('? (Y/N) No') are read too. ")
