"""SensorThings data model: Things, Locations, Sensors, ObservedProperties,
(Multi)Datastreams, FeaturesOfInterest, Observations and their aggregates.

On PostgreSQL the PostGIS extension is enabled when the server has it (the geospatial
functions of $filter use it); without it klug runs and answers those filters with 400.

Revision ID: 20261126_0002
Revises: 20261126_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261126_0002"
down_revision: str | None = "20261126_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enable_postgis() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    ).first()
    if available is not None:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def upgrade() -> None:
    _enable_postgis()
    op.create_table(
        "sensors_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column(
            "location", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_location")),
    )
    op.create_table(
        "sensors_observed_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_observed_property")),
    )
    op.create_table(
        "sensors_sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_sensor")),
    )
    op.create_table(
        "sensors_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_thing")),
    )
    op.create_table(
        "sensors_datastream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=255), nullable=False),
        sa.Column(
            "unit_of_measurement",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "observed_area", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("phenomenon_time_start", sa.BigInteger(), nullable=True),
        sa.Column("phenomenon_time_end", sa.BigInteger(), nullable=True),
        sa.Column("result_time_start", sa.BigInteger(), nullable=True),
        sa.Column("result_time_end", sa.BigInteger(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("expected_interval_s", sa.Integer(), nullable=True),
        sa.Column("raw_retention_days", sa.Integer(), nullable=True),
        sa.Column("observation_count", sa.BigInteger(), nullable=False),
        sa.Column("last_observation_id", sa.BigInteger(), nullable=True),
        sa.Column("last_phenomenon_time", sa.BigInteger(), nullable=True),
        sa.Column("last_result_number", sa.Float(), nullable=True),
        sa.Column("last_result_json", sa.Text(), nullable=True),
        sa.Column("last_received_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sensors_observed_property.id"],
            name=op.f("fk_sensors_datastream_observed_property_id_sensors_observed_property"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensors_sensor.id"],
            name=op.f("fk_sensors_datastream_sensor_id_sensors_sensor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensors_thing.id"],
            name=op.f("fk_sensors_datastream_thing_id_sensors_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_datastream")),
    )
    with op.batch_alter_table("sensors_datastream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_datastream_observed_property_id"),
            ["observed_property_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sensors_datastream_sensor_id"), ["sensor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sensors_datastream_thing_id"), ["thing_id"], unique=False
        )

    op.create_table(
        "sensors_feature_of_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column(
            "feature", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("generated_from_location_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["generated_from_location_id"],
            ["sensors_location.id"],
            name=op.f("fk_sensors_feature_of_interest_generated_from_location_id_sensors_location"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_feature_of_interest")),
        sa.UniqueConstraint(
            "generated_from_location_id",
            name=op.f("uq_sensors_feature_of_interest_generated_from_location_id"),
        ),
    )
    op.create_table(
        "sensors_historical_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensors_thing.id"],
            name=op.f("fk_sensors_historical_location_thing_id_sensors_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_historical_location")),
    )
    with op.batch_alter_table("sensors_historical_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_historical_location_thing_id"), ["thing_id"], unique=False
        )

    op.create_table(
        "sensors_multi_datastream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=255), nullable=False),
        sa.Column(
            "unit_of_measurements",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "multi_observation_data_types",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "observed_area", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("phenomenon_time_start", sa.BigInteger(), nullable=True),
        sa.Column("phenomenon_time_end", sa.BigInteger(), nullable=True),
        sa.Column("result_time_start", sa.BigInteger(), nullable=True),
        sa.Column("result_time_end", sa.BigInteger(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("expected_interval_s", sa.Integer(), nullable=True),
        sa.Column("raw_retention_days", sa.Integer(), nullable=True),
        sa.Column("observation_count", sa.BigInteger(), nullable=False),
        sa.Column("last_observation_id", sa.BigInteger(), nullable=True),
        sa.Column("last_phenomenon_time", sa.BigInteger(), nullable=True),
        sa.Column("last_result_number", sa.Float(), nullable=True),
        sa.Column("last_result_json", sa.Text(), nullable=True),
        sa.Column("last_received_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensors_sensor.id"],
            name=op.f("fk_sensors_multi_datastream_sensor_id_sensors_sensor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensors_thing.id"],
            name=op.f("fk_sensors_multi_datastream_thing_id_sensors_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_multi_datastream")),
    )
    with op.batch_alter_table("sensors_multi_datastream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_multi_datastream_sensor_id"), ["sensor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sensors_multi_datastream_thing_id"), ["thing_id"], unique=False
        )

    op.create_table(
        "sensors_thing_location",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sensors_location.id"],
            name=op.f("fk_sensors_thing_location_location_id_sensors_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensors_thing.id"],
            name=op.f("fk_sensors_thing_location_thing_id_sensors_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thing_id", "location_id", name=op.f("pk_sensors_thing_location")),
    )
    with op.batch_alter_table("sensors_thing_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_thing_location_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "sensors_aggregate",
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sensors_datastream.id"],
            name=op.f("fk_sensors_aggregate_datastream_id_sensors_datastream"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "datastream_id", "resolution", "bucket_start", name=op.f("pk_sensors_aggregate")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sensors_historical_location_location",
        sa.Column("historical_location_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["historical_location_id"],
            ["sensors_historical_location.id"],
            name=op.f(
                "fk_sensors_historical_location_location_historical_location_id_sensors_historical_location"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sensors_location.id"],
            name=op.f("fk_sensors_historical_location_location_location_id_sensors_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "historical_location_id",
            "location_id",
            name=op.f("pk_sensors_historical_location_location"),
        ),
    )
    with op.batch_alter_table("sensors_historical_location_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_historical_location_location_location_id"),
            ["location_id"],
            unique=False,
        )

    op.create_table(
        "sensors_multi_datastream_observed_property",
        sa.Column("multi_datastream_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["multi_datastream_id"],
            ["sensors_multi_datastream.id"],
            name=op.f(
                "fk_sensors_multi_datastream_observed_property_multi_datastream_id_sensors_multi_datastream"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sensors_observed_property.id"],
            name=op.f(
                "fk_sensors_multi_datastream_observed_property_observed_property_id_sensors_observed_property"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "multi_datastream_id",
            "position",
            name=op.f("pk_sensors_multi_datastream_observed_property"),
        ),
    )
    with op.batch_alter_table(
        "sensors_multi_datastream_observed_property", schema=None
    ) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_multi_datastream_observed_property_observed_property_id"),
            ["observed_property_id"],
            unique=False,
        )

    op.create_table(
        "sensors_observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("datastream_id", sa.Integer(), nullable=True),
        sa.Column("multi_datastream_id", sa.Integer(), nullable=True),
        sa.Column("phenomenon_time_start", sa.BigInteger(), nullable=False),
        sa.Column("phenomenon_time_end", sa.BigInteger(), nullable=True),
        sa.Column("result_time", sa.BigInteger(), nullable=True),
        sa.Column("result_number", sa.Float(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=True),
        sa.Column("result_digest", sa.BigInteger(), nullable=False),
        sa.Column(
            "result_quality",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("valid_time_start", sa.BigInteger(), nullable=True),
        sa.Column("valid_time_end", sa.BigInteger(), nullable=True),
        sa.Column(
            "parameters", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("feature_of_interest_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sensors_datastream.id"],
            name=op.f("fk_sensors_observation_datastream_id_sensors_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feature_of_interest_id"],
            ["sensors_feature_of_interest.id"],
            name=op.f("fk_sensors_observation_feature_of_interest_id_sensors_feature_of_interest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["multi_datastream_id"],
            ["sensors_multi_datastream.id"],
            name=op.f("fk_sensors_observation_multi_datastream_id_sensors_multi_datastream"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors_observation")),
    )
    with op.batch_alter_table("sensors_observation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensors_observation_feature_of_interest_id"),
            ["feature_of_interest_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_sensors_observation_datastream_time_result",
            ["datastream_id", "phenomenon_time_start", "result_digest"],
            unique=True,
        )
        batch_op.create_index(
            "uq_sensors_observation_multi_datastream_time_result",
            ["multi_datastream_id", "phenomenon_time_start", "result_digest"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("sensors_observation", schema=None) as batch_op:
        batch_op.drop_index("uq_sensors_observation_multi_datastream_time_result")
        batch_op.drop_index("uq_sensors_observation_datastream_time_result")
        batch_op.drop_index(batch_op.f("ix_sensors_observation_feature_of_interest_id"))

    op.drop_table("sensors_observation")
    with op.batch_alter_table(
        "sensors_multi_datastream_observed_property", schema=None
    ) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_sensors_multi_datastream_observed_property_observed_property_id")
        )

    op.drop_table("sensors_multi_datastream_observed_property")
    with op.batch_alter_table("sensors_historical_location_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensors_historical_location_location_location_id"))

    op.drop_table("sensors_historical_location_location")
    op.drop_table("sensors_aggregate")
    with op.batch_alter_table("sensors_thing_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensors_thing_location_location_id"))

    op.drop_table("sensors_thing_location")
    with op.batch_alter_table("sensors_multi_datastream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensors_multi_datastream_thing_id"))
        batch_op.drop_index(batch_op.f("ix_sensors_multi_datastream_sensor_id"))

    op.drop_table("sensors_multi_datastream")
    with op.batch_alter_table("sensors_historical_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensors_historical_location_thing_id"))

    op.drop_table("sensors_historical_location")
    op.drop_table("sensors_feature_of_interest")
    with op.batch_alter_table("sensors_datastream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensors_datastream_thing_id"))
        batch_op.drop_index(batch_op.f("ix_sensors_datastream_sensor_id"))
        batch_op.drop_index(batch_op.f("ix_sensors_datastream_observed_property_id"))

    op.drop_table("sensors_datastream")
    op.drop_table("sensors_thing")
    op.drop_table("sensors_sensor")
    op.drop_table("sensors_observed_property")
    op.drop_table("sensors_location")
