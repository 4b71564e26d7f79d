"""Real Prometheus and Alertmanager page on drawdown breaches of a running algowatch, then resolve.

The configuration is what ``algowatch config render`` writes from the default settings, as
shipped: only the scrape targets and the receivers (one critical webhook, the dead man's
switch, the guard's own webhook) point at this process, and Prometheus gets the flags of the
rendered compose file. The stack and the measurement are those of ``bench/alerting.py``
(imported from there), which prints the same figures as p50/p99.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
        reason="needs the Debian prometheus and prometheus-alertmanager packages "
        "(scripts/bootstrap --system)",
    ),
]

ALERT = "MaxDrawdownExceeded"


def _bench() -> Any:
    # the stack harness lives with the benchmark that prints the same figures
    spec = importlib.util.spec_from_file_location(
        "bench_alerting", Path(__file__).resolve().parents[2] / "bench" / "alerting.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_rendered_defaults_page_in_seconds_over_ten_random_breaches(tmp_path: Path) -> None:
    """Over 10 breaches (20 % drawdown, limit 15 %) at random points of the scrape, evaluation
    and grouping cycles: the guard's webhook within 100 ms of the acknowledgement, Alertmanager's
    page within 5 s, the resolved notification within 15 s of the recovery; the first Watchdog
    well within the documented start-up grace (90 s)."""
    bench = _bench()
    with bench.running_stack(tmp_path) as stack:
        latencies = bench.measure(stack, 10)
        watchdog = bench.first_watchdog(stack)
        # the first page that carries the breach (another alert may reach the hook first)
        payload = next(
            p
            for _at, path, p in stack.hook.posts
            if path == "/am" and any(a["labels"]["alertname"] == ALERT for a in p["alerts"])
        )

        # the meta alerts' metrics exist in the real self-scrapes, and no *_created series
        def names() -> set[str]:
            response = httpx.get(f"{stack.prom_url}/api/v1/label/__name__/values", timeout=2)
            return set(response.json()["data"])

        meta = {
            "prometheus_rule_evaluation_failures_total",
            "alertmanager_notifications_failed_total",
        }
        present = stack.wait("the self-scrapes", lambda: meta <= (seen := names()) and seen, 60)
    for name, values in latencies.items():
        print(f"\n{name} (s): " + " ".join(f"{v:.3f}" for v in sorted(values)))
    print(f"first Watchdog {watchdog:.1f} s after Prometheus started")
    assert len(latencies["page"]) == 10
    # the guard's path is milliseconds of fsync and loopback HTTP: on a shared 2-core machine
    # one sample of ten may be delayed by other work, so the goal holds for nine of ten
    assert sorted(latencies["guard"])[8] <= 0.1
    assert max(latencies["guard"]) <= 0.5
    assert max(latencies["page"]) <= 5.0
    assert max(latencies["resolved"]) <= 15.0
    assert watchdog < 90.0
    alert = next(a for a in payload["alerts"] if a["labels"]["alertname"] == ALERT)
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["limit"] == "max_drawdown"
    assert "[risk] max_drawdown of 15%" in alert["annotations"]["description"]
    # ... and the drawdown the engine reports (read by the template's query)
    now = re.search(r"\(now (\d+(?:\.\d+)?)%\)", alert["annotations"]["description"])
    assert now is not None, alert["annotations"]["description"]
    assert float(now.group(1)) >= 15.0
    assert not [n for n in present if n.startswith("trading_") and n.endswith("_created")]
