"""Download all my data, delete my account: every domain's part, nothing more, and what
the law requires to keep stays kept."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.applications.models import Application
from klug.citizen.reports.models import Report, ReportSupporter
from klug.identity.models import Account
from klug.identity.permissions import Role
from tests.citizen.applications.conftest import (
    apply,
    bulky_waste,
    citizen,  # noqa: F401 (fixture)
    parking_permit,
    registration_file,
    submitted_reference,
)
from tests.citizen.reports.conftest import store_report  # noqa: F401 (fixture)
from tests.conftest import KnownAccount, csrf_token, log_in, soup


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _history(client: TestClient, account: KnownAccount, store: Any) -> dict[str, Any]:
    """A submitted application with a file, a draft, an own report and a "me too"."""
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    assert apply(client, "sperrmuellabholung", bulky_waste(), action="save").status_code == 303
    own = store(account_id=account.id, email="melder@example.org")
    other = store(lat=49.45, lon=7.75)
    with _factory(client)() as session:
        session.add(ReportSupporter(report_id=other, account_id=account.id))
        session.commit()
    return {"reference": reference, "own_report": own, "supported": other}


def _zip_data(answer: Any) -> tuple[dict[str, Any], zipfile.ZipFile]:
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return json.loads(archive.read("daten.json")), archive


def test_download_my_data(
    client: TestClient,
    citizen: KnownAccount,  # noqa: F811
    store_report: Any,  # noqa: F811
    make_account: Callable[..., KnownAccount],
) -> None:
    made = _history(client, citizen, store_report)
    data, archive = _zip_data(client.get("/konto/daten.zip"))
    assert data["konto"]["email"] == citizen.email
    assert "password" not in json.dumps(data["konto"]) and "totp" not in json.dumps(data)
    references = [a["reference"] for a in data["antraege"]]
    assert sorted(references, key=str) == sorted([made["reference"], None], key=str)
    files = [n for n in archive.namelist() if n.startswith("dateien/antraege/")]
    assert len(files) == 1 and files[0].endswith("fahrzeugschein.pdf")
    assert archive.read(files[0]).startswith(b"%PDF-")
    assert [r["id"] for r in data["meldungen"]["reports"]] == [made["own_report"]]
    assert data["meldungen"]["supported_reports"] == [made["supported"]]
    # Someone else's download holds none of it.
    client.cookies.clear()
    log_in(client, make_account(Role.CITIZEN))
    other, _ = _zip_data(client.get("/konto/daten.zip"))
    assert other["antraege"] == [] and other["meldungen"]["reports"] == []
    assert other["meldungen"]["supported_reports"] == []


def _delete(client: TestClient, password: str) -> Any:
    token = csrf_token(client, "/konto/loeschen")
    return client.post("/konto/loeschen", data={"delete_password": password, "csrf_token": token})


def test_delete_my_account(
    client: TestClient,
    citizen: KnownAccount,  # noqa: F811
    store_report: Any,  # noqa: F811
) -> None:
    made = _history(client, citizen, store_report)
    wrong = _delete(client, "not my password")
    assert wrong.status_code == 400
    assert soup(wrong).find(id="delete_password") is not None
    with _factory(client)() as session:
        assert session.get(Account, citizen.id).email == citizen.email  # nothing changed

    done = _delete(client, citizen.password)
    assert done.status_code == 200
    assert soup(done).h1.get_text(strip=True) == "Ihr Konto wurde gelöscht"
    assert client.get("/konto/", follow_redirects=False).status_code == 303  # logged out
    with _factory(client)() as session:
        account = session.get(Account, citizen.id)
        assert account.email != citizen.email and account.email.endswith("@invalid")
        assert account.display_name is None and account.disabled_at is not None
        applications = session.scalars(select(Application)).all()
        # The submitted application is kept (an administrative file), unlinked; the draft went.
        assert [(a.reference, a.account_id) for a in applications] == [(made["reference"], None)]
        report = session.get(Report, made["own_report"])
        assert report.reporter_account_id is None and report.contact_email is None
        assert session.scalars(select(ReportSupporter)).all() == []
    # Nobody logs in with the old credentials any more.
    relogin = client.post(
        "/konto/anmelden",
        data={
            "email": citizen.email,
            "password": citizen.password,
            "csrf_token": csrf_token(client),
        },
        follow_redirects=False,
    )
    assert relogin.status_code != 303


def test_staff_accounts_are_closed_by_administrators(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    caseworker = logged_in(Role.CASEWORKER)
    answer = _delete(client, caseworker.password)
    assert answer.status_code == 400
    with _factory(client)() as session:
        assert session.get(Account, caseworker.id).disabled_at is None
