"""Kills, concurrent writers and a machine without network: the store must stay usable.

Both backends (``knowledge_backend``): the embedded store and a real Chroma server; the write lock
(a local file) and the machine without network stay embedded-only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, embedded_only, run_coach, write_corpus

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("knowledge_backend")]


@functools.cache
def _server_manifest(url: str, database: str):
    from coach.knowledge.server import ServerManifest, connect

    return ServerManifest(connect(url, database))


def _committed_hashes(home: Path, collection: str) -> dict[str, str]:
    """What the manifest says, read aside from any KnowledgeBase (on the server, if one is set)."""
    if url := os.environ.get("COACH_KNOWLEDGE_URL"):
        manifest = _server_manifest(url, os.environ["COACH_KNOWLEDGE_DATABASE"])
        return {s: r.content_hash for s, r in manifest.sources(collection).items()}
    db = home / "knowledge" / "manifest.sqlite3"
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        rows = conn.execute(
            "SELECT source, content_hash FROM sources WHERE collection = ?", (collection,)
        ).fetchall()
    return dict(rows)


def _start_add(folder: Path, collection: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coach", "knowledge", "add", str(folder), "-c", collection],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_mid_ingest_keeps_previous_state_and_next_run_completes(
    make_kb, coach_home: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, files=30, version="v1")
    kb = make_kb("crash")
    kb.add([corpus])
    before = _committed_hashes(coach_home, "crash")
    assert len(before) == 30

    write_corpus(corpus, files=30, version="v2")
    process = _start_add(corpus, "crash")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        changed = sum(h != before[s] for s, h in _committed_hashes(coach_home, "crash").items())
        if changed >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the ingest finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()

    after_kill = _committed_hashes(coach_home, "crash")
    assert set(after_kill) == set(before), "every file is still present in some version"
    assert 2 <= sum(h != before[s] for s, h in after_kill.items()) < 30

    kb = make_kb("crash")
    hits = kb.search("mentor feedback session", top_k=10)
    assert hits, "the previous state must stay queryable"
    live = kb.sources()
    for hit in hits:
        stored = kb.store.get("crash", [hit.chunk_id])[hit.chunk_id][1]
        assert stored["content_hash"] == live[hit.source].content_hash

    fresh = run_coach("knowledge", "search", "mentor feedback session", "-c", "crash", "--json")
    assert fresh.returncode == 0, fresh.stderr
    for hit in json.loads(fresh.stdout):
        assert hit["chunk_id"].split("-")[1] == live[hit["source"]].content_hash[:12]

    report = kb.add([corpus])
    assert not report.skipped
    assert len(report.updated) + len(report.unchanged) == 30 and report.updated
    kb = make_kb("crash")
    assert all("v2" in r.title for r in kb.sources().values())
    stored = list(kb.store.iter_all("crash"))
    assert len(stored) == sum(r.chunks for r in kb.sources().values()), "no leftovers"
    assert kb.manifest.pending("crash") == []


def test_second_writer_waits_or_reports_the_lock(
    make_kb, coach_home, tmp_path, knowledge_backend
) -> None:
    embedded_only(knowledge_backend, "the write lock is a file on the local machine")
    from coach.knowledge.base import KnowledgeBaseBusy

    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first, files=25, version="a")
    write_corpus(second, files=5, version="b")
    make_kb("shared").add([tmp_path / "first" / "note-000.md"])  # create the store
    process = _start_add(first, "shared")
    lock = coach_home / "knowledge" / "write.lock"
    from filelock import FileLock, Timeout

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the other process holds the lock
        try:
            FileLock(lock).acquire(timeout=0).lock.release()
        except Timeout:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the first writer never took the lock")

    impatient = make_kb("shared", lock_timeout_s=0.2)
    with pytest.raises(KnowledgeBaseBusy, match="another Coach process is writing"):
        impatient.add([second])

    patient = make_kb("shared", lock_timeout_s=300)
    report = patient.add([second])  # waits for the first writer, then proceeds
    assert len(report.added) == 5
    assert process.wait(timeout=300) == 0, process.stderr.read()
    kb = make_kb("shared")
    assert len(kb.sources()) == 30
    stored = list(kb.store.iter_all("shared"))
    assert len(stored) == sum(r.chunks for r in kb.sources().values())


def test_cli_exit_codes_and_summary(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_bytes(b"")
    (bad / "x.bin").write_bytes(bytes(range(256)))
    result = run_coach("knowledge", "add", str(bad), "-c", "exits")
    assert result.returncode == 1
    assert "0 added" in result.stderr and "2 skipped" in result.stderr
    assert f"{bad / 'empty.md'}: empty file" in result.stderr
    assert "nothing could be ingested" in result.stderr
    assert "Traceback" not in result.stderr

    assert run_coach("knowledge", "add").returncode == 2  # missing PATH is a usage error
    invalid = run_coach("knowledge", "list", "-c", "bad name!")
    assert invalid.returncode == 2 and "invalid collection name" in invalid.stderr
    empty = run_coach("knowledge", "search", "anything", "-c", "nothing-here")
    assert empty.returncode == 1 and "is empty" in empty.stderr


def test_cli_config_error_is_one_clear_line(coach_home: Path) -> None:
    coach_home.mkdir(parents=True)
    (coach_home / "config.toml").write_text('embedding_backend = "gpu"\n')
    result = run_coach("knowledge", "list")
    assert result.returncode == 2
    assert "embedding_backend" in result.stderr and "Traceback" not in result.stderr


def _network_namespace_available() -> bool:
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _network_namespace_available(), reason="unshare -n is not permitted here")
def test_ingest_and_search_without_network(tmp_path: Path, knowledge_backend: str) -> None:
    embedded_only(knowledge_backend, "without a network there is no server to reach")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "remote.md").write_text(
        "# Remote rituals\n\nA Friday demo where each person shows one thing they learned keeps "
        "a distributed team connected.\n"
    )
    env = {"PYTHONPATH": str(REPO)}
    added = run_coach(
        "knowledge", "add", str(docs), "-c", "offline", env=env, prefix=["unshare", "-n"]
    )
    assert added.returncode == 0, added.stderr
    found = run_coach(
        "knowledge",
        "search",
        "keeping a distributed team connected",
        "-c",
        "offline",
        "--json",
        env=env,
        prefix=["unshare", "-n"],
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["source"] == str(docs / "remote.md")
    assert {"text", "source", "score", "chunk_id", "title", "heading"} <= hits[0].keys()
