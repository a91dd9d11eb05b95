"""Instants as clients read them: whole seconds plain, fractions only as precise as stored."""

from __future__ import annotations

import random

import pytest

from klug.sensors import timeutil


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("2026-11-26T07:30:00Z", "2026-11-26T07:30:00Z"),
        ("2026-11-26T07:30:00.250Z", "2026-11-26T07:30:00.250Z"),
        ("2026-11-26T07:30:00.000250Z", "2026-11-26T07:30:00.000250Z"),
        ("2026-11-26T08:30:00+01:00", "2026-11-26T07:30:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),  # before the epoch
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00Z"),  # four-digit years, always
    ],
)
def test_instants_format_back_in_utc(text: str, formatted: str) -> None:
    assert timeutil.format_instant(timeutil.parse_instant(text)) == formatted


def test_an_interval_formats_as_start_slash_end() -> None:
    start = timeutil.parse_instant("2026-11-26T07:00:00Z")
    end = timeutil.parse_instant("2026-11-26T08:00:00Z")
    assert timeutil.format_time_value(start, end) == "2026-11-26T07:00:00Z/2026-11-26T08:00:00Z"
    assert timeutil.format_instant(None) is None


def test_many_instants_at_once_read_exactly_as_one_by_one() -> None:
    rng = random.Random(5)
    values: list[int | None] = [None, 0, 1, 999, 1_000, 1_000_000, -1_500_000]
    values += [rng.randrange(-(10**15), 4 * 10**15) for _ in range(500)]
    values += [rng.randrange(0, 4 * 10**9) * 1_000_000 for _ in range(100)]  # whole seconds
    values += [rng.randrange(0, 4 * 10**12) * 1_000 for _ in range(100)]  # milliseconds
    assert timeutil.format_instants(values) == [timeutil.format_instant(v) for v in values]
    assert timeutil.format_instants([None, None]) == [None, None]
