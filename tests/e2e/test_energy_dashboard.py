"""The energy dashboard in a real browser: the chart is drawn from the table's values,
"right now" follows the meters live (SSE), and axe finds no WCAG 2.1 AA violation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.energy import service as energy_service
from klug.identity import apikeys
from tests.e2e.conftest import DemoSite, assert_no_axe_violations, axe_context


def _demand_meter_and_key(site: DemoSite) -> tuple[int, str]:
    engine = create_db_engine(site.database_url)
    try:
        with make_session_factory(engine)() as session:
            config = energy_service.current_config(session)
            assert config is not None, "the demo city has no energy configuration"
            meter = config.demand[0].power_datastream
            assert meter is not None
            _, key = apikeys.create(
                session=session, name="e2e meter", scopes="sensors.write", actor=SYSTEM
            )
            session.commit()
    finally:
        engine.dispose()
    return meter, key


def test_dashboard_draws_its_chart_and_follows_the_meters_live(
    browser: Browser, axe_script: Path, demo_site: DemoSite
) -> None:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    try:
        page.goto(demo_site.url("/energie?zeitraum=month"))
        # The chart is drawn (uPlot) from the same values the table lists.
        expect(page.locator("#energy-chart .uplot")).to_have_count(1, timeout=10_000)
        assert page.locator("#energy-table tbody tr").count() >= 1
        assert_no_axe_violations(page, "/energie (month, with chart)")

        meter, key = _demand_meter_and_key(demo_site)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        posted = httpx.post(
            demo_site.url(f"/sta/v1.1/Datastreams({meter})/Observations"),
            json={"phenomenonTime": now.isoformat(), "result": 123456.0},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        # Without a reload: the live section shows the new demand value.
        right_now = page.locator("section[aria-labelledby='mix-heading']")
        expect(right_now).to_contain_text("123.456 kW", timeout=15_000)
        assert_no_axe_violations(page, "/energie after a live update")
    finally:
        context.close()
