"""The SensorThings entity types as data: properties, their columns, navigation.

The query compiler, the serializer and the write service all read these definitions,
so an entity type is described once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table

from klug.sensors import models as m


@dataclass(frozen=True)
class Prop:
    """A property as clients see it. ``kind`` decides how it is parsed, filtered, shown:

    string, text (long string), json, geo (GeoJSON), time (instant, µs), interval
    (start/end µs; instants allowed), result (number or JSON), encoding.
    """

    name: str
    column: str
    kind: str
    end_column: str | None = None
    required: bool = False
    writable: bool = True


@dataclass(frozen=True)
class Nav:
    """A navigation property. Exactly one way of joining is set:

    * ``fk``: to one, this row's column ``fk`` holds the target id;
    * ``back_fk``: to many, the target's column ``back_fk`` holds this id;
    * ``link``: to many through a link table (``link_this`` → this id, ``link_target`` → target id).
    """

    name: str
    target: str
    many: bool
    fk: str | None = None
    back_fk: str | None = None
    link: Table | None = None
    link_this: str | None = None
    link_target: str | None = None
    required: bool = False  # for creation: must be given (Datastream needs its Thing …)


@dataclass(frozen=True)
class EntityType:
    name: str
    set_name: str
    table: Table
    props: dict[str, Prop] = field(default_factory=dict)
    navs: dict[str, Nav] = field(default_factory=dict)

    def prop(self, name: str) -> Prop | None:
        return self.props.get(name)


def _props(*props: Prop) -> dict[str, Prop]:
    return {p.name: p for p in props}


def _navs(*navs: Nav) -> dict[str, Nav]:
    return {n.name: n for n in navs}


def _named(description_required: bool = False) -> list[Prop]:
    return [
        Prop("name", "name", "string", required=True),
        Prop("description", "description", "text", required=description_required),
    ]


PROPERTIES = Prop("properties", "properties", "json")

THING = EntityType(
    "Thing",
    "Things",
    m.thing,
    _props(*_named(), PROPERTIES),
    _navs(
        Nav(
            "Locations",
            "Location",
            True,
            link=m.thing_location,
            link_this="thing_id",
            link_target="location_id",
        ),
        Nav("HistoricalLocations", "HistoricalLocation", True, back_fk="thing_id"),
        Nav("Datastreams", "Datastream", True, back_fk="thing_id"),
        Nav("MultiDatastreams", "MultiDatastream", True, back_fk="thing_id"),
    ),
)

LOCATION = EntityType(
    "Location",
    "Locations",
    m.location,
    _props(
        *_named(),
        Prop("encodingType", "encoding_type", "encoding", required=True),
        Prop("location", "location", "geo", required=True),
        PROPERTIES,
    ),
    _navs(
        Nav(
            "Things",
            "Thing",
            True,
            link=m.thing_location,
            link_this="location_id",
            link_target="thing_id",
        ),
        Nav(
            "HistoricalLocations",
            "HistoricalLocation",
            True,
            link=m.historical_location_location,
            link_this="location_id",
            link_target="historical_location_id",
        ),
    ),
)

HISTORICAL_LOCATION = EntityType(
    "HistoricalLocation",
    "HistoricalLocations",
    m.historical_location,
    _props(Prop("time", "time", "time", required=True)),
    _navs(
        Nav("Thing", "Thing", False, fk="thing_id", required=True),
        Nav(
            "Locations",
            "Location",
            True,
            link=m.historical_location_location,
            link_this="historical_location_id",
            link_target="location_id",
        ),
    ),
)

SENSOR = EntityType(
    "Sensor",
    "Sensors",
    m.sensor,
    _props(
        *_named(),
        Prop("encodingType", "encoding_type", "encoding", required=True),
        Prop("metadata", "metadata", "text", required=True),
        PROPERTIES,
    ),
    _navs(
        Nav("Datastreams", "Datastream", True, back_fk="sensor_id"),
        Nav("MultiDatastreams", "MultiDatastream", True, back_fk="sensor_id"),
    ),
)

OBSERVED_PROPERTY = EntityType(
    "ObservedProperty",
    "ObservedProperties",
    m.observed_property,
    _props(
        Prop("name", "name", "string", required=True),
        Prop("definition", "definition", "string", required=True),
        Prop("description", "description", "text"),
        PROPERTIES,
    ),
    _navs(
        Nav("Datastreams", "Datastream", True, back_fk="observed_property_id"),
        Nav(
            "MultiDatastreams",
            "MultiDatastream",
            True,
            link=m.multi_datastream_observed_property,
            link_this="observed_property_id",
            link_target="multi_datastream_id",
        ),
    ),
)

_STREAM_TIMES = (
    Prop(
        "phenomenonTime",
        "phenomenon_time_start",
        "interval",
        end_column="phenomenon_time_end",
        writable=False,
    ),
    Prop(
        "resultTime", "result_time_start", "interval", end_column="result_time_end", writable=False
    ),
    Prop("observedArea", "observed_area", "geo", writable=False),
)

DATASTREAM = EntityType(
    "Datastream",
    "Datastreams",
    m.datastream,
    _props(
        *_named(),
        Prop("unitOfMeasurement", "unit_of_measurement", "json", required=True),
        Prop("observationType", "observation_type", "string", required=True),
        *_STREAM_TIMES,
        PROPERTIES,
    ),
    _navs(
        Nav("Thing", "Thing", False, fk="thing_id", required=True),
        Nav("Sensor", "Sensor", False, fk="sensor_id", required=True),
        Nav(
            "ObservedProperty", "ObservedProperty", False, fk="observed_property_id", required=True
        ),
        Nav("Observations", "Observation", True, back_fk="datastream_id"),
    ),
)

MULTI_DATASTREAM = EntityType(
    "MultiDatastream",
    "MultiDatastreams",
    m.multi_datastream,
    _props(
        *_named(),
        Prop("unitOfMeasurements", "unit_of_measurements", "json", required=True),
        Prop("observationType", "observation_type", "string", required=True),
        Prop("multiObservationDataTypes", "multi_observation_data_types", "json", required=True),
        *_STREAM_TIMES,
        PROPERTIES,
    ),
    _navs(
        Nav("Thing", "Thing", False, fk="thing_id", required=True),
        Nav("Sensor", "Sensor", False, fk="sensor_id", required=True),
        Nav(
            "ObservedProperties",
            "ObservedProperty",
            True,
            link=m.multi_datastream_observed_property,
            link_this="multi_datastream_id",
            link_target="observed_property_id",
            required=True,
        ),
        Nav("Observations", "Observation", True, back_fk="multi_datastream_id"),
    ),
)

FEATURE_OF_INTEREST = EntityType(
    "FeatureOfInterest",
    "FeaturesOfInterest",
    m.feature_of_interest,
    _props(
        *_named(),
        Prop("encodingType", "encoding_type", "encoding", required=True),
        Prop("feature", "feature", "geo", required=True),
        PROPERTIES,
    ),
    _navs(Nav("Observations", "Observation", True, back_fk="feature_of_interest_id")),
)

OBSERVATION = EntityType(
    "Observation",
    "Observations",
    m.observation,
    _props(
        Prop(
            "phenomenonTime", "phenomenon_time_start", "interval", end_column="phenomenon_time_end"
        ),
        Prop("resultTime", "result_time", "time"),
        Prop("result", "result_number", "result", required=True),
        Prop("resultQuality", "result_quality", "json"),
        Prop("validTime", "valid_time_start", "interval", end_column="valid_time_end"),
        Prop("parameters", "parameters", "json"),
    ),
    _navs(
        Nav("Datastream", "Datastream", False, fk="datastream_id"),
        Nav("MultiDatastream", "MultiDatastream", False, fk="multi_datastream_id"),
        Nav("FeatureOfInterest", "FeatureOfInterest", False, fk="feature_of_interest_id"),
    ),
)

ENTITY_TYPES: dict[str, EntityType] = {
    e.name: e
    for e in (
        THING,
        LOCATION,
        HISTORICAL_LOCATION,
        SENSOR,
        OBSERVED_PROPERTY,
        DATASTREAM,
        MULTI_DATASTREAM,
        FEATURE_OF_INTEREST,
        OBSERVATION,
    )
}
BY_SET: dict[str, EntityType] = {e.set_name: e for e in ENTITY_TYPES.values()}


def entity(name: str) -> EntityType:
    return ENTITY_TYPES[name]
