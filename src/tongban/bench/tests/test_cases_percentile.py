"""The case bench's transition percentiles (nearest rank over every transition of every worker)."""

from tongban.bench.cases import _percentile


def test_percentile_is_the_nearest_rank_of_sorted_durations():
    durations = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert _percentile(durations, 0.99) == 0.099
    assert _percentile(durations, 0.50) == 0.050
    assert _percentile([0.007], 0.99) == 0.007


def test_percentile_of_no_transitions_is_zero():
    assert _percentile([], 0.99) == 0.0
