"""Translations: every user-facing message has its German text; languages negotiate."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from klug.core import i18n

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("src/klug/**.py", "python"), ("src/klug/**/templates/**.html", "jinja2")]
OPTIONS = {"src/klug/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _used_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHOD_MAP,
        OPTIONS,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_code_and_templates_has_a_german_translation() -> None:
    used = _used_messages()
    assert len(used) > 200
    with (i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="de")
    missing = []
    for message_id in sorted(used):
        entry = catalogue.get(message_id)
        if (
            entry is None
            or entry.fuzzy
            or not entry.string
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(message_id)
    assert missing == [], f"{len(missing)} messages without German text, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", ["de", "en"])
def test_translations_keep_their_placeholders(language: str) -> None:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    for message in catalogue:
        if message.id and message.string:
            python_format(catalogue, message)  # raises TranslationError on a mismatch
        if message.id and isinstance(message.id, str) and "{" in message.id and message.string:
            for placeholder in ("{link}", "{login}", "{reset}"):
                assert (placeholder in message.id) == (placeholder in message.string), message.id


def test_gettext_follows_the_current_language() -> None:
    with i18n.use_language("de"):
        assert i18n.gettext("Log in") == "Anmelden"
    with i18n.use_language("en"):
        assert i18n.gettext("Log in") == "Log in"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "de"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr,en;q=0.5,de;q=0.8", "de"),
        ("fr", "de"),
        ("de;q=abc,en", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full", "d. MMMM yyyy, HH:mm"])
def test_times_are_formatted_exactly_as_babel_formats_them(language: str, fmt: str) -> None:
    """The fast path (patterns looked up once) gives babel's own text – across DST
    changes, midnight and both languages."""
    rng = random.Random(f"{language}{fmt}")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    instants = [start + dt.timedelta(seconds=rng.randrange(3 * 365 * 86400)) for _ in range(300)]
    # The hours around the changes to and from summer time in 2026.
    for change in (
        dt.datetime(2026, 3, 29, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 0, tzinfo=dt.UTC),
    ):
        instants += [change + dt.timedelta(minutes=15 * k) for k in range(12)]
    instants.append(dt.datetime(2026, 11, 26, 12, 0).replace(tzinfo=None))  # noqa: DTZ001 – naive: stored times are UTC
    with i18n.use_language(language):
        for instant in instants:
            assert i18n.format_datetime(instant, fmt) == i18n.format_datetime_by_babel(
                instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC), fmt
            ), instant
