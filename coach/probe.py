"""What `coach doctor` reports for one backend: which it is, where, and whether it answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    part: str
    """What Coach uses it for: ``database``, ``knowledge base``, ``private notes``, ``model``."""
    backend: str
    """Which one: ``sqlite``, ``postgresql``, ``chroma (embedded)``, ``chroma server``."""
    where: str
    """A path or a URL, never with its password."""
    ok: bool
    """True when it answered (or, for a local file, can be opened)."""
    detail: str
    """A version or revision when it answered; otherwise what went wrong, in one line."""
