"""Types into a NoteAutosaver from its own process, for the kill and concurrency tests.

    python tests/autosave_typist.py SESSION_ID ROLE WORDS INTERVAL_S MAX_DELAY_S

Opens the database of ``COACH_HOME``, appends ``typed_text(role, i)`` word by word every
``INTERVAL_S`` seconds and after each word prints ``<time.monotonic()> <length>`` (flushed), so
the parent knows how much had been typed when it killed this process. ``WORDS`` 0 types until
killed; otherwise it closes the autosaver and prints ``done <note id>``.
"""

from __future__ import annotations

import sys
import time


def word(role: str, index: int) -> str:
    return f"{role}{index} "


def typed_text(role: str, words: int) -> str:
    """What the typist has typed after ``words`` words (the parent rebuilds it the same way)."""
    return "".join(word(role, i) for i in range(words))


def main(session_id: int, role: str, words: int, interval_s: float, max_delay_s: float) -> None:
    from coach.sessions.autosave import NoteAutosaver
    from coach.sessions.db import open_database
    from coach.settings import load_settings

    db = open_database(load_settings())
    saver = NoteAutosaver(db, session_id, author_role=role, max_delay_s=max_delay_s)
    text = ""
    index = 0
    while words == 0 or index < words:
        text += word(role, index)
        index += 1
        saver.update(text)
        print(f"{time.monotonic()} {len(text)}", flush=True)
        time.sleep(interval_s)
    saver.close()
    if saver.failures:
        raise SystemExit(f"{saver.failures} background saves failed, last: {saver.error!r}")
    print(f"done {saver.note_id}", flush=True)


if __name__ == "__main__":
    session, role, words, interval, delay = sys.argv[1:6]
    main(int(session), role, int(words), float(interval), float(delay))
