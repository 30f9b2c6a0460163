"""Plugins: what is loaded, what is disabled or failed and why, and what each one brings.

A broken plugin never stops Coach; this is where its author (or the facilitator) finds out what
went wrong, in the same words ``coach plugins list`` uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from coach.ui.screens.base import CoachScreen

if TYPE_CHECKING:
    from coach.plugins.host import PluginHost, PluginInfo
    from coach.ui.context import Resource

STATUS_STYLE = {"ok": "green", "degraded": "yellow", "failed": "red", "disabled": "dim"}
STATUS_WORD = {"ok": "loaded", "degraded": "loaded, with problems"}


def status_word(status: str) -> str:
    return STATUS_WORD.get(status, status)


def where(plugin: PluginInfo) -> str:
    """Built-ins ship with Coach (their folder says nothing); others by path, home as ``~``."""
    if plugin.source == "builtin":
        return "built into Coach"
    home = str(Path.home())
    location = plugin.location
    if location.startswith(home + os.sep):
        location = "~" + location[len(home) :]
    return f"{plugin.source} · {location}"


def plugin_detail(plugin: PluginInfo, host: PluginHost) -> Text:
    """Everything about one plugin: where it lives, its topics, its errors and warnings."""
    text = Text()
    text.append(f"{plugin.name} {plugin.version}", style="bold")
    text.append("  ")
    text.append(status_word(plugin.status), style=STATUS_STYLE.get(plugin.status, ""))
    text.append(f"\n{where(plugin)}\n", style="dim")
    if plugin.description:
        text.append(f"\n{plugin.description}\n")
    if plugin.topics:
        text.append(f"\nTopics ({len(plugin.topics)})\n", style="bold")
        for topic_id in plugin.topics:
            topic = host.topic(topic_id)
            title = f": {topic.title}" if topic else ""
            text.append(f"  {topic_id}{title}\n")
    elif plugin.status in ("ok", "degraded"):
        text.append("\nNo topics (it brings prompts, templates, loaders or knowledge).\n", "dim")
    for heading, items, style in (
        ("Errors", plugin.errors, "red"),
        ("Warnings", plugin.warnings, "yellow"),
    ):
        if items:
            text.append(f"\n{heading}\n", style=f"bold {style}")
            for item in items:
                text.append(f"  • {item}\n", style=style)
    if plugin.status == "disabled":
        text.append("\nDisabled in the settings (plugins_disabled).\n", style="dim")
    return text


class PluginsScreen(CoachScreen):
    TITLE_TEXT = "Plugins"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]
    DEFAULT_CSS = """
    PluginsScreen #plugins-state {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    PluginsScreen TabbedContent {
        height: 1fr;
    }
    PluginsScreen TabPane {
        padding: 0;
    }
    PluginsScreen #plugins {
        height: auto;
        max-height: 45%;
    }
    PluginsScreen #detail-box, PluginsScreen #problems-box {
        height: 1fr;
        padding: 0 1;
    }
    PluginsScreen #detail-box {
        border-top: solid $panel;
    }
    """

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Loading plugins…", id="plugins-state")
        with TabbedContent(id="plugin-tabs"):
            with TabPane("Plugins", id="tab-plugins"):
                yield DataTable(id="plugins", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="detail-box"):
                    yield Static(id="detail")
            with TabPane("Problems", id="tab-problems"), VerticalScroll(id="problems-box"):
                yield Static(id="problems")

    def on_mount(self) -> None:
        self.query_one("#plugins", DataTable).add_columns(
            "Name", "Version", "Source", "Topics", "Status"
        )
        self.action_refresh()

    def on_resource(self, resource: Resource) -> None:
        if resource.key == "plugins":
            self.action_refresh()

    def action_refresh(self) -> None:
        """The host is already loaded in memory: listing it is instant, no worker needed."""
        resource = self.context.resources["plugins"]
        state = self.query_one("#plugins-state", Static)
        tabs = self.query_one("#plugin-tabs")
        tabs.display = resource.usable
        state.display = not resource.usable
        if not resource.usable:
            failed = resource.state == "failed"
            state.update(
                f"Plugins could not be loaded: {resource.detail}" if failed else "Loading plugins…"
            )
            return
        host = self.context.host
        table = self.query_one("#plugins", DataTable)
        table.clear()
        for plugin in host.plugins:
            status = Text(status_word(plugin.status), style=STATUS_STYLE.get(plugin.status, ""))
            table.add_row(
                plugin.name,
                plugin.version,
                plugin.source,
                str(len(plugin.topics)),
                status,
                key=plugin.name,
            )
        problems = self.problems()
        tab = self.query_one(TabbedContent).get_tab("tab-problems")
        tab.label = f"Problems ({len(problems)})"
        self.query_one("#problems", Static).update(
            Text("\n".join(f"• {p}" for p in problems), style="yellow")
            if problems
            else Text("No problems: every plugin loaded cleanly.", style="green")
        )
        if host.plugins:
            self._show(host.plugins[0].name)

    def problems(self) -> list[str]:
        """Load problems: the host's warnings, then others found later (prompt overrides)."""
        found = list(self.context.host.warnings)
        found += [w for w in self.context.warnings if w not in found]
        return found

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show(event.row_key.value)

    def _show(self, name: str) -> None:
        host = self.context.host
        plugin = host.plugin(name)
        if plugin is not None:
            self.query_one("#detail", Static).update(plugin_detail(plugin, host))
