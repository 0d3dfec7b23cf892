"""An entry's words as the uncoded reader reads them (record/uncoded_entries): its code's
text and displays, an Observation's value and components, its notes; and the limits on how
much of them a call reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cds_rules import uncoded
from cds_rules import valuesets as vs
from cds_rules.model import Topic
from cds_rules.record.codes import as_list, codings_of, readable_notes
from cds_rules.record.negation import closes_negated, has_value, panel_denies, presence
from cds_rules.record.residuals import measured_residual, volume_sent
from cds_rules.record.state import Builder
from cds_rules.record.temperatures import measured_temperature, temperature_sent
from cds_rules.record.unreadable import set_aside_notes
from cds_rules.validation import mended

Reading = Callable[[str, Callable[[str], bool]], tuple[tuple[Topic, str], ...]]


def signs(texts: list[str], read: Reading = uncoded.suggested
           ) -> dict[Topic, tuple[str, str]]:
    """Per family, the first sign the texts name (not negated), with the text naming it."""
    found: dict[Topic, tuple[str, str]] = {}
    for text in texts:
        for topic, sign in read(text, closes_negated):
            found.setdefault(topic, (sign, text))
    return found


def components_read(entry: dict[str, Any], value_answers: bool) -> list[dict[str, Any]]:
    """An entry's components whose words are read: not stated absent themselves, and, when
    the entry's value answers for its code (``value_answers``), not denied by it as on the
    coded path (:func:`~cds_rules.record.negation.panel_denies`: "No foot drop" denies a
    component "Foot drop", "No cord compression" does not)."""
    components = [c for c in as_list(entry.get("component"))
                  if isinstance(c, dict) and presence(c) is not False]
    if not (components and value_answers):
        return components
    return [c for c in components if not panel_denies(c, entry)]


def value_answers_the_code(entry: dict[str, Any]) -> bool:
    """Does the entry's code name a sign, so that a sentence in its value answers for it
    ("Urinary retention": "No urinary retention")? Otherwise (a note, a history, a LOINC
    test) the value is free text, each part read with its own denial ("No leg weakness but
    new urinary retention" names the retention; review, December 2026). Asked of the
    sentence-by-sentence reading only: a code "Ca. prostate" names no sign here, so that a
    bare "No new symptoms" in its value does not deny a component "Foot drop" without a
    value of its own (reviews, twelfth and thirteenth sessions; "Ca. prostate" holding "No
    Ca. prostate" warns: a false alarm, the safe side)."""
    return bool(signs(entry_texts({"code": entry.get("code")}),
                       uncoded.named_sentence_by_sentence))


ENTRY_WORDS_READ = 65_536
"""Characters of one entry's words the readers read. Clinical entries hold a few hundred (the
largest Synthea record's: 45); the readers are linear, but some repeated phrasings cost
about 10 µs a character on a loaded worker, so a value near the 8 MiB body limit could pass
the worker's 30 s timeout and lose every card of the call. Longer words are not read: an
uncoded entry (its words all it says), or a coded one whose codes name no red flag (a back
pain whose words may name one), is set aside and named on every card
(record/reader_faults); one whose codes name a red flag is read by its codes alone
(logged)."""
CALL_WORDS_READ = 524_288
"""Characters of words read in one call, all entries together (the largest Synthea record's:
722): the entries after it are set aside and named, as above."""
CALL_NOTES_READ = CALL_WORDS_READ
"""Characters of notes read in one call, all entries together: an allowance of their own, so
that notes (a pasted report on every row) never take the allowance of the entries' own words
(a review found the first version, which counted them together, lost the coded and worded
red flags of the entries after them)."""


class WordsTooLong(Exception):
    """An entry's words longer than :data:`ENTRY_WORDS_READ`, or past the call's
    :data:`CALL_WORDS_READ`: not read, the entry set aside (a reader fault, named on every
    card as not read for its length)."""


def words_of(resource: dict[str, Any]) -> list[str]:
    """:func:`entry_texts` and :func:`note_texts`, refused (:class:`WordsTooLong`) past
    :data:`ENTRY_WORDS_READ`; notes that would pass it are left out (a reader names them:
    :func:`words_read`)."""
    texts, length = _own_words(resource)
    notes = note_texts(resource)
    return texts + notes if length + sum(map(len, notes)) <= ENTRY_WORDS_READ else texts


def words_read(builder: Builder, resource: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The entry's words but its notes, and its notes (:func:`note_texts`), counted against
    :data:`ENTRY_WORDS_READ` and the call's :data:`CALL_WORDS_READ`. Words past them raise
    :class:`WordsTooLong` (the entry is set aside, record/reader_faults); notes past them are
    not read and are named (:func:`~cds_rules.record.unreadable.set_aside_notes`): a
    discharge summary pasted into a note does not cost the entry its own words."""
    texts, length = _own_words(resource)
    if builder.words_read + length > CALL_WORDS_READ:
        raise WordsTooLong
    builder.words_read += length
    notes = note_texts(resource)
    if notes and not notes_within_limits(builder, sum(map(len, notes)), length):
        set_aside_notes(builder, resource)
        return texts, []
    return texts, notes


def _own_words(resource: dict[str, Any]) -> tuple[list[str], int]:
    """:func:`entry_texts` and their length, refused past :data:`ENTRY_WORDS_READ`."""
    texts = entry_texts(resource)
    length = sum(map(len, texts))
    if length > ENTRY_WORDS_READ:
        raise WordsTooLong
    return texts, length


def notes_within_limits(builder: Builder, length: int, already: int = 0) -> bool:
    """Are an entry's notes of ``length`` characters (beside ``already`` of its own words)
    within what one entry reads, and within the call's allowance for notes
    (:data:`CALL_NOTES_READ`)? If so, counted against it."""
    if already + length > ENTRY_WORDS_READ or builder.notes_read + length > CALL_NOTES_READ:
        return False
    builder.notes_read += length
    return True


def entry_texts(resource: dict[str, Any]) -> list[str]:
    """The words of an entry's code (and an Observation's value and components; its notes
    are :func:`note_texts`): text and displays, a known code's display too (the sender's
    words, which may say more than the code: a display naming a family the code gives is
    not read again, ``uncoded_entries.read_words``).
    A LOINC code names a test, not a finding ("Cancer Ag 125"): only its value is read. A
    component stated absent (valueBoolean false), or one the entry's value denies
    (:func:`components_read`), is not read."""
    texts: list[str] = []
    code = resource.get("code")
    codings = codings_of(code)
    if not names_a_test(codings):
        _add_words(texts, code, codings)
    value = resource.get("valueCodeableConcept")
    if value is not None:
        _add_words(texts, value, codings_of(value))
    if isinstance(resource.get("valueString"), str):
        texts.append(resource["valueString"])
    if "component" in resource:
        answers = has_value(resource) and value_answers_the_code(resource)
        for component in components_read(resource, value_answers=answers):
            texts.extend(entry_texts(component))
    return texts


def note_texts(entry: dict[str, Any]) -> list[str]:
    """The texts of an entry's notes (``Annotation.text``): a clinician's comment on a
    row or a problem ("New urinary retention, PVR 900 ml" on a haemoglobin), read as the
    entry's words. Read leniently, outside the R4B check (record/state): a note that is
    not an Annotation with a text is passed over, never costing the entry; a lone surrogate
    is read as U+FFFD (counted by record/state and record/entry_notes)."""
    if "note" not in entry:
        return []
    return [_plain(mended(note["text"])) for note in readable_notes(entry)]


# Markdown (an Annotation's text is markdown): a backslash escape, and the underscores of
# emphasis ("_urinary retention_", "__Saddle anaesthesia__"), which no reader reads as
# blanks; asterisks, hashes and quote marks are read through already
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")


def _plain(text: str) -> str:
    """A note's markdown as plain words."""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return text.replace("_", " ") if "_" in text else text


def has_no_words(resource: dict[str, Any]) -> bool:
    """Would :func:`entry_texts` and :func:`note_texts` find no word in ``resource`` (a
    test's code, no coded or text value, no components, no note, no residual volume, no
    temperature)? Kept next to it:
    whatever it comes to read must be added here too (the record builder skips the walk for
    such entries; a test holds the two together). The gates are inline: asked of every
    Observation."""
    if "valueCodeableConcept" in resource or "valueString" in resource \
            or "component" in resource or "note" in resource \
            or not names_a_test(codings_of(resource.get("code"))):
        return False
    quantity = resource.get("valueQuantity")
    if ((quantity.__class__ is dict and temperature_sent(quantity)) or "valueInteger" in resource) \
            and measured_temperature(resource) is not None:
        return False  # a "Tympanic temperature" under a code no value set holds
    held = "valueInteger" in resource if quantity is None else (
        quantity.__class__ is dict and volume_sent(quantity))
    return not (held and measured_residual(resource))  # a bladder scan's


def names_a_test(codings: list[dict[str, Any]]) -> bool:
    """Is any coding a LOINC code? The system is read as the value sets read it (aliases,
    spaces, a trailing "/"), so "http://loinc.org/" names a test too."""
    for coding in codings:
        system = coding.get("system")
        if system == vs.LOINC or vs.normalise_system(system) == vs.LOINC:
            return True
    return False


def _add_words(texts: list[str], concept: object, codings: list[dict[str, Any]]) -> None:
    """The text and every display of a CodeableConcept, a display repeating the text once,
    each without a SNOMED CT semantic tag (:func:`_untagged`)."""
    text = concept.get("text") if isinstance(concept, dict) else None
    said = ""
    if isinstance(text, str):
        texts.append(_untagged(text))
        said = text.strip().lower()
    texts.extend(_untagged(c["display"]) for c in codings
                 if isinstance(c.get("display"), str) and c["display"].strip().lower() != said)


# The semantic tag closing a SNOMED CT fully specified name: "... without myelopathy
# (disorder)". It says what kind of concept the name is, and left in, it kept a denial from
# closing its item: the myelopathy was read as a cord sign (review, twenty-first session).
_SEMANTIC_TAG = re.compile(
    r"(?<!\s)\s*+\((?:disorder|finding|situation|event|procedure|observable entity|morphologic "
    r"abnormality|body structure|qualifier value|regime/therapy|clinical finding)\)\s*$", re.I)


def _untagged(words: str) -> str:
    return _SEMANTIC_TAG.sub("", words) if words.endswith(")") else words
