"""The service catalogue, read from one YAML file per service in ``definitions/``.

Services change with ordinances and fee schedules, reviewed like code: files in the
repository (one per service, German and English side by side) rather than database rows
that nobody reviews. Each file is validated at start-up; a broken file stops the start
instead of showing citizens half a service.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from klug.core.definitions import DefinitionError, read_definition
from klug.core.i18n import Language

DEFINITIONS = Path(__file__).parent / "definitions"
Topic = Literal["verkehr", "abfall", "bauen", "ausweise", "wirtschaft", "familie", "steuern"]
TOPICS: tuple[Topic, ...] = (
    "verkehr",
    "abfall",
    "bauen",
    "ausweise",
    "wirtschaft",
    "familie",
    "steuern",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in German and English (the English one may be missing: German is shown)."""

    de: str = Field(min_length=1)
    en: str | None = None

    def get(self, language: Language) -> str:
        return self.en if language == "en" and self.en else self.de

    def only_german(self, language: Language) -> bool:
        return language == "en" and not self.en


class Fee(_Strict):
    label: Text
    eur: float | None = Field(default=None, ge=0)  # None: depends on the case (label says)


class Office(_Strict):
    name: Text
    address: str
    phone: str | None = None
    email: str | None = None
    hours: Text | None = None


class Service(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    topic: Topic
    title: Text
    summary: Text
    description: list[Text] = Field(min_length=1)  # paragraphs
    who_may_apply: Text
    documents: list[Text] = []
    fees: list[Fee] = []
    processing_days: int | None = Field(default=None, ge=1, le=365)
    # What the number of days is: a legal limit or the city's own target.
    processing_basis: Text | None = None
    legal_basis: list[str] = []
    office: Office
    # The key of the application form, once the procedure can be done online.
    online_form: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")
    keywords: list[str] = []
    # Facts (fees, limits) not yet confirmed by the responsible office: said on the page.
    verified: bool = False


class CatalogueError(ValueError):
    """A definition file is broken; the message names the file and the field."""


def read_service(path: Path) -> Service:
    try:
        return read_definition(path, Service, key_field="slug")
    except DefinitionError as exc:
        raise CatalogueError(str(exc)) from None


def read_catalogue(directory: Path = DEFINITIONS) -> tuple[Service, ...]:
    """Every service, ordered by German title."""
    services = [read_service(p) for p in sorted(directory.glob("*.yaml"))]
    return tuple(sorted(services, key=lambda s: s.title.de.casefold()))


@cache
def catalogue() -> tuple[Service, ...]:
    return read_catalogue()


def find(slug: str) -> Service | None:
    return next((s for s in catalogue() if s.slug == slug), None)


def matching(query: str, language: Language) -> list[Service]:
    """Services whose title, summary or keywords contain every word of the query
    (case-insensitive) – the catalogue's own filter; the site search covers more."""
    words = query.casefold().split()[:10]
    if not words:
        return list(catalogue())
    found = []
    for service in catalogue():
        haystack = " ".join(
            [service.title.get(language), service.summary.get(language), *service.keywords]
        ).casefold()
        if all(w in haystack for w in words):
            found.append(service)
    return found
