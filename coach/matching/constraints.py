"""The programme's hard rules: which mentor-mentee pairs may never be proposed, and why.

Each rule returns a short reason, so an unmatched person can be told which rule kept them apart
from everyone. Reporting line means a direct line either way: the mentee's manager is the
mentor, or the mentor's manager is the mentee (in reverse mentoring the mentee is often the
senior). Two people with the same manager are peers, not one line; a shared department catches
them when that rule is on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from coach.matching.models import Candidate, MatchRules

OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

DEPARTMENT = "same department"
REPORTING_LINE = "same reporting line"
TIMEZONE = "timezones too far apart"


def utc_offset_hours(text: str, at: datetime | None = None) -> float | None:
    """Hours east of UTC for "UTC+2", "+05:30", "GMT-3", "UTC" or an IANA name; None if unknown.

    IANA names are resolved at ``at`` (now by default), so daylight saving counts as it is.
    """
    value = text.strip()
    if not value:
        return None
    if value.upper() in ("UTC", "GMT", "Z"):
        return 0.0
    if match := OFFSET.match(value):
        sign, hours, minutes = match.groups()
        offset = int(hours) + int(minutes or 0) / 60
        if offset > 14 or int(minutes or 0) >= 60:
            return None
        return offset if sign == "+" else -offset
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    delta = (at or datetime.now(UTC)).astimezone(zone).utcoffset()
    return delta.total_seconds() / 3600 if delta is not None else None


def hours_apart(a: float, b: float) -> float:
    """Clock difference around the globe: UTC+12 and UTC-11 are one hour apart, not 23."""
    difference = abs(a - b) % 24
    return min(difference, 24 - difference)


def _same(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def _manages(boss: Candidate, person: Candidate) -> bool:
    manager = person.manager.strip().casefold()
    if not manager:
        return False
    return manager == boss.name.strip().casefold() or (
        boss.email is not None and manager == boss.email.casefold()
    )


def clash(
    mentor: Candidate,
    mentee: Candidate,
    rules: MatchRules,
    offsets: dict[str, float | None] | None = None,
) -> str | None:
    """Why this pair is not allowed, or None. ``offsets`` caches hours by timezone text."""
    if rules.avoid_same_department and _same(mentor.department, mentee.department):
        return DEPARTMENT
    if rules.avoid_reporting_line and (_manages(mentor, mentee) or _manages(mentee, mentor)):
        return REPORTING_LINE
    if rules.max_timezone_hours is not None and mentor.timezone and mentee.timezone:
        cache = offsets if offsets is not None else {}
        for zone in (mentor.timezone, mentee.timezone):
            if zone not in cache:
                cache[zone] = utc_offset_hours(zone)
        a, b = cache[mentor.timezone], cache[mentee.timezone]
        if a is not None and b is not None and hours_apart(a, b) > rules.max_timezone_hours:
            return TIMEZONE
    return None


REASONS = ("", DEPARTMENT, REPORTING_LINE, TIMEZONE)
"""Codes of ``clash_matrix``: 0 allowed, then the rule that forbids the pair."""


def clash_matrix(mentees: list[Candidate], mentors: list[Candidate], rules: MatchRules):
    """``clash`` for every pair at once (mentees x mentors codes into ``REASONS``).

    Vectorised because a 1,000 x 1,000 programme would otherwise make a million Python calls.
    """
    import numpy as np

    codes = np.zeros((len(mentees), len(mentors)), dtype=np.int8)

    def mark(mask, code: int) -> None:
        codes[(codes == 0) & mask] = code

    if rules.avoid_same_department:
        index: dict[str, int] = {}

        def dept(people: list[Candidate], blank: int):
            # A blank department equals nothing: each blank gets its own negative code.
            return np.array(
                [
                    index.setdefault(key, len(index))
                    if (key := p.department.strip().casefold())
                    else blank - i
                    for i, p in enumerate(people)
                ],
                dtype=np.int64,
            )

        a, b = dept(mentees, -1), dept(mentors, -1 - len(mentees))
        mark(a[:, None] == b[None, :], 1)
    if rules.avoid_reporting_line:
        line = np.zeros_like(codes, dtype=bool)
        for rows, cols, flip in ((mentees, mentors, False), (mentors, mentees, True)):
            names: dict[str, list[int]] = {}
            for j, boss in enumerate(cols):
                names.setdefault(boss.name.strip().casefold(), []).append(j)
                if boss.email:
                    names.setdefault(boss.email.casefold(), []).append(j)
            for i, person in enumerate(rows):
                for j in names.get(person.manager.strip().casefold(), []) if person.manager else []:
                    line[(j, i) if flip else (i, j)] = True
        mark(line, 2)
    if rules.max_timezone_hours is not None:
        cache: dict[str, float | None] = {}

        def hours(people: list[Candidate]):
            for p in people:
                if p.timezone and p.timezone not in cache:
                    cache[p.timezone] = utc_offset_hours(p.timezone)
            return np.array(
                [cache.get(p.timezone) if p.timezone else None for p in people], dtype=float
            )

        a, b = hours(mentees), hours(mentors)
        difference = np.abs(a[:, None] - b[None, :]) % 24
        apart = np.minimum(difference, 24 - difference)
        with np.errstate(invalid="ignore"):
            mark(np.nan_to_num(apart, nan=0.0) > rules.max_timezone_hours, 3)
    return codes
