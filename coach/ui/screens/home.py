"""Home: the programme's pairs with their next session (to be expanded)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import DataTable

from coach.ui.context import Resource
from coach.ui.screens.base import CoachScreen


class HomeScreen(CoachScreen):
    TITLE_TEXT = "Home"

    def compose_body(self) -> Iterable[Widget]:
        yield DataTable(id="pairs", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#pairs", DataTable)
        table.add_columns("Pair", "Mentor", "Mentee", "Sessions")
        if self.context.state("database") == "ready":
            self.refresh_pairs()

    def on_resource(self, resource: Resource) -> None:
        if resource.key == "database" and resource.state == "ready":
            self.refresh_pairs()

    def refresh_pairs(self) -> None:
        from coach.sessions.service import list_pairs, pair_dict

        def load() -> list[dict]:
            return [pair_dict(pair) for pair in list_pairs(self.context.db, active=True)]

        self.run_task(load, done=self._show, name="Loading pairs")

    def _show(self, pairs: list[dict]) -> None:
        table = self.query_one("#pairs", DataTable)
        table.clear()
        for pair in pairs:
            table.add_row(
                str(pair["id"]),
                pair["mentor"]["name"],
                pair["mentee"]["name"],
                f"{pair['sessions_completed']}/{pair['planned_sessions']}",
                key=str(pair["id"]),
            )
