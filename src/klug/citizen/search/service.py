"""Keep the search index and search it: SQLite FTS5 or PostgreSQL full text.

Writers call ``index``/``remove`` in their own transaction, so the index never shows
what the database does not hold. ``search`` ranks title hits first, then by relevance
(FTS5's BM25, PostgreSQL's ``ts_rank``), then newest first.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from klug.citizen.search import text as search_text
from klug.citizen.search.models import SearchEntry
from klug.core import versions
from klug.core.db import PerEngine, utcnow
from klug.core.i18n import Language

# The languages a row answering for a visitor's language may be written in (English
# rows fall back to German text where the English is missing).
TEXT_LANGUAGES: dict[str, tuple[Language, ...]] = {"de": ("de",), "en": ("en", "de")}
_PG_CONFIG: dict[str, str] = {"de": "german", "en": "english"}


@dataclass(frozen=True)
class Document:
    """One thing to find, in one visitor language."""

    kind: str
    key: str
    language: Language
    text_language: Language
    title: str
    text: str
    path: str
    visible_from: dt.datetime


@dataclass(frozen=True)
class Hit:
    kind: str
    key: str
    path: str
    title: Markup
    snippet: Markup
    text_language: str
    visible_from: dt.datetime


@dataclass(frozen=True)
class Results:
    terms: list[str]
    hits: list[Hit]
    total: int


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _fts_replace(session: Session, entry: SearchEntry) -> None:
    session.execute(text("DELETE FROM citizen_search_fts WHERE rowid = :id"), {"id": entry.id})
    session.execute(
        text(
            "INSERT INTO citizen_search_fts (rowid, title, body, language)"
            " VALUES (:id, :title, :body, :language)"
        ),
        {
            "id": entry.id,
            "title": search_text.index_text(entry.title, entry.text_language),
            "body": search_text.index_text(entry.text, entry.text_language),
            "language": entry.language,
        },
    )


def index(*, session: Session, documents: Iterable[Document]) -> None:
    """Add or replace documents (by kind, key and language)."""
    postgres = _is_postgres(session)
    changed = False
    for document in documents:
        entry = session.scalar(
            select(SearchEntry).where(
                SearchEntry.kind == document.kind,
                SearchEntry.key == document.key,
                SearchEntry.language == document.language,
            )
        )
        if entry is None:
            entry = SearchEntry(kind=document.kind, key=document.key, language=document.language)
            session.add(entry)
        entry.text_language = document.text_language
        entry.title = document.title[:300]
        entry.text = document.text
        entry.path = document.path
        entry.visible_from = document.visible_from
        entry.updated_at = utcnow()
        # PostgreSQL computes the vector itself (a generated column).
        session.flush()
        if not postgres:
            _fts_replace(session, entry)
        changed = True
    if changed:
        _raise_generation(session)


def remove(*, session: Session, kind: str, key: str) -> None:
    """Take a thing out of the index in every language."""
    ids = list(
        session.scalars(
            select(SearchEntry.id).where(SearchEntry.kind == kind, SearchEntry.key == key)
        )
    )
    if not ids:
        return
    if not _is_postgres(session):
        for entry_id in ids:
            session.execute(
                text("DELETE FROM citizen_search_fts WHERE rowid = :id"), {"id": entry_id}
            )
    session.execute(delete(SearchEntry).where(SearchEntry.id.in_(ids)))
    _raise_generation(session)


# The index generation: a data version (klug.core.versions), raised when a change commits.
GENERATION = "search"


def _raise_generation(session: Session) -> None:
    versions.note(session, {GENERATION})


def _generation(session: Session) -> int:
    return versions.current(session, GENERATION)[0]


@dataclass(frozen=True)
class _Kept:
    generation: int
    # The next scheduled publication after the answer was made: it may add hits.
    expires: dt.datetime | None
    results: Results


class _Answers:
    """Recent answers per database. A hit is what a fresh search would give: the index
    generation is the same (no change committed since) and no scheduled item has become
    visible since. Frequent queries ("Sperrmüll", "Parkausweis") are most of a city's."""

    SIZE = 256

    def __init__(self) -> None:
        self.kept: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], generation: int, now: dt.datetime) -> Results | None:
        with self.lock:
            kept = self.kept.get(key)
            if kept is None or kept.generation != generation:
                return None
            if kept.expires is not None and now >= kept.expires:
                return None
            self.kept.move_to_end(key)
            return kept.results

    def put(self, key: tuple[Any, ...], kept: _Kept) -> None:
        with self.lock:
            self.kept[key] = kept
            self.kept.move_to_end(key)
            while len(self.kept) > self.SIZE:
                self.kept.popitem(last=False)


_ANSWERS = PerEngine(_Answers)


def _next_publication(session: Session, now: dt.datetime) -> dt.datetime | None:
    return session.scalar(
        select(func.min(SearchEntry.visible_from)).where(SearchEntry.visible_from > now)
    )


# Ranking reads only ids: the texts of the one page of hits are loaded afterwards, so
# that a word found in thousands of rows does not drag their texts through the sorter.
# CROSS JOIN keeps the full-text match as the outer loop (SQLite would otherwise scan
# the entries and run the MATCH once per row: 100 times slower at 10,000 rows).
_SQLITE_RANKED = """
WITH hits AS MATERIALIZED (
    SELECT e.id AS id, bm25(citizen_search_fts, 10.0, 1.0) AS score,
        e.id IN (SELECT rowid FROM citizen_search_fts WHERE citizen_search_fts MATCH :title_match)
            AS title_hit,
        e.visible_from AS visible_from
    FROM citizen_search_fts
        CROSS JOIN citizen_search_entry AS e ON e.id = citizen_search_fts.rowid
    WHERE citizen_search_fts MATCH :match AND e.language = :language AND e.visible_from <= :now
)
SELECT id, count(*) OVER () AS total FROM hits
ORDER BY title_hit DESC, score, visible_from DESC, id
LIMIT :limit OFFSET :offset
"""
_SQLITE_COUNT = """
SELECT count(*)
FROM citizen_search_fts CROSS JOIN citizen_search_entry AS e ON e.id = citizen_search_fts.rowid
WHERE citizen_search_fts MATCH :match AND e.language = :language AND e.visible_from <= :now
"""

# The query is the visitor's words joined by spaces (punctuation already removed), so
# plainto_tsquery – every word must occur, no operators – means the same as on SQLite.
_PG_QUERY = {
    "de": "plainto_tsquery('german', :words)",
    "en": "(plainto_tsquery('english', :words) || plainto_tsquery('german', :words))",
}
_PG_RANKED = """
SELECT e.id, count(*) OVER () AS total
FROM citizen_search_entry AS e, (SELECT {query} AS query) AS q
WHERE e.search_vector @@ q.query AND e.language = :language AND e.visible_from <= :now
ORDER BY ts_filter(e.search_vector, '{{a}}') @@ q.query DESC,
    ts_rank(e.search_vector, q.query) DESC, e.visible_from DESC, e.id
LIMIT :limit OFFSET :offset
"""
_PG_COUNT = """
SELECT count(*) FROM citizen_search_entry AS e
WHERE e.search_vector @@ {query} AND e.language = :language AND e.visible_from <= :now
"""


def _ranked(
    session: Session,
    terms: Sequence[str],
    stem_groups: Sequence[frozenset[str]],
    language: Language,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """One page of matching entries, best first, and the number of all matches."""
    now = utcnow()
    if _is_postgres(session):
        query = _PG_QUERY[language]
        params: dict[str, Any] = {"words": " ".join(terms), "language": language, "now": now}
        ranked_sql, count_sql = _PG_RANKED.format(query=query), _PG_COUNT.format(query=query)
        page_params = {**params, "limit": limit, "offset": offset}
    else:
        # SQLite stores naive UTC (see klug.core.db.UtcDateTime).
        params = {
            "match": f'{{language}} : "{language}" AND ' + search_text.fts5_match(stem_groups),
            "language": language,
            "now": now.replace(tzinfo=None),
        }
        ranked_sql, count_sql = _SQLITE_RANKED, _SQLITE_COUNT
        page_params = {
            **params,
            "title_match": search_text.fts5_match(stem_groups, column="title"),
            "limit": limit,
            "offset": offset,
        }
    # The window count costs no second pass over the matches (one query, one match).
    ranked = session.execute(text(ranked_sql), page_params).all()
    if ranked:
        total = int(ranked[0].total)
    elif offset > 0:
        total = int(session.scalar(text(count_sql), params) or 0)
    else:
        total = 0
    ids = [row.id for row in ranked]
    columns = (
        SearchEntry.id,
        SearchEntry.kind,
        SearchEntry.key,
        SearchEntry.path,
        SearchEntry.title,
        SearchEntry.text,
        SearchEntry.text_language,
        SearchEntry.visible_from,
    )
    found = {
        row.id: row for row in session.execute(select(*columns).where(SearchEntry.id.in_(ids)))
    }
    return [found[entry_id] for entry_id in ids if entry_id in found], total


def search(
    *, session: Session, query: str, language: Language, limit: int = 10, offset: int = 0
) -> Results:
    """Published things matching every word of ``query``, for visitors of ``language``.

    Any input is accepted: punctuation, quotes and operators are separators, the query
    is cut at 200 characters and 8 words, and a query of no words finds nothing.
    """
    terms = search_text.query_terms(query, language)
    if not terms:
        return Results(terms=[], hits=[], total=0)
    key = (language, tuple(terms), max(1, limit), max(0, offset))
    answers = _ANSWERS.get(session)
    generation = _generation(session)
    now = utcnow()
    found = answers.get(key, generation, now)
    if found is None:
        found = _search(session, terms, language, limit, offset)
        answers.put(key, _Kept(generation, _next_publication(session, now), found))
    return found


def _search(
    session: Session, terms: list[str], language: Language, limit: int, offset: int
) -> Results:
    stems_by_language: dict[str, list[frozenset[str]]] = {
        text_language: search_text.term_stems(terms, [text_language])
        for text_language in TEXT_LANGUAGES[language]
    }
    stem_groups = search_text.term_stems(terms, TEXT_LANGUAGES[language])
    entries, total = _ranked(session, terms, stem_groups, language, max(1, limit), max(0, offset))
    hits = []
    for entry in entries:
        stems = frozenset().union(*stems_by_language.get(entry.text_language, stem_groups))
        title, _found = search_text.highlight(entry.title, stems, entry.text_language, width=300)
        snippet, _found = search_text.highlight(entry.text, stems, entry.text_language)
        hits.append(
            Hit(
                kind=entry.kind,
                key=entry.key,
                path=entry.path,
                title=title,
                snippet=snippet,
                text_language=entry.text_language,
                visible_from=entry.visible_from,
            )
        )
    return Results(terms=terms, hits=hits, total=total)
