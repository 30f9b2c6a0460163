"""Plain data passed between loaders, the chunker, the store and search."""

from __future__ import annotations

from dataclasses import dataclass, field


class Skip(Exception):
    """A file cannot be ingested; the message is the one-line reason shown to the user."""


@dataclass(frozen=True)
class Block:
    """A paragraph-sized piece of a document, located by offsets into ``Document.text``."""

    heading: tuple[str, ...]
    start: int
    end: int


@dataclass
class Document:
    """What a loader extracts from one file: its text and the structure found in it."""

    text: str
    title: str
    blocks: list[Block]
    notes: list[str] = field(default_factory=list)
    """Things the loader fixed up on the way (encoding guessed, NUL bytes dropped, ...)."""


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: what gets embedded, indexed and cited."""

    id: str
    text: str
    source: str
    title: str
    heading: tuple[str, ...]
    start: int
    end: int
    content_hash: str
    origin: str = "user"
    topics: tuple[str, ...] = ()

    @property
    def heading_text(self) -> str:
        return " > ".join(self.heading)

    def embedding_text(self) -> str:
        return indexed_text(self.title, self.heading_text, self.text)

    def metadata(self) -> dict[str, str | int | bool]:
        """Chroma metadata; each topic is its own boolean key so a search can filter on it."""
        return {
            "source": self.source,
            "title": self.title,
            "heading": self.heading_text,
            "start": self.start,
            "end": self.end,
            "content_hash": self.content_hash,
            "origin": self.origin,
            **{topic_key(topic): True for topic in self.topics},
        }


def topic_key(topic: str) -> str:
    return f"topic:{topic}"


def indexed_text(title: str, heading: str, text: str) -> str:
    """What the encoder and BM25 see: the passage prefixed by where it sits in its document.

    Headings carry much of a passage's meaning ("Handling defensiveness"), so they are indexed too.
    """
    if heading == title or heading.startswith(f"{title} > "):
        context = heading
    else:
        context = " > ".join(part for part in (title, heading) if part)
    return f"{context}\n{text}"
