"""The app shell: start-up with everything loaded, status line, themes, commands."""

from __future__ import annotations


async def test_app_starts_on_home_with_every_resource_reported(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.screen.query_one("ResourceStatus")
        line = str(status.render())
        assert "✓ Programme" in line
        assert "✓ Plugins" in line
        assert "– Knowledge" in line  # off in this context
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_theme_toggles_between_light_and_dark(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"


async def test_command_palette_reaches_the_main_actions(make_app, ui_context, db):
    from coach.sessions.service import list_pairs
    from tests.ui.helpers import screen_name, settle

    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: screen_name(app) == "OnboardingScreen")
        await pilot.press("escape")  # skip the onboarding; the palette is there for the rest

        async def command(text: str) -> None:
            await pilot.press("ctrl+p")
            await settle(pilot, lambda: screen_name(app) == "CommandPalette")
            await pilot.press(*text)
            await pilot.pause(0.5)  # the palette searches asynchronously
            await pilot.press("enter")

        await command("programme dashboard")
        await settle(pilot, lambda: screen_name(app) == "DashboardScreen")
        await command("knowledge")
        await settle(pilot, lambda: screen_name(app) == "KnowledgeScreen")
        await command("plugins")
        await settle(pilot, lambda: screen_name(app) == "PluginsScreen")
        await command("load demo data")
        await settle(pilot, lambda: len(list_pairs(db)) == 12)
        assert screen_name(app) == "HomeScreen"
        await command("new pair")
        await settle(pilot, lambda: screen_name(app) == "OnboardingScreen")
        assert not app.screen.first_run
        await pilot.press("escape")
        await command("light or dark")
        await settle(pilot, lambda: app.theme == "textual-light")
