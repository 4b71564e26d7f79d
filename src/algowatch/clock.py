"""Clocks: the only place algowatch reads the time.

Library code never calls :func:`time.time`; it is handed a :class:`Clock`.
A live service uses :class:`SystemClock`; tests use
:class:`algowatch.testing.FakeClock`; a replay drives time from event timestamps.

:func:`read_kernel_clock` reads how well the system clock is synchronised, via
``adjtimex(2)``: with ``modes = 0`` it only reads, needs no privilege and is allowed
by container runtimes' default seccomp profiles. The kernel reports a state
(``TIME_ERROR`` when the clock is not synchronised), the ``STA_UNSYNC`` status bit,
and the estimated and maximum errors in microseconds, which NTP daemons (chrony,
ntpd, systemd-timesyncd) keep up to date. The health check and the audit trail's
clock-sync record both use it.
"""

from __future__ import annotations

import ctypes
import sys
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "KernelClockState", "SystemClock", "read_kernel_clock"]


@runtime_checkable
class Clock(Protocol):
    """Source of wall-clock and monotonic time, in integer nanoseconds."""

    def time_ns(self) -> int:
        """Return UNIX time in nanoseconds (UTC)."""
        ...

    def monotonic_ns(self) -> int:
        """Return a monotonic reading in nanoseconds, for durations only."""
        ...


class SystemClock:
    """The machine's clocks (:func:`time.time_ns`, :func:`time.monotonic_ns`)."""

    def time_ns(self) -> int:
        """Return UNIX time in nanoseconds (UTC)."""
        return time.time_ns()

    def monotonic_ns(self) -> int:
        """Return the monotonic clock in nanoseconds."""
        return time.monotonic_ns()


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
