"""Solar plant monitoring: expected against actual, performance ratio per day, faults and
implausible readings – and the operator alerts they raise.

Expected output comes from the *measured* weather (the configured irradiance and
temperature Datastreams). Without measured irradiance the expectation is clear sky: it
is shown (as an upper bound) but raises no underperformance alert, because every cloudy
day would look like a fault.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.events import publish_after_commit
from klug.energy import dashboard, service
from klug.energy.calc import pv
from klug.energy.models import EnergyAlert, EnergyUnit
from klug.identity.deps import Principal
from klug.sensors.hourly import hourly_buckets

ALERTS_TOPIC = "energy.alerts"
HOUR = pd.Timedelta(hours=1)


@dataclass
class PlantReport:
    unit: EnergyUnit
    basis: str  # measured | clear_sky
    hours: pd.DatetimeIndex  # UTC hour starts
    actual_kwh: np.ndarray[Any, np.dtype[np.float64]]
    expected_kwh: np.ndarray[Any, np.dtype[np.float64]]
    poa_kwh_m2: np.ndarray[Any, np.dtype[np.float64]]
    sun_elevation_deg: np.ndarray[Any, np.dtype[np.float64]]

    def days(self) -> list[dict[str, Any]]:
        """Per local day: actual, expected, performance ratio (IEC 61724) and index."""
        frame = pd.DataFrame(
            {"actual": self.actual_kwh, "expected": self.expected_kwh, "poa": self.poa_kwh_m2},
            index=self.hours.tz_convert(service.BERLIN),
        )
        both = frame.dropna()
        out = []
        for day, part in both.groupby(both.index.date):
            hours_in_day = int((frame.index.date == day).sum())
            kwp = self.unit.peak_power_kw or 0.0
            actual, expected, poa = part["actual"].sum(), part["expected"].sum(), part["poa"].sum()
            out.append(
                {
                    "day": day.isoformat(),
                    "actual_kwh": round(float(actual), 1),
                    "expected_kwh": round(float(expected), 1),
                    "performance_ratio": _ratio(pv.performance_ratio(actual, kwp, poa)),
                    "performance_index": _ratio(actual / expected if expected > 0 else None),
                    "completeness": round(len(part) / hours_in_day, 3) if hours_in_day else 0.0,
                }
            )
        return out


def _ratio(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


def _plant(row: EnergyUnit) -> pv.Plant:
    return pv.Plant(
        row.key,
        row.peak_power_kw or 0.0,
        tilt_deg=row.tilt_deg if row.tilt_deg is not None else 30.0,
        azimuth_deg=row.azimuth_deg if row.azimuth_deg is not None else 180.0,
        losses_pct=row.losses_pct if row.losses_pct is not None else 14.0,
    )


def pv_units(snap: dashboard.Snapshot) -> list[EnergyUnit]:
    return [
        r
        for r in snap.rows
        if r.role == "generation"
        and r.source == "pv"
        and r.status == "operating"
        and r.peak_power_kw
        and (r.power_datastream_id or r.energy_datastream_id)
    ]


def _weather_means(
    session: Session, datastream: int | None, hours: np.ndarray[Any, np.dtype[np.int64]]
) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """Hourly means of a weather Datastream (NaN where the hour has no value)."""
    if datastream is None or not len(hours):
        return None
    got = hourly_buckets(session, [datastream], start=int(hours[0]), end=int(hours[-1]) + 1)
    b = got[datastream]
    out = np.full(len(hours), np.nan)
    index = (b.start - hours[0]) // 3_600_000_000
    ok = (index >= 0) & (index < len(hours)) & (b.count > 0)
    out[index[ok]] = b.sum[ok] / b.count[ok]
    return out


def reports(session: Session, now: dt.datetime, days: int = 7) -> list[PlantReport]:
    """Expected against actual for every metered PV unit over the last ``days`` days."""
    snap = dashboard.snapshot(session)
    units = pv_units(snap)
    if not units:
        return []
    today = now.astimezone(service.BERLIN).date()
    span = service.period(
        "custom", now, today - dt.timedelta(days=days - 1), today + dt.timedelta(1)
    )
    result = service.accounts(session, snap.rows, snap.factors, span)
    weather = snap.settings.get("weather") or {}
    ghi = _weather_means(session, weather.get("ghi_datastream"), result.hours)
    temp = _weather_means(session, weather.get("temperature_datastream"), result.hours)
    hours = pd.to_datetime(result.hours, unit="us", utc=True)
    middle = (hours + HOUR / 2).tz_convert(pv.TIME_ZONE)
    measured = ghi is not None and bool(np.isfinite(ghi).any())
    expected = pv.expected_power(
        [_plant(u) for u in units],
        middle,
        ghi_w_m2=np.nan_to_num(ghi, nan=0.0) if measured and ghi is not None else None,
        temp_air_c=np.nan_to_num(temp, nan=12.0) if temp is not None else None,
    )
    by_key = {g.name: g for _, g in result.units}
    out = []
    for unit in units:
        exp = expected.ac_kw[unit.key].to_numpy(dtype=np.float64).copy()
        if measured and ghi is not None:
            exp[~np.isfinite(ghi)] = np.nan  # no irradiance measured: no expectation
        actual = by_key[unit.key].hourly.kwh if unit.key in by_key else np.full(len(hours), np.nan)
        out.append(
            PlantReport(
                unit,
                "measured" if measured else "clear_sky",
                hours,
                actual,
                exp,
                expected.poa_w_m2[unit.key].to_numpy(dtype=np.float64) / 1000.0,
                expected.sun_elevation_deg.to_numpy(dtype=np.float64),
            )
        )
    return out


def findings(
    report: PlantReport,
) -> list[tuple[str, pd.Timestamp, pd.Timestamp, float | None, str]]:
    """(kind, start, end, ratio, detail) of faults and implausible readings in a report."""
    unit = report.unit
    kwp = unit.peak_power_kw or 0.0
    actual = pd.Series(report.actual_kwh, index=report.hours)  # kWh per hour = mean kW
    sun = pd.Series(report.sun_elevation_deg, index=report.hours)
    found: list[tuple[str, pd.Timestamp, pd.Timestamp, float | None, str]] = []
    if report.basis == "measured":
        expected = pd.Series(report.expected_kwh, index=report.hours)
        for hit in pv.detect_underperformance(
            actual,
            expected,
            sun,
            peak_power_kwp=kwp,
            threshold=unit.alert_threshold,
            window=f"{unit.alert_window_h}h",
        ):
            detail = f"{hit.ratio:.0%} of the expected output"
            found.append(("underperformance", hit.start, hit.end, hit.ratio, detail))
    for issue in pv.quality_issues(actual, sun, peak_power_kwp=kwp):
        found.append((issue.kind, issue.first, issue.first, None, f"{issue.count} hours"))
    return found


def raise_alerts(session: Session, now: dt.datetime) -> list[EnergyAlert]:
    """Store the findings that are new (per unit, kind and start) and announce them."""
    created = []
    for report in reports(session, now, days=2):
        for kind, start, end, ratio, detail in findings(report):
            started = start.to_pydatetime()
            exists = session.scalar(
                select(EnergyAlert.id).where(
                    EnergyAlert.unit_id == report.unit.id,
                    EnergyAlert.kind == kind,
                    EnergyAlert.started_at == started,
                )
            )
            if exists is not None:
                continue
            alert = EnergyAlert(
                unit_id=report.unit.id,
                kind=kind,
                started_at=started,
                ended_at=end.to_pydatetime(),
                ratio=ratio,
                detail=detail[:500],
            )
            session.add(alert)
            created.append(alert)
    session.flush()
    if created and session.info.get("klug_bus") is not None:
        publish_after_commit(
            session,
            ALERTS_TOPIC,
            {
                "alerts": [
                    {"id": a.id, "unit_id": a.unit_id, "kind": a.kind, "ratio": a.ratio}
                    for a in created
                ]
            },
        )
    return created


def recent_alerts(session: Session, limit: int = 100) -> list[EnergyAlert]:
    query = select(EnergyAlert).order_by(EnergyAlert.raised_at.desc()).limit(limit)
    return list(session.scalars(query))


def acknowledge(session: Session, alert_id: int, principal: Principal) -> bool:
    """A person has seen the alert and takes care of it (audited); False: no such alert."""
    alert = session.get(EnergyAlert, alert_id)
    if alert is None:
        return False
    if alert.acknowledged_at is None:
        alert.acknowledged_at = dt.datetime.now(dt.UTC)
        alert.acknowledged_by = principal.id if principal.kind == "account" else None
        audit.record(
            session,
            action="energy.alert.acknowledge",
            actor=principal.actor,
            target_kind="energy_alert",
            target_id=alert.id,
        )
        session.flush()
    return True
