"""The figures the city publishes about reports: per category open and closed reports,
and the median time to fix of the last 100 closed ones."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klug.citizen.reports import calc
from klug.citizen.reports.categories import Catalogue, Category
from klug.citizen.reports.models import CLOSED, Report


@dataclass(frozen=True)
class CategoryFigures:
    category: Category
    open: int
    closed: int
    median_days_to_fix: float | None
    closed_in_median: int


def statistics(
    *, session: Session, catalogue: Catalogue, last_closed: int = 100
) -> list[CategoryFigures]:
    """Per category: open and closed reports, and the median time to fix [days] of the
    last ``last_closed`` closed ones (what the city publishes)."""
    is_closed = Report.status == CLOSED
    counts: dict[tuple[str, bool], int] = {
        (code, bool(closed)): count
        for code, closed, count in session.execute(
            select(Report.category_code, is_closed, func.count()).group_by(
                Report.category_code, is_closed
            )
        )
    }
    figures = []
    for category in catalogue.categories:
        recent = session.execute(
            select(Report.created_at, Report.closed_at)
            .where(Report.category_code == category.code, is_closed, Report.closed_at.is_not(None))
            .order_by(Report.closed_at.desc())
            .limit(last_closed)
        ).all()
        durations = [
            (closed_at - created_at).total_seconds()
            for created_at, closed_at in recent
            if closed_at is not None
        ]
        figures.append(
            CategoryFigures(
                category=category,
                open=counts.get((category.code, False), 0),
                closed=counts.get((category.code, True), 0),
                median_days_to_fix=calc.median_days(durations),
                closed_in_median=len(durations),
            )
        )
    return figures
