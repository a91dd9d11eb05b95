"""The energy configuration as a whole: read from YAML or JSON, written as YAML, changed one
unit at a time. The API (``PUT /api/energy/config``) and the operators' console share it.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from klug.core import audit
from klug.energy import service
from klug.energy.schemas import EnergyConfig, UnitConfig

Role = Literal["demand", "generation"]
MAX_CONFIG_BYTES = 256 * 1024
_GROUP: dict[Role, str] = {"demand": "demand", "generation": "units"}


class ConfigTextError(service.ConfigError):
    """The text is no configuration: too large, not YAML/JSON (``syntax``) or values that
    the schema refuses (``invalid``; ``problems`` counts them)."""

    def __init__(self, message: str, *, reason: str, problems: int | None = None) -> None:
        super().__init__(message, reason=reason)
        self.problems = problems


def parse_config(raw: bytes) -> EnergyConfig:
    """A configuration from YAML or JSON (YAML is a superset of JSON)."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigTextError(
            f"a configuration has at most {MAX_CONFIG_BYTES} bytes", reason="too_large"
        )
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigTextError(
            "not valid YAML/JSON: the text is not UTF-8", reason="syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigTextError(
            f"not valid YAML/JSON: {_yaml_problem(exc)}", reason="syntax"
        ) from None
    try:
        return EnergyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "configuration"
        raise ConfigTextError(
            f"{where}: {first['msg']}", reason="invalid", problems=len(exc.errors())
        ) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def dump_config(config: EnergyConfig) -> str:
    """The configuration as YAML, in the schema's order (what ``parse_config`` reads back)."""
    text: str = yaml.safe_dump(config.model_dump(), allow_unicode=True, sort_keys=False)
    return text


def replace(session: Session, config_in: EnergyConfig, *, actor: audit.Actor | None) -> None:
    """Store a whole new configuration (checked against the meters first) and audit it."""
    service.replace_config(session, config_in)
    audit.record(
        session,
        action="energy.config.replace",
        actor=actor,
        detail={"units": len(config_in.units), "demand": len(config_in.demand)},
    )


# ---------------------------------------------------------------- one unit at a time


def find_unit(config: EnergyConfig | None, key: str) -> tuple[Role, UnitConfig] | None:
    """A unit and its role (a demand meter or a generation unit), by key."""
    if config is None:
        return None
    for unit in config.demand:
        if unit.key == key:
            return "demand", unit
    for unit in config.units:
        if unit.key == key:
            return "generation", unit
    return None


def _data(config: EnergyConfig | None) -> dict[str, Any]:
    # Without a configuration, the first unit makes one with the default goal and factors.
    return config.model_dump() if config is not None else {"demand": [], "units": []}


def add_unit(config: EnergyConfig | None, unit: UnitConfig, role: Role) -> EnergyConfig:
    """The configuration with one unit more (raises ``ValidationError``)."""
    data = _data(config)
    data[_GROUP[role]].append(unit.model_dump())
    return EnergyConfig.model_validate(data)


def replace_unit(config: EnergyConfig, unit: UnitConfig) -> EnergyConfig:
    """The configuration with the unit of the same key replaced, in its place."""
    data = _data(config)
    for group in _GROUP.values():
        data[group] = [unit.model_dump() if u["key"] == unit.key else u for u in data[group]]
    return EnergyConfig.model_validate(data)


def remove_unit(config: EnergyConfig, key: str) -> EnergyConfig:
    """The configuration without the unit; the only demand meter cannot go (the energy
    programme measures shares of the demand)."""
    if [u.key for u in config.demand] == [key]:
        raise service.ConfigError(
            f"unit '{key}' is the only demand meter", unit=key, reason="last_demand"
        )
    data = _data(config)
    for group in _GROUP.values():
        data[group] = [u for u in data[group] if u["key"] != key]
    return EnergyConfig.model_validate(data)
