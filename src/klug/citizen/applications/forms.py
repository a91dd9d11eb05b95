"""Application forms, read from one YAML file per procedure in ``forms/``.

A form is reviewed like code (what a procedure asks follows its statute), so it lives
in the repository, German and English side by side, rather than in database rows. Every
file is checked when the application starts – field names, types, rules, conditions and
the link to the service catalogue – and a broken file stops the start with a message
naming the file and the field, as the service catalogue does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from klug.citizen.services import catalogue as services_catalogue
from klug.citizen.services.catalogue import Text
from klug.core.definitions import DefinitionError, read_definition

FORMS = Path(__file__).parent / "forms"
FieldType = Literal[
    "text", "textarea", "number", "date", "choice", "file", "address", "point", "consent"
]
FileKind = Literal["pdf", "jpeg", "png", "webp"]
# Options computed when the form is shown (they depend on today's date).
DynamicOptions = Literal["collection_dates"]
# The parts of an address and of a map point: each one input, named <field>-<part>.
ADDRESS_PARTS = ("street", "house_number", "postcode", "city")
POINT_PARTS = ("lat", "lon")
# Files one form may ask for (the upload body limit allows for this many).
MAX_FILE_FIELDS = 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    label: Text


class FormField(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: FieldType
    label: Text
    hint: Text | None = None
    required: bool = False
    # text, textarea
    max_length: int = Field(default=200, ge=1, le=10_000)
    pattern: str | None = None
    pattern_message: Text | None = None
    # An HTML autocomplete token for personal data (WCAG 1.3.5 Identify Input Purpose).
    autocomplete: str | None = Field(default=None, pattern=r"^[a-z0-9 -]+$")
    # number
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: Text | None = None
    # date
    min_days_ahead: int | None = Field(default=None, ge=0, le=3650)
    max_days_ahead: int | None = Field(default=None, ge=0, le=3650)
    not_before: str | None = None  # another date field of the form (a period's start)
    # choice
    widget: Literal["radio", "select"] = "radio"
    options: list[Option] = []
    options_from: DynamicOptions | None = None
    # file
    accept: list[FileKind] = []
    # address: postcodes the service covers (e.g. a parking zone); empty = any
    postcodes: list[str] = []
    # consent: the statement the applicant confirms
    text: Text | None = None
    # Asked only when another field has one of these values (shown to everyone without
    # JavaScript, with a hint; the server checks and keeps only the relevant fields).
    show_if: dict[str, str | list[str]] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if self.type == "choice" and not self.options and self.options_from is None:
            raise ValueError("a choice needs options or options_from")
        if self.type == "consent" and self.text is None:
            raise ValueError("a consent needs its text")
        if self.type == "file" and not self.accept:
            raise ValueError("a file field needs the accepted kinds (accept)")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from None
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if any(not re.fullmatch(r"\d{5}", p) for p in self.postcodes):
            raise ValueError("postcodes have five digits")
        if self.show_if is not None and len(self.show_if) != 1:
            raise ValueError("show_if names exactly one field")
        return self

    def shown_values(self) -> tuple[str, list[str]] | None:
        """The controlling field and the values that make this field relevant."""
        if self.show_if is None:
            return None
        (name, wanted), *_ = self.show_if.items()
        return name, [wanted] if isinstance(wanted, str) else list(wanted)

    def input_ids(self) -> list[str]:
        """The ids (= names) of this field's inputs, first one first (errors link to it)."""
        if self.type == "address":
            return [f"{self.name}-{part}" for part in ADDRESS_PARTS]
        if self.type == "point":
            return [f"{self.name}-{part}" for part in POINT_PARTS]
        return [self.name]


class Section(_Strict):
    title: Text
    fields: list[FormField] = Field(min_length=1)


class OneOfRule(_Strict):
    """At least one of these fields must be given (e.g. an address or a map point)."""

    fields: list[str] = Field(min_length=2)
    message: Text


class FormDefinition(_Strict):
    key: str = Field(pattern=r"^[a-z0-9-]+$")
    intro: Text | None = None
    sections: list[Section] = Field(min_length=1)
    at_least_one_of: list[OneOfRule] = []

    @model_validator(mode="after")
    def _references(self) -> FormDefinition:
        seen: dict[str, FormField] = {}
        for field in self.fields():
            if field.name in seen:
                raise ValueError(f"field '{field.name}' appears twice")
            condition = field.shown_values()
            if condition is not None:
                controller = seen.get(condition[0])
                if controller is None or controller.type not in ("choice", "consent"):
                    raise ValueError(
                        f"field '{field.name}': show_if must name an earlier choice or consent"
                    )
                allowed = {o.value for o in controller.options} | (
                    {"yes"} if controller.type == "consent" else set()
                )
                if controller.options_from is None and not set(condition[1]) <= allowed:
                    raise ValueError(f"field '{field.name}': show_if names an unknown option")
            if field.not_before is not None:
                start = seen.get(field.not_before)
                if start is None or start.type != "date" or field.type != "date":
                    raise ValueError(f"field '{field.name}': not_before must name an earlier date")
            seen[field.name] = field
        if sum(1 for f in seen.values() if f.type == "file") > MAX_FILE_FIELDS:
            raise ValueError(f"a form asks for at most {MAX_FILE_FIELDS} files")
        for rule in self.at_least_one_of:
            unknown = [name for name in rule.fields if name not in seen]
            if unknown:
                raise ValueError(f"at_least_one_of names unknown fields {unknown}")
        return self

    def fields(self) -> Iterator[FormField]:
        for section in self.sections:
            yield from section.fields

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields() if f.name == name), None)

    def input_order(self) -> tuple[str, ...]:
        """Every input id in the order of the page (the error summary follows it)."""
        return tuple(i for field in self.fields() for i in field.input_ids())


class FormError(ValueError):
    """A form file is broken; the message names the file and the field."""


def read_form(path: Path) -> FormDefinition:
    try:
        return read_definition(path, FormDefinition, key_field="key")
    except DefinitionError as exc:
        raise FormError(str(exc)) from None


def read_forms(directory: Path = FORMS) -> dict[str, FormDefinition]:
    """Every form by key; each service's ``online_form`` must have one."""
    forms = {p.stem: read_form(p) for p in sorted(directory.glob("*.yaml"))}
    for service in services_catalogue.catalogue():
        if service.online_form is not None and service.online_form not in forms:
            raise FormError(
                f"service '{service.slug}' names online_form '{service.online_form}', "
                f"but there is no {service.online_form}.yaml in {directory}"
            )
    return forms


@cache
def all_forms() -> dict[str, FormDefinition]:
    return read_forms()


def form_for(service: services_catalogue.Service) -> FormDefinition | None:
    """The application form of a service, if it can be applied for online."""
    if service.online_form is None:
        return None
    return all_forms().get(service.online_form)
