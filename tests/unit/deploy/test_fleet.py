"""The rendered Prometheus configuration and rules for a fleet of replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from algowatch.deploy import alert_rules, prometheus_config
from algowatch.errors import ConfigError
from algowatch.settings import AlertSettings, ReplicaSettings

REPO = Path(__file__).resolve().parents[3]
FLEET = AlertSettings(
    replicas=(
        ReplicaSettings(target="monitor-a:8000", name="a"),
        ReplicaSettings(target="monitor-b:8000", shard="acct-1"),
    )
)


def test_without_replicas_the_configuration_is_the_single_target() -> None:
    config = prometheus_config(AlertSettings(target="trading:8000"))
    assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["trading:8000"]}]
    assert "alert_relabel_configs" not in config["alerting"]
    groups = [g["name"] for g in alert_rules(AlertSettings())["groups"]]
    assert "algowatch-fleet" not in groups


def test_every_replica_is_scraped_with_its_replica_and_shard_labels() -> None:
    job = prometheus_config(FLEET)["scrape_configs"][0]
    assert job["job_name"] == "trading-engine"
    assert job["static_configs"] == [
        {"targets": ["monitor-a:8000"], "labels": {"replica": "a", "shard": "all"}},
        {"targets": ["monitor-b:8000"], "labels": {"replica": "monitor-b", "shard": "acct-1"}},
    ]


def test_alerts_lose_the_labels_that_tell_replicas_apart() -> None:
    alerting = prometheus_config(FLEET)["alerting"]
    assert alerting["alert_relabel_configs"] == [
        {"action": "labeldrop", "regex": "replica|instance"}
    ]
    assert alerting["alertmanagers"]


def test_the_fleet_rules_alert_on_lag_with_a_runbook_each() -> None:
    settings = AlertSettings(replicas=FLEET.replicas, nats_lag_events=500, nats_lag_for_seconds=30)
    (fleet,) = [g for g in alert_rules(settings)["groups"] if g["name"] == "algowatch-fleet"]
    lagging = fleet["rules"][0]
    assert lagging["alert"] == "NatsConsumerLagging"
    assert lagging["expr"] == 'algowatch_nats_consumer_lag_events{job="trading-engine"} > 500'
    assert lagging["for"] == "30s"
    runbooks = (REPO / "docs" / "runbooks.md").read_text(encoding="utf-8")
    for rule in fleet["rules"]:
        assert f"## {rule['alert']}\n" in runbooks


def test_two_replicas_with_one_name_are_refused() -> None:
    with pytest.raises(ConfigError, match="share the name a"):
        AlertSettings(
            replicas=(
                ReplicaSettings(target="a:8000"),
                ReplicaSettings(target="b:8000", name="a"),
            )
        )
