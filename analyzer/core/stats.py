"""Quantiles computed the way Spark's History Server computes them.

The History Server sorts the values and, for quantile q over n values, takes the value
at index ``min(int(q * n), n - 1)``: no interpolation. Using the same rule keeps every
figure comparable with what users see in the Spark UI.
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.core.model import Quantiles

SHS_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def shs_quantiles(values: Sequence[int] | Sequence[float], count: int | None = None) -> Quantiles | None:
    """Five-number summary of ``values`` (None when there are none).

    ``count`` reproduces a History Server quirk for task durations: it sorts the
    durations of every ended attempt (failed ones too) but positions the quantiles by
    the number of *successful* tasks. Pass that number to get the same figures.
    """
    n = len(values) if count is None else min(count, len(values))
    if n == 0:
        return None
    ordered = sorted(values)
    picks = [float(ordered[min(int(q * n), n - 1)]) for q in SHS_QUANTILES]
    return Quantiles(*picks)
