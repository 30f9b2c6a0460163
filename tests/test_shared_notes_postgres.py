"""A shared programme on a real PostgreSQL that goes away mid-session and comes back.

Nothing is faked: the cluster is stopped with ``pg_ctl stop`` while a pair types, and started
again; the notes must keep saving on the pair's machine and reach the server exactly once.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from coach.sessions.autosave import NoteAutosaver
from coach.sessions.db import open_database
from coach.sessions.engine import SessionEngine, schedule_session
from coach.sessions.models import Pair, Person
from coach.sessions.service import session_detail
from coach.settings import load_settings
from tests.conftest import run_coach


@pytest.fixture
def shared_url(private_postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    url = private_postgres.create_database()
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    return url


def server_rows(url: str) -> list[tuple[str, str, bool]]:
    """The notes as the server holds them, read with a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT uid, text, private FROM notes ORDER BY id"))
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def start_session(db) -> int:
    with db.transaction() as orm:
        pair = Pair(
            mentor=Person(name="Ada", role="mentor"), mentee=Person(name="Bo", role="mentee")
        )
        orm.add(pair)
        orm.flush()
        pair_id = pair.id
    session_id = schedule_session(db, pair_id)
    SessionEngine(db, session_id).start()
    return session_id


def test_notes_keep_saving_while_postgres_is_stopped_and_sync_once_without_duplicates(
    private_postgres, shared_url: str
) -> None:
    settings = load_settings()
    assert settings.shared_database
    db = open_database(settings)
    session_id = start_session(db)
    shared = NoteAutosaver(db, session_id, author_role="mentee", max_delay_s=0.05)
    secret = NoteAutosaver(db, session_id, author_role="mentor", private=True, max_delay_s=0.05)
    db.local_notes.retry_s = 0.2

    typed = ""
    for word in ("we", "tried", "async", "standups"):
        typed += word + " "
        shared.update(typed)
        time.sleep(0.1)
    secret.update("my own worry about the team")
    shared.flush()
    secret.flush()
    assert [r[1] for r in server_rows(shared_url)] == [typed]

    private_postgres.stop()  # the server is lost mid-session
    for word in ("for", "two", "weeks", "and", "kept", "the", "notes"):
        typed += word + " "
        shared.update(typed)
        time.sleep(0.1)
    shared.flush()  # never raises: the text is safe on this machine
    assert shared.error is None and shared.failures == 0
    assert shared.unshared
    mine = db.local_notes.get(shared.note_id)
    assert mine is not None and mine.text == typed

    private_postgres.start()
    assert db.local_notes.wait_synced(timeout=30)
    shared.close()
    secret.close()
    rows = server_rows(shared_url)
    assert rows == [(shared.note_id, typed, False)]  # once, the latest text, not private
    assert all("worry" not in row[1] for row in rows)
    view = session_detail(db, session_id, include_private=True)["notes"]
    assert sorted(n["text"] for n in view) == sorted([typed, "my own worry about the team"])
    db.dispose()


def test_notes_kept_while_the_server_was_down_sync_when_coach_next_opens(
    private_postgres, shared_url: str
) -> None:
    db = open_database(load_settings())
    session_id = start_session(db)
    saver = NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=60)
    private_postgres.stop()
    saver.update("written while the server was away")
    saver.close()  # the app quits before the server returns
    db.dispose()

    private_postgres.start()
    again = open_database(load_settings())  # the next start shares what was left
    again.dispose()
    assert server_rows(shared_url) == [(saver.note_id, "written while the server was away", False)]


def test_a_stopped_server_is_named_clearly_by_the_cli_and_doctor(
    private_postgres, shared_url: str
) -> None:
    private_postgres.stop()
    where = f"127.0.0.1:{private_postgres.port}"
    listed = run_coach("sessions", "list")
    assert listed.returncode == 1
    assert "cannot reach the programme database" in listed.stderr and where in listed.stderr
    assert "Traceback" not in listed.stderr
    doctor = run_coach("doctor", "--json")
    assert doctor.returncode == 1
    assert '"part": "database"' in doctor.stdout and where in doctor.stdout
    private_postgres.start()
    assert run_coach("doctor").returncode in (0, 1)  # other parts may be off; the DB answers
    answered = run_coach("doctor", "--json")
    import json

    database = next(p for p in json.loads(answered.stdout) if p["part"] == "database")
    assert database["ok"] and database["backend"] == "postgresql"
