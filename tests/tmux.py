"""Drive a real terminal program in tmux and read what a person would see.

Each ``Terminal`` runs on its own tmux server socket (``-L``), so tests never touch a user's
tmux sessions or each other's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class Terminal:
    def __init__(
        self, command: list[str], *, env: Mapping[str, str], width: int = 80, height: int = 24
    ) -> None:
        self.socket = f"coach-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        # Keep the pane after the program exits, so a crash stays readable in the failure.
        script = f"env {exports} {shlex.join(command)}; echo '[exited' $?']'; sleep 600"
        self._tmux("new-session", "-d", "-s", "coach", "-x", str(width), "-y", str(height), script)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TERM": "xterm-256color"},
        )
        return done.stdout

    def screen(self) -> str:
        """The visible pane as text, one line per row."""
        return self._tmux("capture-pane", "-p", "-t", "coach")

    def send(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``Tab``, ``C-s``, ``F3``) or literal text with ``type``."""
        self._tmux("send-keys", "-t", "coach", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "coach", "-l", text)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Poll until ``text`` is on screen; the failure shows the last screen."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{shown}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
