"""The ingest manifest: which file version is *committed* in each collection.

Chroma holds the vectors; this small SQLite file says which of them count. A file's chunks are
written first and committed here after, so a killed ingest leaves the previous version in force,
and ``pending`` remembers which sources may have leftovers to clean on the next run.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    embedder TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    title TEXT NOT NULL,
    size INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    origin TEXT NOT NULL DEFAULT 'user',
    topics TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (collection, source)
);
CREATE TABLE IF NOT EXISTS pending (
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (collection, source)
);
CREATE TABLE IF NOT EXISTS generations (
    collection TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class SourceRecord:
    source: str
    content_hash: str
    embedder: str
    chunks: int
    title: str
    size: int
    ingested_at: float
    origin: str = "user"
    """``user`` (added with `coach knowledge add`), ``builtin`` or ``plugin:<name>``."""
    topics: tuple[str, ...] = ()


class Manifest:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()
        # The ingest writer thread commits while the main thread marks files pending.
        self._lock = threading.RLock()

    def _add_missing_columns(self) -> None:
        """Upgrade a manifest written before files carried an origin and topics."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(sources)")}
        for column in ("origin TEXT NOT NULL DEFAULT 'user'", "topics TEXT NOT NULL DEFAULT ''"):
            if column.split()[0] not in present:
                self._db.execute(f"ALTER TABLE sources ADD COLUMN {column}")

    def close(self) -> None:
        self._db.close()

    def sources(self, collection: str) -> dict[str, SourceRecord]:
        rows = self._db.execute(
            "SELECT source, content_hash, embedder, chunks, title, size, ingested_at, origin,"
            " topics FROM sources WHERE collection = ? ORDER BY source",
            (collection,),
        )
        return {
            row[0]: SourceRecord(*row[:8], tuple(t for t in row[8].split(",") if t)) for row in rows
        }

    def collections(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT collection FROM sources ORDER BY collection")
        return [row[0] for row in rows]

    def generation(self, collection: str) -> int:
        row = self._db.execute(
            "SELECT generation FROM generations WHERE collection = ?", (collection,)
        ).fetchone()
        return row[0] if row else 0

    def mark_pending(self, collection: str, source: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO pending VALUES (?, ?)", (collection, source))

    def pending(self, collection: str) -> list[str]:
        rows = self._db.execute("SELECT source FROM pending WHERE collection = ?", (collection,))
        return [row[0] for row in rows]

    def clear_pending(self, collection: str, source: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM pending WHERE collection = ? AND source = ?", (collection, source)
            )

    def commit(self, collection: str, record: SourceRecord | None, source: str) -> None:
        """Make ``record`` the live version of ``source`` (or remove it when ``record`` is None)."""
        with self._transaction():
            if record is None:
                self._db.execute(
                    "DELETE FROM sources WHERE collection = ? AND source = ?", (collection, source)
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        collection,
                        record.source,
                        record.content_hash,
                        record.embedder,
                        record.chunks,
                        record.title,
                        record.size,
                        record.ingested_at or time.time(),
                        record.origin,
                        ",".join(record.topics),
                    ),
                )
            self._db.execute(
                "INSERT INTO generations VALUES (?, 1)"
                " ON CONFLICT(collection) DO UPDATE SET generation = generation + 1",
                (collection,),
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
