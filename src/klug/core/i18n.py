"""Languages and translation catalogues (gettext via Babel).

German is the default language at ``/``; English is served under ``/en/``. Message
ids are English; ``locale/de`` carries the German text, ``locale/en`` exists so that
English wording can be edited without touching code. A test fails when a message
used in code or templates has no German translation.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import io
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Literal, cast
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")
DEFAULT_LANGUAGE: Language = "de"
CITY_TZ = ZoneInfo("Europe/Berlin")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: contextvars.ContextVar[Language] = contextvars.ContextVar(
    "klug_language", default=DEFAULT_LANGUAGE
)


@cache
def catalogue(language: Language) -> Translations:
    """The compiled catalogue of a language, built in memory from its .po file."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def set_language(language: Language) -> contextvars.Token[Language]:
    return _current.set(language)


@contextlib.contextmanager
def use_language(language: str) -> Iterator[Language]:
    """Speak a language for a while (e-mails in the recipient's language)."""
    chosen: Language = "en" if language == "en" else "de"
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def current_language() -> Language:
    return _current.get()


def gettext(message: str) -> str:
    return catalogue(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ungettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def negotiate(accept_language: str | None) -> Language:
    """Pick de or en from an Accept-Language header (API error messages)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, Language] = (-1.0, DEFAULT_LANGUAGE)
    for part in accept_language.split(","):
        tag, _sep, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > best[0]:
            best = (quality, primary)
    return best[1]


def localise_path(path: str, language: Language) -> str:
    """The URL of a page path in a language: ``/energie`` → ``/en/energie``."""
    if not path.startswith("/"):
        raise ValueError(f"page paths are absolute, got {path!r}")
    return path if language == DEFAULT_LANGUAGE else f"/{language}{path}"


def format_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    """A UTC time shown in the city's time zone, in the current language."""
    if value is None:
        return ""
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=dt.UTC)
    return _datetime_formatter(_current.get(), fmt)(value.astimezone(CITY_TZ))


_NamedFormat = Literal["full", "long", "medium", "short"]
_NAMED_FORMATS = ("full", "long", "medium", "short")


@cache
def _datetime_formatter(language: str, fmt: str) -> Callable[[dt.datetime], str]:
    """Babel's ``format_datetime`` with the locale and patterns looked up once: a list
    page shows dozens of times, and babel parses locale and patterns on every call
    (~0.1 ms each). Same text as babel's (tested)."""
    locale = Locale.parse(language)
    if fmt not in _NAMED_FORMATS:
        pattern = parse_pattern(fmt)
        return lambda value: pattern.apply(value, locale)
    fmt = cast(_NamedFormat, fmt)
    frame = str(get_datetime_format(fmt, locale=locale)).replace("'", "")
    time_pattern = parse_pattern(get_time_format(fmt, locale=locale))
    date_pattern = parse_pattern(get_date_format(fmt, locale=locale))

    def apply(value: dt.datetime) -> str:
        clock = time_pattern.apply(value.timetz(), locale, reference_date=value.date())
        return frame.replace("{0}", clock).replace("{1}", date_pattern.apply(value, locale))

    return apply


def format_datetime_by_babel(value: dt.datetime, fmt: str = "medium") -> str:
    """Babel's own formatting, the reference ``format_datetime`` must equal."""
    return _babel_format_datetime(value, format=fmt, tzinfo=CITY_TZ, locale=_current.get())


def format_euro(value: float | None) -> str:
    """An amount in euro in the current language: 30,70 € in German, €30.70 in English."""
    if value is None:
        return "—"
    return format_currency(value, "EUR", locale=_current.get())


def format_number(value: float | None, digits: int = 2) -> str:
    """A number in the current language: 1.234,50 in German, 1,234.50 in English."""
    if value is None:
        return "—"
    return format_decimal(
        value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=_current.get()
    )
