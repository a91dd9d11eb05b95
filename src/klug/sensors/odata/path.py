"""Resource paths of SensorThings v1.1 §9.2: ``Things(1)/Datastreams``, ``/name/$value``,
``/$ref``; checked against the entity definitions before any query runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from klug.sensors.entities import BY_SET, ENTITY_TYPES, EntityType
from klug.sensors.odata.errors import ODataError

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<id>'?\d+'?)\))?$")


@dataclass(frozen=True)
class Step:
    """An entity set or navigation property, with the id that picks one entity (if any)."""

    entity: EntityType
    nav: str | None  # None for the entity set that starts the path
    many: bool
    id: int | None


@dataclass
class ResourcePath:
    steps: list[Step] = field(default_factory=list)
    prop: str | None = None
    value: bool = False
    ref: bool = False

    @property
    def target(self) -> EntityType:
        return self.steps[-1].entity

    @property
    def is_collection(self) -> bool:
        last = self.steps[-1]
        return last.many and last.id is None and self.prop is None


def _id(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw.strip("'"))
    if value < 1 or value > 2**63 - 1:
        raise ODataError(f"no entity has the id {value}")
    return value


def parse_path(text: str) -> ResourcePath:
    segments = text.strip("/").split("/")
    if not segments or not segments[0]:
        raise ODataError("the path names no entity set")
    path = ResourcePath()
    for index, raw in enumerate(segments):
        if raw == "$value":
            if path.prop is None or index != len(segments) - 1:
                raise ODataError("$value follows a property, at the end of the path")
            path.value = True
            continue
        if raw == "$ref":
            if index != len(segments) - 1 or path.prop is not None or len(path.steps) < 2:
                raise ODataError("$ref follows a navigation property, at the end of the path")
            path.ref = True
            continue
        match = _SEGMENT.match(raw)
        if match is None:
            raise ODataError(f"not a valid path segment: {raw!r}")
        name, id_ = match.group("name"), _id(match.group("id"))
        if not path.steps:
            entity = BY_SET.get(name)
            if entity is None:
                raise ODataError(f"unknown entity set {name!r}; known: {', '.join(BY_SET)}")
            path.steps.append(Step(entity, None, True, id_))
            continue
        if path.prop is not None:
            raise ODataError(f"'{path.prop}' has no sub-resources")
        previous = path.steps[-1]
        if previous.many and previous.id is None:
            raise ODataError(
                f"pick one of the {previous.entity.set_name} by id before going on to {name!r}"
            )
        nav = previous.entity.navs.get(name)
        if nav is not None:
            if id_ is not None and not nav.many:
                raise ODataError(f"'{name}' is a single entity; it takes no id")
            path.steps.append(Step(ENTITY_TYPES[nav.target], name, nav.many, id_))
            continue
        if id_ is not None:
            raise ODataError(f"{previous.entity.name} has no navigation property {name!r}")
        if name not in previous.entity.props and name not in ("id",):
            known = ", ".join([*previous.entity.props, *previous.entity.navs])
            raise ODataError(f"{previous.entity.name} has no property {name!r} (known: {known})")
        path.prop = name
    return path
