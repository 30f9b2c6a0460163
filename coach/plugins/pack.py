"""Declarative topic packs: a folder with ``plugin.toml`` (and Markdown), no Python needed.

A pack becomes an ordinary plugin object whose hook implementations hand the TOML tables to the
same ``register`` callbacks a Python plugin calls, so both kinds are validated identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from coach.hookspecs import hookimpl
from coach.plugins.models import Slug


class PluginMeta(BaseModel):
    """The ``[plugin]`` table of plugin.toml."""

    model_config = ConfigDict(extra="forbid")

    name: Slug
    version: str = "0.0.0"
    description: str = ""
    module: str | None = None
    """Optional Python module (relative path) with more hook implementations."""


class PackFile(BaseModel):
    """The whole plugin.toml; topics and templates are validated one by one when registered."""

    model_config = ConfigDict(extra="forbid")

    plugin: PluginMeta
    topics: list[dict[str, Any]] = []
    knowledge: list[dict[str, Any]] = []
    """Files not tied to one topic: ``{ path = "knowledge/x.md", topics = ["a", "b"] }``."""
    prompts: dict[str, str] = {}
    """Prompt name to template file, relative to the plugin folder."""
    session_templates: list[dict[str, Any]] = []


class TopicPack:
    """The plugin object for a plugin.toml."""

    label = "plugin.toml"

    def __init__(self, pack: PackFile, read_file: Callable[[str], str]) -> None:
        self._pack = pack
        self._read_file = read_file

    @hookimpl
    def register_topics(self, register: Callable[[Any], None]) -> None:
        for raw in self._pack.topics:
            register(raw)

    @hookimpl
    def register_knowledge(self, register: Callable[..., None]) -> None:
        for entry in self._pack.knowledge:
            register(entry.get("path", ""), topics=entry.get("topics", []))

    @hookimpl
    def register_prompts(self, register: Callable[[str, str], None]) -> None:
        for name, relative in self._pack.prompts.items():
            register(name, self._read_file(relative))

    @hookimpl
    def register_session_templates(self, register: Callable[[Any], None]) -> None:
        for raw in self._pack.session_templates:
            register(raw)
