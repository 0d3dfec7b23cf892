"""The Patient: birth date, sex, deceased."""

from __future__ import annotations

from typing import Any

from cds_rules.fhir_time import (
    parse_datetime,
)
from cds_rules.record.state import Builder


def read_patient(builder: Builder, resource: dict[str, Any]) -> bool:
    if builder.record.birth_date is not None or builder.record.sex != "unknown":
        return False  # the first matching Patient wins
    checked = builder.validated(resource)
    if checked is None:
        return False
    builder.record.birth_date = parse_datetime(checked.get("birthDate"))
    gender = checked.get("gender")
    if gender in ("male", "female", "other", "unknown"):
        builder.record.sex = gender
    builder.record.deceased = _is_deceased(checked)
    return True


def _is_deceased(patient: dict[str, Any]) -> bool:
    """Patient.deceasedBoolean true, or any deceasedDateTime (CLINICAL.md review: a
    deceased patient gets no cards)."""
    return patient.get("deceasedBoolean") is True or bool(patient.get("deceasedDateTime"))
