"""The knowledge base end to end: real model, real Chroma, real files, temporary COACH_HOME.

Every test runs twice: on the embedded store and on a real Chroma server (``knowledge_backend``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coach.knowledge.base import builtin_files
from tests.conftest import embedded_only

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("knowledge_backend")]
DATA = Path(__file__).parent / "data"


def _consistent(kb) -> None:
    """Every chunk in Chroma belongs to its source's committed version; none is missing."""
    committed = kb.sources()
    stored = list(kb.store.iter_all(kb.collection))
    assert len(stored) == sum(r.chunks for r in committed.values())
    for _, _, meta in stored:
        assert committed[meta["source"]].content_hash == meta["content_hash"]
    assert kb.manifest.pending(kb.collection) == []


def test_add_search_update_remove_cycle(make_kb, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "async.md").write_text(
        "---\ntitle: Async meetings\n---\n# Async meetings\n\n## Written updates\n\n"
        "Replace the weekly status meeting with a written update posted by Monday noon. "
        "Everyone reads it when it suits them and replies in the thread.\n"
    )
    (docs / "posting.txt").write_text(
        "Drafting a first LinkedIn post: pick one lesson from this quarter, write three short "
        "paragraphs, add one question for readers, and post it on Tuesday morning.\n"
    )
    kb = make_kb("team-notes")
    report = kb.add([docs])
    assert sorted(Path(s).name for s in report.added) == ["async.md", "posting.txt"]
    assert report.skipped == []
    _consistent(kb)

    hits = kb.search("How do I write my first post on a professional network?", top_k=2)
    assert Path(hits[0].source).name == "posting.txt"
    record = hits[0].as_dict()
    assert {"text", "source", "score", "chunk_id", "title", "heading"} <= record.keys()
    assert record["source"] == str(docs / "posting.txt")
    heading_hit = kb.search("replace the status meeting with something written", top_k=1)[0]
    assert heading_hit.heading == "Async meetings > Written updates"

    again = kb.add([docs])
    assert len(again.unchanged) == 2 and not (again.added or again.updated)

    old_ids = {cid for cid, _, m in kb.store.iter_all(kb.collection) if "async" in m["source"]}
    (docs / "async.md").write_text("# Async meetings\n\nUse a shared document for decisions.\n")
    updated = make_kb("team-notes").add([docs])
    assert [Path(s).name for s in updated.updated] == ["async.md"]
    kb = make_kb("team-notes")
    new_ids = {cid for cid, _, m in kb.store.iter_all(kb.collection) if "async" in m["source"]}
    assert new_ids and not new_ids & old_ids
    _consistent(kb)
    assert "shared document" in kb.search("where are decisions written down", top_k=1)[0].text

    assert kb.remove([str(docs / "async.md")]) == [str(docs / "async.md")]
    assert list(kb.sources()) == [str(docs / "posting.txt")]
    assert all(Path(h.source).name == "posting.txt" for h in kb.search("meetings", top_k=5))
    _consistent(kb)
    assert kb.remove([str(docs)]) == [str(docs / "posting.txt")]
    assert kb.sources() == {} and kb.search("post") == []


def test_named_collection_holds_only_its_files_default_holds_guides(make_kb, tmp_path) -> None:
    from coach.knowledge.base import builtin_knowledge_dir

    (tmp_path / "one.md").write_text("# One\n\nA note about pairing schedules and calendars.\n")
    named = make_kb("mine")
    named.add([tmp_path / "one.md"])
    assert named.sync_managed(builtin_files()) is None
    assert list(named.sources()) == [str(tmp_path / "one.md")]

    default = make_kb()
    first = default.sync_managed(builtin_files())
    guides = sorted(str(p) for p in builtin_knowledge_dir().glob("*.md"))
    assert len(guides) >= 8
    assert sorted(first.added) == guides
    assert default.sync_managed(builtin_files()) is None, (
        "a second call must find everything current"
    )
    assert str(tmp_path / "one.md") not in default.sources()
    assert named.collections() == ["default", "mine"]


def test_bad_inputs_are_skipped_with_reasons_and_the_rest_ingested(make_kb, tmp_path) -> None:
    from fpdf import FPDF

    d = tmp_path / "mixed"
    d.mkdir()
    (d / "good.md").write_text("# Good\n\nAgree how feedback is given in the first session.\n")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (d / "empty.md").write_bytes(b"")
    (d / "blank.txt").write_text("  \n\t\n   \n")
    (d / "nul.txt").write_bytes(b"Notes from the check-in\x00 about calendars.\n")
    (d / "latin.txt").write_bytes("Caf\xe9 chat: \x93reverse\x94 mentoring.".encode("latin-1"))
    (d / "fake.pdf").write_text("this is not a PDF at all")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Upward feedback works best when it is specific.")
    full = bytes(pdf.output())
    (d / "corrupt.pdf").write_bytes(full[: len(full) // 3])
    (d / "real.pdf").write_bytes(full)
    (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    (d / "data.xyz").write_text("unknown format")
    (d / "dangling.md").symlink_to(d / "missing.md")
    (d / "loop-a.md").symlink_to(d / "loop-b.md")
    (d / "loop-b.md").symlink_to(d / "loop-a.md")
    (d / "long.txt").write_text("mentoring " * 300_000)  # one 3 MB line

    report = make_kb("mixed").add([d])
    skipped = {Path(s).name: reason for s, reason in report.skipped}
    ingested = sorted(Path(s).name for s in report.added)
    assert ingested == ["good.md", "latin.txt", "long.txt", "nul.txt", "real.pdf"]
    assert "binary" in skipped["binary.txt"]
    assert skipped["empty.md"] == "empty file"
    assert "whitespace" in skipped["blank.txt"]
    assert "not a PDF" in skipped["fake.pdf"]
    assert "PDF" in skipped["corrupt.pdf"]
    assert "binary" in skipped["image.png"] or "unsupported" in skipped["image.png"]
    assert "unsupported file type '.xyz'" in skipped["data.xyz"]
    assert "broken symlink" in skipped["dangling.md"]
    assert skipped["loop-a.md"] == skipped["loop-b.md"] == "symlink loop"
    assert all("\n" not in reason and "Traceback" not in reason for reason in skipped.values())
    notes = dict((Path(s).name, n) for s, n in report.notes)
    assert "NUL" in notes["nul.txt"] and "Windows-1252" in notes["latin.txt"]
    kb = make_kb("mixed")
    texts = [hit.text for hit in kb.search("café chat about reverse mentoring", top_k=3)]
    assert "Café chat: “reverse” mentoring." in texts
    assert kb.sources()[str(d / "long.txt")].chunks <= 2, "identical passages are stored once"


def test_unreadable_file_is_skipped(make_kb, tmp_path, monkeypatch, knowledge_backend) -> None:
    embedded_only(knowledge_backend, "reading a local file with no permission; no store involved")
    (tmp_path / "ok.md").write_text("# Ok\n\nFine.\n")
    locked = tmp_path / "locked.md"
    locked.write_text("# Locked\n\nSecret.\n")
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read itself fail as it would for a user
        real = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self.name == "locked.md":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = make_kb("locked").add([tmp_path])
    assert report.skipped == [(str(locked), "cannot read: Permission denied")]
    assert report.added == [str(tmp_path / "ok.md")]


def test_file_over_the_size_limit_is_skipped(make_kb, tmp_path) -> None:
    (tmp_path / "big.txt").write_text("word " * 300_000)
    report = make_kb("sizes", max_file_mb=1).add([tmp_path])
    assert report.skipped == [(str(tmp_path / "big.txt"), "larger than 1 MB (max_file_mb)")]


def test_retrieval_quality_on_paraphrased_questions(make_kb) -> None:
    """hit@5 over our guides with questions that avoid the guides' own wording."""
    questions = json.loads(
        (Path(__file__).parent / "data" / "retrieval_questions.json").read_text()
    )
    assert len(questions) >= 25
    kb = make_kb()
    kb.sync_managed(builtin_files())
    hits = [
        q["source"] in {Path(h.source).name for h in kb.search(q["question"], top_k=5)}
        for q in questions
    ]
    rate = sum(hits) / len(hits)
    print(f"\nretrieval hit@5 = {rate:.3f} over {len(hits)} paraphrased questions")
    assert rate >= 0.9


def test_onnx_int8_backend_matches_torch_and_switching_re_embeds(
    make_kb, torch_embedder, tmp_path, knowledge_backend
):
    embedded_only(
        knowledge_backend,
        "about the ONNX export made in the local data dir; the re-embedding it causes goes"
        " through the add/update path that both backends run in the other tests",
    )
    import numpy as np

    from coach.knowledge.base import KnowledgeBase
    from coach.knowledge.embedder import ONNX_INT8_FILE
    from coach.settings import load_settings

    texts = ["Agree the cadence in the first session.", "Post a short update on LinkedIn."]
    settings = load_settings(embedding_backend="onnx-int8")
    kb_onnx = KnowledgeBase(settings, "switch")
    vectors = kb_onnx.embedder.embed(texts)
    assert (settings.models_dir / ONNX_INT8_FILE).is_file()
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosine = (vectors * torch_embedder.embed(texts)).sum(axis=1)
    assert cosine.min() >= 0.98
    alone = kb_onnx.embedder.embed(texts[:1])[0]
    assert np.allclose(alone, vectors[0], atol=1e-5), "a vector must not depend on its batch"

    (tmp_path / "a.md").write_text("# Cadence\n\nMeet every three weeks for an hour.\n")
    assert len(make_kb("switch").add([tmp_path / "a.md"]).added) == 1
    switched = kb_onnx.add([tmp_path / "a.md"])
    assert switched.updated == [str(tmp_path / "a.md")], "another backend means re-embedding"
    assert kb_onnx.embedder_mismatch() == []
    assert make_kb("switch").embedder_mismatch() == [str(tmp_path / "a.md")]
    assert kb_onnx.search("how often should we meet", top_k=1)[0].source == str(tmp_path / "a.md")


def test_a_long_lived_knowledge_base_searches_what_was_added_since_by_keyword(
    make_kb, tmp_path
) -> None:
    """The TUI keeps one KnowledgeBase open: an add must refresh its keyword index too."""
    first = tmp_path / "first.md"
    first.write_text("# Calendars\n\nShared calendars make meeting times visible to everyone.\n")
    kb = make_kb("team-notes")
    kb.add([first])
    assert kb.lexical.query("zorblatt", n=5) == []  # the index is now cached in the object
    later = tmp_path / "later.md"
    later.write_text("# Tools\n\nThe zorblatt dashboard lists every open experiment.\n")
    kb.add([later])
    assert kb.lexical.query("zorblatt", n=5), "the cached keyword index missed the new file"
    kb.remove([str(later)])
    assert kb.lexical.query("zorblatt", n=5) == []
