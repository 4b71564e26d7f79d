"""The risk guard's decision core: pure, synchronous, no I/O and no clock reads.

:func:`evaluate` takes the previous :class:`RiskState`, what the guard can see
now (:class:`RiskInputs`: the portfolio's typed figures from
:meth:`Monitor.figures <algowatch.monitor.Monitor.figures>`, the health report, the
last heartbeat and order times, and the time) and the limits, and returns the next
state plus the :class:`RiskAlert` list of level changes. The I/O shell
(:class:`~algowatch.risk.guard.RiskGuard`) turns alerts into effects.

Levels, in order: ``ok`` < ``warn`` < ``stop_entries`` < ``flatten``.

=====================  ==================================================  =====================
limit                  observed value                                      levels reached
=====================  ==================================================  =====================
``max_drawdown``       ``trading.current_drawdown`` (fraction of the HWM)  warn, stop, flatten
``daily_loss``         ``-trading.daily_pnl`` (currency)                   warn, stop, flatten
``rejection_rate``     rejected / submitted over ``rejection_window``      warn, stop_entries
``broker_down``        a broker health check (kind ``broker*``) down, or   stop_entries
                       broker heartbeats older than ``heartbeat_timeout``
``heartbeat``          engine heartbeat older than ``heartbeat_timeout``   flatten
``not_trading``        engine alive, no order for ``no_trading_timeout``   warn
=====================  ==================================================  =====================

Numeric limits warn at ``warn_fraction`` of the limit, stop entries at
``stop_entries_fraction`` and flatten at the limit itself. Hysteresis: a level
is left only when the value falls below ``(1 - hysteresis)`` times the
threshold that raised it, and an undefined value (NaN) keeps the level, except for
the rejection rate: with fewer than ``min_orders_for_rejection_rate`` orders in its
window the rate is unknown, which is ``ok`` (not breached). A condition (broker
down, no heartbeat, not trading) clears only after it has been false for
``recovery_seconds``. ``flatten``
*latches*: the guard stays at ``flatten`` until an operator resets it.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from algowatch.health import HealthReport
from algowatch.monitor import ExecutionFigures, TradingFigures
from algowatch.settings import RiskSettings

__all__ = [
    "LEVELS",
    "LIMITS",
    "STATE_LIMITS",
    "GuardFigures",
    "Level",
    "LimitStatus",
    "RiskAlert",
    "RiskInputs",
    "RiskState",
    "evaluate",
    "level_rank",
    "reset",
]

Level = Literal["ok", "warn", "stop_entries", "flatten"]
LEVELS: Final[tuple[Level, ...]] = ("ok", "warn", "stop_entries", "flatten")
LIMITS: Final[tuple[str, ...]] = (
    "max_drawdown",
    "daily_loss",
    "rejection_rate",
    "broker_down",
    "heartbeat",
    "not_trading",
)
#: The limits that change only when an event is applied (the figures they read), so they
#: are evaluated after each applied group; the others depend on the passing of time too
#: (heartbeats, not trading, broker down, the rejection rate's sliding window).
STATE_LIMITS: Final[tuple[str, ...]] = ("max_drawdown", "daily_loss")
_NS: Final = 1_000_000_000
# a value equal to a threshold reaches it, whatever the float rounding of fraction x limit
_TOLERANCE: Final = 1.0 - 1e-12


def level_rank(level: str) -> int:
    """Return the position of ``level`` in :data:`LEVELS` (``ok`` is 0).

    Examples
    --------
    >>> level_rank("stop_entries")
    2
    """
    return LEVELS.index(level)  # type: ignore[arg-type,unused-ignore]


class GuardFigures(Protocol):
    """The portfolio's figures the guard reads: ``Monitor.figures().portfolio`` has them.

    Any object with these two attributes will do, e.g. one built from
    ``Monitor.trading_figures()`` and ``Monitor.execution_figures()``, which skip the
    figures the guard never reads (signal windows, other scopes).

    .. versionadded:: 0.2.0
    """

    @property
    def trading(self) -> TradingFigures:
        """The trading figures (drawdown, daily P&L, exposures)."""
        ...

    @property
    def execution(self) -> ExecutionFigures:
        """The execution figures (orders submitted and rejected)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskInputs:
    """What the guard sees at one evaluation.

    Attributes
    ----------
    now_ns
        The time of the evaluation (UNIX ns) from the injected clock.
    figures
        The portfolio's figures (``Monitor.figures().portfolio``: ``trading`` and
        ``execution`` are read), or ``None`` when there is no engine to judge.
    trading
        The portfolio's trading figures alone (``Monitor.trading_figures()``), read by the
        state limits when ``figures`` is ``None``.
    health
        The health report (``HealthRunner.report()``), or ``None`` when no health
        runner is wired.
    heartbeats
        Component -> UNIX ns of its last ``heartbeat`` event.
    last_order_ts
        UNIX ns of the last order event, ``None`` before the first.
    """

    now_ns: int
    figures: GuardFigures | None = None
    trading: TradingFigures | None = None
    health: HealthReport | None = None
    heartbeats: Mapping[str, int] = field(default_factory=dict)
    last_order_ts: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitStatus:
    """One limit's current level, observed value and the threshold it is judged by."""

    level: Level = "ok"
    value: float | None = None
    limit: float | None = None
    since_ns: int | None = None
    clear_since_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAlert:
    """A change of one limit's level (``limit == "guard"`` for an operator reset)."""

    ts_ns: int
    limit: str
    level: Level
    previous: Level
    guard_level: Level
    value: float | None
    threshold: float | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (the webhook payload)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskState:
    """The guard's whole state; :meth:`to_dict`/:meth:`from_dict` persist it."""

    level: Level = "ok"
    latched: bool = False
    since_ns: int | None = None
    limits: Mapping[str, LimitStatus] = field(default_factory=dict)
    order_samples: tuple[tuple[int, float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {
            "level": self.level,
            "latched": self.latched,
            "since_ns": self.since_ns,
            "limits": {name: s.to_dict() for name, s in self.limits.items()},
            "order_samples": [list(s) for s in self.order_samples],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskState:
        """Rebuild a state written by :meth:`to_dict`."""
        return cls(
            level=data["level"],
            latched=bool(data["latched"]),
            since_ns=data.get("since_ns"),
            limits={name: LimitStatus(**s) for name, s in data.get("limits", {}).items()},
            order_samples=tuple(
                (int(t), float(a), float(b)) for t, a, b in data.get("order_samples", ())
            ),
        )


def _defined(value: float) -> float | None:
    # an undefined figure (NaN, inf) is no observation: the limit keeps its level
    return float(value) if math.isfinite(value) else None


def _numeric_level(
    value: float | None, limit: float, current: Level, s: RiskSettings, *, top: Level
) -> Level:
    # Thresholds as fractions of the limit; leaving a level needs the value to fall below
    # (1 - hysteresis) of its threshold, so a value hovering at a threshold does not flap.
    if value is None or limit <= 0:
        return current
    fractions: dict[Level, float] = {"warn": s.warn_fraction, "stop_entries": 1.0, "flatten": 1.0}
    if top == "flatten":
        fractions["stop_entries"] = s.stop_entries_fraction
    order = [lvl for lvl in LEVELS[1:] if level_rank(lvl) <= level_rank(top)]
    raw: Level = "ok"
    for lvl in order:
        if value >= fractions[lvl] * limit * _TOLERANCE:
            raw = lvl
    if level_rank(raw) >= level_rank(current):
        return raw
    held: Level = "ok"
    for lvl in order:
        if value >= fractions[lvl] * limit * (1.0 - s.hysteresis) * _TOLERANCE:
            held = lvl
    return held if level_rank(held) <= level_rank(current) else current


def _condition(  # noqa: PLR0917 - a private helper called in one place
    active: bool,
    value: float | None,
    limit: float,
    prev: LimitStatus,
    level: Level,
    now: int,
    s: RiskSettings,
) -> LimitStatus:
    # A condition enters at once and clears after recovery_seconds of being false.
    if active:
        since = prev.since_ns if prev.level == level else now
        return LimitStatus(level=level, value=value, limit=limit, since_ns=since)
    if prev.level == "ok":
        return LimitStatus(value=value, limit=limit)
    clear_since = prev.clear_since_ns if prev.clear_since_ns is not None else now
    if now - clear_since >= s.recovery_seconds * _NS:
        return LimitStatus(value=value, limit=limit)
    return dataclasses.replace(prev, value=value, clear_since_ns=clear_since)


def _rejection_rate(samples: tuple[tuple[int, float, float], ...], s: RiskSettings) -> float | None:
    if len(samples) < 2:
        return None
    _, sub0, rej0 = samples[0]
    _, sub1, rej1 = samples[-1]
    submitted = sub1 - sub0
    if submitted < max(1, s.min_orders_for_rejection_rate):
        return None
    return (rej1 - rej0) / submitted


def _broker_down(inputs: RiskInputs, s: RiskSettings) -> bool:
    if inputs.health is not None and inputs.health.broker_down:
        return True
    last = inputs.heartbeats.get(s.broker_component)
    return last is not None and inputs.now_ns - last > s.heartbeat_timeout_seconds * _NS


def _age_seconds(now: int, ts: int | None) -> float | None:
    return None if ts is None else max(0.0, (now - ts) / _NS)


def _observe(state: RiskState, inputs: RiskInputs, s: RiskSettings) -> dict[str, LimitStatus]:
    now = inputs.now_ns
    trading = inputs.figures.trading if inputs.figures is not None else inputs.trading
    prev = {name: state.limits.get(name, LimitStatus()) for name in LIMITS}
    out: dict[str, LimitStatus] = {}

    def numeric(name: str, value: float | None, limit: float, top: Level) -> None:
        level = _numeric_level(value, limit, prev[name].level, s, top=top)
        since = prev[name].since_ns if level == prev[name].level else now
        out[name] = LimitStatus(level=level, value=value, limit=limit, since_ns=since)

    drawdown = _defined(trading.current_drawdown) if trading is not None else None
    numeric("max_drawdown", drawdown, s.max_drawdown, "flatten")
    daily = _defined(trading.daily_pnl) if trading is not None else None
    numeric(
        "daily_loss", None if daily is None else max(0.0, -daily), s.daily_loss_limit, "flatten"
    )
    rate = _rejection_rate(state.order_samples, s)
    if rate is None:
        # too few orders in the window: the rate is unknown, not breached (while entries
        # are stopped few orders are sent, so a held level could never clear)
        since = prev["rejection_rate"].since_ns if prev["rejection_rate"].level == "ok" else now
        out["rejection_rate"] = LimitStatus(limit=s.max_rejection_rate, since_ns=since)
    else:
        numeric("rejection_rate", rate, s.max_rejection_rate, "stop_entries")
    out["broker_down"] = _condition(
        _broker_down(inputs, s),
        _age_seconds(now, inputs.heartbeats.get(s.broker_component)),
        s.heartbeat_timeout_seconds,
        prev["broker_down"],
        "stop_entries",
        now,
        s,
    )
    engine_age = _age_seconds(now, inputs.heartbeats.get(s.heartbeat_component))
    dead = engine_age is not None and engine_age > s.heartbeat_timeout_seconds
    out["heartbeat"] = _condition(
        dead, engine_age, s.heartbeat_timeout_seconds, prev["heartbeat"], "flatten", now, s
    )
    order_age = _age_seconds(now, inputs.last_order_ts)
    idle = (
        not dead
        and engine_age is not None
        and order_age is not None
        and order_age > s.no_trading_timeout_seconds
    )
    out["not_trading"] = _condition(
        idle, order_age, s.no_trading_timeout_seconds, prev["not_trading"], "warn", now, s
    )
    return out


def _samples(
    state: RiskState, inputs: RiskInputs, s: RiskSettings
) -> tuple[tuple[int, float, float], ...]:
    samples = list(state.order_samples)
    if inputs.figures is None:
        return tuple(samples)
    execution = inputs.figures.execution
    submitted = float(execution.orders_submitted)
    rejected = float(execution.orders_rejected)
    if samples and (submitted < samples[-1][1] or rejected < samples[-1][2]):
        samples = []  # the counters went back (a new session or a fresh monitor)
    samples.append((inputs.now_ns, submitted, rejected))
    horizon = inputs.now_ns - round(s.rejection_window_seconds * _NS)
    # keep one sample at or before the window start as the baseline
    while len(samples) > 2 and samples[1][0] <= horizon:
        samples.pop(0)
    return tuple(samples)


def _message(name: str, status: LimitStatus, previous: Level) -> str:
    value = "n/a" if status.value is None else f"{status.value:.4g}"
    limit = "n/a" if status.limit is None else f"{status.limit:.4g}"
    verb = "raised" if level_rank(status.level) > level_rank(previous) else "lowered"
    return f"{name} {verb} to {status.level}: observed {value}, limit {limit}"


def evaluate(
    state: RiskState,
    inputs: RiskInputs,
    settings: RiskSettings,
    *,
    only: Collection[str] | None = None,
) -> tuple[RiskState, list[RiskAlert]]:
    """Return the next state and the alerts (level changes) for ``inputs``.

    ``only`` names the limits to judge (e.g. :data:`STATE_LIMITS` after an applied
    event); the others keep their status, and the rejection rate's order samples are
    left alone. ``None`` judges every limit.

    Examples
    --------
    >>> import dataclasses
    >>> from algowatch.monitor import Monitor
    >>> portfolio = Monitor().figures().portfolio
    >>> trading = dataclasses.replace(portfolio.trading, current_drawdown=0.12)
    >>> figures = dataclasses.replace(portfolio, trading=trading)
    >>> s = RiskSettings(max_drawdown=0.10)
    >>> state, alerts = evaluate(RiskState(), RiskInputs(now_ns=1, figures=figures), s)
    >>> state.level, state.latched, alerts[0].limit
    ('flatten', True, 'max_drawdown')
    """
    samples = state.order_samples if only is not None else _samples(state, inputs, settings)
    with_samples = dataclasses.replace(state, order_samples=samples)
    limits = _observe(with_samples, inputs, settings)
    if only is not None:
        limits = {
            name: status if name in only else state.limits.get(name, LimitStatus())
            for name, status in limits.items()
        }
    worst: Level = max((st.level for st in limits.values()), key=level_rank, default="ok")
    latched = state.latched or worst == "flatten"
    level: Level = "flatten" if latched else worst
    since = state.since_ns if level == state.level else inputs.now_ns
    alerts = [
        RiskAlert(
            ts_ns=inputs.now_ns,
            limit=name,
            level=st.level,
            previous=state.limits.get(name, LimitStatus()).level,
            guard_level=level,
            value=st.value,
            threshold=st.limit,
            message=_message(name, st, state.limits.get(name, LimitStatus()).level),
        )
        for name, st in limits.items()
        if st.level != state.limits.get(name, LimitStatus()).level
    ]
    new = RiskState(
        level=level,
        latched=latched,
        since_ns=since,
        limits=limits,
        order_samples=with_samples.order_samples,
    )
    return new, alerts


def reset(state: RiskState, now_ns: int, *, by: str, reason: str) -> tuple[RiskState, RiskAlert]:
    """Return ``state`` reset by an operator, and the alert.

    The flatten latch is released: a limit at ``flatten`` drops to ``stop_entries``
    (so a breach that is still present stops entries rather than re-opening trading,
    and flattens again at the next evaluation while it lasts). Every other limit is
    cleared to ``ok`` (its hysteresis and recovery wait forgotten): the next
    evaluation raises it again at once if its breach is still observed.

    Examples
    --------
    >>> stuck = RiskState(
    ...     level="stop_entries", limits={"rejection_rate": LimitStatus(level="stop_entries")}
    ... )
    >>> state, alert = reset(stuck, 1, by="alice", reason="broker back")
    >>> state.level, state.limits["rejection_rate"].level, alert.previous
    ('ok', 'ok', 'stop_entries')
    """
    limits = {
        name: (
            dataclasses.replace(st, level="stop_entries", since_ns=now_ns, clear_since_ns=None)
            if st.level == "flatten"
            else LimitStatus(value=st.value, limit=st.limit)
        )
        for name, st in state.limits.items()
    }
    level: Level = max((st.level for st in limits.values()), key=level_rank, default="ok")
    alert = RiskAlert(
        ts_ns=now_ns,
        limit="guard",
        level=level,
        previous=state.level,
        guard_level=level,
        value=None,
        threshold=None,
        message=f"kill switch reset by {by}: {reason}",
    )
    new = dataclasses.replace(state, level=level, latched=False, since_ns=now_ns, limits=limits)
    return new, alert
