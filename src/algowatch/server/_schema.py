"""The OpenAPI schema of an event body, derived from the event contract.

Each event type's schema is built from :func:`algowatch.events.event_fields` (the fields the
event classes declare, with their kinds' JSON Schema), so a field added to the contract
appears here, in the validator and in the decoder at once.
"""

from __future__ import annotations

import copy
from typing import Any

from algowatch.events import event_fields, event_types

__all__ = ["event_body_schema", "event_schema"]


def event_schema(event_type: str) -> dict[str, Any]:
    """Return the JSON Schema of one event of ``event_type`` as ``POST /api/v1/events`` takes it.

    ``ts`` is optional (the service stamps an event without one with its receive time), a
    ``null`` optional field is the same as an absent one, and unknown fields are allowed (an
    event keeps them in ``extra``).
    """
    properties: dict[str, Any] = {"type": {"type": "string", "const": event_type}}
    required = ["type"]
    for field in event_fields(event_type):
        if field.required:
            properties[field.name] = field.schema
            if field.name != "ts":
                required.append(field.name)
        else:
            nullable = {"anyOf": [field.schema, {"type": "null"}]}
            default = {} if field.default is None else {"default": field.default}
            properties[field.name] = {**nullable, **default}
    # a copy: the kinds' schemas are shared by every field of the kind
    return copy.deepcopy(
        {
            "title": event_type,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": True,
        }
    )


def event_body_schema() -> dict[str, Any]:
    """Return the JSON Schema of one event of any type (one of the types' schemas)."""
    return {"oneOf": [event_schema(event_type) for event_type in event_types()]}
