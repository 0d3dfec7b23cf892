"""The discovery document, ``GET /cds-services`` (CDS Hooks 2.0.1 section "Discovery")."""

from __future__ import annotations

from marshmallow import fields

from service.schemas.common import Strict, non_empty


class ServiceSchema(Strict):
    hook = fields.String(required=True, validate=non_empty)
    title = fields.String(validate=non_empty)
    description = fields.String(required=True, validate=non_empty)
    id = fields.String(required=True, validate=non_empty)
    prefetch = fields.Dict(keys=fields.String(validate=non_empty),
                           values=fields.String(validate=non_empty))
    usageRequirements = fields.String(validate=non_empty)
    extension = fields.Dict(keys=fields.String())


class DiscoverySchema(Strict):
    services = fields.List(fields.Nested(ServiceSchema), required=True)
