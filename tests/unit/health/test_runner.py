"""HealthRunner: configuration, overall status, startup, background loop and report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from algowatch.errors import ConfigError
from algowatch.health import (
    AuditCheck,
    BrokerCallableCheck,
    Check,
    ClockSyncCheck,
    HealthRunner,
    HeartbeatCheck,
    MarketDataCheck,
    OrderFlowCheck,
    Outcome,
    PostgresCheck,
    RedisCheck,
)
from algowatch.monitor import LastSeen
from algowatch.server._render import render_health
from algowatch.settings import HealthCheckSettings, HealthSettings, load_settings
from algowatch.testing import FakeClock

OFF = HealthSettings(system_metrics=False)


class StaticCheck(Check):
    """A check whose outcome the test sets."""

    kind = "static"

    def __init__(self, name, status="connected", *, critical=True, **kw):
        super().__init__(name, critical=critical, **kw)
        self.outcome = Outcome(status, None if status == "connected" else f"{name} is {status}")
        self.probes = 0
        self.closed = False

    async def probe(self):
        self.probes += 1
        return self.outcome

    async def aclose(self):
        self.closed = True


class HangingCheck(Check):
    """A dependency that never answers."""

    kind = "static"

    async def probe(self):
        await asyncio.sleep(3600)
        return Outcome("connected")


# ------------------------------------------------------------------ overall status


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "healthy"),
        ([("a", "connected", True), ("b", "connected", False)], "healthy"),
        ([("a", "connected", True), ("b", "degraded", True)], "degraded"),
        ([("a", "connected", True), ("b", "unknown", True)], "degraded"),
        ([("a", "connected", True), ("b", "disconnected", False)], "degraded"),
        ([("a", "disconnected", True), ("b", "connected", False)], "unhealthy"),
        ([("a", "degraded", False), ("b", "disconnected", True)], "unhealthy"),
    ],
)
def test_overall_status_follows_critical(statuses, expected):
    """Critical disconnected: unhealthy; anything else not connected: degraded."""
    checks = [StaticCheck(n, s, critical=c) for n, s, c in statuses]
    runner = HealthRunner(OFF, checks=checks)
    asyncio.run(runner.run_once())
    assert runner.status == expected


def test_status_is_starting_before_the_first_round():
    """Nothing is known before the first results."""
    runner = HealthRunner(OFF, checks=[StaticCheck("a")])
    assert runner.status == "starting"
    assert runner.results()["a"].status == "unknown"
    assert runner.results()["a"].error == "not checked yet"


def test_starting_ends_at_the_grace_period_even_if_a_check_hangs():
    """A hung first probe cannot keep the service starting past startup_grace_seconds."""
    clock = FakeClock()
    settings = HealthSettings(system_metrics=False, startup_grace_seconds=10)
    runner = HealthRunner(
        settings,
        clock=clock,
        checks=[StaticCheck("fast"), HangingCheck("slow", timeout_seconds=3600)],
    )

    async def scenario():
        await runner.start()
        await asyncio.sleep(0.05)
        during = runner.status
        clock.advance(10)
        after = runner.status
        await runner.stop()
        return during, after

    during, after = asyncio.run(scenario())
    assert during == "starting"
    assert after == "degraded"  # "slow" has no result yet: unknown
    assert runner.results()["fast"].status == "connected"


def test_starting_ends_when_every_check_has_a_result():
    """The first complete round ends the starting phase before the grace period."""
    runner = HealthRunner(OFF, clock=FakeClock(), checks=[StaticCheck("a"), StaticCheck("b")])

    async def scenario():
        await runner.start()
        await asyncio.sleep(0.05)
        status = runner.status
        await runner.stop()
        return status

    assert asyncio.run(scenario()) == "healthy"


# ------------------------------------------------------------------ background loop


def test_background_loop_repeats_each_check_on_its_interval_and_stop_closes():
    """Each check runs in its own task at its own interval; stop() cancels and closes."""
    fast = StaticCheck("fast", interval_seconds=0.01)
    slow = StaticCheck("slow", interval_seconds=10)
    runner = HealthRunner(OFF, checks=[fast, slow])

    async def scenario():
        await runner.start()
        await runner.start()  # idempotent
        await asyncio.sleep(0.2)
        await runner.stop()
        probes = (fast.probes, slow.probes)
        await asyncio.sleep(0.05)
        return probes

    fast_probes, slow_probes = asyncio.run(scenario())
    assert fast_probes >= 5
    assert slow_probes == 1
    assert fast.probes == fast_probes  # nothing runs after stop
    assert fast.closed
    assert slow.closed


def test_report_answers_while_a_check_hangs():
    """report() reads the cache: it returns at once while a probe is stuck."""
    runner = HealthRunner(OFF, checks=[HangingCheck("stuck", timeout_seconds=3600)])

    async def scenario():
        await runner.start()
        await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        started = loop.time()
        document = runner.report()
        elapsed = loop.time() - started
        await runner.stop()
        return document, elapsed

    document, elapsed = asyncio.run(scenario())
    assert elapsed < 0.05
    assert document.checks["stuck"].status == "unknown"


# ------------------------------------------------------------------ report


def test_report_document_in_full():
    """The /health document: status, timestamp, every check with its detail."""
    clock = FakeClock("2025-01-02T14:30:00Z")
    seen = LastSeen(heartbeats={"engine": clock.time_ns() - 45_000_000_000})
    settings = HealthSettings(
        system_metrics=False,
        checks=(
            HealthCheckSettings(name="engine", kind="heartbeat", max_age_seconds=30),
            HealthCheckSettings(name="audit", kind="audit", critical=False),
        ),
    )
    runner = HealthRunner(settings, clock=clock, last_seen=lambda: seen, audit_state=lambda: "ok")
    asyncio.run(runner.run_once())
    assert render_health(runner.report()) == {
        "status": "unhealthy",
        "timestamp": "2025-01-02T14:30:00.000000000Z",
        "configured_checks": 2,
        "checks": {
            "engine": {
                "kind": "heartbeat",
                "critical": True,
                "status": "disconnected",
                "latency_seconds": 0.0,
                "age_seconds": 45.0,
                "error": "stale heartbeats (older than 30 s): engine 45.0 s old",
                "last_checked": "2025-01-02T14:30:00.000000000Z",
                "details": {"max_age_seconds": 30.0, "ages_seconds": {"engine": 45.0}},
            },
            "audit": {
                "kind": "audit",
                "critical": False,
                "status": "connected",
                "latency_seconds": 0.0,
                "age_seconds": None,
                "error": None,
                "last_checked": "2025-01-02T14:30:00.000000000Z",
                "details": {"state": "ok"},
            },
        },
    }


def test_report_says_plainly_when_no_check_is_configured():
    """No [[health.checks]]: the report counts 0 and its note says nothing is watched."""
    runner = HealthRunner(OFF, checks=[AuditCheck("audit", lambda: "ok")])
    asyncio.run(runner.run_once())
    report = render_health(runner.report())
    assert report["status"] == "healthy"
    assert report["configured_checks"] == 0
    assert "no [[health.checks]] are configured" in report["note"]
    assert "no broker" in report["note"]
    configured = HealthRunner(
        HealthSettings(
            system_metrics=False,
            checks=(HealthCheckSettings(name="audit2", kind="audit"),),
        ),
        audit_state=lambda: "ok",
    )
    assert "note" not in render_health(configured.report())


def test_report_includes_system_metrics_unless_switched_off():
    """system_metrics=true adds a "system" section, false leaves it out."""
    on = HealthRunner(HealthSettings())
    assert render_health(on.report())["system"] is None  # not sampled yet
    asyncio.run(on.run_once())
    system = render_health(on.report())["system"]
    assert system["memory_total_bytes"] > 0
    assert system["sampled_at"].endswith("Z")
    off = HealthRunner(OFF)
    asyncio.run(off.run_once())
    assert "system" not in render_health(off.report())
    assert off.system_metrics is None


# ------------------------------------------------------------------ configuration


def test_checks_built_from_the_toml_of_the_documentation(tmp_path: Path):
    """Every kind in [[health.checks]] builds its check with the configured options."""
    config = tmp_path / "algowatch.toml"
    config.write_text(
        """
[health]
system_metrics = false

[[health.checks]]
name = "cache"
kind = "redis"                      # broker_http, postgres, redis, market_data, heartbeat, ...
target = "redis://127.0.0.1:6379/0"
timeout_seconds = 1.0
interval_seconds = 5.0
critical = true

[[health.checks]]
name = "db"
kind = "postgres"
target = "postgresql://postgres@127.0.0.1:5432/test"
critical = false

[[health.checks]]
name = "alpaca"
kind = "broker"

[[health.checks]]
name = "quotes"
kind = "market_data"
target = "AAPL,MSFT"
max_age_seconds = 10

[[health.checks]]
name = "engine"
kind = "heartbeat"

[[health.checks]]
name = "orders"
kind = "order_flow"
max_age_seconds = 600
trading_hours = "09:30-16:00"
trading_days = "mon-fri"
timezone = "America/New_York"

[[health.checks]]
name = "ntp"
kind = "clock"
tolerance_seconds = 0.05

[[health.checks]]
name = "audit"
kind = "audit"
""",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})

    async def get_account():
        return {}

    runner = HealthRunner(
        settings.health,
        last_seen=LastSeen,
        audit_state=lambda: "ok",
        brokers={"alpaca": get_account},
    )
    kinds = {c.name: type(c) for c in runner.checks}
    assert kinds == {
        "cache": RedisCheck,
        "db": PostgresCheck,
        "alpaca": BrokerCallableCheck,
        "quotes": MarketDataCheck,
        "engine": HeartbeatCheck,
        "orders": OrderFlowCheck,
        "ntp": ClockSyncCheck,
        "audit": AuditCheck,
    }
    cache, db, _, quotes, engine, orders, *_ = runner.checks
    assert isinstance(quotes, MarketDataCheck)
    assert isinstance(engine, HeartbeatCheck)
    assert isinstance(orders, OrderFlowCheck)
    assert (cache.timeout_seconds, cache.interval_seconds, cache.critical) == (1.0, 5.0, True)
    assert db.critical is False
    assert (quotes.symbols, quotes.max_age_seconds) == (("AAPL", "MSFT"), 10.0)
    assert engine.max_age_seconds == 30.0  # default
    assert orders.max_age_seconds == 600.0
    assert orders.hours.days == frozenset(range(5))


@pytest.mark.parametrize(
    ("entries", "kwargs", "message"),
    [
        (
            [{"name": "db", "kind": "postgres"}],
            {},
            "health.checks[0].target is required for kind 'postgres' (a PostgreSQL DSN), "
            "received None",
        ),
        (
            [{"name": "a", "kind": "clock"}, {"name": "a", "kind": "clock"}],
            {},
            "health.checks[1].name must be unique, received 'a' twice",
        ),
        (
            [{"name": "a", "kind": "clock", "timeout_seconds": 0.0}],
            {},
            "health.checks[0].timeout_seconds must be > 0, received 0.0",
        ),
        (
            [{"name": "ib", "kind": "broker"}],
            {"brokers": {"alpaca": lambda: None}},
            "health.checks[0].target must name a broker callable passed to "
            "HealthRunner(brokers=...), received 'ib'; registered: ['alpaca']",
        ),
        (
            [{"name": "audit", "kind": "audit"}],
            {},
            "health.checks[0] of kind 'audit' needs HealthRunner(audit_state=...), received None",
        ),
        (
            [{"name": "hb", "kind": "heartbeat"}],
            {},
            "health.checks[0] of kind 'heartbeat' needs HealthRunner(last_seen=...), received None",
        ),
    ],
)
def test_configuration_errors_name_the_key(entries, kwargs, message):
    """Invalid entries are rejected at construction, naming the key and the value."""
    settings = HealthSettings(checks=tuple(HealthCheckSettings(**e) for e in entries))
    with pytest.raises(ConfigError) as info:
        HealthRunner(settings, **kwargs)
    assert str(info.value) == message


def test_duplicate_names_between_configured_and_passed_checks_are_rejected():
    """A passed Check may not reuse a configured name."""
    settings = HealthSettings(checks=(HealthCheckSettings(name="ntp", kind="clock"),))
    with pytest.raises(ConfigError, match=r"check names must be unique, received \['ntp'\]"):
        HealthRunner(settings, checks=[StaticCheck("ntp")])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "system_interval_seconds",
            0.0,
            "health.system_interval_seconds must be > 0, received 0.0",
        ),
        (
            "network_connections_interval_seconds",
            -1.0,
            "health.network_connections_interval_seconds must be > 0, received -1.0",
        ),
        ("startup_grace_seconds", -1.0, "health.startup_grace_seconds must be >= 0, received -1.0"),
    ],
)
def test_section_values_are_validated(field, value, message):
    """[health] numbers out of range are rejected, naming the key."""
    with pytest.raises(ConfigError) as info:
        HealthRunner(HealthSettings(**{field: value}))
    assert str(info.value) == message


class SwallowingCheck(Check):
    """A driver that swallows a cancellation (as nested timeouts can on Python 3.11)."""

    kind = "static"

    def __init__(self, name, **kw):
        super().__init__(name, **kw)
        self.probes = 0

    async def probe(self):
        self.probes += 1
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # carries on as if nothing happened
        return Outcome("connected")


@pytest.mark.timeout(20)  # without the fix this hangs; fail fast instead
def test_stop_ends_a_loop_whose_probe_swallowed_the_cancellation():
    """stop() returns and no probe runs afterwards, even if a probe ignored cancel()."""
    check = SwallowingCheck("swallow", interval_seconds=0.0)
    runner = HealthRunner(OFF, checks=[check])

    async def scenario():
        await runner.start()
        await asyncio.sleep(0.02)
        await asyncio.wait_for(runner.stop(), 5)
        after_stop = check.probes
        await asyncio.sleep(0.2)
        return after_stop

    after_stop = asyncio.run(scenario())
    assert check.probes == after_stop
