"""The plugin host: one pluggy PluginManager, every plugin isolated from the others.

Each plugin's hook implementations are called one plugin at a time, so a failure is reported
once, naming the plugin and the hook, and everything else keeps working. What plugins register
is validated on the way in; conflicts are settled by source precedence (folder, then entry
point, then built-in) and then by plugin name, always with a warning.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from pydantic import BaseModel, ValidationError

from coach import hookspecs
from coach.plugins.discovery import (
    BUILTIN,
    FOLDER,
    PRECEDENCE,
    Candidate,
    PluginError,
    builtin_plugins_dir,
    describe,
    entry_point_candidates,
    format_errors,
    inside,
    is_plugin_folder,
    load_folder,
    plugin_folders,
)
from coach.plugins.models import SessionEvent, SessionTemplate, Topic

if TYPE_CHECKING:
    from coach.knowledge.base import ManagedFile
    from coach.settings import Settings

HOOKS = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "coach_spec")]
EVENT_HOOKS = ("session_started", "session_phase_changed", "session_completed")


@dataclass
class PluginInfo:
    name: str
    version: str
    source: str
    location: str
    description: str = ""
    status: str = "ok"
    """ok, degraded (loaded, some contributions rejected), failed (not loaded) or disabled."""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "location": self.location,
            "description": self.description,
            "status": self.status,
            "topics": len(self.topics),
            "topic_ids": self.topics,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class KnowledgeFile:
    path: Path
    plugin: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Contribution:
    """Something a plugin registered, with who registered it."""

    value: Any
    plugin: str


class PluginHost:
    def __init__(
        self,
        settings: Settings,
        *,
        builtins: bool = True,
        entry_points: bool = True,
        folders: Sequence[Path] | None = None,
    ) -> None:
        """Discover, load and collect every plugin. ``folders`` replaces the user's folders."""
        self.settings = settings
        self.pm = pluggy.PluginManager("coach")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.warnings: list[str] = []
        self._objects: list[tuple[PluginInfo, object, Path | None]] = []
        self.topics: dict[str, Contribution] = {}
        self.knowledge: list[KnowledgeFile] = []
        self.prompts: dict[str, Contribution] = {}
        self.session_templates: dict[str, Contribution] = {}
        self.loaders: dict[str, Contribution] = {}
        self.matching_criteria: dict[str, Contribution] = {}
        disabled = set(settings.plugins_disabled)
        candidates: list[Candidate] = []
        if builtins:
            candidates += self._folders(plugin_folders(builtin_plugins_dir()), BUILTIN, disabled)
        if entry_points:
            for found in entry_point_candidates(disabled):
                if isinstance(found, tuple):
                    name, location, message = found
                    self._failed(PluginInfo(name, "?", "entry point", location), message)
                else:
                    candidates.append(found)
        user_folders = settings.plugin_dirs if folders is None else folders
        for directory in user_folders:
            # A folder that is itself a plugin counts as one; otherwise its sub-folders do.
            paths = [directory] if is_plugin_folder(directory) else plugin_folders(directory)
            candidates += self._folders(paths, FOLDER, disabled)
        candidates.sort(key=lambda c: (PRECEDENCE[c.source], c.name))
        for candidate in candidates:
            self._register(candidate, disabled)
        self._collect()

    # --- loading ---------------------------------------------------------------------------

    def _folders(self, paths: list[Path], source: str, disabled: set[str]) -> list[Candidate]:
        found = []
        for path in paths:
            if path.name in disabled:
                found.append(Candidate(path.name, source, str(path), path))
                continue
            try:
                found.append(load_folder(path, source))
            except PluginError as exc:
                self._failed(PluginInfo(path.name, "?", source, str(path)), str(exc))
        return found

    def _failed(self, info: PluginInfo, message: str) -> None:
        info.status = "failed"
        info.errors.append(message)
        self.plugins.append(info)
        self.warnings.append(f"plugin '{info.name}' ({info.source}) was not loaded: {message}")

    def _register(self, candidate: Candidate, disabled: set[str]) -> None:
        info = PluginInfo(
            candidate.name,
            candidate.version,
            candidate.source,
            candidate.location,
            candidate.description,
        )
        if candidate.name in disabled:
            info.status = "disabled"
            self.plugins.append(info)
            return
        if any(p.name == info.name and p.status != "failed" for p in self.plugins):
            self._failed(info, f"another plugin named '{info.name}' is already loaded")
            return
        registered: list[object] = []
        try:
            for index, obj in enumerate(candidate.objects):
                self.pm.register(obj, name=f"{candidate.name}#{index}")
                registered.append(obj)
                self._check_hook_names(obj)
        except (PluginError, pluggy.PluginValidationError, ValueError) as exc:
            for obj in registered:
                self.pm.unregister(obj)
            self._failed(info, str(exc))
            return
        self.plugins.append(info)
        info.warnings.extend(candidate.warnings)
        self._objects.extend((info, obj, candidate.root) for obj in candidate.objects)

    def _check_hook_names(self, obj: object) -> None:
        """``check_pending`` for one plugin: a misspelled hook fails that plugin only."""
        for caller in self.pm.get_hookcallers(obj) or []:
            if not caller.has_spec():
                close = difflib.get_close_matches(caller.name, HOOKS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise PluginError(f"implements unknown hook '{caller.name}'{hint}")

    # --- collecting --------------------------------------------------------------------------

    def _calls(self, hook: str) -> list[tuple[PluginInfo, Callable[..., Any], str, Path | None]]:
        """(plugin, implementation, label, root) for ``hook``, in precedence order."""
        calls = []
        caller = getattr(self.pm.hook, hook)
        for info, obj, root in self._objects:
            for impl in caller.get_hookimpls():
                if impl.plugin is obj:
                    label = (
                        getattr(obj, "label", None)
                        or Path(getattr(obj, "__file__", info.location)).name
                    )
                    calls.append((info, impl.function, label, root))
        return calls

    def _collect(self) -> None:
        registers = {
            "register_topics": self._topic_register,
            "register_knowledge": self._knowledge_register,
            "register_prompts": self._prompt_register,
            "register_session_templates": self._template_register,
            "register_loaders": self._loader_register,
            "register_matching_criteria": self._criterion_register,
        }
        for hook, make_register in registers.items():
            for info, function, label, root in self._calls(hook):
                try:
                    function(register=make_register(info, label, root))
                except Exception as exc:  # isolation: the plugin's other hooks still count
                    self._problem(info, f"hook {hook} raised {describe(exc, root)}")
        for info in self.plugins:
            if info.status == "ok" and info.errors:
                info.status = "degraded"

    def _problem(self, info: PluginInfo, message: str) -> None:
        info.errors.append(message)
        self.warnings.append(f"plugin '{info.name}': {message}")

    def _claim(
        self, table: dict[str, Contribution], kind: str, key: str, value: Any, info: PluginInfo
    ) -> bool:
        """Keep the first claim of ``key`` (plugins arrive in precedence order); warn on others."""
        if key in table:
            winner = table[key].plugin
            message = (
                f"{kind} '{key}' is also provided by plugin '{winner}', which takes precedence"
            )
            info.warnings.append(message)
            self.warnings.append(f"plugin '{info.name}': {message}")
            return False
        table[key] = Contribution(value, info.name)
        return True

    def _validated(self, model: type[BaseModel], raw: Any, info: PluginInfo, label: str) -> Any:
        if isinstance(raw, model):
            return raw
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            ident = raw.get("id") if isinstance(raw, dict) else None
            what = f"{model.__name__.lower()} '{ident}'" if ident else model.__name__.lower()
            self._problem(info, f"{label}: {what}: {format_errors(exc)}")
            return None

    def _topic_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(topic: Topic | dict[str, Any]) -> None:
            topic = self._validated(Topic, topic, info, label)
            if topic is None:
                return
            files = []
            for relative in topic.knowledge:
                path = self._plugin_file(info, label, root, relative, f"topic '{topic.id}'")
                if path:
                    files.append(path)
            if self._claim(self.topics, "topic", topic.id, topic, info):
                info.topics.append(topic.id)
                self.knowledge.extend(KnowledgeFile(p, info.name, (topic.id,)) for p in files)

        return register

    def _knowledge_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(path: str, topics: Sequence[str] = ()) -> None:
            resolved = self._plugin_file(info, label, root, str(path), "knowledge")
            if resolved:
                self.knowledge.append(KnowledgeFile(resolved, info.name, tuple(topics)))

        return register

    def _plugin_file(
        self, info: PluginInfo, label: str, root: Path | None, relative: str, owner: str
    ) -> Path | None:
        if root is None:
            self._problem(info, f"{label}: {owner}: plugin has no folder to hold {relative!r}")
            return None
        try:
            path = inside(root, relative)
        except PluginError as exc:
            self._problem(info, f"{label}: {owner}: {exc}")
            return None
        if not path.is_file():
            self._problem(info, f"{label}: {owner}: file {relative!r} does not exist")
            return None
        return path

    def _prompt_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(name: str, text: str) -> None:
            if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
                self._problem(info, f"{label}: prompt name {name!r} is not a simple name")
            elif not isinstance(text, str) or not text.strip():
                self._problem(info, f"{label}: prompt '{name}' is empty")
            else:
                self._claim(self.prompts, "prompt", name, text, info)

        return register

    def _template_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(template: SessionTemplate | dict[str, Any]) -> None:
            template = self._validated(SessionTemplate, template, info, label)
            if template is not None:
                self._claim(self.session_templates, "session template", template.id, template, info)

        return register

    def _loader_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(suffixes: Sequence[str], loader: Callable[..., Any]) -> None:
            if isinstance(suffixes, str):
                suffixes = [suffixes]
            bad = [
                s for s in suffixes if not (isinstance(s, str) and s.startswith(".") and len(s) > 1)
            ]
            if bad or not callable(loader):
                self._problem(info, f"{label}: loader needs suffixes like '.vtt' and a function")
                return
            for suffix in suffixes:
                self._claim(self.loaders, "loader for", suffix.lower(), loader, info)

        return register

    def _criterion_register(self, info: PluginInfo, label: str, root: Path | None):
        def register(name: str, criterion: Callable[..., Any]) -> None:
            from coach.matching.models import Criterion

            if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
                self._problem(
                    info, f"{label}: matching criterion name {name!r} is not a simple name"
                )
            elif not callable(criterion):
                self._problem(info, f"{label}: matching criterion '{name}' is not a function")
            else:
                value = Criterion(name, criterion, info.name)
                self._claim(self.matching_criteria, "matching criterion", name, value, info)

        return register

    # --- using ---------------------------------------------------------------------------------

    def install_loaders(self) -> None:
        """Add plugin file types to the knowledge base's loader registry."""
        from coach.knowledge.documents import Skip
        from coach.knowledge.loaders import register_loader

        for suffix, contribution in self.loaders.items():
            loader, plugin = contribution.value, contribution.plugin

            def guarded(path: Path, data: bytes, loader=loader, plugin=plugin) -> Any:
                try:
                    return loader(path, data)
                except Skip:
                    raise
                except Exception as exc:
                    message = f"loader from plugin '{plugin}' failed: {describe(exc)}"
                    raise Skip(message) from None

            register_loader(suffix)(guarded)

    def notify(self, hook: str, event: SessionEvent) -> list[str]:
        """Tell plugins about a session event; returns the warnings of plugins that failed."""
        if hook not in EVENT_HOOKS:
            raise ValueError(f"unknown session event hook {hook!r}")
        problems = []
        for info, function, _, root in self._calls(hook):
            try:
                function(event=event)
            except Exception as exc:
                message = f"plugin '{info.name}': hook {hook} raised {describe(exc, root)}"
                info.warnings.append(message)
                problems.append(message)
        return problems

    def knowledge_files(self) -> list[ManagedFile]:
        """Plugin knowledge for the default collection, tagged with plugin and topics."""
        from coach.knowledge.base import ManagedFile

        merged: dict[Path, ManagedFile] = {}
        for file in self.knowledge:  # a file listed by several topics carries all of them
            known = merged.get(file.path)
            topics = tuple(dict.fromkeys((*(known.topics if known else ()), *file.topics)))
            merged[file.path] = ManagedFile(file.path, f"plugin:{file.plugin}", topics)
        return list(merged.values())

    def topic(self, topic_id: str) -> Topic | None:
        found = self.topics.get(topic_id)
        return found.value if found else None

    def plugin(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name), None)
