"""Wire schemas (marshmallow): the single source of request validation, response checks
and the OpenAPI document."""

from service.schemas.discovery import DiscoverySchema, ServiceSchema
from service.schemas.request import request_schema
from service.schemas.response import (
    CdsResponseSchema,
    action_errors,
    card_errors,
    validate_response,
)

__all__ = [
    "CdsResponseSchema",
    "DiscoverySchema",
    "ServiceSchema",
    "action_errors",
    "card_errors",
    "request_schema",
    "validate_response",
]
