"""The clock check: adjtimex state against a tolerance."""

from __future__ import annotations

import asyncio
import ctypes
import sys

import pytest

from algowatch.health import ClockSyncCheck, KernelClockState, read_kernel_clock


def probe(state: KernelClockState, tolerance: float = 0.05):
    check = ClockSyncCheck("clock", tolerance_seconds=tolerance, read=lambda: state)
    return asyncio.run(check.probe())


def test_clock_synchronised_within_tolerance_is_connected():
    """chrony-disciplined clock, 1 ms estimated error, 50 ms tolerance."""
    outcome = probe(KernelClockState(True, "ok", 0.001, 0.1, 0x2001))
    assert outcome.status == "connected"
    assert outcome.error is None
    assert outcome.details["estimated_error_seconds"] == 0.001


def test_clock_synchronised_beyond_tolerance_is_disconnected():
    """Estimated error 80 ms over a 50 ms tolerance: timestamps cannot be trusted."""
    outcome = probe(KernelClockState(True, "ok", 0.08, 0.3, 0x2001))
    assert outcome.status == "disconnected"
    assert outcome.error == "kernel clock estimated error 0.08 s exceeds the tolerance of 0.05 s"


def test_clock_unsynchronised_is_degraded_with_the_maximum_error():
    """STA_UNSYNC / TIME_ERROR: the kernel cannot bound the error; 16 s is its ceiling."""
    outcome = probe(KernelClockState(False, "error", 16.0, 16.0, 0x40))
    assert outcome.status == "degraded"
    assert outcome.error == ("kernel clock is not synchronised (state 'error', maximum error 16 s)")


def test_clock_reader_failure_is_unknown():
    """No adjtimex (not Linux): the state is unknown, with the reason."""

    def unavailable() -> KernelClockState:
        msg = "adjtimex is only available on Linux, running on 'darwin'"
        raise OSError(msg)

    check = ClockSyncCheck("clock", read=unavailable)
    outcome = asyncio.run(check.probe())
    assert (outcome.status, outcome.error) == (
        "unknown",
        "adjtimex is only available on Linux, running on 'darwin'",
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="adjtimex(2) is Linux only")
def test_read_kernel_clock_agrees_with_ntp_gettime():
    """Reference: glibc's ntp_gettime(3) reads the same kernel fields independently."""

    class NtpTimeval(ctypes.Structure):
        _fields_ = (
            ("tv_sec", ctypes.c_long),
            ("tv_usec", ctypes.c_long),
            ("maxerror", ctypes.c_long),
            ("esterror", ctypes.c_long),
            ("tai", ctypes.c_long),
            ("padding", ctypes.c_long * 4),
        )

    libc = ctypes.CDLL(None)
    reference = NtpTimeval()
    state_code = libc.ntp_gettimex(ctypes.byref(reference))
    ours = read_kernel_clock()
    assert ours.synchronized == (state_code != 5 and not ours.status_flags & 0x40)
    assert ours.state == ("error" if state_code == 5 else ours.state)
    # maxerror grows by 500 ppm of elapsed time between the two reads: allow 1 ms
    assert ours.maximum_error_seconds == pytest.approx(reference.maxerror / 1e6, abs=1e-3)
    assert ours.estimated_error_seconds == pytest.approx(reference.esterror / 1e6, abs=1e-3)
