"""The ``coach`` command line: a thin layer that parses, calls a service and prints.

Only typer and the settings are imported at module level, so ``coach --help`` and ``coach
--version`` stay fast; every command imports what it needs when it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach import __version__

app = typer.Typer(
    name="coach",
    help="Coach: a local-first session coach for reverse mentoring programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
knowledge_app = typer.Typer(
    help="Build and search the knowledge base that suggestions are drawn from.",
    no_args_is_help=True,
)
app.add_typer(knowledge_app, name="knowledge")

CollectionOption = Annotated[
    str | None,
    typer.Option(
        "--collection",
        "-c",
        help="Collection to use (default: the 'default' collection, which includes the"
        " built-in guides).",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coach {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Coach: a local-first session coach for reverse mentoring programmes."""


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"coach: error: {message}", err=True, fg="red")
    return typer.Exit(code)


def _knowledge_base(collection: str | None):  # type: ignore[no-untyped-def]
    """Open the knowledge base for a command, turning set-up problems into clean exits."""
    from coach.knowledge.base import InvalidCollection, KnowledgeBase
    from coach.settings import ConfigError, load_settings

    try:
        return KnowledgeBase(load_settings(), collection)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    except InvalidCollection as exc:
        raise fail(str(exc), code=2) from None


def _ensure_builtin(kb) -> None:  # type: ignore[no-untyped-def]
    from coach.console import IngestProgress, print_ingest_report

    with IngestProgress("Building the knowledge base (first use)") as progress:
        report = kb.ensure_builtin(progress)
    if report is not None and (report.added or report.updated or report.skipped):
        print_ingest_report(report, brief=True)


@knowledge_app.command("add")
def knowledge_add(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders (searched recursively) to add.")
    ],
    collection: CollectionOption = None,
) -> None:
    """Add or refresh documents (Markdown, text, HTML, PDF); unchanged files are skipped."""
    from coach.console import IngestProgress, print_ingest_report
    from coach.knowledge.base import KnowledgeBaseBusy

    kb = _knowledge_base(collection)
    try:
        if kb.is_default:
            _ensure_builtin(kb)
        with IngestProgress(f"Adding to '{kb.collection}'") as progress:
            report = kb.add(paths, progress)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    print_ingest_report(report)
    if report.nothing_ingested:
        raise fail("nothing could be ingested", code=1)


@knowledge_app.command("search")
def knowledge_search(
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """Find the passages that best answer QUERY (meaning and keywords combined)."""
    from coach.console import print_hits
    from coach.knowledge.base import KnowledgeBaseBusy

    if not query.strip():
        raise fail("the query is empty", code=2)
    kb = _knowledge_base(collection)
    try:
        _ensure_builtin(kb)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    if not kb.sources():
        raise fail(
            f"collection '{kb.collection}' is empty: add documents with"
            f" `coach knowledge add PATH --collection {kb.collection}`"
        )
    hits = kb.search(query, top_k)
    if as_json:
        typer.echo(json.dumps([hit.as_dict() for hit in hits], indent=2, ensure_ascii=False))
        return
    if mismatch := kb.embedder_mismatch():
        typer.secho(
            f"note: {len(mismatch)} file(s) were embedded with another backend;"
            " re-add them for best results",
            err=True,
            fg="yellow",
        )
    print_hits(query, hits)


@knowledge_app.command("list")
def knowledge_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """List the documents in a collection with their chunk counts."""
    from coach.console import print_sources
    from coach.knowledge.base import KnowledgeBaseBusy

    kb = _knowledge_base(collection)
    try:
        _ensure_builtin(kb)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    sources = kb.sources()
    if as_json:
        rows = [
            {"source": r.source, "title": r.title, "chunks": r.chunks, "bytes": r.size}
            for r in sources.values()
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print_sources(kb.collection, sources, kb.collections())


@knowledge_app.command("remove")
def knowledge_remove(
    sources: Annotated[
        list[str],
        typer.Argument(help="Source paths as shown by `coach knowledge list`, or folders."),
    ],
    collection: CollectionOption = None,
) -> None:
    """Remove documents (and their chunks) from a collection."""
    from coach.knowledge.base import KnowledgeBaseBusy

    kb = _knowledge_base(collection)
    try:
        removed = kb.remove(sources)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    if not removed:
        raise fail(
            f"no source in '{kb.collection}' matches {', '.join(sources)}"
            " (see `coach knowledge list`)",
            code=1,
        )
    for source in removed:
        typer.echo(f"removed  {source}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
