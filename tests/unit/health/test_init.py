"""The package facade."""

from __future__ import annotations

import algowatch.health as health


def test_all_is_sorted_and_matches_the_public_names():
    """__all__ lists every public name of the package, sorted, and nothing else."""
    public = {n for n in vars(health) if not n.startswith("_")}
    modules = {
        "api",
        "clock_sync",
        "connections",
        "freshness",
        "journal",
        "metrics",
        "runner",
        "system",
    }
    assert set(health.__all__) == public - modules - {"annotations"}
    # isort-style order, as ruff's RUF022 wants: CONSTANTS, then Classes, then functions
    order = sorted(health.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert list(health.__all__) == order
