"""Clock check: the kernel's synchronisation state and error bounds, via ``adjtimex(2)``.

``adjtimex`` with ``modes = 0`` only reads; it needs no privilege and is allowed by
container runtimes' default seccomp profiles. The kernel reports a state
(``TIME_ERROR`` when the clock is not synchronised), the ``STA_UNSYNC`` status
bit, and the estimated and maximum errors in microseconds, which NTP daemons
(chrony, ntpd, systemd-timesyncd) keep up to date.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algowatch.health._base import Check, Outcome

__all__ = ["ClockSyncCheck", "KernelClockState", "read_kernel_clock"]

_TIME_ERROR = 5
_STA_UNSYNC = 0x0040
_STATES = {0: "ok", 1: "insert_leap", 2: "delete_leap", 3: "leap_in_progress", 4: "wait"}
_STATES[_TIME_ERROR] = "error"


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class _Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> (Linux, glibc and musl), including its padding.
    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("padding", ctypes.c_int * 11),
    )


@dataclass(frozen=True, slots=True)
class KernelClockState:
    """What the kernel says about the system clock.

    Attributes
    ----------
    synchronized
        False when the state is ``TIME_ERROR`` or ``STA_UNSYNC`` is set.
    state
        ``"ok"``, ``"error"`` (unsynchronised), or a leap-second state.
    estimated_error_seconds, maximum_error_seconds
        The kernel's ``esterror`` and ``maxerror``.
    status_flags
        The raw ``status`` bits (``STA_*``).

    .. versionadded:: 0.1.0
    """

    synchronized: bool
    state: str
    estimated_error_seconds: float
    maximum_error_seconds: float
    status_flags: int


def read_kernel_clock() -> KernelClockState:
    """Read the kernel clock's state with ``adjtimex(2)`` (Linux only, read-only).

    Raises
    ------
    OSError
        If the platform has no ``adjtimex`` or the call fails.
    """
    if not sys.platform.startswith("linux"):
        msg = f"adjtimex is only available on Linux, running on {sys.platform!r}"
        raise OSError(msg)
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = _Timex()
    result = libc.adjtimex(ctypes.byref(buffer))
    if result < 0:
        errno = ctypes.get_errno()
        msg = f"adjtimex failed with errno {errno}"
        raise OSError(errno, msg)
    synchronized = result != _TIME_ERROR and not buffer.status & _STA_UNSYNC
    return KernelClockState(
        synchronized=synchronized,
        state=_STATES.get(result, str(result)),
        estimated_error_seconds=buffer.esterror / 1e6,
        maximum_error_seconds=buffer.maxerror / 1e6,
        status_flags=int(buffer.status),
    )


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
