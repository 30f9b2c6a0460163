"""`coach knowledge ...`: add, search, list, remove and sync documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.common import fail, knowledge_base, sync_default_collection

app = typer.Typer(
    help="Build and search the knowledge base that suggestions are drawn from.",
    no_args_is_help=True,
)

CollectionOption = Annotated[
    str | None,
    typer.Option(
        "--collection",
        "-c",
        help="Collection to use (default: the 'default' collection, which includes the"
        " built-in guides).",
    ),
]


@app.command("add")
def knowledge_add(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders (searched recursively) to add.")
    ],
    collection: CollectionOption = None,
) -> None:
    """Add or refresh documents (Markdown, text, HTML, PDF, plugin types); unchanged are skipped."""
    from coach.console import IngestProgress, print_ingest_report
    from coach.knowledge.base import KnowledgeBaseBusy

    kb, host = knowledge_base(collection)
    if kb.is_default:
        sync_default_collection(kb, host)
    try:
        with IngestProgress(f"Adding to '{kb.collection}'") as progress:
            report = kb.add(paths, progress)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    print_ingest_report(report)
    if report.nothing_ingested:
        raise fail("nothing could be ingested", code=1)


@app.command("search")
def knowledge_search(
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", "-t", help="Only passages tagged with this topic id.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """Find the passages that best answer QUERY (meaning and keywords combined)."""
    from coach.console import print_hits

    if not query.strip():
        raise fail("the query is empty", code=2)
    kb, host = knowledge_base(collection)
    sync_default_collection(kb, host)
    if topic is not None and topic not in host.topics:
        raise fail(f"unknown topic {topic!r} (see `coach topics list`)", code=2)
    if not kb.sources():
        raise fail(
            f"collection '{kb.collection}' is empty: add documents with"
            f" `coach knowledge add PATH --collection {kb.collection}`"
        )
    hits = kb.search(query, top_k, topic=topic)
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


@app.command("list")
def knowledge_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    collection: CollectionOption = None,
) -> None:
    """List the documents in a collection with their chunk counts and origin."""
    from coach.console import print_sources

    kb, host = knowledge_base(collection)
    sync_default_collection(kb, host)
    sources = kb.sources()
    if as_json:
        rows = [
            {
                "source": r.source,
                "title": r.title,
                "chunks": r.chunks,
                "bytes": r.size,
                "origin": r.origin,
                "topics": list(r.topics),
            }
            for r in sources.values()
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print_sources(kb.collection, sources, kb.collections())


@app.command("remove")
def knowledge_remove(
    sources: Annotated[
        list[str],
        typer.Argument(help="Source paths as shown by `coach knowledge list`, or folders."),
    ],
    collection: CollectionOption = None,
) -> None:
    """Remove documents (and their chunks) from a collection."""
    from coach.knowledge.base import KnowledgeBaseBusy

    kb, _ = knowledge_base(collection)
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


@app.command("sync")
def knowledge_sync() -> None:
    """Push the built-in guides and plugin knowledge into the default collection.

    With the embedded store every command does this by itself. With a shared Chroma server
    (`knowledge_url`) no machine does it on start: the facilitator runs this command, from one
    machine, after installing or upgrading Coach or a plugin.
    """
    from coach.console import IngestProgress, print_ingest_report
    from coach.knowledge.base import KnowledgeBaseBusy, builtin_files

    kb, host = knowledge_base(None)
    files = builtin_files() + host.knowledge_files()
    try:
        with IngestProgress(f"Syncing the built-in knowledge into '{kb.collection}'") as progress:
            report = kb.sync_managed(files, progress)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    if report is not None:
        print_ingest_report(report)
    typer.echo(
        f"built-in and plugin knowledge is current in '{kb.collection}' at {kb.location}"
        f" ({len(files)} file(s))"
    )
