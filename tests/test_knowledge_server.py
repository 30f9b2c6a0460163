"""The knowledge base on a real Chroma server (`chroma run` on 127.0.0.1): two machines (two
COACH_HOMEs) share it, the release is checked, a dead server is one clear line, and the probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_coach
from tests.servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def on_server(monkeypatch: pytest.MonkeyPatch, coach_home: Path, chroma_server, chroma_database):
    """This test's COACH_HOME uses the session's Chroma server, in a database of its own."""
    monkeypatch.setenv("COACH_KNOWLEDGE_URL", chroma_server.url)
    monkeypatch.setenv("COACH_KNOWLEDGE_DATABASE", chroma_database)
    return chroma_server


def _other_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str = "b") -> Path:
    home = tmp_path / f"machine-{name}"
    monkeypatch.setenv("COACH_HOME", str(home))
    return home


def test_a_second_machine_sees_the_sources_and_searches_only_committed_chunks(
    on_server, make_kb, tmp_path, monkeypatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tools.md").write_text(
        "# Tools\n\nThe zorblatt dashboard lists every open experiment of the team.\n"
    )
    (docs / "rituals.md").write_text(
        "# Rituals\n\nA Friday demo where each person shows one thing they learned keeps a"
        " distributed team connected.\n"
    )
    first = make_kb("shared-notes")
    assert sorted(Path(s).name for s in first.add([docs]).added) == ["rituals.md", "tools.md"]

    home_b = _other_machine(monkeypatch, tmp_path)
    second = make_kb("shared-notes")
    assert second.sources() == first.sources()
    assert second.collections() == ["shared-notes"]
    assert second.search("zorblatt", top_k=1)[0].source == str(docs / "tools.md")
    by_meaning = second.search("how do remote colleagues stay close?", top_k=1)[0]
    assert by_meaning.source == str(docs / "rituals.md") and by_meaning.similarity
    cache = second._lexical_dir()
    assert cache.is_relative_to(home_b / "cache")  # keyed by server + database + collection
    assert [p.name for p in cache.iterdir()] == [
        f"generation-{second.manifest.generation('shared-notes')}"
    ]

    # Chunks of a version that was never committed (a writer killed mid-ingest) stay unseen.
    import numpy as np

    from coach.knowledge.documents import Chunk

    source = str(docs / "tools.md")
    first.manifest.mark_pending("shared-notes", source)
    leftover = Chunk(
        id="leftover-1",
        text="quibbleflux notes",
        source=source,
        title="Tools",
        heading=("Tools",),
        start=0,
        end=17,
        content_hash="x1",
    )
    first.store.upsert("shared-notes", [leftover], np.ones((1, 384), dtype=np.float32) / 384**0.5)
    assert all(hit.chunk_id != "leftover-1" for hit in second.search("quibbleflux", top_k=5))

    # The first machine adds a file: the second's long-lived keyword index follows the server.
    before = second.manifest.generation("shared-notes")
    (docs / "later.md").write_text("# Later\n\nThe snorkelwick board tracks retro actions.\n")
    first.add([docs / "later.md"])  # its writing() also cleans the leftover above
    assert second.manifest.generation("shared-notes") != before
    assert second.search("snorkelwick", top_k=1)[0].source == str(docs / "later.md")
    assert [p.name for p in cache.iterdir()] == [
        f"generation-{second.manifest.generation('shared-notes')}"
    ]
    assert second.store.get("shared-notes", ["leftover-1"]) == {}


def test_a_server_of_another_release_is_refused(on_server, make_kb, monkeypatch) -> None:
    import chromadb
    from chromadb.api.fastapi import FastAPI

    from coach.knowledge.server import KnowledgeServerMismatch

    make_kb().connect()  # the real server, from the same release, is accepted
    monkeypatch.setattr(FastAPI, "get_version", lambda self: "0.6.3")
    with pytest.raises(KnowledgeServerMismatch) as caught:
        make_kb().connect()
    assert str(caught.value) == (
        f"the Chroma server at {on_server.url} runs 0.6.3; Coach's client is"
        f" {chromadb.__version__}: run `chroma run` from the same chromadb release"
    )


def test_a_server_that_is_down_is_one_clear_error(make_kb, monkeypatch, host) -> None:
    from coach.knowledge.server import KnowledgeServerUnavailable
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("COACH_KNOWLEDGE_URL", url)
    with pytest.raises(KnowledgeServerUnavailable, match=f"the Chroma server at {url} is unav"):
        make_kb().connect()

    result = run_coach("knowledge", "search", "feedback")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"coach: error: the Chroma server at {url} is unavailable: [Errno ")
    assert line.endswith("Connection refused")

    context = CoachContext(load_settings(), host=host, model=False)
    context.load_knowledge()  # no exception out of the worker: the state says why
    resource = context.resources["knowledge"]
    assert resource.state == "failed" and resource.detail.startswith(
        f"the Chroma server at {url} is unavailable"
    )


def test_probe_reports_each_backend_without_creating_anything(
    make_kb, monkeypatch, chroma_server, chroma_database, tmp_path
) -> None:
    import chromadb
    from chromadb.errors import NotFoundError

    from coach.knowledge.server import ServerAddress, _admin
    from coach.knowledge.store import probe_knowledge
    from coach.settings import load_settings

    version = chromadb.__version__
    (tmp_path / "a.md").write_text("# Cadence\n\nMeet every three weeks for an hour.\n")

    embedded = probe_knowledge(load_settings())
    assert (embedded.backend, embedded.ok) == ("chroma (embedded)", True)
    assert embedded.where.endswith("knowledge/chroma") and "no store yet" in embedded.detail
    assert not Path(embedded.where).exists()
    make_kb("probe").add([tmp_path / "a.md"])
    assert (
        probe_knowledge(load_settings()).detail == f"chromadb {version}; 1 collection(s), 1 chunks"
    )

    monkeypatch.setenv("COACH_KNOWLEDGE_URL", chroma_server.url)
    monkeypatch.setenv("COACH_KNOWLEDGE_DATABASE", chroma_database)
    fresh = probe_knowledge(load_settings())
    assert (fresh.backend, fresh.ok) == ("chroma server", True)
    assert fresh.where == f"{chroma_server.url} (database {chroma_database})"
    assert fresh.detail.startswith(f"server 1.0.0, client {version}; database")
    assert "does not exist yet" in fresh.detail
    with pytest.raises(NotFoundError):  # the probe made nothing on the server
        _admin(ServerAddress.parse(chroma_server.url)).get_database(chroma_database)
    make_kb("probe").add([tmp_path / "a.md"])
    filled = probe_knowledge(load_settings())
    assert (
        filled.ok and filled.detail == f"server 1.0.0, client {version}; 1 collection(s), 1 chunks"
    )

    monkeypatch.setenv("COACH_KNOWLEDGE_URL", f"http://127.0.0.1:{free_port()}")
    down = probe_knowledge(load_settings())
    assert not down.ok and "is unavailable" in down.detail and "Connection refused" in down.detail


def test_facilitator_syncs_and_another_machine_searches(on_server, tmp_path, monkeypatch) -> None:
    note = "lacks the built-in guides"
    empty = run_coach("knowledge", "list", "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == [] and empty.stderr.count(note) == 1
    assert "coach knowledge sync" in empty.stderr

    synced = run_coach("knowledge", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "built-in and plugin knowledge is current in 'default'" in synced.stdout

    _other_machine(monkeypatch, tmp_path)
    found = run_coach("knowledge", "search", "agree how often to meet", "--json")
    assert found.returncode == 0, found.stderr
    assert note not in found.stderr
    hits = json.loads(found.stdout)
    assert hits and all("/knowledge/" in hit["source"] for hit in hits)
    again = run_coach("knowledge", "sync")  # nothing changed: nothing written
    assert again.returncode == 0 and "added" not in again.stderr
