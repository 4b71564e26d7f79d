"""The health runner: runs every check in the background and serves cached results."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from algowatch.clock import Clock, SystemClock
from algowatch.errors import ConfigError
from algowatch.health._base import Check, CheckResult, Outcome, _describe
from algowatch.health._report import HealthReport, HealthStatus
from algowatch.health.clock_sync import ClockSyncCheck
from algowatch.health.connections import (
    AuditCheck,
    BrokerCallableCheck,
    BrokerHttpCheck,
    PostgresCheck,
    RedisCheck,
)
from algowatch.health.freshness import (
    BrokerHeartbeatCheck,
    HeartbeatCheck,
    LastSeenLike,
    MarketDataCheck,
    OrderFlowCheck,
    TradingHours,
)
from algowatch.health.system import SystemMetrics, SystemSampler
from algowatch.settings import HealthCheckSettings, HealthSettings

__all__ = ["HealthRunner", "HealthStatus", "build_checks"]

_NS = 1_000_000_000
_STOP_TIMEOUT_SECONDS = 2.0
_DEFAULT_MAX_AGE = {
    "market_data": 30.0,
    "heartbeat": 30.0,
    "broker_heartbeat": 30.0,
    "order_flow": 900.0,
}
_log = logging.getLogger("algowatch.health")
_NO_CHECKS_NOTE = (
    "no [[health.checks]] are configured: no broker, market data or heartbeat is watched, "
    "so this status covers only the service itself"
)


def _require(value: Any, key: str, kind: str, what: str) -> Any:
    if value is None:
        msg = f"{key}.target is required for kind {kind!r} ({what}), received None"
        raise ConfigError(msg)
    return value


def _provider(value: Any, key: str, kind: str, parameter: str) -> Any:
    if value is None:
        msg = f"{key} of kind {kind!r} needs HealthRunner({parameter}=...), received None"
        raise ConfigError(msg)
    return value


def build_checks(
    settings: HealthSettings,
    *,
    clock: Clock,
    last_seen: Callable[[], LastSeenLike] | None = None,
    audit_state: Callable[[], str] | None = None,
    brokers: Mapping[str, Callable[[], Any]] | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> list[Check]:
    """Build the checks configured in ``[[health.checks]]``.

    Raises
    ------
    ConfigError
        If an entry is invalid or needs a provider that was not given; the message
        names the key (``health.checks[0].target``).
    MissingDependencyError
        If a ``postgres`` or ``redis`` check lacks its extra.

    Examples
    --------
    >>> from algowatch.clock import SystemClock
    >>> from algowatch.settings import HealthCheckSettings
    >>> entry = HealthCheckSettings(name="db", kind="postgres")
    >>> build_checks(HealthSettings(checks=(entry,)), clock=SystemClock())
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: health.checks[0].target is required for kind 'postgres' \
(a PostgreSQL DSN), received None
    """
    for field in ("system_interval_seconds", "network_connections_interval_seconds"):
        value = getattr(settings, field)
        if not value > 0:
            msg = f"health.{field} must be > 0, received {value!r}"
            raise ConfigError(msg)
    grace = settings.startup_grace_seconds
    if not grace >= 0:
        msg = f"health.startup_grace_seconds must be >= 0, received {grace!r}"
        raise ConfigError(msg)
    checks: list[Check] = []
    seen: set[str] = set()
    for index, entry in enumerate(settings.checks):
        key = f"health.checks[{index}]"
        if entry.name in seen:
            msg = f"{key}.name must be unique, received {entry.name!r} twice"
            raise ConfigError(msg)
        seen.add(entry.name)
        for field in ("timeout_seconds", "interval_seconds"):
            value = getattr(entry, field)
            if not value > 0:
                msg = f"{key}.{field} must be > 0, received {value!r}"
                raise ConfigError(msg)
        checks.append(
            _build_one(
                entry,
                key,
                clock=clock,
                last_seen=last_seen,
                audit_state=audit_state,
                brokers=brokers or {},
                http_transport=http_transport,
            )
        )
    return checks


def _build_one(  # noqa: PLR0911 - one return per kind of check
    entry: HealthCheckSettings,
    key: str,
    *,
    clock: Clock,
    last_seen: Callable[[], LastSeenLike] | None,
    audit_state: Callable[[], str] | None,
    brokers: Mapping[str, Callable[[], Any]],
    http_transport: httpx.AsyncBaseTransport | None,
) -> Check:
    options: dict[str, Any] = {
        "timeout_seconds": entry.timeout_seconds,
        "interval_seconds": entry.interval_seconds,
        "critical": entry.critical,
    }
    kind = entry.kind
    if kind == "broker_http":
        url = _require(entry.target, key, kind, "the broker URL to GET")
        return BrokerHttpCheck(entry.name, url, transport=http_transport, **options)
    if kind == "broker":
        broker = entry.target or entry.name
        if broker not in brokers:
            msg = (
                f"{key}.target must name a broker callable passed to HealthRunner(brokers=...), "
                f"received {broker!r}; registered: {sorted(brokers)!r}"
            )
            raise ConfigError(msg)
        return BrokerCallableCheck(entry.name, brokers[broker], **options)
    if kind == "postgres":
        dsn = _require(entry.target, key, kind, "a PostgreSQL DSN")
        return PostgresCheck(entry.name, dsn, **options)
    if kind == "redis":
        url = _require(entry.target, key, kind, "a Redis URL")
        return RedisCheck(entry.name, url, **options)
    if kind == "clock":
        return ClockSyncCheck(entry.name, tolerance_seconds=entry.tolerance_seconds, **options)
    if kind == "audit":
        state = _provider(audit_state, key, kind, "audit_state")
        return AuditCheck(entry.name, state, **options)
    provider = _provider(last_seen, key, kind, "last_seen")
    max_age = entry.max_age_seconds or _DEFAULT_MAX_AGE[kind]
    if kind == "market_data":
        return MarketDataCheck(
            entry.name, provider, clock, max_age_seconds=max_age, symbols=entry.target, **options
        )
    if kind == "broker_heartbeat":
        return BrokerHeartbeatCheck(
            entry.name,
            provider,
            clock,
            max_age_seconds=max_age,
            components=entry.target or entry.name,
            **options,
        )
    if kind == "heartbeat":
        return HeartbeatCheck(
            entry.name,
            provider,
            clock,
            max_age_seconds=max_age,
            components=entry.target,
            **options,
        )
    hours = TradingHours(entry.trading_hours, entry.trading_days, entry.timezone, field=key)
    return OrderFlowCheck(
        entry.name, provider, clock, max_age_seconds=max_age, hours=hours, **options
    )


class HealthRunner:
    """Run health checks concurrently in the background and serve their cached results.

    Each check runs in its own task every ``interval_seconds``, bounded by its
    ``timeout_seconds``; :meth:`report` and :attr:`status` only read the cache, so a
    request never waits on a dependency. System metrics are sampled in a worker
    thread every ``system_interval_seconds`` unless ``system_metrics`` is off.

    Overall status: ``unhealthy`` when a critical check is ``disconnected``;
    ``degraded`` when any check is not ``connected`` (a non-critical failure, a
    ``degraded`` or an ``unknown`` check); else ``healthy``. ``starting`` until every
    check has a first result or ``startup_grace_seconds`` have passed since
    :meth:`start` (checks still without a result then count as ``unknown``).

    Parameters
    ----------
    settings
        The ``[health]`` section.
    clock
        Time source for ages and timestamps (:class:`~algowatch.clock.SystemClock`).
    last_seen
        ``Monitor.last_seen``, for ``market_data``, ``heartbeat`` and ``order_flow``.
    audit_state
        Returns the audit writer's state, for ``audit`` checks.
    brokers
        Named callables for ``broker`` checks (``{"alpaca": client.get_account}``).
    checks
        Extra :class:`~algowatch.health.Check` objects, run with the configured ones.
    http_transport
        The httpx transport of ``broker_http`` checks (tests, custom TLS).

    Examples
    --------
    >>> import asyncio
    >>> from algowatch.health import AuditCheck
    >>> async def main() -> tuple[str, str]:
    ...     runner = HealthRunner(
    ...         HealthSettings(system_metrics=False), checks=[AuditCheck("audit", lambda: "ok")]
    ...     )
    ...     before = runner.status
    ...     await runner.run_once()
    ...     return before, runner.status
    >>> asyncio.run(main())
    ('starting', 'healthy')

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        settings: HealthSettings | None = None,
        *,
        clock: Clock | None = None,
        last_seen: Callable[[], LastSeenLike] | None = None,
        audit_state: Callable[[], str] | None = None,
        brokers: Mapping[str, Callable[[], Any]] | None = None,
        checks: Sequence[Check] = (),
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or HealthSettings()
        self.clock: Clock = clock or SystemClock()
        self.checks: list[Check] = build_checks(
            self.settings,
            clock=self.clock,
            last_seen=last_seen,
            audit_state=audit_state,
            brokers=brokers,
            http_transport=http_transport,
        )
        self.checks.extend(checks)
        names = [c.name for c in self.checks]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"check names must be unique, received {duplicates!r} more than once"
            raise ConfigError(msg)
        self._results: dict[str, CheckResult] = {}
        self._system: SystemMetrics | None = None
        self._sampler: SystemSampler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started_mono: int | None = None
        self._first_round_done = False
        self._stopping = False

    # ------------------------------------------------------------------ running

    async def _run_check(self, check: Check) -> CheckResult:
        start = self.clock.monotonic_ns()
        deadline = asyncio.timeout(check.timeout_seconds)
        try:
            async with deadline:
                outcome = await check.probe()
        except TimeoutError as exc:
            error = (
                f"no answer within the timeout of {check.timeout_seconds:g} s"
                if deadline.expired()
                else _describe(exc)
            )
            outcome = Outcome("disconnected", error=error)
        except Exception as exc:  # any failure of a probe is its result
            outcome = Outcome("disconnected", error=_describe(exc))
        latency = (self.clock.monotonic_ns() - start) / _NS
        result = CheckResult(
            name=check.name,
            kind=check.kind,
            critical=check.critical,
            status=outcome.status,
            latency_seconds=latency,
            ts_checked=self.clock.time_ns(),
            error=outcome.error,
            age_seconds=outcome.age_seconds,
            details=outcome.details,
        )
        previous = self._results.get(check.name)
        self._results[check.name] = result
        if previous is None or previous.status != result.status:
            _log.info(
                "health check %r (%s) is %s, was %s: %s",
                check.name,
                check.kind,
                result.status,
                None if previous is None else previous.status,
                result.error,
            )
        if not self._first_round_done and len(self._results) >= len(self.checks):
            self._first_round_done = True
        return result

    async def run_once(self) -> dict[str, CheckResult]:
        """Run every check once, concurrently, and return the new results by name."""
        results = await asyncio.gather(*(self._run_check(c) for c in self.checks))
        if self.settings.system_metrics:
            await self._sample_system()
        self._first_round_done = True
        return {r.name: r for r in results}

    async def _sample_system(self) -> None:
        if self._sampler is None:
            self._sampler = await asyncio.to_thread(
                SystemSampler,
                self.clock,
                disk_path=self.settings.disk_path,
                network_connections_interval_seconds=(
                    self.settings.network_connections_interval_seconds
                ),
            )
        self._system = await asyncio.to_thread(self._sampler.sample)

    async def _check_loop(self, check: Check) -> None:
        # The flag, not only cancellation, ends the loop: on Python 3.11 a cancellation that
        # arrives while a driver's own nested timeout expires can be swallowed (seen with
        # redis.asyncio), and the loop must still stop.
        while not self._stopping:
            started = self.clock.monotonic_ns()
            await self._run_check(check)
            elapsed = (self.clock.monotonic_ns() - started) / _NS
            await asyncio.sleep(max(0.0, check.interval_seconds - elapsed))

    async def _system_loop(self) -> None:
        while not self._stopping:
            try:
                await self._sample_system()
            except Exception as exc:  # keep sampling; the failure is logged
                _log.warning("system metrics sampling failed: %s", _describe(exc))
            await asyncio.sleep(self.settings.system_interval_seconds)

    async def start(self) -> None:
        """Start the background tasks (one per check, one for system metrics)."""
        if self._tasks:
            return
        self._stopping = False
        self._started_mono = self.clock.monotonic_ns()
        if not self.checks:
            self._first_round_done = True
        for check in self.checks:
            task = asyncio.create_task(self._check_loop(check), name=f"health:{check.name}")
            self._tasks.append(task)
        if self.settings.system_metrics:
            self._tasks.append(asyncio.create_task(self._system_loop(), name="health:system"))

    async def stop(self) -> None:
        """Cancel the background tasks and close the checks' clients."""
        self._stopping = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            # a probe stuck in code that ignores cancellation must not hang shutdown
            _, pending = await asyncio.wait(tasks, timeout=_STOP_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
                _log.warning(
                    "health task %s did not stop within %g s: %s",
                    task.get_name(),
                    _STOP_TIMEOUT_SECONDS,
                    task.get_stack(limit=3),
                )
        for check in self.checks:
            try:
                await check.aclose()
            except Exception as exc:  # closing must go on for the others
                _log.warning("closing health check %r failed: %s", check.name, _describe(exc))

    # ------------------------------------------------------------------ reading

    def results(self) -> dict[str, CheckResult]:
        """Return the latest result of every check (``unknown`` before its first run)."""
        out: dict[str, CheckResult] = {}
        for check in self.checks:
            result = self._results.get(check.name)
            if result is None:
                result = CheckResult(
                    name=check.name,
                    kind=check.kind,
                    critical=check.critical,
                    status="unknown",
                    latency_seconds=None,
                    ts_checked=None,
                    error="not checked yet",
                )
            out[check.name] = result
        return out

    @property
    def system_metrics(self) -> SystemMetrics | None:
        """Return the latest system sample (None before the first or when switched off)."""
        return self._system

    @property
    def starting(self) -> bool:
        """Return True until the first round completed or the startup grace passed."""
        if self._first_round_done:
            return False
        if self._started_mono is None:
            return True
        grace_ns = self.settings.startup_grace_seconds * _NS
        return self.clock.monotonic_ns() - self._started_mono < grace_ns

    @property
    def status(self) -> HealthStatus:
        """Return the overall status from the cached results."""
        if self.starting:
            return "starting"
        overall: HealthStatus = "healthy"
        for result in self.results().values():
            if result.status == "disconnected" and result.critical:
                return "unhealthy"
            if result.status != "connected":
                overall = "degraded"
        return overall

    @property
    def ready(self) -> bool:
        """Return whether the service should receive traffic.

        Not while ``starting`` or ``unhealthy``, nor while a check that gates readiness
        (:class:`~algowatch.health.JournalCheck`) is not up.

        .. versionadded:: 0.2.0
        """
        if self.status in ("starting", "unhealthy"):
            return False
        results = self.results()
        return all(c.admits(results[c.name]) for c in self.checks if c.gates_readiness)

    def report(self) -> HealthReport:
        """Return the health report (cached results, never waits on a dependency).

        ``configured_checks`` counts the ``[[health.checks]]`` entries; with none, a
        ``note`` says plainly that no broker, market data or heartbeat is watched (the
        status then covers only the checks the service adds itself, such as the journal).
        ``/health`` serves it as JSON.

        .. versionchanged:: 0.2.0
           Returns a typed :class:`~algowatch.health.HealthReport` instead of the JSON dict.
        """
        system_metrics = self.settings.system_metrics
        return HealthReport(
            status=self.status,
            ts=self.clock.time_ns(),
            configured_checks=len(self.settings.checks),
            checks=self.results(),
            note=None if self.settings.checks else _NO_CHECKS_NOTE,
            system_metrics=system_metrics,
            system=self._system if system_metrics else None,
        )
