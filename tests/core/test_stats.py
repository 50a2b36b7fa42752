"""The History Server's quantile rule, reproduced exactly."""

from analyzer.core.model import Quantiles
from analyzer.core.stats import shs_quantiles


def test_index_rule_without_interpolation() -> None:
    assert shs_quantiles([5, 1, 4, 2, 3]) == Quantiles(1, 2, 3, 4, 5)
    # n = 4: indices 0, 1, 2, 3, 3
    assert shs_quantiles([10, 20, 30, 40]) == Quantiles(10, 20, 30, 40, 40)


def test_empty_is_none() -> None:
    assert shs_quantiles([]) is None
    assert shs_quantiles([1, 2], count=0) is None


def test_count_quirk_positions_by_successful_tasks() -> None:
    # 12 attempts sorted, 10 successful: positions 0, 2, 5, 7, 9 (History Server's duration quantiles)
    durations = [11, 12, 12, 15, 15, 16, 16, 22, 24, 27, 562, 565]
    assert shs_quantiles(durations, count=10) == Quantiles(11, 12, 16, 22, 27)
