"""What each version of the spine-imaging rules (IMG-01, IMG-04) changed over a weak red
flag named in words or a measured one dated ahead: kept apart from the rules themselves,
which read them (``Rule.changes``), so that the rules' module stays the guideline's."""

from __future__ import annotations

_WEAK_IN_WORDS_CHANGE = (
    "{version}: a fever, weight loss or night pain named in words, in an entry of the last "
    "CAUDA_EQUINA_WINDOW_DAYS or undated ('Febrile', 'Unintentional weight loss', 'Pain "
    "worse at night'), is a red flag recorded: 'Re-assess fever in words (\"Febrile\") "
    "before deciding on the spine imaging', nothing offered for deletion (before: the words "
    "were not read, and IMG-01 said 'Remove the draft ... no red flag'). ")
_TEMPERATURE_FORMS_CHANGE = (
    "{version}: a temperature in a flowsheet's column ('Temperature (°C)<tab>38.9', 'Temp "
    "(tympanic)  38.9'; a row's columns, the highest), a later reading after its word "
    "('Temp 36.5, now 38.9', 'Temp 36.9 on arrival, rising to 38.9'; before: the first "
    "only), beside a weight ('T 38.9, 72.5 "
    "kg'), a TPR with a saturation or as 'T/P/R', a time in a table's bars ('Temp | 1400 | "
    "38.9') or a box ticked after 'Seen for ...' is a fever recorded: re-assess (before: not "
    "read; IMG-01 said 'Remove the draft ... no red flag'). ")
_TEMPERATURE_IN_WORDS_CHANGE = (
    "{version}: a temperature written in figures ('Temp 38.9', 'T 39.1 C', 'Tmax 38.6') or "
    "sent as a quantity under a code no value set knows ('Tympanic temperature' 39.2 Cel), "
    "at or above FEVER_CELSIUS in the last FEVER_WINDOW_DAYS or undated, is a fever in words "
    "recorded: re-assess before deciding on the spine imaging (before: not read; IMG-01 said "
    "'Remove the draft ... no red flag'). ")
_TIMED_TEMPERATURE_CHANGE = (
    "{version}: a temperature after a clock time or in a timed list ('Temp 36.9 at 0800, 38.9 "
    "at 1400'), a TPR, a ticked box ('Temp >38 [x]'), beside another symptom's end ('Temp "
    "38.9 pain resolved'), a local code's letters ('TEMP') or in 'degrees' is a fever recorded: "
    "re-assess (before: not read; IMG-01 said 'Remove the draft ... no red flag'). ")
_MORE_WEAK_WORDS_CHANGE = (
    "{version}: more words of a fever or night pain are read: 'Pyrexic', 'Rigours', 'Spiking "
    "temperatures', 'Temperature spikes', 'Nocturnal back pain', 'Night back pain' (before: "
    "not read; IMG-01 said 'Remove the draft ... no red flag'); not 'Fever not recorded', "
    "'Fever unlikely', 'Pain worse at night shift', 'Weight loss required before surgery'. ")
_WEIGHT_DATED_AHEAD_CHANGE = (
    "{version}: a weight dated after today that shows a loss against the heaviest weight of "
    "the last WEIGHT_LOSS_WINDOW_DAYS (WEIGHT_LOSS_PERCENT or more) is a red flag dated "
    "ahead: 'Check the date of weight 76 kg, 82 kg on 2025-11-02 before deciding on the "
    "spine imaging', nothing offered for deletion (before: 'Remove the draft ... no red "
    "flag'); a temperature dated ahead is named by its value ('temperature 38.6 Cel'; "
    "before: 'Body temperature'). ")


def weak_red_flag_history(timed: str, figures: str, more_words: str, words: str,
                          weight_ahead: str) -> str:
    """IMG-01's and IMG-04's changes over weak red flags, newest first, at their versions."""
    return (_TIMED_TEMPERATURE_CHANGE.format(version=timed)
            + _TEMPERATURE_IN_WORDS_CHANGE.format(version=figures)
            + _MORE_WEAK_WORDS_CHANGE.format(version=more_words)
            + _WEAK_IN_WORDS_CHANGE.format(version=words)
            + _WEIGHT_DATED_AHEAD_CHANGE.format(version=weight_ahead))


def temperature_forms_change(version: str) -> str:
    """IMG-01's and IMG-04's change at ``version``: a flowsheet's column, a later reading."""
    return _TEMPERATURE_FORMS_CHANGE.format(version=version)
