"""What the Pilot tests share: waiting for workers, and reading what a widget shows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def settle(
    pilot, until: Callable[[], bool] = lambda: True, seconds: float = 60, rounds: int = 1
) -> None:
    """Let every worker finish and its result reach the screen, then wait for ``until()``.

    ``rounds`` > 1 waits again for workers that the first results started (a screen that loads,
    then starts its timer, then reads the engine).
    """
    for _ in range(rounds - 1):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
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
