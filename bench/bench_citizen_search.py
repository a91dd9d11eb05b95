"""Citizen services: full-text search over 5,000 published pages.

``citizen.search_p95_ms``: the search page ``GET /suche?q=…`` (German; ranked hits,
highlighted snippets, the count and the pager) over 5,000 published pages – 10,000 index
rows, as every page is indexed for German and English visitors – with ten different
queries in turn, 8 connections, against a real server. ``citizen.search_api_p95_ms``:
the same queries through ``GET /api/content/search``. Baseline of both: ``GET /healthz``
at the same concurrency in the same run.

The pages come from ``bench.search_corpus`` (subjects with a Zipf distribution, general
words on most pages, inflected forms) and are published through the content service,
so that the index holds exactly what editors' pages would put there.
``KLUG_BENCH_SEARCH_PAGES`` changes the number of pages (default 5,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import func, select

from bench import Figure, InvalidMeasurement, log, options, seconds_from_env
from bench.dataset import scratch_database
from bench.load import LoadResult, choose_tool, get_paths, load_path, measure_workload
from bench.search_corpus import Corpus
from bench.server import Server, database_server
from klug.citizen.content import items as content_items
from klug.citizen.content.schemas import ItemCreate
from klug.citizen.search.models import SearchEntry
from klug.core import migrate
from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory

CONNECTIONS = 8
UNCACHED_QUERIES = 400
BATCH = 250
# From frequent subjects to rare ones, and two of the general words that most pages
# contain (the expensive case: thousands of hits to rank).
QUERIES = [
    "Parkausweise",
    "Sperrmüll anmelden",
    "Energieberatung",
    "Solaranlagen Förderprogramm",
    "Baustelle Umleitung Innenstadt",
    "Personalausweis beantragen",
    "Kita-Platz",
    "Hundesteuer Gebühren",
    "Spielplatz Betzenberg",
    "Bürgerbüro Öffnungszeiten",
]


def page(corpus: Corpus, n: int) -> ItemCreate:
    generated = corpus.page(n)
    return ItemCreate(
        kind="page",
        slug=generated.slug,
        title_de=generated.title[:200],
        summary_de=generated.summary,
        body_de=generated.body,
    )


def fill(url: str, pages: int) -> int:
    """Publish ``pages`` generated pages through the content service; index rows made."""
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    corpus = Corpus()
    for start in range(0, pages, BATCH):
        with factory() as session:
            for n in range(start, min(pages, start + BATCH)):
                item = content_items.create(session=session, item_in=page(corpus, n), actor=SYSTEM)
                content_items.publish(session=session, item=item, actor=SYSTEM)
            session.commit()
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(SearchEntry)) or 0
    engine.dispose()
    return rows


def _check_answers(server: Server) -> None:
    """A fast wrong answer is no figure: every query must find pages."""
    for query in QUERIES:
        answer = httpx.get(f"{server.base_url}/api/content/search", params={"q": query}, timeout=30)
        if answer.status_code != 200 or answer.json()["total"] == 0:
            raise InvalidMeasurement(f"search for {query!r}: {answer.status_code} {answer.text}")
        page = httpx.get(f"{server.base_url}/suche", params={"q": query}, timeout=30)
        if page.status_code != 200 or "<mark>" not in page.text:
            raise InvalidMeasurement(f"search page for {query!r}: {page.status_code}")


def _load(tool: str, server: Server, paths: list[str], duration_s: float) -> LoadResult:
    result = measure_workload(
        tool,
        server.base_url + paths[0],
        get_paths(paths),
        connections=CONNECTIONS,
        duration_s=duration_s,
        workdir=server.workdir,
    )
    result.check(f"GET {paths[0]} …")
    return result


def run() -> list[Figure]:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    pages = int(os.environ.get("KLUG_BENCH_SEARCH_PAGES", "5000"))
    tool = choose_tool()
    page_paths = [f"/suche?q={quote(q)}" for q in QUERIES]
    api_paths = [f"/api/content/search?q={quote(q)}" for q in QUERIES]
    # More distinct queries than a process keeps answers for (256), asked in a cycle:
    # every one is searched afresh – the figure for the long tail of queries.
    subjects = [" ".join(words) for words in Corpus().subjects[:UNCACHED_QUERIES]]
    uncached_paths = [f"/suche?q={quote(q)}" for q in subjects]
    with tempfile.TemporaryDirectory(prefix="klug-bench-search-") as tmp:
        workdir = Path(tmp)
        with scratch_database(workdir, "search") as url:
            migrate.upgrade(url)
            started = time.monotonic()
            rows = fill(url, pages)
            fill_s = time.monotonic() - started
            log(f"search: {pages:,} pages published, {rows:,} index rows in {fill_s:.0f} s")
            with database_server(url, workdir) as server:
                _check_answers(server)
                for warm in (["/healthz"], page_paths, api_paths):
                    _load(tool, server, warm, 1.0)
                healthz = load_path(
                    tool, server, "/healthz", connections=CONNECTIONS, duration_s=duration_s
                )
                search_page = _load(tool, server, page_paths, duration_s)
                search_api = _load(tool, server, api_paths, duration_s)
                uncached = _load(tool, server, uncached_paths, duration_s)
    log(
        f"search: page p95 {search_page.p95_ms:.1f} ms ({search_page.requests_per_s:.0f} req/s), "
        f"API p95 {search_api.p95_ms:.1f} ms ({search_api.requests_per_s:.0f} req/s); "
        f"healthz p95 {healthz.p95_ms:.1f} ms"
    )
    facts = {
        "db": options().db,
        "pages": pages,
        "index_rows": rows,
        "queries": len(QUERIES),
        "connections": CONNECTIONS,
        "fill_s": round(fill_s, 1),
        "baseline_what": "GET /healthz p95, same concurrency",
    }
    log(f"search: uncached page p95 {uncached.p95_ms:.1f} ms ({uncached.requests_per_s:.0f} req/s)")
    return [
        Figure(
            "citizen.search_uncached_p95_ms",
            uncached.p95_ms,
            "ms",
            uncached.requests,
            healthz.p95_ms,
            tool,
            {
                **facts,
                "queries": len(uncached_paths),
                "requests_per_s": round(uncached.requests_per_s, 1),
            },
        ),
        Figure(
            "citizen.search_p95_ms",
            search_page.p95_ms,
            "ms",
            search_page.requests,
            healthz.p95_ms,
            tool,
            {**facts, "requests_per_s": round(search_page.requests_per_s, 1)},
        ),
        Figure(
            "citizen.search_api_p95_ms",
            search_api.p95_ms,
            "ms",
            search_api.requests,
            healthz.p95_ms,
            tool,
            {**facts, "requests_per_s": round(search_api.requests_per_s, 1)},
        ),
    ]
