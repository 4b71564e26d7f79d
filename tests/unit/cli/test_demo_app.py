"""DemoApp: the ordinary service (its own risk loop and audit trail) and a bot that reads the guard.

The demo builds no Monitor and runs no loop of its own: the service's risk loop
evaluates the guard, and the simulated bot reads its level over ``GET /api/v1/risk``.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import msgspec

from algowatch._cli._demo_app import (
    MIN_HEARTBEAT_REAL_SECONDS,
    DemoApp,
    demo_settings,
    with_nats_source,
)
from algowatch.audit import verify
from algowatch.audit.verify import read_records
from algowatch.settings import (
    HealthSettings,
    RiskSettings,
    ServerSettings,
    Settings,
)


def _settings(data_dir: Path, **changes: object) -> Settings:
    base = Settings(server=ServerSettings(port=0), health=HealthSettings(system_metrics=False))
    return msgspec.structs.replace(demo_settings(base, data_dir), **changes)


def test_check_interval_is_simulated_time_bounded_to_five_checks_a_second(tmp_path: Path) -> None:
    """The service's loop runs every check_interval / speed real seconds, at least 0.2 s apart."""
    slow = DemoApp(_settings(tmp_path / "a"), speed=2.0, configure_logs=False)
    fast = DemoApp(_settings(tmp_path / "b"), speed=20.0, configure_logs=False)
    try:
        # check_interval_seconds = 1.0 simulated: 1.0 / 2 = 0.5 s; 1.0 / 20 = 0.05 -> 0.2 s
        assert slow.settings.risk.check_interval_seconds == 0.5
        assert fast.settings.risk.check_interval_seconds == 0.2
        assert slow.app.state.service.risk.interval_seconds == 0.5
        assert slow.app.state.service.risk.periodic is True
    finally:
        for app in (slow, fast):
            app.server.stop()
            assert app.guard is not None
            app.guard.close()


def test_demo_uses_the_services_guard_loop_and_audit_trail(tmp_path: Path) -> None:
    """The service's own loop evaluates; the bot's level equals the risk API's."""
    data = tmp_path / "demo"
    app = DemoApp(_settings(data), speed=20.0, configure_logs=False)
    assert app.guard is app.app.state.risk_guard
    assert app.guard is not None
    app.start()
    try:
        deadline = time.monotonic() + 10
        while app.guard.checks < 2:  # the service's loop: the demo runs none of its own
            assert time.monotonic() < deadline, "the service never evaluated the guard"
            time.sleep(0.05)
        assert app.pause()
        report = httpx.get(f"{app.url}/api/v1/risk").json()
        assert report["checks"] >= 2
        assert app.risk_level is not None
        assert app.risk_level.refresh() == report["level"]
        assert app.risk_level.errors == 0
        # the demo's broker check is a broker: trading_broker_up has its sample
        metrics = httpx.get(f"{app.url}/metrics").text
        assert any(
            line.startswith('trading_broker_up{broker="broker"} ') for line in metrics.splitlines()
        ), metrics[:2000]
        health = httpx.get(f"{app.url}/health").json()
        assert health["configured_checks"] == 4
        assert "note" not in health
        checks = app.guard.checks
        time.sleep(0.5)  # paused: the loop (every 0.2 s) no longer runs
        assert app.guard.checks == checks
    finally:
        app.stop()
    # one writer (the service's): its trail verifies, the guard's first record is in it
    records = list(read_records(data / "audit"))
    assert [r["kind"] for r in records].count("limit_change") == 1
    assert verify(data / "audit").ok


def test_demo_runs_without_the_guard(tmp_path: Path) -> None:
    """With [risk] enabled = false the risk API answers 404 and the bot reads "ok"."""
    app = DemoApp(
        _settings(tmp_path / "demo", risk=RiskSettings(enabled=False)),
        speed=20.0,
        configure_logs=False,
    )
    assert app.guard is None
    app.start()
    try:
        assert httpx.get(f"{app.url}/api/v1/risk").status_code == 404
        assert app.risk_level is not None
        assert app.risk_level.refresh() == "ok"
        assert app.risk_level.errors == 0
        assert app.pause()
    finally:
        app.stop()


def test_heartbeat_limit_is_never_under_three_real_seconds(tmp_path: Path) -> None:
    """At --speed 25 the demo's 20 simulated seconds would be 0.8 s of real time: a stall."""
    apps = {
        speed: DemoApp(_settings(tmp_path / str(speed)), speed=speed, configure_logs=False)
        for speed in (2.0, 5.0, 25.0)
    }
    try:
        limits = {speed: app.settings.risk.heartbeat_timeout_seconds for speed, app in apps.items()}
        # 20 simulated seconds (demo_settings) or 3 real seconds x speed, whichever is longer
        assert limits == {2.0: 20.0, 5.0: 20.0, 25.0: 75.0}
        for speed, app in apps.items():
            assert app.guard is not None
            assert app.guard.settings.heartbeat_timeout_seconds == limits[speed]
            assert limits[speed] / speed >= MIN_HEARTBEAT_REAL_SECONDS
    finally:
        for app in apps.values():
            app.server.stop()
            assert app.guard is not None
            app.guard.close()


def test_demo_with_bots_runs_a_fleet_one_account_each(tmp_path: Path) -> None:
    """--bots 3: three simulated bots, each under its own account, all delivered to the service."""
    settings = demo_settings(
        Settings(server=ServerSettings(port=0), health=HealthSettings(system_metrics=False)),
        tmp_path / "demo",
        bots=3,
    )
    app = DemoApp(settings, speed=20.0, configure_logs=False, bots=3)
    app.start()
    try:
        assert app.fleet is not None
        assert app.client is None
        deadline = time.monotonic() + 30
        while app.fleet.stats().sent < 100:
            assert time.monotonic() < deadline, app.fleet.stats()
            time.sleep(0.05)
        assert app.pause()
        snapshot = httpx.get(f"{app.url}/api/v1/snapshot").json()
        stats = app.fleet.stats()
    finally:
        app.stop()
    assert sorted(snapshot["by_account"]) == ["bot-000", "bot-001", "bot-002"]
    assert snapshot["events_applied"] == stats.sent == stats.enqueued


def test_demo_settings_raise_max_accounts_to_the_number_of_bots(tmp_path: Path) -> None:
    """More bots than monitor.max_accounts: the limit follows, so no bot folds into 'other'."""
    assert demo_settings(Settings(), tmp_path, bots=50).monitor.max_accounts == 50
    assert demo_settings(Settings(), tmp_path, bots=5).monitor.max_accounts == 20


def test_with_nats_source_sets_the_contract_keys(tmp_path: Path) -> None:
    """[sources.nats] gets servers, stream, subjects and durable, and the source runs."""
    settings = with_nats_source(Settings(), "nats://a:4222, nats://b:4222", durable="demo")
    nats = settings.sources.nats
    assert (nats.servers, nats.stream, nats.subjects, nats.durable) == (
        ("nats://a:4222", "nats://b:4222"),
        "ALGOWATCH",
        ("algowatch.events.>",),
        "demo",
    )
    assert nats.enabled
