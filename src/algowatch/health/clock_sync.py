"""Clock check: the kernel's synchronisation state and error bounds.

The state is read by :func:`algowatch.clock.read_kernel_clock` (``adjtimex(2)``,
read-only); this module judges it against a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from algowatch.clock import KernelClockState, read_kernel_clock
from algowatch.health._base import Check, Outcome

__all__ = ["ClockSyncCheck", "KernelClockState", "read_kernel_clock"]


class ClockSyncCheck(Check):
    """Compare the kernel clock's estimated error with ``tolerance_seconds``.

    Synchronised within tolerance: ``connected``. Synchronised, but the estimated
    error is above the tolerance: ``disconnected`` (timestamps cannot be trusted to
    the tolerance). Not synchronised at all: ``degraded``, with the maximum error in
    the message, since the kernel then cannot bound the error. Not Linux:
    ``unknown``.

    Parameters
    ----------
    tolerance_seconds
        Largest acceptable estimated error, e.g. 0.05.
    read
        The reader, :func:`read_kernel_clock` by default (injectable for tests).

    Examples
    --------
    >>> import asyncio
    >>> state = KernelClockState(True, "ok", 0.2, 0.5, 0)
    >>> check = ClockSyncCheck("clock", tolerance_seconds=0.05, read=lambda: state)
    >>> asyncio.run(check.probe()).error
    'kernel clock estimated error 0.2 s exceeds the tolerance of 0.05 s'

    .. versionadded:: 0.1.0
    """

    kind = "clock"

    def __init__(
        self,
        name: str,
        *,
        tolerance_seconds: float = 0.05,
        read: Callable[[], KernelClockState] = read_kernel_clock,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self.tolerance_seconds = tolerance_seconds
        self._read = read

    async def probe(self) -> Outcome:
        """Read the kernel clock once (a system call, microseconds)."""
        try:
            state = self._read()
        except OSError as exc:
            return Outcome("unknown", error=str(exc))
        details = {
            "synchronized": state.synchronized,
            "state": state.state,
            "estimated_error_seconds": state.estimated_error_seconds,
            "maximum_error_seconds": state.maximum_error_seconds,
            "tolerance_seconds": self.tolerance_seconds,
        }
        if not state.synchronized:
            error = (
                f"kernel clock is not synchronised (state {state.state!r}, maximum error "
                f"{state.maximum_error_seconds:g} s)"
            )
            return Outcome("degraded", error=error, details=details)
        if state.estimated_error_seconds > self.tolerance_seconds:
            error = (
                f"kernel clock estimated error {state.estimated_error_seconds:g} s exceeds "
                f"the tolerance of {self.tolerance_seconds:g} s"
            )
            return Outcome("disconnected", error=error, details=details)
        return Outcome("connected", details=details)
