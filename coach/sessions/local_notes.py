"""This machine's notes when the programme database is shared (PostgreSQL).

Every note a pair writes on this machine is saved here first, in a private SQLite file, so typing
never depends on the network. Shared notes are then copied to the programme database by their
``uid`` (an upsert, so a retry after a lost answer never makes a second row); private notes are
never copied, and one made private after it was shared is deleted from the server. While the
server is away, notes keep saving here and a background thread retries until it answers.

The pair's own views merge these notes with the server's (``merge_notes``), so a pair sees its
private notes and its not-yet-shared ones; nothing else reads this file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.sessions.errors import NotFound
from coach.sessions.models import new_note_uid as new_uid

if TYPE_CHECKING:
    from coach.probe import Probe
    from coach.sessions.db import Database
    from coach.settings import Settings

log = logging.getLogger(__name__)

RETRY_S = 5.0
"""How often a failed sync is tried again while the server is away."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    uid TEXT PRIMARY KEY,
    session_id INTEGER NOT NULL,
    phase_id TEXT NOT NULL,
    author_role TEXT NOT NULL,
    private INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    synced_version INTEGER NOT NULL DEFAULT 0,
    problem TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notes_session ON notes (session_id);
"""


@dataclass(frozen=True)
class LocalNote:
    uid: str
    session_id: int
    phase_id: str
    author_role: str
    private: bool
    text: str
    created_at: datetime
    updated_at: datetime
    pending: bool
    """True while the server does not have this version yet (shared notes only)."""
    problem: str = ""
    """Why the server refused it for good (its session was deleted there); it stays here."""

    def as_dict(self) -> dict[str, Any]:
        """The shape ``session_detail`` gives a note; ``id`` is the uid for local notes."""
        return {
            "id": self.uid,
            "uid": self.uid,
            "phase_id": self.phase_id,
            "author_role": self.author_role,
            "private": self.private,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "shared": not self.private and not self.pending,
        }


class LocalNotes:
    """The local note store and its sync to the shared database; thread-safe."""

    def __init__(self, path: Path, db: Database | None = None, *, retry_s: float = RETRY_S) -> None:
        from coach.sessions.db import private_sqlite_file

        private_sqlite_file(path)  # it holds private notes
        self.path = path
        self.db = db
        self.retry_s = retry_s
        self.last_error: Exception | None = None
        """Why the last sync failed (cleared by the next one that reaches the server)."""
        self._conn = sqlite3.connect(
            path, timeout=30, check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()  # one sync at a time, so an older text never wins
        self._wake = threading.Event()
        self._closed = False
        self._syncer: threading.Thread | None = None

    # --- local writes --------------------------------------------------------------------------

    def save(
        self,
        uid: str | None,
        *,
        session_id: int,
        phase_id: str,
        author_role: str,
        private: bool,
        text: str,
        now: datetime | None = None,
    ) -> str:
        """Write one note's latest text here (a new note when ``uid`` is None); returns the uid."""
        stamp = (now or datetime.now(UTC)).isoformat()
        with self._lock:
            if uid is None:
                uid = new_uid()
                self._conn.execute(
                    "INSERT INTO notes (uid, session_id, phase_id, author_role, private, text,"
                    " created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (uid, session_id, phase_id, author_role, int(private), text, stamp, stamp),
                )
                return uid
            changed = self._conn.execute(
                "UPDATE notes SET text = ?, private = ?, updated_at = ?, version = version + 1,"
                " problem = '' WHERE uid = ?",
                (text, int(private), stamp, uid),
            ).rowcount
        if not changed:
            raise NotFound(f"note {uid} is not in this machine's note store ({self.path})")
        return uid

    def adopt(self, note: dict[str, Any], session_id: int) -> str:
        """Continue a note that came from the server (e.g. written on the partner's machine)."""
        uid = note.get("uid") or new_uid()
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO notes (uid, session_id, phase_id, author_role, private,"
                " text, created_at, updated_at, version, synced_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    uid,
                    session_id,
                    note.get("phase_id") or "",
                    note["author_role"],
                    int(bool(note.get("private"))),
                    note.get("text") or "",
                    note.get("created_at") or datetime.now(UTC).isoformat(),
                    note.get("updated_at") or datetime.now(UTC).isoformat(),
                    1 if note.get("uid") else 0,  # a row without a uid gets one on the next sync
                ),
            )
        return uid

    def get(self, uid: str) -> LocalNote | None:
        with self._lock:
            row = self._conn.execute(f"{_SELECT} WHERE uid = ?", (uid,)).fetchone()
        return _note(row) if row else None

    def for_session(self, session_id: int) -> list[LocalNote]:
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE session_id = ? ORDER BY created_at, uid", (session_id,)
            ).fetchall()
        return [_note(row) for row in rows]

    def pending(self) -> list[str]:
        """Uids whose latest version the server has not got yet (nor refused for good)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT uid FROM notes WHERE version <> synced_version AND problem = ''"
                " ORDER BY created_at"
            ).fetchall()
        return [row[0] for row in rows]

    def counts(self) -> tuple[int, int]:
        """How many notes this store holds, and how many of them are private."""
        with self._lock:
            total, private = self._conn.execute(
                "SELECT count(*), coalesce(sum(private), 0) FROM notes"
            ).fetchone()
        return total, private

    # --- sync ----------------------------------------------------------------------------------

    def sync(self, uid: str) -> bool:
        """Bring the server in line with this note; False (and a retry later) if it is away."""
        if self.db is None:
            return True
        with self._sync_lock:
            with self._lock:
                row = self._conn.execute(
                    "SELECT version, synced_version, problem FROM notes WHERE uid = ?", (uid,)
                ).fetchone()
            if row is None or row[0] == row[1] or row[2]:
                return True
            note = self.get(uid)
            assert note is not None
            try:
                _push(self.db, note)
            except NotFound as exc:  # the session is gone on the server: keep the note here
                self._mark(uid, row[0], problem=str(exc))
                return True
            except Exception as exc:
                self.last_error = exc
                self._ensure_syncer()  # it tries again every retry_s (not at once: no busy loop)
                return False
            self.last_error = None
            self._mark(uid, row[0])
            return True

    def sync_pending(self) -> int:
        """Sync every pending note; returns how many are still pending."""
        for uid in self.pending():
            if not self.sync(uid):
                break
        return len(self.pending())

    def request_sync(self) -> None:
        """Share what is pending now, in the background: saving never waits for the network."""
        if self._ensure_syncer():
            self._wake.set()

    def _ensure_syncer(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            if self._syncer is None or not self._syncer.is_alive():
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="local-notes-sync", daemon=True
                )
                self._syncer.start()
            return True

    def wait_synced(self, timeout: float, poll: float = 0.05) -> bool:
        """Block until nothing is pending (for tests and a clean exit); True if so."""
        import time

        deadline = time.monotonic() + timeout
        self.request_sync()
        while self.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    def _mark(self, uid: str, version: int, problem: str = "") -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE notes SET synced_version = ?, problem = ? WHERE uid = ? AND version = ?",
                (version, problem, uid, version),
            )

    def _sync_loop(self) -> None:
        """Sync when asked; while the server is away, try again every ``retry_s``."""
        while not self._closed:
            self._wake.wait(self.retry_s if self.last_error else None)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.sync_pending()
            except Exception as exc:  # never let the syncer die with notes pending
                self.last_error = exc
                log.exception("syncing local notes failed")

    def close(self) -> None:
        """Stop syncing; a last try first unless the server was away (the rest waits here)."""
        if self._closed:
            return
        if self.last_error is None and self.pending():
            try:
                self.sync_pending()
            except Exception:  # kept here; shared by the next start
                log.exception("syncing local notes on close failed")
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._syncer is not None and self._syncer is not threading.current_thread():
            self._syncer.join(timeout=30)  # at most one sync in flight (bounded by its timeout)
        with self._lock:
            self._conn.close()


_SELECT = (
    "SELECT uid, session_id, phase_id, author_role, private, text, created_at, updated_at,"
    " version <> synced_version AND private = 0, problem FROM notes"
)


def _note(row: tuple) -> LocalNote:
    return LocalNote(
        uid=row[0],
        session_id=row[1],
        phase_id=row[2],
        author_role=row[3],
        private=bool(row[4]),
        text=row[5],
        created_at=datetime.fromisoformat(row[6]),
        updated_at=datetime.fromisoformat(row[7]),
        pending=bool(row[8]),
        problem=row[9],
    )


def _push(db: Database, note: LocalNote) -> None:
    """One idempotent write: upsert a shared note by uid, delete a private one."""
    from sqlalchemy import select

    from coach.sessions.models import Note, Session

    with db.transaction() as orm:
        row = orm.scalars(select(Note).where(Note.uid == note.uid)).one_or_none()
        if note.private:
            if row is not None:
                orm.delete(row)
            return
        if row is None:
            if orm.get(Session, note.session_id) is None:
                raise NotFound(f"session {note.session_id} no longer exists on the server")
            orm.add(
                Note(
                    uid=note.uid,
                    session_id=note.session_id,
                    phase_id=note.phase_id,
                    author_role=note.author_role,
                    private=False,
                    text=note.text,
                    created_at=note.created_at,
                    updated_at=note.updated_at,
                )
            )
            return
        row.text, row.private, row.updated_at = note.text, False, note.updated_at


def merge_notes(server: list[dict[str, Any]], local: list[LocalNote]) -> list[dict[str, Any]]:
    """The pair's view of a session's notes: the server's, with this machine's own on top.

    A note known to both is shown as written here (that copy is the newest); private and
    not-yet-shared notes exist only here.
    """
    mine = {note.uid: note.as_dict() for note in local}
    merged = [mine.pop(n["uid"], n) if n.get("uid") else n for n in server]
    merged.extend(mine.values())
    return sorted(merged, key=lambda n: (n.get("created_at") or "", str(n["id"])))


def probe_local_notes(settings: Settings) -> Probe:
    """Where this machine keeps notes in shared mode, and how many still wait for the server."""
    from coach.probe import Probe

    path = settings.private_notes_path
    if not settings.shared_database:
        return Probe("private notes", "sqlite", str(path), True, "in the programme database")
    if not path.exists():
        return Probe("private notes", "sqlite (local)", str(path), True, "no notes written yet")
    try:
        store = LocalNotes(path)
        try:
            total, private = store.counts()
            waiting = len(store.pending())
        finally:
            store.close()
    except sqlite3.Error as exc:
        return Probe("private notes", "sqlite (local)", str(path), False, str(exc))
    return Probe(
        "private notes",
        "sqlite (local)",
        str(path),
        True,
        f"{total} note(s), {private} private, {waiting} waiting for the server",
    )
