"""The programme dashboard: its figures are the metrics services' figures, tab by tab."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent

from coach.sessions.metrics import (
    programme_metrics,
    rating_distribution,
    ratings_per_month,
    sessions_per_week,
)
from coach.ui.screens.dashboard import Chart, DashboardScreen
from tests.ui.conftest import FIXED_NOW


async def open_dashboard(pilot) -> DashboardScreen:
    pilot.app.switch_mode("dashboard")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_overview_and_pairs_tables_show_the_programme_metrics(make_app, demo_context):
    metrics = programme_metrics(demo_context.db, now=FIXED_NOW, stall_days=21)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)
        overview = dict(rows(screen.query_one("#overview", DataTable)))
        assert overview["Pairs"] == str(metrics.pair_count) == "12"
        assert overview["Active pairs"] == str(metrics.active_pairs)
        assert overview["Finished pairs"] == str(metrics.finished_pairs)
        assert overview["Stalled pairs"] == str(len(metrics.stalled_pairs)) == "2"
        assert overview["Sessions held"] == str(metrics.sessions_held) == "39"
        assert overview["Sessions planned"] == str(metrics.sessions_planned)
        assert overview["Sessions cancelled"] == str(metrics.sessions_cancelled)
        mentor, mentee = (round(metrics.mean_rating[side], 2) for side in ("mentor", "mentee"))
        assert overview["Mean rating"] == f"mentor {mentor:g}, mentee {mentee:g}"
        rate = metrics.experiment_completion_rate
        assert overview["Experiment completion rate"] == f"{round(rate, 3):.0%}"
        assert overview["Measured at"].startswith("2026-11-02 09:30 UTC")

        table = rows(screen.query_one("#pairs", DataTable))
        assert len(table) == metrics.pair_count
        for row, pair in zip(table, metrics.pairs, strict=True):
            assert row[0] == str(pair.pair_id)
            assert row[3] == f"{pair.held}/{pair.planned}"
            assert row[4] == str(pair.cancelled)
            assert row[5] == ("-" if pair.days_since_last is None else str(pair.days_since_last))
            assert (row[6] == "stalled") == pair.stalled


async def test_plots_are_given_the_series_of_the_metrics_services(make_app, demo_context):
    db = demo_context.db
    weeks = sessions_per_week(db, now=FIXED_NOW)
    months = ratings_per_month(db)
    metrics = programme_metrics(db, now=FIXED_NOW)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)

        sessions = screen.query_one("#sessions-plot", Chart)
        assert sessions.data["held"] == [week.held for week in weeks]
        assert sum(sessions.data["held"]) == 39
        assert sessions.data["weeks"][-1].isoformat() == "2026-11-02"

        ratings = screen.query_one("#ratings-plot", Chart)
        assert ratings.data["means"]["mentee"] == [month.mean["mentee"] for month in months]
        note = str(screen.query_one("#ratings-note", Static).render())
        mentor_counts = rating_distribution(db)["mentor"]
        assert f"4★ {mentor_counts[3]}" in note

        confidence = screen.query_one("#confidence-plot", Chart)
        assert confidence.data["topics"] == list(metrics.confidence_delta)
        assert confidence.data["samples"] == list(metrics.confidence_samples.values())
        assert confidence.data["deltas"] == [
            round(value, 2) for value in metrics.confidence_delta.values()
        ]

        await pilot.click("#--content-tab-tab-sessions")  # tabs answer the mouse
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "tab-sessions"
        drawn = sessions.render()
        assert "Sessions held per week: 39 in 28 weeks" in str(drawn)


async def test_stalled_pairs_are_listed_with_days_since_their_last_session(make_app, demo_context):
    metrics = programme_metrics(demo_context.db, now=FIXED_NOW, stall_days=21)
    stalled = [pair for pair in metrics.pairs if pair.stalled]
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)
        await pilot.click("#--content-tab-tab-stalled")
        await pilot.pause()
        table = rows(screen.query_one("#stalled", DataTable))
        assert [(r[1], r[2], r[4]) for r in table] == [
            (p.mentor_name, p.mentee_name, str(p.days_since_last)) for p in stalled
        ]
        assert [r[4] for r in table] == ["41", "60"]
        tab = screen.query_one(TabbedContent).get_tab("tab-stalled")
        assert str(tab.label) == "Stalled (2)"


async def test_empty_programme_says_so_and_refresh_picks_up_new_pairs(make_app, ui_context):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)
        empty = screen.query_one("#dash-empty", Static)
        assert empty.display and "No pairs in the programme yet" in str(empty.render())
        assert not screen.query_one("#dash-tabs").display

        from coach.sessions.demo import create_demo_programme

        create_demo_programme(ui_context.db, now=FIXED_NOW)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not empty.display
        assert screen.query_one("#dash-tabs").display
        assert screen.query_one("#pairs", DataTable).row_count == 12


async def test_pair_names_fit_at_80_columns_and_show_whole_when_wide(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)
        table = screen.query_one("#pairs", DataTable)
        assert table.virtual_size.width <= 80
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        widths = [column.get_render_width(table) for column in table.ordered_columns]
        assert widths[1] - 2 >= len("Demo Oscar Lindqvist")  # the longest demo name, uncut


def test_dashboard_snapshot(make_app, demo_context, snap_compare):
    async def run_before(pilot):
        await open_dashboard(pilot)
        await pilot.click("#--content-tab-tab-sessions")
        await pilot.pause()

    assert snap_compare(make_app(demo_context), terminal_size=(80, 24), run_before=run_before)


async def test_a_shared_programme_dashboard_shows_pair_keys_and_never_a_name(
    make_app, postgres, host, clock, monkeypatch
):
    """On a shared database the dashboard shows what the anonymised report shows."""
    from coach.sessions.db import open_database
    from coach.sessions.demo import create_demo_programme
    from coach.sessions.export import programme_report
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    monkeypatch.setenv("COACH_DATABASE_URL", postgres.create_database())
    settings = load_settings()
    db = open_database(settings)
    create_demo_programme(db, now=FIXED_NOW)
    metrics = programme_metrics(db, now=FIXED_NOW, stall_days=21)
    report = programme_report(metrics)  # anonymised, as `coach report` prints it
    names = {n for p in metrics.pairs for n in (p.mentor_name, p.mentee_name)}
    context = CoachContext(settings, db=db, clock=clock, host=host, knowledge=False, model=False)
    app = make_app(context)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        pairs = rows(screen.query_one("#pairs", DataTable))
        stalled = rows(screen.query_one("#stalled", DataTable))
        shown = " ".join(" ".join(row) for row in pairs + stalled)
        assert [row[0] for row in pairs] == [p["pair"] for p in report["pairs"]]
        assert [row[0] for row in stalled] == report["programme"]["stalled_pairs"]
        assert not any(name in shown for name in names)
        await pilot.press("shift+tab", "right", "tab", "enter")  # a row opens no pair
        await pilot.pause()
        assert isinstance(pilot.app.screen, DashboardScreen)
    db.dispose()
