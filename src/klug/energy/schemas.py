"""The energy configuration (YAML or JSON) and the API's answers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["pv", "wind", "biomass", "hydro", "chp_gas", "other", "load"]
RENEWABLE_SOURCES = frozenset({"pv", "wind", "biomass", "hydro"})

# UBA: CO2 emission factor of the German electricity mix, g/kWh (../shared/data/README.md).
UBA_EMISSION_FACTORS_G_PER_KWH = {2022: 434.0, 2023: 380.0, 2024: 363.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitConfig(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    source: Source
    status: Literal["operating", "planned"] = "operating"
    renewable: bool | None = None  # default: by source
    peak_power_kw: float | None = Field(default=None, gt=0)
    tilt_deg: float | None = Field(default=None, ge=0, le=90)
    azimuth_deg: float | None = Field(default=None, ge=0, lt=360)
    losses_pct: float | None = Field(default=None, ge=0, lt=100)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    power_datastream: int | None = Field(default=None, ge=1)
    energy_datastream: int | None = Field(default=None, ge=1)
    commissioned_on: dt.date | None = None
    decommissioned_on: dt.date | None = None
    alert_threshold: float = Field(default=0.8, gt=0, lt=1)
    alert_window_h: float = Field(default=2.0, ge=0.5, le=12)
    simulated: bool = False

    @model_validator(mode="after")
    def _one_meter(self) -> UnitConfig:
        if self.status == "operating" and (self.power_datastream is None) == (
            self.energy_datastream is None
        ):
            raise ValueError(
                f"unit '{self.key}': give exactly one of power_datastream or energy_datastream"
            )
        if self.source == "pv" and self.peak_power_kw is None:
            raise ValueError(f"unit '{self.key}': a PV unit needs peak_power_kw")
        if (
            self.commissioned_on
            and self.decommissioned_on
            and self.decommissioned_on <= self.commissioned_on
        ):
            raise ValueError(f"unit '{self.key}': decommissioned before commissioned")
        return self

    @property
    def is_renewable(self) -> bool:
        return self.renewable if self.renewable is not None else self.source in RENEWABLE_SOURCES


class Target(_Strict):
    share: float = Field(default=0.5, gt=0, le=1)
    year: int = Field(default=2025, ge=2000, le=2100)
    # Restated goal once the year is over (shown next to the verdict on the old one).
    next_share: float | None = Field(default=None, gt=0, le=1)
    next_year: int | None = Field(default=None, ge=2000, le=2100)


class Weather(_Strict):
    ghi_datastream: int | None = Field(default=None, ge=1)  # W/m²
    temperature_datastream: int | None = Field(default=None, ge=1)  # °C
    wind_speed_datastream: int | None = Field(default=None, ge=1)  # m/s
    # Forecast archives for day-ahead PV: phenomenonTime = valid hour, resultTime = issue.
    ghi_forecast_datastream: int | None = Field(default=None, ge=1)  # W/m²
    cloud_cover_forecast_datastream: int | None = Field(default=None, ge=1)  # %


class EnergyConfig(_Strict):
    target: Target = Target()
    emission_factors_g_per_kwh: dict[int, float] = Field(
        default_factory=lambda: dict(UBA_EMISSION_FACTORS_G_PER_KWH)
    )
    weather: Weather = Weather()
    demand: list[UnitConfig] = Field(min_length=1)
    units: list[UnitConfig] = []

    @model_validator(mode="after")
    def _consistent(self) -> EnergyConfig:
        keys = [u.key for u in [*self.demand, *self.units]]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"unit keys must be unique: {', '.join(duplicates)}")
        for unit in self.demand:
            if unit.source != "load":
                raise ValueError(f"demand '{unit.key}' must have source 'load'")
        for unit in self.units:
            if unit.source == "load":
                raise ValueError(f"generation unit '{unit.key}' cannot have source 'load'")
        if not self.emission_factors_g_per_kwh:
            raise ValueError("at least one emission factor")
        if any(v < 0 for v in self.emission_factors_g_per_kwh.values()):
            raise ValueError("emission factors must not be negative")
        return self


class ScenarioUnitIn(_Strict):
    name: str = Field(min_length=1, max_length=100)
    source: Literal["pv", "wind", "biomass"]
    capacity_kw: float = Field(gt=0, le=10_000_000)
    tilt_deg: float = Field(default=30.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360)


# What the city already has (../shared/data/README.md: the utility's parks of 6.4 and
# 2 MWp); rooftop PV and the biomass plant are planning assumptions shown as such.
EXISTING_UNITS = [
    ScenarioUnitIn(name="Solarpark Hölzengraben", source="pv", capacity_kw=6400, tilt_deg=20),
    ScenarioUnitIn(name="Solarpark P+R Schweinsdell", source="pv", capacity_kw=2000, tilt_deg=15),
    ScenarioUnitIn(name="Dachanlagen (Annahme)", source="pv", capacity_kw=25_000, tilt_deg=30),
    ScenarioUnitIn(name="Biomasse-BHKW (Annahme)", source="biomass", capacity_kw=2000),
]

AreaKey = Literal["open_land", "rail_motorway", "car_parks"]


class ScenarioIn(_Strict):
    year: int = Field(default=2025, ge=2000, le=2100)
    demand_gwh_per_year: float = Field(default=620.0, gt=0, le=100_000)
    existing: list[ScenarioUnitIn] = Field(
        default_factory=lambda: [u.model_copy() for u in EXISTING_UNITS], max_length=50
    )
    added_pv_mwp: dict[AreaKey, float] = {}
    added_wind_mw: float = Field(default=0.0, ge=0, le=5_000)
    storage_mwh: float = Field(default=0.0, ge=0, le=50_000)
    storage_power_mw: float | None = Field(default=None, gt=0, le=50_000)
    storage_round_trip: float = Field(default=0.9, ge=0.5, le=1.0)
    export_limit_mw: float | None = Field(default=None, ge=0, le=100_000)
    target_share: float = Field(default=0.5, gt=0, le=1)
    emission_factor_g_per_kwh: float = Field(default=363.0, ge=0, le=2000)
