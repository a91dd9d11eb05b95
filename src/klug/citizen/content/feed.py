"""The news as an Atom 1.0 feed (RFC 4287), built as an XML tree, never by pasting text.

Entry ids are tag URIs (RFC 4151) of the item's number: they stay the same when a
news item's title, address or the site's host name change, so feed readers do not
show it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from klug.citizen.content.items import ShownItem
from klug.core.i18n import Language, localise_path, use_language
from klug.core.i18n import gettext as _

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ENTRIES = 20
# The day the tag URIs' authority was first used by klug; it must never change.
TAG_DATE = "2026-11-26"

ET.register_namespace("", ATOM)


def _text(parent: ET.Element, name: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
    element.text = value
    return element


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom(news: Sequence[ShownItem], *, language: Language, base_url: str) -> bytes:
    """The feed document (UTF-8) of the given news, newest first."""
    authority = urlsplit(base_url).hostname or "localhost"
    with use_language(language):
        feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: language})
        _text(feed, "id", f"tag:{authority},{TAG_DATE}:aktuelles/{language}")
        _text(feed, "title", _("News – City of Kaiserslautern"))
        _text(feed, "subtitle", _("News from the city administration of Kaiserslautern"))
        times = [item.updated_at for item in news]
        _text(
            feed,
            "updated",
            _time(max(times) if times else dt.datetime(2026, 11, 26, tzinfo=dt.UTC)),
        )
        author = ET.SubElement(feed, f"{{{ATOM}}}author")
        _text(author, "name", _("City of Kaiserslautern"))
        feed_path = localise_path("/aktuelles/feed.atom", language)
        ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": base_url + feed_path})
        ET.SubElement(
            feed,
            f"{{{ATOM}}}link",
            {
                "rel": "alternate",
                "type": "text/html",
                "href": base_url + localise_path("/aktuelles", language),
            },
        )
        for item in news:
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            if item.body_language != language:
                entry.set(XML_LANG, item.body_language)
            _text(entry, "id", f"tag:{authority},{TAG_DATE}:aktuelles/{item.id}")
            _text(entry, "title", item.title.text)
            href = base_url + localise_path(item.path, language)
            ET.SubElement(
                entry, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": href}
            )
            if item.published_at is not None:
                _text(entry, "published", _time(item.published_at))
            _text(entry, "updated", _time(item.updated_at))
            _text(entry, "summary", item.summary.text)
            # type="html": the sanitised HTML as text, escaped by the serialiser.
            _text(entry, "content", str(item.body_html), type="html")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
