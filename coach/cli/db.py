"""`coach db upgrade|current`: the programme database's schema revision, and bringing it to head.

Coach upgrades the schema whenever it opens the database; ``coach db upgrade`` does it on purpose
(e.g. once from the facilitator's machine before a shared programme starts), and ``coach db
current`` only looks. Neither opens the local note store. An unreachable server, a bad URL or a
database from a newer Coach ends the command with one line and exit status 1 (2 for bad settings).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from coach.cli.common import fail, settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="The programme database's schema: show its revision, upgrade it.", no_args_is_help=True
)


def _engine(*, create: bool = True) -> tuple[Engine, str, str]:
    """The configured database's engine, backend and where (a path, or a URL without password).

    ``create=False``: a SQLite file that does not exist yet is opened from memory instead, so
    looking never creates it.
    """
    from sqlalchemy import make_url

    from coach.sessions.db import database_url, display_url, make_engine
    from coach.settings import ConfigError

    current = settings()
    try:
        url = database_url(current)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    backend, where = make_url(url).get_backend_name(), display_url(url)
    if backend == "sqlite" and not create and not Path(where).exists():
        return make_engine("sqlite://"), backend, where
    current.ensure_dirs()
    return make_engine(url), backend, where


@app.command("upgrade")
def upgrade() -> None:
    """Bring the programme database to the newest schema revision (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from coach.sessions.db import DatabaseTooNew, DatabaseUnavailable
    from coach.sessions.db import upgrade as run_upgrade

    engine, backend, where = _engine()
    try:
        before, after = run_upgrade(engine)
    except (DatabaseUnavailable, DatabaseTooNew) as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"upgrading the programme database at {where} failed: {exc}") from None
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"{backend} {where}: already at head ({after})")
    else:
        typer.echo(f"{backend} {where}: upgraded from {before or 'an empty database'} to {after}")


@app.command("current")
def current() -> None:
    """Show the backend, where it is, and its current and newest revision (changes nothing)."""
    from sqlalchemy.exc import SQLAlchemyError

    from coach.sessions.db import (
        DatabaseUnavailable,
        connected,
        current_revision,
        head_revision,
        revision_detail,
    )

    engine, backend, where = _engine(create=False)
    try:
        with connected(engine) as connection:
            revision = current_revision(connection)
    except DatabaseUnavailable as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"cannot read the programme database at {where}: {exc}") from None
    finally:
        engine.dispose()
    head = head_revision()
    usable, words = revision_detail(revision, head)
    typer.echo(f"backend:  {backend}")
    typer.echo(f"where:    {where}")
    typer.echo(f"current:  {revision or 'none (empty database)'}")
    typer.echo(f"head:     {head}")
    typer.echo(f"status:   {words}")
    if not usable:
        raise typer.Exit(1)
