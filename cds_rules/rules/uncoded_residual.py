"""UNCODED-CES's post-void residual: what its card says and what its version changed.

The reading is :mod:`cds_rules.residual_urine`; the rule (rules/uncoded) counts a residual
fact only when it reaches the site's CES_RESIDUAL_URINE_ML, which only UNCODED-CES reads
(the rulebook lists a rule's thresholds from the functions its check calls).
"""

from __future__ import annotations

RESIDUAL_REASON = (
    "A post-void residual at or over the threshold suggests urinary retention: with back "
    "pain, assess for cauda equina syndrome today. In patients with suspected cauda equina "
    "syndrome, a residual of 200 ml or more had a sensitivity of 94 % and a specificity of "
    "67 % for compression on MRI (Katzouraki 2020): most with such a residual will not have "
    "compression, but it needs assessing. A residual below the threshold does not rule the "
    "syndrome out (Todd 2022: 13 of 26 MRI-confirmed cases scanned had 200 ml or less, all "
    "incomplete syndromes).")

MORE_RESIDUAL_FORMS_CHANGE = (
    "{version}: more residuals read: a column's unit before the figure ('PVR (ml):  650', "
    "'Post-void residual volume (mL): 650', 'PVR ml 650'), a scan following voiding or a "
    "time after it ('Bladder scan following void: 650ml', 'Bladder scan 30 min after PU: "
    "650ml'), a series' later volumes ('PVR x2: 180ml and 650ml', 'PVR 1st 100ml, 2nd "
    "650ml': before, the first only), the post-void volume of a pair written with a slash "
    "('Pre/post void 900/650 ml') or after a pre-void or voided volume of its own ('Bladder "
    "scan 100ml pre void and 650ml post void', 'Voided 150ml scan 650ml post void'). Before: "
    "not read, 'No red flag recorded' and 'Reassure'. ")
RESIDUAL_FORMS_CHANGE = (
    "{version}: more residuals read: the post-void one of a pair ('Pre and post void residual "
    "900ml and 650ml': 650), a volume before its name ('Bladder scan: 650ml residual', "
    "'Retained 800ml after PU'), 'Bladder scan after voiding 650 ml', 'PVR 1 200 ml', a bound "
    "with what was done ('Catheterised for PVR >400 ml', 'PVR > 500 ml: catheter inserted'; "
    "before: read as a plan); a bound before a plan's dash ('PVR > 200 ml - catheterise') is "
    "a plan (before: read). Before: not read, 'No red flag recorded' and 'Reassure'. ")
RESIDUAL_CHANGE = (
    "{version}: a post-void residual at or over CES_RESIDUAL_URINE_ML (default 200 ml) is "
    "read as urinary retention: written as a number in an entry's words ('Bladder scan: PVR "
    "650 ml', 'Post-void residual 900mls', 'Urinary retention? No. Bladder scan residual 900 "
    "ml') or sent as a quantity or a number under a code naming one ('Post void residual' "
    "650 mL, a bladder scan panel's component, a LOINC code's display), whatever a coded "
    "answer of the entry says; not a plan ('If PVR > 200 ml, catheterise', 'Catheterise "
    "for PVR >200 ml'), a bare 'residual' or a 'PVR' without a unit in words that say "
    "nothing of a bladder or speak of the heart or lungs (a vascular resistance, a lung's "
    "residual volume), a time or a date, a voided or pre-void volume, or a number in "
    "another unit ('PVR 3.2 WU'). Before: a retention measured and not named was not read. ")


def residual_history(forms: str, residual: str) -> str:
    """UNCODED-CES's changes for reading a residual: the forms added at ``forms``, the
    reading itself at ``residual``."""
    return RESIDUAL_FORMS_CHANGE.format(version=forms) + RESIDUAL_CHANGE.format(version=residual)


def more_residual_forms_change(version: str) -> str:
    """UNCODED-CES's change at ``version``: the columns, series and pairs read."""
    return MORE_RESIDUAL_FORMS_CHANGE.format(version=version)
