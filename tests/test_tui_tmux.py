"""End to end in a real terminal: the real `coach` app in tmux, driven by keys only.

One session from start to wrap-up, with a quit in the middle: the pair's first session is
started from Home, a note is typed, the phase moves on, Coach is quit with ctrl+q, reopened and
resumed with ctrl+r, then wrapped up through the form. The database is checked afterwards.
"""

from __future__ import annotations

import sys
import time

import pytest

from tests.conftest import run_coach
from tests.tmux import Terminal, tmux_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not tmux_available(), reason="tmux is not installed"),
]
NOTE = "Tried the headline editor together"
PAUSE = 0.25
"""Between keys, as a person types; a burst faster than a frame can land in one field."""


def keys(terminal: Terminal, *names: str) -> None:
    for name in names:
        terminal.send(name)
        time.sleep(PAUSE)


def open_coach(env: dict[str, str]) -> Terminal:
    return Terminal([sys.executable, "-m", "coach"], env=env, width=80, height=24)


def test_one_session_through_the_real_app_in_tmux(coach_home):
    assert run_coach("demo-data").returncode == 0
    env = {"COACH_HOME": str(coach_home), "COACH_MODEL": "none", "HF_HUB_OFFLINE": "1"}
    terminal = open_coach(env)
    try:
        shown = terminal.wait_for("#1 planned", timeout=60)
        rows = shown.splitlines()
        header = next(i for i, line in enumerate(rows) if "Next session" in line)
        first = next(i for i, line in enumerate(rows) if "#1 planned" in line)
        keys(terminal, *["Down"] * (first - header - 1), "s")
        terminal.wait_for("▶ 1/6 Introductions", timeout=60)
        keys(terminal, "C-e")
        terminal.type(NOTE)
        terminal.wait_for("saved at")
        keys(terminal, "C-n")
        terminal.wait_for("▶ 2/6 Working agreement")
        keys(terminal, "C-q")
        terminal.wait_for("[exited 0]")
    finally:
        terminal.close()

    terminal = open_coach(env)
    try:
        terminal.wait_for("Session 1 is running", timeout=60)
        keys(terminal, "C-r")
        terminal.wait_for("▶ 2/6 Working agreement", timeout=30)
        keys(terminal, "C-e")
        terminal.wait_for(NOTE)
        keys(terminal, "C-f")
        terminal.wait_for("Session 1 is over", timeout=30)
        time.sleep(1)  # the form focuses its first field once it is built
        terminal.type("Post once about the team launch")
        keys(terminal, *["Tab"] * 9, "Enter", *["Down"] * 4, "Enter")  # mentor rating 4
        keys(terminal, "Tab", "Tab")
        terminal.type("Clear steps")
        keys(terminal, "Tab", "Tab", "Enter", *["Down"] * 5, "Enter")  # mentee rating 5
        keys(terminal, "C-s")
        terminal.wait_for("Next session", timeout=30)  # back on Home
        keys(terminal, "C-q")
        terminal.wait_for("[exited 0]")
    finally:
        terminal.close()

    from coach.sessions.db import open_database
    from coach.sessions.service import list_sessions, session_detail
    from coach.settings import load_settings

    # COACH_HOME is already this test's home (the autouse fixture)
    db = open_database(load_settings())
    try:
        details = [session_detail(db, s.id, include_private=True) for s in list_sessions(db)]
    finally:
        db.dispose()
    (saved,) = [d for d in details if any(n["text"] == NOTE for n in d["notes"])]
    assert saved["number"] == 1 and saved["status"] == "completed"
    assert [n["text"] for n in saved["notes"]] == [NOTE]
    assert [(f["side"], f["rating"]) for f in saved["feedback"]] == [("mentor", 4), ("mentee", 5)]
    assert saved["feedback"][0]["what_worked"] == "Clear steps"
    assert [e["title"] for e in saved["experiments"]] == ["Post once about the team launch"]
    assert saved["phases"][0]["seconds_spent"] > 0
