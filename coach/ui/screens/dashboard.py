"""Programme dashboard: the report's numbers, three plots and the stalled pairs, one tab each.

Tabs keep every part readable at 80×24. All figures come from ``coach.sessions.metrics`` in
one worker, so the table here and ``coach programme report`` can never disagree; the plots
draw the read-only series next to them. It refreshes on ``r`` and whenever the screen is shown
again (a session wrapped up in another mode changes the numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from coach.ui.screens.base import CoachScreen

if TYPE_CHECKING:
    from coach.sessions.metrics import MonthRatings, PairMetrics, ProgrammeMetrics, WeekCount
    from coach.ui.context import Resource

BLUE, ORANGE, GREEN = (0, 130, 200), (215, 95, 0), (30, 140, 60)
"""Mid-tone colours with about 4:1 contrast on both the dark and the light theme's surface."""
SIDES = {"mentor": BLUE, "mentee": ORANGE}
WIDE = 100
"""Below this many columns the pairs table shortens names to fit."""
EMPTY = (
    "No pairs in the programme yet.\n\n"
    "Create a pair on Home (F2), or load demo data from the command palette (ctrl+p)."
)


@dataclass(frozen=True)
class Dashboard:
    """Everything the screen shows, measured at one ``now``."""

    metrics: ProgrammeMetrics
    report: dict[str, Any]
    anonymised: bool
    """A shared programme: pairs appear under their keys, never by name."""
    weeks: list[WeekCount]
    months: list[MonthRatings]
    distribution: dict[str, list[int]]


class Chart(PlotextPlot):
    """A plot that remembers the data it was given, and says so when there is none."""

    data: dict[str, Any]

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.data = {}

    def start(self, title: str, **data: Any) -> Any:
        """Clear the plot for new data; returns plotext's ``plt`` to draw with."""
        self.data = data
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        self.refresh()
        return plt


class DashboardScreen(CoachScreen):
    TITLE_TEXT = "Programme dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]
    DEFAULT_CSS = """
    DashboardScreen #dash-empty {
        height: 1fr;
        content-align: center middle;
        text-align: center;
        color: $text-muted;
        padding: 1 2;
    }
    DashboardScreen TabbedContent {
        height: 1fr;
    }
    DashboardScreen TabPane {
        padding: 0;
    }
    DashboardScreen .note {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    DashboardScreen DataTable {
        height: 1fr;
    }
    """

    _shown: Dashboard | None = None
    _anonymised = False
    _narrow = True

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Opening the programme…", id="dash-empty")
        with TabbedContent(id="dash-tabs"):
            with TabPane("Overview", id="tab-overview"):
                yield DataTable(id="overview", show_header=False, cursor_type="none")
            with TabPane("Pairs", id="tab-pairs"):
                yield DataTable(id="pairs", cursor_type="row", zebra_stripes=True)
            with TabPane("Sessions", id="tab-sessions"):
                yield Chart(id="sessions-plot")
            with TabPane("Ratings", id="tab-ratings"):
                yield Chart(id="ratings-plot")
                yield Static(id="ratings-note", classes="note")
            with TabPane("Confidence", id="tab-confidence"):
                yield Chart(id="confidence-plot")
            with TabPane("Stalled", id="tab-stalled"):
                yield Static(id="stalled-note", classes="note")
                yield DataTable(id="stalled", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#dash-tabs").display = False
        self.query_one("#overview", DataTable).add_columns("Metric", "Value")
        self._waiting()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def on_resource(self, resource: Resource) -> None:
        if resource.key != "database":
            return
        if resource.usable:
            self.action_refresh()
        else:
            self._waiting()

    def _waiting(self) -> None:
        resource = self.context.resources["database"]
        if resource.state == "failed":
            self.query_one("#dash-empty", Static).update(
                f"The programme could not be opened:\n{resource.detail}"
            )

    def action_refresh(self) -> None:
        if not self.context.ready("database"):
            return
        self.run_task(
            self._measure,
            done=self.show,
            name="Measuring the programme",
            group="dashboard",
            exclusive=True,
        )

    def _measure(self) -> Dashboard:
        """In a worker: every figure, from the metrics services only."""
        from dataclasses import replace

        from coach.sessions.export import programme_report
        from coach.sessions.metrics import (
            programme_metrics,
            rating_distribution,
            ratings_per_month,
            sessions_per_week,
        )

        db, now = self.context.db, self.context.now()
        metrics = programme_metrics(db, now=now, stall_days=self.context.settings.stall_days)
        anonymised = self.context.settings.shared_database
        if anonymised:  # a shared programme's dashboard shows what its anonymised report shows
            metrics = replace(
                metrics,
                pairs=[replace(p, mentor_name="", mentee_name="") for p in metrics.pairs],
            )
        return Dashboard(
            metrics=metrics,
            anonymised=anonymised,
            report=programme_report(metrics, anonymise=anonymised),
            weeks=sessions_per_week(db, now=now),
            months=ratings_per_month(db),
            distribution=rating_distribution(db),
        )

    def show(self, data: Dashboard) -> None:
        empty = data.metrics.pair_count == 0
        self.query_one("#dash-empty", Static).update(EMPTY)
        self.query_one("#dash-empty").display = empty
        self.query_one("#dash-tabs").display = not empty
        self._shown = data
        self._anonymised = data.anonymised
        if empty:
            return
        self._overview(data.report)
        self._pairs(data.metrics)
        self._sessions(data.weeks)
        self._ratings(data.months, data.distribution)
        self._confidence(data.metrics)
        self._stalled(data.metrics)

    # --- tabs ----------------------------------------------------------------------------------

    def _overview(self, report: dict[str, Any]) -> None:
        table = self.query_one("#overview", DataTable)
        table.clear()
        for key, value in report["programme"].items():
            if key == "confidence_delta":
                continue  # the Confidence tab shows it per topic, with its sample counts
            table.add_row(key.replace("_", " ").capitalize(), overview_value(key, value))
        measured = report["generated_at"][:16].replace("T", " ")
        table.add_row("Measured at", f"{measured} UTC; stalled after {report['stall_days']} days")

    def on_resize(self) -> None:
        if self._shown is not None and self._narrow != (self.size.width < WIDE):
            self._pairs(self._shown.metrics)

    def _pairs(self, metrics: ProgrammeMetrics) -> None:
        """Names are cut short below WIDE columns, so every column fits without scrolling."""
        table = self.query_one("#pairs", DataTable)
        self._narrow = self.size.width < WIDE
        name = 16 if self._narrow else None
        table.clear(columns=True)
        table.add_column("Pair", key="pair")
        if not self._anonymised:
            table.add_column("Mentor", width=name)
            table.add_column("Mentee", width=name)
        table.add_columns("Held", "Canc.", "Days", "State", "Ratings")
        for pair in metrics.pairs:
            state = (
                "inactive"
                if not pair.active
                else "finished"
                if pair.finished
                else "stalled"
                if pair.stalled
                else "active"
            )
            ratings = "/".join(_rating(pair.mean_rating[side]) for side in SIDES)
            table.add_row(
                *self._who(pair),
                f"{pair.held}/{pair.planned}",
                str(pair.cancelled),
                _number(pair.days_since_last),
                state,
                ratings,
                key=str(pair.pair_id),
            )

    def _sessions(self, weeks: list[WeekCount]) -> None:
        chart = self.query_one("#sessions-plot", Chart)
        held = [week.held for week in weeks]
        title = (
            f"Sessions held per week: {sum(held)} in {len(weeks)} weeks"
            if weeks
            else "No session has been held yet"
        )
        plt = chart.start(title, weeks=[week.week for week in weeks], held=held)
        if not weeks:
            return
        positions = list(range(1, len(weeks) + 1))
        plt.bar(positions, held, color=BLUE, width=0.6)
        step = max(1, len(weeks) // 6)
        ticks = positions[::step]
        plt.xticks(ticks, [_week(weeks[t - 1].week) for t in ticks])
        top = max(held)
        plt.yticks(list(range(0, top + 1, max(1, (top + 4) // 5))))

    def _ratings(self, months: list[MonthRatings], distribution: dict[str, list[int]]) -> None:
        chart = self.query_one("#ratings-plot", Chart)
        means = {side: [m.mean[side] for m in months] for side in SIDES}
        title = "Mean rating per month (1-5)" if months else "No ratings yet"
        plt = chart.start(title, months=[m.month for m in months], means=means)
        note = self.query_one("#ratings-note", Static)
        if not months:
            note.update("")
            return
        positions = list(range(1, len(months) + 1))
        for side, colour in SIDES.items():
            points = [(x, y) for x, y in zip(positions, means[side], strict=True) if y is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                plt.plot(xs, ys, label=side, color=colour, marker="hd")
        plt.xticks(positions, _month_labels([m.month for m in months]))
        plt.xlim(0.5, len(months) + 0.5)
        plt.ylim(1, 5.6)  # the band above 5 keeps the legend clear of the lines
        plt.yticks([1, 2, 3, 4, 5])
        note.update("\n".join(_distribution_line(side, distribution[side]) for side in SIDES))

    def _confidence(self, metrics: ProgrammeMetrics) -> None:
        chart = self.query_one("#confidence-plot", Chart)
        topics = list(metrics.confidence_delta)
        deltas = [round(metrics.confidence_delta[t], 2) for t in topics]
        samples = [metrics.confidence_samples[t] for t in topics]
        title = (
            "Mentee confidence change per topic (after − before; rows)"
            if topics
            else "No confidence scores yet"
        )
        plt = chart.start(title, topics=topics, deltas=deltas, samples=samples)
        if not topics:
            return
        labels = [f"{topic} ({n})" for topic, n in zip(topics, samples, strict=True)]
        plt.bar(labels, deltas, orientation="horizontal", color=GREEN, width=0.5)

    def _stalled(self, metrics: ProgrammeMetrics) -> None:
        table = self.query_one("#stalled", DataTable)
        table.clear(columns=True)
        who = ("Pair",) if self._anonymised else ("Pair", "Mentor", "Mentee")
        table.add_columns(*who, "Held", "Days since last session")
        stalled = [pair for pair in metrics.pairs if pair.stalled]
        days = metrics.stall_days
        note = (
            f"{len(stalled)} active pair(s) without a session for more than {days} days:"
            if stalled
            else f"No stalled pairs: every active pair met within the last {days} days."
        )
        self.query_one("#stalled-note", Static).update(note)
        tab = self.query_one(TabbedContent).get_tab("tab-stalled")
        tab.label = f"Stalled ({len(stalled)})"
        for pair in stalled:
            table.add_row(
                *self._who(pair),
                f"{pair.held}/{pair.planned}",
                str(pair.days_since_last) if pair.days_since_last is not None else "no session yet",
                key=str(pair.pair_id),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a pair opens it: following up is why a facilitator looks."""
        if event.data_table.id not in ("pairs", "stalled") or event.row_key.value is None:
            return
        if self._anonymised:
            self.notify("In a shared programme the dashboard shows pairs by key only.")
            return
        try:
            self.coach.open_pair(int(event.row_key.value))
        except Exception as exc:  # a screen that cannot open must not close the app
            from coach.ui.screens.base import error_text

            self.notify(error_text(exc), title="Could not open the pair", severity="error")

    def _who(self, pair: PairMetrics) -> tuple[str, ...]:
        if self._anonymised:
            return (pair.key,)
        return (str(pair.pair_id), pair.mentor_name, pair.mentee_name)


def overview_value(key: str, value: Any) -> str:
    """A report value as the CLI reads it, with rates as percentages."""
    if key.endswith("_rate"):
        return "-" if value is None else f"{value:.0%}"
    if key == "stalled_pairs":
        return str(len(value))
    if isinstance(value, dict):
        return ", ".join(f"{name} {_number(item)}" for name, item in value.items()) or "-"
    return _number(value)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _rating(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _week(monday: date) -> str:
    return monday.strftime("%d %b").lstrip("0")


def _month_labels(months: list[date]) -> list[str]:
    one_year = len({month.year for month in months}) == 1
    return [month.strftime("%b" if one_year else "%b %y") for month in months]


def _distribution_line(side: str, counts: list[int]) -> str:
    parts = "  ".join(f"{stars}★ {count}" for stars, count in enumerate(counts, start=1))
    return f"{side.capitalize():7} {parts}   ({sum(counts)} ratings)"
