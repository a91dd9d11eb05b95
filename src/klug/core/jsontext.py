"""JSON in and out, fast: orjson, with the standard library for what orjson gets wrong.

Responses of thousands of Observations spend more time in ``json.dumps`` than in the
database; orjson is several times faster. It refuses integers beyond 64 bits and
non-string keys, which a sensor's free-form result may contain – those few documents
take the standard library's path, so nothing a client sent becomes unanswerable.
Reading, orjson turns such integers into floats; a document with a run of 19 or more
digits is therefore read by the standard library, so every value comes back exactly as
it was sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.responses import Response


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (NaN and infinities become null, as JSON has no such numbers)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()


_LONG_NUMBER = re.compile(rb"\d{19}")


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises ``ValueError`` on malformed input."""
    raw = text.encode() if isinstance(text, str) else text
    if _LONG_NUMBER.search(raw):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # Valid JSON orjson declines (1e999): the standard library reads it, and
        # malformed JSON raises its ValueError there too.
        return json.loads(raw)


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
