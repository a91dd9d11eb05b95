"""MQTT: devices publish Observations, subscribers hear about new entities, and a crash
loses and duplicates nothing (at least once end to end, stored exactly once)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from klug.core.db import create_db_engine, make_session_factory
from klug.sensors import models as m
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer
from tests.conftest import free_port, need
from tests.servers import start_server

ROOT = Path(__file__).resolve().parents[2]


def _shared_broker() -> str:
    url = os.environ.get("KLUG_TEST_MQTT_URL", "")
    need(bool(url), "Mosquitto (set KLUG_TEST_MQTT_URL)")
    return url


def _host_port(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[1]
    host, _, port = rest.partition(":")
    return host, int(port or 1883)


@pytest.fixture
def dedicated_broker(tmp_path: Path) -> Iterator[str]:
    """A Mosquitto with klug's recommended settings (deploy/mosquitto/klug.conf):
    the distribution's defaults drop messages beyond 1,000 queued per client."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    need(Path(binary).exists(), "the mosquitto binary (apt-get install mosquitto)")
    port = free_port()
    recommended = (ROOT / "deploy" / "mosquitto" / "klug.conf").read_text()
    settings = [
        line
        for line in recommended.splitlines()
        if line.startswith(("max_", "persistence ", "autosave"))
    ]
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                *settings,
                f"persistence_location {tmp_path}/",
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"mqtt://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _make_streams(database_url: str, count: int = 1, public: bool = True) -> list[int]:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        writer = Writer(session)
        thing = writer.create(
            ENTITY_TYPES["Thing"],
            {
                "name": "Luftmessstation Rathaus",
                "Locations": [
                    {
                        "name": "Rathaus",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.7690, 49.4447]},
                    }
                ],
            },
        )
        ids = [
            writer.create(
                ENTITY_TYPES["Datastream"],
                {
                    "name": f"PM10 {n}",
                    "unitOfMeasurement": {
                        "name": "microgram per cubic metre",
                        "symbol": "µg/m³",
                        "definition": "",
                    },
                    "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                    "properties": {"public": public},
                    "Thing": {"@iot.id": thing},
                    "Sensor": {"name": "SDS011", "encodingType": "text/plain", "metadata": "laser"},
                    "ObservedProperty": {"name": "PM10", "definition": "http://example.org/pm10"},
                },
            )
            for n in range(count)
        ]
        session.commit()
    engine.dispose()
    return ids


def _stored(database_url: str) -> list[tuple[int, int, float]]:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        obs = m.observation
        rows = session.execute(
            select(obs.c.datastream_id, obs.c.phenomenon_time_start, obs.c.result_number)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Device:
    """A publishing MQTT client that knows which messages the broker acknowledged."""

    def __init__(self, url: str, name: str) -> None:
        host, port = _host_port(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(100)
        self.sent: list[tuple[int, mqtt.MQTTMessageInfo]] = []
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, datastream_id: int, second: int, result: float) -> None:
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_780_000_000 + second))
        body = json.dumps({"phenomenonTime": moment, "result": result})
        info = self.client.publish(f"v1.1/Datastreams({datastream_id})/Observations", body, qos=1)
        self.sent.append((second, info))

    @property
    def acknowledged(self) -> set[int]:
        """Messages whose PUBACK arrived: the broker has taken responsibility for them."""
        return {second for second, info in self.sent if info.is_published()}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Listener:
    def __init__(self, url: str, topic: str) -> None:
        host, port = _host_port(url)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"listener-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, msg: self.messages.put(json.loads(msg.payload))
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(5)

    def next_with_id(self, timeout_s: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            if "@iot.id" in message:  # the device's own publish is on the same topic
                return message
        raise AssertionError("no notification arrived")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _bridge_client(client_factory: Callable[..., TestClient], broker: str) -> TestClient:
    client = client_factory(mqtt_url=broker, mqtt_client_id=f"klug-test-{uuid.uuid4().hex[:8]}")
    bridge_service = client.app.state.mqtt_bridge  # type: ignore[attr-defined]
    _wait(
        lambda: bridge_service.bridge is not None and bridge_service.bridge.connected.is_set(),
        10,
        "the bridge to connect",
    )
    time.sleep(0.3)  # the subscription follows the connection
    return client


def test_a_device_publishes_an_observation_and_subscribers_hear_of_it(
    client_factory: Callable[..., TestClient], database_url: str
) -> None:
    broker = _shared_broker()
    [stream] = _make_streams(database_url)
    _bridge_client(client_factory, broker)
    listener = Listener(broker, f"v1.1/Datastreams({stream})/Observations")
    device = Device(broker, f"sensor-{uuid.uuid4().hex[:8]}")
    try:
        device.send(stream, 0, 21.5)
        notification = listener.next_with_id()
        assert notification["result"] == 21.5
        assert notification["phenomenonTime"] == "2026-05-28T20:26:40Z"
        assert notification["@iot.selfLink"].endswith(f"/Observations({notification['@iot.id']})")
        assert _stored(database_url) == [(stream, 1_780_000_000_000_000, 21.5)]
    finally:
        device.close()
        listener.close()


def test_observations_posted_over_http_are_published_too(
    client_factory: Callable[..., TestClient], database_url: str
) -> None:
    from klug.core.audit import SYSTEM
    from klug.identity import apikeys

    broker = _shared_broker()
    [stream] = _make_streams(database_url)
    client = _bridge_client(client_factory, broker)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _key, key = apikeys.create(
            session=session, name="Gateway", scopes="sensors.write", actor=SYSTEM
        )
        session.commit()
    listener = Listener(broker, "v1.1/Observations")
    try:
        response = client.post(
            f"/sta/v1.1/Datastreams({stream})/Observations",
            json={"phenomenonTime": "2026-11-26T08:00:00Z", "result": 33},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 201
        notification = listener.next_with_id()
        assert notification["@iot.id"] == response.json()["@iot.id"]
        assert notification["result"] == 33
    finally:
        listener.close()


def test_non_public_datastreams_are_not_published(
    client_factory: Callable[..., TestClient], database_url: str
) -> None:
    broker = _shared_broker()
    [private] = _make_streams(database_url, public=False)
    _bridge_client(client_factory, broker)
    listener = Listener(broker, f"v1.1/Datastreams({private})/Observations")
    device = Device(broker, f"sensor-{uuid.uuid4().hex[:8]}")
    try:
        device.send(private, 1, 5.0)
        _wait(lambda: len(_stored(database_url)) == 1, 10, "the observation to be stored")
        with pytest.raises(AssertionError, match="no notification"):
            listener.next_with_id(timeout_s=1.0)
    finally:
        device.close()
        listener.close()


def test_redeliveries_and_bad_messages(
    client_factory: Callable[..., TestClient], database_url: str
) -> None:
    broker = _shared_broker()
    [stream] = _make_streams(database_url)
    client = _bridge_client(client_factory, broker)
    host, port = _host_port(broker)
    raw = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"raw-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    raw.connect(host, port)
    raw.loop_start()
    topic = f"v1.1/Datastreams({stream})/Observations"
    try:
        good = json.dumps({"phenomenonTime": "2026-11-26T09:00:00Z", "result": 7})
        for payload in (
            good,
            good,
            b"not json",
            json.dumps([1]),
            json.dumps({"result": 1, "Datastream": 5}),
        ):
            raw.publish(topic, payload, qos=1).wait_for_publish(5)
        raw.publish("v1.1/Datastreams(999999)/Observations", good, qos=1).wait_for_publish(5)
        raw.publish(
            topic, json.dumps({"phenomenonTime": "2026-11-26T09:01:00Z", "result": 8}), qos=1
        ).wait_for_publish(5)
        _wait(lambda: len(_stored(database_url)) == 2, 10, "the two valid observations")
        time.sleep(0.3)
        assert sorted(r[2] for r in _stored(database_url)) == [7.0, 8.0], (
            "stored once each, nothing else"
        )
        stats = client.app.state.mqtt_bridge.bridge.stats  # type: ignore[attr-defined]
        assert stats.duplicates == 1
        assert stats.rejected == 4
    finally:
        raw.loop_stop()
        raw.disconnect()


def test_a_killed_bridge_loses_and_duplicates_nothing(
    dedicated_broker: str, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL during a burst: every message the broker acknowledged to the device is
    stored exactly once after the restart."""
    [stream] = _make_streams(database_url)
    settings = {
        "mqtt_url": dedicated_broker,
        "mqtt_client_id": f"klug-crash-{uuid.uuid4().hex[:8]}",
        "mqtt_notify": "false",
    }
    server = start_server(database_url, tmp_path / "var", **settings)
    device = Device(dedicated_broker, f"burst-{uuid.uuid4().hex[:8]}")
    try:
        # The persistent session exists once a first message went through.
        device.send(stream, 0, 0.0)
        _wait(lambda: len(_stored(database_url)) == 1, 15, "the bridge to subscribe")
        total, killed_at = 4000, 1500
        for second in range(1, total):
            device.send(stream, second, float(second))
            if second == killed_at:
                _wait(lambda: len(_stored(database_url)) > 200, 15, "storing to be under way")
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(timeout=10)
            if second % 200 == 0:
                time.sleep(0.02)  # a device, not a flood: ~10,000 messages per second at most
        _wait(lambda: len(device.acknowledged) == total, 30, "the broker to acknowledge the burst")
        stored_before_restart = len(_stored(database_url))
        assert stored_before_restart < total, "the kill happened during the burst"
        server = start_server(database_url, tmp_path / "var", **settings)
        _wait(lambda: len(_stored(database_url)) >= total, 60, "the redelivered messages")
        time.sleep(0.5)
        rows = _stored(database_url)
        seconds = sorted(int((t - 1_780_000_000_000_000) // 1_000_000) for _ds, t, _v in rows)
        assert seconds == sorted(device.acknowledged), "every acknowledged message, exactly once"
    finally:
        device.close()
        server.stop()
