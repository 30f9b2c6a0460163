"""The ingest manifest upgrades older files in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from coach.knowledge.manifest import Manifest


def test_manifest_without_origin_and_topics_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE sources (collection TEXT NOT NULL, source TEXT NOT NULL,"
            " content_hash TEXT NOT NULL, embedder TEXT NOT NULL, chunks INTEGER NOT NULL,"
            " title TEXT NOT NULL, size INTEGER NOT NULL, ingested_at REAL NOT NULL,"
            " PRIMARY KEY (collection, source))"
        )
        db.execute("INSERT INTO sources VALUES ('default', '/a.md', 'h', 'e', 3, 'A', 10, 1.0)")
    record = Manifest(path).sources("default")["/a.md"]
    assert (record.chunks, record.origin, record.topics) == (3, "user", ())
