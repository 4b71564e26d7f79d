"""Health metrics: the exporter's HealthCollector over a real runner, and SystemCollector."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from algowatch.exporters import HealthCollector, SystemCollector
from algowatch.exporters._naming import naming_problems
from algowatch.health import (
    AuditCheck,
    BrokerCallableCheck,
    HealthRunner,
    HeartbeatCheck,
)
from algowatch.monitor import LastSeen
from algowatch.settings import HealthCheckSettings, HealthSettings
from algowatch.testing import FakeClock


def scrape(registry):
    """Parse the exposition, as Prometheus would read it."""
    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family):
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


def make_runner(system=False):
    clock = FakeClock()
    seen = LastSeen(heartbeats={"engine": clock.time_ns() - 12_000_000_000})

    async def down():
        raise ConnectionError("refused")

    checks = [
        BrokerCallableCheck("alpaca", down),
        BrokerCallableCheck("ib", lambda: "degraded"),
        AuditCheck("audit", lambda: "ok", critical=False),
        HeartbeatCheck("engine", lambda: seen, clock),
    ]
    return HealthRunner(HealthSettings(system_metrics=system), clock=clock, checks=checks)


def test_broker_and_dependency_up_follow_the_pg_up_convention():
    """1 when connected or degraded, 0 when disconnected (PROMETHEUS.md A6)."""
    runner = make_runner()
    registry = CollectorRegistry()
    registry.register(HealthCollector(runner.report))
    asyncio.run(runner.run_once())
    families = scrape(registry)
    assert samples(families["trading_broker_up"]) == {
        (("broker", "alpaca"),): 0.0,
        (("broker", "ib"),): 1.0,
    }
    assert samples(families["algowatch_health_check_up"]) == {
        (("check", "alpaca"), ("kind", "broker")): 0.0,
        (("check", "ib"), ("kind", "broker")): 1.0,
        (("check", "audit"), ("kind", "audit")): 1.0,
        (("check", "engine"), ("kind", "heartbeat")): 1.0,
    }
    assert samples(families["algowatch_health_check_observation_age_seconds"]) == {
        (("check", "engine"), ("kind", "heartbeat")): 12.0,
    }
    assert len(families["algowatch_health_check_duration_seconds"].samples) == 4
    status = samples(families["algowatch_health_check_status"])
    assert status[(("check", "ib"), ("kind", "broker"), ("status", "degraded"))] == 1.0
    assert status[(("check", "ib"), ("kind", "broker"), ("status", "connected"))] == 0.0
    assert sum(status.values()) == 4.0  # one current status per check
    assert samples(families["algowatch_health_status"]) == {
        (("status", "starting"),): 0.0,
        (("status", "healthy"),): 0.0,
        (("status", "degraded"),): 0.0,
        (("status", "unhealthy"),): 1.0,
    }


def test_before_the_first_round_checks_are_down_and_status_starting():
    """Unknown (not checked yet) counts as not up; no latency sample yet."""
    runner = make_runner()
    registry = CollectorRegistry()
    registry.register(HealthCollector(runner.report))
    assert registry.get_sample_value("trading_broker_up", {"broker": "ib"}) == 0.0
    assert registry.get_sample_value("algowatch_health_status", {"status": "starting"}) == 1.0
    families = scrape(registry)
    assert families["algowatch_health_check_duration_seconds"].samples == []


def test_a_broker_heartbeat_check_has_a_broker_up_sample_from_the_first_scrape():
    """kind broker_heartbeat (the demo's broker check) counts as a broker: a sample before
    its first probe (unknown, 0), 1 while the broker's heartbeats are fresh, 0 when stale."""
    clock = FakeClock()
    seen = {"now": LastSeen(heartbeats={"broker": clock.time_ns() - 5_000_000_000})}
    settings = HealthSettings(
        system_metrics=False,
        checks=(HealthCheckSettings(name="broker", kind="broker_heartbeat", max_age_seconds=20),),
    )
    seen_nothing = {"now": LastSeen()}
    before = HealthRunner(settings, clock=clock, last_seen=lambda: seen_nothing["now"])
    asyncio.run(before.run_once())
    assert before.report().checks["broker"].status == "unknown"  # not seen: not down
    runner = HealthRunner(settings, clock=clock, last_seen=lambda: seen["now"])
    registry = CollectorRegistry()
    registry.register(HealthCollector(runner.report))
    assert registry.get_sample_value("trading_broker_up", {"broker": "broker"}) == 0.0
    asyncio.run(runner.run_once())
    assert registry.get_sample_value("trading_broker_up", {"broker": "broker"}) == 1.0
    clock.advance(30.0)
    asyncio.run(runner.run_once())
    assert registry.get_sample_value("trading_broker_up", {"broker": "broker"}) == 0.0
    assert runner.report().checks["broker"].kind == "broker_heartbeat"


def test_system_metrics_exported_in_base_units_and_switchable_off():
    """system_metrics=true exports algowatch_system_*; false exports none of them."""
    runner = make_runner(system=True)
    registry = CollectorRegistry()
    registry.register(SystemCollector(runner))
    assert scrape(registry) == {}  # nothing sampled yet
    asyncio.run(runner.run_once())
    system = runner.system_metrics
    assert system is not None
    get = registry.get_sample_value
    assert get("algowatch_system_memory_total_bytes") == system.memory_total_bytes
    assert get("algowatch_system_disk_total_bytes", {"path": "/"}) == system.disk_total_bytes
    assert get("algowatch_system_network_sent_bytes_total") == system.network_sent_bytes
    assert get("algowatch_process_threads") == system.process_threads
    memory_ratio = get("algowatch_system_memory_usage_ratio")
    assert memory_ratio is not None
    assert 0.0 <= memory_ratio <= 1.0
    names = set(scrape(registry))
    assert not {n for n in names if n.startswith("process_")}  # left to the built-in collector

    off = make_runner(system=False)
    registry_off = CollectorRegistry()
    registry_off.register(SystemCollector(off))
    asyncio.run(off.run_once())
    assert scrape(registry_off) == {}


def test_every_metric_name_follows_the_naming_rules():
    """Walk the exposition and apply the project's naming checker to every family."""
    runner = make_runner(system=True)
    registry = CollectorRegistry()
    collectors = [HealthCollector(runner.report), SystemCollector(runner)]
    for collector in collectors:
        registry.register(collector)
    asyncio.run(runner.run_once())
    families = scrape(registry)
    assert len(families) == 26
    for name, family in families.items():
        exposed = f"{name}_total" if family.type == "counter" else name
        assert naming_problems(exposed, family.type) == [], name
        assert family.documentation
    described = {m.name for c in collectors for m in c.describe()}
    assert described == set(families)
