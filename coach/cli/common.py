"""Helpers every command group shares: errors, settings, plugins, the default collection, models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase
    from coach.plugins.host import PluginHost
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import Settings


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"coach: error: {message}", err=True, fg="red")
    return typer.Exit(code)


def settings() -> Settings:
    """Settings, or a clean exit (status 2) naming the bad value."""
    from coach.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None


def plugin_host(current: Settings) -> PluginHost:
    """Load every plugin; each problem is printed once, as a warning, and never stops Coach."""
    from coach.plugins.host import PluginHost

    host = PluginHost(current)
    for warning in host.warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    return host


def knowledge_base(collection: str | None) -> tuple[KnowledgeBase, PluginHost]:
    """The knowledge base for a command, with plugin file types installed.

    With a Chroma server (``knowledge_url``) it connects here, before any work, so an unreachable
    server or one of another chromadb release ends the command at once (``coach.cli.main`` prints
    it as one line, status 1).
    """
    from coach.knowledge.base import InvalidCollection, KnowledgeBase

    current = settings()
    try:
        kb = KnowledgeBase(current, collection)
        kb.connect()
    except InvalidCollection as exc:
        raise fail(str(exc), code=2) from None
    host = plugin_host(current)
    host.install_loaders()
    return kb, host


def sync_default_collection(kb: KnowledgeBase, host: PluginHost) -> None:
    """Keep built-in guides and plugin knowledge current in the default collection.

    Embedded store: synced on every command, cheaply (hashes only). Chroma server: never written
    here, since every machine would push its own copies (keyed by its own paths) over the
    others'; the facilitator pushes them with `coach knowledge sync`, and this only notes, once,
    what the shared default collection lacks.
    """
    from coach.console import IngestProgress, print_ingest_report
    from coach.knowledge.base import KnowledgeBaseBusy, builtin_files

    files = builtin_files() + host.knowledge_files()
    if kb.is_shared:
        if gaps := kb.managed_gaps(files):
            typer.secho(
                f"note: the shared knowledge base at {kb.location} lacks {', '.join(gaps)};"
                " the facilitator pushes them with `coach knowledge sync`",
                err=True,
                fg="yellow",
            )
        return
    try:
        with IngestProgress("Updating the built-in knowledge") as progress:
            report = kb.sync_managed(files, progress)
    except KnowledgeBaseBusy as exc:
        raise fail(str(exc)) from None
    if report is not None and (report.added or report.updated or report.skipped):
        print_ingest_report(report, brief=not report.skipped)


def model_generator(spec_text: str | None, seed: int = 0) -> Generator | None:
    """The model for this run, or None for the grounded plan; a bad spec exits with status 2."""
    from coach.console import err
    from coach.prepare.backends import BackendError
    from coach.prepare.generate import generator_for

    try:
        generator, note = generator_for(settings(), spec_text, seed)
    except BackendError as exc:
        raise fail(str(exc), code=2) from None
    if note:
        err.print(note)
    return generator


def prompt_library(host: PluginHost) -> PromptLibrary:
    """The prompt library, its problems (a broken override) reported but not fatal."""
    from coach.console import err
    from coach.prepare.prompts import PromptLibrary

    library = PromptLibrary.load(settings(), host)
    from rich.markup import escape

    for problem in library.problems:
        err.print(f"[yellow]warning:[/] {escape(problem)}")
    return library
