"""Chroma: one client, one collection per name; embedded under the data dir by default, or a
Chroma server when ``knowledge_url`` is set (see ``coach.knowledge.server``).

Vectors are always computed by us and passed in; the collection still carries our own embedding
function so that Chroma never falls back to its default one, which would download a model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.knowledge.documents import Chunk

if TYPE_CHECKING:
    import numpy as np

    from coach.knowledge.server import ServerConnection
    from coach.probe import Probe
    from coach.settings import Settings


def _embedding_function_class() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class CoachEmbeddingFunction(EmbeddingFunction[Documents]):
        """Refuses to embed inside Chroma: Coach embeds before writing and before querying."""

        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            raise RuntimeError("Coach passes its own vectors; Chroma must not embed")

        @staticmethod
        def name() -> str:
            return "coach-minilm"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> CoachEmbeddingFunction:
            return CoachEmbeddingFunction()

        def default_space(self) -> str:
            return "cosine"

    return CoachEmbeddingFunction


_EF_CLASS: type | None = None


def _embedding_function() -> Any:
    global _EF_CLASS
    if _EF_CLASS is None:
        _EF_CLASS = _embedding_function_class()
    return _EF_CLASS()


def _embedded_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    )


class VectorStore:
    def __init__(
        self, client: Any, guard: Callable[[], contextlib.AbstractContextManager[None]]
    ) -> None:
        """Use ``embedded`` or ``remote``; ``guard`` wraps every call to the client."""
        self._client = client
        self._guard = guard
        self._collections: dict[str, Any] = {}

    @classmethod
    def embedded(cls, path: Path) -> VectorStore:
        return cls(_embedded_client(path), contextlib.nullcontext)

    @classmethod
    def remote(cls, connection: ServerConnection) -> VectorStore:
        """A store on a Chroma server; a failed request raises KnowledgeServerUnavailable."""
        from coach.knowledge.server import reachable

        return cls(connection.client, lambda: reachable(connection.url))

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            with self._guard():
                self._collections[name] = self._client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=_embedding_function(),
                )
        return self._collections[name]

    @property
    def max_batch(self) -> int:
        with self._guard():
            return self._client.get_max_batch_size()

    def upsert(self, collection: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        target = self._collection(collection)
        step = self.max_batch
        for begin in range(0, len(chunks), step):
            part = chunks[begin : begin + step]
            with self._guard():
                target.upsert(
                    ids=[c.id for c in part],
                    embeddings=vectors[begin : begin + step],
                    documents=[c.text for c in part],
                    metadatas=[c.metadata() for c in part],
                )

    def delete_source(self, collection: str, source: str, keep_hash: str | None = None) -> None:
        """Delete the chunks of ``source``, except those of version ``keep_hash``."""
        where: dict[str, Any] = {"source": source}
        if keep_hash is not None:
            where = {"$and": [where, {"content_hash": {"$ne": keep_hash}}]}
        target = self._collection(collection)
        with self._guard():
            target.delete(where=where)

    def query(
        self, collection: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float, dict]]:
        """Nearest chunks as (id, cosine similarity, metadata), optionally filtered."""
        target = self._collection(collection)
        with self._guard():
            result = target.query(
                query_embeddings=[vector],
                n_results=n,
                where=where,
                include=["metadatas", "distances"],
            )
        return [
            (chunk_id, 1.0 - distance, metadata)
            for chunk_id, distance, metadata in zip(
                result["ids"][0], result["distances"][0], result["metadatas"][0], strict=True
            )
        ]

    def get(self, collection: str, ids: list[str]) -> dict[str, tuple[str, dict]]:
        if not ids:
            return {}
        target = self._collection(collection)
        with self._guard():
            result = target.get(ids=ids, include=["documents", "metadatas"])
        return {
            chunk_id: (document, metadata)
            for chunk_id, document, metadata in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        }

    def iter_all(self, collection: str, page: int = 5000) -> Iterator[tuple[str, str, dict]]:
        """Every chunk as (id, text, metadata), paged to bound memory."""
        target = self._collection(collection)
        offset = 0
        while True:
            with self._guard():
                result = target.get(limit=page, offset=offset, include=["documents", "metadatas"])
            if not result["ids"]:
                return
            yield from zip(result["ids"], result["documents"], result["metadatas"], strict=True)
            offset += len(result["ids"])

    def count(self, collection: str) -> int:
        target = self._collection(collection)
        with self._guard():
            return target.count()


def _chunk_counts(client: Any, skip: str | None = None) -> tuple[int, int]:
    """How many collections (not counting ``skip``) and chunks a client's database holds."""
    collections = [c for c in client.list_collections() if c.name != skip]
    return len(collections), sum(c.count() for c in collections)


def probe_knowledge(settings: Settings) -> Probe:
    """What `coach doctor` shows for the knowledge store: which, where, versions and size.

    Never loads the embedding model and never creates anything: an embedded store that does not
    exist yet is reported as such, and a missing database on a server is left missing.
    """
    from coach.knowledge.server import client_version
    from coach.probe import Probe

    mine = client_version()
    if settings.knowledge_url is None:
        path = settings.knowledge_dir / "chroma"
        if not (path / "chroma.sqlite3").is_file():
            return Probe(
                "knowledge base",
                "chroma (embedded)",
                str(path),
                True,
                f"chromadb {mine}; no store yet (made on first use)",
            )
        try:
            collections, chunks = _chunk_counts(_embedded_client(path))
        except Exception as exc:
            detail = f"chromadb {mine}; cannot open: {' '.join(str(exc).split())[:200]}"
            return Probe("knowledge base", "chroma (embedded)", str(path), False, detail)
        return Probe(
            "knowledge base",
            "chroma (embedded)",
            str(path),
            True,
            f"chromadb {mine}; {collections} collection(s), {chunks} chunks",
        )

    from coach.knowledge.server import (
        MANIFEST_COLLECTION,
        KnowledgeServerError,
        connect,
        location,
        reachable,
    )

    url, database = settings.knowledge_url, settings.knowledge_database
    where = location(url, database)
    try:
        connection = connect(url, database, create=False)
        versions = f"server {connection.server_version}, client {mine}"
        if connection.client is None:
            detail = f"{versions}; database {database!r} does not exist yet (made on first use)"
            return Probe("knowledge base", "chroma server", where, True, detail)
        with reachable(url):
            collections, chunks = _chunk_counts(connection.client, skip=MANIFEST_COLLECTION)
    except KnowledgeServerError as exc:
        return Probe("knowledge base", "chroma server", where, False, str(exc))
    detail = f"{versions}; {collections} collection(s), {chunks} chunks"
    return Probe("knowledge base", "chroma server", where, True, detail)
