"""The application forms as pages: accessible markup, server-side checks, drafts."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from klug.citizen.applications.forms import all_forms
from klug.citizen.applications.models import Application
from tests.citizen.applications.conftest import (
    apply,
    bulky_waste,
    error_summary_links,
    parking_permit,
    registration_file,
    special_use,
    submitted_reference,
    today,
)
from tests.conftest import KnownAccount, soup

SLUGS = ["bewohnerparkausweis", "sperrmuellabholung", "sondernutzungserlaubnis"]


def _count(client: TestClient) -> int:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(Application)) or 0


def test_the_service_page_links_to_its_form(client: TestClient) -> None:
    page = soup(client.get("/leistungen/sperrmuellabholung"))
    link = page.find("a", href="/leistungen/sperrmuellabholung/antrag")
    assert link is not None
    assert (
        soup(client.get("/leistungen/personalausweis")).find(
            "a", href="/leistungen/personalausweis/antrag"
        )
        is None
    )
    assert client.get("/leistungen/personalausweis/antrag").status_code == 404


def test_anonymous_visitors_are_asked_to_log_in_first(client: TestClient) -> None:
    page = soup(client.get("/en/leistungen/bewohnerparkausweis/antrag"))
    login = page.find("a", href="/en/konto/anmelden?next=/en/leistungen/bewohnerparkausweis/antrag")
    assert login is not None
    assert page.find("form", attrs={"enctype": "multipart/form-data"}) is None
    assert "Registration number" in page.get_text()
    response = client.post("/leistungen/bewohnerparkausweis/antrag", follow_redirects=False)
    assert response.status_code in (303, 403)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_input_has_a_visible_label_and_described_hints(
    client: TestClient, citizen: KnownAccount, slug: str
) -> None:
    page = soup(client.get(f"/leistungen/{slug}/antrag"))
    form = page.find("form", attrs={"enctype": "multipart/form-data"})
    assert form is not None
    inputs = form.find_all(["input", "select", "textarea"])
    named = [i for i in inputs if i.get("type") not in ("hidden", "submit")]
    assert len(named) >= 7
    for element in named:
        label = page.find("label", attrs={"for": element["id"]})
        assert label is not None and label.get_text(strip=True), element
        for described in (element.get("aria-describedby") or "").split():
            assert page.find(id=described) is not None, (element["id"], described)
    ids = [e["id"] for e in page.find_all(id=True)]
    assert len(ids) == len(set(ids)), "duplicate ids"
    definition = all_forms()[slug]
    for field in definition.fields():
        if field.type in ("address", "point", "consent") or (
            field.type == "choice" and field.widget == "radio"
        ):
            fieldset = page.find(id=field.input_ids()[0]).find_parent("fieldset")
            assert fieldset.find("legend").get_text(strip=True).startswith(field.label.de)
        if field.hint and field.type not in ("address", "point"):
            hinted = page.find(id=field.input_ids()[0])
            if hinted.name == "input" and hinted.get("type") == "radio":
                hinted = hinted.find_parent("fieldset")
            assert f"{field.name}-hint" in hinted.get("aria-describedby", ""), field.name


def test_personal_fields_carry_autocomplete_tokens(
    client: TestClient, citizen: KnownAccount
) -> None:
    page = soup(client.get("/leistungen/bewohnerparkausweis/antrag"))
    tokens = {i["id"]: i.get("autocomplete") for i in page.find_all("input", id=True)}
    assert tokens["given_name"] == "given-name"
    assert tokens["family_name"] == "family-name"
    assert tokens["birth_date"] == "bday"
    assert tokens["residence-postcode"] == "postal-code"
    assert tokens["residence-city"] == "address-level2"


@pytest.mark.parametrize(
    ("slug", "values", "missing"),
    [
        ("bewohnerparkausweis", parking_permit(family_name=""), "family_name"),
        ("sperrmuellabholung", bulky_waste(items=""), "items"),
        ("sondernutzungserlaubnis", special_use(area_m2=""), "area_m2"),
    ],
)
def test_a_missing_required_field_is_named_in_the_error_summary(
    client: TestClient, citizen: KnownAccount, slug: str, values: dict[str, str], missing: str
) -> None:
    files = registration_file() if slug == "bewohnerparkausweis" else None
    response = apply(client, slug, values, files=files)
    assert response.status_code == 400
    links = error_summary_links(response)
    assert list(links) == [missing]
    page = soup(response)
    field = page.find(id=missing)
    assert field["aria-invalid"] == "true"
    assert f"{missing}-error" in field["aria-describedby"]
    assert page.find(id="error-summary")["tabindex"] == "-1"


def test_messages_come_in_the_visitors_language(client: TestClient, citizen: KnownAccount) -> None:
    late = (today() + dt.timedelta(days=3)).isoformat()
    response = apply(
        client,
        "sondernutzungserlaubnis",
        special_use(start_date=late, end_date=late),
        path="/en/leistungen/sondernutzungserlaubnis/antrag",
    )
    assert response.status_code == 400
    assert "Please choose a date on or after" in error_summary_links(response)["start_date"]


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        (bulky_waste(volume_m3="9"), "volume_m3", "3"),
        (bulky_waste(volume_m3="viel"), "volume_m3", ""),
        (bulky_waste(pickup_date="2020-01-01"), "pickup_date", ""),
        (bulky_waste(**{"pickup_address-postcode": "10115"}), "pickup_address-postcode", "67655"),
        (bulky_waste(no_hazardous=""), "no_hazardous", ""),
    ],
)
def test_rules_are_checked_on_the_server(
    client: TestClient, citizen: KnownAccount, values: dict[str, str], field: str, fragment: str
) -> None:
    response = apply(client, "sperrmuellabholung", values)
    assert response.status_code == 400
    links = error_summary_links(response)
    assert field in links
    assert fragment in links[field]


def test_the_end_of_a_period_cannot_come_before_its_start(
    client: TestClient, citizen: KnownAccount
) -> None:
    start = today() + dt.timedelta(days=30)
    values = special_use(
        start_date=start.isoformat(), end_date=(start - dt.timedelta(days=1)).isoformat()
    )
    response = apply(client, "sondernutzungserlaubnis", values)
    assert list(error_summary_links(response)) == ["end_date"]


def test_an_address_or_a_point_is_needed_and_a_point_must_be_in_the_city(
    client: TestClient, citizen: KnownAccount
) -> None:
    neither = special_use(**{"site_point-lat": "", "site_point-lon": ""})
    assert list(error_summary_links(apply(client, "sondernutzungserlaubnis", neither))) == [
        "site_address-street"
    ]
    berlin = special_use(**{"site_point-lat": "52.52", "site_point-lon": "13.40"})
    assert list(error_summary_links(apply(client, "sondernutzungserlaubnis", berlin))) == [
        "site_point-lat"
    ]


def test_conditional_fields_are_checked_only_when_they_apply(
    client: TestClient, citizen: KnownAccount
) -> None:
    page = soup(client.get("/leistungen/bewohnerparkausweis/antrag"))
    note = page.find(id="keeper_name-cond")
    assert note is not None and "Eine andere Person" in note.get_text()
    # Another keeper: their name and confirmation are required.
    response = apply(
        client, "bewohnerparkausweis", parking_permit(keeper="other"), files=registration_file()
    )
    assert list(error_summary_links(response)) == ["keeper_name", "keeper_confirmation"]
    # The applicant is the keeper: whatever was typed into the other fields is dropped.
    response = apply(
        client,
        "bewohnerparkausweis",
        parking_permit(keeper="self", keeper_name="Firma <b>X</b>"),
        files=registration_file(),
    )
    reference = submitted_reference(response)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        case = session.scalar(select(Application).where(Application.reference == reference))
        assert case is not None
        assert "keeper_name" not in case.answers
        assert case.answers["plate"] == "KL-AB 123"


def test_a_draft_is_saved_listed_and_resumed(client: TestClient, citizen: KnownAccount) -> None:
    response = apply(
        client, "sperrmuellabholung", bulky_waste(items="", volume_m3="zwei"), action="save"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/konto/antraege?gespeichert=1"
    listing = soup(client.get("/konto/antraege"))
    link = listing.find("a", href=lambda h: bool(h) and h.startswith("/konto/antraege/entwuerfe/"))
    assert link is not None and "Sperrmüll" in link.get_text()
    resumed = soup(client.get(link["href"]))
    assert resumed.find(id="volume_m3")["value"] == "zwei"
    assert resumed.find(id="placement")["checked"] is not None
    # Submitting the draft with its mistakes keeps it a draft; corrected, it becomes a case.
    again = apply(client, "", bulky_waste(items=""), path=link["href"])
    assert again.status_code == 400
    reference = submitted_reference(apply(client, "", bulky_waste(), path=link["href"]))
    assert reference.startswith(f"KL-{today().year}-")
    assert client.get(link["href"]).status_code == 404
    assert _count(client) == 1


def test_someone_elses_draft_is_not_found(
    client: TestClient, citizen: KnownAccount, make_account: object
) -> None:
    apply(client, "sperrmuellabholung", bulky_waste(), action="save")
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        draft_id = session.scalar(select(Application.id))
    from tests.conftest import log_in

    other = make_account()  # type: ignore[operator]
    client.cookies.clear()
    log_in(client, other)
    assert client.get(f"/konto/antraege/entwuerfe/{draft_id}").status_code == 404
    response = apply(client, "", bulky_waste(), path=f"/konto/antraege/entwuerfe/{draft_id}")
    assert response.status_code == 404


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, citizen: KnownAccount
) -> None:
    response = client.post(
        "/leistungen/sperrmuellabholung/antrag",
        data={**bulky_waste(), "action": "submit"},
        files={"unused": ("a.txt", b"x", "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _count(client) == 0
