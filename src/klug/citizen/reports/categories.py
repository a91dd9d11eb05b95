"""Report categories (Open311 services) read from ``categories.yaml``, and the checking
of answers to their questions (Open311 attributes).

The file is the one place where the city changes what can be reported: a category's
questions, duplicate radius, target time and office. It is validated strictly (unknown
keys, duplicate codes and list questions without choices are errors), so a typo fails
at start-up rather than in a citizen's form.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from klug.core.i18n import CITY_TZ, Language, current_language, format_datetime, gettext

CATEGORIES_FILE = Path(__file__).with_name("categories.yaml")
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
LIST_TYPES = frozenset({"singlevaluelist", "multivaluelist"})
STRING_MAX = 200
TEXT_MAX = 2000

Answer = str | float | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(_Strict):
    """A text in German and English."""

    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: Language | None = None) -> str:
        return self.en if (language or current_language()) == "en" else self.de


class Keywords(_Strict):
    de: list[str] = []
    en: list[str] = []

    def get(self, language: Language | None = None) -> list[str]:
        return self.en if (language or current_language()) == "en" else self.de


class Choice(_Strict):
    key: str = Field(pattern=r"^[A-Za-z0-9_-]{1,50}$")
    name: LocalText


class Question(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    datatype: Datatype
    required: bool = False
    description: LocalText
    hint: LocalText | None = None
    values: list[Choice] = []

    @model_validator(mode="after")
    def _choices_fit_the_datatype(self) -> Question:
        if self.datatype in LIST_TYPES and not self.values:
            raise ValueError(f"question {self.code!r}: a {self.datatype} needs values")
        if self.datatype not in LIST_TYPES and self.values:
            raise ValueError(f"question {self.code!r}: a {self.datatype} takes no values")
        keys = [choice.key for choice in self.values]
        if len(keys) != len(set(keys)):
            raise ValueError(f"question {self.code!r}: duplicate value keys")
        return self

    def choice_name(self, key: str) -> str:
        return next((c.name.get() for c in self.values if c.key == key), key)


class Category(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    group: str
    name: LocalText
    description: LocalText
    keywords: Keywords = Keywords()
    office: LocalText
    duplicate_radius_m: float = Field(default=50.0, ge=0, le=1000)
    target_days: int = Field(ge=1, le=365)
    service_notice: LocalText | None = None
    questions: list[Question] = []

    @model_validator(mode="after")
    def _unique_question_codes(self) -> Category:
        codes = [q.code for q in self.questions]
        if len(codes) != len(set(codes)):
            raise ValueError(f"category {self.code!r}: duplicate question codes")
        return self

    def expected_at(self, reported_at: dt.datetime) -> dt.datetime:
        return reported_at + dt.timedelta(days=self.target_days)


class Area(_Strict):
    """Where reports are accepted (WGS84 degrees)."""

    south: float = Field(ge=-90, le=90)
    north: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    east: float = Field(ge=-180, le=180)

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


class Catalogue(_Strict):
    area: Area
    groups: dict[str, LocalText]
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        codes = [c.code for c in self.categories]
        if len(codes) != len(set(codes)):
            raise ValueError("duplicate category codes")
        for category in self.categories:
            if category.group not in self.groups:
                raise ValueError(f"category {category.code!r}: unknown group {category.group!r}")
        return self

    def get(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def group_name(self, category: Category) -> str:
        return self.groups[category.group].get()

    def grouped(self) -> list[tuple[str, list[Category]]]:
        """Categories by group in the order of the file (for forms)."""
        return [
            (name.get(), [c for c in self.categories if c.group == key])
            for key, name in self.groups.items()
            if any(c.group == key for c in self.categories)
        ]


def read_catalogue(path: Path) -> Catalogue:
    """Read and validate a categories file; raises ``ValueError`` with the reason."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return Catalogue.model_validate(raw)


@cache
def catalogue() -> Catalogue:
    """The city's categories (read once per process)."""
    return read_catalogue(CATEGORIES_FILE)


# ---------------------------------------------------------------- answers


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".")) if text.count(",") <= 1 else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _datetime(text: str) -> str | None:
    """ISO 8601 → an ISO string with offset; a time without zone is the city's local time
    (that is what a browser's ``datetime-local`` field sends)."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CITY_TZ)
    return parsed.astimezone(dt.UTC).isoformat(timespec="seconds")


def _answer(question: Question, given: Sequence[str]) -> tuple[Answer | None, str | None]:
    """One question's answer, or the reason it cannot be accepted."""
    if question.datatype == "multivaluelist":
        keys = list(dict.fromkeys(given))
        allowed = {c.key for c in question.values}
        if any(key not in allowed for key in keys):
            return None, gettext("Please choose one of the offered options.")
        return keys, None
    if len(given) > 1:
        return None, gettext("Please give only one answer.")
    text = given[0]
    if question.datatype == "singlevaluelist":
        if text not in {c.key for c in question.values}:
            return None, gettext("Please choose one of the offered options.")
        return text, None
    if question.datatype == "number":
        number = _number(text)
        if number is None:
            return None, gettext("Please enter a number.")
        return number, None
    if question.datatype == "datetime":
        moment = _datetime(text)
        if moment is None:
            return None, gettext("Please enter a valid date and time.")
        return moment, None
    limit = TEXT_MAX if question.datatype == "text" else STRING_MAX
    if question.datatype == "string" and ("\n" in text or "\r" in text):
        return None, gettext("Please enter a single line.")
    if len(text) > limit:
        return None, gettext("Please enter at most %(n)s characters.") % {"n": limit}
    return text, None


def check_answers(
    category: Category, given: Mapping[str, Sequence[str]]
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Answers by question code, and errors by question code (in the current language).

    ``given`` maps codes to the submitted values (empty strings are no answer). Codes the
    category does not ask for are an error: a client that sends them has the wrong form.
    """
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    known = {q.code for q in category.questions}
    for code in given:
        if code not in known and any(v.strip() for v in given[code]):
            errors[code] = gettext("This category has no question %(code)s.") % {"code": code}
    for question in category.questions:
        values = [v.strip() for v in given.get(question.code, ()) if v.strip()]
        if not values:
            if question.required:
                errors[question.code] = gettext("This field is required.")
            continue
        answer, error = _answer(question, values)
        if error is not None:
            errors[question.code] = error
        elif answer is not None:
            answers[question.code] = answer
    return answers, errors


def shown_answers(
    category: Category | None, answers: Mapping[str, Answer]
) -> list[tuple[str, str]]:
    """(question, answer) pairs in the current language, in the order of the questions."""
    if category is None:
        return []
    shown = []
    for question in category.questions:
        if question.code not in answers:
            continue
        value = answers[question.code]
        if isinstance(value, list):
            text = ", ".join(question.choice_name(key) for key in value)
        elif question.datatype == "singlevaluelist":
            text = question.choice_name(str(value))
        elif question.datatype == "datetime":
            text = format_datetime(dt.datetime.fromisoformat(str(value)), "short")
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        shown.append((question.description.get(), text))
    return shown
