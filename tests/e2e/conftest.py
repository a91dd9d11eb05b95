"""Browser tests: Debian's Chromium, driven by Playwright, against a live ``klug serve``.

One server (``tests.servers``: migrated with ``klug migrate``, seeded with the demo
accounts) serves the whole e2e session, one browser each module; a browser context is
opened per test, or per module for each kind of visitor the accessibility checks log in.
SQLite by default; ``KLUG_TEST_DATABASE=postgres`` gives the server a fresh PostgreSQL
database. A missing browser or axe-core skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.core.security import totp_code
from klug.identity import service as account_service
from klug.identity.permissions import Role
from klug.identity.schemas import AccountCreate
from klug.sim.seed import DemoAccount, seed_demo
from tests.conftest import (
    BACKEND,
    ROOT,
    TEST_SECRET,
    MailSink,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    need,
)
from tests.servers import LiveServer, server_env, start_server

CHROMIUM = Path("/usr/bin/chromium")
# The machine has no network: without these flags Chromium keeps trying to reach
# Google's services and fills the logs with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# resultTypes: only violations are reported element by element (passes once per rule),
# which halves the time axe takes per page.
AXE_RUN = """tags => axe.run(document, {
  runOnly: {type: 'tag', values: tags},
  resultTypes: ['violations'],
})"""

TOTP_STEP_S = 30


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    totp_secret: str | None = None


@dataclass
class DemoSite:
    """A running ``klug serve`` with the demo accounts and one staff account to enrol.

    Its mails go to ``mail``, a real SMTP server on loopback.
    """

    server: LiveServer
    accounts: dict[str, Credentials]
    account_ids: dict[str, int]
    database_url: str
    mail: MailSink
    _last_totp_step: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.url + path

    def next_code(self, account: Credentials) -> str:
        """A TOTP code of a time step the server has not accepted yet.

        The server refuses a step at or before the last one it accepted (no replay)
        and accepts one step of clock drift ahead, so two logins of one account in the
        same 30 s need not wait; a third one waits for the clock.
        """
        assert account.totp_secret, f"{account.email} has no second factor"
        now_step = int(time.time()) // TOTP_STEP_S
        step = max(now_step, self._last_totp_step.get(account.email, -1) + 1)
        if step > now_step + 1:
            time.sleep((step - 1) * TOTP_STEP_S - time.time() + 0.5)
        self._last_totp_step[account.email] = step
        return totp_code(account.totp_secret, step * TOTP_STEP_S)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.server.log().splitlines()[-lines:])


def _seed(database_url: str) -> tuple[dict[str, Credentials], dict[str, int]]:
    """The demo accounts, plus an editor who has not set up a second factor yet."""
    engine = create_db_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            demo: list[DemoAccount] = seed_demo(session=session, secret=TEST_SECRET.encode())
            accounts = {a.role: Credentials(a.email, a.password, a.totp_secret) for a in demo}
            enrolling = Credentials("new-editor@example.org", "correct horse battery staple")
            account_service.create(
                session=session,
                account_in=AccountCreate(
                    email=enrolling.email, password=enrolling.password, role=Role.EDITOR
                ),
                verified=True,
                actor=SYSTEM,
            )
            accounts["enrolling_editor"] = enrolling
            ids = {}
            for name, credentials in accounts.items():
                found = account_service.get_by_email(session=session, email=credentials.email)
                assert found is not None
                ids[name] = found.id
            session.commit()
    finally:
        engine.dispose()
    return accounts, ids


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    workdir = tmp_path_factory.mktemp("e2e-server")
    if BACKEND == "postgres":
        database_url = create_postgres_database("klug_e2e")
    else:
        database_url = f"sqlite:///{workdir / 'klug.db'}"
    var_dir = workdir / "var"
    server = None
    mail = MailSink()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "klug", "migrate"],
            env=server_env(database_url, var_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert migrated.returncode == 0, f"klug migrate failed:\n{migrated.stderr}"
        accounts, ids = _seed(database_url)
        server = start_server(database_url, var_dir, smtp_url=f"smtp://127.0.0.1:{smtp.port}")
        yield DemoSite(server, accounts, ids, database_url, mail)
    finally:
        if server is not None:
            server.stop()
        smtp.stop()
        if BACKEND == "postgres":
            drop_postgres_database(database_url)


# Per module, not per session: while the sync API's driver runs, its event loop is the
# main thread's running loop, and every later test that calls asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    need(CHROMIUM.exists(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    need(AXE_SCRIPT.exists(), f"axe-core at {AXE_SCRIPT} (run `make` or `npm ci`)")
    return AXE_SCRIPT


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="de-DE")
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# --- helpers ----------------------------------------------------------------------


def axe_context(browser: Browser, axe_script: Path, **options: Any) -> BrowserContext:
    """A browser context whose every page carries axe-core.

    ``add_script_tag`` would insert an inline <script>, which the pages' CSP
    (script-src 'self') refuses. An init script is injected through the DevTools
    protocol, which CSP does not govern, so the pages are checked under their real
    policy: ``bypass_csp=True`` would also let through inline styles or scripts that
    visitors' browsers block, and axe would judge a page nobody sees.
    """
    context = browser.new_context(locale="de-DE", **options)
    context.add_init_script(path=str(axe_script))
    return context


def _describe(violations: list[dict[str, Any]], nodes_shown: int = 3) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{len(violation['nodes'])} element(s)] {violation['helpUrl']}"
        )
        for node in violation["nodes"][:nodes_shown]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:300]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, what: str) -> None:
    """Run axe-core on the current page for WCAG 2.1 A and AA; no violation is allowed."""
    results = page.evaluate(AXE_RUN, WCAG_21_AA_TAGS)
    assert results["passes"], f"axe checked nothing on {what}"
    violations = results["violations"]
    assert not violations, (
        f"axe found {len(violations)} WCAG 2.1 AA violation(s) on {what} ({page.url}):\n"
        + _describe(violations)
    )


def submit_login(page: Page, site: DemoSite, account: Credentials, prefix: str = "") -> None:
    """Enter e-mail and password in the login form; stops where the second factor begins."""
    page.goto(site.url(prefix + "/konto/anmelden"))
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    with page.expect_navigation():
        page.press("#password", "Enter")


def log_in(page: Page, site: DemoSite, account: Credentials) -> None:
    """Log in through the forms, entering a fresh TOTP code where asked."""
    submit_login(page, site, account)
    if account.totp_secret:
        assert "/konto/zwei-faktor" in page.url, f"no code asked after the password: {page.url}"
        page.fill("#code", site.next_code(account))
        with page.expect_navigation():
            page.press("#code", "Enter")
    assert "/konto/anmelden" not in page.url and "/zwei-faktor" not in page.url, (
        f"login of {account.email} did not complete: {page.url}"
    )
