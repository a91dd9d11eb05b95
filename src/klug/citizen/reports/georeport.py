"""Open311 GeoReport v2 documents: what the server answers, as XML and as JSON.

Each answer is first built as plain data (dicts and lists) in the shape the
specification gives for JSON; XML follows from it by the spec's own mapping (the Spark
convention: a list becomes a wrapper element with one child per item). XML is written
with the standard library's ElementTree, which escapes every text – never by pasting
strings together.

Reference: Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) and its Service
Discovery page.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from starlette.responses import Response

from klug.citizen.reports.categories import Catalogue, Category, Question
from klug.citizen.reports.models import CLOSED
from klug.core import jsontext
from klug.core.i18n import Language

Format = Literal["xml", "json"]
FORMATS: tuple[Format, ...] = ("xml", "json")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# The XML element of each item of a list, by the list's element (Spark convention).
_ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
}


def w3_datetime(value: dt.datetime) -> str:
    """ISO 8601 in UTC with "Z" (W3C profile, as the spec's examples). Formatting a time
    of the city's zone costs ten times as much, 3,000 times per answer."""
    utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(element, _ITEM_TAGS[tag], item)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, root, document)
    written: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return written


def encode(root: str, document: Any, fmt: Format) -> bytes:
    """The document as XML (element ``root``) or JSON."""
    return to_xml(root, document) if fmt == "xml" else jsontext.dumps(document)


def respond(root: str, document: Any, fmt: Format, status_code: int = 200) -> Response:
    """The document with the spec's content types."""
    return Response(
        encode(root, document, fmt), status_code=status_code, media_type=MEDIA_TYPES[fmt]
    )


def error_response(status: int, descriptions: Sequence[str], fmt: Format) -> Response:
    """``[{"code": 400, "description": "…"}]`` / ``<errors><error>…</error></errors>``."""
    document = [{"code": status, "description": text} for text in descriptions]
    return respond("errors", document, fmt, status_code=status)


# ---------------------------------------------------------------- documents


def discovery(*, url: str, changeset: str, contact: str, key_service: str) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(category: Category, catalogue: Catalogue, language: Language) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name.get(language),
        "description": category.description.get(language),
        "metadata": bool(category.questions),
        # Requests are stored at once and answered with their id.
        "type": "realtime",
        "keywords": ", ".join(category.keywords.get(language)),
        "group": catalogue.groups[category.group].get(language),
    }


def _attribute(question: Question, order: int, language: Language) -> dict[str, Any]:
    return {
        "variable": True,
        "code": question.code,
        "datatype": question.datatype,
        "required": question.required,
        "datatype_description": question.hint.get(language) if question.hint else None,
        "order": order,
        "description": question.description.get(language),
        "values": [{"key": c.key, "name": c.name.get(language)} for c in question.values],
    }


def service_definition(category: Category, language: Language) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            _attribute(question, order, language)
            for order, question in enumerate(category.questions, start=1)
        ],
    }


def requests(
    rows: Iterable[Any],
    catalogue: Catalogue,
    language: Language,
    photo_urls: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Service requests from rows of ``service.OPEN311_COLUMNS`` – public fields only;
    ``photo_urls``: the published photos by report id, which stand in for a client's
    ``media_url``."""
    photo_urls = photo_urls or {}
    names: dict[str, tuple[str, str | None, Category]] = {
        c.code: (
            c.name.get(language),
            c.service_notice.get(language) if c.service_notice else None,
            c,
        )
        for c in catalogue.categories
    }
    documents = []
    for row in rows:
        known = names.get(row.category_code)
        documents.append(
            {
                "service_request_id": str(row.id),
                "status": "closed" if row.status == CLOSED else "open",
                "status_notes": row.status_notes,
                "service_name": known[0] if known else row.category_code,
                "service_code": row.category_code,
                "description": row.description or None,
                "agency_responsible": row.agency_responsible or None,
                "service_notice": known[1] if known else None,
                "requested_datetime": w3_datetime(row.created_at),
                "updated_datetime": w3_datetime(row.updated_at),
                "expected_datetime": (
                    w3_datetime(known[2].expected_at(row.created_at)) if known else None
                ),
                "address": row.address or row.location_text,
                "address_id": row.address_id,
                "zipcode": None,
                "lat": row.lat,
                "long": row.lon,
                "media_url": photo_urls.get(row.id) or row.media_url,
            }
        )
    return documents


def created(report_id: int, category: Category, language: Language) -> list[dict[str, Any]]:
    """The answer to POST requests: the new id (the spec: then not also the token);
    klug keeps no Open311 account ids."""
    notice = category.service_notice.get(language) if category.service_notice else None
    return [{"service_request_id": str(report_id), "service_notice": notice, "account_id": None}]


def token(report_id: int, token_value: str) -> list[dict[str, Any]]:
    return [{"service_request_id": str(report_id), "token": token_value}]
