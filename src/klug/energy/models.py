"""The city's energy model: meters of demand, generation units, weather, targets.

Measurements stay in SensorThings: a unit *references* its Datastreams (power or energy
per interval) and never copies a time series.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow


class EnergyUnit(Base):
    """A demand meter or a generation unit (PV park, rooftop PV aggregate, wind, CHP …)."""

    __tablename__ = "energy_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # demand | generation
    source: Mapped[str] = mapped_column(String(32))  # pv | wind | biomass | hydro | chp_gas | load
    renewable: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="operating")  # operating | planned
    peak_power_kw: Mapped[float | None] = mapped_column(Float)
    tilt_deg: Mapped[float | None] = mapped_column(Float)
    azimuth_deg: Mapped[float | None] = mapped_column(Float)
    losses_pct: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    power_datastream_id: Mapped[int | None] = mapped_column(Integer)
    energy_datastream_id: Mapped[int | None] = mapped_column(Integer)
    commissioned_on: Mapped[dt.date | None] = mapped_column(Date)
    decommissioned_on: Mapped[dt.date | None] = mapped_column(Date)
    # Underperformance: actual < expected × threshold over the window (PV only).
    alert_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    alert_window_h: Mapped[float] = mapped_column(Float, default=2.0)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class EnergySetting(Base):
    """City-wide settings: target, UBA emission factors, weather Datastreams."""

    __tablename__ = "energy_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class EnergyAlert(Base):
    """An operator alert about a unit: underperformance or implausible readings."""

    __tablename__ = "energy_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # underperformance | negative | night_output …
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ratio: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(500), default="")
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
