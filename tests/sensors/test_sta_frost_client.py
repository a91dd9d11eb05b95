"""An unmodified standard client against a real ``klug serve``: frost_sta_client (Fraunhofer
IOSB, from PyPI) creates a Thing with Location and Datastream, posts Observations (one by
one and as a dataArray), queries them with $filter/$expand/$orderby and pages with
``@iot.nextLink``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import frost_sta_client as fsc
import pytest
import requests
from requests.auth import AuthBase

from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.identity import apikeys
from tests.servers import LiveServer, start_server

PHENOMENON = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
# The library's own use of furl is deprecated there; nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")


class BearerKey(AuthBase):
    """``Authorization: Bearer <key>`` on every request the client sends."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


class ApiKeyAuth(fsc.AuthHandler):  # type: ignore[misc]
    """The library's hook for authentication (it offers HTTP Basic by default)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def add_auth_header(self) -> AuthBase:
        return BearerKey(self.key)


def _api_key(database_url: str, scopes: str) -> str:
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            _, key = apikeys.create(
                session=session, name="FROST-Client", scopes=scopes, actor=SYSTEM
            )
            session.commit()
    finally:
        engine.dispose()
    return key


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(database_url, tmp_path / "var")
    yield live
    live.stop()


@pytest.fixture
def service(server: LiveServer, database_url: str) -> Any:
    key = _api_key(database_url, "sensors.write,sensors.read")
    return fsc.SensorThingsService(f"{server.url}/sta/v1.1", auth_handler=ApiKeyAuth(key))


def test_frost_client_creates_posts_queries_and_pages(service: Any, server: LiveServer) -> None:
    location = fsc.Location(
        name="Gartenschau",
        description="Gelände der Gartenschau Kaiserslautern",
        encoding_type="application/geo+json",
        location={"type": "Point", "coordinates": [7.7805, 49.4458]},
    )
    datastream = fsc.Datastream(
        name="Bodenfeuchte Gartenschau",
        description="10 cm Tiefe",
        observation_type=PHENOMENON,
        unit_of_measurement=fsc.UnitOfMeasurement(
            name="Prozent", symbol="%", definition="http://unitsofmeasure.org/ucum.html"
        ),
        properties={"public": True},
        sensor=fsc.Sensor(
            name="SMT100",
            description="Bodenfeuchtesensor",
            encoding_type="application/pdf",
            metadata="https://klug.example/smt100.pdf",
        ),
        observed_property=fsc.ObservedProperty(
            name="Bodenfeuchte", definition="https://klug.example/soil-moisture"
        ),
    )
    thing = fsc.Thing(
        name="Messstation Gartenschau",
        description="Beet 4",
        properties={"Betreiber": "Stadtgärtnerei"},
        locations=[location],
        datastreams=[datastream],
    )
    service.create(thing)
    assert isinstance(thing.id, int)

    found = service.things().find(thing.id)
    assert (found.name, found.properties) == (
        "Messstation Gartenschau",
        {"Betreiber": "Stadtgärtnerei"},
    )
    [stream] = list(found.get_datastreams().query().list())
    assert stream.name == "Bodenfeuchte Gartenschau"
    [place] = list(found.get_locations().query().list())
    assert place.location == {"type": "Point", "coordinates": [7.7805, 49.4458]}

    # One by one: the client sends the Datastream as it read it (id and properties).
    for minute in range(5):
        observation = fsc.Observation(
            phenomenon_time=f"2025-06-01T08:{minute:02d}:00Z", result=20 + minute, datastream=stream
        )
        service.create(observation)
        assert isinstance(observation.id, int)
    # In bulk: CreateObservations with a dataArray.
    bulk = fsc.DataArrayValue()
    bulk.datastream = stream
    bulk.components = {
        fsc.DataArrayValue.Property.PHENOMENON_TIME,
        fsc.DataArrayValue.Property.RESULT,
    }
    for minute in range(5, 150):
        bulk.add_observation(
            fsc.Observation(
                phenomenon_time=f"2025-06-01T{8 + minute // 60:02d}:{minute % 60:02d}:00Z",
                result=20 + minute,
                datastream=stream,
            )
        )
    document = fsc.DataArrayDocument()
    document.add_data_array_value(bulk)
    created = service.observations().create(document)
    assert len(created) == 145
    assert all(o.self_link.startswith(f"{server.url}/sta/v1.1/Observations(") for o in created)

    # $filter, $orderby (the client sends DESC), $expand, and nextLink paging by iterating.
    query = (
        stream.get_observations()
        .query()
        .filter("result ge 40 and phenomenonTime lt 2025-06-01T10:00:00Z")
        .orderby("result", "DESC")
        .expand("FeatureOfInterest")
        .top(25)
        .count()
    )
    page = query.list()
    assert page.count == 100
    assert page.next_link is not None
    results = [o.result for o in page]
    assert results == list(range(139, 39, -1)), "every page once, in order"
    assert {o.feature_of_interest.name for o in page} == {"Gartenschau"}

    expanded = (
        service.things()
        .query()
        .filter(f"id eq {thing.id}")
        .expand("Datastreams($expand=Observations($orderby=phenomenonTime desc;$top=2))")
        .list()
    )
    [with_streams] = list(expanded)
    [nested] = with_streams.datastreams.entities
    assert [o.result for o in nested.observations.entities] == [169, 168]

    last = created[-1]
    service.delete(service.observations().find(int(last.self_link.split("(")[1].rstrip(")"))))
    assert stream.get_observations().query().count().top(0).list().count == 149


def test_frost_client_without_a_write_key_is_refused(server: LiveServer, database_url: str) -> None:
    anonymous = fsc.SensorThingsService(f"{server.url}/sta/v1.1")
    with pytest.raises(requests.exceptions.HTTPError) as refused:
        anonymous.create(fsc.Thing(name="Unbefugt", description=""))
    assert refused.value.response.status_code == 401

    reader = _api_key(database_url, "sensors.read")
    readonly = fsc.SensorThingsService(f"{server.url}/sta/v1.1", auth_handler=ApiKeyAuth(reader))
    with pytest.raises(requests.exceptions.HTTPError) as forbidden:
        readonly.create(fsc.Thing(name="Unbefugt", description=""))
    assert forbidden.value.response.status_code == 403
    assert list(readonly.things().query().list()) == []
