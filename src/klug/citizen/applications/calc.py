"""Dates the procedures offer: pure functions of today's date, no database.

Bulky-waste collections run on working days – Monday to Friday, not on the public
holidays of Rhineland-Palatinate (``holidays`` package, subdivision RP) – and need a
week's notice for route planning (an assumption of the demo, see docs/applications.md).
"""

from __future__ import annotations

import datetime as dt

import holidays

COLLECTION_LEAD_DAYS = 7
COLLECTION_DATES_OFFERED = 6


def is_working_day(day: dt.date, public_holidays: holidays.HolidayBase) -> bool:
    return day.weekday() < 5 and day not in public_holidays


def collection_dates(
    today: dt.date,
    *,
    lead_days: int = COLLECTION_LEAD_DAYS,
    count: int = COLLECTION_DATES_OFFERED,
) -> list[dt.date]:
    """The next ``count`` working days at least ``lead_days`` after ``today``."""
    public_holidays = holidays.country_holidays(
        "DE", subdiv="RP", years=range(today.year, today.year + 2)
    )
    found: list[dt.date] = []
    day = today + dt.timedelta(days=lead_days)
    while len(found) < count:
        if is_working_day(day, public_holidays):
            found.append(day)
        day += dt.timedelta(days=1)
    return found
