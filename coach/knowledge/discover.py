"""Find the files to ingest under the paths a user gave, with a reason for each one left out.

Folders are walked recursively, following symlinks but never into the same folder twice (so a
symlink loop ends); hidden files and folders (.git, .venv, ...) and Coach's own data folder are
passed over silently.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Candidate:
    path: Path
    """Absolute path as the user sees it (symlinks not resolved): this is the chunk's source."""
    problem: str | None = None


def discover(paths: list[Path], exclude: tuple[Path, ...] = ()) -> Iterator[Candidate]:
    """Files under ``paths``; folders in ``exclude`` (Coach's own data) are never entered."""
    seen_dirs: set[tuple[int, int]] = set()
    for folder in exclude:
        with contextlib.suppress(OSError):
            info = folder.stat()
            seen_dirs.add((info.st_dev, info.st_ino))
    seen_files: set[Path] = set()
    for given in paths:
        path = Path(os.path.abspath(given.expanduser()))
        for candidate in _walk(path, seen_dirs):
            if candidate.path not in seen_files:
                seen_files.add(candidate.path)
                yield candidate


def _walk(path: Path, seen_dirs: set[tuple[int, int]]) -> Iterator[Candidate]:
    try:
        info = path.stat()
    except FileNotFoundError:
        problem = "broken symlink (its target is missing)" if path.is_symlink() else "no such file"
        yield Candidate(path, problem)
        return
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            yield Candidate(path, "symlink loop")
        else:
            yield Candidate(path, f"cannot access: {exc.strerror or exc}")
        return
    if stat.S_ISDIR(info.st_mode):
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            yield Candidate(path, f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if not entry.name.startswith("."):
                yield from _walk(path / entry.name, seen_dirs)
    elif stat.S_ISREG(info.st_mode):
        yield Candidate(path)
    else:
        yield Candidate(path, "not a regular file (device, pipe or socket)")
