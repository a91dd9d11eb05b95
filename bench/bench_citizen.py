"""Citizen services pages under load: ``citizen.page_p95_ms.<page>``.

The demo city (``klug demo``) served by one worker; 50 connections each on a service
page, the site search and a caseworker's case list (logged in with password and TOTP,
the session cookie sent by every request) – kept pages, as most visits get – and the
case list asked at a new address by every request (``case_list_uncached``: a fresh page,
as after every change of a case). Baseline: ``GET /healthz`` at the same
concurrency in the same run.
"""

from __future__ import annotations

import re
import time

import httpx

from bench import Figure, InvalidMeasurement, log, seconds_from_env
from bench.load import LoadResult, choose_tool, get_paths, load_path, measure_workload
from bench.server import Server, demo_server
from klug.core.security import totp_code

CONNECTIONS = 50
PAGES = {
    "service": "/leistungen/bewohnerparkausweis",
    "search": "/suche?q=Parkausweis",
    "case_list": "/console/antraege",
}
# The case list is kept per caseworker and address while no case changed: this figure
# asks for a fresh page every time (an address never asked before), as after each change.
UNCACHED_CASE_LISTS = [f"/console/antraege?seite=1&frisch={n}" for n in range(20_000)]
_CASEWORKER = re.compile(
    r"caseworker\s+(?P<email>\S+)\s+password: (?P<password>\S+)\s+TOTP secret: (?P<secret>\S+)"
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client: httpx.Client, path: str) -> str:
    found = _CSRF.search(client.get(path).text)
    if found is None:
        raise InvalidMeasurement(f"no form token on {path}")
    return found.group(1)


def caseworker_cookie(server: Server) -> str:
    """Log the demo caseworker in (password, then TOTP) and return the Cookie header."""
    found = _CASEWORKER.search((server.workdir / "server.log").read_text(encoding="utf-8"))
    if found is None:
        raise InvalidMeasurement("the demo caseworker's credentials are not in the log")
    with httpx.Client(base_url=server.base_url, follow_redirects=False, timeout=30) as client:
        form = {"email": found["email"], "password": found["password"]}
        answer = client.post(
            "/konto/anmelden", data={**form, "csrf_token": _csrf(client, "/konto/anmelden")}
        )
        if "/konto/zwei-faktor" in answer.headers.get("location", ""):
            code = totp_code(found["secret"], time.time())
            token = _csrf(client, "/konto/zwei-faktor")
            answer = client.post("/konto/zwei-faktor", data={"code": code, "csrf_token": token})
        if answer.status_code != 303:
            raise InvalidMeasurement(f"caseworker login: {answer.status_code}")
        if client.get(PAGES["case_list"]).status_code != 200:
            raise InvalidMeasurement("the logged-in caseworker cannot open the case list")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def run() -> list[Figure]:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    tool = choose_tool()
    with demo_server() as server:
        headers = {"Cookie": caseworker_cookie(server)}
        load_path(tool, server, "/healthz", connections=CONNECTIONS, duration_s=1.0)
        healthz = load_path(
            tool, server, "/healthz", connections=CONNECTIONS, duration_s=duration_s
        )
        results: dict[str, LoadResult] = {}
        workloads = {name: [path] for name, path in PAGES.items()}
        workloads["case_list_uncached"] = UNCACHED_CASE_LISTS
        for name, paths in workloads.items():
            path = paths[0]
            workload = get_paths(paths, headers if name.startswith("case_list") else None)
            for seconds in (1.0, duration_s):  # warm-up, then measured
                results[name] = measure_workload(
                    tool,
                    server.base_url + path,
                    workload,
                    connections=CONNECTIONS,
                    duration_s=seconds,
                    workdir=server.workdir,
                )
                results[name].check(f"GET {path}")
            log(
                f"{name}: p95 {results[name].p95_ms:.1f} ms, "
                f"{results[name].requests_per_s:.0f} req/s"
            )
    return [
        Figure(
            f"citizen.page_p95_ms.{name}",
            result.p95_ms,
            "ms",
            result.requests,
            healthz.p95_ms,
            tool,
            {
                "path": workloads[name][0],
                "distinct_paths": len(workloads[name]),
                "connections": CONNECTIONS,
                "requests_per_s": round(result.requests_per_s, 1),
                "baseline_what": "GET /healthz p95, same concurrency",
            },
        )
        for name, result in results.items()
    ]
