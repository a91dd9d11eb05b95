"""ISO 8601 instants, intervals and durations ↔ microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import isodate
import numpy as np

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROS = 1_000_000


class TimeFormatError(ValueError):
    pass


def now_micros() -> int:
    return time.time_ns() // 1000


def to_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise TimeFormatError("times need a time zone (e.g. 2026-01-01T12:00:00Z)")
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(micros: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=micros)


def parse_instant(text: str) -> int:
    """``2026-01-01T12:00:00Z``, with offsets and fractions; a time zone is required."""
    text = text.strip()
    try:
        if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # 2010-12-23T10:20:00-0700 (used in the standard)
        value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise TimeFormatError(f"not an ISO 8601 time: {text!r}") from None
    return to_micros(value)


@dataclass(frozen=True)
class TimeValue:
    """An instant (``end is None``) or an interval [start, end)."""

    start: int
    end: int | None = None

    @property
    def is_interval(self) -> bool:
        return self.end is not None


def parse_time_value(text: str) -> TimeValue:
    """An instant, or an interval ``start/end`` (ISO 8601; ``start/duration`` too)."""
    if "/" not in text:
        return TimeValue(parse_instant(text))
    first, second = text.split("/", 1)
    if second.upper().startswith("P"):
        start = parse_instant(first)
        return TimeValue(start, add_duration(start, parse_duration(second)))
    if first.upper().startswith("P"):
        end = parse_instant(second)
        return TimeValue(add_duration(end, parse_duration(first), sign=-1), end)
    start, end = parse_instant(first), parse_instant(second)
    if end < start:
        raise TimeFormatError(f"the interval {text!r} ends before it starts")
    return TimeValue(start, end)


def parse_duration(text: str) -> isodate.Duration | dt.timedelta:
    try:
        return isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError):
        raise TimeFormatError(f"not an ISO 8601 duration: {text!r}") from None


def fixed_micros(duration: isodate.Duration | dt.timedelta) -> int | None:
    """The length of a duration in µs, or None when it has months or years (calendar-dependent)."""
    if isinstance(duration, isodate.Duration):
        if duration.years or duration.months:
            return None
        duration = duration.tdelta
    return int(duration.total_seconds() * MICROS)


def add_duration(micros: int, duration: isodate.Duration | dt.timedelta, sign: int = 1) -> int:
    """Calendar-correct: 2026-01-31 + P1M = 2026-02-28 (as isodate defines it)."""
    base = from_micros(micros)
    try:
        return to_micros(base + duration if sign > 0 else base - duration)
    except OverflowError:
        raise TimeFormatError("the time would lie outside the years 1 to 9999") from None


# Naive on purpose: isoformat() then writes no offset, and we append "Z".
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001
_SECOND = dt.timedelta(seconds=1)


def format_instant(micros: int | None) -> str | None:
    """``2026-11-01T10:00:00Z``, with milliseconds or microseconds only when present.

    Every Observation in a response passes through here (twice or thrice), so it uses
    the C-implemented ``isoformat`` rather than ``strftime``."""
    if micros is None:
        return None
    seconds, fraction = divmod(micros, MICROS)
    text = (_NAIVE_EPOCH + seconds * _SECOND).isoformat()
    if fraction == 0:
        return text + "Z"
    if fraction % 1000 == 0:
        return f"{text}.{fraction // 1000:03d}Z"
    return f"{text}.{fraction:06d}Z"


def format_instants(values: list[int | None]) -> list[str | None]:
    """:func:`format_instant` for many values at once (numpy, ~10× faster for a page of
    1,600 latest values); the same text for every value."""
    present = [v for v in values if v is not None]
    if not present:
        return [None] * len(values)
    micros = np.array(present, dtype=np.int64)
    stamps = micros.astype("datetime64[us]")
    fraction = micros % MICROS
    texts = np.where(
        fraction == 0,
        np.char.add(np.datetime_as_string(stamps, unit="s"), "Z"),
        np.where(
            fraction % 1000 == 0,
            np.char.add(np.datetime_as_string(stamps, unit="ms"), "Z"),
            np.char.add(np.datetime_as_string(stamps, unit="us"), "Z"),
        ),
    ).tolist()
    found = iter(texts)
    return [None if v is None else next(found) for v in values]


def format_time_value(start: int | None, end: int | None) -> str | None:
    if start is None:
        return None
    if end is None:
        return format_instant(start)
    return f"{format_instant(start)}/{format_instant(end)}"
