"""`coach people|pairs|sessions ...`, `coach report`, `coach export` and `coach demo-data`.

Each command opens the programme database, calls the service layer and prints: Rich tables for
people, ``--json`` for scripts. A service error (InputError, NotFound) becomes a clean message and
exit status 1; usage errors exit 2. Nothing heavier than typer is imported until a command runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from coach.cli.common import fail, settings

if TYPE_CHECKING:
    from coach.sessions.db import Database

people_app = typer.Typer(
    help="Add, list and import the programme's mentors and mentees.", no_args_is_help=True
)
pairs_app = typer.Typer(
    help="Pair mentors with mentees; show and delete pairs.", no_args_is_help=True
)
sessions_app = typer.Typer(help="Browse the sessions of every pair.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Role = Literal["mentor", "mentee"]
DELETED_LABELS = {
    "sessions": "session(s)",
    "session_phases": "phase record(s)",
    "notes": "note(s)",
    "experiments": "experiment(s)",
    "feedback": "feedback form(s)",
    "confidence": "confidence rating(s)",
}


@contextlib.contextmanager
def programme() -> Iterator[Database]:
    """The programme database for one command; service and database errors exit cleanly."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from coach.sessions.db import DatabaseTooNew, DatabaseUnavailable, open_database
    from coach.sessions.errors import InputError
    from coach.settings import ConfigError

    current = settings()
    try:
        db = open_database(current)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    except (DatabaseUnavailable, DatabaseTooNew) as exc:
        raise fail(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise fail(f"cannot open the programme database: {exc}") from None
    try:
        yield db
    except InputError as exc:
        raise fail(str(exc)) from None
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "lock timeout" in str(exc.orig):
            raise fail(
                "the programme database is busy (another Coach is writing); try again"
            ) from None
        raise fail(f"database error: {exc.orig}") from None
    finally:
        db.dispose()


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# People ------------------------------------------------------------------------------------------


@people_app.command("add")
def people_add(
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    role: Annotated[Role, typer.Option("--role", help="mentor (teaches) or mentee (learns).")],
    email: Annotated[str | None, typer.Option("--email", help="Email address.")] = None,
    department: Annotated[str, typer.Option("--department", help="Department or team.")] = "",
    manager: Annotated[
        str, typer.Option("--manager", help="Who they report to (keeps pairs out of one line).")
    ] = "",
    timezone: Annotated[str, typer.Option("--timezone", help="e.g. Europe/London.")] = "",
    skill: Annotated[
        list[str] | None, typer.Option("--skill", help="Something they can teach (repeatable).")
    ] = None,
    growth: Annotated[
        list[str] | None,
        typer.Option("--growth", help="Something they want to learn (repeatable)."),
    ] = None,
    goal: Annotated[
        list[str] | None, typer.Option("--goal", help="A goal for the programme (repeatable).")
    ] = None,
) -> None:
    """Add one mentor or mentee."""
    from coach.sessions.service import PersonIn, add_person

    with programme() as db:
        person = PersonIn.from_input(
            {
                "name": name,
                "role": role,
                "email": email,
                "department": department,
                "manager": manager,
                "timezone": timezone,
                "skills": skill or [],
                "growth_areas": growth or [],
                "goals": goal or [],
            }
        )
        person_id = add_person(db, person)
    typer.echo(f"Added {person.role} {person_id}: {person.name}")


@people_app.command("list")
def people_list(
    role: Annotated[Role | None, typer.Option("--role", help="Only mentors or mentees.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Everyone in the programme, by id."""
    from coach.sessions.service import list_people, person_dict

    with programme() as db:
        people = list_people(db, role)
    if as_json:
        _print_json([person_dict(person) for person in people])
        return
    from coach.cli.programme_render import people_table

    people_table(people)


@people_app.command("import")
def people_import(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PEOPLE.csv",
            exists=True,
            dir_okay=False,
            help="Columns: name, role, email, department, manager, timezone, skills,"
            " growth_areas, goals (lists separated by ';'). Only name and role are required.",
        ),
    ],
) -> None:
    """Add everyone in a CSV file, or no one: every problem is listed with its row and column."""
    from coach.sessions.service import import_people_csv

    with programme() as db:
        ids = import_people_csv(db, path)
    span = (
        f"{ids[0]}-{ids[-1]}"
        if ids == list(range(ids[0], ids[-1] + 1))
        else ", ".join(map(str, ids))
    )
    people = "person" if len(ids) == 1 else "people"
    typer.echo(f"Imported {len(ids)} {people} from {path.name} (ids {span})")


# Pairs -------------------------------------------------------------------------------------------


@pairs_app.command("add")
def pairs_add(
    mentor_id: Annotated[int, typer.Argument(metavar="MENTOR_ID", help="Id of the mentor.")],
    mentee_id: Annotated[int, typer.Argument(metavar="MENTEE_ID", help="Id of the mentee.")],
    cadence_days: Annotated[
        int, typer.Option("--cadence-days", min=1, help="Days between sessions.")
    ] = 28,
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, help="How many sessions are planned.")
    ] = 6,
) -> None:
    """Pair a mentor with a mentee."""
    from coach.sessions.service import add_pair, pair_detail

    with programme() as db:
        pair_id = add_pair(
            db, mentor_id, mentee_id, cadence_days=cadence_days, planned_sessions=sessions
        )
        pair = pair_detail(db, pair_id)
    typer.echo(
        f"Pair {pair_id}: {pair['mentor']['name']} (mentor {mentor_id}) with"
        f" {pair['mentee']['name']} (mentee {mentee_id}), every {cadence_days} days,"
        f" {sessions} sessions planned"
    )


@pairs_app.command("list")
def pairs_list(as_json: JsonOption = False) -> None:
    """Every pair with its cadence, progress and whether the agreement is made."""
    from coach.sessions.service import list_pairs, pair_dict

    with programme() as db:
        pairs = [pair_dict(pair) for pair in list_pairs(db)]
    if as_json:
        _print_json(pairs)
        return
    from coach.cli.programme_render import pairs_table

    pairs_table(pairs)


@pairs_app.command("show")
def pairs_show(
    pair_id: Annotated[int, typer.Argument(metavar="ID", help="A pair id from `pairs list`.")],
    as_json: JsonOption = False,
) -> None:
    """One pair: the two people, cadence, agreement, sessions and open experiments."""
    from coach.sessions.service import pair_detail

    with programme() as db:
        pair = pair_detail(db, pair_id)
    if as_json:
        _print_json(pair)
        return
    from coach.cli.programme_render import pair_view

    pair_view(pair)


@pairs_app.command("delete")
def pairs_delete(
    pair_id: Annotated[int, typer.Argument(metavar="ID", help="A pair id from `pairs list`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """Delete a pair with all its sessions, notes, experiments and feedback (not the people)."""
    from coach.sessions.service import delete_pair, pair_detail

    with programme() as db:
        pair = pair_detail(db, pair_id)
        if not yes:
            if not sys.stdin.isatty():
                raise fail(
                    f"refusing to delete pair {pair_id} without confirmation: pass --yes", code=2
                )
            question = (
                f"Delete pair {pair_id} ({pair['mentor']['name']} and {pair['mentee']['name']})"
                f" with its {pair['sessions']['total']} session(s), notes, experiments and"
                " feedback? This cannot be undone"
            )
            if not typer.confirm(question, default=False):
                raise fail("nothing was deleted")
        removed = delete_pair(db, pair_id)
    details = ", ".join(
        f"{removed[kind]} {label}" for kind, label in DELETED_LABELS.items() if kind in removed
    )
    typer.echo(f"Deleted pair {pair_id} ({details})")


# Sessions ----------------------------------------------------------------------------------------


@sessions_app.command("list")
def sessions_list(
    pair_id: Annotated[
        int | None, typer.Option("--pair", help="Only this pair's sessions.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sessions by pair and number, with status and schedule."""
    from coach.sessions.service import list_sessions, session_dict

    with programme() as db:
        sessions = [session_dict(session) for session in list_sessions(db, pair_id)]
    if as_json:
        _print_json(sessions)
        return
    from coach.cli.programme_render import sessions_table

    sessions_table(sessions)


@sessions_app.command("show")
def sessions_show(
    session_id: Annotated[int, typer.Argument(metavar="ID", help="A session id.")],
    as_json: JsonOption = False,
) -> None:
    """One session: phases, shared notes, experiments, feedback (private notes are never shown)."""
    from coach.sessions.service import session_detail

    with programme() as db:
        session = session_detail(db, session_id)
    if as_json:
        _print_json(session)
        return
    from coach.cli.programme_render import session_view

    session_view(session)


@sessions_app.command("summarise")
def sessions_summarise(
    session_id: Annotated[int, typer.Argument(metavar="ID", help="A completed session's id.")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="As for `coach prepare`; 'none' keeps the notes as written."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a summary the session already has.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also list what the quality gates rejected.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Summarise a finished session's shared notes (never the private ones) and keep it."""
    from coach.cli.common import knowledge_base, model_generator, prompt_library
    from coach.console import err
    from coach.prepare.summary import summarise_session

    generator = model_generator(model)
    kb, host = knowledge_base(None) if generator else (None, _plugin_host())
    prompts = prompt_library(host) if generator else None
    working = f"Summarising with {generator.label if generator else 'no model'}…"
    with programme() as db, err.status(working):
        summary = summarise_session(
            db,
            session_id,
            host=host,
            generator=generator,
            prompts=prompts,
            kb=kb,
            replace=replace,
        )
    if as_json:
        _print_json(summary.model_dump(mode="json"))
        return
    from rich.markup import escape

    for notice in summary.notices:
        err.print(f"[yellow]{escape(notice)}[/]")
    typer.echo(summary.text)
    for experiment in summary.experiments:
        typer.echo(f"- To try: {experiment}")
    if explain:
        for rejection in summary.rejections:
            typer.echo(f"rejected ({rejection.reason}): {rejection.text}")
    if summary.stored:
        err.print(f"Stored on session {session_id} ({summary.provenance}).")


def _plugin_host():
    from coach.cli.common import plugin_host

    return plugin_host(settings())


# Report, export, demo data -----------------------------------------------------------------------


def report(
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    names: Annotated[
        bool, typer.Option("--names", help="Show people's names (anonymised by default).")
    ] = False,
) -> None:
    """Programme metrics for sponsors: progress, cadence, stalled pairs, feedback, confidence."""
    if as_json and as_csv:
        raise fail("choose one of --json and --csv", code=2)
    from datetime import UTC, datetime

    from coach.sessions.export import programme_report, report_csv
    from coach.sessions.metrics import programme_metrics

    current = settings()
    if names and current.shared_database:
        raise fail(
            "the programme database is shared, so the report stays anonymised:"
            " names stay with the pairs (--names works on a local database only)",
            code=2,
        )
    stall_days = current.stall_days
    with programme() as db:
        metrics = programme_metrics(db, now=datetime.now(UTC), stall_days=stall_days)
        if as_csv:
            typer.echo(report_csv(metrics, anonymise=not names), nl=False)
            return
        data = programme_report(metrics, anonymise=not names)
    if as_json:
        _print_json(data)
        return
    from coach.cli.programme_render import report_view

    report_view(data)


def export(
    session_id: Annotated[int, typer.Argument(metavar="SESSION", help="A session id.")],
    fmt: Annotated[
        Literal["md", "json"], typer.Option("--format", "-f", help="Markdown or JSON.")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write to FILE, not stdout.")
    ] = None,
) -> None:
    """Export one session (never its private notes) as Markdown or JSON."""
    from coach.sessions.export import export_session

    with programme() as db:
        text = export_session(db, session_id, fmt)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        _write_private(out, text)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"Wrote session {session_id} ({fmt}) to {out}")


def _write_private(path: Path, text: str) -> None:
    """Write all of ``text`` or leave ``path`` as it was; readable by the user only (0600).

    A session export holds what two people said to each other: it must not appear half-written
    or world-readable, even if the disk fills up or Coach is interrupted.
    """
    path = path.expanduser()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def demo_data(
    pairs: Annotated[
        int, typer.Option("--pairs", min=1, max=200, help="How many demo pairs to create.")
    ] = 12,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete the previous demo data first.")
    ] = False,
) -> None:
    """Create a realistic demo programme (labelled as demo data) to try Coach and its reports."""
    from datetime import UTC, datetime

    from coach.sessions.demo import create_demo_programme
    from coach.sessions.errors import InputError

    with programme() as db:
        try:
            summary = create_demo_programme(db, now=datetime.now(UTC), pairs=pairs, replace=replace)
        except InputError as exc:
            hint = "" if replace else "\n  `coach demo-data --replace` deletes it and starts again"
            raise fail(f"{exc}{hint}") from None
    typer.echo("Created a demo programme:")
    for key, value in _summary_fields(summary).items():
        typer.echo(f"  {key.replace('_', ' ')}: {_brief(value)}")
    typer.echo(
        "Everything it created is labelled as demo data;"
        " `coach demo-data --replace` deletes and rebuilds it."
    )


def _summary_fields(summary: object) -> dict[str, Any]:
    """The demo summary's fields, whatever kind of object it is (dataclass, model, mapping)."""
    import dataclasses

    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        return {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
    if hasattr(summary, "model_dump"):
        return summary.model_dump()
    if isinstance(summary, Mapping):
        return dict(summary)
    if hasattr(summary, "_asdict"):
        return summary._asdict()
    if hasattr(summary, "__dict__"):
        return {k: v for k, v in vars(summary).items() if not k.startswith("_")}
    return {"created": summary}


def _brief(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {item}" for key, item in value.items()) or "none"
    if isinstance(value, list | tuple | set | frozenset):
        items = [str(item) for item in value]
        return (
            ", ".join(items) if len(items) <= 6 else f"{len(items)} ({', '.join(items[:3])}, ...)"
        )
    return str(value)
