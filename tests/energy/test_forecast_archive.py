"""Archived weather forecasts are read as they were known before the cutoff."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from klug.energy.calc.forecast import HOUR_US, as_known_at

H = HOUR_US


def test_latest_issue_before_the_cutoff_wins_and_later_issues_are_ignored() -> None:
    hours = np.array([10 * H, 11 * H, 12 * H])
    valid = np.array([10 * H, 11 * H, 12 * H, 10 * H, 11 * H, 12 * H, 11 * H])
    issued = np.array([1 * H, 1 * H, 1 * H, 5 * H, 5 * H, 5 * H, 10 * H + 1])
    values = np.array([10.0, 20.0, 30.0, 11.0, 21.0, 31.0, 99.0])
    # Known by 6 h: the 5 h issue; the issue at 10 h (hindsight) must not count.
    assert_allclose(as_known_at(hours, 6 * H, valid, issued, values), [11.0, 21.0, 31.0])
    # Known by 3 h: only the first issue.
    assert_allclose(as_known_at(hours, 3 * H, valid, issued, values), [10.0, 20.0, 30.0])
    # Per-hour cutoffs: each hour sees what was known by its own cutoff.
    cutoffs = np.array([3 * H, 6 * H, 11 * H])
    assert_allclose(as_known_at(hours, cutoffs, valid, issued, values), [10.0, 21.0, 31.0])
    # An issue at exactly the cutoff was not known before it.
    assert_allclose(as_known_at(hours, 5 * H, valid, issued, values), [10.0, 20.0, 30.0])


def test_quarter_hour_values_are_averaged_and_uncovered_hours_are_gaps() -> None:
    hours = np.array([0, H, 2 * H])
    valid = np.array([0, H // 4, H // 2, 3 * H // 4, 2 * H])
    issued = np.full(5, -H)
    values = np.array([0.0, 40.0, 80.0, 100.0, 50.0])
    got = as_known_at(hours, 0, valid, issued, values)
    assert_allclose(got[[0, 2]], [55.0, 50.0])
    assert np.isnan(got[1])  # nothing forecast for that hour: a gap, never zero


def test_values_outside_the_target_hours_and_non_finite_values_are_ignored() -> None:
    hours = np.array([5 * H, 7 * H])  # not contiguous: 6 h is no target
    valid = np.array([4 * H, 5 * H, 6 * H, 7 * H, 7 * H, 8 * H])
    issued = np.zeros(6, dtype=np.int64)
    values = np.array([1.0, 2.0, 3.0, np.nan, 4.0, 5.0])
    assert_allclose(as_known_at(hours, H, valid, issued, values), [2.0, 4.0])


def test_empty_inputs_and_bad_shapes() -> None:
    assert_array_equal(as_known_at(np.array([0, H]), 0, [], [], []), [np.nan, np.nan])
    assert as_known_at(np.array([], dtype=np.int64), 0, [0], [0], [1.0]).shape == (0,)
    with pytest.raises(ValueError, match="same length"):
        as_known_at(np.array([0]), H, [0, 1], [0], [1.0])
    with pytest.raises(ValueError, match="increasing"):
        as_known_at(np.array([H, 0]), H, [0], [0], [1.0])
