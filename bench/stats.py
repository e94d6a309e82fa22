"""Percentiles and summaries of timing samples: nearest-rank, so a p99 is a value that was observed."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of non-empty `samples`."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], got {q}")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """min / p50 / p90 / p99 / max and the mean of samples given in seconds, in milliseconds."""
    return {
        "n": len(samples_s),
        "min_ms": round(min(samples_s) * 1000, 3),
        "p50_ms": round(percentile(samples_s, 50) * 1000, 3),
        "p90_ms": round(percentile(samples_s, 90) * 1000, 3),
        "p99_ms": round(percentile(samples_s, 99) * 1000, 3),
        "max_ms": round(max(samples_s) * 1000, 3),
        "mean_ms": round(sum(samples_s) / len(samples_s) * 1000, 3),
    }
