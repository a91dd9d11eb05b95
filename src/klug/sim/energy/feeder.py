"""The live feeder: the demo city's energy values sent to klug as a meter gateway would.

It talks to klug only through public interfaces: ``GET /api/sensors/latest`` to learn
where each Datastream ends, ``POST /sta/v1.1/CreateObservations`` (dataArray) with an API
key of scope ``sensors.write`` to deliver.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import numpy as np
from sqlalchemy.orm import Session

from klug.core.audit import SYSTEM
from klug.energy import service as energy_service
from klug.energy.schemas import EnergyConfig
from klug.identity import apikeys
from klug.sensors import timeutil
from klug.sim.energy.model import DAY_US, KEYS, STEP_US, simulate
from klug.sim.energy.seed import FORECAST_KEY
from klug.sim.energy.weather_forecast import (
    HORIZON_HOURS,
    HOUR_US,
    cloud_cover_forecast,
    issue_times,
    latest_issue,
)

log = logging.getLogger(__name__)

FEEDER_KEY_NAME = "Demo-Einspeisung Energie (simuliert)"
FED = frozenset({*KEYS, FORECAST_KEY})
# An issue's last valid hour starts this long after the issue.
_LAST_HOUR = HORIZON_HOURS * HOUR_US


def feeder_streams(config: EnergyConfig) -> dict[str, int]:
    """The Datastreams the feeder fills: the configured weather and every simulated unit's
    meter that it has a model for (an operator's real meters are never written)."""
    ids = {
        "ghi": config.weather.ghi_datastream,
        "temperature": config.weather.temperature_datastream,
        "wind_speed": config.weather.wind_speed_datastream,
        FORECAST_KEY: config.weather.cloud_cover_forecast_datastream,
    }
    for unit in [*config.demand, *config.units]:
        if unit.simulated:
            ids[unit.key] = unit.power_datastream or unit.energy_datastream
    return {key: ds for key, ds in ids.items() if key in FED and ds is not None}


def create_feeder_key(session: Session) -> str:
    """A fresh API key for the feeder (scope sensors.write only); earlier ones are revoked,
    so that demo restarts leave no valid keys behind."""
    for key in apikeys.list_all(session=session):
        if key.name == FEEDER_KEY_NAME:
            apikeys.revoke(session=session, key=key, actor=SYSTEM)
    _, plain = apikeys.create(
        session=session, name=FEEDER_KEY_NAME, scopes="sensors.write", actor=SYSTEM
    )
    return plain


def demo_feeder(session: Session, base_url: str) -> EnergyFeeder | None:
    """A feeder for the configured demo meters with a fresh key (None: nothing to feed).
    The caller commits, so that the key exists before the feeder uses it."""
    config = energy_service.current_config(session)
    streams = feeder_streams(config) if config is not None else {}
    if not streams:
        return None
    return EnergyFeeder(base_url=base_url, api_key=create_feeder_key(session), streams=streams)


def _interval(start: int) -> str:
    return f"{timeutil.format_instant(start)}/{timeutil.format_instant(start + STEP_US)}"


class EnergyFeeder:
    """Sends the demo city's 15-min values to klug's SensorThings API, as a meter gateway
    would: ``POST /sta/v1.1/CreateObservations`` with an API key.

    Each interval is sent once it is complete. On start the feeder asks the platform
    for each Datastream's latest value and continues after it; after a pause it fills
    the missed intervals, at most ``catch_up_us`` back.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        streams: Mapping[str, int],
        interval_s: float = 900.0,
        catch_up_us: int = DAY_US,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], int] = timeutil.now_micros,
    ) -> None:
        unknown = set(streams) - FED
        if unknown:
            raise ValueError(f"no model for {sorted(unknown)}")
        self.base_url = base_url.rstrip("/")
        self.streams = dict(streams)
        self.interval_s = interval_s
        self.catch_up_us = catch_up_us
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._transport = transport
        self._clock = clock
        self._sent: dict[str, int] | None = None  # per key: start of the last interval sent

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, transport=self._transport, timeout=30.0
        )

    async def _platform_latest(self, client: httpx.AsyncClient) -> dict[str, int]:
        ids = ",".join(str(ds) for ds in sorted(self.streams.values()))
        response = await client.get("/api/sensors/latest", params={"datastreams": ids})
        response.raise_for_status()
        times = {
            row["id"]: timeutil.parse_instant(row["phenomenonTime"])
            for row in response.json()["value"]
            if row.get("phenomenonTime")
        }
        return {key: times[ds] for key, ds in self.streams.items() if ds in times}

    async def feed_once(self, client: httpx.AsyncClient | None = None) -> int:
        """Send every complete interval not sent yet; returns the number of values sent."""
        if client is None:
            async with self._client() as own:
                return await self.feed_once(own)
        if self._sent is None:
            self._sent = await self._platform_latest(client)
        now = self._clock()
        body = self._meter_values(now) + self._forecasts(now)
        if not body:
            return 0
        response = await client.post("/sta/v1.1/CreateObservations", json=body)
        response.raise_for_status()
        refused = response.json().count("error")
        if refused:
            # Not sent again: the platform said why in its log, and it would refuse again.
            log.warning("the platform refused %d of the demo energy values", refused)
        newest = now - now % STEP_US - STEP_US
        for key in self.streams:
            self._sent[key] = newest if key != FORECAST_KEY else latest_issue(now) + _LAST_HOUR
        return sum(len(group["dataArray"]) for group in body)

    def _meter_values(self, now: int) -> list[dict[str, Any]]:
        """Every meter's complete 15-min intervals not sent yet."""
        assert self._sent is not None
        keys = [k for k in self.streams if k in KEYS]
        newest = now - now % STEP_US - STEP_US
        oldest = newest - self.catch_up_us + STEP_US
        first = {k: max(oldest, self._sent.get(k, oldest - STEP_US) + STEP_US) for k in keys}
        if not keys or min(first.values()) > newest:
            return []
        slots = np.arange(min(first.values()), newest + 1, STEP_US, dtype=np.int64)
        values = simulate(slots)
        body = []
        for key in keys:
            keep = slots >= first[key]
            rows = [
                [_interval(t), v]
                for t, v in zip(slots[keep].tolist(), values[key][keep].tolist(), strict=True)
            ]
            if rows:
                body.append(_group(self.streams[key], ["phenomenonTime", "result"], rows))
        return body

    def _forecasts(self, now: int) -> list[dict[str, Any]]:
        """The forecast issues published since the last one sent (its last valid hour
        tells which), at most ``catch_up_us`` back."""
        assert self._sent is not None
        datastream = self.streams.get(FORECAST_KEY)
        if datastream is None:
            return []
        after = self._sent.get(FORECAST_KEY, -1) - _LAST_HOUR
        issues = [t for t in issue_times(now - self.catch_up_us, now) if t > after]
        rows = []
        for issue in issues:
            hours, values = cloud_cover_forecast(issue)
            rows += [
                [
                    f"{timeutil.format_instant(t)}/{timeutil.format_instant(t + HOUR_US)}",
                    timeutil.format_instant(issue),
                    v,
                ]
                for t, v in zip(hours.tolist(), values.tolist(), strict=True)
            ]
        if not rows:
            return []
        return [_group(datastream, ["phenomenonTime", "resultTime", "result"], rows)]

    async def wait_until_ready(self, client: httpx.AsyncClient, timeout_s: float = 120.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.base_url} did not become ready")
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        """Feed until cancelled; a failed round is logged and retried at the next one."""
        async with self._client() as client:
            try:
                await self.wait_until_ready(client)
            except TimeoutError as exc:
                log.error("demo energy feeder stops: %s", exc)
                return
            while True:
                try:
                    await self.feed_once(client)
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    log.warning("demo energy feeder: %s", exc)
                    self._sent = None  # ask the platform again where to continue
                # Shortly after the next interval is complete, if that comes first.
                now = self._clock()
                await asyncio.sleep(min(self.interval_s, (STEP_US - now % STEP_US) / 1e6 + 5.0))


def _group(datastream: int, components: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"Datastream": {"@iot.id": datastream}, "components": components, "dataArray": rows}
