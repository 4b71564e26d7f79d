"""Down-sampling a series for display: Largest-Triangle-Three-Buckets (LTTB).

LTTB (Steinarsson, *Downsampling Time Series for Visual Representation*, 2013) keeps
the first and last points and, from each of ``points - 2`` equal buckets in between,
the point that forms the largest triangle with the point kept from the previous
bucket and the average of the next bucket. Peaks and crashes survive, where taking
every n-th point or the last point of each interval draws them as straight lines.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from algowatch.analytics._common import ArrayLike

__all__ = ["largest_triangle_three_buckets"]

_MIN_POINTS = 3


def largest_triangle_three_buckets(x: ArrayLike, y: ArrayLike, points: int) -> npt.NDArray[np.intp]:
    """Return the indices of the ``points`` samples LTTB keeps of the series ``(x, y)``.

    ``x`` must be non-decreasing (time). With ``points >= len(x)`` every index is
    returned; with ``points < 3`` the first and last (or the only) index.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length or are not one-dimensional, or
        ``points`` is below 1.

    Examples
    --------
    >>> largest_triangle_three_buckets([0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 5, 0, 0, -3, 0, 0], 4)
    array([0, 2, 5, 7])

    .. versionadded:: 0.3.0
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.ndim != 1 or xs.shape != ys.shape:
        msg = (
            f"x and y must be one-dimensional and of the same length, received shapes "
            f"{xs.shape!r} and {ys.shape!r}"
        )
        raise ValueError(msg)
    if points < 1:
        msg = f"points must be at least 1, received {points!r}"
        raise ValueError(msg)
    n = len(xs)
    if points >= n:
        return np.arange(n, dtype=np.intp)
    if points < _MIN_POINTS:
        return np.array([0, n - 1][: max(1, points)], dtype=np.intp)
    kept = np.empty(points, dtype=np.intp)
    kept[0] = 0
    kept[-1] = n - 1
    every = (n - 2) / (points - 2)
    a = 0
    for i in range(points - 2):
        # the candidates: bucket i of the inner points; the anchor: the next bucket's mean
        start = int(i * every) + 1
        end = int((i + 1) * every) + 1
        next_start = end
        next_end = min(int((i + 2) * every) + 1, n)
        if next_start >= next_end:  # the last bucket: the anchor is the last point
            avg_x, avg_y = xs[-1], ys[-1]
        else:
            avg_x = xs[next_start:next_end].mean()
            avg_y = ys[next_start:next_end].mean()
        ax, ay = xs[a], ys[a]
        # twice the triangle's area (the factor does not change the argmax)
        area = np.abs((ax - avg_x) * (ys[start:end] - ay) - (ax - xs[start:end]) * (avg_y - ay))
        a = start + int(np.argmax(area))
        kept[i + 1] = a
    return kept
