"""The live session: phases against the clock, the phase's cards, agenda, notes, ask the coach.

The database is the session's only state (see ``SessionEngine``), so this screen keeps none of
its own: the timer re-reads ``engine.status()`` every second, agenda ticks and notes are written
as they change, and leaving (or quitting the app) mid-session loses nothing; opening the screen
again resumes the running session where it was. At 80×24 the parts sit in tabs; the timer and
the phase strip stay on top. From ``WIDE`` columns on, the notes are a column of their own beside
the tabs (and their tab is hidden), so a pair can type notes while it reads the phase's cards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Input,
    Label,
    Markdown,
    Select,
    SelectionList,
    Static,
    Switch,
    TabbedContent,
    TabPane,
    TextArea,
)

from coach.ui.screens.base import CoachScreen
from coach.ui.screens.live_cards import (
    agenda_items,
    answer_markdown,
    phase_markdown,
    recap_markdown,
)

if TYPE_CHECKING:
    from coach.prepare.plan import SessionPlan
    from coach.sessions.autosave import NoteAutosaver
    from coach.sessions.engine import EngineStatus, SessionEngine
    from coach.sessions.experiments import Recap
    from coach.ui.context import Resource

ROLES = (("Mentor", "mentor"), ("Mentee", "mentee"))
WIDE = 110
"""From this many columns on, the notes sit in a column beside the tabs."""


@dataclass
class LiveData:
    """Everything the screen loads once, in a worker."""

    engine: SessionEngine
    status: EngineStatus
    detail: dict[str, Any]
    guidance: dict[str, str]
    plan: SessionPlan | None
    plan_note: str
    recap: Recap | None
    checked: set[str]
    warnings: list[str] = field(default_factory=list)


def load_live(context, session_id: int) -> LiveData:
    """Start the session if it has not started yet, then read what the screen shows."""
    from coach.sessions.engine import STARTABLE, SessionEngine, recap
    from coach.sessions.service import session_detail

    db, host = context.db, context.host
    engine = SessionEngine(db, session_id, clock=context.clock, notify=host.notify)
    if engine.status().status in STARTABLE:
        engine.start()
    detail = session_detail(db, session_id, include_private=True)
    guidance = {phase["phase_id"]: phase["guidance"] for phase in detail["phases"]}
    plan, note = _plan(context, detail)
    return LiveData(
        engine=engine,
        status=engine.status(),
        detail=detail,
        guidance=guidance,
        plan=plan,
        plan_note=note,
        recap=recap(db, detail["pair_id"], today=context.now().date()),
        checked=set(detail["agenda_checked"]),
        warnings=list(engine.warnings),
    )


def _plan(context, detail: dict[str, Any]) -> tuple[SessionPlan | None, str]:
    """The stored plan; else the grounded plan for the first topic, composed but not stored."""
    from pydantic import ValidationError

    from coach.prepare.plan import SessionPlan

    stored = detail["plan"]
    if stored:
        try:
            return SessionPlan.model_validate(stored), ""
        except ValidationError:
            pass
    topics = detail["topic_ids"]
    if not topics or context.host.topic(topics[0]) is None:
        return None, "No plan was prepared for this session."
    from coach.prepare.service import prepare_session

    plan = prepare_session(None, context.kb, context.host, topic_id=topics[0])
    return plan, "Not prepared: these cards are the grounded plan for the topic."


def clock_text(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class LiveSessionScreen(CoachScreen):
    """Runs one session; ``app.open_live(session_id)`` pushes it."""

    TITLE_TEXT = "Live session"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next_phase", "Next", priority=True),
        Binding("ctrl+b", "previous_phase", "Back", priority=True),
        Binding("ctrl+r", "pause", "Pause", priority=True),
        Binding("ctrl+e", "tab('notes', '#note')", "Notes", priority=True),
        Binding("ctrl+k", "tab('ask', '#question')", "Ask", priority=True),
        Binding("ctrl+f", "wrap_up", "Wrap up", priority=True),
        Binding("escape", "leave", "Leave"),
    ]
    DEFAULT_CSS = """
    LiveSessionScreen #timer {
        height: 1;
        padding: 0 1;
        background: $boost;
        text-style: bold;
    }
    LiveSessionScreen #timer.-overrun {
        background: $error 40%;
        color: $text-error;
    }
    LiveSessionScreen #timer.-paused {
        color: $text-warning;
    }
    LiveSessionScreen #phases {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    LiveSessionScreen #live-body {
        height: 1fr;
    }
    LiveSessionScreen TabbedContent {
        height: 1fr;
    }
    LiveSessionScreen #notes-panel {
        display: none;
        height: 1fr;
        padding: 0 1;
    }
    /* Narrow, with the (empty) Notes tab active: the tab strip, then the notes panel below it. */
    LiveSessionScreen.-notes #tabs {
        height: 2;  /* the tab strip's own height (``auto`` measures 0 here) */
    }
    LiveSessionScreen.-notes #tabs ContentSwitcher {
        display: none;
    }
    LiveSessionScreen.-notes #notes-panel {
        display: block;
    }
    /* Wide: the tabs on the left, the notes always on the right. */
    LiveSessionScreen.-wide #live-body {
        layout: horizontal;
    }
    LiveSessionScreen.-wide #tabs {
        width: 1fr;
    }
    LiveSessionScreen.-wide #notes-panel {
        display: block;
        width: 45%;
        min-width: 58;  /* room for the role, privacy and "✓ saved at HH:MM" */
        border-left: vkey $foreground 20%;
    }
    LiveSessionScreen TabPane {
        padding: 0 1;
    }
    LiveSessionScreen #notes-bar {
        height: 3;
    }
    LiveSessionScreen #notes-bar Label {
        padding: 1 1 0 0;
    }
    LiveSessionScreen #role {
        width: 14;
    }
    LiveSessionScreen #autosave {
        width: 1fr;
        padding: 1 0 0 1;
        color: $text-muted;
        text-align: right;
    }
    LiveSessionScreen #autosave.-error {
        color: $text-error;
    }
    LiveSessionScreen #note {
        height: 1fr;
    }
    LiveSessionScreen #agenda-list {
        height: 1fr;
    }
    LiveSessionScreen #answer-scroll, LiveSessionScreen #cards-scroll,
    LiveSessionScreen #recap-scroll {
        height: 1fr;
    }
    """

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id
        self.data: LiveData | None = None
        self.status: EngineStatus | None = None
        self.saver: NoteAutosaver | None = None
        self._saves_seen = 0
        self._saved_at: datetime | None = None
        self._unshared_shown = False
        self._offline = False
        self._shown_phase: int | None = -1
        self._polling = False
        self._loading = False
        self._warned = 0
        self._checked: set[str] = set()
        self._moving_on = False
        self._agenda_lock = threading.Lock()
        self._wide: bool | None = None

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Opening the session…", id="timer")
        yield Static("", id="phases")
        # The one notes panel lives outside the tabs, and CSS places it (``_arrange``): Textual
        # cannot move a mounted widget to another parent (``move_child`` only reorders siblings;
        # remove-and-mount would build new widgets), and one panel means one editor, one
        # autosaver and no text to copy across on a resize. Narrow, the Notes tab is an empty
        # pane: while it is active the tab strip shrinks to its tabs and the panel fills the rest.
        with Vertical(id="live-body"):
            with TabbedContent(initial="cards", id="tabs"):
                with TabPane("Cards", id="cards"), VerticalScroll(id="cards-scroll"):
                    yield Markdown("", id="cards-md")
                yield TabPane("Notes", id="notes")
                with TabPane("Agenda", id="agenda"):
                    yield SelectionList[str](id="agenda-list")
                with TabPane("Ask", id="ask"):
                    yield Input(placeholder="Ask the coach, then press Enter", id="question")
                    with VerticalScroll(id="answer-scroll"):
                        yield Markdown(self._ask_hint(), id="answer")
                with TabPane("Recap", id="recap"), VerticalScroll(id="recap-scroll"):
                    yield Markdown("", id="recap-md")
            with Vertical(id="notes-panel"):
                with Horizontal(id="notes-bar"):
                    yield Label("As")
                    yield Select(ROLES, value="mentor", allow_blank=False, id="role")
                    yield Label(" Private")
                    yield Switch(False, id="private")
                    yield Static("", id="autosave")
                yield TextArea("", id="note", soft_wrap=True, disabled=True)

    def on_mount(self) -> None:
        self.sub_title = f"session {self.session_id}"
        self.set_interval(1.0, self.refresh_status)
        self._arrange()
        if self._ready():
            self.load()

    def on_resource(self, resource: Resource) -> None:
        if resource.key in ("database", "plugins") and self._ready() and self.data is None:
            self.load()
        elif resource.key == "knowledge" and not self.query_one("#question", Input).value:
            self.query_one("#answer", Markdown).update(self._ask_hint())

    def on_resize(self, event: events.Resize) -> None:
        self._arrange()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._arrange()

    def _arrange(self) -> None:
        """Place the notes panel for the screen's width and the active tab."""
        tabs = self.query_one("#tabs", TabbedContent)
        wide = self.size.width >= WIDE
        if wide != self._wide:
            self._wide = wide
            editing = self.query_one("#note", TextArea).has_focus
            if wide:
                if tabs.active == "notes":
                    tabs.active = "cards"
                tabs.hide_tab("notes")
            else:
                tabs.show_tab("notes")
                if editing:  # the editor keeps the focus, so it stays in sight
                    tabs.active = "notes"
            self.set_class(wide, "-wide")
        self.set_class(not wide and tabs.active == "notes", "-notes")

    # --- loading -----------------------------------------------------------------------------

    def _ready(self) -> bool:
        """The session needs the database and the plugins (templates, topics, hooks)."""
        return self.context.ready("database", "plugins")

    def load(self) -> None:
        if self._loading:
            return
        self._loading = True
        self.run_task(
            lambda: load_live(self.context, self.session_id),
            done=self._loaded,
            failed=self._load_failed,
            name="Opening the session",
        )

    def _load_failed(self, exc: BaseException) -> None:
        from coach.ui.screens.base import error_text

        self._loading = False
        self.query_one("#timer", Static).update(f"Could not open the session: {error_text(exc)}")
        self.notify(error_text(exc), title="Opening the session failed", severity="error")

    def _loaded(self, data: LiveData) -> None:
        self.data = data
        detail = data.detail
        topics = ", ".join(detail["topic_ids"]) or "no topic"
        self.sub_title = (
            f"{detail['mentor']['name']} & {detail['mentee']['name']} · "
            f"session {detail['number']} · {topics}"
        )
        self._report_warnings()
        self.query_one("#recap-md", Markdown).update(recap_markdown(data.recap))
        agenda = self.query_one("#agenda-list", SelectionList)
        self._checked = set(data.checked)
        agenda.clear_options()
        agenda.add_options(
            (item.label, item.key, item.key in data.checked)
            for item in agenda_items(detail["phases"], data.plan, data.recap)
        )
        self._open_note("mentor")
        self._show(data.status)

    # --- the clock ---------------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Re-read the engine's status in a worker (every second, and after each transition)."""
        self._update_autosave()
        if self.data is None or self._polling:
            return
        self._polling = True
        self.run_task(
            self.data.engine.status,
            done=self._polled,
            failed=self._poll_failed,
            name="Reading the timer",
            group="status",
        )

    def _polled(self, status: EngineStatus) -> None:
        self._polling = False
        if self._offline:
            self._offline = False
            self.notify("The programme database answers again.", title="Back online")
        self._show(status)

    def _poll_failed(self, exc: BaseException) -> None:
        """A busy or lost database: the next tick tries again; a lost one is said once."""
        from sqlalchemy.exc import OperationalError

        self._polling = False
        if self._offline or not isinstance(exc, OperationalError | ConnectionError):
            return
        self._offline = True
        kept = "notes keep saving on this machine" if self.context.db.local_notes else ""
        self.notify(
            f"The programme database does not answer; the timer waits for it"
            f"{' and ' + kept if kept else ''}.",
            title="Database lost",
            severity="warning",
            timeout=15,
        )
        if self.status is not None:
            self._show(self.status)

    def _show(self, status: EngineStatus) -> None:
        self.status = status
        timer = self.query_one("#timer", Static)
        timer.set_class(status.overrun, "-overrun")
        timer.set_class(status.paused, "-paused")
        timer.update(self._timer_text(status))
        self.query_one("#phases", Static).update(self._strip(status))
        if status.phase_index != self._shown_phase:
            self._shown_phase = status.phase_index
            self._show_cards(status)

    def _timer_text(self, status: EngineStatus) -> Text:
        total = f"session {clock_text(status.total_seconds)} / "
        total += clock_text(status.planned_total_seconds)
        if status.status in ("completed", "cancelled"):
            return Text(f"Session {status.status} · {total}")
        if status.phase_index is None:
            return Text(f"Session {status.status}")
        if status.phase_index >= status.phase_count:
            return Text(f"All phases done · ctrl+f to wrap up · {total}")
        mark = "⏸ paused" if status.paused else "▶"
        line = Text(f"{mark} {status.phase_index + 1}/{status.phase_count} {status.phase_title}  ")
        line.append(f"{clock_text(status.phase_seconds)} / {clock_text(status.planned_seconds)}")
        if status.overrun:
            line.append(f" +{clock_text(status.overrun_seconds)} over")
        line.append(f"  · {total}")
        if self._offline:
            line.append("  · ⚠ database lost", style="bold")
        return line

    def _strip(self, status: EngineStatus) -> Text:
        text = Text()
        phases = self.data.detail["phases"] if self.data else []
        current = status.phase_index if status.phase_index is not None else -1
        for index, phase in enumerate(phases):
            if index:
                text.append(" › ")
            if index == current:
                text.append(phase["phase_id"], style="bold reverse")
            elif index < current:
                text.append(f"✓{phase['phase_id']}", style="dim")
            else:
                text.append(phase["phase_id"])
        return text

    def _show_cards(self, status: EngineStatus) -> None:
        data = self.data
        if data is None:
            return
        phases = data.detail["phases"]
        index = status.phase_index
        if index is None or not phases:
            text = "_The session is not running._\n"
        elif index >= len(phases):
            text = "## All phases done\n\nPress **ctrl+f** to wrap up the session.\n"
        else:
            phase = phases[index]
            guidance = data.guidance.get(phase["phase_id"], "")
            text = phase_markdown(phase, guidance, data.plan, data.recap, data.plan_note)
        self.query_one("#cards-md", Markdown).update(text)
        self.query_one("#cards-scroll", VerticalScroll).scroll_home(animate=False)

    # --- transitions -------------------------------------------------------------------------

    def _transition(self, name: str, work) -> None:
        if self.data is None:
            return

        def done(_: object) -> None:
            self._report_warnings()
            self._polling = False
            if self.data is not None:
                self.run_task(self.data.engine.status, done=self._after, name="Reading the timer")

        self.run_task(work, done=done, failed=self._refused, name=name, group="transition")

    def _after(self, status: EngineStatus) -> None:
        self._show(status)
        if self._moving_on and status.phase_index == status.phase_count:
            self.action_wrap_up()
        self._moving_on = False

    def _refused(self, exc: BaseException) -> None:
        from coach.ui.screens.base import error_text

        self._moving_on = False
        self.notify(error_text(exc), severity="warning")

    def action_tab(self, tab: str, target: str) -> None:
        """Straight to a tab and its input, from anywhere on the screen."""
        if not (tab == "notes" and self._wide):  # wide, the notes are always in sight
            # Let go of the focus first: the note editor is in no pane, so a focus still inside
            # the old pane would switch the tabs back to it (``TabPane.Focused``).
            self.set_focus(None)
            self.query_one("#tabs", TabbedContent).active = tab
        self._arrange()
        self.call_after_refresh(self.query_one(target).focus)

    def action_next_phase(self) -> None:
        if self.data is not None:
            self._moving_on = True
            self._transition("Next phase", self.data.engine.next_phase)

    def action_previous_phase(self) -> None:
        if self.data is not None:
            self._transition("Previous phase", self.data.engine.previous_phase)

    def action_pause(self) -> None:
        if self.data is None or self.status is None:
            return
        engine = self.data.engine
        if self.status.paused:
            self._transition("Resume", engine.resume)
        else:
            self._transition("Pause", engine.pause)

    def action_wrap_up(self) -> None:
        self.coach.open_wrapup(self.session_id)

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def _report_warnings(self) -> None:
        """Plugin hooks that failed during a transition: shown, never fatal."""
        if self.data is None:
            return
        warnings = [*self.data.warnings, *self.data.engine.warnings]
        for warning in warnings[self._warned :]:
            self.notify(warning, title="Plugin problem", severity="warning", timeout=10)
        self._warned = len(warnings)

    # --- notes -------------------------------------------------------------------------------

    def _open_note(self, role: str) -> None:
        """Edit ``role``'s note of this session (the latest one, if any was written)."""
        from coach.sessions.autosave import NoteAutosaver

        if self.data is None:
            return
        self._close_note()
        notes = [n for n in self.data.detail["notes"] if n["author_role"] == role]
        latest = notes[-1] if notes else None
        phase = self.status.phase_id if self.status else None
        try:
            self.saver = NoteAutosaver(
                self.context.db,
                self.session_id,
                author_role=role,
                phase_id=phase or "",
                note_id=latest["id"] if latest else None,
            )
        except Exception as exc:
            from coach.ui.screens.base import error_text

            self.notify(error_text(exc), title="Notes cannot be saved", severity="error")
            return
        self._saves_seen = 0
        editor = self.query_one("#note", TextArea)
        editor.load_text(self.saver.text)
        editor.move_cursor(editor.document.end)  # a reopened note is continued, not prefixed
        editor.disabled = False
        with self.prevent(Switch.Changed):
            self.query_one("#private", Switch).value = self.saver.private
        self._saved_at = None
        self._set_autosave("saved" if latest else "", "")

    def _close_note(self) -> None:
        saver, self.saver = self.saver, None
        if saver is None:
            return
        try:
            saver.close()
        except Exception as exc:  # the text stays in the editor; say so rather than lose it
            from coach.ui.screens.base import error_text

            self.notify(error_text(exc), title="A note was not saved", severity="error")
            return
        if self.data is not None:  # remember it, so switching back continues the same note
            notes = self.data.detail["notes"]
            known = next((n for n in notes if n["id"] == saver.note_id), None)
            if known is not None:
                known.update(text=saver.text, private=saver.private)
            elif saver.note_id is not None:
                notes.append(
                    {
                        "id": saver.note_id,
                        "author_role": saver.author_role,
                        "text": saver.text,
                        "private": saver.private,
                    }
                )

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.saver is not None and event.text_area.id == "note":
            text = event.text_area.text
            if text != self.saver.text:
                self.saver.update(text)
                self._set_autosave("unsaved", "")

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if self.saver is None or event.switch.id != "private":
            return
        saver, private = self.saver, event.value
        self.run_task(
            lambda: saver.set_private(private),
            done=lambda _: self._update_autosave(),
            name="Saving the note's privacy",
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        role = event.value
        if event.select.id != "role" or not isinstance(role, str):
            return
        if self.saver is None or self.saver.author_role != role:
            self._open_note(role)

    def _update_autosave(self) -> None:
        saver = self.saver
        if saver is None:
            return
        if saver.error is not None:
            self._set_autosave("error", f"not saved: {type(saver.error).__name__}")
        elif saver.dirty:
            self._set_autosave("saving", "")
        elif saver.saves != self._saves_seen:
            self._saves_seen = saver.saves
            self._saved_at = self.context.now().astimezone()
            self._set_autosave("local" if saver.unshared else "saved", "")
        elif saver.unshared != self._unshared_shown:  # the server came back (or went away)
            self._set_autosave("local" if saver.unshared else "saved", "")

    def _set_autosave(self, state: str, detail: str) -> None:
        label = {
            "": "",
            "unsaved": "● unsaved",
            "saving": "saving…",
            "error": f"⚠ {detail}",
            "saved": f"✓ saved at {self._saved_at:%H:%M}" if self._saved_at else "✓ saved",
            "local": "✓ saved here, not yet shared",
        }[state]
        self._unshared_shown = state == "local"
        widget = self.query_one("#autosave", Static)
        widget.set_class(state == "error", "-error")
        widget.update(label)

    def on_unmount(self) -> None:
        """Nothing typed is lost: the autosaver writes what is left when the screen goes."""
        self._close_note()

    # --- agenda ------------------------------------------------------------------------------

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        """Store the ticks in a worker; whichever write runs last stores the latest set."""
        from coach.sessions.agenda import set_agenda

        if event.selection_list.id != "agenda-list" or self.data is None:
            return
        now = set(event.selection_list.selected)
        if now == self._checked:
            return
        self._checked = now
        db, session_id = self.context.db, self.session_id

        def store() -> None:
            with self._agenda_lock:
                set_agenda(db, session_id, set(self._checked))

        self.run_task(store, name="Saving the agenda", group="agenda")

    # --- ask the coach -----------------------------------------------------------------------

    def _ask_hint(self) -> str:
        resource = self.context.resources["knowledge"]
        if resource.state == "ready":
            return "_Ask a question: the best passages from the knowledge base come back._\n"
        if resource.state in ("waiting", "loading"):
            detail = f" ({resource.detail})" if resource.detail else ""
            return f"_The knowledge base is still loading{detail}; ask once it is ready._\n"
        if resource.state == "failed":
            return f"_The knowledge base failed to load: {resource.detail}_\n"
        return "_The knowledge base is off, so the coach has no passages to answer from._\n"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        question = event.value.strip()
        answer = self.query_one("#answer", Markdown)
        if not question:
            return
        kb = self.context.kb
        if kb is None:
            answer.update(self._ask_hint())
            return
        answer.update(f"**Q:** {question}\n\n_Searching the knowledge base…_\n")
        context, detail = self.context, self.data.detail if self.data else None

        def work():
            from coach.prepare.ask import answers_questions, ask_coach

            generator = context.generator
            prompts = context.prompts if answers_questions(generator) else None
            topics = detail["topic_ids"] if detail else []
            topic = context.host.topic(topics[0]) if topics else None
            return ask_coach(question, kb=kb, generator=generator, prompts=prompts, topic=topic)

        self.run_task(
            work,
            done=self._answered,
            failed=self._ask_failed,
            name="Asking the coach",
            group="ask",
            exclusive=True,
        )

    def _answered(self, result) -> None:
        self.query_one("#answer", Markdown).update(answer_markdown(result))
        self.query_one("#answer-scroll", VerticalScroll).scroll_home(animate=False)
        if result.model_failed:
            for notice in result.notices:
                self.notify(notice, title="Ask the coach", severity="warning")

    def _ask_failed(self, exc: BaseException) -> None:
        from coach.ui.screens.base import error_text

        self.query_one("#answer", Markdown).update(f"_No answer: {error_text(exc)}_\n")
        self.notify(error_text(exc), title="Ask the coach failed", severity="error")
