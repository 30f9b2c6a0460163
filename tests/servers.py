"""OpenAI-compatible chat servers on 127.0.0.1 for tests: the real llama-cpp-python server and a
misbehaving fake one for fault tests.

Nothing here listens on, or connects to, anything but loopback. Clients made with
``local_http_client`` / ``local_openai_client`` ignore proxy variables (``trust_env=False``), so
a request to 127.0.0.1 can never be sent to a proxy elsewhere.

Fixtures (import them into a test module or ``tests/conftest.py``):

* ``packaged_gguf`` (session): Path of the packaged Gemma 3 270M base GGUF, assembled once.
* ``packaged_llama`` (session): a running ``LlamaServer`` on that GGUF. Shared: never kill it;
  start a private one with ``llama_server`` for fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

LOOPBACK = "127.0.0.1"
MODEL_ALIAS = "gemma-270m"
MODELS_DIR = Path(tempfile.gettempdir()) / "coach-test-models"
GARBAGE = "Sure! Here are some ideas: 1. Ask open questions. 2. Share a screen. 3. Take notes."
BEHAVIOURS = ("garbage", "slow", "hangup", "json")

# The llama server child gets only these variables: llama_cpp.server reads HOST, PORT and
# CONFIG_FILE (and every setting, e.g. API_KEY) from the environment, over the command line.
_CHILD_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def local_http_client(timeout: float = 30.0) -> httpx.Client:
    """An httpx client that ignores proxy environment variables."""
    return httpx.Client(trust_env=False, timeout=timeout)


def local_openai_client(base_url: str, *, timeout: float = 30.0, max_retries: int = 0):
    """An ``openai.OpenAI`` client for a loopback server (no proxies, no retries by default)."""
    import openai

    return openai.OpenAI(
        base_url=base_url,
        api_key="local",
        max_retries=max_retries,
        timeout=timeout,
        http_client=local_http_client(timeout),
    )


def assemble_packaged_gguf(directory: Path = MODELS_DIR) -> Path:
    """The packaged Gemma GGUF in ``directory``, assembled by Coach's own code if not there yet."""
    from coach.prepare.llama import assemble_gguf

    return assemble_gguf(directory)


# --- the real llama-cpp-python server ---------------------------------------------------------


@dataclass
class LlamaServer:
    """A running ``python -m llama_cpp.server``; ``base_url`` ends in ``/v1``."""

    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    model: str = MODEL_ALIAS

    def kill(self) -> None:
        """SIGKILL the server's whole process group at once (a crash, not a shutdown)."""
        _signal_group(self.process, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # start_new_session: the group id is the child's pid


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    # Whatever the leader did, no child of its group may outlive the test.
    _signal_group(process, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def llama_server(
    model_path: Path,
    *,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    alias: str = MODEL_ALIAS,
    startup_timeout: float = 60.0,
    log_path: Path | None = None,
) -> Iterator[LlamaServer]:
    """Run the real llama-cpp-python OpenAI server on 127.0.0.1 and yield a ``LlamaServer``.

    Waits until ``GET /v1/models`` answers; raises ``RuntimeError`` with the log's tail if the
    process exits first or ``startup_timeout`` passes. On exit: SIGTERM to the process group,
    then SIGKILL. ``extra_args`` go after the defaults (``--n_ctx 2048 --n_threads 2``); the
    server's own CLI uses underscores, e.g. ``("--chat_format", "gemma")``.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(model_path)
    forbidden = {"--host", "--port", "--config_file"} & {a.split("=")[0] for a in extra_args}
    if forbidden:
        raise ValueError(f"llama_server sets {sorted(forbidden)} itself (loopback only)")
    own_log_dir = None
    if log_path is None:  # a private log, removed at exit (failures quote its tail anyway)
        own_log_dir = Path(tempfile.mkdtemp(prefix="coach-llama-"))
        log_path = own_log_dir / "server.log"
    env = {name: os.environ[name] for name in _CHILD_ENV if name in os.environ}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    try:
        server = _start_llama(model_path, port, extra_args, alias, startup_timeout, log_path, env)
        try:
            yield server
        finally:
            _stop(server.process)
    finally:
        if own_log_dir is not None:
            shutil.rmtree(own_log_dir, ignore_errors=True)


def _start_llama(
    model_path: Path,
    port: int | None,
    extra_args: Sequence[str],
    alias: str,
    startup_timeout: float,
    log_path: Path,
    env: dict[str, str],
) -> LlamaServer:
    attempts = 1 if port is not None else 3  # a guessed port can be taken in the meantime
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path),
            "--model_alias",
            alias,
            "--host",
            LOOPBACK,
            "--port",
            str(chosen),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            *extra_args,
        ]
        with log_path.open("ab") as log:
            offset = log.tell()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        server = LlamaServer(f"http://{LOOPBACK}:{chosen}/v1", chosen, process, log_path, alias)
        try:
            _wait_ready(server, startup_timeout, offset)
        except _PortTaken:
            _stop(process)
            if attempt + 1 < attempts:
                continue
            raise RuntimeError(f"port {chosen} taken:\n{server.log_tail()}") from None
        except BaseException:
            _stop(process)
            raise
        return server
    raise AssertionError("unreachable")


class _PortTaken(RuntimeError):
    pass


def _wait_ready(server: LlamaServer, timeout: float, log_offset: int) -> None:
    deadline = time.monotonic() + timeout
    with local_http_client(timeout=2.0) as http:
        while True:
            if server.process.poll() is not None:
                tail = server.log_tail()
                with server.log_path.open("rb") as log:  # this attempt's output only
                    log.seek(log_offset)
                    if b"address already in use" in log.read().lower():
                        raise _PortTaken(tail)
                raise RuntimeError(
                    f"llama server exited with code {server.process.returncode}:\n{tail}"
                )
            try:
                if http.get(f"{server.base_url}/models").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama server not ready after {timeout:.0f} s:\n{server.log_tail()}"
                )
            time.sleep(0.1)


# --- the misbehaving fake server --------------------------------------------------------------


@dataclass
class FakeServer:
    """A running fake OpenAI server; ``base_url`` ends in ``/v1``.

    ``received`` holds the JSON body of every chat-completion request, in order; ``requests``
    is their count (counted on arrival, so a request that is hung up on or still sleeping counts).
    """

    base_url: str
    port: int
    behaviour: str
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.received)


def completion_envelope(content: str, model: str = MODEL_ALIAS) -> dict[str, Any]:
    """A complete OpenAI ``chat.completion`` object answering with ``content``."""
    completion_tokens = max(1, len(content) // 4)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": completion_tokens,
            "total_tokens": 10 + completion_tokens,
        },
    }


class _FaultApp:
    """Pure ASGI in front of a Starlette app: "hangup" needs uvicorn's own ``send``, whose
    ``__self__`` (the request cycle) holds the connection's transport."""

    def __init__(self, server: FakeServer, contents: Sequence[str], delay: float) -> None:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.server = server
        self.delay = delay
        self.stopping = threading.Event()
        self._contents = itertools.chain(contents, itertools.repeat(contents[-1]))

        async def models(request):
            data = [{"id": MODEL_ALIAS, "object": "model", "created": 0, "owned_by": "tests"}]
            return JSONResponse({"object": "list", "data": data})

        async def chat(request):
            body = await request.json()
            server.received.append(body)
            content = next(self._contents)
            if server.behaviour == "slow":
                deadline = time.monotonic() + self.delay
                while time.monotonic() < deadline and not self.stopping.is_set():
                    await asyncio.sleep(0.05)
            return JSONResponse(completion_envelope(content, body.get("model") or MODEL_ALIAS))

        self.starlette = Starlette(
            routes=[
                Route("/v1/models", models, methods=["GET"]),
                Route("/v1/chat/completions", chat, methods=["POST"]),
            ]
        )

    async def __call__(self, scope, receive, send) -> None:
        if (
            self.server.behaviour == "hangup"
            and scope["type"] == "http"
            and scope["path"] == "/v1/chat/completions"
        ):
            await self._hang_up(receive, send)
        else:
            await self.starlette(scope, receive, send)

    async def _hang_up(self, receive, send) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.server.received.append(json.loads(b"".join(chunks) or b"{}"))
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is None:
            raise RuntimeError("uvicorn's transport is out of reach: cannot hang up")
        transport.close()  # no status line, no headers: like a server killed mid-request
        # Return only once uvicorn knows the peer is gone, or it would answer 500 instead.
        while (await receive())["type"] != "http.disconnect":
            pass


@contextlib.contextmanager
def fake_openai_server(
    behaviour: str,
    *,
    content: str | Sequence[str] | None = None,
    delay: float = 30.0,
    startup_timeout: float = 10.0,
) -> Iterator[FakeServer]:
    """Run a misbehaving OpenAI chat server with uvicorn in a thread on 127.0.0.1.

    ``behaviour``:

    * ``"garbage"``: a valid chat.completion whose content is prose, not JSON (``GARBAGE``).
    * ``"slow"``: waits ``delay`` seconds, then answers like "json". Leaving the block ends the
      wait at once, so teardown never waits for the delay.
    * ``"hangup"``: reads the request, then closes the connection without a response.
    * ``"json"``: answers ``content`` (default ``'{"ok": true}'``).

    ``content`` may be a sequence: successive requests get successive items and the last one
    repeats (e.g. garbage first, then valid JSON, for retry tests).
    """
    import uvicorn

    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")
    if content is None:
        content = GARBAGE if behaviour == "garbage" else '{"ok": true}'
    contents = [content] if isinstance(content, str) else list(content)
    if not contents:
        raise ValueError("content must not be empty")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))  # bound here and handed over: no race for the port
    port = sock.getsockname()[1]
    server = FakeServer(f"http://{LOOPBACK}:{port}/v1", port, behaviour)
    app = _FaultApp(server, contents, delay)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        http="h11",
        timeout_graceful_shutdown=2,
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(
        target=runner.run, kwargs={"sockets": [sock]}, name=f"fake-openai-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not runner.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"fake OpenAI server ({behaviour}) did not start")
            time.sleep(0.01)
        yield server
    finally:
        app.stopping.set()
        runner.should_exit = True
        thread.join(5)
        if thread.is_alive():
            runner.force_exit = True
            thread.join(5)
        sock.close()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def packaged_gguf() -> Path:
    """The packaged Gemma 3 270M base GGUF (no chat template), reused across runs."""
    return assemble_packaged_gguf()


@pytest.fixture(scope="session")
def packaged_llama(packaged_gguf: Path, tmp_path_factory: pytest.TempPathFactory):
    """One real llama server on the packaged GGUF for the whole session. Do not kill it."""
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with llama_server(packaged_gguf, log_path=log) as server:
        yield server
