"""The demo city's energy: seeded meters and configuration, plausible values, labels, and
the live feeder delivering through the SensorThings HTTP API like a meter gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from klug.core.db import create_db_engine, make_session_factory
from klug.energy import service as energy_service
from klug.identity import apikeys
from klug.sensors import timeutil
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer
from klug.sim.energy import (
    EnergyFeeder,
    create_feeder_key,
    feeder_streams,
    seed_energy,
    simulate,
)
from klug.sim.energy.feeder import FEEDER_KEY_NAME
from klug.sim.energy.model import STEP_US
from klug.sim.energy.seed import FORECAST_KEY
from klug.sim.energy.weather_forecast import HORIZON_HOURS, cloud_cover_forecast, issue_times
from klug.sim.sensors import SIMULATED
from tests.servers import start_server

# Midsummer, 12:07 local time: the seeded history ends with the 11:45 interval.
NOW = timeutil.to_micros(dt.datetime(2025, 6, 21, 10, 7, tzinfo=dt.UTC))
HOUR_US = 3_600_000_000
STA = "/sta/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def factory_of(client: TestClient) -> sessionmaker[Session]:
    return client.app.state.session_factory  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def all_streams(client: TestClient) -> dict[str, int]:
    """Two days of demo history up to NOW; the feeder's Datastreams by quantity."""
    with factory_of(client)() as session:
        seed_energy(session, now=NOW, days=2)
        session.commit()
        config = energy_service.current_config(session)
    assert config is not None
    return feeder_streams(config)


@pytest.fixture
def streams(all_streams: dict[str, int]) -> dict[str, int]:
    """The meters (15-min values); the forecast archive has tests of its own."""
    return {k: ds for k, ds in all_streams.items() if k != FORECAST_KEY}


@pytest.fixture
def feeder_key(client: TestClient, streams: dict[str, int]) -> str:
    with factory_of(client)() as session:
        key = create_feeder_key(session)
        session.commit()
    return key


def observations(client: TestClient, datastream: int) -> list[tuple[int, float]]:
    """(interval start µs, result) of a Datastream, read back through the SensorThings API."""
    url = f"{STA}/Datastreams({datastream})/Observations"
    params = {"$top": "10000", "$orderby": "phenomenonTime", "$select": "phenomenonTime,result"}
    body = client.get(url, params=params).json()
    assert "@iot.nextLink" not in body
    out = []
    for row in body["value"]:
        start = row["phenomenonTime"].split("/")[0]
        out.append((timeutil.parse_instant(start), float(row["result"])))
    return out


def test_seeding_configures_the_energy_programme_once(
    client: TestClient, streams: dict[str, int]
) -> None:
    with factory_of(client)() as session:
        config = energy_service.current_config(session)
        assert config is not None
        units = {u.key: u for u in config.units}
        assert [d.key for d in config.demand] == ["stadtgebiet"]
        assert units["pv-hoelzengraben"].peak_power_kw == 6400
        assert units["pv-schweinsdell"].peak_power_kw == 2000
        assert units["pv-dachanlagen"].peak_power_kw == 25_000
        planned = units["pv-nord-geplant"]
        assert planned.status == "planned"
        assert planned.power_datastream is None and planned.energy_datastream is None
        assert units["bhkw-biomasse"].source == "biomass"
        assert units["bhkw-biomasse"].energy_datastream == streams["bhkw-biomasse"]
        assert config.weather.ghi_datastream == streams["ghi"]
        assert config.weather.temperature_datastream == streams["temperature"]
        assert config.weather.wind_speed_datastream == streams["wind_speed"]
        assert (config.target.share, config.target.year) == (0.5, 2025)
        assert (config.target.next_share, config.target.next_year) == (0.8, 2030)
        assert len(streams) == 8

        things = client.get(f"{STA}/Things", params={"$count": "true"}).json()["@iot.count"]
        seed_energy(session, now=NOW + 7 * 86_400_000_000)
        session.commit()
    assert client.get(f"{STA}/Things", params={"$count": "true"}).json()["@iot.count"] == things
    for datastream in streams.values():
        assert len(observations(client, datastream)) == 2 * 96


def test_everything_is_labelled_simulated_and_public(
    client: TestClient, all_streams: dict[str, int]
) -> None:
    things = client.get(f"{STA}/Things", params={"$expand": "Datastreams($expand=Sensor)"}).json()
    datastreams = [d for t in things["value"] for d in t["Datastreams"]]
    assert sorted(d["@iot.id"] for d in datastreams) == sorted(all_streams.values())
    for thing in things["value"]:
        assert thing["properties"]["simulated"] is True
        assert SIMULATED in thing["description"]
    for datastream in datastreams:
        assert datastream["properties"]["simulated"] is True
        assert datastream["properties"]["public"] is True
        forecast = datastream["@iot.id"] == all_streams[FORECAST_KEY]
        assert datastream["properties"]["expectedInterval"] == ("PT1H" if forecast else "PT15M")
        assert SIMULATED in datastream["description"]
        assert SIMULATED in datastream["Sensor"]["description"]
        first = client.get(
            f"{STA}/Datastreams({datastream['@iot.id']})/Observations", params={"$top": "1"}
        ).json()["value"][0]
        start, end = first["phenomenonTime"].split("/")  # a 15-min (hourly) mean: an interval
        length = timeutil.parse_instant(end) - timeutil.parse_instant(start)
        assert length == (HOUR_US if forecast else STEP_US)
    with factory_of(client)() as session:
        config = energy_service.current_config(session)
    assert config is not None
    assert all(u.simulated for u in [*config.demand, *config.units])


LOCAL_DAY = timeutil.to_micros(dt.datetime(2025, 6, 19, 22, tzinfo=dt.UTC))  # 20 June, 00:00


def day_kwh(client: TestClient, datastream: int, *, power: bool = True) -> float:
    """The energy of 20 June 2025 (local) from a meter's 15-min values."""
    values = [v for t, v in observations(client, datastream) if 0 <= t - LOCAL_DAY < 24 * HOUR_US]
    assert len(values) == 96
    return sum(values) * (0.25 if power else 1.0)


def test_the_city_uses_about_620_gwh_a_year(client: TestClient, streams: dict[str, int]) -> None:
    # 620 GWh/a is 1.7 GWh a day; a June Friday is somewhat below the mean.
    assert 0.7 * 620e6 / 365 < day_kwh(client, streams["stadtgebiet"]) < 1.3 * 620e6 / 365
    # The biomass CHP: 2 MW at 94 % availability.
    chp = day_kwh(client, streams["bhkw-biomasse"], power=False)
    assert chp == pytest.approx(2000 * 24 * 0.94, rel=0.02)


def test_the_energy_dashboard_accounts_the_demo_day(
    client: TestClient, streams: dict[str, int]
) -> None:
    day = client.get(
        "/api/energy/series",
        params={"period": "custom", "from": "2025-06-20", "to": "2025-06-21", "resolution": "day"},
    ).json()["columns"]
    assert day["demand_kwh"][0] == pytest.approx(day_kwh(client, streams["stadtgebiet"]), rel=1e-3)
    chp = day_kwh(client, streams["bhkw-biomasse"], power=False)
    assert day["biomass_kwh"][0] == pytest.approx(chp, rel=1e-3)
    pv = sum(
        day_kwh(client, streams[k])
        for k in ("pv-hoelzengraben", "pv-schweinsdell", "pv-dachanlagen")
    )
    assert day["pv_kwh"][0] == pytest.approx(pv, rel=1e-3)


def test_the_park_yields_within_physical_bounds_and_nothing_at_night(
    client: TestClient, streams: dict[str, int]
) -> None:
    values = observations(client, streams["pv-hoelzengraben"])
    assert 0.1 * 6400 < day_kwh(client, streams["pv-hoelzengraben"]) <= 6400 * 8
    assert max(kw for _, kw in values) <= 6400
    # Between 23:00 and 04:00 local time (21:00–02:00 UTC) the sun is well down.
    night = [kw for t, kw in values if (t // HOUR_US) % 24 in (21, 22, 23, 0, 1)]
    assert night and all(kw == 0 for kw in night)
    noon = [kw for t, kw in values if (t // HOUR_US) % 24 in (10, 11)]
    assert max(noon) > 0.3 * 6400


def test_a_slot_has_the_same_values_in_any_range() -> None:
    """What makes a value sent twice one Observation: the model does not depend on the
    range it is asked for."""
    slots = np.arange(NOW - 3 * 86_400_000_000, NOW, STEP_US, dtype=np.int64)
    whole, part = simulate(slots), simulate(slots[100:150])
    for key, values in whole.items():
        np.testing.assert_array_equal(values[100:150], part[key], err_msg=key)


def test_an_earlier_demo_park_is_kept_not_duplicated(client: TestClient) -> None:
    with factory_of(client)() as session:
        writer = Writer(session, now=NOW)
        # As sim/sensors.py made it before the energy demo took the PV parks over.
        thing = writer.create(
            ENTITY_TYPES["Thing"],
            {
                "name": "Solarpark Hölzengraben",
                "description": "6,4 MWp – " + SIMULATED,
                "properties": {"peak_power_kw": 6400, "simulated": True},
                "Locations": [
                    {
                        "name": "Hölzengraben",
                        "description": "Solarpark der Stadtwerke",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.7153, 49.4180]},
                    }
                ],
            },
        )
        old = writer.create(
            ENTITY_TYPES["Datastream"],
            {
                "name": "AC-Leistung",
                "description": SIMULATED,
                "unitOfMeasurement": {
                    "name": "kilowatt",
                    "symbol": "kW",
                    "definition": "http://qudt.org/vocab/unit/KiloW",
                },
                "observationType": MEASUREMENT,
                "properties": {"public": True, "simulated": True, "expectedInterval": "PT15M"},
                "Thing": {"@iot.id": thing},
                "Sensor": {
                    "name": "Simulator AC-Leistung",
                    "description": SIMULATED,
                    "encodingType": "text/plain",
                    "metadata": "klug.sim",
                },
                "ObservedProperty": {
                    "name": "ac_power",
                    "definition": "https://klug.kaiserslautern.de/def/ac_power",
                    "description": "",
                },
            },
        )
        last_old = NOW - 24 * HOUR_US
        writer.create(
            ENTITY_TYPES["Observation"],
            {"phenomenonTime": timeutil.format_instant(last_old), "result": 1234.5},
            {"datastream_id": old},
        )
        seed_energy(session, now=NOW, days=2)
        session.commit()
        config = energy_service.current_config(session)
    assert config is not None
    assert {u.key: u.power_datastream for u in config.units}["pv-hoelzengraben"] == old
    parks = client.get(
        f"{STA}/Things", params={"$filter": "name eq 'Solarpark Hölzengraben'"}
    ).json()["value"]
    assert len(parks) == 1
    times = [t for t, _ in observations(client, old)]
    # Its value stays; the history goes on after it (10:15 on the 20th to 09:45 on the 21st).
    assert times[0] == last_old and len(times) == 1 + 95


class ThroughTestClient(httpx.AsyncBaseTransport):
    """The feeder's HTTP requests, through the whole app of the test client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.posts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.posts += request.method == "POST"
        response = await asyncio.to_thread(
            self.client.request,
            request.method,
            str(request.url),
            headers=dict(request.headers),
            content=await request.aread(),
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )


def feeder_at(
    client: TestClient, key: str, streams: dict[str, int], clock: list[int]
) -> tuple[EnergyFeeder, ThroughTestClient]:
    transport = ThroughTestClient(client)
    feeder = EnergyFeeder(
        base_url="http://testserver",
        api_key=key,
        streams=streams,
        transport=transport,
        clock=lambda: clock[0],
    )
    return feeder, transport


def counts(client: TestClient, streams: dict[str, int]) -> dict[str, int]:
    return {k: len(observations(client, ds)) for k, ds in streams.items()}


def test_the_feeder_delivers_each_interval_once_through_the_api(
    client: TestClient, streams: dict[str, int], feeder_key: str
) -> None:
    clock = [NOW + 2 * HOUR_US]
    feeder, transport = feeder_at(client, feeder_key, streams, clock)
    before = counts(client, streams)
    assert asyncio.run(feeder.feed_once()) == 8 * len(streams)
    assert transport.posts == 1
    after = counts(client, streams)
    assert all(after[k] == before[k] + 8 for k in streams)
    # The values are the model's for those intervals.
    newest = NOW - NOW % STEP_US + 7 * STEP_US
    slots = np.arange(newest - 7 * STEP_US, newest + 1, STEP_US, dtype=np.int64)
    expected = simulate(slots)
    load = observations(client, streams["stadtgebiet"])[-8:]
    assert [t for t, _ in load] == slots.tolist()
    assert [v for _, v in load] == expected["stadtgebiet"].tolist()

    # Again in the same interval, and from a feeder that has just started: nothing new.
    assert asyncio.run(feeder.feed_once()) == 0
    restarted, _ = feeder_at(client, feeder_key, streams, clock)
    assert asyncio.run(restarted.feed_once()) == 0
    # Sent again regardless (a retry after a lost answer): the platform stores nothing.
    body = [
        {
            "Datastream": {"@iot.id": streams["stadtgebiet"]},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                [f"{timeutil.format_instant(t)}/{timeutil.format_instant(t + STEP_US)}", v]
                for t, v in zip(slots.tolist(), expected["stadtgebiet"].tolist(), strict=True)
            ],
        }
    ]
    response = client.post(
        f"{STA}/CreateObservations", json=body, headers={"Authorization": f"Bearer {feeder_key}"}
    )
    assert response.status_code == 201 and "error" not in response.json()
    assert counts(client, streams) == after


def test_the_feeder_catches_up_after_a_pause_at_most_a_day(
    client: TestClient, streams: dict[str, int], feeder_key: str
) -> None:
    clock = [NOW + HOUR_US]
    feeder, _ = feeder_at(client, feeder_key, streams, clock)
    asyncio.run(feeder.feed_once())
    clock[0] += 5 * HOUR_US  # a pause: 20 intervals missed
    assert asyncio.run(feeder.feed_once()) == 20 * len(streams)
    for key, datastream in streams.items():
        times = [t for t, _ in observations(client, datastream)]
        assert np.all(np.diff(times) == STEP_US), f"{key} has a gap"
        assert len(times) == 2 * 96 + 4 + 20
    clock[0] += 3 * 24 * HOUR_US  # a long pause: only the last day is filled
    assert asyncio.run(feeder.feed_once()) == 96 * len(streams)
    times = [t for t, _ in observations(client, streams["ghi"])]
    assert times[-1] - times[-96] == 95 * STEP_US
    assert times[-96] - times[-97] > 2 * 24 * HOUR_US


def forecast_issues(client: TestClient, datastream: int) -> dict[int, list[tuple[int, float]]]:
    """The forecast archive through the SensorThings API: per resultTime (issue), the
    (valid hour start, cloud cover) pairs."""
    url = f"{STA}/Datastreams({datastream})/Observations"
    params = {
        "$top": "10000",
        "$orderby": "phenomenonTime",
        "$select": "phenomenonTime,resultTime,result",
    }
    body = client.get(url, params=params).json()
    issues: dict[int, list[tuple[int, float]]] = {}
    for row in body["value"]:
        issue = timeutil.parse_instant(row["resultTime"])
        start = timeutil.parse_instant(row["phenomenonTime"].split("/")[0])
        issues.setdefault(issue, []).append((start, float(row["result"])))
    return issues


def test_the_demo_forecast_service_publishes_each_issue_once(
    client: TestClient, all_streams: dict[str, int], feeder_key: str
) -> None:
    datastream = all_streams[FORECAST_KEY]
    seeded = forecast_issues(client, datastream)
    # The seeded archive: every morning issue from two days before the history until NOW,
    # each HORIZON_HOURS hourly values from the hour after it, as the model issued them.
    assert sorted(seeded) == issue_times(NOW - 4 * 24 * HOUR_US, NOW)
    for issue, values in seeded.items():
        hours, expected = cloud_cover_forecast(issue)
        assert values == list(zip(hours.tolist(), expected.tolist(), strict=True))
        assert all(0.0 <= v <= 100.0 for _, v in values)
    clock = [NOW + 30 * HOUR_US]  # the next morning's issue is out
    feeder, _ = feeder_at(client, feeder_key, {FORECAST_KEY: datastream}, clock)
    assert asyncio.run(feeder.feed_once()) == HORIZON_HOURS
    assert asyncio.run(feeder.feed_once()) == 0
    restarted, _ = feeder_at(client, feeder_key, {FORECAST_KEY: datastream}, clock)
    assert asyncio.run(restarted.feed_once()) == 0  # it learns the last issue from the platform
    after = forecast_issues(client, datastream)
    assert set(after) - set(seeded) == {max(seeded) + 24 * HOUR_US}


def test_at_every_hour_the_latest_issue_covers_the_whole_of_tomorrow() -> None:
    """The PV forecast for tomorrow uses cloud cover only when every hour of the local day
    is forecast: before the morning issue, yesterday's issue must still reach that far."""
    from zoneinfo import ZoneInfo

    from klug.sim.energy.weather_forecast import latest_issue

    berlin = ZoneInfo("Europe/Berlin")
    for day in (dt.date(2026, 3, 28), dt.date(2026, 6, 21), dt.date(2026, 11, 27)):
        for hour in range(24):
            now = dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=berlin)
            tomorrow = now.date() + dt.timedelta(days=1)
            end = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(), berlin)
            hours, _ = cloud_cover_forecast(latest_issue(timeutil.to_micros(now)))
            start = dt.datetime.combine(tomorrow, dt.time(), berlin)
            assert hours[0] <= timeutil.to_micros(start), (now, "tomorrow's first hour")
            assert hours[-1] + HOUR_US >= timeutil.to_micros(end), (now, "tomorrow's last hour")


def test_forecasts_differ_from_the_weather_that_came_but_follow_it() -> None:
    """A forecast service that knew the future would make the PV backtest a lie."""
    from klug.sim.energy.model import cloud_fraction

    errors, truths, forecasts = [], [], []
    for issue in issue_times(NOW - 30 * 24 * HOUR_US, NOW):
        hours, forecast = cloud_cover_forecast(issue)
        slots = (hours[:, None] + STEP_US * np.arange(4)).ravel()
        truth = 100 * cloud_fraction(slots).reshape(HORIZON_HOURS, 4).mean(axis=1)
        errors.append(forecast - truth)
        truths.append(truth)
        forecasts.append(forecast)
    err = np.concatenate(errors)
    rmse = float(np.sqrt(np.mean(err**2)))
    assert 8.0 < rmse < 30.0
    assert np.corrcoef(np.concatenate(truths), np.concatenate(forecasts))[0, 1] > 0.7


def test_the_feeder_key_may_only_write_sensor_data(client: TestClient, feeder_key: str) -> None:
    with factory_of(client)() as session:
        second = create_feeder_key(session)
        session.commit()
        keys = [k for k in apikeys.list_all(session=session) if k.name == FEEDER_KEY_NAME]
    assert [k.scopes for k in keys] == ["sensors.write", "sensors.write"]
    assert sum(k.revoked_at is None for k in keys) == 1  # the earlier one is revoked
    refused = client.get("/api/energy/config", headers={"Authorization": f"Bearer {second}"})
    assert refused.status_code == 403
    stale = client.post(
        f"{STA}/CreateObservations", json=[], headers={"Authorization": f"Bearer {feeder_key}"}
    )
    assert stale.status_code == 401


def test_the_running_feeder_fills_a_live_server(database_url: str, tmp_path: Path) -> None:
    now = timeutil.now_micros()
    engine = create_db_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            seed_energy(session, now=now - 2 * HOUR_US, days=1)
            key = create_feeder_key(session)
            session.commit()
            config = energy_service.current_config(session)
    finally:
        engine.dispose()
    assert config is not None
    all_streams = feeder_streams(config)
    streams = {k: ds for k, ds in all_streams.items() if k != FORECAST_KEY}
    server = start_server(database_url, tmp_path / "var")
    try:
        feeder = EnergyFeeder(base_url=server.url, api_key=key, streams=all_streams, interval_s=0.2)
        wanted = 96 + 8  # the seeded day, then the two hours since (or one more interval)

        async def feed_until_filled() -> list[dict[str, Any]]:
            task = asyncio.create_task(feeder.run())
            try:
                async with httpx.AsyncClient(base_url=server.url) as reader:
                    for _ in range(100):
                        await asyncio.sleep(0.2)
                        latest = await reader.get(
                            "/api/sensors/latest",
                            params={"datastreams": ",".join(map(str, streams.values()))},
                        )
                        rows: list[dict[str, Any]] = latest.json()["value"]
                        if all(r["observationCount"] >= wanted for r in rows):
                            return rows
                    raise AssertionError(f"not filled: {rows}\n{server.log()}")
            finally:
                task.cancel()

        rows = asyncio.run(feed_until_filled())
    finally:
        server.stop()
    assert all(r["freshness"] == "live" for r in rows)
    assert all(r["observationCount"] in (wanted, wanted + 1) for r in rows)
