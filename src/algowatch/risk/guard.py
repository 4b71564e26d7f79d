"""The risk guard's I/O shell: persistence, audit, logs, metrics, stream and hooks.

:class:`RiskGuard` calls the pure :func:`~algowatch.risk.decision.evaluate` and
turns every alert into its effects, in this order:

1. an audit record (``kill_switch`` when ``flatten`` engages or is reset,
   ``decision`` for other level changes, ``limit_change`` when the configured
   limits differ from the persisted ones at start);
2. a ``risk_alert`` log line;
3. the state file, written atomically (temp file, fsync, rename);
4. an ``error`` event on the event stream (``error_type="risk_alert"``,
   ``component="risk_guard"``, the alert in ``extra``) through ``publish``;
5. the user's hooks: Python callables inline, webhooks in order from one worker
   thread (their retries never delay the next evaluation); a failing hook is
   logged and counted, never raised.

The metrics are read from the guard at scrape time by
:class:`algowatch.exporters.RiskCollector`.

State survives a restart through ``risk-state.json`` in the data folder (not
rebuilt from the journal: the latch is an operator decision, not a function of
the events).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog

from algowatch import events as ev
from algowatch.clock import Clock, SystemClock
from algowatch.health import HealthReport
from algowatch.logging import log_kill_switch, log_risk_alert
from algowatch.monitor import TradingFigures
from algowatch.risk.decision import (
    STATE_LIMITS,
    GuardFigures,
    Level,
    RiskAlert,
    RiskInputs,
    RiskState,
    evaluate,
    level_rank,
    reset,
)
from algowatch.risk.hooks import Hook, WebhookHook
from algowatch.settings import RiskSettings

__all__ = ["STATE_FILE", "AuditAppender", "RiskGuard"]

STATE_FILE = "risk-state.json"
_RECENT_ALERTS = 50
_RISK_STATE_KEYS = (
    "portfolio_value",
    "current_drawdown",
    "daily_pnl",
    "gross_exposure",
    "net_exposure",
    "num_positions",
)
_log = structlog.get_logger("algowatch.risk")


class AuditAppender(Protocol):
    """What the guard needs from :class:`algowatch.audit.AuditWriter`."""

    def append(self, kind: str, /, **fields: Any) -> int:
        """Append one record and return its seq."""
        ...


def _limits_dict(settings: RiskSettings) -> dict[str, Any]:
    return {
        "max_drawdown": settings.max_drawdown,
        "daily_loss_limit": settings.daily_loss_limit,
        "max_rejection_rate": settings.max_rejection_rate,
        "min_orders_for_rejection_rate": settings.min_orders_for_rejection_rate,
        "rejection_window_seconds": settings.rejection_window_seconds,
        "heartbeat_timeout_seconds": settings.heartbeat_timeout_seconds,
        "no_trading_timeout_seconds": settings.no_trading_timeout_seconds,
        "warn_fraction": settings.warn_fraction,
        "stop_entries_fraction": settings.stop_entries_fraction,
        "hysteresis": settings.hysteresis,
    }


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _risk_state(t: TradingFigures | None) -> dict[str, float | int | None]:
    # what the audit record keeps of the portfolio (the snapshot's names, null if undefined)
    if t is None:
        return dict.fromkeys(_RISK_STATE_KEYS)

    def defined(value: float) -> float | None:
        return value if math.isfinite(value) else None

    return {
        "portfolio_value": defined(t.portfolio_value),
        "current_drawdown": defined(t.current_drawdown),
        "daily_pnl": defined(t.daily_pnl),
        "gross_exposure": defined(t.gross_exposure),
        "net_exposure": defined(t.net_exposure),
        "num_positions": t.open_positions,
    }


def _default_log(alert: RiskAlert) -> None:
    details = alert.to_dict()
    details.pop("limit")
    severity = "critical" if alert.guard_level == "flatten" else "warning"
    log_risk_alert(alert.limit, severity=severity, **details)


class RiskGuard:
    """Watch the Monitor against the limits and act on every change of level.

    Parameters
    ----------
    settings
        The ``[risk]`` section.
    clock
        Where "now" comes from (the demo passes its simulated clock).
    state_path
        The JSON state file (``<data_dir>/risk-state.json``); ``None`` keeps state in memory.
    audit
        An :class:`~algowatch.audit.AuditWriter` (or anything with its ``append``).
    publish
        Puts an event on the stream (``Client.send`` or a journal-then-apply path).
    hooks
        Python callables given each alert as a dict, called inline; the webhooks of
        ``settings.webhooks`` are posted from a worker thread.
    log
        Writes the ``risk_alert`` log line; by default
        :func:`algowatch.logging.log_risk_alert`, plus a ``kill_switch`` line
        (:func:`algowatch.logging.log_kill_switch`) when the latch engages or is reset.

    Examples
    --------
    >>> import dataclasses
    >>> from algowatch.monitor import Monitor
    >>> from algowatch.testing import FakeClock
    >>> seen = []
    >>> guard = RiskGuard(
    ...     RiskSettings(max_drawdown=0.1), clock=FakeClock(), hooks=[seen.append], log=print
    ... )
    >>> portfolio = Monitor().figures().portfolio
    >>> trading = dataclasses.replace(portfolio.trading, current_drawdown=0.2)
    >>> guard.check(dataclasses.replace(portfolio, trading=trading))[0].level  # doctest: +ELLIPSIS
    RiskAlert(ts_ns=..., limit='max_drawdown', level='flatten', previous='ok', ...)
    'flatten'
    >>> guard.level, seen[0]["limit"]
    ('flatten', 'max_drawdown')
    """

    def __init__(
        self,
        settings: RiskSettings | None = None,
        *,
        clock: Clock | None = None,
        state_path: Path | None = None,
        audit: AuditAppender | None = None,
        publish: Callable[[ev.Event], object] | None = None,
        hooks: Iterable[Hook] = (),
        log: Callable[[RiskAlert], None] | None = None,
    ) -> None:
        self.settings = settings or RiskSettings()
        self.clock = clock or SystemClock()
        self.state_path = state_path
        self.audit = audit
        self.publish = publish
        s = self.settings
        self._webhooks = [
            WebhookHook(
                url,
                attempts=s.webhook_attempts,
                timeout_seconds=s.webhook_timeout_seconds,
                backoff_seconds=s.webhook_backoff_seconds,
            )
            for url in s.webhooks
        ]
        self.hooks: list[Hook] = list(hooks)
        # webhooks retry with backoff for seconds; they are delivered in order from one
        # worker thread so that a slow receiver never delays the next evaluation
        self._webhook_worker = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="algowatch-risk-webhook")
            if self._webhooks
            else None
        )
        self._log = log or _default_log
        self._log_kill_switch = log is None
        self._lock = threading.Lock()
        self.alerts: deque[RiskAlert] = deque(maxlen=_RECENT_ALERTS)
        self.alert_counts: Counter[tuple[str, str]] = Counter()
        self.hook_failures = 0
        self.checks = 0
        self.last_health: HealthReport | None = None
        self.state = RiskState()
        self._load()

    # ------------------------------------------------------------------ state

    @property
    def level(self) -> Level:
        """Return the guard's current level (``ok``, ``warn``, ``stop_entries``, ``flatten``)."""
        return self.state.level

    def allows_entries(self) -> bool:
        """Return whether new positions may be opened (level below ``stop_entries``)."""
        return level_rank(self.state.level) < level_rank("stop_entries")

    def _load(self) -> None:
        if self.state_path is None or not self.state_path.is_file():
            self._record_limits(None)
            self._save()
            return
        data = orjson.loads(self.state_path.read_bytes())
        self.state = RiskState.from_dict(data["state"])
        self.alerts.extend(RiskAlert(**a) for a in data.get("alerts", ()))
        self._record_limits(data.get("configured_limits"))
        _log.info("risk_state_restored", risk_level=self.state.level, latched=self.state.latched)

    def _record_limits(self, previous: Mapping[str, Any] | None) -> None:
        current = _limits_dict(self.settings)
        if previous == current or self.audit is None:
            return
        self.audit.append(
            "limit_change",
            limits_in_force=current,
            previous_limits=previous,
            approved_by="config",
        )

    def _save(self) -> None:
        if self.state_path is None:
            return
        document = {
            "version": 1,
            "state": self.state.to_dict(),
            "alerts": [a.to_dict() for a in self.alerts],
            "configured_limits": _limits_dict(self.settings),
        }
        _write_atomically(self.state_path, orjson.dumps(document))

    # ------------------------------------------------------------------ evaluation

    def check(
        self,
        figures: GuardFigures | None,
        *,
        health: HealthReport | None = None,
        heartbeats: Mapping[str, int] | None = None,
        last_order_ts: int | None = None,
    ) -> list[RiskAlert]:
        """Evaluate the limits now; apply the effects of each alert and return the alerts.

        ``figures`` is the portfolio's (``Monitor.figures().portfolio``), or ``None``
        when only the health report and heartbeats are judged.

        .. versionchanged:: 0.2.0
           Takes the typed figures instead of the snapshot dict.
        """
        if not self.settings.enabled:
            return []
        inputs = RiskInputs(
            now_ns=self.clock.time_ns(),
            figures=figures,
            health=health,
            heartbeats=heartbeats or {},
            last_order_ts=last_order_ts,
        )
        with self._lock:
            previous = self.state
            self.state, alerts = evaluate(previous, inputs, self.settings)
            self.checks += 1
            self.last_health = health
            self._apply(alerts, previous, None if figures is None else figures.trading)
        return alerts

    def check_limits(self, trading: TradingFigures) -> list[RiskAlert]:
        """Evaluate the limits that read only the figures, right after an event is applied.

        The event-driven half of the guard: :data:`~algowatch.risk.STATE_LIMITS`
        (drawdown, daily loss) are judged against the portfolio's ``trading`` figures
        (:meth:`Monitor.trading_figures <algowatch.monitor.Monitor.trading_figures>`,
        cheap to read after every applied group); the time-based limits
        (heartbeat, not trading, broker down, the rejection rate's window) keep their
        status until the next :meth:`check`. Effects as for :meth:`check`; webhooks are
        posted from the worker thread, so the caller waits only for the audit record
        and the state file of a level change. Return the alerts.

        Examples
        --------
        >>> import dataclasses
        >>> from algowatch.monitor import Monitor
        >>> from algowatch.testing import FakeClock
        >>> guard = RiskGuard(RiskSettings(max_drawdown=0.1), clock=FakeClock(), log=print)
        >>> trading = dataclasses.replace(Monitor().trading_figures(), current_drawdown=0.2)
        >>> [a.limit for a in guard.check_limits(trading)]
        ... # doctest: +ELLIPSIS
        RiskAlert(...)
        ['max_drawdown']

        .. versionadded:: 0.2.0
        .. versionchanged:: 0.2.0
           Takes the trading figures alone instead of the portfolio's scope figures.
        """
        if not self.settings.enabled:
            return []
        inputs = RiskInputs(now_ns=self.clock.time_ns(), trading=trading)
        with self._lock:
            previous = self.state
            self.state, alerts = evaluate(previous, inputs, self.settings, only=STATE_LIMITS)
            self.checks += 1
            self._apply(alerts, previous, trading)
        return alerts

    def reset(self, *, by: str, reason: str) -> RiskAlert:
        """Release the ``flatten`` latch (an operator override, audited as ``kill_switch``)."""
        with self._lock:
            previous = self.state
            state, alert = reset(previous, self.clock.time_ns(), by=by, reason=reason)
            if self.audit is not None:  # recorded before the level moves (fail closed)
                self.audit.append(
                    "override",
                    decision_type="kill_switch_reset",
                    decision=alert.message,
                    authorised_by=by,
                    reason=reason,
                    previous_level=previous.level,
                    level=state.level,
                )
            self.state = state
            self._apply([alert], previous, None, audited=True)
        return alert

    def _apply(
        self,
        alerts: Sequence[RiskAlert],
        previous: RiskState,
        trading: TradingFigures | None,
        *,
        audited: bool = False,
    ) -> None:
        # ``self.state`` holds the evaluated state. Its audit records come first: when one
        # is refused the guard stays at ``previous`` and raises (it never acts without its
        # record), so the next evaluation raises the same alerts again.
        previous_level = previous.level
        if not alerts:
            if self.state.level != previous_level:
                self._save()
            return
        if not audited and self.audit is not None:
            try:
                for alert in alerts:
                    self._audit(alert, previous_level, trading)
            except BaseException:
                self.state = previous
                raise
        if self._log_kill_switch and self.state.latched != (previous_level == "flatten"):
            log_kill_switch(
                engaged=self.state.latched,
                reason="; ".join(a.message for a in alerts),
                by="system" if self.state.latched else "operator",
            )
        for alert in alerts:
            self._log(alert)
            self.alerts.append(alert)
            self.alert_counts[(alert.limit, alert.level)] += 1
        self._save()
        for alert in alerts:
            self._publish(alert)
            self._call_hooks(alert)

    def _audit(
        self, alert: RiskAlert, previous_level: Level, trading: TradingFigures | None
    ) -> None:
        assert self.audit is not None
        engaged = alert.guard_level == "flatten" and previous_level != "flatten"
        self.audit.append(
            "kill_switch" if engaged else "decision",
            decision_type="risk_level",
            decision=alert.message,
            approved_by="system",
            limit=alert.limit,
            level=alert.level,
            previous_level=alert.previous,
            guard_level=alert.guard_level,
            observed=alert.value,
            threshold=alert.threshold,
            limits_in_force=_limits_dict(self.settings),
            risk_state=_risk_state(trading),
        )

    def _publish(self, alert: RiskAlert) -> None:
        if self.publish is None:
            return
        event = ev.Error(
            ts=alert.ts_ns,
            error_type="risk_alert",
            component="risk_guard",
            message=alert.message,
            extra={"risk": alert.to_dict()},
        )
        try:
            self.publish(event)
        except (
            Exception
        ) as exc:  # the alert is already audited and logged; the stream is best effort
            _log.error("risk_publish_failed", error=repr(exc))

    def _call_hooks(self, alert: RiskAlert) -> None:
        payload = alert.to_dict()
        for hook in self.hooks:
            self._call_hook(hook, payload)
        if self._webhook_worker is not None:
            for webhook in self._webhooks:
                self._webhook_worker.submit(self._call_hook, webhook, payload)

    def _call_hook(self, hook: Hook, payload: Mapping[str, Any]) -> None:
        try:
            hook(payload)
        except Exception as exc:  # a user's hook must not stop the guard; logged and counted
            self.hook_failures += 1
            _log.error("risk_hook_failed", hook=repr(hook), error=repr(exc))

    def report(self) -> dict[str, Any]:
        """Return the guard's part of the JSON document served at ``GET /api/v1/risk``.

        The route adds ``health``, the health report the last evaluation judged
        (:attr:`last_health`, ``null`` when the guard is not given one), so a dashboard
        reads both with one 200 response.

        .. versionchanged:: 0.2.0
           ``health`` is added by the route, rendered from the typed :attr:`last_health`.
        """
        with self._lock:
            state = self.state
            return {
                "enabled": self.settings.enabled,
                "level": state.level,
                "latched": state.latched,
                "allows_entries": self.allows_entries(),
                "since": None if state.since_ns is None else ev.format_timestamp(state.since_ns),
                "limits": {name: st.to_dict() for name, st in state.limits.items()},
                "configured_limits": _limits_dict(self.settings),
                "alerts": [
                    {**a.to_dict(), "ts": ev.format_timestamp(a.ts_ns)}
                    for a in reversed(self.alerts)
                ],
                "alerts_total": sum(self.alert_counts.values()),
                "hook_failures": self.hook_failures,
                "checks": self.checks,
            }

    def close(self) -> None:
        """Deliver the webhooks still queued, then close their clients."""
        if self._webhook_worker is not None:
            self._webhook_worker.shutdown(wait=True)
        for hook in self._webhooks:
            hook.close()
