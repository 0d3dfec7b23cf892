"""Every free-text reader an entry's words pass through, on one text: for the liveness tests,
whose texts are longer than a call reads (record/entry_words.ENTRY_WORDS_READ) and would
be set aside before any reader saw them."""

from __future__ import annotations

from cds_rules.back_pain_words import named_context
from cds_rules.record.negation import closes_negated
from cds_rules.residual_urine import residuals_in_words
from cds_rules.temperature_words import temperatures_in_words
from cds_rules.uncoded import suggested
from cds_rules.weak_words import weak_signs


def topics_read(text: str) -> list[str]:
    """The red-flag families the uncoded reader names in ``text`` (topic codes), after each
    reader of an entry's words has read it."""
    weak_signs(text, closes_negated)
    named_context(text, closes_negated)
    temperatures_in_words(text, closes_negated)
    residuals_in_words(text)
    return [topic.value for topic, _sign in suggested(text, closes_negated)]
