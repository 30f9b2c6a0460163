"""One pair: the two people, their agreement, sessions so far, open experiments, what is next.

This is where a pair looks before a session ("what did we agree to try?") and where the
facilitator closes experiments off, so it reloads whenever it becomes active again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from coach.ui.screens.base import CoachScreen
from coach.ui.screens.home import session_text, start_session

STATUS_STYLES = {"completed": "green", "running": "bold yellow", "cancelled": "red"}
AGREEMENT = (
    ("cadence", "Cadence"),
    ("confidentiality", "Confidentiality"),
    ("boundaries", "Boundaries"),
    ("feedback_style", "Feedback"),
)


class PairScreen(CoachScreen):
    """Shows ``pair_detail``; experiments can be marked done or dropped from here."""

    TITLE_TEXT = "Pair"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("p", "prepare", "Prepare"),
        Binding("s", "start", "Start/resume"),
        Binding("d", "experiment('done')", "Experiment done"),
        Binding("x", "experiment('dropped')", "Drop"),
        Binding("r", "refresh", "Refresh", show=False),
    ]
    DEFAULT_CSS = """
    PairScreen #scroll { height: 1fr; }
    PairScreen #summary { padding: 0 1; height: auto; text-style: bold; }
    PairScreen #people { height: auto; }
    PairScreen .card {
        width: 1fr;
        height: auto;
        border: round $primary-muted;
        border-title-color: $text-accent;
        padding: 0 1;
    }
    PairScreen #agreement { width: 100%; }
    PairScreen .heading { padding: 0 1; margin-top: 1; text-style: bold; color: $text-accent; }
    PairScreen #sessions { height: auto; }
    PairScreen #experiments { height: auto; max-height: 10; border: none; padding: 0 0 0 1; }
    PairScreen #experiments:focus { background-tint: $foreground 5%; }
    PairScreen #experiment-buttons { height: auto; padding: 0 1; }
    PairScreen #experiment-buttons Button { margin-right: 1; }
    """

    def __init__(self, pair_id: int) -> None:
        super().__init__()
        self.pair_id = pair_id
        self.detail: dict[str, Any] | None = None

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="scroll"):
            yield Static("Loading…", id="summary")
            with Horizontal(id="people"):
                yield Static(classes="card", id="mentor")
                yield Static(classes="card", id="mentee")
            yield Static(classes="card", id="agreement")
            yield Label("Sessions", classes="heading")
            yield Static(id="sessions")
            yield Label("Open experiments", classes="heading", id="experiments-heading")
            yield OptionList(id="experiments")
            with Horizontal(id="experiment-buttons"):
                yield Button("Done (d)", id="done", variant="success", compact=True)
                yield Button("Dropped (x)", id="dropped", compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"pair {self.pair_id}"
        self.query_one("#mentor").border_title = "Mentor"
        self.query_one("#mentee").border_title = "Mentee"
        self.query_one("#agreement").border_title = "Agreement"
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.detail is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        from coach.sessions.service import pair_detail

        context, pair_id = self.context, self.pair_id

        def load() -> tuple[dict[str, Any], dict[str, str]]:
            detail = pair_detail(context.db, pair_id)
            return detail, _topic_titles(context, detail)

        self.run_task(
            load, done=self._show, failed=self._missing, name="Loading the pair", group="pair"
        )

    def _missing(self, exc: BaseException) -> None:
        from coach.ui.screens.base import error_text

        self.query_one("#summary", Static).update(error_text(exc))
        self.notify(error_text(exc), title="Pair not loaded", severity="error")

    def _show(self, loaded: tuple[dict[str, Any], dict[str, str]]) -> None:
        detail, titles = loaded
        self.detail = detail
        mentor, mentee = detail["mentor"], detail["mentee"]
        self.sub_title = f"{mentor['name']} & {mentee['name']}"
        self.query_one("#summary", Static).update(self._summary(detail))
        self.query_one("#mentor", Static).update(_profile(mentor))
        self.query_one("#mentee", Static).update(_profile(mentee))
        self.query_one("#agreement", Static).update(_agreement(detail["agreement"]))
        self._show_sessions(detail["sessions"]["items"], titles)
        self._show_experiments(detail["open_experiments"])

    def _summary(self, detail: dict[str, Any]) -> Text:
        from coach.sessions.activity import NextSession, next_session

        sessions = detail["sessions"]
        upcoming = next_session(
            NextSession(item["id"], item["number"], item["status"], _when(item["scheduled_at"]))
            for item in sessions["items"]
        )
        finished = sessions["completed"] >= detail["planned_sessions"]
        text = Text(f"{sessions['completed']} of {detail['planned_sessions']} sessions held")
        text.append(f" · next: {session_text(upcoming, finished=finished)}")
        text.append(f" · every {detail['cadence_days']} days", style="not bold dim")
        if not detail["active"]:
            text.append(" · inactive", style="red")
        return text

    def _show_sessions(self, items: list[dict[str, Any]], titles: dict[str, str]) -> None:
        """A plain table: it wraps long topic titles to any width instead of scrolling."""
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold dim")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Date", no_wrap=True)
        table.add_column("Topics", ratio=1)
        for item in items:
            when = item["ended_at"] or item["started_at"] or item["scheduled_at"]
            topics = ", ".join(titles.get(t, t) for t in item["topic_ids"]) or "—"
            status = Text(item["status"], style=STATUS_STYLES.get(item["status"], ""))
            table.add_row(
                str(item["number"]), status, when[:10] if when else "not scheduled", topics
            )
        if not items:
            table.add_row("", "none yet", "", "press s to schedule and start the first one")
        self.query_one("#sessions", Static).update(table)

    def _show_experiments(self, experiments: list[dict[str, Any]]) -> None:
        options = self.query_one("#experiments", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        today = self.context.now().date()
        for item in experiments:
            options.add_option(Option(_experiment(item, today), id=str(item["id"])))
        heading = self.query_one("#experiments-heading", Label)
        heading.update(f"Open experiments ({len(experiments) or 'none'})")
        options.display = bool(experiments)
        self.query_one("#experiment-buttons").display = bool(experiments)
        if experiments:
            options.highlighted = min(highlighted or 0, len(experiments) - 1)
        self.refresh_bindings()

    # --- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "experiment":
            return bool(self.detail and self.detail["open_experiments"])
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_prepare(self) -> None:
        self.coach.open_prepare(self.pair_id)

    def action_start(self) -> None:
        start_session(self, self.pair_id)

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("done", "dropped"):
            event.stop()
            self.action_experiment(event.button.id)

    def action_experiment(self, status: str) -> None:
        """Mark the highlighted open experiment ``done`` or ``dropped``."""
        from coach.sessions.experiments import update_experiment

        options = self.query_one("#experiments", OptionList)
        if options.highlighted is None or not options.option_count:
            self.notify("This pair has no open experiment.", severity="warning")
            return
        option = options.get_option_at_index(options.highlighted)
        experiment_id = int(option.id or 0)
        context = self.context

        def update() -> None:
            update_experiment(context.db, experiment_id, status, clock=context.now)

        def updated(_: None) -> None:
            self.notify(f"Marked {status}: {_title(option)}")
            self.refresh_data()

        self.run_task(update, done=updated, name="Updating the experiment")


def _topic_titles(context: Any, detail: dict[str, Any]) -> dict[str, str]:
    """Topic id -> title from the plugins, when they are loaded (ids are shown otherwise)."""
    try:
        host = context.host
    except Exception:
        return {}
    ids = {t for item in detail["sessions"]["items"] for t in item["topic_ids"]}
    return {t: topic.title for t in ids if (topic := host.topic(t)) is not None}


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _profile(person: dict[str, Any]) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    rows = (
        ("Email", person["email"]),
        ("Dept", person["department"]),
        ("Manager", person["manager"]),
        ("Timezone", person["timezone"]),
        ("Skills", ", ".join(person["skills"])),
        ("Growth", ", ".join(person["growth_areas"])),
        ("Goals", "; ".join(person["goals"])),
    )
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return Group(Text(person["name"], style="bold"), grid)


def _agreement(agreement: dict[str, Any]) -> Group | Text:
    if not agreement["agreed"]:
        return Text(
            "Not agreed yet: the first session settles cadence, confidentiality, boundaries"
            " and how feedback is given.",
            style="italic",
        )
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for key, label in AGREEMENT:
        grid.add_row(label, agreement[key] or "—")
    grid.add_row("No-blame exit", "yes" if agreement["no_blame_exit"] else "no")
    agreed = Text(f"Agreed on {agreement['agreed_at'][:10]}", style="green")
    return Group(agreed, grid)


def _experiment(item: dict[str, Any], today: date) -> Text:
    text = Text(item["title"])
    due = item["due_date"]
    text.append(f"  {item['owner']}", style="dim")
    if due:
        overdue = date.fromisoformat(due) < today
        text.append(f", due {due}", style="red" if overdue else "dim")
        if overdue:
            text.append(" (overdue)", style="red")
    return text


def _title(option: Option) -> str:
    prompt = option.prompt
    title = prompt.plain if isinstance(prompt, Text) else str(prompt)
    return title.split("  ")[0]
