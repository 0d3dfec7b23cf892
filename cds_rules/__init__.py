"""backpain-cds clinical core: FHIR R4 resources in, findings and CDS Hooks cards out.

Pure functions only: no Flask, no HTTP, no database, no clock (``now`` is passed in).

This module is the core's whole public API: the shell (``service``) imports these names
and nothing from the submodules (``make lint`` checks it with import-linter). In:
:class:`HookRequest`. Out: :class:`Evaluation`, whose cards are typed CDS Hooks wire
objects (:mod:`cds_rules.wire`, serialised by :func:`to_json`). Also: the rule catalogue,
the settings, the prefetch the rules need, and the knowledge the pages and exports show.
"""

from cds_rules.bundles import (
    entry_full_urls,
    is_error_outcome,
    is_operation_outcome,
    resources_from,
)
from cds_rules.call import Evaluation, HookRequest
from cds_rules.catalogue import BY_ID, RULES, rules_catalogue
from cds_rules.concepts import CONCEPTS
from cds_rules.engine import evaluate, evaluate_record, is_known_minor
from cds_rules.evidence import SOURCES
from cds_rules.failures import raised_at
from cds_rules.ids import new_uuid, random_bytes, uuid_text
from cds_rules.model import (
    HOOKS,
    INDICATOR_RANK,
    ORDER_HOOKS,
    OVERRIDE_REASON_SYSTEM,
    RULE_SYSTEM,
    TOPIC_SYSTEM,
    DataQuality,
    Fact,
    Finding,
    Topic,
)
from cds_rules.orders import BUNDLED, ORDERS, OrderSpec, parts
from cds_rules.override_reasons import SNOOZE_REASON_CODES
from cds_rules.record import build_record
from cds_rules.requirements import REQUIRED_KEYS, prefetch_templates
from cds_rules.rules.base import Rule
from cds_rules.rules.context import has_context
from cds_rules.settings import (
    DEFAULT_SETTINGS,
    OUR_THRESHOLDS,
    RuleSettings,
    configurable,
    env_name,
)
from cds_rules.site_codes import load_file as load_site_codes
from cds_rules.validation import mended_text_gap, why_invalid
from cds_rules.valueset_format import EXT_CHECKED
from cds_rules.valuesets import ORDER_KINDS, VALUE_SETS, VALUESET_DIR, apply_site_codes
from cds_rules.wire import TOPIC_CODES as CARD_TOPIC_CODES
from cds_rules.wire import (
    Action,
    Card,
    Coding,
    InvalidWireObject,
    Link,
    OverrideReason,
    Response,
    Service,
    Source,
    Suggestion,
    empty_values,
    to_json,
    to_json_bytes,
)

__all__ = [
    "BUNDLED",
    "BY_ID",
    "CARD_TOPIC_CODES",
    "CONCEPTS",
    "DEFAULT_SETTINGS",
    "EXT_CHECKED",
    "HOOKS",
    "INDICATOR_RANK",
    "ORDERS",
    "ORDER_HOOKS",
    "ORDER_KINDS",
    "OUR_THRESHOLDS",
    "OVERRIDE_REASON_SYSTEM",
    "REQUIRED_KEYS",
    "RULES",
    "RULE_SYSTEM",
    "SNOOZE_REASON_CODES",
    "SOURCES",
    "TOPIC_SYSTEM",
    "VALUESET_DIR",
    "VALUE_SETS",
    "Action",
    "Card",
    "Coding",
    "DataQuality",
    "Evaluation",
    "Fact",
    "Finding",
    "HookRequest",
    "InvalidWireObject",
    "Link",
    "OrderSpec",
    "OverrideReason",
    "Response",
    "Rule",
    "RuleSettings",
    "Service",
    "Source",
    "Suggestion",
    "Topic",
    "apply_site_codes",
    "build_record",
    "configurable",
    "empty_values",
    "entry_full_urls",
    "env_name",
    "evaluate",
    "evaluate_record",
    "has_context",
    "is_error_outcome",
    "is_known_minor",
    "is_operation_outcome",
    "load_site_codes",
    "mended_text_gap",
    "new_uuid",
    "parts",
    "prefetch_templates",
    "raised_at",
    "random_bytes",
    "resources_from",
    "rules_catalogue",
    "to_json",
    "to_json_bytes",
    "uuid_text",
    "why_invalid",
]
