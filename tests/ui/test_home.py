"""Home: pairs with their next session, stalled warnings, activity, and the keys that act."""

from __future__ import annotations

import io

import pytest

from coach.sessions.activity import overview
from coach.sessions.engine import SessionEngine
from coach.sessions.service import list_sessions
from tests.ui.conftest import FIXED_NOW
from tests.ui.helpers import settle


def text_of(widget) -> str:
    """What a Static shows, as plain text (Rich renderables rendered wide, without wrapping)."""
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def cells(table) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def live_calls(monkeypatch) -> list[int]:
    """Record ``open_live`` instead of opening the live screen (tested on its own)."""
    from coach.ui.app import CoachApp

    calls: list[int] = []
    monkeypatch.setattr(CoachApp, "open_live", lambda self, session_id: calls.append(session_id))
    return calls


async def test_home_lists_demo_pairs_with_next_session_and_stalled_warning(
    make_app, demo_context, db
):
    expected = overview(db, now=FIXED_NOW, stall_days=21)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert home.__class__.__name__ == "HomeScreen"
        rows = cells(home.query_one("#pairs"))
        assert len(rows) == len(expected.pairs) == 11  # the not-a-fit pair is inactive
        for row, pair in zip(rows, expected.pairs, strict=True):
            assert row[:2] == [pair.mentor, pair.mentee]
            assert row[3].startswith(f"{pair.held}/{pair.planned}")
            assert row[3].endswith("⚠") == pair.stalled
            if pair.next is not None:
                date = pair.next.scheduled_at.date().isoformat()
                assert row[2] == f"#{pair.next.number} planned {date}"
        assert any(row[2] == "not scheduled" for row in rows)  # the stalled ones
        assert any(row[2] == "all held" for row in rows)  # the finished ones
        warning = text_of(home.query_one("#stalled"))
        assert warning.startswith("⚠ 2 stalled (no session in 21+ days)")
        for pair in expected.stalled:
            assert f"{pair.names} ({pair.days_since_last} days)" in warning
        activity = home.query_one("#activity")
        assert activity.option_count == 12
        assert not home.query_one("#running").display


async def test_enter_opens_the_highlighted_pair(make_app, demo_context, db):
    second = overview(db, now=FIXED_NOW).pairs[1]
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PairScreen"
        assert app.screen.pair_id == second.pair_id
        assert second.mentor in text_of(app.screen.query_one("#mentor"))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_s_opens_the_planned_session_and_schedules_when_none(
    make_app, demo_context, db, live_calls
):
    pairs = overview(db, now=FIXED_NOW).pairs
    planned = pairs[1]
    assert planned.next is not None and planned.next.status == "planned"
    stalled = pairs[0]
    assert stalled.next is None and stalled.stalled
    before = len(list_sessions(db, stalled.pair_id))
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "s")  # the second pair has a planned session
        await settle(pilot)
        assert live_calls == [planned.next.id]
        await pilot.press("up", "s")  # the stalled pair has none: the next is scheduled
        await settle(pilot)
    sessions = list_sessions(db, stalled.pair_id)
    assert len(sessions) == before + 1
    assert live_calls[1] == sessions[-1].id and sessions[-1].status == "planned"


async def test_a_running_session_is_shown_and_resumed(make_app, demo_context, db, live_calls):
    pair = overview(db, now=FIXED_NOW).pairs[1]
    SessionEngine(db, pair.next.id, clock=lambda: FIXED_NOW).start()
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one("#running")
        assert banner.display
        text = text_of(app.screen.query_one("#running-text"))
        assert f"Session {pair.next.number} is running: {pair.names}" in text
        assert cells(app.screen.query_one("#pairs"))[1][2] == f"▶ #{pair.next.number} running"
        await pilot.click("#resume")
        await settle(pilot)
        assert live_calls == [pair.next.id]


async def test_home_refreshes_when_it_becomes_active_again(make_app, demo_context, db):
    from coach.sessions.activity import create_pair

    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        create_pair(db, {"name": "Ada New"}, {"name": "Bo New"})  # e.g. from the CLI
        await pilot.press("escape")
        await settle(pilot)
        rows = cells(app.screen.query_one("#pairs"))
        assert rows[-1][:3] == ["Ada New", "Bo New", "not scheduled"]
        newest = app.screen.data.activity[0]
        assert (newest.text, newest.pair) == ("Pair created", "Ada New & Bo New")


def test_home_snapshot(snap_compare, make_app, demo_context):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(demo_context), terminal_size=(80, 24), run_before=run_before)


def test_home_snapshot_large(snap_compare, make_app, demo_context):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(demo_context), terminal_size=(120, 40), run_before=run_before)


async def test_clicking_a_row_twice_opens_its_pair(make_app, demo_context, db):
    third = overview(db, now=FIXED_NOW).pairs[2]
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#pairs", offset=(3, 3))  # header, then rows 0, 1, 2
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"  # the first click highlights
        await pilot.click("#pairs", offset=(3, 3))
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PairScreen"
        assert app.screen.pair_id == third.pair_id
