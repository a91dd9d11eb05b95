"""Instants as clients read them: whole seconds plain, fractions only as precise as stored."""

from __future__ import annotations

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
