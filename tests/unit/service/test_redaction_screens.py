"""The redaction pre-screens skip the substitutions only when none could match.

``service.trust.redact.redact`` and ``service.logs.redact`` first look for what every one
of their patterns needs (a cheap scan that most log lines fail); these properties compare
them with the patterns applied unconditionally, on texts built from the fragments the
patterns look for, mixed case and Unicode look-alikes included.
"""

from __future__ import annotations

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
@given(texts)
def test_token_screen_changes_nothing(text: str) -> None:
    assert trust.redact(text) == trust_unscreened(text)


@settings(max_examples=600, deadline=None)
@given(texts, st.lists(st.sampled_from(["p-123", "abc", "9999", "Patient"]), max_size=2))
def test_identifier_screen_changes_nothing(text: str, ids: list[str]) -> None:
    assert logs.redact(text, ids) == logs_unscreened(text, tuple(ids))


def test_screens_let_the_access_line_through_unchanged() -> None:
    line = "POST /cds-services/back-pain-patient-view 200"
    assert trust.MAY_HOLD_TOKEN.search(line) is None
    assert logs._MAY_IDENTIFY.search(line) is None
    assert logs._MAY_NEED_SCRUB.search(line) is None
    assert logs.redact(line) == line
