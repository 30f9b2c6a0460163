"""Exports: the programme report for sponsors, and one session's record for its pair.

Two audiences, two rules. A programme report leaves the facilitator's machine, so it is
anonymised by default: no names, no emails, no free text, and pairs appear only under their
pseudonymous key (see ``coach.sessions.metrics.pair_key``). A session export is the pair's own
record, so it names them and carries their shared notes. Private notes appear in neither: they
are not even read from the database here, so no later formatting change can leak them.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coach.sessions.db import Database
from coach.sessions.errors import InputError, NotFound
from coach.sessions.metrics import PairMetrics, ProgrammeMetrics
from coach.sessions.models import ROLES, Experiment, Note, Pair, Session

REPORT_COLUMNS = (
    "pair",
    "active",
    "held",
    "planned",
    "cancelled",
    "last_session",
    "days_since",
    "stalled",
    "mean_rating_mentor",
    "mean_rating_mentee",
)
NAMED_COLUMNS = ("pair_id", "mentor", "mentee")
"""Added after ``pair`` when a report is not anonymised."""

_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _pair_row(pair: PairMetrics, anonymise: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"pair": pair.key}
    if not anonymise:
        row |= {"pair_id": pair.pair_id, "mentor": pair.mentor_name, "mentee": pair.mentee_name}
    return row | {
        "active": pair.active,
        "held": pair.held,
        "planned": pair.planned,
        "cancelled": pair.cancelled,
        "last_session": pair.last_held_at.date().isoformat() if pair.last_held_at else None,
        "days_since": pair.days_since_last,
        "stalled": pair.stalled,
        "mean_rating_mentor": _round(pair.mean_rating["mentor"]),
        "mean_rating_mentee": _round(pair.mean_rating["mentee"]),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def programme_report(metrics: ProgrammeMetrics, *, anonymise: bool = True) -> dict[str, Any]:
    """The programme in numbers, ready for ``json.dumps``; one entry per pair.

    Everything in it is a count, a rate, a date or a key. With ``anonymise=False`` each pair
    also carries its id and the two names, for the facilitator's own follow-up.
    """
    keys = {pair.pair_id: pair.key for pair in metrics.pairs}
    stalled: list[Any] = (
        [keys[pair_id] for pair_id in metrics.stalled_pairs]
        if anonymise
        else list(metrics.stalled_pairs)
    )
    return {
        "generated_at": metrics.now.isoformat(),
        "anonymised": anonymise,
        "stall_days": metrics.stall_days,
        "programme": {
            "pairs": metrics.pair_count,
            "active_pairs": metrics.active_pairs,
            "finished_pairs": metrics.finished_pairs,
            "stalled_pairs": stalled,
            "sessions_held": metrics.sessions_held,
            "sessions_planned": metrics.sessions_planned,
            "sessions_cancelled": metrics.sessions_cancelled,
            "mean_rating": {side: _round(metrics.mean_rating[side]) for side in ROLES},
            "confidence_delta": {
                topic: {"mean": round(delta, 2), "rows": metrics.confidence_samples[topic]}
                for topic, delta in metrics.confidence_delta.items()
            },
            "experiments": dict(sorted(metrics.experiments.items())),
            "experiment_completion_rate": _round(metrics.experiment_completion_rate, 3),
            "cancellation_rate": _round(metrics.cancellation_rate, 3),
        },
        "pairs": [_pair_row(pair, anonymise) for pair in metrics.pairs],
    }


def _csv_cell(value: Any) -> Any:
    """Booleans as yes/no, missing as empty, and text that a spreadsheet would run as a formula
    (a name starting with ``=``) quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(_SPREADSHEET_FORMULA):
        return "'" + value
    return value


def report_csv(metrics: ProgrammeMetrics, *, anonymise: bool = True) -> str:
    """One row per pair, in pair id order, with the columns of ``REPORT_COLUMNS``."""
    columns = list(REPORT_COLUMNS)
    if not anonymise:
        columns[1:1] = NAMED_COLUMNS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for pair in metrics.pairs:
        writer.writerow({k: _csv_cell(v) for k, v in _pair_row(pair, anonymise).items()})
    return out.getvalue()


# --- one session -------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def session_record(db: Database, session_id: int) -> dict[str, Any]:
    """The session as plain data: what ``export_session`` formats. Private notes are excluded
    in the query itself."""
    with db.transaction() as orm:
        session = orm.scalar(
            select(Session)
            .where(Session.id == session_id)
            .options(
                selectinload(Session.pair).selectinload(Pair.mentor),
                selectinload(Session.pair).selectinload(Pair.mentee),
                selectinload(Session.phases),
                selectinload(Session.feedback),
                selectinload(Session.confidence),
            )
        )
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        notes = orm.scalars(
            select(Note)
            .where(Note.session_id == session_id, Note.private.is_(False))
            .order_by(Note.created_at, Note.id)
        ).all()
        experiments = orm.scalars(
            select(Experiment).where(Experiment.session_id == session_id).order_by(Experiment.id)
        ).all()
        started = session.status not in ("planned", "prepared")
        phase_ids = {phase.phase_id for phase in session.phases}
        feedback = {row.side: row for row in session.feedback}
        return {
            "session_id": session.id,
            "pair_id": session.pair_id,
            "mentor": session.pair.mentor.name,
            "mentee": session.pair.mentee.name,
            "number": session.number,
            "topics": list(session.topic_ids),
            "template": session.template_id,
            "status": session.status,
            "scheduled_at": _iso(session.scheduled_at),
            "started_at": _iso(session.started_at),
            "ended_at": _iso(session.ended_at),
            "cancel_reason": session.cancel_reason,
            "phases": [
                {
                    "id": phase.phase_id,
                    "title": phase.title,
                    "planned_minutes": phase.planned_minutes,
                    "actual_minutes": round(phase.seconds_spent / 60, 1) if started else None,
                    "notes": [_note(n) for n in notes if n.phase_id == phase.phase_id],
                }
                for phase in session.phases
            ],
            "other_notes": [_note(n) for n in notes if n.phase_id not in phase_ids],
            "experiments": [
                {
                    "title": e.title,
                    "owner": e.owner,
                    "due_date": e.due_date.isoformat() if e.due_date else None,
                    "status": e.status,
                }
                for e in experiments
            ],
            "feedback": [
                {
                    "side": side,
                    "rating": feedback[side].rating,
                    "what_worked": feedback[side].what_worked,
                    "what_to_change": feedback[side].what_to_change,
                    "good_fit": feedback[side].good_fit,
                }
                for side in ROLES
                if side in feedback
            ],
            "confidence": [
                {"topic": row.topic_id, "before": row.before, "after": row.after}
                for row in sorted(session.confidence, key=lambda row: row.topic_id)
            ],
            "summary": session.summary,
        }


def _note(note: Note) -> dict[str, str]:
    return {"author": note.author_role, "text": note.text}


def export_session(db: Database, session_id: int, fmt: Literal["md", "json"]) -> str:
    """The session's record for the pair, as Markdown or JSON; private notes never appear."""
    if fmt not in ("md", "json"):
        raise InputError(f"export format must be 'md' or 'json', not {fmt!r}")
    record = session_record(db, session_id)
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    return _markdown(record)


def _bullet(text: str) -> str:
    """A Markdown list item; continuation lines are indented so a multi-line note stays one."""
    return "- " + text.strip().replace("\n", "\n  ")


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _markdown(record: dict[str, Any]) -> str:
    lines = [
        f"# Session {record['number']}: {record['mentor']} (mentor) and {record['mentee']} "
        "(mentee)",
        "",
        f"- Status: {record['status']}",
        f"- Topics: {', '.join(record['topics']) or 'none'}",
        f"- Template: {record['template']}",
    ]
    for label, key in (
        ("Scheduled", "scheduled_at"),
        ("Started", "started_at"),
        ("Ended", "ended_at"),
    ):
        if record[key]:
            lines.append(f"- {label}: {record[key]}")
    if record["cancel_reason"]:
        lines.append(f"- Cancelled because: {record['cancel_reason']}")
    if record["summary"]:
        lines += ["", "## Summary", "", record["summary"].strip()]

    lines += ["", "## Phases", "", "| Phase | Planned (min) | Actual (min) |", "|---|---|---|"]
    for phase in record["phases"]:
        title = phase["title"].replace("|", "\\|")
        lines.append(
            f"| {title} | {phase['planned_minutes']} | {_minutes(phase['actual_minutes'])} |"
        )

    noted = [p for p in record["phases"] if p["notes"]]
    if noted or record["other_notes"]:
        lines += ["", "## Notes"]
        groups = [(p["title"], p["notes"]) for p in noted]
        if record["other_notes"]:
            groups.append(("General", record["other_notes"]))
        for title, notes in groups:
            lines += ["", f"### {title}", ""]
            lines += [_bullet(f"{n['author']}: {n['text']}") for n in notes]

    if record["experiments"]:
        lines += ["", "## Experiments", ""]
        for e in record["experiments"]:
            due = f", due {e['due_date']}" if e["due_date"] else ""
            lines.append(_bullet(f"{e['title']} ({e['owner']}{due}, {e['status']})"))

    if record["feedback"]:
        lines += ["", "## Feedback", ""]
        for f in record["feedback"]:
            lines.append(f"### {f['side'].capitalize()}: {f['rating']}/5")
            lines.append("")
            if f["what_worked"]:
                lines.append(_bullet(f"What worked: {f['what_worked']}"))
            if f["what_to_change"]:
                lines.append(_bullet(f"What to change: {f['what_to_change']}"))
            if f["good_fit"] is not None:
                lines.append(_bullet(f"Good fit: {'yes' if f['good_fit'] else 'no'}"))
            lines.append("")
        lines.pop()

    if record["confidence"]:
        lines += [
            "",
            "## Confidence (mentee, 1-5)",
            "",
            "| Topic | Before | After |",
            "|---|---|---|",
        ]
        for c in record["confidence"]:
            before = "-" if c["before"] is None else c["before"]
            after = "-" if c["after"] is None else c["after"]
            lines.append(f"| {c['topic']} | {before} | {after} |")
    return "\n".join(lines) + "\n"
