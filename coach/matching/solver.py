"""The optimal assignment: scipy's Hungarian-style solver, never a greedy loop.

The objective is lexicographic: first match as many mentees as the rules allow, then the highest
total score among those matchings. Mentor capacity is mentor columns repeated once per free
place. Each mentee also gets a private "unmatched" column, so a forbidden pair is never needed
to complete the assignment: forbidden cells cost more than staying unmatched, so the optimum
never uses them, and any that came back anyway would be dropped, not accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def assign(scores: np.ndarray, allowed: np.ndarray, capacity: Sequence[int]) -> list[int | None]:
    """The mentor (column) of each mentee (row), or None; ``allowed`` is a boolean mask."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows, cols = scores.shape
    if rows == 0:
        return []
    slots = np.repeat(np.arange(cols), np.asarray(capacity, dtype=int))
    ok = allowed[:, slots]
    if not ok.any():  # no places, or every place forbidden to everyone
        return [None] * rows
    values = scores[:, slots].astype(np.float64)
    low = values[ok].min()
    shifted = np.where(ok, values - low, 0.0)  # >= 0 where allowed
    # Staying unmatched costs more than any difference in total score can repay, so one more
    # match always wins; a forbidden cell costs more than staying unmatched.
    unmatched = float(shifted.max()) * rows + 1.0
    cost = np.where(ok, -shifted, 2.0 * unmatched)
    dummy = np.full((rows, rows), 4.0 * unmatched)
    np.fill_diagonal(dummy, unmatched)
    chosen_rows, chosen_cols = linear_sum_assignment(np.hstack([cost, dummy]))
    result: list[int | None] = [None] * rows
    for row, col in zip(chosen_rows, chosen_cols, strict=True):
        if col < len(slots) and ok[row, col]:
            result[row] = int(slots[col])
    return result
