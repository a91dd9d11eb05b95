"""Demo sensors: an air-quality station with a week of simulated data.

The energy meters (PV parks, weather, load) belong to :mod:`klug.sim.energy`.

Everything here is labelled as simulated (``properties.simulated = true`` and the
description), so that no page can pass it off as a real measurement.
"""

from __future__ import annotations

import math
import random

from sqlalchemy.orm import Session

from klug.sensors import ingest, series, timeutil
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer

STEP = 15 * 60 * 1_000_000
DAYS = 7
SIMULATED = "Simulierte Demodaten / simulated demo data"


def _stream(
    writer: Writer, thing: int, name: str, unit: dict[str, str], prop: str, interval: str
) -> int:
    return writer.create(
        ENTITY_TYPES["Datastream"],
        {
            "name": name,
            "description": SIMULATED,
            "unitOfMeasurement": unit,
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "properties": {"public": True, "simulated": True, "expectedInterval": interval},
            "Thing": {"@iot.id": thing},
            "Sensor": {
                "name": f"Simulator {name}",
                "description": SIMULATED,
                "encodingType": "text/plain",
                "metadata": "klug.sim",
            },
            "ObservedProperty": {
                "name": prop,
                "definition": f"https://klug.kaiserslautern.de/def/{prop}",
                "description": "",
            },
        },
    )


def seed_sensors(session: Session, now: int | None = None) -> None:
    """Create the demo Things once; add the simulated week of values."""
    if series.thing_count(session) > 0:
        return
    now = now if now is not None else timeutil.now_micros()
    writer = Writer(session, now=now)
    air = writer.create(
        ENTITY_TYPES["Thing"],
        {
            "name": "Luftmessstation Rathaus",
            "description": SIMULATED,
            "properties": {"simulated": True},
            "Locations": [
                {
                    "name": "Rathaus",
                    "description": "Willy-Brandt-Platz",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [7.7690, 49.4447]},
                }
            ],
        },
    )
    pm10 = _stream(
        writer,
        air,
        "Feinstaub PM10",
        {
            "name": "microgram per cubic metre",
            "symbol": "µg/m³",
            "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3",
        },
        "pm10",
        "PT15M",
    )
    rng = random.Random(42)  # noqa: S311 - repeatable simulation, not security
    start = now - now % STEP - DAYS * 86_400_000_000
    items = []
    for step in range(DAYS * 96):
        items.append(
            ingest.NewObservation(
                pm10,
                None,
                start + step * STEP,
                result_number=round(14 + 8 * math.sin(step / 20) + rng.uniform(-3, 3), 1),
            )
        )
    for item in items:
        item.result_raw = item.result_number
    ingest.store(session, items, now=now)
