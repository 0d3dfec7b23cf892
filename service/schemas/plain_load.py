"""The commonest hook requests loaded without marshmallow, to the very same result.

A patient-view or encounter-start call is a handful of strings and the prefetch: the
request schema (:mod:`service.schemas.request`) loads it in about as long as building a
small patient's record takes, most of it marshmallow's machinery (a field loop, getters,
schema hooks looked up with ``inspect``) rather than checks. :class:`PlainLoader` does the
same checks in plain Python, with the schema's own validators, and builds what the
schema's ``load`` returns: the same keys in the same order, the same values (a
``uuid.UUID`` hookInstance, the prefetch resources themselves, not copies).

It only ever accepts: whatever it does not fully handle (a missing or null field, a value
of another type, a validator's refusal, ``fhirAuthorization`` or ``extension``, which
only the schema loads) makes it answer None, and the caller loads the body with the schema
instead. So every refusal, and its 400 message, is the schema's own. The loader is built
from the schema and refuses to be built (:func:`plain_loader` gives None) for a schema
whose fields are not the ones it knows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing, validate

from service.schemas.common import FhirResource, is_resource
from service.schemas.request import EncounterStartContextSchema, PatientViewContextSchema

_TOP_FIELDS = ("hookInstance", "fhirServer", "fhirAuthorization", "extension", "hook",
               "context", "prefetch")
_SCHEMA_ONLY = ("fhirAuthorization", "extension")  # present: the schema loads the body
_CONTEXTS = (PatientViewContextSchema, EncounterStartContextSchema)

Validator = Callable[[Any], Any]


def _plain_field(field: fields.Field, kind: type[fields.Field]) -> bool:
    """A field of exactly ``kind`` with no per-field load hooks of its own, loaded under its
    own name with no default (else the schema's result is not the loader's)."""
    return (type(field) is kind and not getattr(field, "pre_load", None)
            and not getattr(field, "post_load", None) and field.data_key is None
            and field.attribute is None and field.load_default is missing)


class PlainLoader:
    """The load of one service's request schema, for the bodies it fully handles."""

    def __init__(self, schema: Schema) -> None:
        self.hook: str = schema.expected_hook  # type: ignore[attr-defined]
        self._server: fields.Field = schema.load_fields["fhirServer"]
        context: Schema = schema.load_fields["context"].schema  # type: ignore[attr-defined]
        self._context: tuple[tuple[str, bool, tuple[Validator, ...]], ...] = tuple(
            (name, field.required, tuple(field.validators))
            for name, field in context.load_fields.items())
        prefetch: Schema = schema.load_fields["prefetch"].schema  # type: ignore[attr-defined]
        self._prefetch_keys: tuple[str, ...] = tuple(prefetch.load_fields)

    def load(self, body: Any) -> dict[str, Any] | None:
        """What the schema's ``load(body)`` returns, or None: load it with the schema."""
        if not isinstance(body, dict):
            return None
        for name in _SCHEMA_ONLY:
            if name in body:
                return None
        instance = body.get("hookInstance")
        if not isinstance(instance, str):
            return None
        try:
            hook_instance = uuid.UUID(instance)  # as marshmallow's UUID field reads it
        except (ValueError, AttributeError, TypeError):
            return None
        loaded: dict[str, Any] = {"hookInstance": hook_instance}
        if "fhirServer" in body:
            try:  # the schema's own field (a URL validator too intricate to copy)
                loaded["fhirServer"] = self._server.deserialize(body["fhirServer"])
            except ValidationError:
                return None
        hook = body.get("hook")
        if not isinstance(hook, str) or hook != self.hook:
            return None
        loaded["hook"] = hook
        context = self._load_context(body.get("context"))
        if context is None:
            return None
        loaded["context"] = context
        if "prefetch" in body:
            prefetch = self._load_prefetch(body["prefetch"])
            if prefetch is None:
                return None
            loaded["prefetch"] = prefetch
        return loaded

    def _load_context(self, context: Any) -> dict[str, Any] | None:
        if not isinstance(context, dict):
            return None
        loaded: dict[str, Any] = {}
        for name, required, validators in self._context:
            if name not in context:
                if required:
                    return None
                continue
            value = context[name]
            if not isinstance(value, str):
                return None
            try:
                for validate in validators:
                    validate(value)
            except ValidationError:
                return None
            loaded[name] = value
        return loaded

    def _load_prefetch(self, prefetch: Any) -> dict[str, Any] | None:
        if not isinstance(prefetch, dict):
            return None
        loaded: dict[str, Any] = {}
        for key in self._prefetch_keys:
            if key not in prefetch:
                continue
            value = prefetch[key]
            if value is not None:
                try:
                    is_resource(value)
                except ValidationError:
                    return None
            loaded[key] = value
        return loaded


def plain_loader(schema: Schema) -> PlainLoader | None:
    """A :class:`PlainLoader` for ``schema``, or None when its fields are not exactly the
    ones the loader knows (an order hook's context, a field added since)."""
    top = schema.load_fields
    context_field = top.get("context")
    prefetch_field = top.get("prefetch")
    if (tuple(top) != _TOP_FIELDS or schema.unknown != "exclude"
            or not isinstance(context_field, fields.Nested)
            or not isinstance(prefetch_field, fields.Nested)):
        return None
    context, prefetch = context_field.schema, prefetch_field.schema
    hook, instance = top["hook"], top["hookInstance"]
    if (type(context) not in _CONTEXTS or context.unknown != "exclude"
            or prefetch.unknown != "exclude" or _hooks(context) or _hooks(prefetch)
            or _hooks(schema) != {"server_with_token"}):  # fhirAuthorization: schema only
        return None
    if not (all(_plain_field(f, fields.String) and not f.allow_none
                for f in context.load_fields.values())
            and all(_plain_field(f, FhirResource) and f.allow_none
                    and f.validators == [is_resource] for f in prefetch.load_fields.values())
            and _plain_field(instance, fields.UUID) and not instance.validators
            and _plain_field(hook, fields.String) and len(hook.validators) == 1
            and isinstance(hook.validators[0], validate.Equal)
            and hook.validators[0].comparable == getattr(schema, "expected_hook", None)
            and not hook.allow_none and not instance.allow_none):
        return None
    return PlainLoader(schema)


def _hooks(schema: Schema) -> set[str]:
    """The names of the schema's own load and validation hooks (``validates_schema``...)."""
    return {hook[0] for hooks in schema._hooks.values() for hook in hooks}
