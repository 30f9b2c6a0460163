"""BM25 over committed chunks (bm25s, sparse matrices), saved per manifest generation.

Dense retrieval finds paraphrases; BM25 finds the rare exact term (a tool's name, an acronym) that
embeddings blur. The index is rebuilt after each change to a collection and memory-mapped on load.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalIndex:
    def __init__(self, retriever: Any, ids: list[str], topics: list[list[str]]) -> None:
        self._retriever = retriever
        self.ids = ids
        self.topics = topics
        self._stemmer = _stemmer()

    @classmethod
    def build(
        cls, ids: list[str], texts: list[str], topics: list[list[str]], folder: Path
    ) -> LexicalIndex:
        """Index ``texts`` and save the index to ``folder`` (written aside, then renamed)."""
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever.index(tokens, show_progress=False)
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if texts:
            retriever.save(str(partial))
        (partial / "chunks.json").write_text(json.dumps({"ids": ids, "topics": topics}))
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
        return cls(retriever if texts else None, ids, topics)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when it is missing or unreadable (it is then rebuilt)."""
        import bm25s

        try:
            chunks = json.loads((folder / "chunks.json").read_text())
            retriever = bm25s.BM25.load(str(folder), mmap=True) if chunks["ids"] else None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(retriever, chunks["ids"], chunks["topics"])

    def query(self, text: str, n: int, topic: str | None = None) -> list[tuple[str, float]]:
        """Top ``n`` chunk ids with their BM25 scores, optionally only chunks of ``topic``."""
        import bm25s
        import numpy as np

        if self._retriever is None or not self.ids:
            return []
        tokens = bm25s.tokenize(
            [text], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        vocab = self._retriever.vocab_dict
        terms = [t for t in tokens[0] if t in vocab]
        if not terms:
            return []
        mask = None
        if topic is not None:
            mask = np.array([topic in chunk_topics for chunk_topics in self.topics], dtype=float)
        k = min(n, len(self.ids))
        indices, scores = self._retriever.retrieve(
            [terms], k=k, show_progress=False, n_threads=1, weight_mask=mask
        )
        return [
            (self.ids[int(i)], float(s))
            for i, s in zip(indices[0], scores[0], strict=True)
            if s > 0
        ]
