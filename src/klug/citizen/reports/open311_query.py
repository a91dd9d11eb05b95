"""The filters of Open311 ``GET requests`` and the answers each process keeps.

A client polls the same question again and again ("what changed in the last 90 days?");
its answer – up to 1,000 requests, half a megabyte – changes only when a report does.
So answers are kept per process, keyed by the normalised filter, the format and the
language, and valid while the reports' revision (``service.revision``) is the same: a
poll then costs one small query instead of reading and writing 1,000 rows.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from klug.citizen.reports.categories import Catalogue
from klug.citizen.reports.models import CLOSED, OPEN_STATUSES
from klug.core.db import utcnow
from klug.core.i18n import CITY_TZ, gettext

MAX_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000
KEPT_ANSWERS = 32


class Open311Error(Exception):
    """An error answered in the spec's format: HTTP status and one or more descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions[0] if descriptions else str(status))
        self.status = status
        self.descriptions = list(descriptions)


def unknown_code(code: str) -> str:
    return gettext("service_code %(code)s was not found.") % {"code": code}


@dataclass(frozen=True)
class RequestFilter:
    """A normalised question to ``GET requests`` (hashable: it keys kept answers)."""

    ids: tuple[int, ...] | None = None
    category_codes: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _moment(name: str, text: str) -> dt.datetime:
    # A "+" of an offset that the client did not encode arrives as a space.
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(
            400,
            gettext("%(name)s is not an ISO 8601 date and time (e.g. 2026-01-01T00:00:00Z).")
            % {"name": name},
        ) from None
    # Without an offset the time is the city's (the spec asks clients to send one).
    return moment if moment.tzinfo else moment.replace(tzinfo=CITY_TZ)


def _window(start_text: str, end_text: str) -> tuple[dt.datetime, dt.datetime]:
    """The span of ``requested_datetime``: at most 90 days, by default the last 90 – to
    the end of the current minute, so that a minute's polls ask the same question."""
    start = _moment("start_date", start_text) if start_text else None
    end = _moment("end_date", end_text) if end_text else None
    if start is None and end is None:
        end = utcnow().replace(second=59, microsecond=999_999)
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, gettext("end_date must not be before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(
            400, gettext("start_date and end_date may not be more than 90 days apart.")
        )
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _ids(text: str) -> tuple[int, ...]:
    parts = _list(text)
    if not parts or not all(p.isdigit() and len(p) <= 12 for p in parts):
        raise Open311Error(
            400, gettext("service_request_id must be a comma-separated list of numbers.")
        )
    if len(parts) > MAX_RESULTS:
        raise Open311Error(
            400, gettext("At most %(n)s service_request_id at once.") % {"n": MAX_RESULTS}
        )
    return tuple(sorted({int(p) for p in parts}))


def _statuses(text: str) -> tuple[str, ...] | None:
    wanted = set(_list(text))
    if wanted - {"open", "closed"}:
        raise Open311Error(400, gettext("status must be open, closed or both."))
    if not wanted or wanted == {"open", "closed"}:
        return None
    return OPEN_STATUSES if wanted == {"open"} else (CLOSED,)


def parse_filter(params: Mapping[str, str], known: Catalogue) -> RequestFilter:
    """The query string of ``GET requests``; ``service_request_id`` overrides the rest."""
    if params.get("service_request_id", "").strip():
        return RequestFilter(ids=_ids(params["service_request_id"]))
    codes = _list(params.get("service_code", ""))
    unknown = [code for code in codes if known.get(code) is None]
    if unknown:
        raise Open311Error(404, *(unknown_code(code) for code in unknown))
    start, end = _window(params.get("start_date", ""), params.get("end_date", ""))
    return RequestFilter(
        category_codes=tuple(sorted(set(codes))) or None,
        statuses=_statuses(params.get("status", "")),
        start=start,
        end=end,
    )


AnswerKey = tuple[str, str, RequestFilter]


class KeptAnswers:
    """The most recent answers of one process, valid for one revision of the reports.

    Single flight: while one thread computes an answer, others asking the same wait for
    it – when the default window moves on at the minute, eight pollers would otherwise
    compute the same 1,000 requests eight times at once.
    """

    def __init__(self, size: int = KEPT_ANSWERS) -> None:
        self._size = size
        self._kept: OrderedDict[AnswerKey, tuple[tuple[int, int], bytes]] = OrderedDict()
        self._computing: dict[tuple[AnswerKey, tuple[int, int]], threading.Event] = {}
        self._lock = threading.Lock()

    def _kept_answer(self, key: AnswerKey, revision: tuple[int, int]) -> bytes | None:
        found = self._kept.get(key)
        if found is None or found[0] != revision:
            return None
        self._kept.move_to_end(key)
        return found[1]

    def get_or_compute(
        self, key: AnswerKey, revision: tuple[int, int], compute: Callable[[], bytes]
    ) -> bytes:
        flight = (key, revision)
        while True:
            with self._lock:
                body = self._kept_answer(key, revision)
                if body is not None:
                    return body
                running = self._computing.get(flight)
                if running is None:
                    running = self._computing[flight] = threading.Event()
                    break
            running.wait(timeout=30)
        try:
            body = compute()
            with self._lock:
                self._kept[key] = (revision, body)
                self._kept.move_to_end(key)
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
            return body
        finally:
            with self._lock:
                del self._computing[flight]
            running.set()
