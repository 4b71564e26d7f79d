"""PostgresJournal's pieces that need no server: the reconnect backoff and its parameters,
and which errors end the session."""

from __future__ import annotations

import psycopg
import pytest

from algowatch.errors import JournalError
from algowatch.journal.postgres import PostgresJournal, _Backoff, _ends_session


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def backoff(factor: float) -> tuple[_Backoff, FakeMonotonic]:
    clock = FakeMonotonic()
    return _Backoff(0.1, 1.0, monotonic=clock, uniform=lambda low, high: factor), clock


def test_backoff_given_no_failure_allows_an_immediate_attempt() -> None:
    """After a loss the first reconnect attempt does not wait."""
    policy, _ = backoff(1.0)
    assert policy.remaining() == 0.0


def test_backoff_doubles_from_the_initial_delay_and_is_capped() -> None:
    """Hand-worked: 0.1, 0.2, 0.4, 0.8, then the 1.0 cap, with the jitter factor at 1."""
    policy, _ = backoff(1.0)
    assert [policy.failed() for _ in range(7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


def test_backoff_jitter_scales_each_wait_by_the_random_factor() -> None:
    """The factor drawn in [0.5, 1] scales the capped delay, so a wait never exceeds the cap."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return low

    clock = FakeMonotonic()
    policy = _Backoff(0.1, 1.0, monotonic=clock, uniform=uniform)
    assert [policy.failed() for _ in range(6)] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5])
    assert set(draws) == {(0.5, 1.0)}


def test_backoff_remaining_counts_down_with_the_clock_and_reset_clears_it() -> None:
    """The wait runs on the injected monotonic clock; a success resets the sequence."""
    policy, clock = backoff(1.0)
    policy.failed()
    policy.failed()
    assert policy.remaining() == pytest.approx(0.2)
    clock.now += 0.15
    assert policy.remaining() == pytest.approx(0.05)
    clock.now += 0.1
    assert policy.remaining() == 0.0
    policy.reset()
    assert policy.failed() == pytest.approx(0.1)


def test_backoff_given_many_failures_does_not_overflow() -> None:
    """The exponent is bounded: the thousandth failure still waits the cap."""
    policy, _ = backoff(1.0)
    for _ in range(1000):
        delay = policy.failed()
    assert delay == 1.0


@pytest.mark.parametrize(
    ("initial", "maximum", "message"),
    [
        (0.0, 1.0, "reconnect_initial_delay_seconds must be > 0, received 0.0"),
        (0.5, 0.1, "reconnect_max_delay_seconds must be >= reconnect_initial_delay_seconds"),
    ],
)
def test_invalid_backoff_parameters_are_rejected_before_connecting(
    initial: float, maximum: float, message: str
) -> None:
    """Bad parameters name themselves; no connection is attempted (the DSN is unreachable)."""
    with pytest.raises(JournalError, match=message):
        PostgresJournal(
            "host=127.0.0.1 port=1 connect_timeout=1",
            reconnect_initial_delay_seconds=initial,
            reconnect_max_delay_seconds=maximum,
        )


@pytest.mark.parametrize(
    ("error", "over"),
    [
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.CrashShutdown("crash"), True),
        (psycopg.errors.ConnectionFailure("gone"), True),
        (psycopg.errors.UniqueViolation("duplicate key"), False),
        (psycopg.errors.QueryCanceled("statement timeout"), False),
        (psycopg.OperationalError("no SQLSTATE: a client-side error"), False),
    ],
)
def test_errors_that_end_the_session_are_told_apart(error: Exception, over: bool) -> None:
    """57P01-57P03 and class 08 end the session (drop the connection); others keep it."""
    assert _ends_session(error) is over
