"""The dashboard survives a round trip through grafana-foundation-sdk's typed 11.6 model."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel

from algowatch.deploy import dashboard
from algowatch.settings import AlertSettings


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.to_json()))


def _lost(ours: Any, theirs: Any, path: str = "") -> list[str]:
    # every value we wrote must come back unchanged; the SDK may add defaults
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [path]
        return [p for k, v in ours.items() for p in _lost(v, theirs.get(k), f"{path}.{k}")]
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(theirs) != len(ours):
            return [path]
        return [
            p
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for p in _lost(a, b, f"{path}[{i}]")
        ]
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def test_dashboard_round_trips_through_the_typed_model() -> None:
    """Dashboard.from_json keeps every field we set: nothing is unknown to the 11.6 schema."""
    model = dashboard(AlertSettings())
    typed = Dashboard.from_json(model)
    assert typed.title == model["title"]
    assert typed.uid == "algowatch-trading"
    assert typed.panels is not None
    kinds = [type(p) for p in typed.panels]
    assert kinds.count(RowPanel) == 6
    assert kinds.count(Panel) == len(model["panels"]) - 6
    assert _lost(model, _plain(typed.to_json())) == []
