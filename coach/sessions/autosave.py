"""Autosaving a note while it is typed: one Note row, written at most ``max_delay_s`` late.

The UI calls ``update(text)`` on every keystroke; that only records the text, so typing never
waits for the disk. A background thread writes the latest text with a *throttle*, not a
debounce: the first change after a save sets a deadline ``max_delay_s`` away, later changes
before the deadline ride along in the same write. A debounce would keep postponing the write
while someone types without a pause, and a SIGKILL could then lose a whole paragraph; the
throttle bounds the loss to ``max_delay_s`` of typing (plus the duration of one short write).

Each write is its own short transaction. WAL mode with ``synchronous=NORMAL`` (db.py) makes a
committed write survive the process being killed, and the busy timeout lets several processes
save notes into one database at once. ``close()`` writes whatever is left, so closing never loses
text; an autosaver that is never closed is closed by ``atexit`` on a normal interpreter exit.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from coach.sessions.db import Database
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import ROLES, Note, Session, utcnow

POLL_S = 0.05
"""Longest single wait while a write is pending, so that an injected clock is honoured."""


class NoteAutosaver:
    """Keeps one note of one session saved while it is edited; thread-safe.

    ``note_id`` continues an existing note of the session (its text and privacy are loaded);
    otherwise the row is created by the first save that has text, so opening and closing an
    editor without typing leaves no empty note behind. When the database is shared
    (``db.local_notes``), the note is written to this machine's store and its ``note_id`` is a
    uid; the store then shares it with the server, or keeps it until the server answers.
    """

    def __init__(
        self,
        db: Database,
        session_id: int,
        *,
        author_role: str,
        phase_id: str = "",
        private: bool = False,
        max_delay_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        note_id: int | str | None = None,
    ) -> None:
        if author_role not in ROLES:
            raise InputError(f"author_role must be 'mentor' or 'mentee', not {author_role!r}")
        if not max_delay_s > 0:
            raise InputError(f"max_delay_s must be positive, not {max_delay_s!r}")
        self.db = db
        self.session_id = session_id
        self.author_role = author_role
        self.phase_id = phase_id
        self.max_delay_s = max_delay_s
        self.clock = clock
        self.note_id = note_id
        self.saves = 0
        """How many writes reached the database (for status displays and tests)."""
        self.error: Exception | None = None
        """The last background write failure, cleared by the next success (for a UI warning)."""
        self.failures = 0
        """How many background writes failed; each failed write is retried after max_delay_s."""
        self.local = db.local_notes
        """This machine's note store when the database is shared: notes are written there."""
        self._text = ""
        self._private = private
        if isinstance(note_id, str):  # a uid: a note of this machine's store
            mine = self.local.get(note_id) if self.local else None
            if mine is None or mine.session_id != session_id:
                raise NotFound(f"note {note_id} does not exist in session {session_id}")
            self._text, self._private = mine.text, mine.private
        try:
            self._load(note_id)
        except OperationalError:
            if self.local is None or isinstance(note_id, int):
                raise
            # The shared server is away: the note is written here and shared once it answers
            # (a session deleted there meanwhile keeps it here, with the reason).
        self._version = 0
        self._saved_version = 0
        self._deadline: float | None = None
        self._closed = False
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()  # one write at a time, so an older text never wins
        self._thread = threading.Thread(
            target=self._run, name=f"note-autosave-session-{session_id}", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    # --- editing -----------------------------------------------------------------------------

    @property
    def text(self) -> str:
        with self._cond:
            return self._text

    @property
    def private(self) -> bool:
        with self._cond:
            return self._private

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the database yet."""
        with self._cond:
            return self._version != self._saved_version

    def update(self, text: str) -> None:
        """Record the latest full text; it is written within ``max_delay_s``."""
        with self._cond:
            self._check_open()
            if text == self._text:
                return
            self._text = text
            self._changed()

    def set_private(self, private: bool) -> None:
        """Change who may see the note, written at once: privacy never waits for the throttle."""
        with self._cond:
            self._check_open()
            if private == self._private:
                return
            self._private = private
            self._changed()
        self.flush()

    def flush(self) -> None:
        """Write pending changes now, in the caller's thread; raises if the write fails."""
        self._save()

    def close(self) -> None:
        """Stop the thread and write what is left. Safe to call more than once."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        atexit.unregister(self.close)
        self._thread.join()
        self._save()

    def __enter__(self) -> NoteAutosaver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------

    def _load(self, note_id: int | str | None) -> None:
        """Check the session exists; continue a note of the database when given its id."""
        with self.db.transaction() as orm:
            if orm.get(Session, self.session_id) is None:
                raise NotFound(f"session {self.session_id} does not exist")
            if not isinstance(note_id, int):
                return
            note = orm.get(Note, note_id)
            if note is None or note.session_id != self.session_id:
                raise NotFound(f"note {note_id} does not exist in session {self.session_id}")
            self._text, self._private = note.text, note.private
            if self.local is not None:  # continued here: from now on it is written here
                from coach.sessions.service import note_dict

                self.note_id = self.local.adopt(note_dict(note), self.session_id)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the autosaver of session {self.session_id}'s note is closed")

    def _changed(self) -> None:
        """Call with the lock held: count the change and, if none is pending, set the deadline."""
        self._version += 1
        if self._deadline is None:
            self._deadline = self.clock() + self.max_delay_s
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._deadline is None:
                        self._cond.wait()
                        continue
                    remaining = self._deadline - self.clock()
                    if remaining <= 0:
                        break
                    self._cond.wait(min(remaining, POLL_S))
                if self._closed:
                    return  # close() writes the rest in its own thread
            try:
                self._save()
                self.error = None
            except Exception as exc:  # keep typing; _save rescheduled the write
                self.error = exc
                self.failures += 1

    def _save(self) -> None:
        with self._write_lock:
            with self._cond:
                version, text, private = self._version, self._text, self._private
                self._deadline = None
                if version == self._saved_version:
                    return
                if self.note_id is None and not text:  # nothing worth a row yet
                    self._saved_version = version
                    return
            try:
                self.note_id = self._write(text, private)
            except Exception:
                with self._cond:
                    if self._deadline is None:
                        self._deadline = self.clock() + self.max_delay_s
                raise
            with self._cond:
                self._saved_version = version
                self.saves += 1

    @property
    def unshared(self) -> bool:
        """True while a shared note is saved on this machine only (the server is away)."""
        if self.local is None or not isinstance(self.note_id, str):
            return False
        mine = self.local.get(self.note_id)
        return mine is not None and mine.pending

    def _write(self, text: str, private: bool) -> int | str:
        now = utcnow()
        if self.local is not None:
            uid = self.local.save(
                self.note_id if isinstance(self.note_id, str) else None,
                session_id=self.session_id,
                phase_id=self.phase_id,
                author_role=self.author_role,
                private=private,
                text=text,
                now=now,
            )
            self.local.request_sync()  # shared in the background; typing never waits for it
            return uid
        with self.db.transaction() as orm:
            if self.note_id is None:
                note = Note(
                    session_id=self.session_id,
                    phase_id=self.phase_id,
                    author_role=self.author_role,
                    private=private,
                    text=text,
                    created_at=now,
                    updated_at=now,
                )
                orm.add(note)
                orm.flush()
                return note.id
            note = orm.get(Note, self.note_id)
            if note is None:
                raise NotFound(f"note {self.note_id} was deleted while it was being edited")
            note.text, note.private, note.updated_at = text, private, now
            return note.id


def load_note(db: Database, note_id: int) -> Note:
    """A note as stored (detached: its columns are loaded, its relationships are not)."""
    with db.transaction() as orm:
        note = orm.get(Note, note_id)
        if note is None:
            raise NotFound(f"note {note_id} does not exist")
        return note
