"""The vocabulary of health checks: statuses, outcomes, results and the check base class."""

from __future__ import annotations

import abc
import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from algowatch.events import format_timestamp

__all__ = [
    "STATUSES",
    "Check",
    "CheckResult",
    "CheckStatus",
    "Outcome",
]

CheckStatus = Literal["connected", "degraded", "disconnected", "unknown"]
"""The status of one check (the original design's ``ConnectionStatus`` values)."""

STATUSES: tuple[CheckStatus, ...] = ("connected", "degraded", "disconnected", "unknown")

_NS = 1_000_000_000
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one probe of a check found, before the runner adds timing.

    Attributes
    ----------
    status
        One of :data:`STATUSES`.
    error
        Why the status is not ``connected`` (``None`` when it is).
    age_seconds
        Age of the newest relevant observation for freshness checks (the stalest
        watched mark, the last heartbeat, the last order), else ``None``.
    details
        JSON-ready extra facts (ages per symbol, kernel clock errors, ...).

    .. versionadded:: 0.1.0
    """

    status: CheckStatus
    error: str | None = None
    age_seconds: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The cached result of the latest run of one check.

    Attributes
    ----------
    name, kind, critical
        From the check's configuration.
    status, error, age_seconds, details
        From the probe's :class:`Outcome` (a timeout or exception gives
        ``disconnected`` with the error).
    latency_seconds
        How long the probe took (monotonic clock), the timeout when it was cut.
    ts_checked
        UNIX nanoseconds when the probe finished.

    .. versionadded:: 0.1.0
    """

    name: str
    kind: str
    critical: bool
    status: CheckStatus
    latency_seconds: float | None
    ts_checked: int | None
    error: str | None = None
    age_seconds: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def up(self) -> bool:
        """Return True when the dependency is usable (connected or degraded)."""
        return self.status in ("connected", "degraded")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used by ``/health``."""
        return {
            "kind": self.kind,
            "critical": self.critical,
            "status": self.status,
            "latency_seconds": self.latency_seconds,
            "age_seconds": self.age_seconds,
            "error": self.error,
            "last_checked": None if self.ts_checked is None else format_timestamp(self.ts_checked),
            "details": dict(self.details),
        }


class Check(abc.ABC):
    """A named probe of one dependency, run by :class:`~algowatch.health.HealthRunner`.

    Subclasses implement :meth:`probe`; the runner bounds it by
    :attr:`timeout_seconds`, measures it and turns an exception or a timeout into
    ``disconnected`` with the error message, so :meth:`probe` may simply raise.

    Parameters
    ----------
    name
        Unique name, shown in ``/health`` and used as the ``check`` label.
    timeout_seconds
        Longest a probe may take before it is cut and reported ``disconnected``.
    interval_seconds
        Pause between the start of two probes.
    critical
        Whether a ``disconnected`` result makes the service unhealthy (True) or
        only degraded (False).

    Attributes
    ----------
    gates_readiness
        Class attribute: when True, the service is not ready (``/ready`` answers 503)
        while this check is not up, even if the overall status is only degraded.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``gates_readiness``.
    """

    kind: ClassVar[str] = "custom"
    gates_readiness: ClassVar[bool] = False

    def __init__(
        self,
        name: str,
        *,
        timeout_seconds: float = 1.0,
        interval_seconds: float = 5.0,
        critical: bool = True,
    ) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.interval_seconds = interval_seconds
        self.critical = critical

    def admits(self, result: CheckResult) -> bool:
        """Return whether ``result`` lets the service be ready (when :attr:`gates_readiness`).

        The default: the dependency is up (``connected`` or ``degraded``). A check whose
        ``degraded`` means "not ready yet" (a replica still catching up) overrides it.

        .. versionadded:: 0.2.0
        """
        return result.up

    @abc.abstractmethod
    async def probe(self) -> Outcome:
        """Probe the dependency once and return what was found."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most checks hold nothing
        """Release what the check holds (clients, connections); called on stop."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _ThreadCall:
    """Run a blocking callable in a daemon thread, at most one call in flight.

    A callable that hangs keeps its thread, but never more than one per check, and a
    daemon thread never blocks interpreter exit (a ThreadPoolExecutor worker would).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._busy: asyncio.Future[Any] | None = None

    async def __call__(self, fn: Callable[[], _T]) -> _T:
        if self._busy is not None and not self._busy.done():
            msg = "the previous call has not returned yet"
            raise TimeoutError(msg)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        # a call that ends after its timeout has nobody awaiting it: retrieve its
        # exception so asyncio does not log "exception was never retrieved"
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._busy = future

        def deliver(ok: bool, value: Any) -> None:
            if future.done():
                return
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        def target() -> None:
            try:
                outcome: tuple[bool, Any] = (True, fn())
            except BaseException as exc:  # handed to the awaiting task, which re-raises it
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(deliver, *outcome)
            except RuntimeError:  # pragma: no cover - the loop closed while the call hung
                return

        threading.Thread(target=target, name=f"algowatch-health-{self._name}", daemon=True).start()
        # shield: a timeout cancels the wait, not the future that marks the thread busy
        return await asyncio.shield(future)


async def _call_any(
    fn: Callable[[], Any], thread_call: _ThreadCall
) -> Any:  # Any: user callables return anything
    # Coroutine functions run on the loop (cancellable); plain callables run in a thread
    # so that a blocking call is cut at the timeout too. A plain callable may still
    # return an awaitable (``lambda: client.get_account()``), which is then awaited.
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    ):
        return await fn()
    value = await thread_call(fn)
    if inspect.isawaitable(value):
        return await _await(value)
    return value


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def _await(value: Awaitable[_T]) -> _T:
    return await value
