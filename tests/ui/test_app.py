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
