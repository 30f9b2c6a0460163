"""The plugins screen: every plugin with its status, topics and problems."""

from __future__ import annotations

import textwrap

from textual.widgets import DataTable, Static, TabbedContent

from coach.ui.screens.plugins import PluginsScreen


async def open_plugins(pilot) -> PluginsScreen:
    pilot.app.switch_mode("plugins")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PluginsScreen)
    return screen


def table_rows(screen) -> dict[str, list[str]]:
    table = screen.query_one("#plugins", DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[0]: row for row in rows}


def detail(screen) -> str:
    return str(screen.query_one("#detail", Static).render())


async def test_builtin_plugins_are_listed_with_their_topics(make_app, ui_context, host):
    builtins = [p for p in host.plugins if p.source == "builtin"]
    assert len(builtins) >= 4
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plugins(pilot)
        rows = table_rows(screen)
        for plugin in builtins:
            assert rows[plugin.name][1:] == [
                plugin.version,
                "builtin",
                str(len(plugin.topics)),
                "loaded",
            ]
        # The first plugin is shown in detail; moving the cursor shows the next one.
        first, second = host.plugins[0], host.plugins[1]
        assert all(topic in detail(screen) for topic in first.topics)
        await pilot.click("#plugins")
        await pilot.press("down")
        await pilot.pause()
        text = detail(screen)
        assert text.startswith(f"{second.name} {second.version}")
        for topic_id in second.topics:
            assert f"{topic_id}: {host.topic(topic_id).title}" in text
        assert "built into Coach" in text


async def test_a_broken_user_plugin_shows_its_error_and_the_app_keeps_running(
    make_app, db, clock, coach_home
):
    from coach.plugins.host import PluginHost
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    folder = coach_home / "plugins" / "broken"
    folder.mkdir(parents=True)
    (folder / "plugin.py").write_text("import not_a_module_anywhere\n")
    (coach_home / "plugins" / "fine").mkdir()
    (coach_home / "plugins" / "fine" / "plugin.toml").write_text(
        textwrap.dedent(
            """
            [plugin]
            name = "fine"
            version = "0.3.0"
            [[topics]]
            id = "fine-topic"
            title = "A fine topic"
            summary = "What the pair does."
            icebreakers = ["One light opener."]
            questions = ["What would change?"]
            """
        )
    )
    settings = load_settings()
    host = PluginHost(settings)  # finds the user's plugins folder under COACH_HOME
    context = CoachContext(settings, db=db, host=host, clock=clock, knowledge=False, model=False)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plugins(pilot)
        rows = table_rows(screen)
        assert rows["broken"][4] == "failed"
        assert rows["fine"][1:] == ["0.3.0", "folder", "1", "loaded"]

        table = screen.query_one("#plugins", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("broken"))
        await pilot.pause()
        text = detail(screen)
        assert "failed" in text and "Errors" in text
        assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in text

        await pilot.click("#--content-tab-tab-problems")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "tab-problems"
        problems = str(screen.query_one("#problems", Static).render())
        assert "plugin 'broken'" in problems and "not_a_module_anywhere" in problems
        tab = screen.query_one(TabbedContent).get_tab("tab-problems")
        assert str(tab.label) == f"Problems ({len(host.warnings)})"

        await pilot.press("f3")  # and the rest of the app still works
        await pilot.pause()
        assert app.is_running
        assert app.screen.__class__.__name__ == "DashboardScreen"


async def test_plugins_still_loading_then_listed_when_ready(make_app, db, clock, host):
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    context = CoachContext(load_settings(), db=db, clock=clock, knowledge=False, model=False)
    context.update("plugins", state="loading")  # as if the app's loader were still at it
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plugins(pilot)
        state = screen.query_one("#plugins-state", Static)
        assert state.display and "Loading plugins" in str(state.render())
        assert not screen.query_one("#plugin-tabs").display

        context.provide("plugins", host)  # what the app's loader ends with
        await pilot.pause()
        assert not state.display
        assert screen.query_one("#plugin-tabs").display
        assert "ai-tools" in table_rows(screen)


def test_plugins_snapshot(make_app, ui_context, snap_compare):
    async def run_before(pilot):
        await open_plugins(pilot)

    assert snap_compare(make_app(ui_context), terminal_size=(80, 24), run_before=run_before)
