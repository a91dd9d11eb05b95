"""A real ``klug serve`` subprocess on the seeded demo city, in a throw-away directory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import InvalidMeasurement, log, stop_on_sigterm

REPO = Path(__file__).resolve().parents[1]
# Fixed (48 characters) so that runs are comparable; it signs nothing that outlives the run.
SECRET_KEY = "klug-bench-secret-0123456789-abcdefghijklmnopqrs"  # noqa: S105
# The limiter still runs on every request (its cost is part of the figure) but never refuses.
UNLIMITED = "100000000/minute"


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    workdir: Path


def klug_executable() -> str:
    beside_python = Path(sys.executable).parent / "klug"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("klug")
    if found is None:
        raise InvalidMeasurement("the `klug` command is not installed (run `make bench`)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KLUG_")}
    env.update(
        KLUG_ENV="dev",
        KLUG_VAR_DIR=str(workdir),
        KLUG_DATABASE_URL=database_url or f"sqlite:///{workdir}/klug.db",
        KLUG_SECRET_KEY=SECRET_KEY,
        KLUG_LOG_LEVEL="WARNING",
        KLUG_RATE_LIMIT_IP=UNLIMITED,
        KLUG_RATE_LIMIT_ACCOUNT=UNLIMITED,
        KLUG_JOBS="false",
    )
    return env


def _klug(args: list[str], env: dict[str, str], log_file: Path) -> None:
    with log_file.open("ab") as output:
        completed = subprocess.run(
            [klug_executable(), *args], env=env, cwd=REPO, stdout=output, stderr=output
        )
    if completed.returncode != 0:
        command = " ".join(args)
        tail = log_file.read_text()[-2000:]
        raise InvalidMeasurement(f"`klug {command}` exited {completed.returncode}:\n{tail}")


def _wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InvalidMeasurement(f"the server exited with {process.returncode} at start-up")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise InvalidMeasurement(f"the server did not answer /healthz within {timeout_s:.0f} s")


def workers() -> int:
    """Server processes (``KLUG_BENCH_WORKERS``, default 1: figures compare with one)."""
    try:
        return max(1, int(os.environ.get("KLUG_BENCH_WORKERS", "1")))
    except ValueError:
        raise InvalidMeasurement("KLUG_BENCH_WORKERS must be a whole number") from None


@contextlib.contextmanager
def _serving(env: dict[str, str], workdir: Path, log_file: Path, port: int) -> Iterator[Server]:
    """``klug serve`` (one worker, or ``KLUG_BENCH_WORKERS``) with ``env`` on ``port``
    until the block ends."""
    base_url = f"http://127.0.0.1:{port}"
    command = [klug_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers() > 1:
        command += ["--workers", str(workers())]
    with log_file.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=output,
        )
    try:
        _wait_until_healthy(base_url, process)
        log(f"server pid {process.pid} at {base_url} (log: {log_file})")
        yield Server(base_url=base_url, pid=process.pid, workdir=workdir)
    except InvalidMeasurement as exc:
        excerpt = _errors_in(log_file)
        if excerpt:
            raise InvalidMeasurement(f"{exc}\nserver log:\n{excerpt}") from None
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


LOG_DIR = REPO / "var" / "bench" / "logs"
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning)\b.*")


def _errors_in(log_file: Path) -> str:
    """The exception lines of a failed run's server log (statements and parameters cut
    short), and where the whole log is kept."""
    if not log_file.exists() or log_file.stat().st_size == 0:
        return ""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    kept = LOG_DIR / f"server-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    shutil.copyfile(log_file, kept)
    lines = log_file.read_text(errors="replace").splitlines()
    errors = [line[:400] for line in lines if _EXCEPTION_LINE.match(line)]
    if not errors:
        errors = [line[:400] for line in lines[-10:]]
    unique = list(dict.fromkeys(errors))[-8:]
    return "\n".join([*unique, f"(whole log: {kept})"])


@contextlib.contextmanager
def demo_server() -> Iterator[Server]:
    """Migrate, seed the demo city and serve it (one worker) until the block ends; on
    SQLite or, with ``--db postgres``, a PostgreSQL database of its own."""
    from bench.dataset import scratch_database  # the data-set module is heavy to import

    with (
        tempfile.TemporaryDirectory(prefix="klug-bench-") as tmp,
        scratch_database(Path(tmp), "demo") as database_url,
    ):
        workdir = Path(tmp)
        env = server_environment(workdir, database_url)
        log_file = workdir / "server.log"
        _klug(["migrate"], env, log_file)
        _klug(["demo", "--no-serve"], env, log_file)
        with _serving(env, workdir, log_file, free_port()) as server:
            yield server


@contextlib.contextmanager
def database_server(database_url: str, workdir: Path, **settings: str) -> Iterator[Server]:
    """Serve an existing, migrated database (one worker) until the block ends;
    ``settings`` are further ``KLUG_<NAME>`` variables (``mqtt_url="mqtt://…"``)."""
    port = free_port()
    env = server_environment(workdir, database_url)
    # Links in answers (selfLinks, Location headers) name the server actually asked.
    env["KLUG_BASE_URL"] = f"http://127.0.0.1:{port}"
    env.update({f"KLUG_{name.upper()}": value for name, value in settings.items()})
    with _serving(env, workdir, workdir / "server.log", port) as server:
        yield server


def serve_until_interrupted() -> None:
    """``python -m bench.server``: the benchmark's server, kept up for profiling by hand."""
    stop_on_sigterm()
    with demo_server() as server:
        print(f"{server.base_url} pid {server.pid}", flush=True)
        log("serving until Ctrl-C")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    serve_until_interrupted()
