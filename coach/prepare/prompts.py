"""Prompt templates: built-in ones, replaced by plugins, replaced again by the user's own files.

The embedded generator is a 270M *base* model: it only behaves with few-shot completion prompts,
and which examples work best depends on the programme. So the wording of every request lives in
Jinja templates that a facilitator can replace by dropping a file into ``COACH_HOME/prompts`` and
that a topic pack can ship, without touching code. Those templates are text from outside the
code, hence:

- every template is parsed when the library loads. One that does not parse is reported in
  ``problems`` and the version below it stays in force, so a typo in an override never leaves
  preparation without a prompt;
- rendering runs in Jinja's immutable sandbox with ``StrictUndefined``: a template can read what
  it is given but cannot reach Python internals, change the caller's data, or silently render a
  misspelt variable as nothing. The sandbox does not bound time or memory: a template is trusted
  not to loop for ever.

For template authors: ``trim_blocks`` and ``lstrip_blocks`` are on, so block tags leave no blank
lines; ``keep_trailing_newline`` is on, so the file is the prompt byte for byte (end it with
``{#- ... -#}`` to leave the model's slot open without a newline); ``fail(message)`` stops the
render with a clear error when an input is unusable.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

if TYPE_CHECKING:
    from coach.plugins.host import PluginHost
    from coach.settings import Settings

BUILTIN, USER = "builtin", "user"
SUFFIX = ".j2"


class PromptError(Exception):
    """A prompt cannot be found or rendered; the message is one line naming the template."""


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    origin: str
    """``builtin``, ``plugin:<name>`` or ``user``."""
    path: Path | None
    """The file it was read from; None for a plugin's prompt, which a plugin registers as text."""
    overrides: list[str] = field(default_factory=list)
    """Origins of the versions it replaced, nearest first, e.g. ``["plugin:x", "builtin"]``."""

    @property
    def where(self) -> str:
        """``origin`` or ``origin: path``, for messages."""
        return f"{self.origin}: {self.path}" if self.path else self.origin

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "path": str(self.path) if self.path else None,
            "overrides": list(self.overrides),
        }


def builtin_prompts_dir() -> Path:
    """Inside the package in a wheel, at the repository top in a checkout."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_builtin" / "prompts"
    return bundled if bundled.is_dir() else package.parent / "prompts"


def user_prompts_dir(settings: Settings) -> Path:
    """Where a facilitator's own templates live: ``COACH_HOME/prompts/<name>.j2``."""
    return settings.data_dir / "prompts"


def _fail(message: object) -> NoReturn:
    """``{{ fail("...") }}`` in a template: stop with this message instead of a bad prompt."""
    raise TemplateRuntimeError(str(message))


def _environment() -> ImmutableSandboxedEnvironment:
    # Immutable: a template cannot append to or clear the lists the caller passed in.
    environment = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["fail"] = _fail
    return environment


def _simple_name(name: str) -> bool:
    """The same rule the plugin host applies to prompt names."""
    return name.replace("-", "_").isidentifier()


def _is_private(item: object) -> bool:
    flag = item.get("private") if isinstance(item, Mapping) else getattr(item, "private", None)
    return flag is True or (isinstance(flag, int) and flag == 1)


def _public(context: dict[str, Any]) -> dict[str, Any]:
    """The context without any list item flagged ``private``.

    Private notes must never reach a model, and a user's or plugin's template cannot be trusted
    to filter them; doing it here makes the rule hold for every template.
    """
    cleaned = {}
    for key, value in context.items():
        if isinstance(value, list | tuple):
            value = [item for item in value if not _is_private(item)]
        cleaned[key] = value
    return cleaned


def _line(exc: BaseException, filename: str) -> int | None:
    """The template line a render error happened on (Jinja rewrites tracebacks to point there)."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return lines[-1] if lines else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PromptLibrary:
    """Every prompt in force, by name, with where it came from and what it replaced.

    Precedence, lowest first: built-ins (``prompts/``), plugin prompts (``PluginHost.prompts``,
    already settled among plugins by the host), the user's ``COACH_HOME/prompts/*.j2``.
    """

    def __init__(self) -> None:
        self.environment = _environment()
        self.problems: list[str] = []
        """One line per template that was not used, naming it, its origin and the line."""
        self._templates: dict[str, PromptTemplate] = {}
        self._compiled: dict[str, Template] = {}
        self._filenames: dict[str, str] = {}

    @classmethod
    def load(cls, settings: Settings, host: PluginHost | None = None) -> PromptLibrary:
        """Built-ins, then plugin prompts (when a host is given), then the user's overrides."""
        library = cls()
        library._offer_folder(builtin_prompts_dir(), BUILTIN)
        if host is not None:
            for name, contribution in sorted(host.prompts.items()):
                library._offer(name, contribution.value, f"plugin:{contribution.plugin}")
        library._offer_folder(user_prompts_dir(settings), USER)
        return library

    # --- loading ---------------------------------------------------------------------------

    def _offer_folder(self, folder: Path, origin: str) -> None:
        if not folder.is_dir():
            return
        try:
            paths = sorted(
                p
                for p in folder.iterdir()
                if p.suffix == SUFFIX and not p.name.startswith(".") and not p.is_dir()
            )
        except OSError as exc:
            self.problems.append(f"{origin} prompts in {folder}: cannot list: {exc.strerror}")
            return
        for path in paths:
            self._offer_file(path, origin)

    def _offer_file(self, path: Path, origin: str) -> None:
        name = path.stem
        if not _simple_name(name):
            self.problems.append(
                f"{origin} prompt {path}: '{name}' is not a simple name (letters, digits, _ or -)"
            )
            return
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            self._reject(name, f"{origin}: {path}", f"cannot read: {exc.strerror or exc}")
            return
        except UnicodeDecodeError as exc:
            self._reject(name, f"{origin}: {path}", f"not UTF-8 text (byte {exc.start})")
            return
        if not text.strip():
            self._reject(name, f"{origin}: {path}", "empty file")
            return
        self._offer(name, text, origin, path)

    def _offer(self, name: str, text: str, origin: str, path: Path | None = None) -> None:
        """Put this version of ``name`` in force over the current one, if it parses."""
        filename = str(path) if path else f"<{origin} prompt '{name}'>"
        try:
            code = self.environment.compile(text, name=name, filename=filename)
        except TemplateSyntaxError as exc:  # also unknown filters and tests
            where = f"{origin}: {path}" if path else origin
            self._reject(name, f"{where}, line {exc.lineno}", exc.message or "syntax error")
            return
        globals_ = self.environment.make_globals(None)
        compiled = self.environment.template_class.from_code(self.environment, code, globals_)
        current = self._templates.get(name)
        overrides = [current.origin, *current.overrides] if current else []
        self._templates[name] = PromptTemplate(name, text, origin, path, overrides)
        self._compiled[name] = compiled
        self._filenames[name] = filename

    def _reject(self, name: str, where: str, reason: str) -> None:
        current = self._templates.get(name)
        kept = f"the {current.origin} version stays in force" if current else "it is not available"
        self.problems.append(f"prompt '{name}' ({where}): {reason}; not used, {kept}")

    # --- using -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(self._templates)

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def get(self, name: str) -> PromptTemplate:
        """The version of ``name`` in force; PromptError if there is none."""
        try:
            return self._templates[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise PromptError(f"unknown prompt {name!r} (known: {known})") from None

    def render(self, name: str, /, **context: Any) -> str:
        """The prompt text for ``name`` with ``context``; PromptError on any failure.

        Items flagged ``private`` are dropped from every list in ``context`` first (see
        ``_public``). The error message is one line: the template, its origin, the template line
        when known, and Jinja's reason, e.g. ``'topic' is undefined``.
        """
        template = self.get(name)
        try:
            return self._compiled[name].render(**_public(context))
        except Exception as exc:
            line = _line(exc, self._filenames[name])
            where = f"{template.where}, line {line}" if line else template.where
            if isinstance(exc, SecurityError):
                reason = f"blocked by the sandbox: {_first_line(exc)}"
            elif isinstance(exc, UndefinedError):
                reason = f"missing variable: {_first_line(exc)}"
            elif isinstance(exc, TemplateError):
                reason = _first_line(exc)
            else:  # a filter given the wrong type, a recursion limit, ...
                reason = f"{type(exc).__name__}: {_first_line(exc)}"
            raise PromptError(f"prompt '{name}' ({where}): {reason}") from None
