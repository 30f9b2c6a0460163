"""The prepare screen's two dialogs: editing one item's text, and leaving with unsaved edits."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class EditItemScreen(ModalScreen[str | None]):
    """The text of one item in an editor; ctrl+s keeps it, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "keep", "Keep"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    EditItemScreen {
        align: center middle;
    }
    EditItemScreen > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    EditItemScreen TextArea {
        height: 8;
    }
    EditItemScreen #hint {
        color: $text-muted;
        height: 1;
    }
    """

    def __init__(self, label: str, text: str) -> None:
        super().__init__()
        self.label, self.text = label, text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Edit {self.label.lower()}"
            yield TextArea(self.text, soft_wrap=True, id="text")
            yield Static("ctrl+s keeps the text · escape cancels", id="hint")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def action_keep(self) -> None:
        self.dismiss(self.query_one("#text", TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LeaveScreen(ModalScreen[str | None]):
    """Unsaved edits: save them, drop them, or stay."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
        Binding("escape", "choose('stay')", "Stay"),
    ]
    DEFAULT_CSS = """
    LeaveScreen {
        align: center middle;
    }
    LeaveScreen > Vertical {
        width: 60;
        height: auto;
        border: round $warning;
        background: $surface;
        padding: 1 2;
    }
    LeaveScreen Horizontal {
        height: auto;
        margin-top: 1;
    }
    LeaveScreen Button {
        margin-right: 1;
    }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("This plan has edits that are not saved.")
            with Horizontal():
                yield Button("Save (s)", id="save", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Stay (esc)", id="stay")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
