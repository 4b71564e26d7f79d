"""Largest-Triangle-Three-Buckets against a hand-worked example and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from algowatch.analytics import largest_triangle_three_buckets


def test_hand_worked_example() -> None:
    """Eight points down to four (worked by hand, areas doubled).

    every = (8 - 2) / (4 - 2) = 3.
    Bucket 1 holds indices 1..3; the next bucket (4..6) averages (5, -1); the anchor is
    point 0 = (0, 0). Twice the areas: |(0-5)(y-0) - (0-x)(-1-0)| = |-5y - x| gives
    1, 27, 3 for indices 1, 2, 3: index 2 (the spike to 5) is kept.
    Bucket 2 holds indices 4..6; the last bucket is index 7 = (7, 0); the anchor is
    (2, 5). |(2-7)(y-5) - (2-x)(0-5)| gives 15, 25, 5 for indices 4, 5, 6: index 5
    (the dip to -3) is kept.
    """
    x = [0, 1, 2, 3, 4, 5, 6, 7]
    y = [0, 0, 5, 0, 0, -3, 0, 0]
    assert largest_triangle_three_buckets(x, y, 4).tolist() == [0, 2, 5, 7]


def test_a_crash_survives_where_interval_sampling_loses_it() -> None:
    """A one-point crash in 10,000 flat points is kept; every 100th point misses it."""
    x = np.arange(10_000, dtype=float)
    y = np.full(10_000, 100.0)
    y[4_321] = 60.0
    kept = largest_triangle_three_buckets(x, y, 100)
    assert len(kept) == 100
    assert 4_321 in kept.tolist()
    assert 4_321 not in range(0, 10_000, 100)
    assert kept[0] == 0
    assert kept[-1] == 9_999
    assert np.all(np.diff(kept) > 0)


@pytest.mark.parametrize(
    ("points", "expected"),
    [(10, [0, 1, 2, 3, 4]), (5, [0, 1, 2, 3, 4]), (2, [0, 4]), (1, [0])],
)
def test_few_points(points: int, expected: list[int]) -> None:
    """At or above the length every index is kept; below 3, the ends."""
    assert largest_triangle_three_buckets(range(5), [1, 3, 2, 5, 4], points).tolist() == expected


def test_empty_series() -> None:
    assert largest_triangle_three_buckets([], [], 10).tolist() == []


@pytest.mark.parametrize(
    ("x", "y", "points", "message"),
    [
        ([0, 1], [0], 5, "x and y must be one-dimensional and of the same length"),
        ([[0, 1]], [[0, 1]], 5, "x and y must be one-dimensional"),
        ([0, 1], [0, 1], 0, "points must be at least 1, received 0"),
    ],
)
def test_bad_input_is_named(x: object, y: object, points: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        largest_triangle_three_buckets(x, y, points)  # type: ignore[arg-type]
