"""Knowledge: search the knowledge base with sources, and add a folder of documents to it.

Search and ingest run in workers (the embedding model takes a moment per query, an ingest
minutes); ingest progress crosses from the worker (and the knowledge base's writer thread) to
the progress bar with ``call_from_thread``. Until the knowledge base has loaded the screen says
why it cannot search yet, and comes alive when the ``knowledge`` resource is ready.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Markdown,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from coach.knowledge.ingest import IngestObserver
from coach.ui.screens.base import CoachScreen, error_text

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase, SearchHit
    from coach.knowledge.ingest import IngestReport
    from coach.ui.context import Resource


@dataclass(frozen=True)
class Found:
    """A search hit with its source as a reader would name it."""

    hit: SearchHit
    source: str


def shown_source(source: str, origin: str) -> str:
    """``guide coaching.md``, ``plugin ai-pack: prompts.md`` or the user's path with ``~``."""
    name = Path(source).name
    if origin == "builtin":
        return f"guide {name}"
    if origin.startswith("plugin:"):
        return f"plugin {origin.removeprefix('plugin:')}: {name}"
    home = str(Path.home())
    return "~" + source[len(home) :] if source.startswith(home + os.sep) else source


def folder_problem(text: str) -> str | None:
    """What is wrong with a folder the user typed, or None when it can be added."""
    if not text.strip():
        return "Type the path of a folder to add."
    path = Path(text.strip()).expanduser()
    if not path.exists():
        return f"{path} does not exist."
    if not path.is_dir():
        return f"{path} is a file, not a folder: give the folder that holds it."
    if not os.access(path, os.R_OK | os.X_OK):
        return f"{path} cannot be read (permission denied)."
    return None


def report_text(report: IngestReport) -> Text:
    """The ingest report as the CLI prints it: counts, then every file with its outcome."""
    text = Text()
    text.append(f"Collection {report.collection}: ", style="bold")
    text.append(f"{len(report.added)} added", style="green")
    text.append(", ")
    text.append(f"{len(report.updated)} updated", style="cyan")
    text.append(f", {len(report.unchanged)} unchanged, ")
    text.append(f"{len(report.skipped)} skipped", style="yellow")
    text.append(f" ({report.chunks} passages in {report.seconds:.1f} s)\n")
    for outcome, sources in (("added", report.added), ("updated", report.updated)):
        for source in sources:
            text.append(f"  {outcome:9} ", style="green")
            text.append(f"{shown_source(source, 'user')}\n")
    for source, reason in report.skipped:
        text.append("  skipped   ", style="yellow")
        text.append(f"{shown_source(source, 'user')}: {reason}\n")
    for source in report.unchanged:
        text.append(f"  unchanged {shown_source(source, 'user')}\n", style="dim")
    for source, note in report.notes:
        text.append(f"  note      {shown_source(source, 'user')}: {note}\n", style="dim")
    return text


class ScreenProgress(IngestObserver):
    """Forwards ingest progress to the UI thread; called from worker and writer threads."""

    def __init__(self, screen: KnowledgeScreen) -> None:
        self.screen = screen
        self.chunks = 0

    def _ui(self, function: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app has closed meanwhile
            self.screen.app.call_from_thread(function, *args)

    def waiting_for_lock(self, lock_path: Path) -> None:
        self._ui(self.screen.ingest_status, "Waiting for another Coach to finish writing…")

    def started(self, files: int) -> None:
        self._ui(self.screen.ingest_started, files)

    def file_done(self, source: str, outcome: str) -> None:
        self._ui(self.screen.ingest_advanced, shown_source(source, "user"), outcome)

    def embedded(self, chunks: int) -> None:
        self.chunks += chunks
        self._ui(self.screen.ingest_status, f"{self.chunks} passages embedded")

    def status(self, text: str | None) -> None:
        if text:
            self._ui(self.screen.ingest_status, text)


class KnowledgeScreen(CoachScreen):
    TITLE_TEXT = "Knowledge"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+o", "add_folder", "Add a folder"),
    ]
    DEFAULT_CSS = """
    KnowledgeScreen #kb-state {
        height: auto;
        padding: 0 1;
        background: $warning 15%;
        color: $text;
    }
    KnowledgeScreen TabbedContent {
        height: 1fr;
    }
    KnowledgeScreen TabPane {
        padding: 0;
    }
    KnowledgeScreen #hits {
        height: 40%;
        min-height: 4;
    }
    KnowledgeScreen .where {
        height: auto;
        padding: 0 1;
        background: $boost;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    KnowledgeScreen #passage-box {
        height: 1fr;
    }
    KnowledgeScreen #passage {
        margin: 0 1;
    }
    KnowledgeScreen #folder-row {
        height: auto;
    }
    KnowledgeScreen #folder {
        width: 1fr;
    }
    KnowledgeScreen #folder-error {
        height: auto;
        padding: 0 1;
        color: $error;
    }
    KnowledgeScreen #ingest-progress {
        padding: 0 1;
        height: 1;
    }
    KnowledgeScreen #ingest-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    KnowledgeScreen #report-box {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Found] = []
        self.report: IngestReport | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="kb-state")
        with TabbedContent(id="kb-tabs"):
            with TabPane("Search", id="tab-search"):
                yield Input(placeholder="A question or keywords, then Enter", id="query")
                yield DataTable(id="hits", cursor_type="row")
                yield Static("", id="where", classes="where")
                with VerticalScroll(id="passage-box"):
                    yield Markdown(id="passage")
            with TabPane("Add a folder", id="tab-ingest"):
                with Horizontal(id="folder-row"):
                    yield Input(placeholder="Folder of documents, e.g. ~/notes", id="folder")
                    yield Button("Add", id="ingest", variant="primary")
                yield Static(id="folder-error")
                yield ProgressBar(id="ingest-progress", show_eta=False)
                yield Static(id="ingest-status")
                with VerticalScroll(id="report-box"):
                    yield Static(id="ingest-report")

    def on_mount(self) -> None:
        self._fill_hits()
        self._show_state()

    def on_resource(self, resource: Resource) -> None:
        if resource.key == "knowledge":
            self._show_state()
            if resource.usable and self.is_current:
                self.on_screen_resume()

    def on_screen_resume(self) -> None:
        if self.kb is not None and self.query_one(TabbedContent).active == "tab-search":
            self.query_one("#query", Input).focus()

    @property
    def kb(self) -> KnowledgeBase | None:
        return self.context.kb

    def _show_state(self) -> None:
        """Say why nothing can be searched yet; enable the inputs once the base is ready."""
        resource = self.context.resources["knowledge"]
        state = self.query_one("#kb-state", Static)
        ready = self.kb is not None
        state.display = not ready
        if resource.state == "failed":
            state.update(f"The knowledge base failed to load: {resource.detail}")
        elif resource.state == "off":
            state.update(f"The knowledge base is off ({resource.detail}).")
        elif not ready:
            progress = f" {resource.progress:.0%}" if resource.progress is not None else ""
            detail = f": {resource.detail}" if resource.detail else ""
            state.update(f"The knowledge base is still loading{progress}{detail}")
        self.query_one("#query", Input).disabled = not ready
        self.query_one("#folder", Input).disabled = not ready
        self.query_one("#ingest", Button).disabled = not ready or self._ingesting

    @property
    def _ingesting(self) -> bool:
        return any(w.group == "ingest" and not w.is_finished for w in self.workers)

    # --- search --------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "tab-search"
        self.query_one("#query", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "query":
            self.search(event.value)
        elif event.input.id == "folder":
            self.add_folder(event.value)

    def search(self, query: str) -> None:
        kb = self.kb
        if kb is None or not query.strip():
            return
        top_k = self.context.settings.top_k

        def work() -> list[Found]:
            hits = kb.search(query, top_k)
            origins = {source: record.origin for source, record in kb.sources().items()}
            return [
                Found(hit, shown_source(hit.source, origins.get(hit.source, "user")))
                for hit in hits
            ]

        self.query_one("#where", Static).update("Searching…")
        self.run_task(work, done=self._show_hits, name="Search", group="search", exclusive=True)

    def _show_hits(self, found: list[Found]) -> None:
        self.found = found
        self._fill_hits()
        if not found:
            self.query_one("#where", Static).update("No passage matches that query.")
            self.query_one("#passage", Markdown).update("")
            return
        table = self.query_one("#hits", DataTable)
        table.move_cursor(row=0)
        table.focus()  # arrows now walk the results, each showing its passage
        self._show_passage(0)

    def _fill_hits(self) -> None:
        """One line per hit, cut to the screen's width (the full source is shown below)."""
        table = self.query_one("#hits", DataTable)
        row = table.cursor_row
        width = max(self.size.width, 40)
        source = min(max((len(f.source) for f in self.found), default=6), width // 3)
        excerpt = max(16, width - source - 16)  # score column, cell padding, scroll bar
        table.clear(columns=True)
        table.add_column("Score", width=6)
        table.add_column("Source", width=source)
        table.add_column("Passage", width=excerpt)
        for index, item in enumerate(self.found):
            text = " ".join(item.hit.text.split())
            text = text if len(text) <= excerpt else text[: excerpt - 1] + "…"
            table.add_row(f"{item.hit.score:.4f}", item.source, text, key=str(index))
        if self.found:
            table.move_cursor(row=min(row, len(self.found) - 1))

    def on_resize(self) -> None:
        if self.found:
            self._fill_hits()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "hits" and event.row_key.value is not None:
            self._show_passage(int(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "hits":
            self.query_one("#passage-box").focus()

    def _show_passage(self, index: int) -> None:
        if index >= len(self.found):
            return
        item = self.found[index]
        hit = item.hit
        where = hit.heading if hit.heading.startswith(hit.title) else f"{hit.title} › {hit.heading}"
        line = Text.from_markup(
            f"[b]{escape(where.replace(' > ', ' › '))}[/b] · {escape(item.source)}"
            f" · score {hit.score:.4f}"
        )
        self.query_one("#where", Static).update(line)
        self.query_one("#passage", Markdown).update(hit.text)
        self.query_one("#passage-box", VerticalScroll).scroll_home(animate=False)

    # --- ingest --------------------------------------------------------------------------------

    def action_add_folder(self) -> None:
        self.query_one(TabbedContent).active = "tab-ingest"
        self.query_one("#folder", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ingest":
            self.add_folder(self.query_one("#folder", Input).value)

    def add_folder(self, text: str) -> None:
        kb = self.kb
        if kb is None or self._ingesting:
            return
        problem = folder_problem(text)
        self.query_one("#folder-error", Static).update(problem or "")
        if problem:
            return
        folder = Path(text.strip()).expanduser()
        observer = ScreenProgress(self)

        def work() -> IngestReport:
            report = kb.add([folder], observer)
            passages = kb.store.count(kb.collection)
            self.context.update("knowledge", detail=f"{passages} passages")
            return report

        self.query_one("#ingest-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#ingest-report", Static).update("")
        self.ingest_status(f"Reading {folder}…")
        self.run_task(
            work,
            done=self._ingest_done,
            failed=self._ingest_failed,
            name="Adding a folder",
            group="ingest",
            exclusive=True,
        )
        self.query_one("#ingest", Button).disabled = True

    def ingest_status(self, text: str) -> None:
        self.query_one("#ingest-status", Static).update(text)

    def ingest_started(self, files: int) -> None:
        self.query_one("#ingest-progress", ProgressBar).update(total=files, progress=0)
        self.ingest_status(f"{files} file(s) to read")

    def ingest_advanced(self, source: str, outcome: str) -> None:
        self.query_one("#ingest-progress", ProgressBar).advance(1)
        self.ingest_status(f"{outcome}: {source}")

    def _ingest_done(self, report: IngestReport) -> None:
        self.report = report
        self.query_one("#ingest", Button).disabled = False
        done = "Nothing could be added." if report.nothing_ingested else "Done."
        self.ingest_status(done)
        self.query_one("#ingest-report", Static).update(report_text(report))

    def _ingest_failed(self, exc: BaseException) -> None:
        from coach.knowledge.base import KnowledgeBaseBusy

        self.query_one("#ingest", Button).disabled = False
        if isinstance(exc, KnowledgeBaseBusy):
            message = f"The knowledge base is busy: {exc}. Try again once it has finished."
        else:
            message = f"Adding the folder failed: {error_text(exc)}"
        self.ingest_status("Not added.")
        self.query_one("#ingest-report", Static).update(Text(message, style="red"))
        self.notify(message, title="Knowledge", severity="error")
