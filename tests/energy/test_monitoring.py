"""Solar plant monitoring on real meters: a shading/inverter fault is raised as an alert
once, a cloudy day is not; the plant page shows performance ratios; operators acknowledge
alerts (audited), others cannot."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.core.audit import AuditEvent
from klug.energy import monitoring
from klug.energy.calc import pv
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token, log_in, post_form, soup
from tests.energy.conftest import KW, post_values, put_config, stream
from tests.sensors.conftest import Api

DAY = dt.date(2025, 6, 20)
NOW = dt.datetime(2025, 6, 21, 12, tzinfo=dt.UTC)
WM2 = {"name": "Watt pro Quadratmeter", "symbol": "W/m2", "definition": "-"}
CELSIUS = {"name": "Grad Celsius", "symbol": "°C", "definition": "-"}
PLANT = pv.Plant("sued", 100.0, tilt_deg=30.0, azimuth_deg=180.0)


def _quarters() -> pd.DatetimeIndex:
    start = pd.Timestamp(DAY, tz="Europe/Berlin").tz_convert("UTC")
    return pd.date_range(start, periods=96, freq="15min")


def _setup(api: Api, client: TestClient, *, sky: float, fault: bool) -> dict[str, int]:
    """A 100 kWp plant on 20 June 2025 under a sky of ``sky`` × clear sky (measured), with
    or without a fault that halves its output from 11:00 to 14:00 local time."""
    ids = {
        "demand": stream(api, "Last", KW, "PT15M"),
        "pv": stream(api, "Solarpark Süd", KW, "PT15M"),
        "ghi": stream(api, "Globalstrahlung", WM2, "PT15M"),
        "temp": stream(api, "Lufttemperatur", CELSIUS, "PT15M"),
    }
    times = _quarters()
    middle = times + pd.Timedelta(minutes=7, seconds=30)
    site = pv.location(*pv.KAISERSLAUTERN)
    ghi = site.get_clearsky(middle.tz_convert("Europe/Berlin"))["ghi"].to_numpy() * sky
    power = pv.expected_power([PLANT], middle, ghi_w_m2=ghi, temp_air_c=np.full(96, 20.0))
    actual = power.ac_kw["sued"].to_numpy() * 0.97
    if fault:
        local_hour = times.tz_convert("Europe/Berlin").hour
        actual = np.where((local_hour >= 11) & (local_hour < 14), actual * 0.5, actual)
    instants = [t.to_pydatetime() for t in times]
    post_values(api, ids["demand"], [(t, 500.0) for t in instants])
    post_values(api, ids["pv"], list(zip(instants, actual.round(3).tolist(), strict=True)))
    post_values(api, ids["ghi"], list(zip(instants, ghi.round(2).tolist(), strict=True)))
    post_values(api, ids["temp"], [(t, 20.0) for t in instants])
    config: dict[str, Any] = {
        "weather": {"ghi_datastream": ids["ghi"], "temperature_datastream": ids["temp"]},
        "demand": [
            {"key": "city", "name": "Stadt", "source": "load", "power_datastream": ids["demand"]}
        ],
        "units": [
            {
                "key": "sued",
                "name": "Solarpark Süd",
                "source": "pv",
                "peak_power_kw": 100,
                "tilt_deg": 30,
                "azimuth_deg": 180,
                "power_datastream": ids["pv"],
            }
        ],
    }
    assert put_config(client, config).status_code == 200
    return ids


@pytest.fixture
def operator(client: TestClient, make_account: Any) -> KnownAccount:
    account: KnownAccount = make_account(role=Role.OPERATOR_ENERGY)
    log_in(client, account)
    return account


def _raise(client: TestClient) -> list[Any]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        created = monitoring.raise_alerts(session, NOW)
        session.commit()
        return [(a.kind, a.ratio, a.started_at) for a in created]


def test_a_fault_at_noon_raises_one_alert_and_operators_acknowledge_it(
    client: TestClient, api: Api, operator: KnownAccount
) -> None:
    _setup(api, client, sky=1.0, fault=True)
    alerts = _raise(client)
    kinds = [a[0] for a in alerts]
    assert kinds.count("underperformance") == 1, alerts
    _, ratio, started = next(a for a in alerts if a[0] == "underperformance")
    assert ratio < 0.8
    local_start = started.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert 10 <= local_start.hour <= 13  # within the faulty hours (window of 2 h)
    assert _raise(client) == []  # the same finding is not raised twice

    page = client.get("/console/energie")
    assert page.status_code == 200
    assert "Minderleistung" in soup(page).get_text()
    form = soup(page).select_one("form[action*='quittieren']")
    assert form is not None
    response = post_form(
        client, form["action"], {"csrf_token": csrf_token(client, "/console/energie")}
    )
    assert response.status_code in (200, 303)
    after = soup(client.get("/console/energie"))
    assert after.select_one("form[action*='quittieren']") is None
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "energy.alert.acknowledge" in actions


def test_a_cloudy_day_is_not_a_fault(client: TestClient, api: Api, operator: KnownAccount) -> None:
    _setup(api, client, sky=0.35, fault=False)
    assert [a for a in _raise(client) if a[0] == "underperformance"] == []


def test_plant_page_shows_expected_against_actual(
    client: TestClient, api: Api, operator: KnownAccount
) -> None:
    _setup(api, client, sky=1.0, fault=False)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        (report,) = monitoring.reports(session, NOW, days=3)
        day = next(d for d in report.days() if d["day"] == DAY.isoformat())
    assert report.basis == "measured"
    assert day["performance_index"] == pytest.approx(0.97, abs=0.04)
    assert 0.7 < day["performance_ratio"] < 0.95
    page = client.get("/energie/solar")
    assert page.status_code == 200
    assert "Solarpark Süd" in soup(page).get_text()


def test_only_energy_operators_reach_the_console(
    client: TestClient, api: Api, make_account: Any
) -> None:
    caseworker = make_account(role=Role.CASEWORKER)
    log_in(client, caseworker)
    assert client.get("/console/energie").status_code == 403
