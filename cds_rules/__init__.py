"""backpain-cds clinical core: FHIR R4 resources in, findings and CDS Hooks cards out.

Pure functions only: no Flask, no HTTP, no database, no clock (``now`` is passed in).
Public API: :func:`evaluate`, :class:`HookRequest`, :class:`Evaluation`,
:class:`RuleSettings`.
"""

from cds_rules.engine import Evaluation, HookRequest, evaluate
from cds_rules.model import Finding, Topic
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings

__all__ = [
    "DEFAULT_SETTINGS",
    "Evaluation",
    "Finding",
    "HookRequest",
    "RuleSettings",
    "Topic",
    "evaluate",
]
