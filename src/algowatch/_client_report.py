"""How the SDK tells the user about trouble: the ``on_drop`` callback and its log records."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from algowatch._client_check import _EVENT_TAGS
from algowatch._client_stats import DroppedEvent, _Counts

__all__ = ["DropReporter"]

_LOG = logging.getLogger("algowatch.client")
# A repeated problem (same kind) is logged at most once per this many seconds.
_LOG_INTERVAL_SECONDS: Final = 60.0


class DropReporter:
    """Tell the user about trouble: the ``on_drop`` callback and rate-limited log records.

    Each kind of problem (a drop reason, an HTTP refusal, an exception type) is logged
    on the ``algowatch.client`` logger at most once per minute; the next record says
    how many were left out. Used by the sender only (one thread or task).

    Parameters
    ----------
    on_drop
        Called once per dropped event, from the sender; its exceptions are logged and
        counted, never propagated.
    counts
        The client's counters (``sender_errors`` is incremented here).
    lock
        The lock guarding ``counts``.

    Attributes
    ----------
    last_error
        The latest failed answer or exception, as text.
    """

    def __init__(
        self,
        on_drop: Callable[[DroppedEvent], object] | None,
        counts: _Counts,
        lock: threading.Lock,
        *,
        interval_seconds: float = _LOG_INTERVAL_SECONDS,
    ) -> None:
        self._on_drop = on_drop
        self._counts = counts
        self._lock = lock
        self._interval = interval_seconds
        self.last_error: str | None = None
        # kind -> (monotonic time of the last record, occurrences left out since)
        self._logged: dict[str, tuple[float, int]] = {}

    def dropped(self, drops: Sequence[DroppedEvent]) -> None:
        """Report events given up: one callback per event, a log record per reason."""
        if not drops:
            return
        by_reason: dict[str, list[DroppedEvent]] = {}
        for drop in drops:
            by_reason.setdefault(drop.reason, []).append(drop)
        for reason, group in by_reason.items():
            first = group[0]
            level = (
                logging.ERROR if reason in ("undelivered", "internal_error") else logging.WARNING
            )
            self._log(
                f"drop:{reason}",
                level,
                "algowatch client dropped %d event(s) (%s); first: %s event_id=%s: %s",
                len(group),
                reason,
                _EVENT_TAGS.get(type(first.event), "event"),
                first.event.event_id,
                first.detail,
            )
        if self._on_drop is None:
            return
        for drop in drops:
            try:
                self._on_drop(drop)
            except Exception as exc:  # user code must not stop the sender
                self.sender_error(exc, where="the on_drop callback")

    def refused(self, status: int | None, error: str, waiting: int) -> None:
        """Report a refusal that is not about the events (the events are kept)."""
        self._log(
            f"refused:{status}",
            logging.ERROR,
            "algowatch service refused a batch (%s); %d event(s) are kept and retried "
            "with backoff; check the client's token and base URL",
            error,
            waiting,
        )

    def sender_error(self, exc: BaseException, *, where: str = "the sender") -> None:
        """Count and log an unexpected exception caught in the sender."""
        with self._lock:
            self._counts.sender_errors += 1
        self._log(
            f"error:{where}:{type(exc).__qualname__}",
            logging.ERROR,
            "algowatch client: %s raised %r; it keeps running",
            where,
            exc,
            exc_info=exc,
        )

    def _log(self, kind: str, level: int, message: str, *args: object, **kwargs: Any) -> None:
        now = time.monotonic()
        last, left_out = self._logged.get(kind, (-float("inf"), 0))
        if now - last < self._interval:
            self._logged[kind] = (last, left_out + 1)
            return
        self._logged[kind] = (now, 0)
        if left_out:
            message += f" ({left_out} more like this in the last {self._interval:g} s)"
        _LOG.log(level, message, *args, **kwargs)
