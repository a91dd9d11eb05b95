"""Writing SensorThings entities: create (with deep insert), update, delete, links.

Rules of the standard that the server keeps (OGC 18-088):
* a Thing's Locations changing creates a HistoricalLocation (§8.2.3);
* an Observation without FeatureOfInterest gets one from its Thing's Location (§8.2.7);
* deep insert: related entities inline, or references ``{"@iot.id": n}`` (§10.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from klug.core.events import publish_after_commit
from klug.sensors import ingest, timeutil
from klug.sensors import models as m
from klug.sensors.entities import ENTITY_TYPES, EntityType, Nav
from klug.sensors.values import EntityError, column_values, result_digest, stream_settings

CREATED_TOPIC = "sensors.entities"


@dataclass
class WriteResult:
    entity: EntityType
    id: int
    created: list[tuple[str, int]] = field(default_factory=list)  # every entity created, for MQTT


def _reference(value: Any) -> int | None:
    """``{"@iot.id": 5}`` → 5; anything else → None. Properties beside the id are ignored:
    clients (frost_sta_client) send a related entity as they read it, to link it."""
    if isinstance(value, dict) and "@iot.id" in value:
        ref = value["@iot.id"]
        if isinstance(ref, bool) or not isinstance(ref, int | str) or not str(ref).isdigit():
            raise EntityError("@iot.id must be a whole number")
        return int(ref)
    return None


def _exists(session: Session, entity: EntityType, entity_id: int) -> bool:
    return (
        session.execute(select(entity.table.c.id).where(entity.table.c.id == entity_id)).first()
        is not None
    )


def _require(session: Session, entity: EntityType, entity_id: int) -> int:
    if not _exists(session, entity, entity_id):
        raise EntityError(f"{entity.name}({entity_id}) does not exist")
    return entity_id


# Entities whose changes the ingest cache must hear about.
_STRUCTURE = frozenset({"Thing", "Location", "Datastream", "MultiDatastream", "FeatureOfInterest"})


class Writer:
    def __init__(self, session: Session, now: int | None = None) -> None:
        self.session = session
        self.now = now if now is not None else timeutil.now_micros()
        self.created: list[tuple[str, int]] = []

    # -- create -----------------------------------------------------------------------

    def create(self, entity: EntityType, body: Any, implied: dict[str, Any] | None = None) -> int:
        """Create one entity with everything nested in it; ``implied`` are fk columns set
        by the path or the parent (``POST Datastreams(1)/Observations``)."""
        if not isinstance(body, dict):
            raise EntityError(f"a {entity.name} must be a JSON object")
        implied = dict(implied or {})
        if "@iot.id" in body:
            raise EntityError("ids are assigned by the server; do not send @iot.id when creating")
        unknown = set(body) - set(entity.props) - set(entity.navs)
        if unknown:
            raise EntityError(f"{entity.name} has no property '{sorted(unknown)[0]}'")
        if entity.name == "Observation":
            return self._create_observation(body, implied)
        values: dict[str, Any] = {}
        for name, prop in entity.props.items():
            if name in body:
                if not prop.writable:
                    raise EntityError(f"'{name}' is computed by the server and cannot be set")
                values.update(column_values(prop, body[name], entity))
            elif prop.required:
                raise EntityError(f"{entity.name} needs '{name}'")
        for name, nav in entity.navs.items():
            if nav.fk is None:
                continue
            if name in body:
                values[nav.fk] = self._to_one(nav, body[name])
            elif nav.fk in implied:
                values[nav.fk] = implied[nav.fk]
            elif nav.required:
                raise EntityError(
                    f'{entity.name} needs its {name} (inline, or as {{"@iot.id": n}})'
                )
        if entity.name in ("Datastream", "MultiDatastream"):
            values.update(stream_settings(values.get("properties")))
            self._check_multi_datastream(entity, body)
        elif entity.name == "HistoricalLocation" and "thing_id" not in values:
            raise EntityError("a HistoricalLocation needs its Thing")
        created = insert(entity.table).values(**values).returning(entity.table.c.id)
        new_id = int(self.session.execute(created).scalar_one())
        self.created.append((entity.set_name, new_id))
        for name, nav in entity.navs.items():
            if nav.fk is None and name in body:
                self._to_many(entity, new_id, nav, body[name])
        return new_id

    def _check_multi_datastream(self, entity: EntityType, body: dict[str, Any]) -> None:
        if entity.name != "MultiDatastream":
            return
        properties = body.get("ObservedProperties")
        count = len(properties) if isinstance(properties, list) else 0
        if count == 0:
            raise EntityError("a MultiDatastream needs its ObservedProperties")
        for name in ("unitOfMeasurements", "multiObservationDataTypes"):
            if len(body.get(name) or []) != count:
                raise EntityError(f"'{name}' must have one entry per ObservedProperty ({count})")

    def _to_one(self, nav: Nav, value: Any) -> int:
        target = ENTITY_TYPES[nav.target]
        ref = _reference(value)
        if ref is not None:
            return _require(self.session, target, ref)
        return self.create(target, value)

    def _to_many(self, entity: EntityType, entity_id: int, nav: Nav, value: Any) -> None:
        if not isinstance(value, list):
            raise EntityError(f"'{nav.name}' must be a list")
        target = ENTITY_TYPES[nav.target]
        if nav.name == "ObservedProperties":
            for position, item in enumerate(value):
                ref = _reference(item)
                property_id = (
                    _require(self.session, target, ref)
                    if ref is not None
                    else self.create(target, item)
                )
                self.session.execute(
                    insert(m.multi_datastream_observed_property).values(
                        multi_datastream_id=entity_id,
                        observed_property_id=property_id,
                        position=position,
                    )
                )
            return
        linked: list[int] = []
        for item in value:
            ref = _reference(item)
            if nav.back_fk is not None:
                if ref is not None:
                    raise EntityError(
                        f"{target.set_name} are created with their {entity.name}; "
                        "link them by updating them"
                    )
                self.create(target, item, {nav.back_fk: entity_id})
                continue
            child_id = (
                _require(self.session, target, ref)
                if ref is not None
                else self.create(target, item)
            )
            self._link(nav, entity_id, child_id)
            linked.append(child_id)
        if entity.name == "Thing" and nav.name == "Locations" and linked:
            self._historical_location(entity_id)
        if entity.name == "Location" and nav.name == "Things":
            for thing_id in linked:
                self._historical_location(thing_id)

    def _link(self, nav: Nav, this: int, target: int) -> None:
        assert nav.link is not None and nav.link_this and nav.link_target
        exists = self.session.execute(
            select(nav.link).where(
                nav.link.c[nav.link_this] == this, nav.link.c[nav.link_target] == target
            )
        ).first()
        if exists is None:
            self.session.execute(
                insert(nav.link).values({nav.link_this: this, nav.link_target: target})
            )

    def _historical_location(self, thing_id: int) -> None:
        """Record where the Thing is now: all its current Locations, at this time."""
        # Observations from now on get their FeatureOfInterest from the new Location.
        self._structure_changed()
        new_id = int(
            self.session.execute(
                insert(m.historical_location)
                .values(thing_id=thing_id, time=self.now)
                .returning(m.historical_location.c.id)
            ).scalar_one()
        )
        self.created.append(("HistoricalLocations", new_id))
        location_ids = self.session.execute(
            select(m.thing_location.c.location_id).where(m.thing_location.c.thing_id == thing_id)
        ).scalars()
        for location_id in location_ids:
            self.session.execute(
                insert(m.historical_location_location).values(
                    historical_location_id=new_id, location_id=location_id
                )
            )

    def _create_observation(self, body: dict[str, Any], implied: dict[str, Any]) -> int:
        stream_ids: dict[str, int | None] = {
            "datastream_id": implied.get("datastream_id"),
            "multi_datastream_id": implied.get("multi_datastream_id"),
        }
        for name, column in (
            ("Datastream", "datastream_id"),
            ("MultiDatastream", "multi_datastream_id"),
        ):
            if name in body:
                stream_ids[column] = self._to_one(
                    ENTITY_TYPES["Observation"].navs[name], body[name]
                )
        foi = implied.get("feature_of_interest_id")
        if "FeatureOfInterest" in body:
            foi = self._to_one(
                ENTITY_TYPES["Observation"].navs["FeatureOfInterest"], body["FeatureOfInterest"]
            )
        plain = {
            k: v
            for k, v in body.items()
            if k not in ("Datastream", "MultiDatastream", "FeatureOfInterest")
        }
        item = ingest.observation_from_json(
            plain, feature_of_interest_id=foi, now=self.now, **stream_ids
        )
        [stored] = ingest.store(self.session, [item], now=self.now)
        return stored.id

    # -- update -----------------------------------------------------------------------

    def update(self, entity: EntityType, entity_id: int, body: Any) -> None:
        """PATCH: change the given properties; to-one links by reference; a Thing's
        Locations replaced (which records a HistoricalLocation)."""
        if not isinstance(body, dict):
            raise EntityError(f"a {entity.name} must be a JSON object")
        if not _exists(self.session, entity, entity_id):
            raise LookupError(entity_id)
        body = {k: v for k, v in body.items() if k not in ("@iot.id", "@iot.selfLink")}
        unknown = set(body) - set(entity.props) - set(entity.navs)
        if unknown:
            raise EntityError(f"{entity.name} has no property '{sorted(unknown)[0]}'")
        values: dict[str, Any] = {}
        for name, value in body.items():
            prop = entity.props.get(name)
            if prop is not None:
                if not prop.writable:
                    raise EntityError(f"'{name}' is computed by the server and cannot be set")
                if prop.required and value is None:
                    raise EntityError(f"'{name}' cannot be empty")
                values.update(column_values(prop, value, entity))
                continue
            nav = entity.navs[name]
            if nav.fk is not None:
                ref = _reference(value)
                if ref is None:
                    raise EntityError(f"'{name}' is changed by reference: {{\"@iot.id\": n}}")
                values[nav.fk] = _require(self.session, ENTITY_TYPES[nav.target], ref)
            elif entity.name == "Thing" and name == "Locations":
                self._replace_locations(entity_id, value)
            else:
                raise EntityError(
                    f"'{name}' cannot be changed here; change the {nav.target} itself"
                )
        if entity.name in ("Datastream", "MultiDatastream") and "properties" in values:
            values.update(stream_settings(values["properties"]))
        if entity.name == "Observation":
            self._update_observation(entity_id, values)
            return
        if entity.name in _STRUCTURE:
            self._structure_changed()
        if values:
            self.session.execute(
                update(entity.table).where(entity.table.c.id == entity_id).values(**values)
            )

    def _replace_locations(self, thing_id: int, value: Any) -> None:
        if not isinstance(value, list):
            raise EntityError("'Locations' must be a list")
        nav = ENTITY_TYPES["Thing"].navs["Locations"]
        self.session.execute(
            delete(m.thing_location).where(m.thing_location.c.thing_id == thing_id)
        )
        for item in value:
            ref = _reference(item)
            location_id = (
                _require(self.session, ENTITY_TYPES["Location"], ref)
                if ref is not None
                else self.create(ENTITY_TYPES["Location"], item)
            )
            self._link(nav, thing_id, location_id)
        self._historical_location(thing_id)

    def _update_observation(self, observation_id: int, values: dict[str, Any]) -> None:
        table = m.observation
        before = (
            self.session.execute(select(table).where(table.c.id == observation_id)).mappings().one()
        )
        if {"result_number", "result_json", "result_time"} & values.keys():
            number = values.get("result_number", before["result_number"])
            text = values.get("result_json", before["result_json"])
            issued = values.get("result_time", before["result_time"])
            values["result_digest"] = result_digest(number, text, issued)
        self.session.execute(update(table).where(table.c.id == observation_id).values(**values))
        if before["datastream_id"] is not None:
            after = values.get("phenomenon_time_start", before["phenomenon_time_start"])
            start = before["phenomenon_time_start"]
            ingest.rebuild_range(
                self.session, before["datastream_id"], min(start, after), max(start, after)
            )

    # -- delete -----------------------------------------------------------------------

    def delete(self, entity: EntityType, entity_id: int) -> None:
        """Delete with the standard's cascade (a Thing takes its Datastreams and their
        Observations; foreign keys with ON DELETE CASCADE do the rest)."""
        if entity.name in _STRUCTURE:
            self._structure_changed()
        table = entity.table
        row = self.session.execute(select(table).where(table.c.id == entity_id)).mappings().first()
        if row is None:
            raise LookupError(entity_id)
        affected = self._observation_span(entity, entity_id)
        self.session.execute(delete(table).where(table.c.id == entity_id))
        ingest.recount(self.session, set(affected))
        for datastream_id, (first, last) in affected.items():
            ingest.rebuild_range(self.session, datastream_id, first, last)

    def _observation_span(self, entity: EntityType, entity_id: int) -> dict[int, tuple[int, int]]:
        """Datastreams that lose Observations by this deletion (only where a Datastream
        itself survives it), with the time span they lose."""
        obs = m.observation
        column = {"Observation": obs.c.id, "FeatureOfInterest": obs.c.feature_of_interest_id}.get(
            entity.name
        )
        if column is None:
            return {}
        rows = self.session.execute(
            select(
                obs.c.datastream_id,
                func.min(obs.c.phenomenon_time_start),
                func.max(obs.c.phenomenon_time_start),
            )
            .where(column == entity_id, obs.c.datastream_id.is_not(None))
            .group_by(obs.c.datastream_id)
        ).all()
        return {row[0]: (row[1], row[2]) for row in rows}

    # -- links ($ref) -----------------------------------------------------------------

    def add_link(self, entity: EntityType, entity_id: int, nav_name: str, body: Any) -> None:
        nav = entity.navs[nav_name]
        if entity.name in _STRUCTURE:
            self._structure_changed()
        ref = _reference(body)
        if ref is None:
            raise EntityError('send {"@iot.id": n} to link an entity')
        target = ENTITY_TYPES[nav.target]
        _require(self.session, target, ref)
        if nav.link is not None:
            self._link(nav, entity_id, ref)
            if entity.name == "Thing" and nav_name == "Locations":
                self._historical_location(entity_id)
        elif nav.fk is not None:
            self.session.execute(
                update(entity.table).where(entity.table.c.id == entity_id).values({nav.fk: ref})
            )
        else:
            raise EntityError(f"{target.set_name} are linked from their own side")

    def remove_link(
        self, entity: EntityType, entity_id: int, nav_name: str, target_id: int
    ) -> None:
        nav = entity.navs[nav_name]
        if nav.link is None:
            raise EntityError(
                f"'{nav_name}' links cannot be removed; delete or update the entity instead"
            )
        assert nav.link_this is not None and nav.link_target is not None
        if entity.name in _STRUCTURE:
            self._structure_changed()
        result = self.session.execute(
            delete(nav.link).where(
                nav.link.c[nav.link_this] == entity_id, nav.link.c[nav.link_target] == target_id
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LookupError(target_id)

    def _structure_changed(self) -> None:
        """What the ingest cache keeps (a Datastream's Thing, a Thing's generated
        FeatureOfInterest) may have changed: forget it here now, and in every other
        process once this commits."""
        ingest.cache_of(self.session).clear()
        publish_after_commit(self.session, ingest.STRUCTURE_TOPIC, {})

    def announce(self, base: str) -> None:
        """After commit: tell MQTT subscribers (through the bridge) what was created."""
        others = [(s, i) for s, i in self.created if s != "Observations"]
        if others:
            publish_after_commit(self.session, CREATED_TOPIC, {"base": base, "entities": others})
