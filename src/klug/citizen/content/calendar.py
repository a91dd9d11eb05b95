"""One event as an iCalendar object (RFC 5545) for the visitor's calendar app.

Small enough to write directly: one VEVENT, times in UTC, text values escaped and
lines folded at 75 octets as the RFC requires.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from klug.citizen.content.items import ShownItem
from klug.core.db import utcnow
from klug.core.i18n import current_language, localise_path


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    chunks, current, limit = [], b"", 75
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > limit:
            chunks.append(current.decode())
            current, limit = b"", 74  # continuation lines start with a space
        current += piece
    chunks.append(current.decode())
    return "\r\n ".join(chunks)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(event: ShownItem, *, base_url: str) -> bytes:
    assert event.starts_at is not None, "only events have a calendar entry"
    ends_at = event.ends_at or event.starts_at + dt.timedelta(hours=1)
    host = urlsplit(base_url).hostname or "localhost"
    url = base_url + localise_path(event.path, current_language())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Stadt Kaiserslautern//klug//DE",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:event-{event.id}@{host}",
        f"DTSTAMP:{_utc(utcnow())}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{_escape(event.title.text)}",
        f"LOCATION:{_escape(event.place.text)}",
        f"DESCRIPTION:{_escape(event.summary.text)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
