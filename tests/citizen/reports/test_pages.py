"""The Mängelmelder in the browser without JavaScript: report, duplicates, "me too",
the public page, statistics – and what must never show there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.reports import service as report_service
from klug.citizen.reports.models import Report, ReportSupporter
from klug.citizen.reports.schemas import StatusChange
from klug.core.audit import SYSTEM
from klug.identity.permissions import Role
from tests.citizen.reports.conftest import CENTRE, offset_north
from tests.conftest import KnownAccount, csrf_token, post_form, soup

FORM = "/maengelmelder/melden"
POTHOLE_FORM = FORM + "?kategorie=pothole"


def pothole_form(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kategorie": "pothole",
        "attribute[size]": "medium",
        "description": "Großes Loch in der Fahrbahn",
        "lat": f"{CENTRE[0]:.6f}",
        "long": f"{CENTRE[1]:.6f}",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def send(client: TestClient, data: dict[str, Any], **kwargs: Any) -> Any:
    return post_form(client, FORM, data, token_from=POTHOLE_FORM, follow_redirects=False, **kwargs)


def stored(client: TestClient) -> list[Report]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(Report).order_by(Report.id)))


def test_reporting_a_problem_step_by_step(client: TestClient) -> None:
    choose = soup(client.get(FORM))
    options = [
        i["value"] for i in choose.find("main").find_all("input", attrs={"name": "kategorie"})
    ]
    assert options[:2] == ["pothole", "street_light"] and "other" in options

    form = soup(client.get("/en" + POTHOLE_FORM)).find("main").find("form", method="post")
    legends = [legend.get_text(" ", strip=True) for legend in form.find_all("legend")]
    assert any(text.startswith("How large is the pothole?") for text in legends)
    assert {i["value"] for i in form.find_all("input", attrs={"name": "attribute[size]"})} == {
        "small",
        "medium",
        "large",
    }
    for name in ("lat", "long", "address_string", "email"):
        field = form.find("input", attrs={"name": name})
        assert field is not None and form.find("label", attrs={"for": field["id"]}) is not None
    assert form.find("textarea", attrs={"name": "location_text"}) is not None

    response = send(client, pothole_form(email="nachbarin@example.org"))
    assert response.status_code == 303, response.text
    (report,) = stored(client)
    assert response.headers["location"] == f"/maengelmelder/{report.id}/danke"
    assert report.answers == {"size": "medium"} and report.contact_email == "nachbarin@example.org"
    assert report.status == "received" and report.reporter_account_id is None

    thanks = soup(client.get(response.headers["location"])).find("main")
    assert str(report.id) in thanks.find(role="status").get_text()
    assert thanks.find("a", href=f"/maengelmelder/{report.id}") is not None
    assert "nachbarin" not in str(thanks)

    page = soup(client.get(f"/en/maengelmelder/{report.id}")).find("main")
    assert page.find("h1").get_text(strip=True) == f"Pothole: report no. {report.id}"
    assert page.find("a", href=lambda h: bool(h) and "openstreetmap.org" in h) is not None
    steps = page.find("h2", string="What has happened so far").find_next("ol").find_all("li")
    assert len(steps) == 1 and "Received" in steps[0].get_text()


def test_a_place_in_words_is_enough(client: TestClient) -> None:
    response = send(
        client, pothole_form(lat=None, long=None, location_text="Am Fußweg hinter dem Waschmühlbad")
    )
    assert response.status_code == 303, response.text
    (report,) = stored(client)
    assert report.lat is None and report.location_text == "Am Fußweg hinter dem Waschmühlbad"


def test_form_errors_are_explained_and_linked(client: TestClient) -> None:
    response = send(
        client,
        pothole_form(**{"attribute[size]": None}, description=None, lat=None, long=None),
    )
    assert response.status_code == 400
    page = soup(response)
    summary = page.find(class_="error-summary")
    targets = [a["href"] for a in summary.find_all("a")]
    assert targets == ["#q-size", "#description", "#location"]
    for target in targets:
        assert page.find(id=target[1:]) is not None
    assert page.find(id="q-size")["aria-invalid"] == "true"
    assert page.find("textarea", id="description")["aria-invalid"] == "true"
    assert stored(client) == []

    response = send(client, pothole_form(lat="49,44", long=""))
    assert response.status_code == 400
    assert [a["href"] for a in soup(response).find(class_="error-summary").find_all("a")] == [
        "#long"
    ]


def test_an_unknown_category_goes_back_to_the_choice(client: TestClient) -> None:
    assert client.get(FORM + "?kategorie=moon").status_code == 400
    response = send(client, pothole_form(kategorie="moon"))
    assert response.status_code == 400 and stored(client) == []


def test_duplicates_are_offered_before_a_new_report(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    existing = store_report("pothole")
    closed = store_report("pothole", lat=offset_north(CENTRE[0], 10))
    far = store_report("pothole", lat=offset_north(CENTRE[0], 80))
    graffiti = store_report("graffiti", lat=offset_north(CENTRE[0], 5), answers={"offensive": "no"})
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=closed)
        assert report is not None
        report_service.change_status(
            session=session, report=report, change=StatusChange(status="closed"), actor=SYSTEM
        )
        session.commit()

    near = f"{offset_north(CENTRE[0], 20):.6f}"
    response = send(client, pothole_form(lat=near, email="zweite@example.org"))
    assert response.status_code == 200
    page = soup(response).find("main")
    offered = [
        form["action"]
        for form in page.find_all("form", action=lambda a: bool(a) and a.endswith("/unterstuetzen"))
    ]
    assert offered == [f"/maengelmelder/{existing}/unterstuetzen"]  # not closed, far or graffiti
    assert all(f"/maengelmelder/{i}" not in str(page) for i in (closed, far, graffiti))
    assert len(stored(client)) == 4  # nothing stored yet

    # "No, send my report": everything entered comes back, and it is stored.
    again = page.find("form", action=FORM)
    carried = {i["name"]: i["value"] for i in again.find_all("input", type="hidden")}
    assert (
        carried["lat"] == near and carried["neu"] == "1" and carried["attribute[size]"] == "medium"
    )
    response = client.post(FORM, data=carried, follow_redirects=False)
    assert response.status_code == 303
    assert len(stored(client)) == 5

    # Another category at the same place is no duplicate.
    response = send(
        client,
        {
            "kategorie": "graffiti",
            "attribute[offensive]": "yes",
            "description": "Hakenkreuz",
            "lat": near,
            "long": f"{CENTRE[1]:.6f}",
        },
    )
    assert response.status_code == 200  # the graffiti 5 m away is offered …
    assert f"/maengelmelder/{graffiti}/unterstuetzen" in response.text
    response = send(
        client,
        {
            "kategorie": "street_light",
            "attribute[fault]": "off",
            "description": "Dunkel",
            "lat": near,
            "long": f"{CENTRE[1]:.6f}",
        },
    )
    assert response.status_code == 303  # … but nothing for a street light


def test_me_too_counts_once_per_person(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    from tests.conftest import log_in

    anonymous = client_factory()
    report_id = store_report()
    page = f"/maengelmelder/{report_id}"
    support = f"{page}/unterstuetzen"
    response = post_form(
        anonymous, support, {"email": "Auch@Example.org"}, token_from=page, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?unterstuetzt=ja#unterstuetzen"
    response = post_form(
        anonymous, support, {"email": "auch@example.org"}, token_from=page, follow_redirects=False
    )
    assert response.headers["location"] == f"{page}?unterstuetzt=schon#unterstuetzen"

    citizen = client_factory()
    account = make_account(Role.CITIZEN)
    log_in(citizen, account)
    for _ in range(2):
        post_form(citizen, support, {"email": "ignored@example.org"}, token_from=page)
    with anonymous.app.state.session_factory() as session:  # type: ignore[attr-defined]
        supporters = session.execute(
            select(ReportSupporter.account_id, ReportSupporter.email).where(
                ReportSupporter.report_id == report_id
            )
        ).all()
        report = session.get(Report, report_id)
        assert report is not None and report.supporters == 2
    assert sorted(supporters, key=str) == sorted(
        [(None, "auch@example.org"), (account.id, None)], key=str
    )
    shown = soup(anonymous.get("/en" + page)).find("dt", string="Supporters").find_next("dd")
    assert shown.get_text(strip=True) == "2"

    response = post_form(anonymous, support, {"email": "kaputt"}, token_from=page)
    assert response.status_code == 400


def test_a_closed_report_takes_no_me_too(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    report_id = store_report()
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=report_id)
        assert report is not None
        report_service.change_status(
            session=session, report=report, change=StatusChange(status="closed"), actor=SYSTEM
        )
        session.commit()
    page = f"/maengelmelder/{report_id}"
    assert soup(client.get(page)).find("form", action=f"{page}/unterstuetzen") is None
    response = client.post(
        f"{page}/unterstuetzen", data={"csrf_token": csrf_token(client, POTHOLE_FORM)}
    )
    assert response.status_code == 400


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_stored_html_in_every_free_text_is_inert(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    response = send(
        client,
        {
            "kategorie": "damaged_sign",
            "attribute[damage]": "bent",
            "attribute[sign_kind]": XSS,
            "attribute[position]": XSS,
            "description": XSS,
            "address_string": XSS,
            "location_text": XSS,
            "email": "x@example.org",
        },
    )
    assert response.status_code == 303, response.text
    (report,) = stored(client)
    pages = [f"/maengelmelder/{report.id}", f"/maengelmelder/{report.id}/danke", "/maengelmelder"]
    logged_in(Role.CASEWORKER)
    pages += [f"/console/meldungen/{report.id}", "/console/meldungen"]
    for path in pages:
        main = soup(client.get(path)).find("main")
        assert main.find("script") is None and main.find("img") is None, path
        assert main.find(attrs={"onerror": True}) is None, path
    detail = soup(client.get(f"/maengelmelder/{report.id}")).find("main")
    assert XSS in detail.get_text()  # shown as text


def test_nobody_sees_the_reporter_s_contact_data(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    from tests.conftest import log_in

    reporter = make_account(Role.CITIZEN, email="reporterin@example.org")
    own = store_report(account_id=reporter.id)
    anonymous_report = store_report(email="geheim@example.org", lat=offset_north(CENTRE[0], 500))
    other = client_factory()
    log_in(other, make_account(Role.CITIZEN))
    for report_id in (own, anonymous_report):
        for path in (
            f"/maengelmelder/{report_id}",
            f"/maengelmelder/{report_id}/danke",
            "/maengelmelder",
        ):
            body = other.get(path).text
            assert "reporterin@" not in body and "geheim@" not in body, path
        assert other.get(f"/console/meldungen/{report_id}").status_code == 403


def test_submissions_are_rate_limited(client: TestClient) -> None:
    token = csrf_token(client, POTHOLE_FORM)
    for i in range(10):
        data = pothole_form(lat=f"{offset_north(CENTRE[0], 200 * i):.6f}", csrf_token=token)
        assert client.post(FORM, data=data, follow_redirects=False).status_code == 303
    response = client.post(FORM, data=pothole_form(lat="49.40", csrf_token=token))
    assert response.status_code == 429
    assert len(stored(client)) == 10


def test_forms_need_the_csrf_token(client: TestClient, store_report: Callable[..., int]) -> None:
    report_id = store_report()
    client.get(POTHOLE_FORM)
    assert client.post(FORM, data=pothole_form()).status_code == 403
    assert client.post(f"/maengelmelder/{report_id}/unterstuetzen", data={}).status_code == 403
    assert stored(client)[0].supporters == 0


def test_list_filters_and_statistics(client: TestClient, store_report: Callable[..., int]) -> None:
    now = dt.datetime.now(dt.UTC)
    fixed_days = [2, 4, 9]
    for days in fixed_days:
        report_id = store_report(created_at=now - dt.timedelta(days=days, hours=1))
        with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
            report = report_service.get(session=session, report_id=report_id)
            assert report is not None
            report_service.change_status(
                session=session,
                report=report,
                change=StatusChange(status="closed"),
                actor=SYSTEM,
                now=report.created_at + dt.timedelta(days=days),
            )
            session.commit()
    open_id = store_report("graffiti", answers={"offensive": "no"})

    listed = soup(client.get("/en/maengelmelder?status=offen")).find("main").find("tbody")
    assert [a.get_text(" ", strip=True).split()[0] for a in listed.select("th a")] == [str(open_id)]
    listed = soup(client.get("/en/maengelmelder?kategorie=pothole")).find("main").find("tbody")
    assert len(listed.find_all("tr")) == 3

    table = soup(client.get("/en/maengelmelder/statistik")).find("main").find("table")
    rows = {
        tr.find("th").get_text(strip=True): [
            td.get_text(" ", strip=True) for td in tr.find_all("td")
        ]
        for tr in table.find("tbody").find_all("tr")
    }
    assert rows["Pothole"][:2] == ["0", "3"]
    assert rows["Pothole"][2].startswith("4.0 days")  # the median of 2, 4 and 9 days
    assert rows["Graffiti"][:3] == ["1", "0", "–"]
