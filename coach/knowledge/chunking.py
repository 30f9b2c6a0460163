"""Structure-aware chunking: sections first, then paragraphs, then sentences, then words.

Chunks aim at 300-800 characters so that one passage answers one question, never cross a heading
unless a section is too small to stand alone, and overlap by one short sentence so that an answer
split across a boundary is still found. Offsets always point into ``Document.text``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from coach.knowledge.documents import Chunk, Document

TARGET = 800
MINIMUM = 300
HARD_LIMIT = 1500
OVERLAP = 200

# The gap after a sentence: closing quotes and brackets stay with the sentence they end.
_SENTENCE_GAP = re.compile(r"[.!?][\"'’”)\]]*(\s+)|(\n+)")


@dataclass(frozen=True)
class _Span:
    heading: tuple[str, ...]
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def chunk_document(document: Document, source: str, content_hash: str) -> list[Chunk]:
    """Cut ``document`` into chunks whose ids are stable for the same source and content."""
    text = document.text
    spans: list[_Span] = []
    for section in _sections(document):
        spans.extend(_pack(text, [u for b in section for u in _units(text, b)]))
    spans = _unique(text, _merge_small(spans))
    prefix = hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return [
        Chunk(
            id=f"{prefix}-{content_hash[:12]}-{index:05d}",
            text=text[span.start : span.end],
            source=source,
            title=document.title,
            heading=span.heading,
            start=span.start,
            end=span.end,
            content_hash=content_hash,
        )
        for index, span in enumerate(spans)
    ]


def _sections(document: Document) -> list[list[_Span]]:
    """Consecutive blocks that share a heading path."""
    sections: list[list[_Span]] = []
    for block in document.blocks:
        span = _Span(block.heading, block.start, block.end)
        if sections and sections[-1][-1].heading == block.heading:
            sections[-1].append(span)
        else:
            sections.append([span])
    return sections


def _units(text: str, block: _Span) -> list[_Span]:
    """A block small enough to keep whole, else its sentences, else word-bounded pieces."""
    if block.size <= TARGET:
        return [block]
    units: list[_Span] = []
    start = block.start
    for match in _SENTENCE_GAP.finditer(text, block.start, block.end):
        gap = match.start(1) if match.group(1) is not None else match.start(2)
        if gap > start:
            units.extend(_split_long(text, _Span(block.heading, start, gap)))
        start = match.end()
    if start < block.end:
        units.extend(_split_long(text, _Span(block.heading, start, block.end)))
    return units


def _split_long(text: str, span: _Span) -> list[_Span]:
    """Cut a sentence longer than TARGET at the last whitespace before the limit."""
    pieces: list[_Span] = []
    start = span.start
    while span.end - start > TARGET:
        limit = start + TARGET
        cut = text.rfind(" ", start + TARGET // 2, limit)
        cut = cut if cut > start else limit
        pieces.append(_Span(span.heading, start, cut))
        start = cut
        while start < span.end and text[start].isspace():
            start += 1
    if start < span.end:
        pieces.append(_Span(span.heading, start, span.end))
    return pieces


def _pack(text: str, units: list[_Span]) -> list[_Span]:
    """Greedily pack units of one section into chunks of at most TARGET characters.

    A new chunk starts with the previous chunk's last unit when that unit is one short sentence,
    which gives the small overlap between neighbours.
    """
    chunks: list[_Span] = []
    first = last = None
    for index, unit in enumerate(units):
        if first is not None and unit.end - first.start > TARGET:
            chunks.append(_Span(first.heading, first.start, last.end))
            previous = units[index - 1]
            overlaps = previous.size <= OVERLAP and unit.end - previous.start <= TARGET
            first = previous if overlaps and previous is not first else unit
        elif first is None:
            first = unit
        last = unit
    if first is not None:
        chunks.append(_Span(first.heading, first.start, last.end))
    return chunks


def _merge_small(spans: list[_Span]) -> list[_Span]:
    """Fold a chunk under MINIMUM into a neighbour (a section's short intro, a trailing line).

    The merged chunk may exceed TARGET by up to MINIMUM, which stays well under HARD_LIMIT.
    """
    limit = TARGET + MINIMUM
    merged: list[_Span] = []
    for span in spans:
        if merged and merged[-1].size < MINIMUM and span.end - merged[-1].start <= limit:
            previous = merged.pop()
            span = _Span(previous.heading, previous.start, span.end)
        elif merged and span.size < MINIMUM and span.end - merged[-1].start <= limit:
            span = _Span(merged[-1].heading, merged.pop().start, span.end)
        merged.append(span)
    return merged


def _unique(text: str, spans: list[_Span]) -> list[_Span]:
    """Drop repeats of an identical passage (boilerplate, a repeated line): one copy answers."""
    seen: set[str] = set()
    unique = []
    for span in spans:
        passage = text[span.start : span.end]
        if passage not in seen:
            seen.add(passage)
            unique.append(span)
    return unique
