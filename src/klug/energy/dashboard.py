"""What the public energy dashboard shows: period figures, the goal, the live mix, charts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session
from starlette.responses import Response

from klug.core.db import PerEngine
from klug.energy import service
from klug.energy.calc import accounting
from klug.energy.models import EnergyUnit
from klug.sensors import series, timeutil
from klug.sensors.hourly import read_counters

# A year's verdict on the goal needs most of its hours: with less, "reached" or "missed"
# would be a guess.
VERDICT_MIN_COMPLETENESS = 0.9


class NotConfigured(LookupError):
    """No energy configuration yet (no demand meter)."""


@dataclass
class Snapshot:
    rows: list[EnergyUnit]
    settings: dict[str, Any]

    @property
    def factors(self) -> dict[int, float]:
        return service.emission_factors(self.settings)

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever the configuration does."""
        units = tuple((r.id, r.updated_at.isoformat()) for r in self.rows)
        return units, json.dumps(self.settings, sort_keys=True, default=str)

    @property
    def target(self) -> dict[str, Any]:
        return dict(self.settings.get("target") or {"share": 0.5, "year": 2025})


def snapshot(session: Session) -> Snapshot:
    """The configuration, from memory while its fingerprint is unchanged."""
    fingerprint = service.config_fingerprint(session)
    memo = memo_for(session)
    with memo.lock:
        kept = memo.snapshots.get(fingerprint)
    if kept is None:
        rows = [service.detached(r) for r in service.units(session)]
        kept = Snapshot(rows, service.settings(session))
        with memo.lock:
            memo.snapshots = {fingerprint: kept}  # only the newest configuration
    if not any(r.role == "demand" for r in kept.rows):
        raise NotConfigured
    return kept


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def figures_json(figures: accounting.PeriodFigures) -> dict[str, Any]:
    return {
        "demand_kwh": round(figures.demand_kwh, 1),
        "renewable_kwh": round(figures.renewable_kwh, 1),
        "generation_kwh_by_source": {
            k: round(v, 1) for k, v in figures.generation_kwh_by_source.items()
        },
        "share": _round(figures.share),
        "matched_share": _round(figures.matched_share),
        "co2_avoided_t": round(figures.co2_avoided_t, 2),
        "hours_total": figures.hours_total,
        "hours_comparable": figures.hours_comparable,
        "completeness": round(figures.completeness, 4),
        "completeness_by_meter": {k: round(v, 4) for k, v in figures.completeness_by_meter.items()},
        "emission_factor_years": {str(k): v for k, v in figures.emission_factor_years.items()},
    }


class _Memo:
    """Answers per database, keyed by everything they depend on (the period, the
    configuration and the meters' aggregate counters): a hit is exactly what a fresh
    computation would give, only without recomputing a year of hours."""

    SIZE = 64

    def __init__(self) -> None:
        self.answers: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self.snapshots: dict[tuple[Any, ...], Snapshot] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self.lock:
            answer = self.answers.get(key)
            if answer is not None:
                self.answers.move_to_end(key)
            return answer

    def get_or_compute(
        self, key: tuple[Any, ...], compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        answer = self.get(key)
        if answer is None:
            answer = compute()
            self.put(key, answer)
        return answer

    def put(self, key: tuple[Any, ...], answer: dict[str, Any]) -> None:
        with self.lock:
            self.answers[key] = answer
            while len(self.answers) > self.SIZE:
                self.answers.popitem(last=False)


_MEMOS = PerEngine(_Memo)


def memo_for(session: Session) -> _Memo:
    return _MEMOS.get(session)


def summary(session: Session, span: service.Period, now: dt.datetime) -> dict[str, Any]:
    """Share, mix, CO2 and the goal for one period."""
    snap = snapshot(session)
    counters = read_counters(session, service.meter_ids(snap.rows))
    key = (
        "summary",
        span.name,
        span.start_us,
        span.end_us,
        now.astimezone(service.BERLIN).year,
        snap.fingerprint,
        tuple(sorted(counters.items())),
    )
    return memo_for(session).get_or_compute(
        key, lambda: _summary(session, snap, span, now, counters)
    )


def _summary(
    session: Session,
    snap: Snapshot,
    span: service.Period,
    now: dt.datetime,
    counters: dict[int, tuple[int, int]],
) -> dict[str, Any]:
    result = service.accounts(session, snap.rows, snap.factors, span, counters=counters)
    return {
        "period": {
            "name": span.name,
            "from": span.start.isoformat(),
            "to": span.end.isoformat(),
        },
        **figures_json(result.figures),
        "goal": goal(session, snap, now, counters),
    }


def goal(
    session: Session,
    snap: Snapshot,
    now: dt.datetime,
    counters: dict[int, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """The configured goal and, once its year is over, an honest verdict on it."""
    target = snap.target
    year = int(target.get("year", 2025))
    share = float(target.get("share", 0.5))
    out: dict[str, Any] = {
        "share": share,
        "year": year,
        "next_share": target.get("next_share"),
        "next_year": target.get("next_year"),
        "status": "open",
    }
    local_now = now.astimezone(service.BERLIN)
    if local_now.year <= year:
        return out
    span = service.period("custom", now, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    figures = service.accounts(session, snap.rows, snap.factors, span, counters=counters).figures
    out["year_share"] = _round(figures.share)
    out["year_matched_share"] = _round(figures.matched_share)
    out["year_completeness"] = round(figures.completeness, 4)
    if figures.share is None or figures.completeness < VERDICT_MIN_COMPLETENESS:
        out["status"] = "unknown"  # too little data for that year to say
    else:
        out["status"] = "reached" if figures.share >= share else "missed"
    return out


def live_mix(session: Session) -> dict[str, Any]:
    """Current power by source from each meter's latest value, with its freshness."""
    snap = snapshot(session)
    meters = [r for r in snap.rows if r.status == "operating" and r.power_datastream_id]
    infos = {
        i.id: i
        for i in series.latest(
            session, privileged=True, ids=[r.power_datastream_id or 0 for r in meters]
        )
    }
    now = timeutil.now_micros()
    units: list[dict[str, Any]] = []
    meters_shown: list[EnergyUnit] = []
    for row in meters:
        info = infos.get(row.power_datastream_id or 0)
        if info is None:
            continue
        meters_shown.append(row)
        freshness = series.freshness(info, now)
        try:
            _, factor = accounting.unit_kind(service.stream_unit(info))
            value = info.last_result if isinstance(info.last_result, int | float) else None
        except accounting.UnitError:  # unit changed after configuration: no reading
            factor, value = 1.0, None
        units.append(
            {
                "key": row.key,
                "name": row.name,
                "role": row.role,
                "source": row.source,
                "renewable": row.renewable,
                # A stale meter's last value is not "now": it is shown, but not summed.
                "power_kw": None if value is None else round(value * factor, 1),
                "freshness": freshness,
                "time": timeutil.format_instant(info.last_phenomenon_time),
                "simulated": row.simulated,
            }
        )
    live = [
        (row.role, row.source, row.renewable, float(u["power_kw"]))
        for row, u in zip(meters_shown, units, strict=True)
        if u["freshness"] == "live" and u["power_kw"] is not None
    ]
    by_source: dict[str, float] = {}
    for role, source, _, kw in live:
        if role == "generation":
            by_source[source] = by_source.get(source, 0.0) + kw
    demand = [kw for role, _, _, kw in live if role == "demand"]
    demand_kw = sum(demand) if demand else None
    renewable_kw = sum(kw for role, _, renewable, kw in live if role == "generation" and renewable)
    return {
        "units": units,
        "generation_kw_by_source": {k: round(v, 1) for k, v in sorted(by_source.items())},
        "demand_kw": demand_kw,
        "renewable_kw": round(renewable_kw, 1),
        "share_now": _round(renewable_kw / demand_kw) if demand_kw else None,
    }


RESOLUTIONS = ("hour", "day", "month")


def chart(session: Session, span: service.Period, resolution: str) -> dict[str, Any]:
    """Demand and generation by source per hour/day/month (local), gaps as null."""
    if resolution not in RESOLUTIONS:
        raise service.PeriodError(f"'resolution' is one of {', '.join(RESOLUTIONS)}")
    snap = snapshot(session)
    result = service.accounts(session, snap.rows, snap.factors, span)
    index = pd.to_datetime(result.hours, unit="us", utc=True).tz_convert(service.BERLIN)
    frame = pd.DataFrame({"demand": result.demand.kwh}, index=index)
    for row, gen in result.units:
        kwh = gen.hourly.kwh
        if gen.in_operation is not None:
            kwh = np.where(gen.in_operation, kwh, 0.0)
        column = f"{row.source}"
        frame[column] = frame[column] + kwh if column in frame else kwh
    if resolution != "hour":
        rule = "D" if resolution == "day" else "MS"
        # A day or month with a gap hour is incomplete: its sum would understate it.
        counts = frame.notna().resample(rule).sum()
        hours = frame.resample(rule).size()
        frame = frame.resample(rule).sum(min_count=1)
        frame = frame.where(counts.eq(hours, axis=0))
    columns: dict[str, list[Any]] = {"t": [t.isoformat() for t in frame.index]}
    for name in frame.columns:
        values = frame[name].to_numpy(dtype=np.float64)
        columns[f"{name}_kwh"] = [None if np.isnan(v) else round(float(v), 1) for v in values]
    return {
        "period": {"name": span.name, "from": span.start.isoformat(), "to": span.end.isoformat()},
        "resolution": resolution,
        "columns": columns,
    }


def csv_response(columns: dict[str, list[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    names = list(columns)
    writer.writerow(names)
    for row in zip(*(columns[n] for n in names), strict=True):
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def live_datastreams(session: Session) -> list[int]:
    """The power meters a page follows for live updates."""
    return sorted(
        r.power_datastream_id
        for r in service.units(session)
        if r.status == "operating" and r.power_datastream_id
    )
