"""DemoApp: the demo evaluates the service's own risk guard into the service's audit trail."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import msgspec

from algowatch.audit import verify
from algowatch.audit.verify import read_records
from algowatch.settings import HealthSettings, RiskSettings, ServerSettings, Settings
from algowatch.sim.demo import DemoApp, demo_settings


def _settings(data_dir: Path, **changes: object) -> Settings:
    base = Settings(server=ServerSettings(port=0), health=HealthSettings(system_metrics=False))
    return msgspec.structs.replace(demo_settings(base, data_dir), **changes)


def test_demo_uses_the_services_guard_and_audit_trail(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    app = DemoApp(_settings(data), speed=20.0, configure_logs=False)
    assert app.guard is app.app.state.risk_guard
    assert app.guard is not None
    app.start()
    try:
        deadline = time.monotonic() + 10
        while app.guard.checks == 0:  # the demo's loop, not the service's (risk_loop=False)
            assert time.monotonic() < deadline, "the demo never evaluated the guard"
            time.sleep(0.05)
        app.check_risk()
        report = httpx.get(f"{app.url}/api/v1/risk").json()
        assert report["checks"] >= 2
        assert app.risk_level() == report["level"]
        assert app.guard_errors == 0
        # the demo's broker check is a broker: trading_broker_up has its sample
        metrics = httpx.get(f"{app.url}/metrics").text
        assert any(
            line.startswith('trading_broker_up{broker="broker"} ') for line in metrics.splitlines()
        ), metrics[:2000]
        health = httpx.get(f"{app.url}/health").json()
        assert health["configured_checks"] == 4
        assert "note" not in health
    finally:
        app.stop()
    # one writer (the service's): its trail verifies, the guard's first record is in it
    records = list(read_records(data / "audit"))
    assert [r["kind"] for r in records].count("limit_change") == 1
    assert verify(data / "audit").ok


def test_demo_runs_without_the_guard(tmp_path: Path) -> None:
    app = DemoApp(
        _settings(tmp_path / "demo", risk=RiskSettings(enabled=False)),
        speed=20.0,
        configure_logs=False,
    )
    assert app.guard is None
    app.start()
    try:
        assert app.risk_level() == "ok"
        assert httpx.get(f"{app.url}/api/v1/risk").status_code == 404
    finally:
        app.stop()
