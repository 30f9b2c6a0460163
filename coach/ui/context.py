"""What the TUI's screens share: settings, the database, plugins, knowledge base and model.

Opening these is slow (the embedding model alone takes seconds to import), so the app opens each
one in a background worker and every screen reads ``resources`` to say what is still loading.
Nothing heavy is imported by this module: the first frame never waits for torch or llama.cpp.
Tests build a context with the pieces already in hand (``db=``, ``kb=``, ``generator=``), and
the loaders then leave those alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase
    from coach.knowledge.embedder import Embedder
    from coach.plugins.host import PluginHost
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary
    from coach.sessions.db import Database
    from coach.settings import Settings

State = Literal["waiting", "loading", "ready", "off", "failed"]
Listener = Callable[["Resource"], None]
Clock = Callable[[], datetime]

RESOURCES = {
    "database": "Programme",
    "plugins": "Plugins",
    "knowledge": "Knowledge",
    "model": "Model",
}


@dataclass(frozen=True)
class Resource:
    """One thing the app loads, as a status line shows it."""

    key: str
    label: str
    state: State = "waiting"
    detail: str = ""
    """Why it failed or is off, or what it is doing now (``embedding 120/268 chunks``)."""
    progress: float | None = None
    """0..1 while loading with a known total; None otherwise."""

    @property
    def usable(self) -> bool:
        return self.state == "ready"


class NotReady(RuntimeError):
    """A screen asked for something that has not loaded (or failed to)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CoachContext:
    """Holds the loaded pieces and their status; thread-safe, so workers can fill it in."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        db: Database | None = None,
        host: PluginHost | None = None,
        kb: KnowledgeBase | None = None,
        generator: Generator | None = None,
        knowledge: bool = True,
        model: bool = True,
        clock: Clock = _utc_now,
    ) -> None:
        """``settings=None`` reads them in the first worker, after the first frame (importing
        pydantic-settings costs as much as Textual's own start). ``knowledge=False`` /
        ``model=False`` leave that piece off (shown as such)."""
        self._settings = settings
        self.clock = clock
        self._db, self._host, self._kb, self._generator = db, host, kb, generator
        self._prompts: PromptLibrary | None = None
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.resources = {key: Resource(key, label) for key, label in RESOURCES.items()}
        given = {"database": db, "plugins": host, "knowledge": kb, "model": generator}
        for key, value in given.items():
            if value is not None:
                self.resources[key] = replace(self.resources[key], state="ready")
        if kb is None and not knowledge:
            self.resources["knowledge"] = replace(
                self.resources["knowledge"], state="off", detail="not loaded"
            )
        if generator is None and not model:
            self.resources["model"] = replace(
                self.resources["model"], state="off", detail="grounded plans only"
            )
        self.warnings: list[str] = []
        """Problems found while loading (plugin errors, prompt overrides) for the UI to show."""

    # --- status ------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(resource)`` on every change, from whichever thread made it."""
        self._listeners.append(listener)

    def update(self, key: str, **changes: object) -> Resource:
        with self._lock:
            resource = replace(self.resources[key], **changes)
            self.resources[key] = resource
        for listener in list(self._listeners):
            listener(resource)
        return resource

    def state(self, key: str) -> State:
        return self.resources[key].state

    def ready(self, *keys: str) -> bool:
        """True when every one of ``keys`` has loaded (what a screen waits for before it reads)."""
        return all(self.resources[key].usable for key in keys)

    def needs(self, key: str) -> bool:
        """True when ``key`` still has to be loaded by a worker."""
        return self.resources[key].state == "waiting"

    # --- the pieces --------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise NotReady("the settings are still being read")
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            raise NotReady(self._why("database"))
        return self._db

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            raise NotReady(self._why("plugins"))
        return self._host

    @property
    def kb(self) -> KnowledgeBase | None:
        """The knowledge base once it is synced; None while loading, off or failed."""
        return self._kb if self.resources["knowledge"].usable else None

    @property
    def generator(self) -> Generator | None:
        """The model once loaded; None means grounded plans (the model is off or failed)."""
        return self._generator if self.resources["model"].usable else None

    @property
    def prompts(self) -> PromptLibrary:
        """The prompt library (user overrides, plugins, built-ins), loaded on first use."""
        with self._lock:
            if self._prompts is None:
                from coach.prepare.prompts import PromptLibrary

                self._prompts = PromptLibrary.load(self.settings, self.host)
                self.warnings.extend(self._prompts.problems)
            return self._prompts

    def now(self) -> datetime:
        return self.clock()

    def _why(self, key: str) -> str:
        resource = self.resources[key]
        if resource.state == "failed":
            return f"{resource.label} failed to load: {resource.detail}"
        return f"{resource.label} is still loading"

    # --- loaders (run in worker threads) -----------------------------------------------------

    def open_database(self) -> None:
        """Open (and migrate) the programme database."""
        if not self.needs("database"):
            return
        self.update("database", state="loading", detail="opening")
        try:
            from coach.sessions.db import open_database
            from coach.settings import load_settings

            if self._settings is None:  # a ConfigError names the bad value; the status shows it
                self._settings = load_settings()

            database = open_database(self.settings)
        except Exception as exc:
            self.update("database", state="failed", detail=_brief(exc))
            raise
        self.provide("database", database)

    def load_plugins(self) -> None:
        """Load every plugin; a broken one becomes a warning, never a failure of the app."""
        if not self.needs("plugins"):
            return
        self.update("plugins", state="loading", detail="")
        try:
            from coach.plugins.host import PluginHost

            host = PluginHost(self.settings)
            host.install_loaders()
        except Exception as exc:
            self.update("plugins", state="failed", detail=_brief(exc))
            raise
        self.warnings.extend(host.warnings)
        problems = f"{len(host.warnings)} problem(s)" if host.warnings else ""
        self.provide("plugins", host, detail=problems)

    def load_knowledge(self) -> None:
        """Open the knowledge base, load the embedding model and sync the built-in guides.

        With a Chroma server (``knowledge_url``) nothing is synced from here: the facilitator
        pushes the built-in guides with `coach knowledge sync`; a gap is said in the detail.
        """
        if not self.needs("knowledge"):
            return
        self.update("knowledge", state="loading", detail="loading the embedding model")
        from coach.knowledge.server import KnowledgeServerError

        try:
            from coach.knowledge.base import KnowledgeBase, builtin_files

            kb = KnowledgeBase(self.settings)
            kb.connect()  # a server first: unreachable, it fails before the model loads
            if (light := _light_embedder(self.settings)) is not None:
                kb.use_embedder(light)
            kb.embedder  # noqa: B018  (loads the model here, in the worker)
            managed = builtin_files() + self.host.knowledge_files()
            detail = ""
            if not kb.is_shared:
                kb.sync_managed(managed, _KnowledgeProgress(self))
            elif gaps := kb.managed_gaps(managed):
                detail = f"; lacks {', '.join(gaps)}: the facilitator runs `coach knowledge sync`"
            detail = f"{kb.store.count(kb.collection)} passages{detail}"
        except KnowledgeServerError as exc:
            # The URL and the reason in one line; the app goes on without the knowledge base.
            self.update("knowledge", state="failed", detail=str(exc), progress=None)
            return
        except Exception as exc:
            self.update("knowledge", state="failed", detail=_brief(exc), progress=None)
            raise
        self.provide("knowledge", kb, detail=detail)

    def load_model(self) -> None:
        """Build the configured generator and load its weights (the embedded model in-process)."""
        if not self.needs("model"):
            return
        self.update("model", state="loading", detail="")
        try:
            from coach.prepare.generate import generator_for

            generator, note = generator_for(self.settings)
            if generator is None:
                self.update("model", state="off", detail=note or "grounded plans only")
                return
            load = getattr(generator.model, "load", None)
            if callable(load):
                load()
        except Exception as exc:
            self.update("model", state="failed", detail=_brief(exc))
            raise
        self.provide("model", generator, detail=generator.label)

    def provide(self, key: str, piece: object, *, detail: str = "") -> None:
        """Hand over a loaded piece and mark it ready (what each loader ends with)."""
        attribute = {
            "database": "_db",
            "plugins": "_host",
            "knowledge": "_kb",
            "model": "_generator",
        }
        with self._lock:
            setattr(self, attribute[key], piece)
        self.update(key, state="ready", detail=detail, progress=None)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


class _KnowledgeProgress:
    """Turns ingest progress into ``knowledge`` resource updates (at most ~10 per second)."""

    def __init__(self, context: CoachContext) -> None:
        self.context = context
        self.files = 0
        self.done = 0
        self.chunks = 0
        self._last = 0.0

    def waiting_for_lock(self, lock_path: object) -> None:
        self.context.update("knowledge", detail="waiting for another Coach to finish writing")

    def started(self, files: int) -> None:
        self.files = files
        self.context.update("knowledge", detail=f"indexing {files} files", progress=0.0)

    def file_done(self, source: str, outcome: str) -> None:
        self.done += 1
        self._report()

    def embedded(self, chunks: int) -> None:
        self.chunks += chunks
        self._report()

    def status(self, text: str | None) -> None:
        if text:
            self.context.update("knowledge", detail=text)

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and self.done < self.files:
            return
        self._last = now
        progress = self.done / self.files if self.files else None
        detail = f"indexing {self.done}/{self.files} files, {self.chunks} passages"
        self.context.update("knowledge", detail=detail, progress=progress)


def _light_embedder(settings: Settings) -> Embedder | None:
    """The torch backend's vectors from ONNX (no torch in this long-lived process), else None."""
    if settings.embedding_backend != "torch":
        return None
    from coach.knowledge.embedder import OnnxFp32Embedder

    return OnnxFp32Embedder(settings.models_dir)


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
