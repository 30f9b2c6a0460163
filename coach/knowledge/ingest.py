"""Ingest: files to committed chunks, incrementally, with progress and a per-file outcome.

Chunks from many files are embedded in fixed-size batches (small files would otherwise give the
encoder tiny batches), and each batch is written to Chroma by one writer thread while the next is
embedded. A file is committed in the manifest only after all its chunks are written.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from coach.knowledge.chunking import chunk_document
from coach.knowledge.discover import discover
from coach.knowledge.documents import Chunk, Skip
from coach.knowledge.loaders import load
from coach.knowledge.manifest import SourceRecord

if TYPE_CHECKING:
    from pathlib import Path

    from coach.knowledge.base import KnowledgeBase

EMBED_BATCH = 256  # chunks written per batch; sorted by length, so slices pad little
EMBED_SLICE = 64  # chunks per encoder call, so progress shows while a batch embeds


class IngestObserver:
    """Receives progress; the CLI draws a bar from it, tests and services ignore it."""

    def waiting_for_lock(self, lock_path: Path) -> None: ...
    def started(self, files: int) -> None: ...
    def file_done(self, source: str, outcome: str) -> None: ...
    def embedded(self, chunks: int) -> None: ...
    def status(self, text: str | None) -> None:
        """A slow step is starting (text) or has ended (None)."""


@dataclass
class IngestReport:
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def nothing_ingested(self) -> bool:
        """True when no file at all is in the knowledge base as a result of this run."""
        return not (self.added or self.updated or self.unchanged)


@dataclass(frozen=True)
class Tags:
    """Where a file comes from and which topics it serves; stored with every chunk."""

    origin: str = "user"
    topics: tuple[str, ...] = ()


def content_hash(data: bytes, tags: Tags | None = None) -> str:
    """The version of a file as indexed: its bytes and, when given, its tags.

    Tags are part of the version so that re-tagging a file gives its chunks new ids; the old
    chunks are then dropped like those of any older version (Chroma merges metadata on upsert,
    so stale topic keys would otherwise survive).
    """
    digest = hashlib.sha256(data)
    if tags is not None and tags != Tags():
        digest.update(f"\0{tags.origin}\0{','.join(tags.topics)}".encode())
    return digest.hexdigest()


@dataclass
class _Pending:
    record: SourceRecord
    outcome: str
    remaining: int


class _Pipeline:
    """Embeds chunk batches and hands them to a single writer thread, one batch in flight."""

    def __init__(self, kb: KnowledgeBase, observer: IngestObserver, report: IngestReport) -> None:
        self._kb = kb
        self._observer = observer
        self._report = report
        self._buffer: list[Chunk] = []
        self._files: dict[str, _Pending] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-writer")
        self._in_flight: Future[None] | None = None

    def add(self, chunks: list[Chunk], pending: _Pending) -> None:
        self._files[pending.record.source] = pending
        self._buffer.extend(chunks)
        while len(self._buffer) >= EMBED_BATCH:
            self._flush(self._buffer[:EMBED_BATCH])
            del self._buffer[:EMBED_BATCH]

    def finish(self) -> None:
        try:
            if self._buffer:
                self._flush(self._buffer)
                self._buffer = []
            self._wait()
        finally:
            self._writer.shutdown(wait=True)

    def _flush(self, batch: list[Chunk]) -> None:
        import numpy as np

        if not self._kb.embedder_loaded:
            self._observer.status("Loading the embedding model")
            _ = self._kb.embedder
            self._observer.status(None)
        # Length-sorted slices pad little and let the progress bar move while a batch embeds.
        batch = sorted(batch, key=lambda c: len(c.embedding_text()))
        parts = []
        for begin in range(0, len(batch), EMBED_SLICE):
            part = batch[begin : begin + EMBED_SLICE]
            parts.append(self._kb.embedder.embed([c.embedding_text() for c in part]))
            self._observer.embedded(len(part))
        self._wait()
        self._in_flight = self._writer.submit(self._write, batch, np.vstack(parts))

    def _wait(self) -> None:
        if self._in_flight is not None:
            future, self._in_flight = self._in_flight, None
            future.result()

    def _write(self, batch: list[Chunk], vectors: object) -> None:
        kb = self._kb
        kb.store.upsert(kb.collection, batch, vectors)  # type: ignore[arg-type]
        for chunk in batch:
            pending = self._files[chunk.source]
            pending.remaining -= 1
            if pending.remaining == 0:
                self._commit(pending)

    def _commit(self, pending: _Pending) -> None:
        kb, record = self._kb, pending.record
        kb.manifest.commit(kb.collection, record, record.source)
        kb.store.delete_source(kb.collection, record.source, keep_hash=record.content_hash)
        kb.manifest.clear_pending(kb.collection, record.source)
        getattr(self._report, pending.outcome).append(record.source)
        self._report.chunks += record.chunks
        self._observer.file_done(record.source, pending.outcome)


def ingest(
    kb: KnowledgeBase,
    paths: list[Path],
    observer: IngestObserver,
    tags: Mapping[str, Tags] | None = None,
) -> IngestReport:
    """Add or refresh ``paths`` in ``kb`` (the caller holds the write lock).

    ``tags`` maps a source path to its tags; files not in it are the user's own.
    """
    began = time.perf_counter()
    report = IngestReport(kb.collection)
    candidates = list(discover(paths, exclude=(kb.settings.data_dir, kb.settings.cache_dir)))
    observer.started(len(candidates))
    committed = kb.manifest.sources(kb.collection)
    embedder_name = kb.embedder_name
    max_bytes = kb.settings.max_file_mb * 1024 * 1024
    pipeline = _Pipeline(kb, observer, report)

    def skip(source: str, reason: str) -> None:
        report.skipped.append((source, reason))
        observer.file_done(source, "skipped")

    try:
        for candidate in candidates:
            source = str(candidate.path)
            if candidate.problem:
                skip(source, candidate.problem)
                continue
            try:
                if candidate.path.stat().st_size > max_bytes:
                    skip(source, f"larger than {kb.settings.max_file_mb:g} MB (max_file_mb)")
                    continue
                data = candidate.path.read_bytes()
            except OSError as exc:
                skip(source, f"cannot read: {exc.strerror or exc}")
                continue
            tag = (tags or {}).get(source, Tags())
            digest = content_hash(data, tag)
            previous = committed.get(source)
            wanted = (digest, embedder_name, tag.origin, tag.topics)
            if (
                previous
                and (
                    previous.content_hash,
                    previous.embedder,
                    previous.origin,
                    previous.topics,
                )
                == wanted
            ):
                report.unchanged.append(source)
                observer.file_done(source, "unchanged")
                continue
            try:
                document = load(candidate.path, data)
            except Skip as reason:
                skip(source, str(reason))
                continue
            except Exception as exc:  # a loader bug must cost one file, not the whole run
                skip(source, f"loader failed: {type(exc).__name__}: {exc}"[:200])
                continue
            report.notes.extend((source, note) for note in document.notes)
            chunks = [
                replace(chunk, origin=tag.origin, topics=tag.topics)
                for chunk in chunk_document(document, source, digest)
            ]
            record = SourceRecord(
                source,
                digest,
                embedder_name,
                len(chunks),
                document.title,
                len(data),
                time.time(),
                tag.origin,
                tag.topics,
            )
            kb.manifest.mark_pending(kb.collection, source)
            pipeline.add(chunks, _Pending(record, "updated" if previous else "added", len(chunks)))
    finally:
        pipeline.finish()
    report.seconds = time.perf_counter() - began
    return report
