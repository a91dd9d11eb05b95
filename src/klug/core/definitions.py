"""Definitions kept as YAML files in the repository (service catalogue, application forms,
report categories): read, validated by a pydantic model, and named after their key, so a
broken file is reported by file and field instead of showing citizens half of it."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Definition = TypeVar("Definition", bound=BaseModel)


class DefinitionError(ValueError):
    """A definition file is broken; the message names the file and the field."""


def read_definition(path: Path, model: type[Definition], *, key_field: str) -> Definition:
    """One file as ``model``; its ``key_field`` must equal the file name (without .yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path.name}: not valid YAML: {exc}") from None
    try:
        definition = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise DefinitionError(f"{path.name}: {problems}") from None
    key = getattr(definition, key_field)
    if key != path.stem:
        raise DefinitionError(f"{path.name}: {key_field} '{key}' must match the file name")
    return definition
