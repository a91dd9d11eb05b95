"""Tables of the SensorThings data model (OGC 18-088, SensorThings API v1.1, Sensing).

Times of the hot tables are integers: microseconds since the Unix epoch (UTC). A 22 M
row observation table is a third smaller than with text timestamps on SQLite, and
range scans compare integers. ``klug.sensors.timeutil`` converts at the boundary.

Everything is SQLAlchemy Core tables (not ORM classes): the SensorThings layer
builds its queries dynamically from OData options, and ingest writes rows in bulk.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from klug.core.db import Base

metadata = Base.metadata

# JSONB on PostgreSQL: indexable, and its operators do the JSON-path filters.
# A Python None is SQL NULL, not the JSON text 'null' (smaller rows, no decoding).
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# A 64-bit key that is also SQLite's rowid (INTEGER PRIMARY KEY), so ids are assigned.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Micros = BigInteger

thing = Table(
    "sensors_thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("properties", Json),
)

location = Table(
    "sensors_location",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("encoding_type", String(100), nullable=False),
    Column("location", Json, nullable=False),
    Column("properties", Json),
)

thing_location = Table(
    "sensors_thing_location",
    metadata,
    Column("thing_id", ForeignKey("sensors_thing.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "location_id",
        ForeignKey("sensors_location.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

historical_location = Table(
    "sensors_historical_location",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "thing_id", ForeignKey("sensors_thing.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("time", Micros, nullable=False),
)

historical_location_location = Table(
    "sensors_historical_location_location",
    metadata,
    Column(
        "historical_location_id",
        ForeignKey("sensors_historical_location.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "location_id",
        ForeignKey("sensors_location.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

sensor = Table(
    "sensors_sensor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("encoding_type", String(100), nullable=False),
    Column("metadata", Text, nullable=False),
    Column("properties", Json),
)

observed_property = Table(
    "sensors_observed_property",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("definition", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("properties", Json),
)


def _stream_columns() -> list[Column[Any]]:
    """What Datastreams and MultiDatastreams share: summary, freshness, access, latest value."""
    return [
        Column("properties", Json),
        Column("phenomenon_time_start", Micros),
        Column("phenomenon_time_end", Micros),
        Column("result_time_start", Micros),
        Column("result_time_end", Micros),
        Column("is_public", Boolean, nullable=False, default=False),
        # Freshness: silent for three expected intervals means stale.
        Column("expected_interval_s", Integer),
        # Retention: raw observations are deleted after this many days (aggregates stay).
        Column("raw_retention_days", Integer),
        Column("observation_count", BigInteger, nullable=False, default=0),
        Column("last_observation_id", BigInteger),
        Column("last_phenomenon_time", Micros),
        Column("last_result_number", Float),
        Column("last_result_json", Text),
        Column("last_received_at", Micros),
    ]


datastream = Table(
    "sensors_datastream",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("observation_type", String(255), nullable=False),
    Column("unit_of_measurement", Json, nullable=False),
    Column("observed_area", Json),
    Column(
        "thing_id", ForeignKey("sensors_thing.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column(
        "sensor_id", ForeignKey("sensors_sensor.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column(
        "observed_property_id",
        ForeignKey("sensors_observed_property.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    *_stream_columns(),
    # Change counters of the aggregates, so that readers can keep them in memory and know
    # exactly when to re-read: every change bumps the version; a change before the newest
    # hour (late data, a correction, a deletion) also bumps the rewrites.
    Column("aggregate_version", BigInteger, nullable=False, default=0, server_default="0"),
    Column("aggregate_rewrites", BigInteger, nullable=False, default=0, server_default="0"),
)

multi_datastream = Table(
    "sensors_multi_datastream",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("observation_type", String(255), nullable=False),
    Column("unit_of_measurements", Json, nullable=False),
    Column("multi_observation_data_types", Json, nullable=False),
    Column("observed_area", Json),
    Column(
        "thing_id", ForeignKey("sensors_thing.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column(
        "sensor_id", ForeignKey("sensors_sensor.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    *_stream_columns(),
)

multi_datastream_observed_property = Table(
    "sensors_multi_datastream_observed_property",
    metadata,
    Column(
        "multi_datastream_id",
        ForeignKey("sensors_multi_datastream.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", SmallInteger, primary_key=True),
    Column(
        "observed_property_id",
        ForeignKey("sensors_observed_property.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

feature_of_interest = Table(
    "sensors_feature_of_interest",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("encoding_type", String(100), nullable=False),
    Column("feature", Json, nullable=False),
    Column("properties", Json),
    # Set when generated from a Thing's Location (SensorThings §8.2.7): reused, not copied.
    Column(
        "generated_from_location_id",
        ForeignKey("sensors_location.id", ondelete="SET NULL"),
        unique=True,
    ),
)

observation = Table(
    "sensors_observation",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("datastream_id", ForeignKey("sensors_datastream.id", ondelete="CASCADE")),
    Column("multi_datastream_id", ForeignKey("sensors_multi_datastream.id", ondelete="CASCADE")),
    Column("phenomenon_time_start", Micros, nullable=False),
    Column("phenomenon_time_end", Micros),
    Column("result_time", Micros),
    # A number goes to result_number (aggregates, fast filters); anything else is JSON text.
    Column("result_number", Float),
    Column("result_json", Text),
    # 64-bit hash of the canonical result: with stream and time it identifies a redelivery.
    Column("result_digest", BigInteger, nullable=False),
    Column("result_quality", Json),
    Column("valid_time_start", Micros),
    Column("valid_time_end", Micros),
    Column("parameters", Json),
    Column(
        "feature_of_interest_id",
        ForeignKey("sensors_feature_of_interest.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # The time series key: range scans of one stream, and duplicates refused. Charts
    # read (time, value) from the index alone: PostgreSQL includes the value here,
    # SQLite has the series index below (migration 20261126_0003).
    Index(
        "uq_sensors_observation_datastream_time_result",
        "datastream_id",
        "phenomenon_time_start",
        "result_digest",
        unique=True,
        postgresql_include=["result_number"],
    ),
    Index(
        "ix_sensors_observation_series",
        "datastream_id",
        "phenomenon_time_start",
        "result_number",
    ).ddl_if(dialect="sqlite"),
    Index(
        "uq_sensors_observation_multi_datastream_time_result",
        "multi_datastream_id",
        "phenomenon_time_start",
        "result_digest",
        unique=True,
    ),
)

# Resolutions of the aggregates: 1 minute, 1 hour, 1 day (bucket length in µs).
RESOLUTIONS: dict[str, int] = {"1m": 60_000_000, "1h": 3_600_000_000, "1d": 86_400_000_000}
RESOLUTION_CODES: dict[str, int] = {"1m": 1, "1h": 2, "1d": 3}

aggregate = Table(
    "sensors_aggregate",
    metadata,
    Column(
        "datastream_id", ForeignKey("sensors_datastream.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("resolution", SmallInteger, primary_key=True),
    Column("bucket_start", Micros, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("sum", Float, nullable=False),
    Column("last", Float, nullable=False),
    Column("last_time", Micros, nullable=False),
    sqlite_with_rowid=False,
)
