"""The in-memory hourly aggregates are exact after every kind of change: new data at the
end (only the tail is re-read), late data, corrections and deletions (all re-read)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fastapi.testclient import TestClient

from klug.sensors import series
from klug.sensors.hourly import cache_for
from tests.energy.conftest import KW, post_values, stream
from tests.sensors.conftest import Api

START = dt.datetime(2026, 5, 4, 6, tzinfo=dt.UTC)
US = 1_000_000


def _quarters(
    hours: int, start: dt.datetime = START, value: float = 10.0
) -> list[tuple[dt.datetime, float]]:
    return [(start + dt.timedelta(minutes=15 * q), value + q) for q in range(hours * 4)]


def _same_as_database(client: TestClient, ds: int) -> tuple[int, int]:
    """Cached and freshly read buckets agree; the cache's (full, tail) read counts."""
    begin, end = 0, 4_000_000_000 * US
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        cache = cache_for(session)
        cached = cache.buckets(session, [ds], start=begin, end=end)[ds]
        fresh = series.buckets(session, [ds], start=begin, end=end)[ds]
        np.testing.assert_array_equal(cached.start, fresh.start)
        np.testing.assert_allclose(cached.sum, fresh.sum, rtol=1e-12)
        np.testing.assert_array_equal(cached.count, fresh.count)
        return cache.full_reads, cache.tail_reads


def test_cache_follows_appends_late_data_corrections_and_deletions(
    client: TestClient, api: Api
) -> None:
    ds = stream(api, "Einspeisung", KW, "PT15M")
    post_values(api, ds, _quarters(3))
    assert _same_as_database(client, ds) == (1, 0)
    assert _same_as_database(client, ds) == (1, 0)  # unchanged: no read at all

    # New values in the newest hour and after it: only the tail is re-read.
    post_values(api, ds, _quarters(2, START + dt.timedelta(hours=3)))
    assert _same_as_database(client, ds) == (1, 1)

    # A late value for the first hour rewrites history: the whole Datastream is re-read.
    post_values(api, ds, [(START + dt.timedelta(minutes=5), 99.0)])
    assert _same_as_database(client, ds) == (2, 1)

    # A correction (PATCH) and a deletion change old buckets too.
    first = api.read(
        f"/Datastreams({ds})/Observations", {"$orderby": "phenomenonTime asc", "$top": "2"}
    )
    target, gone = (o["@iot.id"] for o in first["value"])
    assert api.patch(f"/Observations({target})", {"result": 500.0}).status_code == 200
    assert _same_as_database(client, ds)[0] == 3
    assert api.delete(f"/Observations({gone})").status_code == 200
    assert _same_as_database(client, ds)[0] == 4


def test_counters_of_a_datastream_move_only_with_its_own_data(client: TestClient, api: Api) -> None:
    one = stream(api, "Zähler eins", KW, "PT15M")
    two = stream(api, "Zähler zwei", KW, "PT15M")
    post_values(api, one, _quarters(1))
    post_values(api, two, _quarters(1))
    _same_as_database(client, one)
    _same_as_database(client, two)
    post_values(api, one, _quarters(1, START + dt.timedelta(hours=1)))
    full, tail = _same_as_database(client, two)
    assert (full, tail) == (2, 0)  # nothing re-read for the untouched Datastream
