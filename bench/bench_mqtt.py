"""MQTT ingestion: Observations published with QoS 1 until every one is committed.

A dedicated Mosquitto with klug's recommended settings (deploy/mosquitto/klug.conf:
nothing dropped, however much is queued), ``klug serve`` with its MQTT bridge on a copy
of the data set, and 8 publisher processes (paho-mqtt, QoS 1) that publish N unique
Observations spread over all Datastreams as fast as the broker acknowledges them. The
figure is N over the time from the first publish until the database holds all N
(polled every 0.1 s). ``lost`` (N − unique stored) and ``duplicates_stored`` (stored −
unique) are counted in the database afterwards.

Baseline: the same publishers publishing the same N messages to the same broker
before klug is connected (nobody subscribed): the rate at which the broker alone
acknowledges them on this machine today.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, select

from bench import Figure, InvalidMeasurement, log
from bench.dataset import REPO, Dataset
from bench.sensors import (
    WRITE_SCOPES,
    NewObservations,
    data_facts,
    dataset,
    iso,
    sensor_server,
    whole_seconds_from_now,
)
from bench.server import free_port
from klug.core.db import create_db_engine
from klug.sensors import models as m

PUBLISHERS = 8
MESSAGES_AT_SCALE_1 = 200_000
MIN_MESSAGES = 50_000
# Unacknowledged QoS 1 messages per publisher (paho's default, 20, would measure the
# round trip instead of the throughput).
PUBLISHER_INFLIGHT = 1000
POLL_S = 0.1
STALL_S = 60.0


@dataclass(frozen=True)
class Broker:
    url: str
    host: str
    port: int


@contextlib.contextmanager
def mosquitto() -> Iterator[Broker]:
    """A Mosquitto on a free port with the settings klug needs (anonymous here)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise InvalidMeasurement("mosquitto is not installed (apt-get install mosquitto)")
    recommended = (REPO / "deploy" / "mosquitto" / "klug.conf").read_text()
    settings = [
        line
        for line in recommended.splitlines()
        if line.startswith(("max_", "persistence ", "autosave"))
    ]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="klug-bench-mosquitto-") as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            "\n".join(
                [
                    *settings,
                    f"persistence_location {tmp}/",
                    f"listener {port} 127.0.0.1",
                    "allow_anonymous true",
                    "log_dest none",
                ]
            )
            + "\n"
        )
        process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise InvalidMeasurement("mosquitto did not start")
                time.sleep(0.05)
            log(f"mosquitto pid {process.pid} on port {port}")
            yield Broker(f"mqtt://127.0.0.1:{port}", "127.0.0.1", port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _client(broker: Broker, client_id: str) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(PUBLISHER_INFLIGHT)
    return client


def _message(new: NewObservations, n: int) -> tuple[str, bytes]:
    payload = {"phenomenonTime": iso(new.seconds(n) * 1_000_000), "result": new.result(n)}
    topic = f"v1.1/Datastreams({new.datastream(n)})/Observations"
    return topic, json.dumps(payload, separators=(",", ":")).encode()


def publisher(
    broker: Broker,
    new: NewObservations,
    total: int,
    number: int,
    go: EventType,
    results: multiprocessing.Queue[tuple[int, float, float, int]],
) -> None:
    """Process ``number`` of PUBLISHERS: messages n ≡ number (mod PUBLISHERS), QoS 1;
    reports (number, first publish, last acknowledgement, acknowledged) in wall time."""
    mine = [_message(new, n) for n in range(number, total, PUBLISHERS)]
    acknowledged = 0
    all_acknowledged = threading.Event()

    def on_publish(_client: Any, _userdata: Any, _mid: int, _reason: Any, _props: Any) -> None:
        nonlocal acknowledged
        acknowledged += 1
        if acknowledged == len(mine):
            all_acknowledged.set()

    client = _client(broker, f"klug-bench-publisher-{uuid.uuid4().hex[:8]}")
    client.on_publish = on_publish
    client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()
    go.wait()
    first = time.time()
    for topic, payload in mine:
        client.publish(topic, payload, qos=1)
    all_acknowledged.wait(timeout=600)
    last = time.time()
    client.disconnect()
    client.loop_stop()
    results.put((number, first, last, acknowledged))


@dataclass(frozen=True)
class Published:
    first: float  # wall time of the first publish
    last_ack: float  # wall time of the last PUBACK
    acknowledged: int

    @property
    def rate(self) -> float:
        return self.acknowledged / max(1e-9, self.last_ack - self.first)


class Publishers:
    """PUBLISHERS processes, connected and waiting; ``start()`` releases them together."""

    def __init__(self, broker: Broker, new: NewObservations, total: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.go = context.Event()
        self.results: multiprocessing.Queue[tuple[int, float, float, int]] = context.Queue()
        self.processes = [
            context.Process(
                target=publisher,
                args=(broker, new, total, number, self.go, self.results),
                daemon=True,
            )
            for number in range(PUBLISHERS)
        ]
        for process in self.processes:
            process.start()
        # Connecting and preparing the payloads is not publishing.
        time.sleep(3.0)

    def start(self) -> None:
        self.go.set()

    def finish(self, timeout_s: float = 600.0) -> Published:
        reports = []
        try:
            for _ in self.processes:
                reports.append(self.results.get(timeout=timeout_s))
        except queue.Empty:
            raise InvalidMeasurement("a publisher did not finish") from None
        finally:
            for process in self.processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
        return Published(
            first=min(r[1] for r in reports),
            last_ack=max(r[2] for r in reports),
            acknowledged=sum(r[3] for r in reports),
        )


def _stream_total(engine: Engine, ids: list[int]) -> int:
    """Observations counted in the Datastreams' summaries: committed with the rows."""
    ds = m.datastream
    query = select(func.coalesce(func.sum(ds.c.observation_count), 0)).where(
        ds.c.id.in_(bindparam("ids", expanding=True))
    )
    with engine.connect() as connection:
        return int(connection.execute(query, {"ids": ids}).scalar_one())


def _stored_and_unique(engine: Engine, ids: list[int], since_us: int) -> tuple[int, int]:
    """Rows at or after ``since_us``, and distinct (Datastream, time) among them."""
    obs = m.observation
    query = select(func.count(), func.count(obs.c.phenomenon_time_start.distinct())).where(
        obs.c.datastream_id == bindparam("ds"), obs.c.phenomenon_time_start >= since_us
    )
    stored = unique = 0
    with engine.connect() as connection:
        for datastream in ids:
            rows, times = connection.execute(query, {"ds": datastream}).one()
            stored += int(rows)
            unique += int(times)
    return stored, unique


def _wait_for_bridge(broker: Broker, engine: Engine, data: Dataset, timeout_s: float) -> None:
    """Publish probes (at times before the benchmark's) until the bridge stores one."""
    client = _client(broker, f"klug-bench-probe-{uuid.uuid4().hex[:8]}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    datastream = data.datastream_ids[0]
    before = _stream_total(engine, [datastream])
    deadline = time.monotonic() + timeout_s
    try:
        probe = 0
        while time.monotonic() < deadline:
            when = (whole_seconds_from_now(-7200) - probe) * 1_000_000 + 123_457
            body = json.dumps({"phenomenonTime": iso(when), "result": -1.0})
            client.publish(f"v1.1/Datastreams({datastream})/Observations", body, qos=1)
            probe += 1
            for _ in range(10):
                time.sleep(0.1)
                if _stream_total(engine, [datastream]) > before:
                    log(f"MQTT bridge subscribed (probe {probe} stored)")
                    time.sleep(1.0)
                    return
        raise InvalidMeasurement(f"the MQTT bridge stored no probe within {timeout_s:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()


def messages_for(scale: float) -> int:
    raw = os.environ.get("KLUG_BENCH_MQTT_MESSAGES")
    if raw:
        return int(raw)
    return max(MIN_MESSAGES, round(MESSAGES_AT_SCALE_1 * min(1.0, scale)))


def run() -> list[Figure]:
    data = dataset()
    total = messages_for(data.scale)
    with mosquitto() as broker:
        # Baseline first, while no session exists that the broker would queue for.
        baseline_new = NewObservations(data.datastream_ids, whole_seconds_from_now(2 * 86_400))
        log(f"baseline: {PUBLISHERS} publishers, {total:,} QoS 1 messages, nobody subscribed")
        publishers = Publishers(broker, baseline_new, total)
        publishers.start()
        raw = publishers.finish()
        log(f"baseline: {raw.acknowledged:,} acknowledged at {raw.rate:,.0f}/s")
        if raw.acknowledged != total:
            raise InvalidMeasurement(f"the broker acknowledged {raw.acknowledged} of {total}")

        client_id = f"klug-bench-{uuid.uuid4().hex[:8]}"
        with sensor_server(
            data, WRITE_SCOPES, mqtt_url=broker.url, mqtt_client_id=client_id
        ) as target:
            engine = create_db_engine(target.database_url, pool_size=1)
            try:
                _wait_for_bridge(broker, engine, data, timeout_s=60)
                ids = data.datastream_ids
                before = _stream_total(engine, ids)
                base_s = whole_seconds_from_now(3 * 86_400 + 11)
                new = NewObservations(ids, base_s)
                log(f"ingest: {PUBLISHERS} publishers, {total:,} QoS 1 messages through klug")
                publishers = Publishers(broker, new, total)
                publishers.start()
                started = time.time()
                counted = 0
                last_progress = time.monotonic()
                while counted < total:
                    time.sleep(POLL_S)
                    now_counted = _stream_total(engine, ids) - before
                    if now_counted > counted:
                        last_progress = time.monotonic()
                    counted = now_counted
                    if time.monotonic() - last_progress > STALL_S:
                        log(f"ingest stalled at {counted:,} of {total:,}")
                        break
                committed_at = time.time()
                published = publishers.finish()
                stored, unique = _stored_and_unique(engine, ids, base_s * 1_000_000)
            finally:
                engine.dispose()
    first = min(published.first, started)
    elapsed = committed_at - first
    lost = total - unique
    duplicates = stored - unique
    log(
        f"ingest: {unique:,} of {total:,} stored in {elapsed:.1f} s ({unique / elapsed:,.0f}/s); "
        f"publishing took {published.last_ack - published.first:.1f} s; lost {lost}, "
        f"duplicates stored {duplicates}"
    )
    if unique == 0:
        raise InvalidMeasurement("nothing published by MQTT was stored")
    return [
        Figure(
            "mqtt.ingest_obs_per_s",
            unique / elapsed,
            "obs/s",
            unique,
            raw.rate,
            None,
            {
                **data_facts(data),
                "publishers": PUBLISHERS,
                "messages": total,
                "lost": lost,
                "duplicates_stored": duplicates,
                "publish_s": round(published.last_ack - published.first, 2),
                "baseline_what": "broker PUBACK rate of the same publishers, no subscriber",
            },
        )
    ]
