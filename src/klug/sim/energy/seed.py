"""Seeding the demo city's energy meters, their history and the energy configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from klug.energy import service as energy_service
from klug.energy.schemas import EnergyConfig, Target, UnitConfig, Weather
from klug.sensors import ingest, query, series, timeutil
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.odata.options import parse_options
from klug.sensors.odata.path import parse_path
from klug.sensors.service import Writer
from klug.sim.energy.model import CHP_KW, DAY_US, PLANTS, SLOTS_PER_DAY, STEP_US, simulate
from klug.sim.energy.weather_forecast import HOUR_US, cloud_cover_forecast, issue_times
from klug.sim.sensors import SIMULATED

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
QUDT = "http://qudt.org/vocab/unit/"


@dataclass(frozen=True)
class _Place:
    description: str
    lon: float
    lat: float


# Positions are approximate: near enough for a map, too close for the weather to differ.
_THINGS = {
    "Wetterstation Stadtmitte": _Place(
        "Globalstrahlung, Temperatur, Wind; Bewölkungsprognose", 7.7690, 49.4447
    ),
    "Solarpark Hölzengraben": _Place("6,4 MWp", 7.7153, 49.4180),
    "Solarpark P+R Schweinsdell": _Place("2 MWp", 7.7930, 49.4330),
    "Dachanlagen Stadtgebiet": _Place("25 MWp, alle Dachanlagen zusammen (Annahme)", 7.769, 49.445),
    "Biomasse-BHKW": _Place("2 MW elektrisch (Annahme)", 7.7330, 49.4400),
    "Stadtgebiet Kaiserslautern": _Place(
        "Netzlast des Stadtgebiets nach BDEW-Standardlastprofilen, 620 GWh/a", 7.7690, 49.4447
    ),
}


@dataclass(frozen=True)
class _Meter:
    key: str  # the model's quantity: an energy unit's key or a weather quantity
    thing: str
    name: str
    unit: tuple[str, str, str]  # name, symbol, QUDT id
    prop: str
    interval: str = "PT15M"
    description: str = "15-Minuten-Werte"


_KW = ("Kilowatt", "kW", "KiloW")
_KWH = ("Kilowattstunde", "kWh", "KiloW-HR")
_WM2 = ("Watt je Quadratmeter", "W/m²", "W-PER-M2")
_CELSIUS = ("Grad Celsius", "°C", "DEG_C")
_MS = ("Meter je Sekunde", "m/s", "M-PER-SEC")
_PERCENT = ("Prozent", "%", "PERCENT")
FORECAST_KEY = "cloud_cover_forecast"
_STATION = "Wetterstation Stadtmitte"
_METERS = [
    _Meter("ghi", _STATION, "Globalstrahlung", _WM2, "ghi"),
    _Meter("temperature", _STATION, "Lufttemperatur", _CELSIUS, "air_temperature"),
    _Meter("wind_speed", _STATION, "Windgeschwindigkeit", _MS, "wind_speed"),
    _Meter("pv-hoelzengraben", "Solarpark Hölzengraben", "AC-Leistung", _KW, "ac_power"),
    _Meter("pv-schweinsdell", "Solarpark P+R Schweinsdell", "AC-Leistung", _KW, "ac_power"),
    _Meter("pv-dachanlagen", "Dachanlagen Stadtgebiet", "AC-Leistung", _KW, "ac_power"),
    _Meter("bhkw-biomasse", "Biomasse-BHKW", "Erzeugte Energie", _KWH, "active_energy"),
    _Meter("stadtgebiet", "Stadtgebiet Kaiserslautern", "Wirkleistung", _KW, "active_power"),
    _Meter(
        FORECAST_KEY,
        _STATION,
        "Bewölkungsprognose",
        _PERCENT,
        "total_cloud_cover_forecast",
        interval="PT1H",
        description="Stundenwerte, einmal täglich für 72 Stunden ausgegeben (resultTime)",
    ),
]


def _create_streams(writer: Writer, reuse: Mapping[str, int]) -> dict[str, int]:
    things: dict[str, int] = {}
    ids = dict(reuse)
    for meter in _METERS:
        if meter.key in ids:
            continue
        if meter.thing not in things:
            place = _THINGS[meter.thing]
            things[meter.thing] = writer.create(
                ENTITY_TYPES["Thing"],
                {
                    "name": meter.thing,
                    "description": f"{place.description} – {SIMULATED}",
                    "properties": {"simulated": True},
                    "Locations": [
                        {
                            "name": meter.thing,
                            "description": SIMULATED,
                            "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
                        }
                    ],
                },
            )
        unit_name, symbol, qudt = meter.unit
        ids[meter.key] = writer.create(
            ENTITY_TYPES["Datastream"],
            {
                "name": meter.name,
                "description": f"{meter.description} – {SIMULATED}",
                "unitOfMeasurement": {
                    "name": unit_name,
                    "symbol": symbol,
                    "definition": QUDT + qudt,
                },
                "observationType": MEASUREMENT,
                "properties": {
                    "public": True,
                    "simulated": True,
                    "expectedInterval": meter.interval,
                },
                "Thing": {"@iot.id": things[meter.thing]},
                "Sensor": {
                    "name": f"Simulator {meter.thing}: {meter.name}",
                    "description": SIMULATED,
                    "encodingType": "text/plain",
                    "metadata": "klug.sim.energy",
                },
                "ObservedProperty": {
                    "name": meter.prop,
                    "definition": f"https://klug.kaiserslautern.de/def/{meter.prop}",
                    "description": "",
                },
            },
        )
    return ids


def _earlier_demo_park(session: Session, now: int) -> int | None:
    """The simulated Hölzengraben park that earlier versions of the demo made
    (sim/sensors.py): an old demo database keeps it rather than getting it twice."""
    path = parse_path("Datastreams")
    options = parse_options(
        {"$filter": "name eq 'AC-Leistung' and Thing/name eq 'Solarpark Hölzengraben'"},
        path.target,
    )
    ctx = query.ReadContext(
        base="", dialect=session.get_bind().dialect.name, privileged=True, now=now, postgis=False
    )
    rows = query.read_page(session, query.resolve(session, path, ctx), options, ctx).rows
    simulated = [r["id"] for r in rows if (r.get("properties") or {}).get("simulated") is True]
    return int(simulated[0]) if simulated else None


def config_for(ids: Mapping[str, int]) -> EnergyConfig:
    """The demo city's energy configuration, with these Datastreams as its meters."""

    def pv_unit(key: str) -> UnitConfig:
        plant = PLANTS[key]
        place = _THINGS[plant.name]
        return UnitConfig(
            key=key,
            name=plant.name,
            source="pv",
            peak_power_kw=plant.peak_power_kwp,
            tilt_deg=plant.tilt_deg,
            azimuth_deg=plant.azimuth_deg,
            losses_pct=plant.losses_pct,
            latitude=place.lat,
            longitude=place.lon,
            power_datastream=ids[key],
            simulated=True,
        )

    return EnergyConfig(
        # 50 % by 2025 is the city's goal; 80 % by 2030 is the demo's assumption, after
        # the national target of the EEG 2023.
        target=Target(share=0.5, year=2025, next_share=0.8, next_year=2030),
        weather=Weather(
            ghi_datastream=ids["ghi"],
            temperature_datastream=ids["temperature"],
            wind_speed_datastream=ids["wind_speed"],
            cloud_cover_forecast_datastream=ids.get(FORECAST_KEY),
        ),
        demand=[
            UnitConfig(
                key="stadtgebiet",
                name="Stadtgebiet Kaiserslautern",
                source="load",
                power_datastream=ids["stadtgebiet"],
                simulated=True,
            )
        ],
        units=[
            pv_unit("pv-hoelzengraben"),
            pv_unit("pv-schweinsdell"),
            pv_unit("pv-dachanlagen"),
            UnitConfig(
                key="pv-nord-geplant",
                # Size and place are the demo's assumptions, not a decided project.
                name="Solarpark Kaiserslautern-Nord (geplant; Annahme: 30 MWp)",
                source="pv",
                status="planned",
                peak_power_kw=30_000.0,
                tilt_deg=20.0,
                latitude=49.4700,
                longitude=7.7600,
                simulated=True,
            ),
            UnitConfig(
                key="bhkw-biomasse",
                name="Biomasse-BHKW (Annahme: 2 MW elektrisch)",
                source="biomass",
                peak_power_kw=CHP_KW,
                energy_datastream=ids["bhkw-biomasse"],
                simulated=True,
            ),
        ],
    )


def observations(
    ids: Mapping[str, int], slots_us: NDArray[np.int64], after: Mapping[str, int] | None = None
) -> list[ingest.NewObservation]:
    """The simulated values of these 15-min slots, per quantity only after ``after``."""
    values = simulate(slots_us)
    starts = slots_us.tolist()
    items = []
    for key, datastream in ids.items():
        if key == FORECAST_KEY:
            continue
        since = (after or {}).get(key, -1)
        for t, value in zip(starts, values[key].tolist(), strict=True):
            if t > since:
                item = ingest.NewObservation(
                    datastream, None, t, phenomenon_time_end=t + STEP_US, result_number=value
                )
                item.result_raw = value
                items.append(item)
    return items


def forecast_observations(datastream: int, issues: list[int]) -> list[ingest.NewObservation]:
    """The demo forecast service's issues: each hour's value with its issue time."""
    items = []
    for issue in issues:
        hours, values = cloud_cover_forecast(issue)
        for t, value in zip(hours.tolist(), values.tolist(), strict=True):
            item = ingest.NewObservation(
                datastream,
                None,
                t,
                phenomenon_time_end=t + HOUR_US,
                result_time=issue,
                result_number=value,
            )
            item.result_raw = value
            items.append(item)
    return items


def seed_energy(session: Session, *, now: int | None = None, days: int = 60) -> None:
    """Create the demo city's energy meters with ``days`` of 15-min history and configure
    the energy programme with them; does nothing when an energy configuration exists."""
    if energy_service.current_config(session) is not None:
        return
    now = now if now is not None else timeutil.now_micros()
    park = _earlier_demo_park(session, now)
    reuse = {"pv-hoelzengraben": park} if park is not None else {}
    ids = _create_streams(Writer(session, now=now), reuse)
    newest = now - now % STEP_US - STEP_US  # the last complete interval
    slots = np.arange(newest - (days * SLOTS_PER_DAY - 1) * STEP_US, newest + 1, STEP_US)
    # An earlier demo park keeps its values; its history goes on after them.
    after = {
        key: info.last_phenomenon_time or -1
        for key, ds in reuse.items()
        for info in series.latest(session, privileged=True, ids=[ds])
    }
    ingest.store(session, observations(ids, slots, after), now=now)
    # The forecasts that were issued for the history's days, and the latest one.
    issues = issue_times(int(slots[0]) - 2 * DAY_US, now)
    ingest.store(session, forecast_observations(ids[FORECAST_KEY], issues), now=now)
    energy_service.replace_config(session, config_for(ids))
