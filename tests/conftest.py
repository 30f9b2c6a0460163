"""Shared fixtures: every test gets its own COACH_HOME; the real embedding model loads once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.chroma_server import chroma_database, chroma_server  # noqa: F401  (fixtures)
from tests.postgres import postgres, private_postgres  # noqa: F401  (fixtures)
from tests.servers import packaged_gguf, packaged_llama  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def coach_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private COACH_HOME: no test ever reads or writes the user's real data."""
    home = tmp_path / "coach-home"
    monkeypatch.setenv("COACH_HOME", str(home))
    monkeypatch.delenv("COACH_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("COACH_") and name != "COACH_HOME":
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def host(coach_home: Path):
    """The plugin host on the test's COACH_HOME: the built-in plugins."""
    from coach.plugins.host import PluginHost
    from coach.settings import load_settings

    return PluginHost(load_settings())


@pytest.fixture
def no_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request to a real model fails the test (``pytest.mark.usefixtures`` it)."""
    import pydantic_ai.models

    monkeypatch.setattr(pydantic_ai.models, "ALLOW_MODEL_REQUESTS", False)


@pytest.fixture(scope="session")
def torch_embedder():
    from coach.knowledge.embedder import TorchEmbedder

    return TorchEmbedder()


@pytest.fixture
def make_kb(torch_embedder) -> Callable[..., object]:
    """Open a KnowledgeBase on the test's COACH_HOME that reuses the session's loaded model."""
    from coach.knowledge.base import KnowledgeBase
    from coach.settings import load_settings

    def make(collection: str | None = None, **settings: object):
        kb = KnowledgeBase(load_settings(**settings), collection)
        kb.__dict__["embedder"] = torch_embedder
        return kb

    return make


@pytest.fixture(params=["embedded", "server"])
def knowledge_backend(request: pytest.FixtureRequest, coach_home: Path) -> str:
    """Run a test against the embedded store and against a real Chroma server.

    Server: COACH_KNOWLEDGE_URL and COACH_KNOWLEDGE_DATABASE (a fresh database) are set in the
    environment, so ``make_kb`` and CLI subprocesses started by the test use the server too.
    A test inherently about local files skips the server run with ``embedded_only``.
    """
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("COACH_KNOWLEDGE_URL", server.url)
        monkeypatch.setenv("COACH_KNOWLEDGE_DATABASE", request.getfixturevalue("chroma_database"))
    return request.param


def embedded_only(backend: str, reason: str) -> None:
    """Skip the server run of a ``knowledge_backend`` test that is about local files."""
    if backend == "server":
        pytest.skip(f"embedded only: {reason}")


def run_coach(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None, prefix: list[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a fresh interpreter, as a user would."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "coach", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def run_plugin_tests(folder: Path) -> subprocess.CompletedProcess[str]:
    """A plugin folder's own tests, run by pytest in a fresh process from inside the folder."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
        check=False,
    )


def write_corpus(folder: Path, files: int, version: str = "v1", paragraphs: int = 8) -> list[Path]:
    """Markdown files with distinct, prose-like paragraphs (several chunks each)."""
    import random

    words = [
        "mentor",
        "mentee",
        "senior",
        "junior",
        "session",
        "feedback",
        "agenda",
        "timer",
        "notes",
        "video",
        "call",
        "chat",
        "post",
        "draft",
        "audience",
        "channel",
        "meeting",
        "async",
        "update",
        "calendar",
        "inbox",
        "prompt",
        "summary",
        "tool",
        "screen",
        "share",
        "habit",
        "experiment",
        "goal",
        "trust",
        "listen",
        "explain",
        "example",
        "practice",
        "review",
        "confidence",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(files):
        rng = random.Random(f"{version}-{index}")
        body = [f"---\ntitle: Note {index} {version}\n---\n# Note {index} {version}\n"]
        for p in range(paragraphs):
            body.append(f"## Part {p}\n")
            sentences = [
                " ".join(rng.choice(words) for _ in range(rng.randint(8, 16))).capitalize() + "."
                for _ in range(rng.randint(4, 7))
            ]
            body.append(" ".join(sentences) + "\n")
        path = folder / f"note-{index:03d}.md"
        path.write_text("\n".join(body))
        paths.append(path)
    return paths


STORAGE_MODULES = frozenset(
    {
        "test_service",
        "test_engine",
        "test_autosave",
        "test_migrations",
        "test_metrics",
        "test_exports",
        "test_programme_concurrency",
        "test_activity",
        "test_db_cli",
    }
)
"""Modules whose tests run once per database backend (SQLite and a real PostgreSQL)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Storage modules run every test that uses ``database_backend`` (or ``db``) on both backends;
    every other module keeps SQLite only, so the suite does not double."""
    if "database_backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rpartition(".")[2]
    if module not in STORAGE_MODULES:
        return  # SQLite, under the test's own name (snapshot files are named after it)
    backends = ["sqlite", "postgresql"]
    marker = metafunc.definition.get_closest_marker("sqlite_only")
    if marker is not None:
        backends = ["sqlite"]
    metafunc.parametrize("database_backend", backends, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): a storage test about SQLite itself (WAL, file mode, busy timeout)",
    )


@pytest.fixture
def database_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, coach_home: Path
) -> Iterator[str]:
    """``sqlite`` or ``postgresql``. For PostgreSQL, COACH_DATABASE_URL names a fresh database
    (migrated to head) on the session's server, so ``load_settings()`` and CLI subprocesses in
    this test use it too."""
    backend = getattr(request, "param", "sqlite")
    if backend != "postgresql":
        yield backend
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database()
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    yield backend
    server.drop_database(url.rpartition("/")[2])  # keeps the shared cluster small


@pytest.fixture
def database_settings(request: pytest.FixtureRequest, database_backend: str):
    """Settings for another, separate programme database on the test's backend, made fresh:
    ``database_settings(home)`` (a second machine, or a second programme)."""
    from coach.settings import load_settings

    def make(home: Path, **overrides: object):
        if database_backend == "postgresql":
            overrides.setdefault(
                "database_url", request.getfixturevalue("postgres").create_database()
            )
        return load_settings(home=home, **overrides)

    return make


@pytest.fixture
def db(coach_home: Path, database_backend: str):
    """The real programme database, migrated to head: SQLite in the test's COACH_HOME, or (for
    storage modules, as a second run) a fresh database on the session's PostgreSQL server."""
    from coach.sessions.db import open_database
    from coach.settings import load_settings

    database = open_database(load_settings())
    yield database
    database.dispose()


@pytest.fixture
def session_id(db) -> int:
    """A planned first session of a new pair (Ada mentors Bo) in the test's database."""
    from coach.sessions.engine import schedule_session
    from coach.sessions.models import Pair, Person

    with db.transaction() as orm:
        pair = Pair(
            mentor=Person(name="Ada", role="mentor"), mentee=Person(name="Bo", role="mentee")
        )
        orm.add(pair)
        orm.flush()
        pair_id = pair.id
    return schedule_session(db, pair_id)


@pytest.fixture(scope="session")
def synced(tmp_path_factory: pytest.TempPathFactory, torch_embedder):
    """One COACH_HOME whose default collection holds every guide and plugin file.

    Ingesting takes a while, so it happens once per run; tests only read it.
    """
    from coach.knowledge.base import KnowledgeBase, builtin_files
    from coach.plugins.host import PluginHost
    from coach.settings import load_settings

    home = tmp_path_factory.mktemp("prepare-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACH_HOME", str(home))
        patch.delenv("COACH_CONFIG", raising=False)
        current = load_settings()
        host = PluginHost(current)
        kb = KnowledgeBase(current)
        kb.__dict__["embedder"] = torch_embedder
        kb.sync_managed(builtin_files() + host.knowledge_files())
    return home, kb, host
