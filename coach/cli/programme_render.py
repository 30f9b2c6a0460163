"""Rich rendering of people, pairs, sessions and the programme report.

Kept apart from the command module because it imports Rich at module level: the commands import
it only when they print, so ``coach --help`` stays fast. Everything renders the service's plain
dicts, the same data ``--json`` prints, so the table and the JSON can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from coach.sessions.models import Person

out = Console()


def _text(value: Any) -> str:
    """One cell: lists joined, missing values as a dash, everything escaped for Rich markup."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return escape(", ".join(str(item) for item in value))
    if isinstance(value, Mapping):
        return escape(json.dumps(value, ensure_ascii=False))
    return escape(str(value))


def _when(value: str | None) -> str:
    """An ISO timestamp shortened to the minute (UTC), which is all a table needs."""
    if not value:
        return "-"
    return value[:16].replace("T", " ")


def people_table(people: Sequence[Person]) -> None:
    table = Table(title=f"People ({len(people)})", title_justify="left")
    for column in ("Id", "Name", "Role", "Email", "Department", "Manager", "Time zone"):
        table.add_column(column, justify="right" if column == "Id" else "left")
    for column in ("Skills", "Growth areas", "Goals"):
        table.add_column(column, overflow="fold")
    for person in people:
        table.add_row(
            str(person.id),
            _text(person.name),
            person.role,
            _text(person.email),
            _text(person.department),
            _text(person.manager),
            _text(person.timezone),
            _text(person.skills),
            _text(person.growth_areas),
            _text(person.goals),
        )
    out.print(table)


def pairs_table(pairs: Sequence[Mapping[str, Any]]) -> None:
    table = Table(title=f"Pairs ({len(pairs)})", title_justify="left")
    for column in ("Id", "Mentor", "Mentee", "Every", "Sessions", "Agreement", "Active"):
        table.add_column(column, justify="right" if column in ("Id", "Every") else "left")
    for pair in pairs:
        table.add_row(
            str(pair["id"]),
            f"{_text(pair['mentor']['name'])} ({pair['mentor']['id']})",
            f"{_text(pair['mentee']['name'])} ({pair['mentee']['id']})",
            f"{pair['cadence_days']} days",
            f"{pair['sessions_completed']} of {pair['planned_sessions']} held",
            _text(pair["agreed"]),
            _text(pair["active"]),
        )
    out.print(table)


def pair_view(pair: Mapping[str, Any]) -> None:
    mentor, mentee = pair["mentor"], pair["mentee"]
    state = "" if pair["active"] else " [dim](inactive)[/]"
    out.print(f"[bold]Pair {pair['id']}[/]{state}")
    for label, person in (("Mentor", mentor), ("Mentee", mentee)):
        details = ", ".join(
            _text(person[key]) for key in ("email", "department", "timezone") if person[key]
        )
        suffix = f"  {details}" if details else ""
        out.print(f"  {label}: {_text(person['name'])} ({person['id']}){suffix}")
    sessions = pair["sessions"]
    out.print(
        f"  Every {pair['cadence_days']} days; {sessions['completed']} of"
        f" {pair['planned_sessions']} planned sessions held, {sessions['upcoming']} upcoming,"
        f" {sessions['cancelled']} cancelled"
    )
    last, upcoming = _when(sessions["last_held_at"]), _when(sessions["next_scheduled_at"])
    out.print(f"  Last held: {last}   Next: {upcoming}")
    agreement = pair["agreement"]
    if agreement["agreed"]:
        out.print(f"\n[bold]Agreement[/] (made {_when(agreement['agreed_at'])})")
        for key in ("cadence", "confidentiality", "boundaries", "feedback_style", "no_blame_exit"):
            out.print(f"  {key.replace('_', ' ').capitalize()}: {_text(agreement[key])}")
    else:
        out.print("\n[bold]Agreement[/]: not made yet (it is part of the first session)")
    if sessions["items"]:
        sessions_table(sessions["items"], title="Sessions")
    experiments_table(pair["open_experiments"], title="Open experiments")


def sessions_table(sessions: Sequence[Mapping[str, Any]], title: str = "Sessions") -> None:
    table = Table(title=f"{title} ({len(sessions)})", title_justify="left")
    for column in ("Id", "Pair", "No.", "Status", "Scheduled", "Template", "Topics"):
        table.add_column(column, justify="right" if column in ("Id", "Pair", "No.") else "left")
    for session in sessions:
        table.add_row(
            str(session["id"]),
            str(session["pair_id"]),
            str(session["number"]),
            session["status"],
            _when(session["scheduled_at"]),
            _text(session["template_id"]),
            _text(session["topic_ids"]),
        )
    out.print(table)


def experiments_table(experiments: Sequence[Mapping[str, Any]], title: str) -> None:
    if not experiments:
        out.print(f"\n[bold]{title}[/]: none")
        return
    table = Table(title=title, title_justify="left")
    for column in ("Id", "Experiment", "Owner", "Due", "Status"):
        table.add_column(column)
    for item in experiments:
        table.add_row(
            str(item["id"]),
            _text(item["title"]),
            item["owner"],
            _text(item["due_date"]),
            item["status"],
        )
    out.print(table)


def session_view(session: Mapping[str, Any]) -> None:
    mentor, mentee = session["mentor"], session["mentee"]
    out.print(
        f"[bold]Session {session['id']}[/]: number {session['number']} of pair"
        f" {session['pair_id']} ({_text(mentor['name'])} and {_text(mentee['name'])})"
    )
    out.print(
        f"  Status: {session['status']}   Template: {_text(session['template_id'])}"
        f"   Topics: {_text(session['topic_ids'])}"
    )
    out.print(
        f"  Scheduled: {_when(session['scheduled_at'])}   Started: {_when(session['started_at'])}"
        f"   Ended: {_when(session['ended_at'])}"
    )
    if session["cancel_reason"]:
        out.print(f"  Cancelled: {_text(session['cancel_reason'])}")
    if session["phases"]:
        table = Table(title="Phases", title_justify="left")
        for column in ("#", "Phase", "Planned", "Spent"):
            table.add_column(column, justify="left" if column == "Phase" else "right")
        for phase in session["phases"]:
            table.add_row(
                str(phase["position"]),
                _text(phase["title"]),
                f"{phase['planned_minutes']} min",
                f"{phase['seconds_spent'] / 60:.1f} min",
            )
        out.print(table)
    if session["summary"]:
        out.print(f"\n[bold]Summary[/]\n{escape(session['summary'])}")
    out.print(f"\n[bold]Notes[/] ({len(session['notes'])}, private notes are not shown)")
    for note in session["notes"]:
        where = f" in {note['phase_id']}" if note["phase_id"] else ""
        out.print(f"  [dim]{note['author_role']}{escape(where)}:[/] {escape(note['text'])}")
    experiments_table(session["experiments"], title="Experiments")
    if session["feedback"] or session["confidence"]:
        out.print("\n[bold]Feedback[/]")
    for item in session["feedback"]:
        fit = "" if item["good_fit"] is None else f", good fit: {_text(item['good_fit'])}"
        out.print(f"  From the {item['side']}: {item['rating']}/5{fit}")
    for item in session["confidence"]:
        out.print(
            f"  Confidence in {escape(item['topic_id'])}: {_text(item['before'])} ->"
            f" {_text(item['after'])}"
        )


def report_view(report: Mapping[str, Any], title: str = "Programme report") -> None:
    """Any report dict, rendered by its shape rather than its keys.

    Scalars, lists of scalars and small flat mappings (``{"mentor": 4.1, "mentee": 4.3}``) become
    rows of one key/value table; a mapping of flat mappings (per-topic figures) and a list of
    rows (per-pair figures) get tables of their own; other mappings become sections. So the
    report can gain metrics without this renderer changing.
    """
    table = _table(title, show_header=False)
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    later = []
    for key, value in report.items():
        if _is_flat(value):
            table.add_row(_label(key), _pairs_text(value))
        elif _is_keyed_rows(value) or _is_rows(value) or isinstance(value, Mapping):
            later.append((key, value))
        else:
            table.add_row(_label(key), _text(value))
    if table.row_count:
        out.print(table)
    for key, value in later:
        if _is_keyed_rows(value):
            _rows_table(_label(key), [{"": name, **row} for name, row in value.items()])
        elif _is_rows(value):
            _rows_table(_label(key), value)
        else:
            report_view(value, title=_label(key))


def _table(title: str, **options: Any) -> Table:
    # Wide enough for its title: Rich otherwise wraps a long title over a narrow table.
    return Table(title=title, title_justify="left", min_width=len(title) + 4, **options)


def _label(key: str) -> str:
    return escape(str(key).replace("_", " ").capitalize())


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_flat(value: Any) -> bool:
    """A mapping of scalars, small enough to read on one line."""
    return (
        isinstance(value, Mapping)
        and len(value) <= 6
        and all(_is_scalar(item) for item in value.values())
    )


def _pairs_text(value: Mapping[str, Any]) -> str:
    return ", ".join(f"{escape(str(key))} {_text(item)}" for key, item in value.items()) or "-"


def _is_keyed_rows(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(item, Mapping) and _is_flat(item) for item in value.values())
    )


def _is_rows(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(item, Mapping) for item in value)
    )


def _rows_table(title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = _table(title)
    for column in columns:
        table.add_column(_label(column))
    for row in rows:
        table.add_row(*(_text(row.get(column)) for column in columns))
    out.print(table)
