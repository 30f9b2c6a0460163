"""Home: who meets next, who is stuck, what just happened, and one key to run a session.

It is the screen a facilitator returns to between everything else, so it reloads whenever it
becomes active again (other screens change the programme) and once the database is ready.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from coach.ui.screens.base import CoachScreen

if TYPE_CHECKING:
    from coach.sessions.activity import Activity, NextSession, Overview, PairRow
    from coach.ui.context import Resource

SHOWN_STALLED = 3
"""Stalled pairs named in the warning; the rest are counted (the dashboard lists them all)."""


def next_text(row: PairRow) -> str:
    """``#5 planned 2026-11-11``, ``▶ #3 running``, ``all held`` or ``not scheduled``."""
    return session_text(row.next, finished=row.held >= row.planned)


def session_text(session: NextSession | None, *, finished: bool = False) -> str:
    if session is None:
        return "all held" if finished else "not scheduled"
    if session.status == "running":
        return f"▶ #{session.number} running"
    when = session.scheduled_at.date().isoformat() if session.scheduled_at else "not scheduled"
    return f"#{session.number} {session.status} {when}"


def one_line(text: str) -> Text:
    """One line that ends in an ellipsis rather than wrapping onto the next."""
    return Text(text, no_wrap=True, overflow="ellipsis", end="")


class HomeScreen(CoachScreen):
    """The programme's active pairs with their next session, stalled pairs, recent activity."""

    TITLE_TEXT = "Home"
    AUTO_FOCUS = "#pairs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_pair", "Open pair", priority=True),
        Binding("p", "prepare", "Prepare"),
        Binding("s", "start", "Start/resume"),
        Binding("n", "new_pair", "New pair"),
        Binding("r", "refresh", "Refresh"),
        Binding("ctrl+r", "resume", "Resume"),
    ]
    DEFAULT_CSS = """
    HomeScreen #running {
        height: auto;
        background: $success-muted;
        padding: 0 1;
    }
    HomeScreen #running Static { width: 1fr; text-style: bold; }
    HomeScreen #running Button { margin-left: 1; }
    HomeScreen #stalled {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-warning;
        background: $warning-muted;
    }
    HomeScreen #message { padding: 1 2; height: auto; }
    HomeScreen #pairs { height: 3fr; min-height: 4; }
    HomeScreen .heading { padding: 0 1; text-style: bold; color: $text-accent; }
    HomeScreen #activity { height: 2fr; min-height: 3; border: none; padding: 0 0 0 1; }
    HomeScreen #activity:focus { background-tint: $foreground 5%; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.data: Overview | None = None
        self._activity_pairs: list[int] = []
        self._offered_onboarding = False
        self._select: int | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="running"):
            yield Static(id="running-text")
            yield Button("Resume", id="resume", variant="success", compact=True)
        yield Static(id="stalled")
        yield Static("Loading the programme…", id="message")
        yield DataTable(id="pairs", cursor_type="row", zebra_stripes=True)
        yield Label("Recent activity", classes="heading")
        yield OptionList(id="activity")

    def on_mount(self) -> None:
        pairs = self.query_one("#pairs", DataTable)
        pairs.add_column("Mentor", key="mentor")
        pairs.add_column("Mentee", key="mentee")
        pairs.add_column("Next session", key="next")
        pairs.add_column("Held", key="held")
        self.query_one("#running").display = False
        self.query_one("#stalled").display = False
        if self.context.ready("database"):
            self.refresh_data()

    # --- loading -----------------------------------------------------------------------------

    def on_resource(self, resource: Resource) -> None:
        if resource.key == "database":
            if resource.state == "ready":
                self.refresh_data()
            elif resource.state == "failed":
                self._message(f"The programme could not be opened: {resource.detail}")

    def on_screen_resume(self) -> None:
        if self.data is not None and self.context.ready("database"):
            self.refresh_data()

    def refresh_data(self, select: int | None = None) -> None:
        """Reload in a worker; ``select`` moves the cursor to that pair once it is listed."""
        from coach.sessions.activity import overview

        if select is not None:
            self._select = select
        context = self.context

        def load() -> Overview:
            return overview(context.db, now=context.now(), stall_days=context.settings.stall_days)

        self.run_task(load, done=self._show, name="Loading pairs", group="home", exclusive=True)

    def _show(self, data: Overview) -> None:
        self.data = data
        self._show_running(data)
        self._show_stalled(data)
        self._show_pairs(data)
        self._show_activity(data)
        self.refresh_bindings()
        if data.empty and not self._offered_onboarding and self.is_current:
            from coach.ui.screens.onboarding import OnboardingScreen

            self._offered_onboarding = True
            self.app.push_screen(OnboardingScreen(first_run=True), self._onboarded)

    def _onboarded(self, pair_id: int | None) -> None:
        if pair_id is not None:
            self.refresh_data(select=pair_id)

    def _show_running(self, data: Overview) -> None:
        running = data.running
        self.query_one("#running").display = bool(running)
        if running:
            first = running[0]
            more = f" (and {len(running) - 1} more)" if len(running) > 1 else ""
            text = f"▶ Session {first.next.number} is running: {first.names}{more}"
            self.query_one("#running-text", Static).update(one_line(text))

    def _show_stalled(self, data: Overview) -> None:
        stalled = data.stalled
        widget = self.query_one("#stalled", Static)
        widget.display = bool(stalled)
        if stalled:
            days = self.context.settings.stall_days
            parts = [f"{row.names} ({_since(row)})" for row in stalled[:SHOWN_STALLED]]
            if len(stalled) > SHOWN_STALLED:
                parts.append(f"and {len(stalled) - SHOWN_STALLED} more (see the dashboard)")
            widget.update(
                f"⚠ {len(stalled)} stalled (no session in {days}+ days): {'; '.join(parts)}"
            )

    def _show_pairs(self, data: Overview) -> None:
        table = self.query_one("#pairs", DataTable)
        keep = self._select or self.selected_pair()
        self._select = None
        table.clear()
        for row in data.pairs:
            held = f"{row.held}/{row.planned}" + (" ⚠" if row.stalled else "")
            table.add_row(row.mentor, row.mentee, next_text(row), held, key=str(row.pair_id))
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)))
        if data.pairs:
            table.display = True
            self.query_one("#message").display = False
        else:
            table.display = False
            self._message(
                "No pairs yet. Press n to add a mentor and a mentee, or open the command"
                " palette (ctrl+p) and load demo data to look around."
            )

    def _show_activity(self, data: Overview) -> None:
        options = self.query_one("#activity", OptionList)
        options.clear_options()
        self._activity_pairs = [item.pair_id for item in data.activity]
        for item in data.activity:
            options.add_option(Option(_activity_line(item)))
        if not data.activity:
            options.add_option(Option("Nothing has happened yet.", disabled=True))

    def _message(self, text: str) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.display = True

    # --- which pair --------------------------------------------------------------------------

    def selected_pair(self) -> int | None:
        """The pair under the cursor: of the activity list when that has focus, else of pairs."""
        activity = self.query_one("#activity", OptionList)
        if activity.has_focus and activity.highlighted is not None and self._activity_pairs:
            return self._activity_pairs[min(activity.highlighted, len(self._activity_pairs) - 1)]
        table = self.query_one("#pairs", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_pair", "prepare", "start"):
            return bool(self.data and self.data.pairs)
        if action == "resume":  # shown in the footer only while a session runs
            return bool(self.data and self.data.running)
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A second click on a row opens its pair (the first one moves the cursor there)."""
        event.stop()
        if event.row_key.value is not None:
            self.coach.open_pair(int(event.row_key.value))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a line of recent activity opens that pair."""
        event.stop()
        if event.option_index < len(self._activity_pairs):
            self.coach.open_pair(self._activity_pairs[event.option_index])

    # --- actions -----------------------------------------------------------------------------

    def action_open_pair(self) -> None:
        if isinstance(self.focused, Button):  # enter is a priority key here; buttons keep it
            self.focused.press()
            return
        if (pair_id := self.selected_pair()) is not None:
            self.coach.open_pair(pair_id)

    def action_prepare(self) -> None:
        if (pair_id := self.selected_pair()) is not None:
            self.coach.open_prepare(pair_id)

    def action_start(self) -> None:
        if (pair_id := self.selected_pair()) is not None:
            start_session(self, pair_id)

    def action_new_pair(self) -> None:
        from coach.ui.screens.onboarding import OnboardingScreen

        self.app.push_screen(OnboardingScreen(first_run=False), self._onboarded)

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "resume":
            self.action_resume()

    def action_resume(self) -> None:
        """Back into the session that was running when Coach was last closed."""
        if self.data and self.data.running:
            running = self.data.running[0].next
            assert running is not None
            self.coach.open_live(running.id)


def start_session(screen: CoachScreen, pair_id: int) -> None:
    """Open the live screen on the pair's running session, or the next one (scheduled if need
    be); the lookup runs in a worker and a refusal (an inactive pair) becomes a notification."""
    from coach.sessions.activity import session_to_run
    from coach.sessions.templates import all_templates

    context = screen.coach.context

    def find() -> int:
        host = context.host if context.ready("plugins") else None  # built-ins then
        return session_to_run(context.db, pair_id, templates=all_templates(host))

    screen.run_task(find, done=screen.coach.open_live, name="Starting the session")


def _activity_line(item: Activity) -> Table:
    """Date, what and who on one line, each cut short with an ellipsis to fit the width."""
    line = Table.grid(padding=(0, 1), expand=True)
    line.add_column(no_wrap=True, width=10, style="dim")
    line.add_column(no_wrap=True, overflow="ellipsis", ratio=3)
    line.add_column(no_wrap=True, overflow="ellipsis", ratio=2, style="dim")
    line.add_row(item.at.date().isoformat(), item.text, item.pair)
    return line


def _since(row: PairRow) -> str:
    if row.days_since_last is None:
        return "no session yet"
    return f"{row.days_since_last} days"
