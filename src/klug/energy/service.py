"""Energy use cases: the configuration, period figures, the generation mix, chart data.

Reads measurements only through the sensor backbone's public series functions (hourly
aggregates), and accounts with :mod:`klug.energy.calc.accounting`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klug.energy.calc import accounting
from klug.energy.models import EnergySetting, EnergyUnit
from klug.energy.schemas import EnergyConfig, Target, UnitConfig, Weather
from klug.sensors import series
from klug.sensors.hourly import hourly_buckets

BERLIN = ZoneInfo("Europe/Berlin")
PERIODS = ("today", "month", "year", "rolling12", "custom")


class ConfigError(ValueError):
    """The configuration does not fit the Datastreams it names.

    ``reason`` (missing, not_energy, measures_power, measures_energy, interval, …) with
    ``unit`` and ``datastream`` let a form say it next to the field, in the visitor's language.
    """

    def __init__(
        self,
        message: str,
        *,
        unit: str | None = None,
        datastream: int | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.unit = unit
        self.datastream = datastream
        self.reason = reason


# ---------------------------------------------------------------- configuration


def stream_unit(info: series.StreamInfo) -> str:
    unit = info.unit or {}
    return str(unit.get("symbol") or unit.get("name") or "")


def check_meters(session: Session, config: EnergyConfig) -> None:
    """Every named Datastream exists, has a power/energy unit of the right kind and a cadence."""
    # Every unit's meter on its own: one Datastream may be named twice, once wrongly.
    wanted: list[tuple[int, str, str]] = []
    for unit in [*config.demand, *config.units]:
        if unit.power_datastream:
            wanted.append((unit.power_datastream, unit.key, "power"))
        if unit.energy_datastream:
            wanted.append((unit.energy_datastream, unit.key, "energy"))
    ids = sorted({ds for ds, _, _ in wanted})
    infos = {i.id: i for i in series.latest(session, privileged=True, ids=ids)}
    for ds, key, kind in sorted(wanted):
        info = infos.get(ds)
        if info is None:
            raise _refused(key, ds, "missing", "does not exist")
        symbol = stream_unit(info)
        try:
            actual, _ = accounting.unit_kind(symbol)
        except accounting.UnitError as exc:
            raise _refused(key, ds, "not_energy", f"cannot be read: {exc}") from None
        if actual != kind:
            problem = f"measures {actual} ({symbol}), but is configured as its {kind} meter"
            raise _refused(key, ds, f"measures_{actual}", problem)
        interval = info.expected_interval_s
        if not interval or interval > 3600 or 3600 % interval:
            problem = (
                "needs an expected interval that divides an hour (properties.expectedInterval, "
                f"e.g. PT15M); it has {interval or 'none'}"
            )
            raise _refused(key, ds, "interval", problem)
    _check_weather(session, config.weather)


_IRRADIANCE = frozenset({"W/m²", "W/m2", "W m-2"})
# The unit symbols a weather Datastream may have (None: not checked).
WEATHER_UNITS: dict[str, frozenset[str] | None] = {
    "ghi_datastream": _IRRADIANCE,
    "temperature_datastream": None,
    "wind_speed_datastream": None,
    "ghi_forecast_datastream": _IRRADIANCE,
    "cloud_cover_forecast_datastream": frozenset({"%"}),
}


def _check_weather(session: Session, weather: Weather) -> None:
    for field, symbols in WEATHER_UNITS.items():
        ds = getattr(weather, field)
        if ds is None:
            continue
        found = series.latest(session, privileged=True, ids=[ds])
        if not found:
            message = f"weather.{field}: Datastream {ds} does not exist"
            raise ConfigError(message, datastream=ds, reason="missing")
        symbol = stream_unit(found[0])
        if symbols is not None and symbol not in symbols:
            expected = " or ".join(sorted(symbols))
            message = f"weather.{field}: Datastream {ds} is in '{symbol}', expected {expected}"
            raise ConfigError(message, datastream=ds, reason="weather_unit")


def _refused(key: str, ds: int, reason: str, problem: str) -> ConfigError:
    message = f"unit '{key}': Datastream {ds} {problem}"
    return ConfigError(message, unit=key, datastream=ds, reason=reason)


# The unit's fields are the row's columns, but for the meters' names and the default of
# ``renewable`` (by source; a demand meter is never renewable).
_COLUMN_OF = {
    "power_datastream": "power_datastream_id",
    "energy_datastream": "energy_datastream_id",
}


def _columns(unit: UnitConfig, role: str) -> dict[str, Any]:
    columns = {_COLUMN_OF.get(k, k): v for k, v in unit.model_dump().items() if k != "renewable"}
    return {**columns, "role": role, "renewable": unit.is_renewable and role == "generation"}


def replace_config(session: Session, config: EnergyConfig) -> None:
    """Replace the whole configuration (one transaction: the caller commits or nothing).

    A unit whose key stays keeps its row: its alerts (by unit id) stay attached to it.
    """
    check_meters(session, config)
    wanted = {u.key: _columns(u, "demand") for u in config.demand}
    wanted |= {u.key: _columns(u, "generation") for u in config.units}
    rows = {row.key: row for row in session.scalars(select(EnergyUnit))}
    for key, row in rows.items():
        if key not in wanted:
            session.delete(row)
    session.flush()
    for key, columns in wanted.items():
        if key in rows:
            for name, value in columns.items():
                setattr(rows[key], name, value)
        else:
            session.add(EnergyUnit(**columns))
    values = {
        "target": config.target.model_dump(),
        "emission_factors_g_per_kwh": {
            str(k): v for k, v in config.emission_factors_g_per_kwh.items()
        },
        "weather": config.weather.model_dump(),
    }
    for key, value in values.items():
        setting = session.get(EnergySetting, key)
        if setting is None:
            session.add(EnergySetting(key=key, value=value))
        else:
            setting.value = value
    session.flush()


def _unit_config(row: EnergyUnit) -> UnitConfig:
    return UnitConfig(
        key=row.key,
        name=row.name,
        source=row.source,
        status=row.status,
        renewable=row.renewable if row.role == "generation" else None,
        peak_power_kw=row.peak_power_kw,
        tilt_deg=row.tilt_deg,
        azimuth_deg=row.azimuth_deg,
        losses_pct=row.losses_pct,
        latitude=row.latitude,
        longitude=row.longitude,
        power_datastream=row.power_datastream_id,
        energy_datastream=row.energy_datastream_id,
        commissioned_on=row.commissioned_on,
        decommissioned_on=row.decommissioned_on,
        alert_threshold=row.alert_threshold,
        alert_window_h=row.alert_window_h,
        simulated=row.simulated,
    )


def current_config(session: Session) -> EnergyConfig | None:
    rows = session.scalars(select(EnergyUnit).order_by(EnergyUnit.id)).all()
    demand = [_unit_config(r) for r in rows if r.role == "demand"]
    if not demand:
        return None
    settings = {s.key: s.value for s in session.scalars(select(EnergySetting))}
    return EnergyConfig(
        target=Target(**settings.get("target", {})),
        emission_factors_g_per_kwh={
            int(k): float(v) for k, v in settings.get("emission_factors_g_per_kwh", {}).items()
        },
        weather=Weather(**settings.get("weather", {})),
        demand=demand,
        units=[_unit_config(r) for r in rows if r.role == "generation"],
    )


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    name: str
    start: dt.datetime  # local, inclusive
    end: dt.datetime  # local, exclusive

    @property
    def start_us(self) -> int:
        return int(self.start.timestamp() * 1_000_000)

    @property
    def end_us(self) -> int:
        return int(self.end.timestamp() * 1_000_000)


class PeriodError(ValueError):
    pass


def period(
    name: str, now: dt.datetime, start: dt.date | None = None, end: dt.date | None = None
) -> Period:
    """A period in local time (Europe/Berlin); ``end`` is exclusive and never after now."""
    local = now.astimezone(BERLIN)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "today":
        begin = midnight
    elif name == "month":
        begin = midnight.replace(day=1)
    elif name == "year":
        begin = midnight.replace(month=1, day=1)
    elif name == "rolling12":
        begin = (local - dt.timedelta(days=365)).replace(minute=0, second=0, microsecond=0)
    elif name == "custom":
        if start is None or end is None:
            raise PeriodError("a custom period needs 'from' and 'to' (dates)")
        if end <= start:
            raise PeriodError("'to' must be after 'from'")
        if (end - start).days > 3 * 366:
            raise PeriodError("a period spans at most three years")
        first = dt.datetime.combine(start, dt.time(), BERLIN)
        last = dt.datetime.combine(end, dt.time(), BERLIN)
        return Period(name, first, min(last, _hour(local)))
    else:
        raise PeriodError(f"'period' is one of {', '.join(PERIODS)}")
    # Up to the last full hour: the running hour is not complete yet.
    return Period(name, begin, _hour(local))


def _hour(local: dt.datetime) -> dt.datetime:
    return local.replace(minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------- accounting


def _in_operation(row: EnergyUnit, hours: NDArray[np.int64]) -> NDArray[np.bool_] | None:
    if row.commissioned_on is None and row.decommissioned_on is None:
        return None
    local_dates = pd.to_datetime(hours, unit="us", utc=True).tz_convert(BERLIN).date
    dates = np.array(local_dates)
    mask = np.ones(len(hours), dtype=bool)
    if row.commissioned_on is not None:
        mask &= dates >= row.commissioned_on
    if row.decommissioned_on is not None:
        mask &= dates < row.decommissioned_on
    return mask


@dataclass
class Accounts:
    hours: NDArray[np.int64]
    demand: accounting.Hourly
    units: list[tuple[EnergyUnit, accounting.Generation]]
    figures: accounting.PeriodFigures


def _meter(row: EnergyUnit) -> int:
    """The unit's meter Datastream (0: none)."""
    return row.power_datastream_id or row.energy_datastream_id or 0


def meter_ids(rows: list[EnergyUnit]) -> list[int]:
    """The Datastreams of the operating meters."""
    return sorted({_meter(r) for r in rows if r.status == "operating" and _meter(r)})


def accounts(
    session: Session,
    rows: list[EnergyUnit],
    factors: dict[int, float],
    span: Period,
    *,
    counters: dict[int, tuple[int, int]] | None = None,
) -> Accounts:
    """Hourly energy of every meter in the period, and the period's figures."""
    hours = accounting.hour_range(span.start_us, span.end_us)
    meters = [r for r in rows if r.status == "operating" and _meter(r)]
    ids = meter_ids(rows)
    infos = {i.id: i for i in series.latest(session, privileged=True, ids=ids)}
    data = hourly_buckets(session, ids, start=span.start_us, end=span.end_us, counters=counters)
    hourly: dict[int, accounting.Hourly] = {}
    unusable = accounting.Hourly(hours, np.full(len(hours), np.nan), np.zeros(len(hours)))
    for ds in ids:
        info = infos.get(ds)
        if info is None:  # a Datastream deleted after configuration: all gaps
            hourly[ds] = unusable
            continue
        b = data[ds]
        try:
            hourly[ds] = accounting.hourly_from_buckets(
                hours,
                b.start,
                b.sum,
                b.count,
                unit=stream_unit(info),
                interval_s=info.expected_interval_s or 3600,
            )
        except accounting.UnitError:
            # The Datastream's unit or cadence was changed after configuration: its
            # values cannot be read as energy – gaps, visible in the completeness.
            hourly[ds] = unusable
    demand = _sum_hourly([hourly[_meter(r)] for r in meters if r.role == "demand"], hours)
    generation = [
        (
            r,
            accounting.Generation(
                r.key, r.source, r.renewable, hourly[_meter(r)], _in_operation(r, hours)
            ),
        )
        for r in meters
        if r.role == "generation"
    ]
    local_years = _local_years(hours)
    figures = accounting.period_figures(
        demand,
        [g for _, g in generation],
        local_years=local_years,
        emission_factors_g_per_kwh=factors,
    )
    # Per demand meter, by its key (the sum above is a gap wherever any of them is).
    figures.completeness_by_meter.pop("demand", None)
    for r in meters:
        if r.role == "demand":
            figures.completeness_by_meter[r.key] = hourly[_meter(r)].completeness
    return Accounts(hours, demand, generation, figures)


def _local_years(hours: NDArray[np.int64]) -> NDArray[np.int64]:
    """The local (Europe/Berlin) calendar year of each hour, by the years' UTC starts."""
    if not len(hours):
        return np.zeros(0, dtype=np.int64)
    first = dt.datetime.fromtimestamp(hours[0] / 1e6, BERLIN).year
    last = dt.datetime.fromtimestamp(hours[-1] / 1e6, BERLIN).year
    years = np.arange(first, last + 1, dtype=np.int64)
    starts = np.array(
        [int(dt.datetime(int(y), 1, 1, tzinfo=BERLIN).timestamp() * 1e6) for y in years[1:]],
        dtype=np.int64,
    )
    return years[np.searchsorted(starts, hours, side="right")]


def _sum_hourly(parts: list[accounting.Hourly], hours: NDArray[np.int64]) -> accounting.Hourly:
    """Several demand meters (districts) add up; an hour is a gap if any of them is."""
    if not parts:
        return accounting.Hourly(hours, np.full(len(hours), np.nan), np.zeros(len(hours)))
    kwh = np.sum([p.kwh for p in parts], axis=0)
    coverage = np.min([p.coverage for p in parts], axis=0)
    return accounting.Hourly(hours, kwh, coverage, sum(p.over_delivered for p in parts))


def units(session: Session) -> list[EnergyUnit]:
    return list(session.scalars(select(EnergyUnit).order_by(EnergyUnit.role, EnergyUnit.id)))


def config_fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever the configuration does (a replacement makes new rows; an edit
    moves ``updated_at``): one small query instead of loading every unit."""
    unit, setting = EnergyUnit, EnergySetting
    row = session.execute(
        select(
            select(func.count(unit.id)).scalar_subquery(),
            select(func.max(unit.id)).scalar_subquery(),
            select(func.max(unit.updated_at)).scalar_subquery(),
            select(func.count(setting.key)).scalar_subquery(),
            select(func.max(setting.updated_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


def detached(row: EnergyUnit) -> EnergyUnit:
    """A copy outside any session: safe to keep across requests (a session's own objects
    expire at its commit)."""
    return EnergyUnit(**{c.key: getattr(row, c.key) for c in EnergyUnit.__table__.columns})


def settings(session: Session) -> dict[str, Any]:
    return {s.key: s.value for s in session.scalars(select(EnergySetting))}


def emission_factors(values: dict[str, Any]) -> dict[int, float]:
    table = values.get("emission_factors_g_per_kwh") or {}
    return {int(k): float(v) for k, v in table.items()}
