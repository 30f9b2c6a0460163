"""The live session screen: timer, phases, notes, agenda, resume, ask the coach, robustness.

Real database, real plugins, the fixed clock of ``conftest`` (``clock.advance`` moves time);
the knowledge base is the real one where a test asks the coach.
"""

from __future__ import annotations

import time

import pytest

from tests.ui.helpers import settle

TOPIC = "linkedin-presence"


def new_session(db, *, topics=(TOPIC,)) -> tuple[int, int]:
    """A pair and its first session (first-session template), scheduled through the services."""
    from coach.sessions.engine import schedule_session
    from coach.sessions.service import add_pair, add_person

    mentor = add_person(db, {"name": "Ada Mentor", "role": "mentor"})
    mentee = add_person(db, {"name": "Sam Mentee", "role": "mentee"})
    pair = add_pair(db, mentor, mentee)
    return pair, schedule_session(db, pair, topic_ids=list(topics))


async def open_live(pilot, session_id: int):
    pilot.app.open_live(session_id)
    await settle(pilot, rounds=3)
    screen = pilot.app.screen
    assert type(screen).__name__ == "LiveSessionScreen"
    return screen


async def until(pilot, condition, timeout: float = 20.0) -> None:
    """Poll ``condition`` (real time: the autosaver's throttle runs on the monotonic clock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def ask(pilot, screen, question: str) -> None:
    """Type ``question`` into the Ask tab, as a person would, and wait for the answer."""
    screen.query_one("#tabs").active = "ask"
    await pilot.pause()
    await pilot.click("#question")
    await pilot.press(*question, "enter")
    await settle(pilot, rounds=3)


def detail(db, session_id: int) -> dict:
    from coach.sessions.service import session_detail

    return session_detail(db, session_id, include_private=True)


def timer(screen) -> str:
    return str(screen.query_one("#timer").render())


async def test_starting_shows_the_timer_and_an_overrun_changes_its_colour(
    make_app, ui_context, db, clock
) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        assert detail(db, session_id)["status"] == "running"
        assert "1/6 Introductions" in timer(screen) and "00:00 / 10:00" in timer(screen)
        assert not screen.query_one("#timer").has_class("-overrun")
        cards = screen.query_one("#cards-md").source
        assert "## Introductions (10 min)" in cards and "### Icebreakers" in cards

        clock.advance(9 * 60 + 30)
        screen.refresh_status()
        await settle(pilot, rounds=3)
        assert "09:30 / 10:00" in timer(screen)
        assert not screen.query_one("#timer").has_class("-overrun")

        clock.advance(90)
        screen.refresh_status()
        await settle(pilot, rounds=3)
        assert screen.query_one("#timer").has_class("-overrun")
        assert "11:00 / 10:00 +01:00 over" in timer(screen)


async def test_next_previous_pause_and_resume(make_app, ui_context, db, clock) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=3)
        assert detail(db, session_id)["current_phase"] == 1
        assert "2/6 Working agreement" in timer(screen)
        assert "## Working agreement" in screen.query_one("#cards-md").source

        await pilot.press("ctrl+b")
        await settle(pilot, rounds=3)
        assert detail(db, session_id)["current_phase"] == 0

        clock.advance(60)
        await pilot.press("ctrl+r")
        await settle(pilot, rounds=3)
        assert "paused" in timer(screen) and screen.query_one("#timer").has_class("-paused")
        clock.advance(600)  # a break: it does not count
        screen.refresh_status()
        await settle(pilot, rounds=3)
        assert "01:00 / 10:00" in timer(screen)
        await pilot.press("ctrl+r")
        await settle(pilot, rounds=3)
        assert "paused" not in timer(screen)
        await pilot.press("ctrl+n")  # moving on while running works again
        await settle(pilot, rounds=3)
        assert detail(db, session_id)["current_phase"] == 1


async def test_moving_past_the_last_phase_opens_the_wrap_up(make_app, ui_context, db) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_live(pilot, session_id)
        for _ in range(6):
            await pilot.press("ctrl+n")
            await settle(pilot, rounds=3)
        assert type(app.screen).__name__ == "WrapUpScreen"
        assert detail(db, session_id)["status"] == "running"  # wrapping up is not completing


async def test_notes_autosave_and_the_private_toggle_persists(make_app, ui_context, db) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        screen.query_one("#tabs").active = "notes"
        await pilot.pause()
        screen.query_one("#note").focus()
        first = "Tried the headline editor"
        await pilot.press(*first)
        shown = str(screen.query_one("#autosave").render())  # the throttle may have saved already
        assert any(state in shown for state in ("unsaved", "saving", "saved at")), shown

        def saved() -> bool:
            notes = detail(db, session_id)["notes"]
            return bool(notes) and notes[0]["text"] == "Tried the headline editor"

        await until(pilot, saved)
        note = detail(db, session_id)["notes"][0]
        assert note["author_role"] == "mentor" and not note["private"]
        screen.refresh_status()
        await until(pilot, lambda: "saved at 09:30" in str(screen.query_one("#autosave").render()))

        await pilot.click("#private")
        await until(pilot, lambda: detail(db, session_id)["notes"][0]["private"])

        screen.query_one("#role").value = "mentee"  # the mentee writes a note of their own
        await settle(pilot, rounds=3)
        assert screen.query_one("#note").text == "" and not screen.query_one("#private").value
        screen.query_one("#note").focus()
        await pilot.press(*"Shared how comms signs off posts")

        def both() -> list[str]:
            return [n["text"] for n in detail(db, session_id)["notes"]]

        await until(pilot, lambda: both() == [first, "Shared how comms signs off posts"])
        notes = detail(db, session_id)["notes"]
        assert [n["author_role"] for n in notes] == ["mentor", "mentee"]
        assert notes[0]["private"] and not notes[1]["private"]

        screen.query_one("#role").value = "mentor"  # back to the mentor's note, unchanged
        await settle(pilot, rounds=3)
        assert screen.query_one("#note").text == "Tried the headline editor"
        assert screen.query_one("#private").value


def notes_tab_shown(screen) -> bool:
    from textual.widgets import Tab

    return not screen.query_one("#tabs Tab#--content-tab-notes", Tab).has_class("-hidden")


async def test_wide_screen_shows_the_notes_beside_the_cards_and_resizing_keeps_them(
    make_app, ui_context, db
) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_live(pilot, session_id)
        cards, note = screen.query_one("#cards-md"), screen.query_one("#note")
        saver = screen.saver
        assert cards.display and cards.region and note.display and note.region
        assert not cards.region.overlaps(note.region)  # side by side
        assert note.region.x > cards.region.x
        assert not notes_tab_shown(screen)

        await pilot.press("ctrl+e", *"Cards and notes at once")
        assert note.has_focus
        await until(
            pilot,
            lambda: (
                [n["text"] for n in detail(db, session_id)["notes"]] == ["Cards and notes at once"]
            ),
        )

        await pilot.resize_terminal(80, 24)
        await settle(pilot, rounds=3)
        assert notes_tab_shown(screen) and screen.query_one("#tabs").active == "notes"
        assert note.has_focus and note.region and note.text == "Cards and notes at once"
        assert screen.query_one("#tabs ContentTabs").region.height == 2  # the tabs stay
        await pilot.press(*" and a resize")
        screen.query_one("#tabs").active = "cards"
        await settle(pilot, rounds=3)
        assert cards.region and not note.region  # narrow: one tab at a time, as before
        await pilot.press("ctrl+k")
        await settle(pilot, rounds=3)
        await pilot.press("ctrl+e")  # from another tab's input, straight back to the note
        await settle(pilot, rounds=3)
        assert screen.query_one("#tabs").active == "notes" and note.has_focus and note.region

        await pilot.resize_terminal(120, 40)
        await settle(pilot, rounds=3)
        assert not notes_tab_shown(screen) and cards.region and note.region
        assert note.text == "Cards and notes at once and a resize"
        assert screen.saver is saver and screen.query_one("#note") is note
        await until(
            pilot,
            lambda: (
                [n["text"] for n in detail(db, session_id)["notes"]]
                == ["Cards and notes at once and a resize"]
            ),
        )
        await pilot.press("ctrl+k")  # the other tabs still work beside the notes
        await settle(pilot, rounds=3)
        assert screen.query_one("#question").has_focus and note.region
        await pilot.press("ctrl+e")
        await settle(pilot, rounds=3)
        assert note.has_focus
    assert len(detail(db, session_id)["notes"]) == 1  # one autosaver: one note, never a second


async def test_quitting_mid_session_keeps_everything_and_reopening_resumes(
    make_app, make_context, db, clock
) -> None:
    from coach.sessions.agenda import agenda_checked

    _, session_id = new_session(db)
    app = make_app(make_context())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=3)
        screen.query_one("#agenda-list").select("phase:introductions")
        await settle(pilot, rounds=3)
        screen.query_one("#tabs").active = "notes"
        await pilot.pause()
        screen.query_one("#note").focus()
        await pilot.press(*"We agreed to meet monthly")
        clock.advance(120)
    # The app is gone, with the last keystrokes inside the autosaver's one-second window.
    assert agenda_checked(db, session_id) == {"phase:introductions"}
    assert detail(db, session_id)["notes"][0]["text"] == "We agreed to meet monthly"

    again = make_app(make_context())
    async with again.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        assert "2/6 Working agreement" in timer(screen) and "02:00 / 15:00" in timer(screen)
        assert screen.query_one("#note").text == "We agreed to meet monthly"
        assert screen.query_one("#agenda-list").selected == ["phase:introductions"]
        assert detail(db, session_id)["status"] == "running"  # resumed, not started again
        await pilot.press("ctrl+e", *" and to swap roles once")  # the note goes on at its end
        await settle(pilot, rounds=3)
    text = "We agreed to meet monthly and to swap roles once"
    assert detail(db, session_id)["notes"][0]["text"] == text


async def test_ask_the_coach_shows_passages_with_their_sources(make_app, kb_context, db) -> None:
    _, session_id = new_session(db)
    app = make_app(kb_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        await ask(pilot, screen, "how do I give feedback to a senior leader")
        shown = screen.query_one("#answer").source
        assert "**Q:** how do I give feedback to a senior leader" in shown
        assert "**1. " in shown and ".md`" in shown  # a passage with its source file
        assert "**4. " not in shown


async def test_ask_says_when_the_knowledge_base_is_still_loading(make_app, ui_context, db) -> None:
    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        ui_context.update("knowledge", state="loading", detail="indexing 3/34 files")
        await pilot.pause()
        await ask(pilot, screen, "what is a thread")
        shown = screen.query_one("#answer").source
        assert "still loading (indexing 3/34 files)" in shown


async def test_a_failing_plugin_hook_is_a_notification_not_a_crash(
    make_app, ui_context, db, monkeypatch
) -> None:
    _, session_id = new_session(db)

    def broken(hook, event):
        raise RuntimeError(f"listener for {hook} broke")

    monkeypatch.setattr(ui_context.host, "notify", broken)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_live(pilot, session_id)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=3)
        messages = [n.message for n in app._notifications]
        assert any("session_started notification failed" in m for m in messages)
        assert any("session_phase_changed notification failed" in m for m in messages)
        assert app.is_running and detail(db, session_id)["current_phase"] == 1


async def test_a_failing_model_is_a_notification_and_the_passages_stay(
    make_app, make_context, synced, db
) -> None:
    from tests.test_prepare_agents import generator, scripted

    def broken(_prompt, _attempt):
        raise RuntimeError("model crashed")

    _, kb, _ = synced
    context = make_context(kb=kb, generator=generator(scripted(broken)))
    _, session_id = new_session(db)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        await ask(pilot, screen, "how do I give feedback upwards")
        messages = [n.message for n in app._notifications]
        assert any("model crashed" in m for m in messages)
        assert "**1. " in screen.query_one("#answer").source and app.is_running


async def test_a_session_without_a_plan_shows_the_grounded_cards(make_app, ui_context, db):
    from coach.sessions.engine import SessionEngine

    _, session_id = new_session(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        for _ in range(2):
            await pilot.press("ctrl+n")
            await settle(pilot, rounds=3)
        cards = screen.query_one("#cards-md").source
        assert "## A first topic, hands-on" in cards and "### Exercise:" in cards
        assert "### Questions" in cards and "Not prepared" in cards
    assert SessionEngine(db, session_id).status().phase_id == "core"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_live(snap_compare, make_app, demo_context, db, size) -> None:
    from sqlalchemy import select

    from coach.sessions.models import Session

    with db.read() as orm:  # a demo pair's next session, not started yet
        session_id = orm.scalar(
            select(Session.id).where(Session.status == "planned").order_by(Session.id).limit(1)
        )
    app = make_app(demo_context)

    async def run_before(pilot) -> None:
        await open_live(pilot, session_id)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_a_shared_database_lost_mid_session_is_said_and_notes_keep_saving(
    make_app, private_postgres, host, clock, monkeypatch
) -> None:
    """Real PostgreSQL stopped under a running live screen, then started again."""
    from sqlalchemy import create_engine, text

    from coach.sessions.db import open_database
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    url = private_postgres.create_database()
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    settings = load_settings()
    db = open_database(settings)
    db.local_notes.retry_s = 0.2
    _, session_id = new_session(db)
    context = CoachContext(settings, db=db, clock=clock, host=host, knowledge=False, model=False)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, session_id)
        screen.query_one("#tabs").active = "notes"
        await pilot.pause()
        screen.query_one("#note").focus()
        await pilot.press(*"Before. ")
        await until(pilot, lambda: not screen.saver.dirty)

        private_postgres.stop()
        screen.refresh_status()
        await until(pilot, lambda: "database lost" in timer(screen))
        assert any("does not answer" in n.message for n in app._notifications)
        await pilot.press(*"During.")
        await until(pilot, lambda: screen.saver.unshared and not screen.saver.dirty)
        screen.refresh_status()
        await until(pilot, lambda: "not yet shared" in str(screen.query_one("#autosave").render()))

        private_postgres.start()
        await until(pilot, lambda: not screen.saver.unshared)
        screen.refresh_status()
        await until(pilot, lambda: "database lost" not in timer(screen))
        assert any("answers again" in n.message for n in app._notifications)

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT text FROM notes")).scalars().all()
    engine.dispose()
    assert rows == ["Before. During."]
