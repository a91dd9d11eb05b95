"""Real ``klug serve`` processes for tests that need a live server (SSE, browsers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET, free_port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def server_env(database_url: str, var_dir: Path, **settings: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KLUG_DATABASE_URL": database_url,
        "KLUG_VAR_DIR": str(var_dir),
        "KLUG_SECRET_KEY": TEST_SECRET,
        "KLUG_LOG_LEVEL": "WARNING",
        "KLUG_RATE_LIMIT_IP": "100000/minute",
        "KLUG_RATE_LIMIT_LOGIN": "1000/minute",
        "KLUG_RATE_LIMIT_ACCOUNT": "100000/minute",
    }
    env.update({f"KLUG_{key.upper()}": value for key, value in settings.items()})
    return env


def start_server(
    database_url: str, var_dir: Path, *, workers: int = 1, **settings: str
) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(database_url, var_dir, base_url=url, **settings)
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "klug",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, url, log_path)
    # Generous: under CI both test passes start servers on two cores at once.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"klug serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"klug serve did not become healthy:\n{server.log()}")
