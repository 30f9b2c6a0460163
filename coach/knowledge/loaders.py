"""File loaders: bytes on disk to a structured ``Document``.

Loaders are looked up by file suffix in a registry so that plugins can add file types later. Every
problem a user's file can have becomes ``Skip`` with a one-line reason, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from coach.knowledge.documents import Block, Document, Skip

Loader = Callable[[Path, bytes], Document]

_LOADERS: dict[str, Loader] = {}

_FRONT_MATTER_FENCE = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)
_PARAGRAPH = re.compile(r"\S(?:.*?\S)??(?=\s*\n\s*\n|\s*\Z)", re.DOTALL)
# Bytes that never occur in text files (everything below 0x20 except \t \n \f \r and ESC).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def register_loader(*suffixes: str) -> Callable[[Loader], Loader]:
    """Register a loader for file suffixes such as ``.md``; later registrations win."""

    def decorate(loader: Loader) -> Loader:
        for suffix in suffixes:
            _LOADERS[suffix.lower()] = loader
        return loader

    return decorate


def supported_suffixes() -> list[str]:
    return sorted(_LOADERS)


def load(path: Path, data: bytes) -> Document:
    """Load ``data`` read from ``path`` with the loader for its suffix."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        kind = f"'{path.suffix}'" if path.suffix else "without an extension"
        raise Skip(f"unsupported file type {kind} (supported: {', '.join(supported_suffixes())})")
    if not data.strip():
        raise Skip("empty file" if not data else "contains only whitespace")
    document = loader(path, data)
    if not document.blocks:
        raise Skip("no text could be extracted")
    return document


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes that should be text: UTF-8 first, then cp1252, then latin-1 (never fails).

    Files with a few stray NUL bytes (a bad export) keep their text; files that look binary are
    skipped, since their "text" would only pollute search results.
    """
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked(data.decode("utf-16")), ["decoded as UTF-16"]
        except UnicodeDecodeError:
            raise Skip("starts with a UTF-16 marker but is not valid UTF-16") from None
    sample = data[:65536]
    if sum(sample.count(bytes([b])) for b in _BINARY_BYTES) > len(sample) * 0.05:
        raise Skip("binary content, not text")
    if b"\x00" in data:
        nul_count = data.count(b"\x00")
        notes.append(f"dropped {nul_count} NUL byte(s)")
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            notes.append("not UTF-8; decoded as Windows-1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append("not UTF-8; decoded as Latin-1")
    return _checked(text), notes


def _checked(text: str) -> str:
    """Newlines normalised to \\n (offsets then mean the same on every platform)."""
    if not text.strip():
        raise Skip("contains only whitespace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraph_blocks(text: str, heading: tuple[str, ...], offset: int = 0) -> list[Block]:
    """Blocks for the paragraphs (separated by blank lines) of ``text``."""
    return [Block(heading, offset + m.start(), offset + m.end()) for m in _PARAGRAPH.finditer(text)]


def _title_from_path(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


@register_loader(".txt", ".text")
def load_text(path: Path, data: bytes) -> Document:
    text, notes = decode_text(data)
    return Document(text, _title_from_path(path), paragraph_blocks(text, ()), notes)


@register_loader(".md", ".markdown")
def load_markdown(path: Path, data: bytes) -> Document:
    """Markdown with optional YAML front matter; ATX and setext headings give the heading path."""
    import frontmatter
    from markdown_it import MarkdownIt

    text, notes = decode_text(data)
    title = ""
    body_start = 0
    fences = list(_FRONT_MATTER_FENCE.finditer(text, 0, 65536))
    if len(fences) >= 2 and not text[: fences[0].start()].strip():
        try:
            metadata, _ = frontmatter.parse(text[: fences[1].end()])
        except Exception as exc:  # the YAML library raises many types; all mean "bad front matter"
            notes.append(f"front matter ignored ({type(exc).__name__})")
        else:
            title = str(metadata.get("title") or "")
            body_start = fences[1].end()
    body = text[body_start:]
    line_starts = [0, *(m.end() for m in re.finditer("\n", body)), len(body)]

    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        if token.type == "heading_open":
            level = int(token.tag[1])
            name = tokens[i + 1].content.strip()
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, name)]
            if level == 1 and not title:
                title = name
            continue
        first, last = token.map
        start, end = (
            line_starts[min(first, len(line_starts) - 1)],
            line_starts[min(last, len(line_starts) - 1)],
        )
        segment = body[start:end]
        stripped = segment.strip()
        if stripped:
            lead = len(segment) - len(segment.lstrip())
            start += lead
            blocks.append(
                Block(
                    tuple(h for _, h in stack),
                    body_start + start,
                    body_start + start + len(stripped),
                )
            )
    return Document(text, title or _title_from_path(path), blocks, notes)


_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption", "caption"}
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_INLINE = {
    "a",
    "abbr",
    "b",
    "br",
    "code",
    "em",
    "i",
    "img",
    "kbd",
    "label",
    "mark",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
}
_HTML_DROP = ["head", "script", "style", "noscript", "template", "nav", "svg", "form"]


@register_loader(".html", ".htm", ".xhtml")
def load_html(path: Path, data: bytes) -> Document:
    """HTML pages: visible text by block element, headings give the heading path."""
    from bs4 import BeautifulSoup, NavigableString, Tag

    markup, notes = decode_text(data)
    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for tag in soup(["header", "footer"]):  # page chrome, unless it belongs to the article
        if not tag.find_parent(["article", "main", "section"]):
            tag.decompose()
    pieces: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[int, str]] = []

    def flush(loose: list[str]) -> None:
        if loose:
            pieces.append((tuple(h for _, h in stack), " ".join(loose)))
            loose.clear()

    def walk(node: Tag) -> None:
        nonlocal stack
        loose: list[str] = []
        for child in node.children:
            if type(child) is NavigableString:  # not comments, doctypes or CDATA
                if child.strip():
                    loose.append(" ".join(child.split()))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            text = " ".join(child.get_text(" ").split())
            if name in _HTML_INLINE:
                if text:
                    loose.append(text)
                continue
            flush(loose)
            if name in _HTML_HEADINGS:
                level = _HTML_HEADINGS[name]
                stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, text)]
            elif name in _HTML_BLOCKS or not child.find(True):
                if text:
                    pieces.append((tuple(h for _, h in stack), text))
            else:
                walk(child)
        flush(loose)

    root = soup.body or soup
    walk(root)
    first_heading = next((h for heading, _ in pieces for h in heading[:1]), "")
    text, blocks = join_paragraphs(pieces)
    return Document(text, title or first_heading or _title_from_path(path), blocks, notes)


@register_loader(".pdf")
def load_pdf(path: Path, data: bytes) -> Document:
    """PDF text by page; pages give the heading path since PDFs keep no reliable headings."""
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip().startswith(b"%PDF-"):
        raise Skip("not a PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Skip("encrypted PDF (password required)")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except Skip:
        raise
    except Exception as exc:  # pypdf meets untrusted bytes: any failure means a broken file
        raise Skip(f"corrupt PDF: {type(exc).__name__}: {exc}".splitlines()[0][:160]) from None
    pieces: list[tuple[tuple[str, ...], str]] = []
    for number, page_text in enumerate(pages, start=1):
        for paragraph in re.split(r"\n\s*\n", page_text):
            if paragraph.strip():
                pieces.append(((f"Page {number}",), " ".join(paragraph.split())))
    if not pieces:
        raise Skip("PDF has no extractable text (scanned images?)")
    text, blocks = join_paragraphs(pieces)
    return Document(text, str(meta_title).strip() or _title_from_path(path), blocks)


def join_paragraphs(pieces: list[tuple[tuple[str, ...], str]]) -> tuple[str, list[Block]]:
    """Join extracted paragraphs into one text, keeping each paragraph's offsets."""
    parts: list[str] = []
    blocks: list[Block] = []
    position = 0
    for heading, piece in pieces:
        blocks.append(Block(heading, position, position + len(piece)))
        parts.append(piece)
        position += len(piece) + 2
    return "\n\n".join(parts), blocks
