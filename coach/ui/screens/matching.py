"""Matching: propose mentor–mentee pairs, review why, lock or swap some, and accept.

People come from the programme (everyone not yet in a pair) or from a CSV file whose path is
typed into the field at the top (enter loads it; an empty field loads the programme's people).
A bad file shows every problem with its row number and changes nothing.

The proposal is computed in a worker with the knowledge base's embedding model; while that is
still loading the screen says so and proposes as soon as it is ready.

Keys:

- ``l`` locks (or unlocks) the selected pair: it is kept in every later proposal.
- ``s`` swaps partners: the selected pair is forbidden and the proposal is made again, so both
  people get new partners (or are listed as unmatched, with the reason). Locked pairs stay put;
  a forbidden pair is never proposed again until people are loaded afresh.
- ``r`` proposes again with the current locks and forbidden pairs.
- ``a`` or ctrl+s accepts: after a confirmation the pairs are saved in one transaction (people
  from a CSV file are added first) and Home lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TabPane

from coach.ui.screens.base import CoachScreen, error_text

if TYPE_CHECKING:
    from coach.knowledge.embedder import Embedder
    from coach.matching.models import Candidate, Criterion, MatchRules, Proposal, ProposedPair
    from coach.ui.context import CoachContext, Resource

PairKey = tuple[str, str]
"""(mentor key, mentee key): how locks and forbidden pairs name a pair."""

LOCK_MARK = "●"
FROM_PROGRAMME = "the programme's unpaired people"


def embedder_for(context: CoachContext) -> Embedder | None:
    """The knowledge base's embedding model once it is ready; None while it loads (or is off)."""
    kb = context.kb
    return kb.embedder if kb is not None else None


def pair_key(pair: ProposedPair) -> PairKey:
    return (pair.mentor.key, pair.mentee.key)


def pair_detail(pair: ProposedPair, *, locked: bool) -> Text:
    """Who, the score, and every reason: which skill met which growth area or goal, and how well."""
    text = Text()
    text.append(f"{pair.mentor.name}", style="bold")
    text.append(" mentors ")
    text.append(f"{pair.mentee.name}", style="bold")
    text.append(f"   score {pair.score:.2f}")
    if locked:
        text.append(f"   {LOCK_MARK} locked", style="bold yellow")
    text.append("\n")
    sides = [
        f"{who.name}: {who.department or 'no department'}"
        + (f", {who.timezone}" if who.timezone else "")
        for who in (pair.mentor, pair.mentee)
    ]
    text.append(" · ".join(sides) + "\n", style="dim")
    if not pair.reasons:
        text.append("\nNo skill of the mentor met a need of the mentee closely.\n", style="dim")
        return text
    for reason in pair.reasons:
        text.append("\n• ")
        if reason.kind == "skill":
            text.append(reason.mentor_side, style="green")
            text.append(" meets ")
            text.append(reason.mentee_side, style="cyan")
            text.append(f"  (similarity {reason.weight:.2f})", style="dim")
        elif reason.kind == "interest":
            text.append("shared interest: ")
            text.append(reason.mentor_side or reason.mentee_side, style="magenta")
            text.append(f"  (+{reason.weight:.2f})", style="dim")
        else:
            text.append(f"{reason.kind}: ", style="bold")
            text.append(" / ".join(s for s in (reason.mentor_side, reason.mentee_side) if s))
            text.append(f"  ({reason.weight:+.2f})", style="dim")
    return text


def unmatched_text(proposal: Proposal) -> Text:
    if not proposal.unmatched:
        return Text("Everyone has a partner.", style="green")
    text = Text()
    for item in proposal.unmatched:
        who = item.candidate
        text.append(f"• {who.name}", style="bold")
        text.append(f" ({who.role}): ", style="dim")
        text.append(f"{item.reason}\n")
    return text


class ConfirmAcceptScreen(ModalScreen[bool]):
    """Save the proposed pairs? enter or y saves, escape or n goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "choose(True)", "Save"),
        Binding("n,escape", "choose(False)", "Cancel"),
    ]
    DEFAULT_CSS = """
    ConfirmAcceptScreen {
        align: center middle;
    }
    ConfirmAcceptScreen > Vertical {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    ConfirmAcceptScreen Horizontal {
        height: auto;
        margin-top: 1;
    }
    ConfirmAcceptScreen Button {
        margin-right: 1;
    }
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.message, id="confirm-text")
            with Horizontal():
                yield Button("Save pairs (y)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "save")

    def action_choose(self, save: bool) -> None:
        self.dismiss(save)


class MatchingScreen(CoachScreen):
    """Proposed pairs with their reasons; l lock, s swap partners, r propose again, a accept."""

    TITLE_TEXT = "Matching"
    AUTO_FOCUS = "#match-pairs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "lock", "Lock"),
        Binding("s", "swap", "New partners"),
        Binding("r", "repropose", "Re-propose"),
        Binding("u", "toggle_tab", "Unmatched"),
        Binding("a", "accept", "Accept"),
        Binding("ctrl+s", "accept", "Accept", show=False),
        Binding("ctrl+o", "focus_path", "CSV"),
    ]
    DEFAULT_CSS = """
    MatchingScreen #match-source {
        height: 1;
        padding: 0 1;
    }
    MatchingScreen #match-source Static {
        width: auto;
        color: $text-muted;
    }
    MatchingScreen #match-path {
        width: 1fr;
    }
    MatchingScreen #match-state {
        height: auto;
        max-height: 8;
        padding: 0 1;
        color: $text-muted;
    }
    MatchingScreen #match-state.problem {
        color: $text-error;
    }
    MatchingScreen TabbedContent {
        height: 1fr;
    }
    MatchingScreen TabPane {
        padding: 0;
    }
    MatchingScreen #match-pairs {
        height: auto;
        max-height: 50%;
    }
    MatchingScreen #match-reasons-box, MatchingScreen #match-unmatched-box {
        height: 1fr;
        padding: 0 1;
    }
    MatchingScreen #match-unmatched-box:focus {
        background-tint: $foreground 5%;
    }
    MatchingScreen #match-reasons-box {
        border-top: solid $panel;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.candidates: list[Candidate] | None = None
        self.source = ""
        self.proposal: Proposal | None = None
        self.locked: set[PairKey] = set()
        self.forbidden: set[PairKey] = set()
        self.busy = False
        self._waiting_for_model = False

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="match-source"):
            yield Static("People CSV ")
            yield Input(
                placeholder="path, then enter (empty: the programme's unpaired people)",
                id="match-path",
                compact=True,
            )
        yield Static("Loading the programme…", id="match-state")
        with TabbedContent(id="match-tabs"):
            with TabPane("Pairs", id="tab-pairs"):
                yield DataTable(id="match-pairs", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="match-reasons-box"):
                    yield Static(id="match-reasons")
            with TabPane("Unmatched", id="tab-unmatched"), VerticalScroll(id="match-unmatched-box"):
                yield Static(id="match-unmatched")

    def on_mount(self) -> None:
        table = self.query_one("#match-pairs", DataTable)
        table.add_column(LOCK_MARK, key="lock", width=1)
        table.add_column("Mentor", key="mentor")
        table.add_column("Mentee", key="mentee")
        table.add_column("Score", key="score")
        self.query_one("#match-tabs").display = False
        if self.context.ready("database"):
            self.load()

    # --- status ------------------------------------------------------------------------------

    def _state(self, text: str | Text, *, problem: bool = False) -> None:
        state = self.query_one("#match-state", Static)
        state.update(text)
        state.set_class(problem, "problem")
        state.display = bool(str(text))

    def on_resource(self, resource: Resource) -> None:
        if resource.key == "database":
            if resource.state == "ready" and self.candidates is None and not self.busy:
                self.load()
            elif resource.state == "failed":
                self._state(f"The programme could not be opened: {resource.detail}", problem=True)
        elif resource.key == "knowledge":
            if resource.state == "ready" and self._waiting_for_model:
                self.propose()
            elif resource.state == "failed" and self._waiting_for_model:
                self._state(
                    f"Matching needs the embedding model, which failed to load: {resource.detail}",
                    problem=True,
                )

    # --- loading people ----------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.load(event.value.strip() or None)

    def action_focus_path(self) -> None:
        self.query_one("#match-path", Input).focus()

    def load(self, path: str | None = None) -> None:
        """Read the candidates (the programme's unpaired people, or a CSV file), then propose."""
        from coach.matching import service

        context = self.context
        source = path or FROM_PROGRAMME

        def read() -> list[Candidate]:
            if path is None:
                return service.candidates_from_db(context.db)
            return service.candidates_from_csv(Path(path).expanduser())

        def loaded(candidates: list[Candidate]) -> None:
            self.busy = False
            self.candidates, self.source = candidates, source
            self.locked.clear()
            self.forbidden.clear()
            self.proposal = None
            if path is not None:  # from the path field to the proposal, once it is there
                self.query_one("#match-pairs", DataTable).focus()
            self.propose()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self._state(self._bad_input(source, exc), problem=True)
            self.notify(
                "Nothing was loaded; the proposal is unchanged.",
                title="People could not be read",
                severity="error",
            )

        self.busy = True
        self._state(f"Reading people from {source}…")
        self.run_task(read, done=loaded, failed=failed, name="Reading people", group="matching")

    @staticmethod
    def _bad_input(source: str, exc: BaseException) -> Text:
        text = Text(f"{source} could not be used; nothing changed:\n", style="bold")
        text.append(error_text(exc))
        return text

    # --- proposing ---------------------------------------------------------------------------

    def propose(self) -> None:
        """Propose in a worker with the current locks and forbidden pairs."""
        from coach.matching import service

        if self.candidates is None:
            return
        context = self.context
        embedder = embedder_for(context)
        if embedder is None:
            self._waiting_for_model = True
            knowledge = context.resources["knowledge"]
            if knowledge.state == "failed":
                self._state(
                    f"Matching needs the embedding model, which failed to load: {knowledge.detail}",
                    problem=True,
                )
            elif knowledge.state == "off":
                self._state("Matching needs the embedding model, which is off.", problem=True)
            else:
                self._state(
                    f"{len(self.candidates)} people from {self.source}. The embedding model is"
                    " still loading; the proposal follows as soon as it is ready."
                )
            return
        self._waiting_for_model = False
        candidates = list(self.candidates)
        locked, forbidden = tuple(sorted(self.locked)), tuple(sorted(self.forbidden))
        criteria = self._criteria()
        rules = self._rules()

        def work() -> Proposal:
            return service.propose(
                candidates,
                embedder=embedder,
                rules=rules,
                criteria=criteria,
                locked=locked,
                forbidden=forbidden,
            )

        def failed(exc: BaseException) -> None:
            self.busy = False
            self._state(Text(f"No proposal: {error_text(exc)}"), problem=True)
            self.notify(error_text(exc), title="Matching failed", severity="error")

        self.busy = True
        self._state(f"Proposing pairs for {len(candidates)} people from {self.source}…")
        self.run_task(
            work, done=self._show, failed=failed, name="Proposing pairs", group="matching"
        )

    def _rules(self) -> MatchRules:
        from coach.matching.service import rules_from_settings

        return rules_from_settings(self.context.settings)

    def _criteria(self) -> tuple[Criterion, ...]:
        """Matching criteria from plugins, once the plugins are loaded."""
        from coach.matching.service import criteria_from_host

        if self.context.state("plugins") != "ready":
            return ()
        return tuple(criteria_from_host(self.context.host))

    def _show(self, proposal: Proposal) -> None:
        self.busy = False
        self.proposal = proposal
        keep = self.selected()
        table = self.query_one("#match-pairs", DataTable)
        row_index = table.cursor_row
        # Locks on pairs the solver could not keep (say, the file changed) are dropped.
        self.locked &= {pair_key(pair) for pair in proposal.pairs}
        table.clear()
        for pair in proposal.pairs:
            key = pair_key(pair)
            table.add_row(
                *self._cells(pair),
                key="\x1f".join(key),
            )
        tabs = self.query_one("#match-tabs", TabbedContent)
        tabs.display = True
        tabs.get_tab("tab-pairs").label = f"Pairs ({len(proposal.pairs)})"
        tabs.get_tab("tab-unmatched").label = f"Unmatched ({len(proposal.unmatched)})"
        self.query_one("#match-unmatched", Static).update(unmatched_text(proposal))
        count = len(proposal.pairs)
        summary = (
            f"{count} pair{'' if count == 1 else 's'} from {self.source}, total score"
            f" {proposal.total_score:.2f}; {len(proposal.unmatched)} unmatched."
        )
        if self.forbidden:
            summary += f" {len(self.forbidden)} pair(s) set aside by swaps."
        if proposal.notices:
            summary += "\n" + "\n".join(f"• {notice}" for notice in proposal.notices)
        self._state(summary)
        if keep is not None and "\x1f".join(keep) in table.rows:
            table.move_cursor(row=table.get_row_index("\x1f".join(keep)))
        elif table.row_count:  # the pair under the cursor was swapped away: stay on its row
            table.move_cursor(row=min(max(row_index, 0), table.row_count - 1))
        self._show_reasons()
        self.refresh_bindings()

    def _cells(self, pair: ProposedPair) -> tuple[Text | str, ...]:
        mark = Text(LOCK_MARK, style="bold yellow") if pair_key(pair) in self.locked else ""
        return (mark, pair.mentor.name, pair.mentee.name, f"{pair.score:.2f}")

    # --- the selected pair -------------------------------------------------------------------

    def selected_pair(self) -> ProposedPair | None:
        table = self.query_one("#match-pairs", DataTable)
        if self.proposal is None or not table.row_count:
            return None
        row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        for pair in self.proposal.pairs:
            if "\x1f".join(pair_key(pair)) == row:
                return pair
        return None

    def selected(self) -> PairKey | None:
        pair = self.selected_pair()
        return pair_key(pair) if pair is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_reasons()

    def _show_reasons(self) -> None:
        pair = self.selected_pair()
        reasons = self.query_one("#match-reasons", Static)
        if pair is None:
            text = "No pairs could be proposed; the Unmatched tab says why."
            if not self.candidates:
                text = f"Nobody to match in {self.source}: load a people CSV (ctrl+o)."
            reasons.update(Text(text, style="dim"))
        else:
            reasons.update(pair_detail(pair, locked=pair_key(pair) in self.locked))

    # --- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("lock", "swap", "accept"):
            return bool(self.proposal and self.proposal.pairs)
        if action == "repropose":
            return self.candidates is not None
        if action == "toggle_tab":
            return self.proposal is not None
        return True

    def _idle(self) -> bool:
        if self.busy:
            self.notify("Still working on the last step; try again in a moment.", timeout=3)
        return not self.busy

    def action_lock(self) -> None:
        pair = self.selected_pair()
        if pair is None or not self._idle():
            return
        key = pair_key(pair)
        if key in self.locked:
            self.locked.discard(key)
        else:
            self.locked.add(key)
        table = self.query_one("#match-pairs", DataTable)
        table.update_cell("\x1f".join(key), "lock", self._cells(pair)[0])
        self._show_reasons()

    def action_swap(self) -> None:
        pair = self.selected_pair()
        if pair is None or not self._idle():
            return
        key = pair_key(pair)
        if key in self.locked:
            self.notify("This pair is locked; press l to unlock it first.", timeout=4)
            return
        self.forbidden.add(key)
        self.notify(
            f"{pair.mentor.name} and {pair.mentee.name} will not be paired; proposing again.",
            timeout=4,
        )
        self.propose()

    def action_toggle_tab(self) -> None:
        tabs = self.query_one("#match-tabs", TabbedContent)
        to_pairs = tabs.active != "tab-pairs"
        tabs.active = "tab-pairs" if to_pairs else "tab-unmatched"
        target = self.query_one("#match-pairs" if to_pairs else "#match-unmatched-box")
        self.call_after_refresh(target.focus)  # once its pane is shown

    def action_repropose(self) -> None:
        if self.candidates is not None and self._idle():
            self.propose()

    def action_accept(self) -> None:
        proposal = self.proposal
        if proposal is None or not proposal.pairs or not self._idle():
            return
        count = len(proposal.pairs)
        left = len(proposal.unmatched)
        message = f"Save {count} pair{'s' if count != 1 else ''} from {self.source}?"
        if left:
            message += f"\n{left} {'person stays' if left == 1 else 'people stay'} unmatched."
        if self.source != FROM_PROGRAMME:
            message += "\nEveryone in the file is added to the programme first."

        def confirmed(save: bool | None) -> None:
            if save:
                self._accept(proposal)

        self.app.push_screen(ConfirmAcceptScreen(message), confirmed)

    def _accept(self, proposal: Proposal) -> None:
        from coach.matching.service import accept

        db = self.context.db

        def saved(pair_ids: list[int]) -> None:
            self.busy = False
            count = len(pair_ids)
            self.notify(
                f"Saved {count} pair{'s' if count != 1 else ''}; Home (F2) lists them.",
                title="Pairs accepted",
            )
            self.query_one("#match-path", Input).value = ""
            self.load()  # the people just paired drop out; the rest can be matched next

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.notify(error_text(exc), title="Nothing was saved", severity="error", timeout=10)

        self.busy = True
        self.run_task(
            lambda: accept(db, proposal),
            done=saved,
            failed=failed,
            name="Saving pairs",
            group="matching",
        )
