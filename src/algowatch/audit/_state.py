"""System-state capture for decision records, each provider within a time budget."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Mapping
from typing import Any

from algowatch.clock import read_kernel_clock

__all__ = ["StateCapture", "clock_sync_state"]

StateProvider = Callable[[], Any]


def clock_sync_state() -> dict[str, Any]:
    """Return the kernel's clock-sync state for a record (read only).

    Returns ``{"synced", "maxerror_us", "esterror_us", "source"}`` from
    :func:`algowatch.clock.read_kernel_clock`; ``synced`` is false when the kernel
    reports ``TIME_ERROR`` or ``STA_UNSYNC``.

    Raises
    ------
    OSError
        When ``adjtimex`` is unavailable (not Linux) or fails.
    """
    kernel = read_kernel_clock()
    return {
        "synced": kernel.synchronized,
        "maxerror_us": round(kernel.maximum_error_seconds * 1e6),
        "esterror_us": round(kernel.estimated_error_seconds * 1e6),
        "source": "adjtimex",
    }


class StateCapture:
    """Call state providers concurrently; each must answer within the budget.

    A provider that raises or misses the budget yields ``None`` and an entry in
    ``errors``; the capture itself never takes much longer than the budget.

    Examples
    --------
    >>> capture = StateCapture({"portfolio_value": lambda: 1000.0}, budget_seconds=0.5)
    >>> capture.capture()
    {'portfolio_value': 1000.0, 'errors': []}
    >>> capture.close()
    """

    def __init__(
        self, providers: Mapping[str, StateProvider], *, budget_seconds: float = 0.002
    ) -> None:
        if budget_seconds <= 0:
            msg = f"budget_seconds must be > 0, received {budget_seconds!r}"
            raise ValueError(msg)
        self.providers = dict(providers)
        self.budget_seconds = budget_seconds
        self._pool = cf.ThreadPoolExecutor(
            max_workers=max(4, 2 * len(self.providers)), thread_name_prefix="audit-state"
        )

    def capture(self) -> dict[str, Any]:
        """Return ``{name: value or None, ..., "errors": [...]}``."""
        futures = {name: self._pool.submit(fn) for name, fn in self.providers.items()}
        done, _pending = cf.wait(futures.values(), timeout=self.budget_seconds)
        out: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        for name, future in futures.items():
            if future not in done:
                future.cancel()
                out[name] = None
                errors.append(
                    {"provider": name, "error": f"timed out after {self.budget_seconds} s"}
                )
                continue
            exc = future.exception()
            if exc is not None:
                out[name] = None
                errors.append({"provider": name, "error": f"{type(exc).__name__}: {exc}"})
            else:
                out[name] = future.result()
        out["errors"] = errors
        return out

    def close(self) -> None:
        """Stop the worker threads (slow providers still running are abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
