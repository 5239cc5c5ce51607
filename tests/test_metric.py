import math

import pytest

from autoresearch.tasks import Direction, Metric

LOW = Metric("val_bpb", Direction.MIN)
HIGH = Metric("accuracy", Direction.MAX)


def test_gain_is_direction_aware():
    assert LOW.gain(1.0, 1.5) == pytest.approx(0.5)
    assert HIGH.gain(1.0, 1.5) == pytest.approx(-0.5)


@pytest.mark.parametrize("old", [-2.0, -1e-9, 0.0, 1e-9, 3.0])
def test_threshold_is_additive_even_near_zero_and_negative(old):
    assert LOW.is_better(old - 0.02, old, min_delta=0.01)
    assert not LOW.is_better(old - 0.005, old, min_delta=0.01)
    assert HIGH.is_better(old + 0.02, old, min_delta=0.01)
    assert not HIGH.is_better(old + 0.005, old, min_delta=0.01)


def test_non_finite_never_better_and_none_sorts_last():
    assert not LOW.is_better(math.nan, 1.0)
    assert not HIGH.is_better(math.inf, 1.0)
    values = [None, 2.0, 1.0]
    assert sorted(values, key=LOW.sort_key) == [1.0, 2.0, None]
    assert sorted(values, key=HIGH.sort_key) == [2.0, 1.0, None]


def test_direction_parse():
    assert Direction.parse("lower") is Direction.MIN
    assert Direction.parse("MAX") is Direction.MAX
    with pytest.raises(ValueError, match="min' or 'max"):
        Direction.parse("sideways")
