"""The redaction pre-screens skip the substitutions only when none could match.

``service.trust.redact.redact`` and ``service.logs.redact`` first look for what every one
of their patterns needs (a cheap scan that most log lines fail); these properties compare
them with the patterns applied unconditionally, on texts built from the fragments the
patterns look for, mixed case and Unicode look-alikes included.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import logs
from service.trust import redact as trust

FRAGMENTS = [
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "eyJ", "Bearer abc.def", "BEARER x",
    "bearer", "Authorization: Basic dXNlcg==", "authorization=", "AUTHORIZATION",
    "access_token=tok", "refresh_token", "id_token: x", "client_secret='s'", "Patient/123",
    "patient/123", "Patient/", "patientId=abc", "patient_id: 'x'", '"patient": "p-1"',
    "subject=Patient/9", "identifier: 42", "MRN=77", "birthDate: 1960-01-01", "birthdate=",
    "POST /cds-services/back-pain-patient-view 200", "[REDACTED]", " ", ":", "=", "'", '"',
    "\u212a", "\u0131", "\u017f", "k", "i", "s", "\n",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)),
                 max_size=12).map("".join)
# ASCII only: the texts the screens answer without a regex (most log lines).
ASCII_FRAGMENTS = [f for f in FRAGMENTS if f.isascii()]
ascii_texts = st.lists(st.one_of(st.sampled_from(ASCII_FRAGMENTS),
                                 st.text(st.characters(max_codepoint=127), max_size=8)),
                       max_size=12).map("".join)
# Anything at all, the fragments' Unicode look-alikes and arbitrary characters included.
any_texts = st.one_of(texts, ascii_texts, st.text())


def trust_unscreened(text: str) -> str:
    for pattern, replacement in trust._PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def logs_unscreened(text: str, ids: tuple[str, ...]) -> str:
    text = trust_unscreened(text)
    text = logs._PATIENT_REFERENCE.sub(r"\1" + logs.REDACTED, text)
    text = logs._IDENTIFYING_PAIR.sub(r"\1" + logs.REDACTED, text)
    for value in ids:
        if len(value) >= logs._MIN_LITERAL_ID and value in text:
            text = text.replace(value, logs.REDACTED)
    return text


@settings(max_examples=600, deadline=None)
@given(any_texts)
def test_token_screen_changes_nothing(text: str) -> None:
    assert trust.redact(text) == trust_unscreened(text)


@settings(max_examples=600, deadline=None)
@given(any_texts, st.lists(st.sampled_from(["p-123", "abc", "9999", "Patient"]), max_size=2))
def test_identifier_screen_changes_nothing(text: str, ids: list[str]) -> None:
    assert logs.redact(text, ids) == logs_unscreened(text, tuple(ids))


def test_screens_let_the_access_line_through_unchanged() -> None:
    line = "POST /cds-services/back-pain-patient-view 200"
    assert trust.MAY_HOLD_TOKEN.search(line) is None
    assert logs._MAY_IDENTIFY.search(line) is None
    assert logs._MAY_NEED_SCRUB.search(line) is None
    assert logs.redact(line) == line


@settings(max_examples=1000, deadline=None)
@given(any_texts)
def test_the_token_screen_without_a_regex_answers_as_the_regex(text: str) -> None:
    assert trust.may_hold_token(text) == (trust.MAY_HOLD_TOKEN.search(text) is not None)


@settings(max_examples=1000, deadline=None)
@given(any_texts)
def test_the_scrub_screen_without_a_regex_never_misses_what_the_regex_finds(text: str) -> None:
    if logs._MAY_NEED_SCRUB.search(text) is not None:
        assert logs._may_need_scrub(text)


@pytest.mark.parametrize("text", [
    "Authorization: Bearer abc", "x eyJhbGciOi.eyJzdWIi.sig", "see Patient/123",
    "PATIENTID = 7", "\"mrn\": \"123\"", "birthdate:1960", "Subject=x", "ID_TOKEN: abc",
    "patient\t=\tp-1", "\"identifier\" : 9",
])
def test_ascii_texts_that_need_a_scrub_are_sent_to_the_patterns(text: str) -> None:
    assert text.isascii() and logs._may_need_scrub(text)
    assert logs.redact(text) != text


@pytest.mark.parametrize("text", [
    "\u212aid_to\u212aen=x",  # Kelvin sign: a k to a case-insensitive regex
    "Bearer\u00a0tok", "patient\u2003: p-1", "\u0130D_TOKEN", "MR\u0274=1",
])
def test_non_ascii_texts_ask_the_regex(text: str) -> None:
    assert logs._may_need_scrub(text) == (logs._MAY_NEED_SCRUB.search(text) is not None)
    assert trust.may_hold_token(text) == (trust.MAY_HOLD_TOKEN.search(text) is not None)
    assert logs.redact(text) == logs_unscreened(text, ())


def test_the_access_lines_fields_skip_the_patterns_without_a_regex() -> None:
    for text in ("POST /cds-services/back-pain-patient-view 200", "POST",
                 "/cds-services/back-pain-patient-view", "127.0.0.1",
                 "c33d8426-ca58-4ce0-98c2-604ff09d7611"):
        assert not logs._may_need_scrub(text)
        assert not trust.may_hold_token(text)
