"""Operators change the energy configuration in the console: a unit through its form, the
goal and emission factors, the whole configuration as YAML. Wrong input is shown next to
its field and stores nothing; every change is audited; only energy operators get in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.core.audit import AuditEvent
from klug.energy.schemas import UBA_EMISSION_FACTORS_G_PER_KWH, EnergyConfig
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token, soup
from tests.energy.conftest import KW, config, put_config, stream
from tests.sensors.conftest import Api

CONSOLE = "/console/energie"


def _form(page: BeautifulSoup, selector: str) -> tuple[str, dict[str, str]]:
    """A form's action and the values a browser would send for it unchanged."""
    form = page.select_one(selector)
    assert isinstance(form, Tag), f"no form {selector}"
    values: dict[str, str] = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "select":
            option = element.find("option", selected=True) or element.find("option")
            values[name] = str(option["value"])
        elif element.name == "textarea":
            values[name] = element.text
        elif element.get("type") in ("radio", "checkbox"):
            if element.has_attr("checked"):
                values[name] = str(element.get("value", "on"))
        else:
            values[name] = str(element.get("value", ""))
    return str(form["action"]), values


def _submit(
    client: TestClient, path: str, changes: dict[str, str], form: str = "#unit-form"
) -> Any:
    """Open the page, change some fields of its form and send it, as a browser would."""
    action, values = _form(soup(client.get(path)), form)
    values.update(changes)
    return client.post(action, data=values, follow_redirects=False)


def _config(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/energy/config")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _audit(client: TestClient, action: str) -> list[AuditEvent]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _field_error(page: BeautifulSoup, field: str) -> str:
    """The error shown for a field: linked from the summary, next to the field, tied to it."""
    summary = page.select_one("#error-summary")
    assert summary is not None and summary["role"] == "alert"
    assert summary.select_one(f'a[href="#{field}"]') is not None, summary
    element = page.find(id=field)
    assert isinstance(element, Tag), field
    assert element.get("aria-invalid") == "true"
    assert f"{field}-error" in str(element.get("aria-describedby", "")).split()
    message = page.find(id=f"{field}-error")
    assert message is not None
    return " ".join(message.get_text().split())


@pytest.fixture
def configured(
    client: TestClient, meters: dict[str, int], operator: KnownAccount
) -> dict[str, int]:
    assert put_config(client, config(meters)).status_code == 200
    return meters


# --- one unit ---------------------------------------------------------------------


def test_operator_changes_a_units_peak_power(
    client: TestClient, configured: dict[str, int], operator: KnownAccount
) -> None:
    console = soup(client.get(CONSOLE))
    edit = console.select_one(f'a[href="{CONSOLE}/einheiten/pv-sued"]')
    assert edit is not None
    assert "Solarpark Süd" in edit.select_one(".visually-hidden").get_text()
    before = _config(client)

    response = _submit(client, f"{CONSOLE}/einheiten/pv-sued", {"peak_power_kw": "2500,5"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{CONSOLE}?ok=unit_saved"
    after = _config(client)
    unit = next(u for u in after["units"] if u["key"] == "pv-sued")
    assert unit["peak_power_kw"] == 2500.5
    # Everything else stayed: the form carried the unit's values.
    before_unit = next(u for u in before["units"] if u["key"] == "pv-sued")
    assert {**before_unit, "peak_power_kw": 2500.5} == unit
    assert after["demand"] == before["demand"]
    assert [u for u in after["units"] if u["key"] != "pv-sued"] == [
        u for u in before["units"] if u["key"] != "pv-sued"
    ]
    (event,) = _audit(client, "energy.config.unit_saved")
    assert event.detail == {"unit": "pv-sued"}
    assert event.actor_id == operator.id
    confirmation = soup(client.get(response.headers["location"])).select_one("[role=status]")
    assert confirmation is not None and "gespeichert" in confirmation.get_text()


def test_the_form_shows_the_unit_with_a_label_for_every_field(
    client: TestClient, configured: dict[str, int]
) -> None:
    page = soup(client.get(f"{CONSOLE}/einheiten/pv-sued"))
    form = page.select_one("#unit-form")
    assert form is not None
    for control in form.select("input:not([type=hidden]), select"):
        assert page.select_one(f'label[for="{control["id"]}"]') is not None, control
    assert form.select_one("#peak_power_kw")["value"] == "2000"
    assert form.select_one("#power_datastream")["value"] == str(configured["pv"])
    assert form.select_one("#commissioned_on")["value"] == "2025-03-29"
    assert form.select_one("#alert_threshold_pct")["value"] == "80"
    hint = page.find(id="azimuth_deg-hint")
    assert hint is not None and "180 = Süden" in hint.get_text()
    assert client.get(f"{CONSOLE}/einheiten/gibt-es-nicht").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"peak_power_kw": "-5"}, "peak_power_kw", "über 0 kWp"),
        ({"tilt_deg": "steil"}, "tilt_deg", "0 bis 90"),
        ({"energy_datastream": "{biomass}"}, "power_datastream", "Leistungs- oder"),
        ({"power_datastream": "99999"}, "power_datastream", "99999 gibt es nicht"),
        ({"power_datastream": "{biomass}"}, "power_datastream", "Energie"),
        ({"name": ""}, "name", "füllen Sie dieses Feld"),
    ],
)
def test_wrong_input_is_shown_at_its_field_and_nothing_is_stored(
    client: TestClient,
    configured: dict[str, int],
    changes: dict[str, str],
    field: str,
    says: str,
) -> None:
    before = _config(client)
    sent = {k: v.format(**configured) for k, v in changes.items()}
    response = _submit(client, f"{CONSOLE}/einheiten/pv-sued", sent)
    assert response.status_code == 400
    page = soup(response)
    assert says in _field_error(page, field)
    # What was typed is shown again, to be corrected.
    for name, value in sent.items():
        if value:
            assert page.find(id=name)["value"] == value
    assert _config(client) == before
    assert _audit(client, "energy.config.unit_saved") == []


def test_every_mistake_is_shown_at_once(client: TestClient, configured: dict[str, int]) -> None:
    both = {"peak_power_kw": "-5", "energy_datastream": str(configured["biomass"])}
    page = soup(_submit(client, f"{CONSOLE}/einheiten/pv-sued", both))
    links = [a["href"] for a in page.select("#error-summary a")]
    assert links == ["#power_datastream", "#peak_power_kw"]  # in the order of the form


def test_operator_adds_a_generation_unit(
    client: TestClient, api: Api, configured: dict[str, int]
) -> None:
    wind = stream(api, "Windpark Nord", KW, "PT15M")
    page = soup(client.get(f"{CONSOLE}/einheiten/neu"))
    generation = page.find(id="role-generation")
    assert generation is not None and generation.has_attr("checked")
    response = _submit(
        client,
        f"{CONSOLE}/einheiten/neu",
        {
            "key": "wind-nord",
            "name": "Windpark Nord",
            "source": "wind",
            "power_datastream": str(wind),
            "peak_power_kw": "4200",
        },
    )
    assert response.status_code == 303, soup(response).select_one("#error-summary")
    assert response.headers["location"] == f"{CONSOLE}?ok=unit_added"
    units = {u["key"]: u for u in _config(client)["units"]}
    assert set(units) == {"pv-sued", "bio", "wind-nord"}
    assert units["wind-nord"]["source"] == "wind"
    assert units["wind-nord"]["power_datastream"] == wind
    assert units["wind-nord"]["renewable"] is True
    assert [e.detail for e in _audit(client, "energy.config.unit_saved")] == [{"unit": "wind-nord"}]
    console = soup(client.get(CONSOLE))
    assert console.select_one(f'a[href="{CONSOLE}/einheiten/wind-nord"]') is not None
    again = _submit(
        client,
        f"{CONSOLE}/einheiten/neu",
        {"key": "wind-nord", "name": "Doppelt", "source": "wind", "status": "planned"},
    )
    assert again.status_code == 400
    assert "Schlüssel" in _field_error(soup(again), "key")


def test_operator_removes_a_unit_but_not_the_only_demand_meter(
    client: TestClient, configured: dict[str, int]
) -> None:
    token = csrf_token(client, f"{CONSOLE}/einheiten/bio")
    removed = client.post(
        f"{CONSOLE}/einheiten/bio/entfernen", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert [u["key"] for u in _config(client)["units"]] == ["pv-sued"]
    assert [e.detail for e in _audit(client, "energy.config.unit_removed")] == [{"unit": "bio"}]

    before = _config(client)
    refused = client.post(f"{CONSOLE}/einheiten/city/entfernen", data={"csrf_token": token})
    assert refused.status_code == 400
    summary = soup(refused).select_one("#error-summary")
    assert summary is not None and "einzige Verbrauchszähler" in summary.get_text()
    assert _config(client) == before
    assert len(_audit(client, "energy.config.unit_removed")) == 1
    gone = client.post(f"{CONSOLE}/einheiten/bio/entfernen", data={"csrf_token": token})
    assert gone.status_code == 404


def test_the_first_unit_creates_the_configuration(
    client: TestClient, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert client.get("/api/energy/config").status_code == 404
    console = soup(client.get(CONSOLE))
    assert console.select_one(f'.empty-state a[href="{CONSOLE}/einheiten/neu"]') is not None
    form = soup(client.get(f"{CONSOLE}/einheiten/neu"))
    demand = form.find(id="role")
    assert demand is not None and demand["value"] == "demand" and demand.has_attr("checked")

    generation_first = _submit(
        client,
        f"{CONSOLE}/einheiten/neu",
        {
            "role": "generation",
            "key": "pv",
            "name": "PV",
            "source": "pv",
            "status": "planned",
            "peak_power_kw": "100",
        },
    )
    assert generation_first.status_code == 400
    assert "Verbrauchszähler" in _field_error_summary(soup(generation_first), "role")
    assert client.get("/api/energy/config").status_code == 404

    created = _submit(
        client,
        f"{CONSOLE}/einheiten/neu",
        {"key": "stadt", "name": "Stadtgebiet", "power_datastream": str(meters["demand"])},
    )
    assert created.status_code == 303, soup(created).select_one("#error-summary")
    body = _config(client)
    assert [(u["key"], u["source"]) for u in body["demand"]] == [("stadt", "load")]
    assert body["units"] == []
    assert body["target"]["share"] == 0.5
    assert EnergyConfig.model_validate(body).emission_factors_g_per_kwh == (
        UBA_EMISSION_FACTORS_G_PER_KWH
    )


def _field_error_summary(page: BeautifulSoup, field: str) -> str:
    link = page.select_one(f'#error-summary a[href="#{field}"]')
    assert link is not None, page.select_one("#error-summary")
    return link.get_text()


# --- goal, emission factors, weather ----------------------------------------------------


def test_goal_form_saves_target_factors_and_weather(
    client: TestClient, configured: dict[str, int]
) -> None:
    path = f"{CONSOLE}/ziel"
    _action, values = _form(soup(client.get(path)), "#goal-form")
    assert values["share_pct"] == "50"
    assert values["next_share_pct"] == "65"
    assert [values[f"factor_year_{i}"] for i in range(3)] == ["2022", "2023", "2024"]
    assert values["factor_year_3"] == ""  # rows to add more

    response = _submit(
        client,
        path,
        {
            "share_pct": "60",
            "year": "2030",
            "next_share_pct": "",
            "next_year": "",
            "factor_year_0": "",  # the row of 2022 emptied: removed
            "factor_value_0": "",
            "factor_value_2": "350,5",
            "factor_year_3": "2025",
            "factor_value_3": "340",
            "temperature_datastream": str(configured["thermometer"]),
        },
        form="#goal-form",
    )
    assert response.status_code == 303, soup(response).select_one("#error-summary")
    assert response.headers["location"] == f"{CONSOLE}?ok=goal_saved"
    body = _config(client)
    assert body["target"] == {"share": 0.6, "year": 2030, "next_share": None, "next_year": None}
    assert body["emission_factors_g_per_kwh"] == {"2023": 380.0, "2024": 350.5, "2025": 340.0}
    assert body["weather"]["temperature_datastream"] == configured["thermometer"]
    assert [u["key"] for u in body["units"]] == ["pv-sued", "bio"]  # units untouched
    (event,) = _audit(client, "energy.config.goal_saved")
    assert event.detail == {"share": 0.6, "year": 2030}


def test_goal_form_refuses_wrong_values(client: TestClient, configured: dict[str, int]) -> None:
    path = f"{CONSOLE}/ziel"
    before = _config(client)
    cases = [
        ({"share_pct": "150"}, "share_pct", "100"),
        ({"factor_year_1": "2022"}, "factor_year_1", "zweimal"),
        ({"factor_value_0": "-3"}, "factor_value_0", "0 g/kWh"),
        ({"factor_year_3": "2025"}, "factor_value_3", "füllen Sie dieses Feld"),
        ({"ghi_datastream": "99999"}, "ghi_datastream", "99999 gibt es nicht"),
    ]
    for changes, field, says in cases:
        response = _submit(client, path, changes, form="#goal-form")
        assert response.status_code == 400, changes
        assert says in _field_error(soup(response), field), changes
    emptied = {f"factor_{part}_{i}": "" for part in ("year", "value") for i in range(3)}
    none_left = _submit(client, path, emptied, form="#goal-form")
    assert none_left.status_code == 400
    assert "mindestens einen" in _field_error_summary(soup(none_left), "factor_year_0")
    assert _config(client) == before


# --- the whole configuration as YAML ----------------------------------------------------


def test_yaml_download_round_trips(client: TestClient, configured: dict[str, int]) -> None:
    before = _config(client)
    download = client.get(f"{CONSOLE}/konfiguration.yaml")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/yaml")
    assert "attachment" in download.headers["content-disposition"]
    assert EnergyConfig.model_validate(yaml.safe_load(download.text)) == (
        EnergyConfig.model_validate(before)
    )
    token = csrf_token(client, f"{CONSOLE}/konfiguration")
    upload = client.post(
        f"{CONSOLE}/konfiguration",
        data={"csrf_token": token},
        files={"file": ("energie.yaml", download.content, "application/yaml")},
        follow_redirects=False,
    )
    assert upload.status_code == 303
    assert _config(client) == before
    assert len(_audit(client, "energy.config.replace")) == 2  # the fixture's PUT and this


def test_yaml_text_replaces_the_configuration(
    client: TestClient, configured: dict[str, int]
) -> None:
    changed = config(configured)
    changed["units"] = changed["units"][:1]
    changed["units"][0]["name"] = "Solarpark Süd (erweitert)"
    response = _submit(
        client,
        f"{CONSOLE}/konfiguration",
        {"yaml": yaml.safe_dump(changed, allow_unicode=True)},
        form="form[enctype]",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{CONSOLE}?ok=config_replaced"
    body = _config(client)
    assert [(u["key"], u["name"]) for u in body["units"]] == [
        ("pv-sued", "Solarpark Süd (erweitert)")
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("demand: [unclosed", "kein gültiges YAML"),
        ("demand: []\n", "Schema"),
        ("", "Datei"),
    ],
)
def test_a_broken_yaml_upload_says_why_and_changes_nothing(
    client: TestClient, configured: dict[str, int], text: str, says: str
) -> None:
    before = _config(client)
    response = _submit(client, f"{CONSOLE}/konfiguration", {"yaml": text}, form="form[enctype]")
    assert response.status_code == 400
    page = soup(response)
    summary = page.select_one("#error-summary")
    assert summary is not None and summary["role"] == "alert"
    assert says in summary.get_text()
    textarea = page.find("textarea", id="yaml")
    assert textarea is not None and textarea.get("aria-invalid") == "true"
    assert textarea.text.strip() == text.strip()  # kept, to be corrected
    assert _config(client) == before


def test_a_yaml_upload_is_checked_against_the_meters(
    client: TestClient, configured: dict[str, int]
) -> None:
    before = _config(client)
    wrong = config(configured)
    wrong["units"][0]["power_datastream"] = 99999
    token = csrf_token(client, f"{CONSOLE}/konfiguration")
    response = client.post(
        f"{CONSOLE}/konfiguration",
        data={"csrf_token": token},
        files={"file": ("energie.yaml", yaml.safe_dump(wrong).encode(), "application/yaml")},
    )
    assert response.status_code == 400
    summary = soup(response).select_one("#error-summary")
    assert summary is not None
    assert "pv-sued" in summary.get_text() and "99999 gibt es nicht" in summary.get_text()
    assert _config(client) == before


# --- alerts stay with their unit ---------------------------------------------------------


def test_a_unit_keeps_its_alerts_through_every_change(
    client: TestClient, api: Api, operator: KnownAccount
) -> None:
    from tests.energy.test_monitoring import _raise, _setup

    _setup(api, client, sky=1.0, fault=True)
    assert any(kind == "underperformance" for kind, *_ in _raise(client))
    # A YAML upload that puts a planned park before it, then a new name through its form.
    body = yaml.safe_load(client.get(f"{CONSOLE}/konfiguration.yaml").text)
    planned = {"key": "nord", "name": "Solarpark Nord", "source": "pv", "status": "planned"}
    body["units"].insert(0, {**planned, "peak_power_kw": 500.0})
    uploaded = _submit(
        client, f"{CONSOLE}/konfiguration", {"yaml": yaml.safe_dump(body)}, form="form[enctype]"
    )
    assert uploaded.status_code == 303
    renamed = _submit(client, f"{CONSOLE}/einheiten/sued", {"name": "Solarpark Süd-West"})
    assert renamed.status_code == 303
    assert _raise(client) == []  # the same findings, not raised again for a "new" unit
    alerts = soup(client.get(CONSOLE)).select_one("table")
    assert alerts is not None
    assert {th.get_text() for th in alerts.select("tbody th")} == {"Solarpark Süd-West"}


# --- who may ---------------------------------------------------------------------------

ROUTES = [
    ("GET", f"{CONSOLE}/einheiten/neu"),
    ("POST", f"{CONSOLE}/einheiten/neu"),
    ("GET", f"{CONSOLE}/einheiten/city"),
    ("POST", f"{CONSOLE}/einheiten/city"),
    ("POST", f"{CONSOLE}/einheiten/bio/entfernen"),
    ("GET", f"{CONSOLE}/ziel"),
    ("POST", f"{CONSOLE}/ziel"),
    ("GET", f"{CONSOLE}/konfiguration"),
    ("POST", f"{CONSOLE}/konfiguration"),
    ("GET", f"{CONSOLE}/konfiguration.yaml"),
]


def test_only_energy_operators_reach_the_configuration(
    client: TestClient,
    meters: dict[str, int],
    make_account: Callable[..., KnownAccount],
    logged_in: Callable[..., KnownAccount],
) -> None:
    token = csrf_token(client)
    for method, path in ROUTES:
        data = {"csrf_token": token} if method == "POST" else None
        response = client.request(method, path, data=data, follow_redirects=False)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/konto/anmelden?next=")
    for role in (Role.CITIZEN, Role.EDITOR):
        logged_in(role)
        token = csrf_token(client, "/konto/")
        for method, path in ROUTES:
            data = {"csrf_token": token, "name": "x"} if method == "POST" else None
            response = client.request(method, path, data=data, follow_redirects=False)
            assert response.status_code == 403, (role, method, path)
        client.post("/konto/abmelden", data={"csrf_token": token})
    logged_in(Role.OPERATOR_ENERGY)
    assert put_config(client, config(meters)).status_code == 200
    for method, path in ROUTES:
        if method == "GET":
            assert client.get(path).status_code == 200, path
