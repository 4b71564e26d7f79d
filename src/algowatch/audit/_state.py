"""System-state capture for decision records, each provider within a time budget."""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["StateCapture", "clock_sync_state"]

StateProvider = Callable[[], Any]

_TIME_ERROR = 5
_STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> (x86-64/aarch64 Linux layout), padded to its size
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
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
        ("_padding", ctypes.c_int * 11),
    ]


@functools.cache
def _libc() -> ctypes.CDLL:
    # find_library may run ldconfig: do it once
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def clock_sync_state() -> dict[str, Any]:
    """Return the kernel's clock-sync state from ``adjtimex(2)`` (read only).

    Returns ``{"synced", "maxerror_us", "esterror_us", "source"}``; ``synced`` is
    false when the kernel reports ``TIME_ERROR`` or ``STA_UNSYNC``.

    Raises
    ------
    OSError
        When ``adjtimex`` is unavailable (not Linux) or fails.
    """
    if not sys.platform.startswith("linux"):
        msg = f"adjtimex is Linux only, platform is {sys.platform!r}"
        raise OSError(msg)
    libc = _libc()
    tx = _Timex()
    tx.modes = 0
    state = libc.adjtimex(ctypes.byref(tx))
    if state == -1:
        errno = ctypes.get_errno()
        msg = f"adjtimex failed with errno {errno}"
        raise OSError(errno, msg)
    synced = state != _TIME_ERROR and not (tx.status & _STA_UNSYNC)
    return {
        "synced": synced,
        "maxerror_us": int(tx.maxerror),
        "esterror_us": int(tx.esterror),
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
