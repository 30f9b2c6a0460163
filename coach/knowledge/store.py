"""Chroma, embedded: one persistent client under the data dir, one collection per name.

Vectors are always computed by us and passed in; the collection still carries our own embedding
function so that Chroma never falls back to its default one, which would download a model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.knowledge.documents import Chunk

if TYPE_CHECKING:
    import numpy as np


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


class VectorStore:
    def __init__(self, path: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._client = chromadb.PersistentClient(
            path=str(path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collections: dict[str, Any] = {}

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=_embedding_function(),
            )
        return self._collections[name]

    @property
    def max_batch(self) -> int:
        return self._client.get_max_batch_size()

    def upsert(self, collection: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        target = self._collection(collection)
        step = self.max_batch
        for begin in range(0, len(chunks), step):
            part = chunks[begin : begin + step]
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
        self._collection(collection).delete(where=where)

    def query(
        self, collection: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float, dict]]:
        """Nearest chunks as (id, cosine similarity, metadata), optionally filtered."""
        target = self._collection(collection)
        result = target.query(
            query_embeddings=[vector], n_results=n, where=where, include=["metadatas", "distances"]
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
        result = self._collection(collection).get(ids=ids, include=["documents", "metadatas"])
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
            result = target.get(limit=page, offset=offset, include=["documents", "metadatas"])
            if not result["ids"]:
                return
            yield from zip(result["ids"], result["documents"], result["metadatas"], strict=True)
            offset += len(result["ids"])

    def count(self, collection: str) -> int:
        return self._collection(collection).count()
