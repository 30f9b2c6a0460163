"""The main flow in one app run, by keyboard: create a pair, prepare, run, wrap up, dashboard.

Real SQLite, real plugins, the grounded plan (the model is off: this test is about the flow);
the clock is the fixtures' FixedClock, moved by hand so the timer overruns on cue.
"""

from __future__ import annotations

from textual.widgets import DataTable, Select, TextArea

from coach.sessions.service import list_pairs, list_sessions, session_detail
from tests.ui.helpers import screen_name, settle


async def type_into(pilot, selector: str, text: str) -> None:
    await pilot.click(selector)
    await pilot.press(*text)


async def test_create_pair_prepare_run_wrap_up_and_see_it_on_the_dashboard(
    make_app, ui_context, db, clock
):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        # 1. First run: the onboarding creates the pair.
        await settle(pilot, lambda: screen_name(app) == "OnboardingScreen")
        await type_into(pilot, "#mentor-name", "Ada Lovelace")
        await type_into(pilot, "#mentor-email", "ada@example.org")
        await type_into(pilot, "#mentee-name", "Bo Chen")
        await type_into(pilot, "#mentee-email", "bo@example.org")
        await type_into(pilot, "#mentee-growth", "LinkedIn, personal brand")
        await pilot.press("enter")
        await settle(pilot, lambda: screen_name(app) == "HomeScreen" and list_pairs(db))
        (pair,) = list_pairs(db)

        # 2. Prepare: the best-ranked topic, a grounded plan, one item pinned, saved.
        await pilot.press("p")
        await settle(pilot, lambda: screen_name(app) == "PrepareScreen")
        prepare = app.screen
        await settle(pilot, lambda: bool(prepare.choices))
        topic = prepare.choices[0].topic_id
        await pilot.press("enter")
        await settle(pilot, lambda: prepare.plan is not None and not prepare.busy)
        prepare.query_one("#items").focus()
        await pilot.press("down", "p", "ctrl+s")
        await settle(pilot, lambda: not prepare.dirty)
        await pilot.press("escape")
        await settle(pilot, lambda: screen_name(app) == "HomeScreen")
        (session,) = list_sessions(db, pair.id)
        assert session.status == "prepared" and session.plan["topic_id"] == topic
        assert any(item["pinned"] for item in session.plan["icebreakers"])

        # 3. Run: start, a note, the timer overruns, next phase, then wrap up.
        await pilot.press("s")
        await settle(pilot, lambda: screen_name(app) == "LiveSessionScreen")
        live = app.screen
        live.query_one("#tabs").active = "notes"
        await pilot.pause()
        await type_into(pilot, "#note", "We rewrote the headline together")
        clock.advance(11 * 60)  # a first session opens with ten minutes of introductions
        await settle(pilot, lambda: live.query_one("#timer").has_class("-overrun"), seconds=10)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert session_detail(db, session.id)["current_phase"] == 1
        await pilot.press("ctrl+f")
        await settle(pilot, lambda: screen_name(app) == "WrapUpScreen")

        # 4. Wrap-up: ratings from both sides, an experiment, the summary as drafted.
        wrapup = app.screen
        await settle(pilot, lambda: bool(wrapup.query_one("#summary", TextArea).text))
        wrapup.query_one("#mentor-rating", Select).value = 4
        wrapup.query_one("#mentee-rating", Select).value = 5
        await type_into(pilot, "#exp-0-title", "Post once about the team launch")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: screen_name(app) == "HomeScreen")

        # 5. Dashboard: the session is counted.
        await pilot.press("f3")
        await settle(pilot, lambda: screen_name(app) == "DashboardScreen")
        overview = app.screen.query_one("#overview", DataTable)
        await settle(pilot, lambda: overview.row_count > 0)
        shown = {
            str(row[0]): str(row[1]) for row in map(overview.get_row_at, range(overview.row_count))
        }
        assert shown["Pairs"] == "1" and shown["Sessions held"] == "1"

    saved = session_detail(db, session.id, include_private=True)
    assert saved["status"] == "completed"
    assert [n["text"] for n in saved["notes"]] == ["We rewrote the headline together"]
    assert [(f["side"], f["rating"]) for f in saved["feedback"]] == [("mentor", 4), ("mentee", 5)]
    assert [e["title"] for e in saved["experiments"]] == ["Post once about the team launch"]
    assert "headline" in saved["summary"]
