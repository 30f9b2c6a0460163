"""A real Chroma server (`chroma run` from the pinned chromadb) on 127.0.0.1 for tests.

Fixtures (imported into ``tests/conftest.py``):

* ``chroma_server`` (session): one running server, its data in a temp dir; stopped at the end of
  the session, also when tests fail. Shared: never stop it; use ``chroma_run`` for a private one.
* ``chroma_database``: a fresh database name per test, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import LOOPBACK, free_port

CHROMA = Path(sys.executable).with_name("chroma")
_CHILD_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP")


@dataclass
class ChromaServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _heartbeat(url: str) -> bool:
    try:
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            return client.get(f"{url}/api/v2/heartbeat").status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # start_new_session: the group id is the child's pid
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)


@contextlib.contextmanager
def chroma_run(data_dir: Path, *, startup_s: float = 60.0) -> Iterator[ChromaServer]:
    """Start `chroma run` on a free loopback port, wait for its heartbeat, stop it on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    log_path = data_dir.parent / f"{data_dir.name}-chroma.log"
    env = {k: v for k, v in os.environ.items() if k in _CHILD_ENV}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data_dir), "--host", LOOPBACK, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = ChromaServer(url, port, process, log_path)
    try:
        deadline = time.monotonic() + startup_s
        while not _heartbeat(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`chroma run` did not start:\n{server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with chroma_run(tmp_path_factory.mktemp("chroma") / "data") as server:
        yield server


@pytest.fixture
def chroma_database() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"
