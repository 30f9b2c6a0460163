"""The knowledge-base service: the one entry point the CLI and the TUI call.

It owns the write lock, the manifest, the Chroma store, the lexical index and the embedder, and
loads each only when an operation needs it: listing never loads the model, re-adding unchanged
files never loads it either.

The store is embedded (Chroma files and a SQLite manifest in the data dir) unless
``knowledge_url`` names a Chroma server; then the chunks and the manifest live on the server and
only the keyword index is cached locally (see ``coach.knowledge.server``, which also says who
writes a shared knowledge base).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from coach.knowledge.documents import topic_key
from coach.knowledge.ingest import IngestObserver, IngestReport, Tags, ingest
from coach.knowledge.manifest import Manifest, SourceRecord
from coach.knowledge.server import MANIFEST_COLLECTION

if TYPE_CHECKING:
    from coach.knowledge.embedder import Embedder
    from coach.knowledge.lexical import LexicalIndex
    from coach.knowledge.server import ServerConnection, ServerManifest
    from coach.knowledge.store import VectorStore
    from coach.settings import Settings

COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.5  # paraphrased questions share few words with their answers: trust meaning more
PER_SOURCE = 2  # at most this many passages from one document, so results show breadth


class KnowledgeBaseBusy(Exception):
    """Another process holds the write lock for longer than ``lock_timeout_s``."""


class InvalidCollection(ValueError):
    pass


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    text: str
    source: str
    title: str
    heading: str
    start: int
    end: int
    score: float
    """Reciprocal-rank-fusion score of the dense and lexical rankings (higher is better)."""
    similarity: float | None
    """Cosine similarity between query and passage when the dense search found it."""

    def as_dict(self) -> dict[str, object]:
        return {
            "chunk_id": self.chunk_id,
            "text": self.text,
            "source": self.source,
            "title": self.title,
            "heading": self.heading,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
        }


@dataclass(frozen=True)
class ManagedFile:
    """A file Coach keeps in the default collection by itself: a built-in guide or plugin file."""

    path: Path
    origin: str
    """``builtin`` or ``plugin:<name>``."""
    topics: tuple[str, ...] = ()


def builtin_knowledge_dir() -> Path:
    """Our own guides: inside the package in a wheel, at the repository top in a checkout."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_builtin" / "knowledge"
    return bundled if bundled.is_dir() else package.parent / "knowledge"


def builtin_files() -> list[ManagedFile]:
    return [ManagedFile(p, "builtin") for p in sorted(builtin_knowledge_dir().glob("*.md"))]


class KnowledgeBase:
    def __init__(
        self, settings: Settings, collection: str | None = None, *, embedder: Embedder | None = None
    ) -> None:
        """``embedder`` replaces the configured one; it must produce the same vector space."""
        name = collection or settings.default_collection
        if not COLLECTION_NAME.match(name):
            raise InvalidCollection(
                f"invalid collection name {name!r}: use 3-63 letters, digits, '.', '_' or '-',"
                " starting and ending with a letter or digit"
            )
        if name == MANIFEST_COLLECTION:
            raise InvalidCollection(f"the collection name {name!r} is reserved for Coach")
        self.settings = settings
        self.collection = name
        settings.ensure_dirs()
        self._root = settings.knowledge_dir
        if embedder is not None:
            self.use_embedder(embedder)

    def use_embedder(self, embedder: Embedder) -> None:
        """Embed with ``embedder`` instead of the configured one (same vector space)."""
        if embedder.name != self.embedder_name:
            raise ValueError(f"embedder {embedder.name} is not {self.embedder_name}")
        self.__dict__["embedder"] = embedder

    @property
    def is_default(self) -> bool:
        return self.collection == self.settings.default_collection

    @property
    def is_shared(self) -> bool:
        """True when the knowledge base lives on a Chroma server (``knowledge_url``)."""
        return self.settings.knowledge_url is not None

    @property
    def location(self) -> str:
        """Where the knowledge base lives, for messages: a path, or a URL and database."""
        if not self.is_shared:
            return str(self._root)
        from coach.knowledge.server import location

        return location(self.settings.knowledge_url, self.settings.knowledge_database)

    @property
    def embedder_name(self) -> str:
        from coach.knowledge.embedder import EMBEDDER_NAMES

        return EMBEDDER_NAMES[self.settings.embedding_backend]

    @cached_property
    def _server(self) -> ServerConnection:
        from coach.knowledge.server import connect

        assert self.settings.knowledge_url is not None
        return connect(self.settings.knowledge_url, self.settings.knowledge_database)

    def connect(self) -> None:
        """Reach the server now (release checked, database made if missing); embedded: nothing.

        Raises ``KnowledgeServerError`` (one line with the URL and the reason) when it fails.
        """
        if self.is_shared:
            _ = self.manifest

    @cached_property
    def manifest(self) -> Manifest | ServerManifest:
        if self.is_shared:
            from coach.knowledge.server import ServerManifest

            return ServerManifest(self._server)
        return Manifest(self._root / "manifest.sqlite3")

    @cached_property
    def store(self) -> VectorStore:
        from coach.knowledge.store import VectorStore

        if self.is_shared:
            return VectorStore.remote(self._server)
        return VectorStore.embedded(self._root / "chroma")

    @cached_property
    def embedder(self) -> Embedder:
        from coach.knowledge.embedder import load_embedder

        return load_embedder(self.settings.embedding_backend, self.settings.models_dir)

    @property
    def embedder_loaded(self) -> bool:
        return "embedder" in self.__dict__

    @contextlib.contextmanager
    def writing(self, observer: IngestObserver) -> Iterator[None]:
        """Hold the cross-process write lock; Chroma's embedded store takes one writer only.

        The lock is a file on this machine. With a Chroma server it keeps this machine's
        processes apart, not machines: one machine (the facilitator's) writes a shared server.
        """
        from filelock import FileLock, Timeout

        lock_path = self._root / "write.lock"
        lock = FileLock(lock_path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            observer.waiting_for_lock(lock_path)
            try:
                lock.acquire(timeout=self.settings.lock_timeout_s)
            except Timeout:
                raise KnowledgeBaseBusy(
                    f"another Coach process is writing the knowledge base ({lock_path});"
                    f" gave up after {self.settings.lock_timeout_s:g} s"
                ) from None
        try:
            self._recover()
            yield
        finally:
            lock.release()

    def _recover(self) -> None:
        """Remove chunks left by an ingest that was killed before it committed."""
        pending = self.manifest.pending(self.collection)
        if not pending:
            return
        committed = self.manifest.sources(self.collection)
        for source in pending:
            record = committed.get(source)
            self.store.delete_source(
                self.collection, source, keep_hash=record.content_hash if record else None
            )
            self.manifest.clear_pending(self.collection, source)

    def add(
        self,
        paths: list[Path],
        observer: IngestObserver | None = None,
        tags: Mapping[str, Tags] | None = None,
    ) -> IngestReport:
        observer = observer or IngestObserver()
        with self.writing(observer):
            report = ingest(self, paths, observer, tags)
            if report.added or report.updated:
                observer.status("Updating the keyword index")
                self._rebuild_lexical()
        return report

    def sync_managed(
        self, files: list[ManagedFile], observer: IngestObserver | None = None
    ) -> IngestReport | None:
        """Make the default collection hold exactly these built-in and plugin files.

        Cheap when nothing changed (hashes only, no model); files of a removed or disabled
        plugin are taken out; the user's own files are never touched.

        Managed files are keyed by their absolute path on the machine that syncs, so machines
        sharing a Chroma server would replace each other's copies on every start. With a server
        only an explicit `coach knowledge sync` (the facilitator's) calls this; starting the CLI
        or the TUI calls ``managed_gaps`` instead, which never writes.
        """
        if not self.is_default:
            return None
        from coach.knowledge.ingest import Tags, content_hash

        wanted = {str(f.path): Tags(f.origin, tuple(f.topics)) for f in files}
        committed = self.manifest.sources(self.collection)
        stale = [s for s, r in committed.items() if r.origin != "user" and s not in wanted]
        if stale:
            self.remove(stale)
        changed = [
            source
            for source, tags in wanted.items()
            if (record := committed.get(source)) is None
            or (record.embedder, record.origin, record.topics)
            != (self.embedder_name, tags.origin, tags.topics)
            or record.content_hash != content_hash(Path(source).read_bytes(), tags)
        ]
        return self.add([Path(s) for s in changed], observer, tags=wanted) if changed else None

    def managed_gaps(self, files: list[ManagedFile]) -> list[str]:
        """What the default collection lacks of ``files``, by origin, without writing anything.

        Compared by origin, not path: on a shared server the facilitator's machine pushed them
        from its own paths. Empty when nothing is missing (or this is not the default collection).
        """
        if not self.is_default:
            return []
        present = {r.origin for r in self.sources().values()}
        wanted = dict.fromkeys(f.origin for f in files)
        return [
            "the built-in guides" if origin == "builtin" else f"the knowledge of {origin}"
            for origin in wanted
            if origin not in present
        ]

    def remove(self, targets: list[str]) -> list[str]:
        """Remove sources by exact path, or every source under a folder path."""
        committed = self.manifest.sources(self.collection)
        chosen: list[str] = []
        for target in targets:
            path = os.path.abspath(os.path.expanduser(target))
            matches = [s for s in committed if s in (target, path) or s.startswith(path + os.sep)]
            chosen.extend(m for m in matches if m not in chosen)
        if not chosen:
            return []
        with self.writing(IngestObserver()):
            for source in chosen:
                self.manifest.mark_pending(self.collection, source)
                self.manifest.commit(self.collection, None, source)
                self.store.delete_source(self.collection, source)
                self.manifest.clear_pending(self.collection, source)
            self._rebuild_lexical()
        return chosen

    def sources(self) -> dict[str, SourceRecord]:
        return self.manifest.sources(self.collection)

    def collections(self) -> list[str]:
        return self.manifest.collections()

    def embedder_mismatch(self) -> list[str]:
        """Sources embedded by another backend than the configured one (re-add to refresh)."""
        return [s for s, r in self.sources().items() if r.embedder != self.embedder_name]

    # --- search -------------------------------------------------------------------------------

    def _lexical_dir(self) -> Path:
        """The local keyword-index cache; for a server, keyed by its URL and database too."""
        if not self.is_shared:
            return self._root / "lexical" / self.collection
        from coach.knowledge.server import stable_key

        server = stable_key(self.settings.knowledge_url, self.settings.knowledge_database)
        return self.settings.cache_dir / "lexical-server" / server / self.collection

    def _rebuild_lexical(self) -> LexicalIndex:
        from coach.knowledge.documents import indexed_text
        from coach.knowledge.lexical import LexicalIndex

        # The generation first: content read after it is at least as new, so an index is never
        # filed under a newer generation than its content (another process may commit meanwhile).
        generation = self.manifest.generation(self.collection)
        committed = self.manifest.sources(self.collection)
        ids: list[str] = []
        texts: list[str] = []
        topics: list[list[str]] = []
        for chunk_id, text, meta in self.store.iter_all(self.collection):
            record = committed.get(str(meta.get("source")))
            if record and record.content_hash == meta.get("content_hash"):
                ids.append(chunk_id)
                texts.append(indexed_text(str(meta["title"]), str(meta["heading"]), text))
                topics.append(list(record.topics))
        folder = self._lexical_dir() / f"generation-{generation}"
        index = LexicalIndex.build(ids, texts, topics, folder)
        for old in self._lexical_dir().glob("generation-*"):
            if old != folder:
                import shutil

                shutil.rmtree(old, ignore_errors=True)
        self._lexical = (generation, index)  # a long-lived process (the TUI) searches the new one
        return index

    _lexical: tuple[int | str, LexicalIndex] | None = None

    @property
    def lexical(self) -> LexicalIndex:
        """The keyword index of the current generation: reloaded or rebuilt after any commit,
        by this process or another one (another machine, with a server)."""
        from coach.knowledge.lexical import LexicalIndex

        generation = self.manifest.generation(self.collection)
        if self._lexical is not None and self._lexical[0] == generation:
            return self._lexical[1]
        index = LexicalIndex.load(self._lexical_dir() / f"generation-{generation}")
        if index is None:
            return self._rebuild_lexical()
        self._lexical = (generation, index)
        return index

    def search(
        self, query: str, top_k: int | None = None, topic: str | None = None
    ) -> list[SearchHit]:
        """Hybrid search: dense and BM25 rankings fused by weighted reciprocal rank.

        ``topic`` keeps only passages of files a plugin tagged with that topic id.
        """
        top_k = top_k or self.settings.top_k
        committed = self.manifest.sources(self.collection)
        if not committed or not query.strip():
            return []
        pool = max(top_k * 6, 40)
        vector = self.embedder.embed([query])[0]
        # Only chunks of committed versions count: a killed ingest may leave others behind, and
        # another process may have deleted chunks this process's index still knows (no metadata).
        dense = [
            (chunk_id, similarity)
            for chunk_id, similarity, meta in self.store.query(
                self.collection, vector, pool, where={topic_key(topic): True} if topic else None
            )
            if meta
            and (record := committed.get(str(meta.get("source"))))
            and record.content_hash == meta.get("content_hash")
        ]
        lexical = self.lexical.query(query, pool, topic)
        scores: dict[str, float] = {}
        for weight, ranking in ((DENSE_WEIGHT, dense), (LEXICAL_WEIGHT, lexical)):
            for rank, (chunk_id, _) in enumerate(ranking, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
        ranked = sorted(scores, key=lambda cid: scores[cid], reverse=True)
        found = self.store.get(self.collection, ranked[: top_k * 4])
        best = _diversified(ranked, found, top_k)
        similarity = dict(dense)
        hits = []
        for chunk_id in best:
            if chunk_id not in found:
                continue
            text, meta = found[chunk_id]
            hits.append(
                SearchHit(
                    chunk_id=chunk_id,
                    text=text,
                    source=str(meta["source"]),
                    title=str(meta["title"]),
                    heading=str(meta["heading"]),
                    start=int(meta["start"]),
                    end=int(meta["end"]),
                    score=scores[chunk_id],
                    similarity=similarity.get(chunk_id),
                )
            )
        return hits


def _diversified(ranked: list[str], found: dict[str, tuple[str, dict]], top_k: int) -> list[str]:
    """The best ``top_k`` ids with at most PER_SOURCE per document, topped up if too few."""
    chosen: list[str] = []
    per_source: dict[str, int] = {}
    for chunk_id in ranked:
        if chunk_id not in found:
            continue
        source = str(found[chunk_id][1].get("source"))
        if per_source.get(source, 0) < PER_SOURCE:
            per_source[source] = per_source.get(source, 0) + 1
            chosen.append(chunk_id)
        if len(chosen) == top_k:
            return chosen
    extra = [cid for cid in ranked if cid in found and cid not in chosen]
    return chosen + extra[: top_k - len(chosen)]
