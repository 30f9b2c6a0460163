"""Note autosave: throttled writes, flush on close, privacy, and real processes that are killed
or write side by side into one SQLite database.

The in-process tests run on SQLite and on a real PostgreSQL, where the autosaver writes straight
to the server. A shared database normally puts each machine's notes in a local store first;
that path has its own tests (test_local_notes.py, test_shared_notes_postgres.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coach.sessions.autosave import NoteAutosaver, load_note
from coach.sessions.db import Database
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import Note

TYPIST = Path(__file__).with_name("autosave_typist.py")


def typed_text(role: str, words: int) -> str:
    """Must match autosave_typist.typed_text (that file runs as a script, not an import)."""
    return "".join(f"{role}{i} " for i in range(words))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(db: Database, database_backend: str) -> Database:
    """The programme database with the autosaver writing straight to it, on either backend."""
    return db if db.local_notes is None else Database(db.engine)


def notes(db: Database) -> list[Note]:
    with db.transaction() as orm:
        return list(orm.scalars(select(Note).order_by(Note.id)))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_changes_within_the_window_are_coalesced_into_one_write(
    db: Database, session_id: int
) -> None:
    clock = FakeClock()
    saver = NoteAutosaver(db, session_id, author_role="mentee", max_delay_s=1.0, clock=clock)
    try:
        saver.update("a")
        clock.now = 0.4
        saver.update("ab")
        clock.now = 0.99
        saver.update("abc")
        time.sleep(0.3)  # real time for the thread: the fake deadline (1.0) has not come
        assert saver.saves == 0 and notes(db) == [] and saver.dirty
        clock.now = 1.0  # the deadline set by the first change, not pushed back by later ones
        assert wait_until(lambda: saver.saves == 1)
        [note] = notes(db)
        assert (note.text, note.author_role, note.private) == ("abc", "mentee", False)
        assert saver.note_id == note.id and not saver.dirty

        clock.now = 1.5
        saver.update("abcd")  # the first change after a save starts a new window
        clock.now = 2.49
        time.sleep(0.2)
        assert saver.saves == 1
        clock.now = 2.5
        assert wait_until(lambda: saver.saves == 2)
        assert [n.text for n in notes(db)] == ["abcd"], "one row, updated in place"
    finally:
        saver.close()


def test_continuous_typing_is_saved_while_it_goes_on(db: Database, session_id: int) -> None:
    """A throttle, not a debounce: typing without a pause still reaches the disk."""
    saver = NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=0.2)
    text, lagging = "", []
    try:
        start = time.monotonic()
        while time.monotonic() - start < 1.5:
            text += "word "
            saver.update(text)
            time.sleep(0.02)
            stored = notes(db)
            if time.monotonic() - start > 0.5:  # how far behind the disk is, while typing
                lagging.append(len(text) - len(stored[0].text) if stored else len(text))
        during = saver.saves
    finally:
        saver.close()
    assert 3 <= during <= 1.5 / 0.2 + 2, f"{during} writes for {len(text) // 5} changes"
    assert max(lagging) <= 0.6 / 0.02 * len("word "), "never more than ~one window behind"
    assert notes(db)[0].text == text


def test_close_writes_at_once_and_the_saver_cannot_be_used_after(
    db: Database, session_id: int
) -> None:
    saver = NoteAutosaver(db, session_id, author_role="mentee", phase_id="core", max_delay_s=60)
    saver.update("Draft of a first LinkedIn post")
    started = time.monotonic()
    saver.close()
    assert time.monotonic() - started < 2, "close does not wait for the 60 s window"
    [note] = notes(db)
    assert (note.text, note.phase_id) == ("Draft of a first LinkedIn post", "core")
    saver.close()  # a second close is harmless
    with pytest.raises(RuntimeError, match="closed"):
        saver.update("more")
    assert saver.saves == 1


def test_flush_writes_now_and_only_when_something_changed(db: Database, session_id: int) -> None:
    with NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=60) as saver:
        saver.flush()
        assert saver.saves == 0 and notes(db) == [], "no empty note without typing"
        saver.update("one")
        saver.flush()
        assert saver.saves == 1 and notes(db)[0].text == "one"
        saver.flush()
        saver.update("one")  # the same text is not a change
        assert saver.saves == 1 and not saver.dirty
    assert saver.saves == 1


def test_privacy_is_written_at_once_and_kept(db: Database, session_id: int) -> None:
    saver = NoteAutosaver(db, session_id, author_role="mentee", private=True, max_delay_s=60)
    saver.update("My manager does not know yet")
    saver.flush()
    note_id = saver.note_id
    assert load_note(db, note_id).private is True
    saver.update("My manager does not know yet, but")
    saver.set_private(False)  # takes the pending text with it, without waiting for the window
    stored = load_note(db, note_id)
    assert (stored.private, stored.text) == (False, "My manager does not know yet, but")
    saver.set_private(True)
    assert load_note(db, note_id).private is True
    saver.close()

    again = NoteAutosaver(db, session_id, author_role="mentee", note_id=note_id, max_delay_s=60)
    assert again.text == "My manager does not know yet, but" and again.private
    again.update(again.text + " I will tell her.")
    again.close()
    [note] = notes(db)
    assert note.text.endswith("I will tell her.") and note.private


def test_bad_arguments_are_input_errors(db: Database, session_id: int) -> None:
    with pytest.raises(InputError, match="author_role"):
        NoteAutosaver(db, session_id, author_role="coach")
    with pytest.raises(InputError, match="max_delay_s"):
        NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=0)
    with pytest.raises(NotFound, match="session 999"):
        NoteAutosaver(db, 999, author_role="mentor")
    with pytest.raises(NotFound, match="note 5 does not exist in session"):
        NoteAutosaver(db, session_id, author_role="mentor", note_id=5)
    with pytest.raises(NotFound, match="note 5"):
        load_note(db, 5)


def test_a_failed_background_write_is_retried(
    db: Database, session_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    saver = NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=0.05)
    real_write = saver._write
    attempts = []

    def flaky(text: str, private: bool) -> int:
        attempts.append(text)
        if len(attempts) == 1:
            raise OSError("disk I/O error")
        return real_write(text, private)

    monkeypatch.setattr(saver, "_write", flaky)
    try:
        saver.update("kept despite the error")
        assert wait_until(lambda: saver.saves == 1)
        assert saver.failures == 1 and saver.error is None
        assert notes(db)[0].text == "kept despite the error"
    finally:
        saver.close()


def start_typist(
    session_id: int, role: str, words: int, interval_s: float, max_delay_s: float
) -> subprocess.Popen[str]:
    args = [str(session_id), role, str(words), str(interval_s), str(max_delay_s)]
    return subprocess.Popen(
        [sys.executable, str(TYPIST), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),  # carries the test's COACH_HOME
    )


@pytest.mark.sqlite_only(reason="a killed process's notes survive in the SQLite file (WAL)")
def test_sigkill_loses_at_most_the_last_window_of_typing(db: Database, session_id: int) -> None:
    """Killed ~3 s in; 2.9 s falls just before a save (saves come ~1.05 s apart: one window plus
    one typing interval), the worst moment, where about a full window of typing is unsaved."""
    typist = start_typist(session_id, "mentee", 0, 0.05, 1.0)
    typed: list[tuple[float, int]] = []
    try:
        first = typist.stdout.readline()  # the typist is up and has typed its first word
        assert first, typist.stderr.read()
        typed.append(tuple(map(float, first.split())))
        while time.monotonic() < typed[0][0] + 2.9:
            line = typist.stdout.readline()
            assert line, typist.stderr.read()
            typed.append(tuple(map(float, line.split())))
        killed_at = time.monotonic()
        os.kill(typist.pid, signal.SIGKILL)
        typist.wait(timeout=10)
    finally:
        if typist.poll() is None:
            typist.kill()
    assert typist.returncode == -signal.SIGKILL
    typed += [tuple(map(float, line.split())) for line in typist.stdout.read().splitlines()]

    [note] = notes(db)
    assert typed_text("mentee", 1000).startswith(note.text), "the stored text is what was typed"
    floor = max(length for at, length in typed if at <= killed_at - 2)
    assert len(note.text) >= floor, (len(note.text), floor, typed[-1])
    assert len(note.text) > 0 and note.text.endswith(" ")


@pytest.mark.sqlite_only(reason="SQLite's write lock and busy timeout; no 'database is locked'")
def test_two_processes_save_notes_into_one_database_at_once(db: Database, session_id: int) -> None:
    words = 60
    typists = {
        role: start_typist(session_id, role, words, 0.01, 0.02) for role in ("mentor", "mentee")
    }
    # The parent writes too, through the same file, while both children type.
    stop = threading.Event()

    def parent_types() -> None:
        with NoteAutosaver(db, session_id, author_role="mentor", max_delay_s=0.02) as saver:
            text = ""
            while not stop.is_set():
                text += "parent "
                saver.update(text)
                time.sleep(0.01)

    parent = threading.Thread(target=parent_types)
    parent.start()
    try:
        results = {role: proc.communicate(timeout=60) for role, proc in typists.items()}
    finally:
        stop.set()
        parent.join()
        for proc in typists.values():
            if proc.poll() is None:
                proc.kill()
    for role, (out, err) in results.items():
        assert typists[role].returncode == 0, err
        assert "database is locked" not in err
        assert out.splitlines()[-1].startswith("done ")
    stored = {note.id: note for note in notes(db)}
    assert len(stored) == 3
    for role, (out, _) in results.items():
        note = stored[int(out.splitlines()[-1].split()[1])]
        assert (note.author_role, note.text) == (role, typed_text(role, words))
    parent_note = next(n for n in stored.values() if n.text.startswith("parent"))
    assert set(parent_note.text.split()) == {"parent"}
    with db.transaction() as orm:
        assert orm.scalar(select(func.count()).select_from(Note)) == 3
        assert orm.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
