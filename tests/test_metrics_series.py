"""The dashboard's time series: held sessions per week, ratings per month, rating counts.

Hand-made programmes whose every time is chosen here (weeks start on Monday, months on the 1st,
in UTC), and the demo programme at a fixed time, whose totals must agree with
``programme_metrics``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coach.sessions.errors import InputError
from coach.sessions.metrics import (
    programme_metrics,
    rating_distribution,
    ratings_per_month,
    sessions_per_week,
)
from coach.sessions.models import Feedback, Pair, Person, Session

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday; its week starts Monday 2 March


def _pair(orm, index: int = 0) -> Pair:
    mentor = Person(name=f"Mentor {index}", email=f"mentor{index}@example.org", role="mentor")
    mentee = Person(name=f"Mentee {index}", email=f"mentee{index}@example.org", role="mentee")
    pair = Pair(mentor=mentor, mentee=mentee, created_at=NOW - timedelta(days=90))
    orm.add(pair)
    orm.flush()
    return pair


def _session(orm, pair: Pair, number: int, status: str = "completed", **times) -> Session:
    session = Session(pair_id=pair.id, number=number, status=status, **times)
    orm.add(session)
    orm.flush()
    return session


def test_no_held_session_means_empty_series(db) -> None:
    with db.transaction() as orm:
        pair = _pair(orm)
        _session(orm, pair, 1, "planned", scheduled_at=NOW + timedelta(days=3))
        _session(orm, pair, 2, "cancelled", ended_at=NOW - timedelta(days=3))
    assert sessions_per_week(db, now=NOW) == []
    assert ratings_per_month(db) == []
    assert rating_distribution(db) == {"mentor": [0] * 5, "mentee": [0] * 5}


def test_sessions_per_week_counts_held_sessions_in_their_week_with_empty_weeks(db) -> None:
    with db.transaction() as orm:
        a, b = _pair(orm, 0), _pair(orm, 1)
        # Week of Mon 2 Feb: Sunday 8 Feb 23:59 is still that week; Monday 9 Feb 00:00 is not.
        _session(orm, a, 1, ended_at=datetime(2026, 2, 2, 0, 0, tzinfo=UTC))
        _session(orm, b, 1, ended_at=datetime(2026, 2, 8, 23, 59, tzinfo=UTC))
        _session(orm, a, 2, ended_at=datetime(2026, 2, 9, 0, 0, tzinfo=UTC))
        # No ended_at: the start time, then the scheduled time stand in (week of 23 Feb).
        _session(orm, b, 2, started_at=datetime(2026, 2, 24, 10, tzinfo=UTC))
        _session(orm, a, 3, scheduled_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
        # Not held: never counted, whatever their times.
        _session(orm, a, 4, "cancelled", ended_at=datetime(2026, 2, 3, tzinfo=UTC))
        _session(orm, b, 3, "running", started_at=datetime(2026, 3, 3, tzinfo=UTC))
        _session(orm, b, 4, "planned", scheduled_at=datetime(2026, 1, 5, tzinfo=UTC))

    weeks = sessions_per_week(db, now=NOW)

    assert [(w.week, w.held) for w in weeks] == [
        (date(2026, 2, 2), 2),
        (date(2026, 2, 9), 1),
        (date(2026, 2, 16), 0),
        (date(2026, 2, 23), 2),
        (date(2026, 3, 2), 0),  # the week of now, even though nothing was held in it
    ]
    assert all(w.week.weekday() == 0 for w in weeks)


def test_sessions_per_week_needs_an_aware_now(db) -> None:
    with pytest.raises(InputError, match="time zone"):
        sessions_per_week(db, now=datetime(2026, 3, 4))


def test_ratings_per_month_means_per_side_with_empty_months(db) -> None:
    given = [
        # (session end, mentor rating, mentee rating or None)
        (datetime(2026, 1, 31, 23, 0, tzinfo=UTC), 2, 4),
        (datetime(2026, 1, 10, 9, 0, tzinfo=UTC), 3, None),
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 5, 5),
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), 4, 2),
    ]
    with db.transaction() as orm:
        pair = _pair(orm)
        for number, (ended, mentor, mentee) in enumerate(given, start=1):
            session = _session(orm, pair, number, ended_at=ended)
            orm.add(Feedback(session_id=session.id, side="mentor", rating=mentor))
            if mentee is not None:
                orm.add(Feedback(session_id=session.id, side="mentee", rating=mentee))

    months = ratings_per_month(db)

    assert [m.month for m in months] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    january, february, march = months
    assert january.mean == {"mentor": 2.5, "mentee": 4.0}
    assert january.count == {"mentor": 2, "mentee": 1}
    assert february.mean == {"mentor": None, "mentee": None}
    assert february.count == {"mentor": 0, "mentee": 0}
    assert march.mean == {"mentor": 4.5, "mentee": 3.5}
    assert rating_distribution(db) == {"mentor": [0, 1, 1, 1, 1], "mentee": [0, 1, 0, 1, 1]}


@pytest.fixture
def demo(db):
    from coach.sessions.demo import create_demo_programme

    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    create_demo_programme(db, now=now)
    return db, now


def test_demo_programme_series_at_a_fixed_time(demo) -> None:
    db, now = demo
    metrics = programme_metrics(db, now=now)
    weeks = sessions_per_week(db, now=now)

    assert sum(w.held for w in weeks) == metrics.sessions_held == 39
    assert weeks[-1].week == date(2026, 11, 2)
    assert weeks[0].week == date(2026, 4, 27)
    assert len(weeks) == 28
    assert [w.week for w in weeks] == [weeks[0].week + timedelta(weeks=i) for i in range(28)]

    months = ratings_per_month(db)
    assert [m.month.month for m in months] == [4, 5, 6, 7, 8, 9, 10]
    assert [m.count["mentor"] for m in months] == [1, 1, 3, 4, 8, 11, 11]
    distribution = rating_distribution(db)
    assert distribution == {"mentor": [0, 1, 6, 25, 7], "mentee": [0, 0, 6, 15, 18]}
    for side in ("mentor", "mentee"):
        ratings = distribution[side]
        assert sum(ratings) == sum(m.count[side] for m in months)
        mean = sum((i + 1) * n for i, n in enumerate(ratings)) / sum(ratings)
        assert mean == pytest.approx(metrics.mean_rating[side])
