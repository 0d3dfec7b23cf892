"""The redaction safety net and the log guard's detector, on real log records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pythonjsonlogger.json import JsonFormatter

from service.trust import redact
from tests.log_guard import find_secrets
from tests.trust_support import Signer

pytestmark = pytest.mark.logs_secrets  # these tests log secrets on purpose

ACCESS_TOKEN = "opaque-fhir-access-token-5b1e0c"


@pytest.fixture(scope="module")
def jwt_token() -> str:
    return Signer.ec("ES256", "redact").token()


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    redact.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("template", [
    "token {jwt}",
    "Authorization: Bearer {jwt}",
    "headers={{'Authorization': 'Bearer {at}'}}",
    '{{"access_token": "{at}", "token_type": "Bearer"}}',
    "url https://fhir.example/Patient?access_token={at}&x=1",
    "authorization={at}",
])
def test_redact_removes_tokens(template: str, jwt_token: str) -> None:
    text = template.format(jwt=jwt_token, at=ACCESS_TOKEN)
    cleaned = redact.redact(text)
    assert jwt_token not in cleaned and ACCESS_TOKEN not in cleaned
    assert redact.REDACTED in cleaned
    assert find_secrets(text) and not find_secrets(cleaned)


def test_redact_keeps_ordinary_text() -> None:
    text = "JWT rejected: reason=aud-mismatch client=https://ehr.example.org path=/cds-services"
    assert redact.redact(text) == text
    assert find_secrets(text) == []


def test_records_from_any_logger_are_scrubbed(stream_logger: tuple[logging.Logger, io.StringIO],
                                              jwt_token: str) -> None:
    logger, stream = stream_logger
    before = redact.redaction_count()
    logger.info("calling with %s", f"Bearer {ACCESS_TOKEN}")
    logger.debug("token=%s", jwt_token)
    output = stream.getvalue()
    assert ACCESS_TOKEN not in output and jwt_token not in output
    assert output.count(redact.REDACTED) == 2
    assert redact.redaction_count() == before + 2


def test_exceptions_are_scrubbed_for_plain_and_json_formatters(
        stream_logger: tuple[logging.Logger, io.StringIO], jwt_token: str) -> None:
    logger, stream = stream_logger
    json_stream = io.StringIO()
    json_handler = logging.StreamHandler(json_stream)
    json_handler.setFormatter(JsonFormatter())
    logger.addHandler(json_handler)
    try:
        try:
            raise ValueError(f"bad token {jwt_token}")
        except ValueError:
            logger.exception("verification crashed")
    finally:
        logger.removeHandler(json_handler)
    assert "verification crashed" in stream.getvalue()
    assert jwt_token not in stream.getvalue() and "ValueError" in stream.getvalue()
    record = json.loads(json_stream.getvalue())
    assert jwt_token not in json.dumps(record) and redact.REDACTED in record["exc_info"]


def test_filter_scrubs_string_extras(jwt_token: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", None, None)
    record.header = f"Bearer {jwt_token}"
    assert redact.RedactingFilter().filter(record) is True
    assert jwt_token not in record.header


def test_install_is_idempotent_and_reversible() -> None:
    redact.install()
    redact.install()
    factory = logging.getLogRecordFactory()
    assert not getattr(getattr(factory, "wrapped", None), "_backpain_redacting", False)
    redact.uninstall()
    assert not redact.installed()
    redact.install()
    assert redact.installed()
