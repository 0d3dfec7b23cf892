"""Conditions: coded diagnoses as facts, with their status, onset, side, severity."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.fhir_time import (
    parse_datetime,
)
from cds_rules.model import (
    FactStatus,
)
from cds_rules.record.codes import codings_of, concept_hits
from cds_rules.record.facts import is_worsening, make_fact, with_latest
from cds_rules.record.laterality import laterality_of
from cds_rules.record.negation import negated_text
from cds_rules.record.state import Builder
from cds_rules.record.status import CONDITION_HISTORY, CONDITION_REFUTED, abated, status_code
from cds_rules.record.timing import condition_time
from cds_rules.record.uncoded_entries import read_uncoded, read_words, set_aside_coded


def read_condition(builder: Builder, resource: dict[str, Any]) -> bool:
    hits = concept_hits(resource.get("code"))
    if not hits:
        return read_uncoded(builder, resource)
    checked = builder.validated(resource)
    if checked is None:
        set_aside_coded(builder, resource, hits)
        return False
    if status_code(checked, "verificationStatus") in CONDITION_REFUTED:
        return False
    clinical = status_code(checked, "clinicalStatus")
    status = FactStatus.HISTORY if clinical in CONDITION_HISTORY else FactStatus.CURRENT
    if clinical is None and abated(checked, builder.record.now):
        status = FactStatus.HISTORY
    when, latest, floating = condition_time(checked, builder.record.birth_date)
    side, detail = laterality_of(checked)
    worse = is_worsening(checked)
    severe = _severe(checked)
    recorded = parse_datetime(checked.get("recordedDate"))
    for hit in hits:
        fact = make_fact(hit, checked, when, status, side, detail,
                         concept_cc=checked.get("code"), worsening=worse)
        if severe:
            fact = replace(fact, severe=True)
        if recorded is not None and recorded != when:
            fact = replace(fact, recorded=recorded)  # "new diagnosis": onset or recording
        builder.record.facts.append(with_latest(fact, latest, floating))
    read_words(builder, checked, (hit.concept for hit in hits))  # a local coding, the text
    return True


# Condition.severity coded "severe". The R4 binding is preferred, so other code systems come:
# SNOMED CT 24484000 Severe (FHIR R4 core ValueSet condition-severity); LOINC answer
# LA6750-9 Severe (the answer list Mild LA6752-5 / Moderate LA6751-7 / Severe LA6750-9 that
# the HL7 International Patient Summary uses for Condition.severity).
_SEVERE = frozenset({(vs.SNOMED, "24484000"), (vs.LOINC, "LA6750-9")})
_SEVERE_WORD = re.compile(r"(?<!non-)(?<!non )\bsevere\b", re.I)


def _severe(condition: dict[str, Any]) -> bool:
    """Condition.severity coded as severe, or whose text or a display says severe (not
    negated: "not severe"): a code of a system we do not list is read by its words."""
    severity = condition.get("severity")
    if not isinstance(severity, dict):
        return False
    codings = codings_of(severity)
    if any((vs.normalise_system(c.get("system")), str(c.get("code", "")).strip()) in _SEVERE
           for c in codings):
        return True
    texts = [severity.get("text"), *(c.get("display") for c in codings)]
    return any(isinstance(t, str) and _SEVERE_WORD.search(t) and not negated_text(t)
               for t in texts)
