"""The status line under every screen: what is loaded, what is still loading, what failed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from coach.ui.context import Resource

MARKS = {"waiting": "·", "loading": "…", "ready": "✓", "off": "–", "failed": "✗"}
STYLES = {"waiting": "dim", "loading": "yellow", "ready": "green", "off": "dim", "failed": "red"}


def describe(resource: Resource, *, wide: bool) -> Text:
    """``Knowledge … 40%`` in a narrow terminal, with the detail when there is room."""
    text = Text()
    text.append(f"{MARKS[resource.state]} {resource.label}", style=STYLES[resource.state])
    if resource.state == "loading" and resource.progress is not None:
        text.append(f" {resource.progress:.0%}", style="yellow")
    if resource.detail and (wide or resource.state == "failed"):
        text.append(f" {resource.detail}", style="dim")
    return text


class ResourceStatus(Static):
    """Subscribes to the app's resource signal; one line, trimmed to the terminal width."""

    DEFAULT_CSS = """
    ResourceStatus {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        self.app.resource_signal.subscribe(self, self._changed)
        self._render_line()

    def on_resize(self) -> None:
        self._render_line()

    def _changed(self, _resource: Resource) -> None:
        self._render_line()

    def _render_line(self) -> None:
        resources = list(self.app.context.resources.values())
        wide = self.size.width >= 110
        line = Text(" · ").join(describe(resource, wide=wide) for resource in resources)
        busy = [r for r in resources if r.state == "loading" and r.detail]
        if busy and not wide:
            line.append(f"  {busy[0].detail}", style="dim")
        self.update(line)
