"""The OpenAPI schema of ``POST /api/v1/events`` is the event contract, field for field."""

from __future__ import annotations

from typing import Any, get_args

import jsonschema_rs
import msgspec
import pytest
from hypothesis import given, settings

from algowatch import events as ev
from algowatch.errors import InvalidEventError
from algowatch.server import create_app
from algowatch.settings import HealthSettings, Settings
from algowatch.testing import event_strategy

# DESIGN.md's contract table (v1), written down here as the independent reference:
# type -> (required fields, optional fields), besides ts, event_id, strategy and account
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "order_submitted": (
        {"order_id", "symbol", "side", "quantity", "order_type"},
        {"limit_price", "decision_price", "arrival_price", "signal_id"},
    ),
    "order_acknowledged": ({"order_id"}, {"broker_order_id"}),
    "order_filled": ({"order_id", "fill_id", "quantity", "price"}, {"fee", "vwap", "liquidity"}),
    "order_rejected": ({"order_id", "reason"}, set()),
    "order_canceled": ({"order_id"}, {"reason"}),
    "signal": ({"signal_id", "symbol", "direction"}, {"confidence", "generation_seconds"}),
    "signal_outcome": (
        {"signal_id", "actual_direction"},
        {"pnl", "bars_to_profit", "bars_held"},
    ),
    "mark": ({"symbol", "price"}, {"bid", "ask", "exchange_ts"}),
    "account": ({"equity"}, {"cash", "buying_power"}),
    "error": ({"error_type", "component"}, {"message"}),
    "heartbeat": ({"component"}, set()),
}
COMMON = {"ts", "event_id", "strategy", "account"}


@pytest.fixture(scope="module")
def body_schema() -> dict[str, Any]:
    """The JSON array schema the service's OpenAPI document gives for a JSON body."""
    app = create_app(Settings(health=HealthSettings(system_metrics=False)))
    operation = app.openapi()["paths"]["/api/v1/events"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _by_type(body_schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["properties"]["type"]["const"]: s for s in body_schema["items"]["oneOf"]}


def test_schema_has_one_object_per_event_type_in_contract_order(
    body_schema: dict[str, Any],
) -> None:
    """The body is an array of events, one schema per type of the contract."""
    assert body_schema["type"] == "array"
    assert list(_by_type(body_schema)) == list(CONTRACT)


@pytest.mark.parametrize("event_type", list(CONTRACT))
def test_schema_of_each_type_lists_its_fields_and_required_ones(
    body_schema: dict[str, Any], event_type: str
) -> None:
    """Each type's properties are the contract's fields; required: type and its own."""
    schema = _by_type(body_schema)[event_type]
    required, optional = CONTRACT[event_type]
    assert set(schema["properties"]) == {"type"} | COMMON | required | optional
    # ts may be left out: the service stamps the receive time
    assert set(schema["required"]) == {"type"} | required
    assert schema["additionalProperties"] is True


@pytest.mark.parametrize("event_type", list(CONTRACT))
def test_schema_fields_are_the_event_class_fields(
    body_schema: dict[str, Any], event_type: str
) -> None:
    """The schema follows the event class: a field added to a class appears in it."""
    cls = next(c for c in get_args(ev.Event) if c.__struct_config__.tag == event_type)
    fields = {f.name for f in msgspec.structs.fields(cls)} - {"extra"}
    assert set(_by_type(body_schema)[event_type]["properties"]) == {"type"} | fields
    assert [f.name for f in ev.event_fields(event_type)] == [
        f.name for f in msgspec.structs.fields(cls) if f.name != "extra"
    ]


@settings(max_examples=200, deadline=None)
@given(event=event_strategy())
def test_every_valid_event_validates_against_the_schema(
    body_schema: dict[str, Any], event: ev.Event
) -> None:
    """What the codec encodes, the schema accepts (checked by jsonschema-rs)."""
    validator = jsonschema_rs.validator_for(body_schema)
    document = msgspec.json.decode(ev.encode_events([event]).replace(b"\n", b""))
    assert validator.is_valid([document])


BASE = {"type": "order_filled", "order_id": "o1", "fill_id": "f1", "quantity": 5, "price": 10.5}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -5}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"price": 2e15}, "price"),
        ({"liquidity": "both"}, "liquidity"),
        ({"order_id": ""}, "order_id"),
        ({"order_id": "x" * 257}, "order_id"),
        ({"strategy": "tab\there"}, "strategy"),
        ({"fee": None}, "fee"),
        ({"order_id": None}, "order_id"),
    ],
)
def test_schema_and_decoder_reject_the_same_invalid_values(
    body_schema: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    """A value the contract rejects breaks the schema, and the decoder names the field."""
    validator = jsonschema_rs.validator_for(body_schema)
    document = {**BASE, "ts": "2025-01-02T14:30:00Z", **change}
    assert validator.is_valid([{**BASE, "ts": "2025-01-02T14:30:00Z"}])
    expected_valid = field == "fee"  # a null optional is absent; fee's default then applies
    assert validator.is_valid([document]) is expected_valid
    if expected_valid:
        assert ev.decode_event(msgspec.json.encode(document)).fee == 0.0
        return
    with pytest.raises(InvalidEventError) as info:
        ev.decode_event(msgspec.json.encode(document))
    assert f"order_filled.{field} " in str(info.value)


def test_missing_required_field_breaks_the_schema(body_schema: dict[str, Any]) -> None:
    """A missing required field is invalid; an event without ts is not (the service stamps it)."""
    validator = jsonschema_rs.validator_for(body_schema)
    assert validator.is_valid([BASE])
    assert not validator.is_valid([{k: v for k, v in BASE.items() if k != "fill_id"}])
    assert validator.is_valid([{**BASE, "venue": "XNAS"}])  # unknown fields are kept
