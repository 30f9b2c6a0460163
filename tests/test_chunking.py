"""Chunking: structure-aware passages whose offsets always point into Document.text."""

from __future__ import annotations

import itertools
import random
import string
import time

import pytest

from coach.knowledge.chunking import HARD_LIMIT, MINIMUM, TARGET, chunk_document
from coach.knowledge.documents import Block, Chunk, Document
from coach.knowledge.loaders import join_paragraphs

HASH = "0123456789abcdef" * 4

Heading = tuple[str, ...]

# --- helpers -----------------------------------------------------------------------------------


def build_document(paragraphs: list[tuple[Heading, str]], title: str = "Guide") -> Document:
    """A document whose paragraphs are joined by blank lines, one block per paragraph."""
    text, blocks = join_paragraphs(paragraphs)
    return Document(text, title, blocks)


def single_block(text: str) -> Document:
    return Document(text, "One", [Block((), 0, len(text))])


def section_ids(document: Document) -> list[int]:
    """The section index of each block: consecutive blocks sharing a heading form one section."""
    ids: list[int] = []
    previous: Heading | None = None
    for block in document.blocks:
        if block.heading != previous:
            ids.append(ids[-1] + 1 if ids else 0)
        else:
            ids.append(ids[-1])
        previous = block.heading
    return ids


def section_portions(document: Document, chunk: Chunk) -> dict[int, int]:
    """How many characters of ``chunk`` come from each section's blocks."""
    portions: dict[int, int] = {}
    for section, block in zip(section_ids(document), document.blocks, strict=True):
        overlap = min(chunk.end, block.end) - max(chunk.start, block.start)
        if overlap > 0:
            portions[section] = portions.get(section, 0) + overlap
    return portions


def first_block_in(document: Document, chunk: Chunk) -> Block:
    return next(b for b in document.blocks if b.end > chunk.start and b.start < chunk.end)


def assert_invariants(document: Document, chunks: list[Chunk]) -> None:
    """What must hold for any document: exact offsets, size limit, ids, order, coverage."""
    assert chunks, "a document with blocks yields chunks"
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(document.text)
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert len(chunk.text) <= HARD_LIMIT
        assert chunk.heading == first_block_in(document, chunk).heading
        substantial = [n for n in section_portions(document, chunk).values() if n >= MINIMUM]
        assert len(substantial) <= 1, "only a small piece of another section may be merged in"
    assert len({c.id for c in chunks}) == len(chunks)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    for block in document.blocks:
        for offset in (block.start, block.end - 1):
            assert any(c.start <= offset < c.end for c in chunks), (block, offset)


# fmt: off
WORDS = [
    "the", "mentor", "mentee", "listens", "asks", "explains", "feedback", "session", "goal",
    "trust", "director", "junior", "senior", "team", "problem", "question", "idea", "meeting",
    "notes", "plan", "week", "change", "learn", "teach", "open", "honest", "careful",
]
# fmt: on


def prose_sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))).capitalize() + "."


def prose_document(rng: random.Random) -> Document:
    """Guide-like prose: a few sections of a few paragraphs of a few sentences."""
    paragraphs: list[tuple[Heading, str]] = []
    for section in range(rng.randint(3, 6)):
        heading = ("Guide", f"Section {section}")
        for _ in range(rng.randint(2, 6)):
            sentences = [prose_sentence(rng) for _ in range(rng.randint(2, 7))]
            paragraphs.append((heading, " ".join(sentences)))
    return build_document(paragraphs)


def random_word(rng: random.Random) -> str:
    if rng.random() < 0.01:  # a URL, a hash, a base64 blob: longer than any chunk
        return "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(900, 3500)))
    return "".join(rng.choice("aeioubcdfghklmnprst") for _ in range(rng.randint(1, 12)))


def random_sentence(rng: random.Random) -> str:
    words = " ".join(random_word(rng) for _ in range(rng.randint(1, 30)))
    return words.capitalize() + rng.choice([".", "!", "?", "", ";", ".)"])


def random_document(rng: random.Random) -> Document:
    """Random mixes of heading changes, paragraphs of 1-60 sentences and very long words."""
    paragraphs: list[tuple[Heading, str]] = []
    heading: Heading = ()
    while not paragraphs or rng.random() < 0.97:
        if rng.random() < 0.2:
            level = rng.randint(1, 3)
            heading = (*heading[: level - 1], f"Heading {rng.randint(0, 999)}")
            continue
        separator = rng.choice([" ", " ", "  ", "\n", " \n"])
        count = rng.randint(1, rng.choice([2, 10, 60]))
        paragraphs.append((heading, separator.join(random_sentence(rng) for _ in range(count))))
    return build_document(paragraphs)


# --- basic behaviour ---------------------------------------------------------------------------


def test_small_document_is_one_chunk_with_document_metadata():
    document = build_document([(("A",), "Short one."), (("A",), "Short two.")], title="Tiny")
    [chunk] = chunk_document(document, "/notes/tiny.md", HASH)
    assert chunk.text == "Short one.\n\nShort two."
    assert (chunk.start, chunk.end) == (0, len(document.text))
    assert chunk.title == "Tiny"
    assert chunk.heading == ("A",)
    assert chunk.source == "/notes/tiny.md"
    assert chunk.content_hash == HASH


def test_document_without_blocks_has_no_chunks():
    assert chunk_document(Document("", "Empty", []), "s", HASH) == []


@pytest.mark.parametrize("seed", range(5))
def test_realistic_prose_keeps_invariants(seed):
    document = prose_document(random.Random(seed))
    assert_invariants(document, chunk_document(document, "guide.md", HASH))


def test_realistic_prose_chunks_are_mostly_in_the_target_range():
    sizes = []
    for seed in range(5):
        document = prose_document(random.Random(seed))
        sizes += [len(c.text) for c in chunk_document(document, "guide.md", HASH)]
    in_range = [s for s in sizes if MINIMUM <= s <= TARGET + MINIMUM]
    assert len(sizes) > 30
    assert len(in_range) >= 0.9 * len(sizes), sorted(sizes)


def test_long_paragraph_is_split_at_sentence_ends():
    text = " ".join(f"Sentence number {i} is about listening well." for i in range(60))
    chunks = chunk_document(single_block(text), "s", HASH)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.text.startswith("Sentence number ")
        assert chunk.text.endswith("listening well.")


# --- sections ----------------------------------------------------------------------------------


def long_paragraph(label: str, sentences: int = 12) -> str:
    return " ".join(
        f"In {label} we discuss point {i} at some length here." for i in range(sentences)
    )


def test_large_sections_never_share_a_chunk():
    paragraphs = [
        (("Guide", name), long_paragraph(name))
        for name in ("Alpha", "Beta", "Gamma")
        for _ in "xyz"
    ]
    document = build_document(paragraphs)
    chunks = chunk_document(document, "s", HASH)
    for chunk in chunks:
        assert len(section_portions(document, chunk)) == 1
        name = chunk.heading[-1]
        assert chunk.text.count(f"In {name} ") == chunk.text.count("In ")
    assert {c.heading for c in chunks} == {("Guide", n) for n in ("Alpha", "Beta", "Gamma")}


def test_short_intro_merges_forward_and_keeps_its_heading():
    intro = "A short intro to the guide."
    body = long_paragraph("Details", sentences=30)
    document = build_document([(("Top",), intro), (("Top", "Details"), body)])
    chunks = chunk_document(document, "s", HASH)
    assert chunks[0].start == 0
    assert chunks[0].heading == ("Top",)
    assert chunks[0].end > len(intro) + 2, "the intro is not left as a tiny chunk of its own"
    assert len(chunks[0].text) <= TARGET + MINIMUM
    assert all(c.heading == ("Top", "Details") for c in chunks[1:])


def test_small_trailing_section_folds_into_the_previous_chunk():
    body = long_paragraph("Main", sentences=20)
    document = build_document([(("Main",), body), (("Coda",), "One last line.")])
    chunks = chunk_document(document, "s", HASH)
    assert chunks[-1].text.endswith("One last line.")
    assert chunks[-1].heading == ("Main",)
    assert all(len(c.text) >= MINIMUM for c in chunks)


def test_identical_passages_are_kept_once():
    boilerplate = long_paragraph("Legal", sentences=10)
    first, second = long_paragraph("First", 10), long_paragraph("Second", 10)
    paragraphs = [(("A",), boilerplate), (("B",), first), (("C",), boilerplate), (("D",), second)]
    chunks = chunk_document(build_document(paragraphs), "s", HASH)
    assert [c.text for c in chunks] == [boilerplate, first, second]
    assert [c.heading for c in chunks] == [("A",), ("B",), ("D",)]


# --- ids ---------------------------------------------------------------------------------------


def test_ids_are_stable_for_the_same_source_and_hash():
    document = prose_document(random.Random(1))
    first = [c.id for c in chunk_document(document, "notes/guide.md", HASH)]
    again = [c.id for c in chunk_document(prose_document(random.Random(1)), "notes/guide.md", HASH)]
    assert first == again
    assert len(set(first)) == len(first)


def test_ids_change_with_the_content_hash_and_the_source():
    document = prose_document(random.Random(1))
    base = {c.id for c in chunk_document(document, "notes/guide.md", HASH)}
    other_hash = {c.id for c in chunk_document(document, "notes/guide.md", "f" * 64)}
    other_source = {c.id for c in chunk_document(document, "notes/other.md", HASH)}
    assert base.isdisjoint(other_hash)
    assert base.isdisjoint(other_source)


def test_ids_survive_undecodable_file_names():
    document = build_document([((), "Text.")])
    [chunk] = chunk_document(document, "/notes/bad-\udcff-name.md", HASH)
    assert chunk.id


# --- overlap -----------------------------------------------------------------------------------


def test_neighbouring_chunks_of_one_paragraph_share_a_sentence():
    sentences = [f"Short sentence {i} about trust." for i in range(120)]
    text = " ".join(sentences)
    chunks = chunk_document(single_block(text), "s", HASH)
    assert len(chunks) >= 3
    for before, after in itertools.pairwise(chunks):
        shared = text[after.start : before.end]
        assert after.start < before.end, "consecutive chunks overlap"
        assert any(sentence in shared for sentence in sentences), shared


def test_no_overlap_across_sections():
    paragraphs = [(("A",), long_paragraph("A", 20)), (("B",), long_paragraph("B", 20))]
    document = build_document(paragraphs)
    chunks = chunk_document(document, "s", HASH)
    boundary = document.blocks[1].start
    for chunk in chunks:
        assert chunk.end <= boundary or chunk.start >= boundary


def test_closing_quote_after_a_sentence_end_stays_in_a_chunk():
    filler = "and then we talked about the plan for the coming weeks in some detail"
    text = " ".join(f'She said "point {i} {filler} {filler} {filler}."' for i in range(12))
    chunks = chunk_document(single_block(text), "s", HASH)
    assert len(chunks) > 1
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert missing == []


# --- pathological input ------------------------------------------------------------------------


def test_five_megabyte_single_line_is_fast_and_bounded():
    text = " ".join(f"word{i}" for i in range(700_000))[:5_000_000]
    started = time.perf_counter()
    chunks = chunk_document(single_block(text), "big.txt", HASH)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0
    assert max(len(c.text) for c in chunks) <= HARD_LIMIT
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)


def test_two_megabytes_without_spaces_is_bounded():
    text = "".join(str(i) for i in range(400_000))[:2_000_000]  # no spaces, no repeats
    document = single_block(text)
    chunks = chunk_document(document, "blob.txt", HASH)
    assert max(len(c.text) for c in chunks) <= HARD_LIMIT
    assert sum(len(c.text) for c in chunks) >= len(text)
    assert_invariants(document, chunks)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 8, 13, 21])
def test_random_documents_keep_invariants(seed):
    document = random_document(random.Random(seed))
    assert_invariants(document, chunk_document(document, f"random-{seed}.md", HASH))


def test_random_document_generator_exercises_the_hard_cases():
    """Guard the property test above: its documents contain long words and several sections."""
    documents = [random_document(random.Random(seed)) for seed in [0, 1, 2, 3, 5, 8, 13, 21]]
    assert any(len(w) > TARGET for d in documents for w in d.text.split())
    assert any(b.end - b.start > 3 * TARGET for d in documents for b in d.blocks)
    assert sum(len(set(section_ids(d))) > 1 for d in documents) >= 6
