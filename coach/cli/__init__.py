"""The ``coach`` command line: a thin layer that parses, calls a service and prints.

Only typer is imported at module level, so ``coach --help`` and ``coach --version`` stay fast;
every command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from coach import __version__
from coach.cli import db, doctor, knowledge, match, plugins, prepare, programme, prompts

app = typer.Typer(
    name="coach",
    help="Coach: a local-first session coach for reverse mentoring programmes.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(plugins.plugins_app, name="plugins")
app.add_typer(plugins.topics_app, name="topics")
app.add_typer(prompts.app, name="prompts")
app.add_typer(programme.people_app, name="people")
app.add_typer(programme.pairs_app, name="pairs")
app.add_typer(programme.sessions_app, name="sessions")
app.command("report")(programme.report)
app.command("export")(programme.export)
app.command("demo-data")(programme.demo_data)
app.command("prepare")(prepare.prepare)
app.command("match")(match.match)
app.command("doctor")(doctor.doctor)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coach {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Coach: a local-first session coach for reverse mentoring programmes.

    With no command, opens the terminal app for preparing, running and wrapping up sessions.
    """
    if ctx.invoked_subcommand is None:
        from coach.ui.app import run

        run()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if not _server_failed(exc):
            raise
        typer.secho(f"coach: error: {exc}", err=True, fg="red")
        sys.exit(1)


def _server_failed(exc: Exception) -> bool:
    """A database or Chroma server that is unreachable (or of another release), at any point of
    any command: one line and status 1, not a traceback."""
    from coach.knowledge.server import KnowledgeServerError

    return isinstance(exc, ConnectionError | KnowledgeServerError)
