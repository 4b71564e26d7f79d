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
    """Restore structlog and stdlib logging configuration after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2025-01-02T14:30:00Z."""
    return FakeClock()


@pytest.fixture
def factory(clock: FakeClock) -> EventFactory:
    """An event factory driven by the fake clock."""
    return EventFactory(clock)
