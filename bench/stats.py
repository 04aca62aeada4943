"""Small statistics: percentiles, medians with min–max, power-law fits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100, linear interpolation); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return percentile(values, 50.0)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and range of repeated measurements."""

    median: float
    low: float
    high: float
    n: int

    def text(self, digits: int = 0, unit: str = "") -> str:
        """``median (low–high)`` or just ``median`` for a single run."""
        if self.n == 0 or math.isnan(self.median):
            return "–"
        fmt = f"{{:,.{digits}f}}"
        main = fmt.format(self.median) + unit
        if self.n == 1 or self.low == self.high:
            return main
        return f"{main} ({fmt.format(self.low)}–{fmt.format(self.high)})"


def spread(values: Sequence[float]) -> Spread:
    """Summarise repeated measurements (NaNs dropped)."""
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return Spread(math.nan, math.nan, math.nan, 0)
    return Spread(median(clean), min(clean), max(clean), len(clean))


def power_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Fit ``y = a·x^b`` by least squares on logarithms; None with fewer than two sizes."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in points}) < 2:
        return None
    mean_x = sum(p[0] for p in points) / len(points)
    mean_y = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    sxy = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points)
    b = sxy / sxx
    return math.exp(mean_y - b * mean_x), b


def predict(fit: tuple[float, float], x: float) -> float:
    """Evaluate a power-law fit at ``x``."""
    a, b = fit
    return float(a * math.pow(x, b))


def quadratic_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Fit ``y = a·x + b·x²`` (a, b ≥ 0) by least squares: the cost model of a server that
    does O(1) work per object plus a scan of everything stored (medallion's O(N·M)).

    None with fewer than two distinct sizes.
    """
    points = [(x / 1000.0, y) for x, y in zip(xs, ys, strict=True) if x > 0]
    if len({p[0] for p in points}) < 2:
        return None
    s2 = sum(x**2 for x, _ in points)
    s3 = sum(x**3 for x, _ in points)
    s4 = sum(x**4 for x, _ in points)
    sxy = sum(x * y for x, y in points)
    sx2y = sum(x * x * y for x, y in points)
    det = s2 * s4 - s3 * s3
    a = (sxy * s4 - s3 * sx2y) / det if det else -1.0
    b = (s2 * sx2y - s3 * sxy) / det if det else -1.0
    if b < 0:
        a, b = sxy / s2, 0.0
    elif a < 0:
        a, b = 0.0, sx2y / s4
    return a / 1000.0, b / 1e6


def predict_quadratic(fit: tuple[float, float], x: float) -> float:
    """Evaluate a ``quadratic_fit`` at ``x``."""
    a, b = fit
    return a * x + b * x * x
