"""Notes with a shared database: written on this machine first, shared by uid, private ones never.

The logic tests here use a real SQLite file standing in for the server (the sync code only sees a
``Database``); ``test_shared_notes_postgres.py`` runs the same path against a real PostgreSQL.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from coach.sessions import local_notes
from coach.sessions.autosave import NoteAutosaver
from coach.sessions.db import Database
from coach.sessions.local_notes import LocalNotes, merge_notes
from coach.sessions.models import Note
from coach.sessions.service import session_detail


@pytest.fixture
def shared(db: Database, tmp_path: Path):
    """The programme database with a local note store attached, as in shared mode."""
    db.local_notes = LocalNotes(tmp_path / "private-notes.sqlite3", db, retry_s=0.05)
    yield db
    db.local_notes.close()
    db.local_notes = None


def server_notes(db: Database) -> list[Note]:
    with db.transaction() as orm:
        return list(orm.scalars(select(Note).order_by(Note.id)))


def test_a_shared_note_reaches_the_server_once_and_a_private_one_never(
    shared: Database, session_id: int
) -> None:
    with NoteAutosaver(shared, session_id, author_role="mentee", max_delay_s=60) as saver:
        saver.update("first draft")
        saver.flush()
        saver.update("first draft, then more")
        saver.flush()
        uid = saver.note_id
    with NoteAutosaver(
        shared, session_id, author_role="mentor", private=True, max_delay_s=60
    ) as secret:
        secret.update("only for me")
    assert isinstance(uid, str)
    assert shared.local_notes.wait_synced(timeout=5)
    rows = server_notes(shared)
    assert [(row.uid, row.text, row.private) for row in rows] == [
        (uid, "first draft, then more", False)
    ]
    assert not shared.local_notes.pending()
    mine = shared.local_notes.get(secret.note_id)
    assert mine is not None and mine.private and mine.text == "only for me"


def test_making_a_shared_note_private_takes_it_off_the_server(
    shared: Database, session_id: int
) -> None:
    with NoteAutosaver(shared, session_id, author_role="mentee", max_delay_s=60) as saver:
        saver.update("was shared")
        saver.flush()
        assert shared.local_notes.wait_synced(timeout=5)
        assert len(server_notes(shared)) == 1
        saver.set_private(True)
        assert shared.local_notes.wait_synced(timeout=5)
        assert server_notes(shared) == []
        saver.set_private(False)  # and back: the same uid, one row
    assert shared.local_notes.wait_synced(timeout=5)
    assert [row.uid for row in server_notes(shared)] == [saver.note_id]


def test_the_pairs_view_merges_private_and_unshared_notes_and_no_other_view_does(
    shared: Database, session_id: int
) -> None:
    with NoteAutosaver(shared, session_id, author_role="mentor", private=True) as secret:
        secret.update("private thought")
    with NoteAutosaver(shared, session_id, author_role="mentee") as shared_note:
        shared_note.update("shared thought")
    pair_view = session_detail(shared, session_id, include_private=True)["notes"]
    assert [n["text"] for n in pair_view] == ["private thought", "shared thought"]
    assert shared.local_notes.wait_synced(timeout=5)
    others = session_detail(shared, session_id)["notes"]
    assert [n["text"] for n in others] == ["shared thought"]


def test_notes_save_locally_while_the_server_is_away_and_sync_once_it_answers(
    shared: Database, session_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_push = local_notes._push
    down = True

    def push(db: Database, note: local_notes.LocalNote) -> None:
        if down:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("server is away"))
        real_push(db, note)

    monkeypatch.setattr(local_notes, "_push", push)
    saver = NoteAutosaver(shared, session_id, author_role="mentee", max_delay_s=60)
    for words in range(1, 6):
        saver.update(" ".join(["word"] * words))
        saver.flush()  # never raises: the text is safe on this machine
    assert saver.error is None and saver.unshared
    assert server_notes(shared) == []
    view = session_detail(shared, session_id, include_private=True)["notes"]
    assert [n["text"] for n in view] == ["word word word word word"]

    down = False
    assert shared.local_notes.wait_synced(timeout=5)
    saver.update("the last words")
    saver.close()
    assert shared.local_notes.wait_synced(timeout=5)
    assert [(row.uid, row.text) for row in server_notes(shared)] == [
        (saver.note_id, "the last words")
    ]
    assert not saver.unshared


def test_a_sync_repeated_after_a_lost_answer_writes_no_second_row(
    shared: Database, session_id: int
) -> None:
    store = shared.local_notes
    uid = store.save(
        None, session_id=session_id, phase_id="", author_role="mentor", private=False, text="x"
    )
    note = store.get(uid)
    local_notes._push(shared, note)  # the server got it, but the answer was lost
    assert store.sync(uid)
    assert store.sync_pending() == 0
    assert [row.uid for row in server_notes(shared)] == [uid]


def test_a_note_whose_session_was_deleted_on_the_server_stays_here(
    shared: Database, session_id: int
) -> None:
    from coach.sessions.models import Session

    store = shared.local_notes
    uid = store.save(
        None, session_id=session_id, phase_id="", author_role="mentor", private=False, text="x"
    )
    with shared.transaction() as orm:
        orm.delete(orm.get(Session, session_id))
    assert store.sync(uid)  # settled, not retried for ever
    kept = store.get(uid)
    assert kept is not None and kept.text == "x" and "no longer exists" in kept.problem
    assert store.pending() == []


def test_continuing_a_note_from_the_partners_machine_keeps_its_uid(
    shared: Database, session_id: int
) -> None:
    with shared.transaction() as orm:
        orm.add(Note(session_id=session_id, author_role="mentee", text="from the other laptop"))
    (row,) = server_notes(shared)
    with NoteAutosaver(
        shared, session_id, author_role="mentee", note_id=row.id, max_delay_s=60
    ) as saver:
        assert saver.text == "from the other laptop"
        saver.update("from the other laptop, continued here")
    assert shared.local_notes.wait_synced(timeout=5)
    assert [(r.uid, r.text) for r in server_notes(shared)] == [
        (row.uid, "from the other laptop, continued here")
    ]
    assert saver.note_id == row.uid


def test_the_local_store_is_private_to_the_user(shared: Database) -> None:
    mode = stat.S_IMODE(shared.local_notes.path.stat().st_mode)
    assert mode == 0o600


def test_merge_prefers_this_machines_copy_and_keeps_order() -> None:
    from datetime import UTC, datetime

    server = [
        {"id": 1, "uid": "a", "text": "old", "created_at": "2026-11-02T09:00:00+00:00"},
        {"id": 2, "uid": "b", "text": "theirs", "created_at": "2026-11-02T09:05:00+00:00"},
    ]
    mine = local_notes.LocalNote(
        uid="a",
        session_id=1,
        phase_id="",
        author_role="mentor",
        private=False,
        text="new",
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        updated_at=datetime(2026, 11, 2, 9, 10, tzinfo=UTC),
        pending=True,
    )
    merged = merge_notes(server, [mine])
    assert [n["text"] for n in merged] == ["new", "theirs"]


def test_while_the_server_is_away_the_syncer_waits_between_tries(
    shared: Database, session_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection fails at once: retrying at once would spin a core (it once did)."""
    import time

    tries: list[float] = []

    def push(db: Database, note: local_notes.LocalNote) -> None:
        tries.append(time.monotonic())
        raise OperationalError("INSERT", {}, ConnectionRefusedError("server is away"))

    monkeypatch.setattr(local_notes, "_push", push)
    shared.local_notes.retry_s = 0.25
    store = shared.local_notes
    store.save(
        None, session_id=session_id, phase_id="", author_role="mentor", private=False, text="x"
    )
    store.request_sync()
    time.sleep(1.2)
    assert 2 <= len(tries) <= 7, len(tries)
    assert store.pending()
