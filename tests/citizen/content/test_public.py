"""What the public sees: published items only, sanitised Markdown, English with fallback."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.citizen.content.conftest import make_item
from tests.conftest import soup

NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("kind", "base"), [("page", "/seiten"), ("news", "/aktuelles"), ("event", "/veranstaltungen")]
)
def test_drafts_and_future_publications_are_404_for_the_public(
    client: TestClient, kind: str, base: str
) -> None:
    event = {"starts_at": NOW + dt.timedelta(days=3), "place_de": "Rathaus"}
    extra = event if kind == "event" else {}
    make_item(client, kind=kind, slug="entwurf", publish=False, **extra)
    make_item(
        client,
        kind=kind,
        slug="morgen",
        published_at=NOW + dt.timedelta(days=1),
        **extra,
    )
    make_item(client, kind=kind, slug="heute", **extra)
    for slug in ("entwurf", "morgen"):
        for prefix in ("", "/en"):
            assert client.get(f"{prefix}{base}/{slug}").status_code == 404, (prefix, slug)
    assert client.get(f"{base}/heute").status_code == 200
    if kind != "page":
        links = {a["href"] for a in soup(client.get(base)).select("main .record a")}
        assert links == {f"{base}/heute"}


def test_markdown_is_rendered_and_whatever_could_run_is_inert(client: TestClient) -> None:
    body = (
        "# Überschrift\n\nText mit <script>alert('x')</script> und "
        "[Link](javascript:alert(1)) und [gut](https://www.kaiserslautern.de).\n\n"
        '<img src=x onerror="alert(2)">\n\n<a href="javascript:alert(3)">roh</a>\n\n'
        "[daten](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"
    )
    make_item(client, slug="markdown", body_de=body, title_de="Markdown")
    page = soup(client.get("/seiten/markdown"))
    prose = page.find(class_="prose")
    assert prose.find("script") is None
    assert prose.find("img") is None
    assert [a["href"] for a in prose.find_all("a")] == ["https://www.kaiserslautern.de"]
    assert all("rel" in a.attrs for a in prose.find_all("a"))
    assert not any(attr.startswith("on") for tag in prose.find_all(True) for attr in tag.attrs)
    assert "<script>alert('x')</script>" in prose.get_text(), "shown as text, not run"
    assert prose.find("h2").get_text() == "Überschrift", "the page's title is its only h1"
    assert len(page.find_all("h1")) == 1


def test_english_pages_fall_back_to_german_and_say_so(client: TestClient) -> None:
    make_item(client, slug="nur-deutsch", title_de="Hundesteuer", body_de="Zahlen Sie bitte.")
    make_item(
        client,
        slug="beides",
        title_de="Abfall",
        title_en="Waste",
        body_de="Tonne.",
        body_en="Bin.",
        summary_de="Kurz.",
        summary_en="Short.",
    )
    fallback = soup(client.get("/en/seiten/nur-deutsch"))
    assert fallback.html["lang"] == "en"
    heading = fallback.find("h1")
    assert heading.find("span", lang="de").get_text() == "Hundesteuer"
    assert "(only in German)" in heading.get_text()
    assert fallback.find(class_="prose")["lang"] == "de"

    english = soup(client.get("/en/seiten/beides"))
    assert english.find("h1").get_text(strip=True) == "Waste"
    assert "(only in German)" not in english.find("main").get_text()
    assert english.find("main").find(attrs={"lang": "de"}) is None
    assert english.find(class_="prose").get_text(strip=True) == "Bin."

    german = soup(client.get("/seiten/nur-deutsch"))
    assert german.find("h1").find(attrs={"lang": True}) is None
    assert german.find(class_="badge") is None


def test_events_upcoming_by_date_and_past_ones_in_the_archive(client: TestClient) -> None:
    def event(slug: str, days: float, hours: float | None = 2) -> None:
        starts = NOW + dt.timedelta(days=days)
        ends = starts + dt.timedelta(hours=hours) if hours is not None else None
        make_item(
            client, kind="event", slug=slug, title_de=slug, starts_at=starts, ends_at=ends,
            place_de="Fruchthalle",
        )  # fmt: skip

    event("spaeter", 20)
    event("bald", 2)
    event("laeuft-gerade", -0.05, hours=3)
    event("vorbei", -10)
    event("lange-vorbei", -40, hours=None)
    upcoming = soup(client.get("/veranstaltungen"))
    assert [a.get_text() for a in upcoming.select("main .record h2 a")] == [
        "laeuft-gerade",
        "bald",
        "spaeter",
    ]
    times = upcoming.select("main .record time")
    assert all(t["datetime"] for t in times)
    archive = soup(client.get("/veranstaltungen/archiv"))
    assert [a.get_text() for a in archive.select("main .record h2 a")] == [
        "vorbei",
        "lange-vorbei",
    ]
    detail = soup(client.get("/veranstaltungen/bald"))
    facts = detail.find("dl", class_="facts")
    assert facts.find_all("dd")[1].get_text(strip=True) == "Fruchthalle"


def test_an_event_downloads_as_icalendar(client: TestClient) -> None:
    starts = dt.datetime(2031, 5, 1, 16, 0, tzinfo=dt.UTC)
    make_item(
        client,
        kind="event",
        slug="stadtfest",
        title_de="Stadtfest; mit Musik, Essen",
        starts_at=starts,
        place_de="Schillerplatz",
    )
    response = client.get("/veranstaltungen/stadtfest/kalender.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    lines = response.content.decode().split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "DTSTART:20310501T160000Z" in lines
    assert "DTEND:20310501T170000Z" in lines
    assert "SUMMARY:Stadtfest\\; mit Musik\\, Essen" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert client.get("/veranstaltungen/gibt-es-nicht/kalender.ics").status_code == 404


def test_news_are_paged_newest_first(client: TestClient) -> None:
    for n in range(12):
        make_item(
            client,
            kind="news",
            slug=f"meldung-{n}",
            title_de=f"Meldung {n}",
            published_at=NOW - dt.timedelta(days=n + 1),
        )
    first = soup(client.get("/aktuelles"))
    titles = [a.get_text() for a in first.select("main .record h2 a")]
    assert titles == [f"Meldung {n}" for n in range(10)]
    next_link = first.find("nav", class_="pager").find("a", rel="next")
    second = soup(client.get("/aktuelles" + next_link["href"]))
    assert [a.get_text() for a in second.select("main .record h2 a")] == [
        "Meldung 10",
        "Meldung 11",
    ]
    assert soup(client.get("/aktuelles?seite=abc")).select("main .record h2 a")[0].get_text() == (
        "Meldung 0"
    )
    alternate = first.find("link", rel="alternate", type="application/atom+xml")
    assert alternate["href"] == "/aktuelles/feed.atom"
