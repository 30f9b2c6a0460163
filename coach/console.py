"""Rich rendering for the CLI: ingest progress and summaries, search hits, source lists."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from coach.knowledge.ingest import IngestObserver

if TYPE_CHECKING:
    from coach.knowledge.base import SearchHit
    from coach.knowledge.ingest import IngestReport
    from coach.knowledge.manifest import SourceRecord
    from coach.plugins.models import Topic

out = Console()
err = Console(stderr=True)


class IngestProgress(IngestObserver):
    """A progress bar on stderr: files done, chunks embedded and chunks per second."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TextColumn("{task.fields[chunks]} chunks  {task.fields[rate]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._task = self._progress.add_task(description, total=None, chunks=0, rate="")
        self._chunks = self._chunks_before = 0
        self._began = time.perf_counter()

    def __enter__(self) -> IngestProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def waiting_for_lock(self, lock_path: Path) -> None:
        err.print(f"[yellow]Waiting for another Coach process to finish writing ({lock_path})...")

    def started(self, files: int) -> None:
        self._progress.start()
        self._began = time.perf_counter()
        self._progress.update(self._task, total=files, completed=0)

    def file_done(self, source: str, outcome: str) -> None:
        self._progress.advance(self._task)

    def embedded(self, chunks: int) -> None:
        self._chunks += chunks
        done = self._chunks - self._chunks_before
        rate = done / max(time.perf_counter() - self._began, 1e-6)
        self._progress.update(self._task, chunks=self._chunks, rate=f"{rate:.0f}/s")

    def status(self, text: str | None) -> None:
        if text is None:  # a slow step ended: chunks/s counts from here
            self._began, self._chunks_before = time.perf_counter(), self._chunks
        self._progress.update(self._task, description=text or self._description)


def print_ingest_report(report: IngestReport, brief: bool = False) -> None:
    counts = (
        f"[green]{len(report.added)} added[/], [cyan]{len(report.updated)} updated[/], "
        f"{len(report.unchanged)} unchanged, [yellow]{len(report.skipped)} skipped[/]"
    )
    err.print(
        f"Collection [bold]{escape(report.collection)}[/]: {counts} "
        f"({report.chunks} chunks in {report.seconds:.1f} s)"
    )
    if brief:
        return
    for source, reason in report.skipped:
        err.print(f"  [yellow]skipped[/] {escape(source)}: {escape(reason)}")
    for source, note in report.notes:
        err.print(f"  [dim]note[/]    {escape(source)}: {escape(note)}")


def print_hits(query: str, hits: list[SearchHit]) -> None:
    if not hits:
        out.print("No passage matches that query.")
        return
    out.print(f"[bold]Best passages for:[/] {escape(query)}\n")
    for rank, hit in enumerate(hits, start=1):
        where = hit.heading if hit.heading.startswith(hit.title) else f"{hit.title} › {hit.heading}"
        out.print(f"[bold cyan]{rank}. {escape(where.replace(' > ', ' › '))}[/]")
        out.print(f"   [dim]{escape(_shown_path(hit.source))} · score {hit.score:.4f}[/]")
        text = " ".join(hit.text.split())
        out.print(f"   {escape(text[:480])}{'…' if len(text) > 480 else ''}\n")


def _shown_path(source: str) -> str:
    """Paths under the working directory are shown relative to it (they are shorter to read)."""
    relative = os.path.relpath(source)
    return source if relative.startswith("..") else relative


def print_sources(
    collection: str, sources: dict[str, SourceRecord], collections: list[str]
) -> None:
    table = Table(title=f"Collection '{collection}'", title_justify="left")
    table.add_column("Source", overflow="fold")
    table.add_column("Title")
    table.add_column("Chunks", justify="right")
    table.add_column("Origin")
    table.add_column("Added")
    for record in sources.values():
        added = datetime.fromtimestamp(record.ingested_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            escape(_shown_path(record.source)),
            escape(record.title),
            str(record.chunks),
            escape(record.origin),
            added,
        )
    out.print(table)
    total = sum(r.chunks for r in sources.values())
    out.print(f"{len(sources)} documents, {total} chunks")
    others = [c for c in collections if c != collection]
    if others:
        out.print(f"Other collections: {', '.join(others)}")


def topic_markdown(topic: Topic, plugin: str) -> str:
    """A topic as Markdown: what `coach topics show` prints."""

    def md(text: str) -> str:  # plugin text is plain: "<Team>" must not vanish as an HTML tag
        return text.replace("\\", "\\\\").replace("<", "\\<").replace("*", "\\*")

    lines = [f"# {md(topic.title)}", "", f"*{topic.id} · plugin {plugin}*", ""]
    lines += [md(topic.summary), ""]

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.extend([f"## {title}", "", *(f"- {item}" for item in items), ""])

    section("Objectives", [md(item) for item in topic.objectives])
    section("Icebreakers", [md(item) for item in topic.icebreakers])
    section("Discussion questions", [md(item) for item in topic.questions])
    for exercise in topic.exercises:
        lines += [f"## Exercise: {md(exercise.title)} ({exercise.minutes} min)", ""]
        lines += [md(exercise.goal), ""]
        if exercise.materials:
            lines += [f"*Have ready:* {md('; '.join(exercise.materials))}", ""]
        lines += [f"{n}. {md(step)}" for n, step in enumerate(exercise.steps, start=1)]
        lines.append("")
    section("Tips for the mentor", [md(item) for item in topic.mentor_tips])
    section("Tips for the mentee", [md(item) for item in topic.mentee_tips])
    section(
        "Resources",
        [
            (f"[{md(r.title)}]({r.url})" if r.url else md(r.title))
            + (f": {md(r.note)}" if r.note else "")
            for r in topic.resources
        ],
    )
    return "\n".join(lines)
