"""The MQTT bridge: devices create Observations by publishing, clients subscribe to new ones.

Create (SensorThings v1.1 §14.2): a device publishes an Observation to
``v1.1/Datastreams(<id>)/Observations`` (or ``MultiDatastreams(<id>)/…``,
``FeaturesOfInterest(<id>)/…``, or ``v1.1/Observations`` with the Datastream in the body).

Delivery is at least once, end to end: the bridge subscribes with QoS 1 in a persistent
session and acknowledges a message only after the transaction that stored its
Observation has committed. A broker redelivers what was not acknowledged (after a crash,
a restart, a lost connection); the storage recognises an Observation it already has
(stream + phenomenonTime + result), so a redelivery stores nothing twice. Devices must
therefore send ``phenomenonTime``: without it an Observation gets its arrival time,
and a redelivered copy would arrive at another time.

Receive (§14.1): every Observation stored – whether it came by MQTT, HTTP or
CreateObservations, in any klug process – is published to
``v1.1/Datastreams(<id>)/Observations`` and ``v1.1/Observations``; other created
entities to ``v1.1/<EntitySet>``.

One bridge runs per host (a file lock elects it among the workers). It subscribes with
MQTT 5 "no local", so its own notifications on the same topics do not come back to it.
Several hosts can share the device traffic with ``KLUG_MQTT_SHARED=true`` (an MQTT 5
shared subscription ``$share/klug/…``; no-local is not allowed there, so each host then
also receives, and skips, the notifications).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import queue
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from klug.core import jsontext
from klug.core.cache import TtlCell
from klug.core.config import Settings
from klug.core.events import EventBus
from klug.sensors import ingest, query, timeutil
from klug.sensors import models as m
from klug.sensors.entities import BY_SET
from klug.sensors.odata.options import parse_options
from klug.sensors.service import CREATED_TOPIC
from klug.sensors.values import EntityError

log = logging.getLogger(__name__)

SHARE_GROUP = "klug"
TOPICS = ("v1.1/+/Observations", "v1.1/Observations")
_TOPIC = re.compile(
    r"^v1\.1/(?:(Datastreams|MultiDatastreams|FeaturesOfInterest)\((\d+)\)/)?Observations$"
)
BATCH_SIZE = 2000
BATCH_WAIT_S = 0.005
SESSION_EXPIRY_S = 7 * 24 * 3600
# Unacknowledged messages a broker may have in flight to one connection (MQTT 5).
RECEIVE_MAXIMUM = 1000


@dataclass
class Incoming:
    client: mqtt.Client
    mid: int
    qos: int
    topic: str
    payload: bytes


@dataclass
class BridgeStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    published: int = 0


def parse_message(topic: str, payload: bytes, now: int) -> ingest.NewObservation | None:
    """An Observation from a device message; None for our own notifications.

    Raises EntityError for a message that no redelivery can fix.
    """
    match = _TOPIC.match(topic)
    if match is None:
        raise EntityError(f"not an Observation topic: {topic}")
    try:
        body = jsontext.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise EntityError("the payload is not JSON") from None
    if not isinstance(body, dict):
        raise EntityError("the payload must be an Observation object")
    if "@iot.id" in body:
        return None  # a notification of an Observation that is already stored
    streams: dict[str, Any] = {"datastream_id": None, "multi_datastream_id": None}
    foi = None
    kind, raw_id = match.group(1), match.group(2)
    if kind == "Datastreams":
        streams["datastream_id"] = int(raw_id)
    elif kind == "MultiDatastreams":
        streams["multi_datastream_id"] = int(raw_id)
    elif kind == "FeaturesOfInterest":
        foi = int(raw_id)
    for name, column in (
        ("Datastream", "datastream_id"),
        ("MultiDatastream", "multi_datastream_id"),
    ):
        if name in body:
            streams[column] = _reference(body.pop(name), name)
    if "FeatureOfInterest" in body:
        foi = _reference(body.pop("FeatureOfInterest"), "FeatureOfInterest")
    return ingest.observation_from_json(body, feature_of_interest_id=foi, now=now, **streams)


def _reference(value: Any, name: str) -> int:
    if (
        isinstance(value, dict)
        and isinstance(value.get("@iot.id"), int)
        and not isinstance(value["@iot.id"], bool)
    ):
        return int(value["@iot.id"])
    raise EntityError(f"'{name}' must be a reference {{\"@iot.id\": n}} in MQTT messages")


def _broker(url: str) -> tuple[str, int, str | None, str | None, bool]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(
            "KLUG_MQTT_URL must look like mqtt://host:1883 or mqtts://user:pass@host:8883"
        )
    tls = parts.scheme in ("mqtts", "ssl")
    return (
        parts.hostname,
        parts.port or (8883 if tls else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        tls,
    )


class Bridge:
    """MQTT connections, a writer thread that stores in batches, and a notifier."""

    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        factory: sessionmaker[Session],
        bus: EventBus,
        base_url: str,
        shared: bool = False,
        notify: bool = True,
    ) -> None:
        self.host, self.port, self.username, self.password, self.tls = _broker(url)
        self.client_id = client_id
        self.factory = factory
        self.bus = bus
        self.base = base_url.rstrip("/") + "/sta/v1.1"
        self.notify = notify
        self.shared = shared
        self.stats = BridgeStats()
        self.incoming: queue.Queue[Incoming] = queue.Queue()
        self.client = self._client(client_id)
        self._stopping = threading.Event()
        self._writer = threading.Thread(
            target=self._write_loop, name="klug-mqtt-writer", daemon=True
        )
        self._notifier: asyncio.Task[None] | None = None
        self._public: TtlCell[tuple[set[int], set[int]]] = TtlCell(10.0)
        self.connected = threading.Event()

    # -- connections -----------------------------------------------------------------

    def _client(self, client_id: str) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused: %s", reason)
            return
        if self.shared:
            options = SubscribeOptions(qos=1)
            client.subscribe([(f"$share/{SHARE_GROUP}/{topic}", options) for topic in TOPICS])
        else:
            options = SubscribeOptions(qos=1, noLocal=True)
            client.subscribe([(topic, options) for topic in TOPICS])
        self.connected.set()
        log.info("MQTT bridge connected to %s:%s", self.host, self.port)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if not self._stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.incoming.put(
            Incoming(client, message.mid, message.qos, message.topic, bytes(message.payload))
        )

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        # clean_start=False resumes the session: unacknowledged messages come again.
        self.client.connect_async(
            self.host, self.port, keepalive=30, clean_start=False, properties=properties
        )
        self.client.loop_start()
        self._writer.start()

    def stop(self) -> None:
        self._stopping.set()
        self._writer.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    # -- storing -----------------------------------------------------------------------

    def _write_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self.incoming.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + BATCH_WAIT_S
            while len(batch) < BATCH_SIZE:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(
                        self.incoming.get(timeout=max(0.0, remaining))
                        if remaining > 0
                        else self.incoming.get_nowait()
                    )
                except queue.Empty:
                    break
            self._process(batch)

    def _process(self, batch: list[Incoming]) -> None:
        self.stats.received += len(batch)
        now = timeutil.now_micros()
        valid: list[tuple[Incoming, ingest.NewObservation]] = []
        for message in batch:
            try:
                item = parse_message(message.topic, message.payload, now)
            except EntityError as exc:
                self.stats.rejected += 1
                log.warning("MQTT message on %s rejected: %s", message.topic, exc)
                continue
            if item is not None:
                valid.append((message, item))
        if valid and not self._store(valid):
            return  # stopping: unacknowledged, so the broker delivers them again
        # Acknowledge only now: everything of this batch is committed (or unfixable).
        for message in batch:
            message.client.ack(message.mid, message.qos)

    def _store(self, valid: list[tuple[Incoming, ingest.NewObservation]]) -> bool:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                self._commit([item for _message, item in valid])
                return True
            except EntityError:
                # One bad message (an unknown Datastream …) must not block the others.
                for message, item in valid:
                    try:
                        self._commit([item])
                    except EntityError as exc:
                        self.stats.rejected += 1
                        log.warning("MQTT message on %s rejected: %s", message.topic, exc)
                return True
            except DBAPIError:
                log.exception("storing MQTT observations failed; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        return False

    def _commit(self, items: list[ingest.NewObservation]) -> None:
        with self.factory() as session:
            stored = ingest.store(session, items)
            session.commit()
        created = sum(1 for s in stored if s.created)
        self.stats.stored += created
        self.stats.duplicates += len(stored) - created

    # -- notifications -----------------------------------------------------------------

    async def start_notifier(self) -> None:
        if self.notify:
            self._notifier = asyncio.create_task(self._notify_loop(), name="klug-mqtt-notifier")

    async def stop_notifier(self) -> None:
        if self._notifier is not None:
            self._notifier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._notifier

    async def _notify_loop(self) -> None:
        async with self.bus.subscribe(ingest.OBSERVATIONS_TOPIC, CREATED_TOPIC) as events:
            async for event in events:
                try:
                    if event.topic == ingest.OBSERVATIONS_TOPIC:
                        self._publish_observations(event.data.get("observations", []))
                    else:
                        await asyncio.to_thread(
                            self._publish_entities, event.data.get("entities", [])
                        )
                except Exception:
                    log.exception("publishing an MQTT notification failed")

    def _publish(self, topic: str, body: dict[str, Any] | bytes) -> None:
        payload = body if isinstance(body, bytes) else jsontext.dumps(body)
        self.client.publish(topic, payload, qos=0)
        self.stats.published += 1

    def _public_streams(self) -> tuple[set[int], set[int]]:
        """Only Observations of public (Multi)Datastreams are published: an MQTT broker
        cannot enforce klug's access rules, so non-public data never goes out on it."""

        def load() -> tuple[set[int], set[int]]:
            with self.factory() as session:
                public = [
                    set(session.execute(select(t.c.id).where(t.c.is_public.is_(True))).scalars())
                    for t in (m.datastream, m.multi_datastream)
                ]
            return public[0], public[1]

        return self._public.get(load)

    def _publish_observations(self, observations: list[dict[str, Any]]) -> None:
        public, public_multi = self._public_streams()
        for o in observations:
            if (
                o.get("datastream_id") not in public
                and o.get("multi_datastream_id") not in public_multi
            ):
                continue
            link = f"{self.base}/Observations({o['id']})"
            body = {
                "@iot.id": o["id"],
                "@iot.selfLink": link,
                "phenomenonTime": o["phenomenonTime"],
                "resultTime": o["resultTime"],
                "result": o["result"],
                "Datastream@iot.navigationLink": f"{link}/Datastream",
                "FeatureOfInterest@iot.navigationLink": f"{link}/FeatureOfInterest",
            }
            stream = (
                f"Datastreams({o['datastream_id']})"
                if o.get("datastream_id") is not None
                else f"MultiDatastreams({o['multi_datastream_id']})"
            )
            payload = jsontext.dumps(body)  # once for both topics
            self._publish(f"v1.1/{stream}/Observations", payload)
            self._publish("v1.1/Observations", payload)

    def _publish_entities(self, entities: list[list[Any]]) -> None:
        ctx = query.ReadContext(
            base=self.base, dialect="", privileged=True, now=timeutil.now_micros()
        )
        with self.factory() as session:
            for set_name, entity_id in entities:
                entity = BY_SET[set_name]
                row = query.read_one(session, entity, entity_id)
                if row is not None and not (
                    set_name in ("Datastreams", "MultiDatastreams") and not row["is_public"]
                ):
                    body = query.render_entity(entity, row, parse_options({}, entity), ctx)
                    self._publish(f"v1.1/{set_name}", body)


class BridgeService:
    """Runs the bridge in the worker that holds the host's bridge lock; the others
    keep trying, so a dying worker's bridge is taken over within seconds."""

    RETRY_S = 5.0

    def __init__(self, settings: Settings, factory: sessionmaker[Session], bus: EventBus) -> None:
        assert settings.mqtt_url
        self.settings = settings
        self.factory = factory
        self.bus = bus
        self.client_id = settings.mqtt_client_id or f"klug-{socket.gethostname()}"
        self.bridge: Bridge | None = None
        self._lock_file: Any = None
        self._task: asyncio.Task[None] | None = None

    def _try_lock(self) -> bool:
        path = Path(self.settings.var_dir) / f"mqtt-bridge-{self.client_id}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="klug-mqtt-bridge")

    async def _run(self) -> None:
        while not self._try_lock():  # noqa: ASYNC110 - polls a file lock, not an asyncio event
            await asyncio.sleep(self.RETRY_S)
        self.bridge = Bridge(
            url=self.settings.mqtt_url or "",
            client_id=self.client_id,
            factory=self.factory,
            bus=self.bus,
            base_url=self.settings.base_url,
            shared=self.settings.mqtt_shared,
            notify=self.settings.mqtt_notify,
        )
        await self.bridge.start_notifier()
        await asyncio.to_thread(self.bridge.start)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.bridge is not None:
            await self.bridge.stop_notifier()
            await asyncio.to_thread(self.bridge.stop)
        if self._lock_file is not None:
            self._lock_file.close()
