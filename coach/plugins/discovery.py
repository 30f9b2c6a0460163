"""Finding plugins and loading their code, each failure contained to its own plugin.

Three sources, in increasing precedence: built-ins (top-level ``plugins/``, shipped inside the
wheel), packages exposing the ``coach`` entry-point group, and folders under the user's plugin
directories. Built-ins are folders too, loaded by the very same code as a user's folder.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType

from pydantic import ValidationError

from coach.plugins.pack import PackFile, TopicPack

BUILTIN, ENTRY_POINT, FOLDER = "builtin", "entry point", "folder"
PRECEDENCE = {FOLDER: 0, ENTRY_POINT: 1, BUILTIN: 2}
"""Lower wins when two plugins provide the same topic, prompt, template or file type."""


class PluginError(Exception):
    """A plugin cannot be loaded; the message says what and where."""


@dataclass
class Candidate:
    """A plugin found but not yet registered."""

    name: str
    source: str
    location: str
    root: Path | None
    version: str = "0.0.0"
    description: str = ""
    objects: list[object] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def builtin_plugins_dir() -> Path:
    """Inside the package in a wheel, at the repository top in a checkout."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_builtin" / "plugins"
    return bundled if bundled.is_dir() else package.parent / "plugins"


def inside(root: Path, relative: str) -> Path:
    """``relative`` resolved under ``root``; refuses absolute paths and escapes, even by symlink."""
    if not relative or PurePosixPath(relative).is_absolute() or Path(relative).is_absolute():
        raise PluginError(f"path {relative!r} must be relative to the plugin folder")
    if ".." in PurePosixPath(relative.replace("\\", "/")).parts:
        raise PluginError(f"path {relative!r} leaves the plugin folder ('..' is not allowed)")
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise PluginError(f"path {relative!r} resolves outside the plugin folder")
    return resolved


def is_plugin_folder(path: Path) -> bool:
    return path.is_dir() and any(
        (path / marker).is_file() for marker in ("plugin.toml", "plugin.py", "__init__.py")
    )


def plugin_folders(directory: Path) -> list[Path]:
    """Plugin folders directly under ``directory``, by name (hidden and ``_`` ones skipped)."""
    if not directory.is_dir():
        return []
    return [
        child
        for child in sorted(directory.iterdir())
        if not child.name.startswith((".", "_")) and is_plugin_folder(child)
    ]


def load_folder(folder: Path, source: str) -> Candidate:
    """A folder plugin: plugin.toml (declarative, optionally naming a module) or plugin.py."""
    root = folder.resolve()
    manifest = root / "plugin.toml"
    if manifest.is_file():
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise PluginError(f"{manifest}: not valid TOML: {exc}") from None
        try:
            pack = PackFile.model_validate(data)
        except ValidationError as exc:
            raise PluginError(f"{manifest}: {format_errors(exc)}") from None
        meta = pack.plugin
        candidate = Candidate(
            meta.name, source, str(root), root, meta.version, meta.description,
            [TopicPack(pack, lambda relative: inside(root, relative).read_text(encoding="utf-8"))],
        )  # fmt: skip
        if meta.module:
            candidate.objects.append(import_file(meta.name, inside(root, meta.module)))
        return candidate
    code = root / "plugin.py" if (root / "plugin.py").is_file() else root / "__init__.py"
    name = root.name.lower().replace("_", "-")
    module = import_file(name, code)
    return Candidate(
        name,
        source,
        str(root),
        root,
        str(getattr(module, "__version__", "0.0.0")),
        (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "",
        [module],
    )


def import_file(plugin: str, path: Path) -> ModuleType:
    """Import a plugin's module from its file, under a name private to Coach."""
    if not path.is_file():
        raise PluginError(f"module {path} does not exist")
    module_name = "coach_plugin_" + plugin.replace("-", "_")
    package = [str(path.parent)] if path.name == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=package
    )
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise PluginError(f"import failed: {describe(exc, path.parent)}") from None
    return module


def entry_point_candidates(disabled: set[str]) -> list[Candidate | tuple[str, str, str]]:
    """Packages' plugins; a failed load yields (name, location, message) instead."""
    from importlib.metadata import entry_points

    found: list[Candidate | tuple[str, str, str]] = []
    for entry in sorted(entry_points(group="coach"), key=lambda e: e.name):
        if entry.name in disabled:
            found.append(Candidate(entry.name, ENTRY_POINT, entry.value, None))
            continue
        try:
            loaded = entry.load()
        except Exception as exc:  # one broken package must not stop the others
            found.append((entry.name, entry.value, f"import failed: {describe(exc)}"))
            continue
        file = getattr(loaded, "__file__", None)
        version = entry.dist.version if entry.dist else "0.0.0"
        doc = (loaded.__doc__ or "").strip()
        found.append(
            Candidate(
                entry.name,
                ENTRY_POINT,
                entry.value,
                Path(file).resolve().parent if file else None,
                version,
                doc.splitlines()[0] if doc else "",
                [loaded],
            )
        )
    return found


def describe(exc: BaseException, within: Path | None = None) -> str:
    """``Type: message (file:line)`` for one-line warnings.

    The line shown is the innermost one inside the plugin's folder when there is one, since
    that is the line its author can fix.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if within is not None:
        own = [f for f in frames if Path(f.filename).resolve().is_relative_to(within)]
        frames = own or frames
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


def format_errors(exc: ValidationError, prefix: str = "") -> str:
    """Pydantic errors as ``field.path: message`` joined by '; '."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        parts.append(f"{prefix}{location}: {error['msg']}" if location else error["msg"])
    return "; ".join(parts)
