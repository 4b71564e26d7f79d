"""Shared fixtures: deterministic, isolated, no leaking state between tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

from algowatch.testing import EventFactory, FakeClock

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _clean_environ() -> Iterator[None]:
    """Restore os.environ after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Restore structlog and every stdlib logger's configuration after each test.

    Libraries reconfigure loggers (uvicorn's dictConfig detaches ``uvicorn.*`` from the
    root); without this one test's server would change what another test's logs see.
    """
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        lg for lg in list(manager.loggerDict.values()) if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate, lg.disabled) for lg in loggers]
    yield
    structlog.reset_defaults()
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2025-01-02T14:30:00Z."""
    return FakeClock()


@pytest.fixture
def factory(clock: FakeClock) -> EventFactory:
    """An event factory driven by the fake clock."""
    return EventFactory(clock)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI (``CI`` set), a skipped test fails: CI installs everything the suite needs."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where it must run: {report.longrepr}"
