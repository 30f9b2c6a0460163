"""What the Pilot tests share: waiting for workers, and reading what a widget shows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def settle(pilot, until: Callable[[], bool] = lambda: True, seconds: float = 60) -> None:
    """Let every worker finish and its result reach the screen, then wait for ``until()``."""
    for _ in range(int(seconds * 20)):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if until():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the app did not get there in {seconds} s (on {pilot.app.screen!r})")


def screen_name(app) -> str:
    return type(app.screen).__name__
