"""Loaders: bytes on disk to a structured Document, or Skip with a one-line reason."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fpdf import FPDF

from coach.knowledge import loaders
from coach.knowledge.documents import Block, Document, Skip
from coach.knowledge.loaders import load, register_loader

# --- helpers -----------------------------------------------------------------------------------


def block_texts(document: Document) -> list[str]:
    return [document.text[b.start : b.end] for b in document.blocks]


def headings(document: Document) -> list[tuple[str, ...]]:
    return [b.heading for b in document.blocks]


def skip_reason(name: str, data: bytes) -> str:
    with pytest.raises(Skip) as info:
        load(Path(name), data)
    reason = str(info.value)
    assert reason, "a Skip must carry a reason"
    assert "\n" not in reason, "the reason must be one line"
    return reason


def make_pdf(pages: list[str | None], title: str | None = None, compress: bool = True) -> bytes:
    """A real PDF from fpdf2: one page per entry, ``None`` for a blank page."""
    pdf = FPDF()
    pdf.set_compression(compress)
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def hand_built_pdf(content: bytes, stream_dict: bytes = b"") -> bytes:
    """A minimal well-formed one-page PDF (correct xref) whose page draws ``content``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), stream_dict) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


HELLO_STREAM = b"BT /F1 12 Tf 72 720 Td (Hello from a hand-built PDF) Tj ET"


def load_or_skip(name: str, data: bytes) -> Document | Skip:
    """Whatever ``load`` returns or raises as Skip; any other exception propagates."""
    try:
        return load(Path(name), data)
    except Skip as exc:
        return exc


# --- Markdown ----------------------------------------------------------------------------------

MARKDOWN = """\
---
title: Front Matter Title
tags: [mentoring]
---
# Top

Intro paragraph.

## Second

Two lines
of one paragraph.

### Third

Deep paragraph.

## Back Up

Sibling of second.

Setext Heading
==============

After the setext heading.

Setext Sub
----------

Under the setext sub.
"""


def test_markdown_title_comes_from_front_matter_not_first_heading():
    document = load(Path("guide.md"), MARKDOWN.encode())
    assert document.title == "Front Matter Title"
    assert document.notes == []


def test_markdown_blocks_carry_heading_paths():
    document = load(Path("guide.md"), MARKDOWN.encode())
    assert list(zip(headings(document), block_texts(document), strict=True)) == [
        (("Top",), "Intro paragraph."),
        (("Top", "Second"), "Two lines\nof one paragraph."),
        (("Top", "Second", "Third"), "Deep paragraph."),
        (("Top", "Back Up"), "Sibling of second."),
        (("Setext Heading",), "After the setext heading."),
        (("Setext Heading", "Setext Sub"), "Under the setext sub."),
    ]


def test_markdown_front_matter_is_not_a_block():
    document = load(Path("guide.md"), MARKDOWN.encode())
    assert not any("mentoring" in text for text in block_texts(document))


def test_markdown_block_offsets_point_at_the_block_in_the_source():
    document = load(Path("guide.md"), MARKDOWN.encode())
    assert document.text == MARKDOWN
    previous_end = 0
    for block in document.blocks:
        text = document.text[block.start : block.end]
        assert text == text.strip()
        assert MARKDOWN.find(text, previous_end) == block.start
        previous_end = block.end


def test_markdown_title_falls_back_to_first_h1_then_file_name():
    assert load(Path("x.md"), b"Intro.\n\n# The H1\n\nBody.\n").title == "The H1"
    assert load(Path("my-notes_file.md"), b"## Only h2\n\nBody.\n").title == "My notes file"


def test_markdown_invalid_front_matter_is_noted_and_document_still_loads():
    data = b"---\ntitle: [unclosed\n---\n# Heading\n\nThe body survives.\n"
    document = load(Path("broken.md"), data)
    assert len(document.notes) == 1
    assert "front matter ignored" in document.notes[0]
    assert document.title == "Heading"
    assert (("Heading",), "The body survives.") in list(
        zip(headings(document), block_texts(document), strict=True)
    )


def test_markdown_utf8_bom_before_front_matter():
    data = "\ufeff---\ntitle: With BOM\n---\nBody text.\n".encode()
    document = load(Path("bom.md"), data)
    assert document.title == "With BOM"
    assert block_texts(document) == ["Body text."]


def test_markdown_lists_quotes_code_and_tables_are_blocks():
    data = b"# A\n\n- one\n- two\n\n> quoted\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    document = load(Path("mixed.md"), data)
    assert block_texts(document) == [
        "- one\n- two",
        "> quoted",
        "```\ncode\n```",
        "| a | b |\n|---|---|\n| 1 | 2 |",
    ]
    assert set(headings(document)) == {("A",)}


def test_markdown_with_only_front_matter_is_skipped():
    assert "no text" in skip_reason("empty.md", b"---\ntitle: Nothing else\n---\n")


def test_markdown_crlf_with_front_matter_keeps_its_body():
    data = b"---\r\ntitle: Windows\r\n---\r\n# H\r\n\r\nFirst para.\r\n\r\nSecond para.\r\n"
    document = load(Path("windows.md"), data)
    assert document.title == "Windows"
    assert block_texts(document) == ["First para.", "Second para."]


def test_markdown_crlf_without_front_matter_has_exact_offsets():
    document = load(Path("windows.md"), b"# H\r\n\r\nFirst para.\r\n\r\nSecond para.\r\n")
    assert block_texts(document) == ["First para.", "Second para."]
    assert headings(document) == [("H",), ("H",)]


@pytest.mark.parametrize("separator", ["\u2028", "\x0c", "\x1c"], ids=["U+2028", "form-feed", "FS"])
def test_markdown_unusual_line_separators_inside_a_paragraph(separator):
    data = f"# A\n\nfirst{separator}paragraph\n\n## B\n\nsecond paragraph\n".encode()
    document = load(Path("odd.md"), data)
    assert list(zip(headings(document), block_texts(document), strict=True)) == [
        (("A",), f"first{separator}paragraph"),
        (("A", "B"), "second paragraph"),
    ]


# --- plain text and decoding -------------------------------------------------------------------


def test_text_paragraphs_are_separated_by_blank_lines():
    data = b"First line\nstill first.\n\n\n   Second.  \n \t\n\tThird"
    document = load(Path("notes.txt"), data)
    assert block_texts(document) == ["First line\nstill first.", "Second.", "Third"]
    assert headings(document) == [(), (), ()]
    assert document.title == "Notes"
    assert document.notes == []


def test_text_utf8_bom_is_stripped_silently():
    document = load(Path("bom.txt"), "\ufeffhéllo wörld".encode())
    assert document.text == "héllo wörld"
    assert document.notes == []


def test_text_cp1252_is_decoded_and_noted():
    document = load(Path("legacy.txt"), b"caf\xe9 \x93quoted\x94")
    assert document.text == "café “quoted”"
    assert document.notes == ["not UTF-8; decoded as Windows-1252"]


def test_text_invalid_in_cp1252_falls_back_to_latin1():
    document = load(Path("odd.txt"), b"\x81\x8d and words")
    assert document.text == "\x81\x8d and words"
    assert document.notes == ["not UTF-8; decoded as Latin-1"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_text_utf16_with_bom(encoding):
    data = "Mentoring notes — ünïcode.\n\nSecond.".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    document = load(Path("wide.txt"), data)
    assert block_texts(document) == ["Mentoring notes — ünïcode.", "Second."]
    assert document.notes == ["decoded as UTF-16"]


def test_text_utf16_marker_with_invalid_body_is_skipped():
    assert "UTF-16" in skip_reason("wide.txt", b"\xff\xfe\x00\xd8 ")


def test_text_stray_nul_bytes_are_dropped_and_noted():
    data = b"A normal sentence with a stray\x00 NUL byte in it, and another\x00 one here."
    document = load(Path("export.txt"), data)
    assert "\x00" not in document.text
    assert document.text == data.replace(b"\x00", b"").decode()
    assert document.notes == ["dropped 2 NUL byte(s)"]


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 100,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(7).randbytes(4000),
    ],
    ids=["all-bytes", "png"],
)
def test_binary_content_is_skipped(data):
    assert "binary" in skip_reason("image.txt", data)


def test_empty_file_is_skipped():
    assert skip_reason("empty.txt", b"") == "empty file"


@pytest.mark.parametrize("data", [b" ", b"\n\n\t \r\n"])
def test_whitespace_only_file_is_skipped(data):
    assert "whitespace" in skip_reason("blank.md", data)


def test_utf16_whitespace_only_is_skipped():
    reason = skip_reason("blank.txt", "   \n".encode("utf-16"))
    assert "whitespace" in reason or "no text" in reason


# --- suffixes and the registry -----------------------------------------------------------------


def test_unknown_extension_names_it_and_lists_supported():
    reason = skip_reason("slides.docx", b"some bytes")
    assert "'.docx'" in reason
    for suffix in (".md", ".txt", ".html", ".pdf"):
        assert suffix in reason


def test_file_without_extension_is_skipped():
    reason = skip_reason("README", b"plain words")
    assert "without an extension" in reason
    assert ".md" in reason


def test_suffix_lookup_is_case_insensitive():
    assert block_texts(load(Path("SHOUT.TXT"), b"Hello.")) == ["Hello."]


def test_register_loader_adds_a_new_suffix(monkeypatch):
    monkeypatch.setattr(loaders, "_LOADERS", dict(loaders._LOADERS))

    @register_loader(".Rev")
    def load_reversed(path: Path, data: bytes) -> Document:
        text = data.decode()[::-1]
        return Document(text, "Reversed", [Block(("R",), 0, len(text))])

    document = load(Path("thing.rev"), b"olleh")
    assert document.text == "hello"
    assert document.title == "Reversed"
    assert ".rev" in loaders.supported_suffixes()
    assert ".rev" in skip_reason("thing.unknown", b"x")


def test_loader_returning_no_blocks_becomes_skip(monkeypatch):
    monkeypatch.setattr(loaders, "_LOADERS", dict(loaders._LOADERS))
    register_loader(".none")(lambda path, data: Document("text", "T", []))
    assert "no text" in skip_reason("x.none", b"data")


# --- HTML --------------------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html>
<html><head><title>  Upward   Feedback </title>
<style>.secret-style { color: red }</style>
<script>var secretScript = 1;</script></head>
<body>
<nav>Home | secret-nav</nav>
<h1>Main</h1>
<p>Intro with <a href="#">a link</a> and <strong>bold</strong> words.</p>
<!-- secret-comment -->
<h2>Sub</h2>
<div>Loose <em>text</em><p>Paragraph in div</p></div>
<ul><li>one</li><li>two</li></ul>
<h3>Deep</h3><p>Deep paragraph <!-- inner-comment --> continues.</p>
<h2>Other</h2><p>Other paragraph.</p>
<footer>secret-footer</footer>
</body></html>"""


def test_html_title_comes_from_title_tag():
    assert load(Path("page.html"), PAGE).title == "Upward Feedback"


def test_html_title_falls_back_to_first_heading():
    assert load(Path("page.htm"), b"<h1>The Heading</h1><p>Text.</p>").title == "The Heading"


def test_html_headings_give_heading_paths():
    document = load(Path("page.html"), PAGE)
    assert list(zip(headings(document), block_texts(document), strict=True)) == [
        (("Main",), "Intro with a link and bold words."),
        (("Main", "Sub"), "Loose text"),
        (("Main", "Sub"), "Paragraph in div"),
        (("Main", "Sub"), "one"),
        (("Main", "Sub"), "two"),
        (("Main", "Sub", "Deep"), "Deep paragraph continues."),
        (("Main", "Other"), "Other paragraph."),
    ]


def test_html_drops_scripts_styles_navigation_and_comments():
    document = load(Path("page.html"), PAGE)
    assert "secret" not in document.text
    assert "comment" not in document.text


def test_html_block_offsets_slice_the_text():
    document = load(Path("page.html"), PAGE)
    texts = block_texts(document)
    assert all(text == text.strip() and text for text in texts)
    assert document.text == "\n\n".join(texts)


def test_html_without_visible_text_is_skipped():
    data = b"<html><head><title>T</title><script>x()</script></head><body></body></html>"
    assert "no text" in skip_reason("blank.html", data)


def test_html_without_body_tag_does_not_index_the_title():
    data = b"<!DOCTYPE html><html><head><title>Page Title</title></head><p>Body text.</p></html>"
    document = load(Path("nobody.html"), data)
    assert document.title == "Page Title"
    assert block_texts(document) == ["Body text."]


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_text_is_extracted_per_page():
    data = make_pdf(["Hello from the first page.", "And the second page speaks."])
    document = load(Path("two-pages.pdf"), data)
    assert headings(document) == [("Page 1",), ("Page 2",)]
    assert block_texts(document) == ["Hello from the first page.", "And the second page speaks."]
    assert document.title == "Two pages"


def test_pdf_title_comes_from_metadata():
    document = load(Path("x.pdf"), make_pdf(["Body."], title="Metadata Title"))
    assert document.title == "Metadata Title"


def test_hand_built_pdf_helper_produces_a_loadable_pdf():
    document = load(Path("hand.pdf"), hand_built_pdf(HELLO_STREAM))
    assert block_texts(document) == ["Hello from a hand-built PDF"]


def test_pdf_named_file_that_is_not_a_pdf_is_skipped():
    assert "not a PDF" in skip_reason("fake.pdf", b"Just some text pretending.")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + random.Random(3).randbytes(3000),
        b"%PDF-1.7\nthis is garbage, not objects\n%%EOF\n",
        make_pdf(["Some text " * 50, "More text " * 50])[:-600],
    ],
    ids=["random-body", "text-body", "truncated"],
)
def test_corrupt_pdf_is_skipped_with_reason(data):
    assert "corrupt PDF" in skip_reason("broken.pdf", data)


def test_real_pdf_cut_in_half_is_skipped():
    data = make_pdf(["Some text " * 50, "More text " * 50])
    assert "corrupt PDF" in skip_reason("half.pdf", data[: len(data) // 2])


@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "uncompressed"])
def test_truncated_pdf_never_raises_anything_but_skip(compress):
    data = make_pdf(["Page one words. " * 40, "Page two words. " * 40], compress=compress)
    for cut in range(8, len(data), max(1, len(data) // 60)):
        result = load_or_skip("cut.pdf", data[:cut])
        assert isinstance(result, (Document, Skip))


@pytest.mark.parametrize(
    "data",
    [
        hand_built_pdf(HELLO_STREAM, b" /Filter /NoSuchDecode"),
        hand_built_pdf(HELLO_STREAM, b" /Filter /Fl"),
        hand_built_pdf(HELLO_STREAM[:-3] + b"[" * 3000 + b"]" * 3000 + b" ET"),
    ],
    ids=["unknown-filter-NotImplementedError", "Fl-filter-DeprecationError", "RecursionError"],
)
def test_damaged_pdf_streams_are_skipped_not_raised(data):
    assert isinstance(load_or_skip("damaged.pdf", data), Skip)


def test_blank_page_pdf_has_no_extractable_text():
    assert "no extractable text" in skip_reason("blank.pdf", make_pdf([None, None]))


def test_image_only_pdf_has_no_extractable_text(tmp_path):
    from PIL import Image

    image = tmp_path / "scan.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(image)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(image), x=10, y=10, w=50)
    assert "no extractable text" in skip_reason("scan.pdf", bytes(pdf.output()))
