"""Programme metrics against a generated programme whose answers are worked out independently.

``build_programme`` decides, per pair, exactly what to store (how many sessions are completed,
cancelled or still planned, every rating, every confidence score, every experiment status, when
the last session ended) and writes down the expected metrics from those same choices in plain
Python. The code under test only ever sees the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import mean

import pytest
from sqlalchemy import insert

from coach.sessions.errors import InputError
from coach.sessions.metrics import pair_key, programme_metrics
from coach.sessions.models import Confidence, Experiment, Feedback, Pair, Person, Session

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STALL = 21
TOPICS = ("ai-tools", "remote-work", "inclusive-meetings")


@dataclass
class ExpectedPair:
    held: int
    cancelled: int
    planned: int
    active: bool
    last_held_at: datetime | None
    days_since_last: int | None
    stalled: bool
    ratings: dict[str, list[int]]


@dataclass
class Expected:
    pairs: dict[int, ExpectedPair] = field(default_factory=dict)
    ratings: dict[str, list[int]] = field(default_factory=lambda: {"mentor": [], "mentee": []})
    deltas: dict[str, list[int]] = field(default_factory=dict)
    experiments: list[str] = field(default_factory=list)


def _people(orm, index: int) -> tuple[Person, Person]:
    mentor = Person(name=f"Mentor {index}", email=f"mentor{index}@example.org", role="mentor")
    mentee = Person(name=f"Mentee {index}", email=f"mentee{index}@example.org", role="mentee")
    orm.add_all([mentor, mentee])
    return mentor, mentee


def build_programme(db, pairs: int = 50) -> Expected:
    """Pairs whose every stored value follows from the pair index ``i``; see the comments."""
    expected = Expected()
    with db.transaction() as orm:
        for i in range(pairs):
            completed = i % 7  # 0..6 held sessions
            cancelled = 1 if i % 3 == 0 and completed < 6 else 0
            active = i % 10 != 9
            planned_sessions = 8 if i % 4 == 0 else 6
            created_days = 10 + (i * 7) % 40  # the pair was created this many days before NOW
            last_days = (i * 5) % 60 + 1  # the last held session ended this many days (+3 h) ago
            mentor, mentee = _people(orm, i)
            pair = Pair(
                mentor=mentor,
                mentee=mentee,
                planned_sessions=planned_sessions,
                active=active,
                created_at=NOW - timedelta(days=created_days),
            )
            orm.add(pair)
            orm.flush()

            statuses = ["completed"] * completed + ["cancelled"] * cancelled
            statuses += ["prepared" if i % 2 else "planned"] * (6 - len(statuses))
            if i % 11 == 5 and completed < 6:  # one session underway right now: not held yet
                statuses[completed + cancelled] = "running"
            ratings: dict[str, list[int]] = {"mentor": [], "mentee": []}
            for number, status in enumerate(statuses, start=1):
                session = Session(pair_id=pair.id, number=number, status=status)
                k = number  # completed sessions come first, so k counts them
                if status == "completed":
                    ended = NOW - timedelta(days=last_days + 7 * (completed - k), hours=3)
                    if i % 8 == 3 and k == completed:
                        # No ended_at (entered by hand): the start time stands in for it.
                        session.started_at = ended
                    else:
                        session.started_at = ended - timedelta(hours=1)
                        session.ended_at = ended
                elif status == "cancelled":
                    session.ended_at = NOW - timedelta(days=1)  # newer, but not held
                elif status == "running":
                    session.started_at = NOW - timedelta(minutes=30)
                else:
                    session.scheduled_at = NOW + timedelta(days=7 * number)
                orm.add(session)
                orm.flush()
                if status != "completed":
                    continue

                given = {"mentor": 1 + (i + k) % 5, "mentee": 1 + (2 * i + k) % 5}
                if i % 4 == 1 and k == 2:
                    del given["mentee"]  # the mentee skipped the feedback form
                for side, rating in given.items():
                    orm.add(Feedback(session_id=session.id, side=side, rating=rating))
                    ratings[side].append(rating)
                    expected.ratings[side].append(rating)

                topic = TOPICS[(i + k) % 3]
                before = None if (i + k) % 7 == 0 else 1 + (i + k) % 3
                after = None if (i + k) % 5 == 0 else min(5, 1 + (i + k) % 3 + k % 3)
                orm.add(
                    Confidence(session_id=session.id, topic_id=topic, before=before, after=after)
                )
                if before is not None and after is not None:
                    expected.deltas.setdefault(topic, []).append(after - before)

                if i % 6 != 2:
                    status_ = ("done", "open", "dropped")[(i * k) % 3]
                    orm.add(
                        Experiment(
                            pair_id=pair.id,
                            session_id=session.id,
                            title=f"try {i}.{k}",
                            owner="mentee",
                            status=status_,
                        )
                    )
                    expected.experiments.append(status_)

            if completed:
                last = NOW - timedelta(days=last_days, hours=3)
                idle = timedelta(days=last_days, hours=3)
            else:
                last = None
                idle = timedelta(days=created_days)
            expected.pairs[pair.id] = ExpectedPair(
                held=completed,
                cancelled=cancelled,
                planned=planned_sessions,
                active=active,
                last_held_at=last,
                days_since_last=last_days if completed else None,
                stalled=active and completed < planned_sessions and idle > timedelta(days=STALL),
                ratings=ratings,
            )
    return expected


def _mean_or_none(values: list[int]) -> float | None:
    return mean(values) if values else None


def test_generated_programme_matches_hand_computed_metrics(db) -> None:
    expected = build_programme(db)
    pairs = expected.pairs
    # The generator covers every case the metrics distinguish, or this test would prove little.
    assert sum(p.stalled for p in pairs.values()) >= 5
    assert any(not p.active and p.last_held_at for p in pairs.values())
    assert any(p.held == 0 and p.stalled for p in pairs.values())
    assert any(p.held == 0 and not p.stalled for p in pairs.values())
    assert any(p.active and not p.stalled and p.held for p in pairs.values())

    metrics = programme_metrics(db, now=NOW, stall_days=STALL)

    assert [p.pair_id for p in metrics.pairs] == sorted(pairs)
    for got in metrics.pairs:
        want = pairs[got.pair_id]
        assert got.held == want.held, got.pair_id
        assert got.cancelled == want.cancelled, got.pair_id
        assert got.planned == want.planned, got.pair_id
        assert got.active == want.active, got.pair_id
        assert got.last_held_at == want.last_held_at, got.pair_id
        assert got.days_since_last == want.days_since_last, got.pair_id
        assert got.stalled == want.stalled, got.pair_id
        for side in ("mentor", "mentee"):
            assert got.mean_rating[side] == pytest.approx(_mean_or_none(want.ratings[side]))
        assert got.mentor_name.startswith("Mentor ") and got.mentee_name.startswith("Mentee ")

    assert metrics.pair_count == 50
    assert metrics.stalled_pairs == sorted(pid for pid, p in pairs.items() if p.stalled)
    finished = {pid for pid, p in pairs.items() if p.held >= p.planned}
    assert metrics.finished_pairs == len(finished)
    assert metrics.active_pairs == sum(
        p.active and pid not in finished and not p.stalled for pid, p in pairs.items()
    )
    held = sum(p.held for p in pairs.values())
    cancelled = sum(p.cancelled for p in pairs.values())
    assert metrics.sessions_held == held
    assert metrics.sessions_cancelled == cancelled
    assert metrics.sessions_planned == sum(p.planned for p in pairs.values())
    for side in ("mentor", "mentee"):
        assert metrics.mean_rating[side] == pytest.approx(mean(expected.ratings[side]))
    assert set(metrics.confidence_delta) == set(expected.deltas)
    for topic, deltas in expected.deltas.items():
        assert metrics.confidence_delta[topic] == pytest.approx(mean(deltas))
        assert metrics.confidence_samples[topic] == len(deltas)
    done = expected.experiments.count("done")
    assert metrics.experiment_completion_rate == pytest.approx(done / len(expected.experiments))
    assert metrics.cancellation_rate == pytest.approx(cancelled / (held + cancelled))
    assert metrics.experiments == {
        s: expected.experiments.count(s) for s in ("done", "open", "dropped")
    }


def test_as_dict_is_plain_data(db) -> None:
    build_programme(db, pairs=5)
    data = programme_metrics(db, now=NOW).as_dict()
    assert data["now"] == NOW.isoformat()
    assert data["pair_count"] == 5
    first = data["pairs"][0]
    assert isinstance(first["last_held_at"], str | None)
    assert set(first["mean_rating"]) == {"mentor", "mentee"}


def test_empty_programme_has_no_rates(db) -> None:
    metrics = programme_metrics(db, now=NOW)
    assert metrics.pairs == []
    assert metrics.pair_count == metrics.active_pairs == 0
    assert metrics.stalled_pairs == []
    assert metrics.sessions_held == metrics.sessions_planned == metrics.sessions_cancelled == 0
    assert metrics.mean_rating == {"mentor": None, "mentee": None}
    assert metrics.confidence_delta == {}
    assert metrics.experiment_completion_rate is None
    assert metrics.cancellation_rate is None


def _pair(orm, index: int, *, created_days: float, active: bool = True) -> Pair:
    mentor, mentee = _people(orm, index)
    pair = Pair(
        mentor=mentor, mentee=mentee, active=active, created_at=NOW - timedelta(days=created_days)
    )
    orm.add(pair)
    orm.flush()
    return pair


def test_pair_without_sessions_is_stalled_from_its_creation(db) -> None:
    with db.transaction() as orm:
        old = _pair(orm, 1, created_days=30).id
        new = _pair(orm, 2, created_days=10).id
    metrics = programme_metrics(db, now=NOW)
    by_id = {p.pair_id: p for p in metrics.pairs}
    assert by_id[old].stalled and not by_id[new].stalled
    assert by_id[old].last_held_at is None and by_id[old].days_since_last is None
    assert metrics.stalled_pairs == [old]
    assert metrics.active_pairs == 1
    assert metrics.mean_rating == {"mentor": None, "mentee": None}


def test_stalled_means_more_than_stall_days(db) -> None:
    with db.transaction() as orm:
        exact = _pair(orm, 1, created_days=100)
        over = _pair(orm, 2, created_days=100)
        orm.add(
            Session(
                pair_id=exact.id, number=1, status="completed", ended_at=NOW - timedelta(days=STALL)
            )
        )
        late = NOW - timedelta(days=STALL, seconds=1)
        orm.add(Session(pair_id=over.id, number=1, status="completed", ended_at=late))
        ids = exact.id, over.id
    metrics = programme_metrics(db, now=NOW, stall_days=STALL)
    assert metrics.stalled_pairs == [ids[1]]
    assert [p.days_since_last for p in metrics.pairs] == [STALL, STALL]
    # The threshold is a parameter: with a longer one neither pair is stalled.
    assert programme_metrics(db, now=NOW, stall_days=STALL + 1).stalled_pairs == []


def test_inactive_pairs_are_neither_stalled_nor_active(db) -> None:
    with db.transaction() as orm:
        stopped = _pair(orm, 1, created_days=200, active=False)
        orm.add(
            Session(
                pair_id=stopped.id,
                number=1,
                status="completed",
                ended_at=NOW - timedelta(days=150),
            )
        )
        _pair(orm, 2, created_days=200, active=False)  # never met either
    metrics = programme_metrics(db, now=NOW)
    assert metrics.pair_count == 2
    assert metrics.active_pairs == 0
    assert metrics.stalled_pairs == []
    assert not any(p.stalled for p in metrics.pairs)
    assert metrics.sessions_held == 1
    assert metrics.sessions_planned == 12
    assert metrics.pairs[0].days_since_last == 150


def test_one_sided_feedback_leaves_the_other_side_empty(db) -> None:
    with db.transaction() as orm:
        pair = _pair(orm, 1, created_days=5)
        session = Session(pair_id=pair.id, number=1, status="completed", ended_at=NOW)
        orm.add(session)
        orm.flush()
        orm.add(Feedback(session_id=session.id, side="mentee", rating=4))
    metrics = programme_metrics(db, now=NOW)
    assert metrics.pairs[0].mean_rating == {"mentor": None, "mentee": 4}
    assert metrics.mean_rating == {"mentor": None, "mentee": 4}
    assert metrics.cancellation_rate == 0


def test_rejects_naive_now_and_bad_stall_days(db) -> None:
    with pytest.raises(InputError, match="time zone"):
        programme_metrics(db, now=datetime(2026, 3, 1))
    with pytest.raises(InputError, match="stall_days"):
        programme_metrics(db, now=NOW, stall_days=0)


def test_pair_key_is_stable_distinct_and_not_the_id(db) -> None:
    with db.transaction() as orm:
        pairs = [_pair(orm, i, created_days=i) for i in range(1, 4)]
        expected = {p.id: pair_key(p.id, p.created_at) for p in pairs}
    keys = {p.pair_id: p.key for p in programme_metrics(db, now=NOW).pairs}
    assert keys == expected
    assert keys == {p.pair_id: p.key for p in programme_metrics(db, now=NOW).pairs}
    assert len(set(keys.values())) == 3
    for key in keys.values():
        assert key.startswith("pair-") and len(key) == len("pair-") + 12
    # Same id, another creation time: another key (the time is what keys the hash).
    some_id = pairs[0].id
    assert pair_key(some_id, NOW) != pair_key(some_id, NOW + timedelta(microseconds=1))


def test_thousand_pairs_measure_quickly(db) -> None:
    """1,000 pairs x 6 sessions with feedback, confidence and experiments in under 2 s."""
    created = NOW - timedelta(days=200)
    with db.transaction() as orm:
        orm.execute(
            insert(Person),
            [
                {"id": n, "name": f"P{n}", "email": f"p{n}@example.org", "role": role}
                for n in range(1, 2001)
                for role in ["mentor" if n % 2 else "mentee"]
            ],
        )
        orm.execute(
            insert(Pair),
            [
                {"id": p, "mentor_id": 2 * p - 1, "mentee_id": 2 * p, "created_at": created}
                for p in range(1, 1001)
            ],
        )
        sessions = [
            {
                "id": (p - 1) * 6 + n,
                "pair_id": p,
                "number": n,
                "status": "cancelled" if n == 6 and p % 5 == 0 else "completed",
                "ended_at": created + timedelta(days=20 * n),
            }
            for p in range(1, 1001)
            for n in range(1, 7)
        ]
        orm.execute(insert(Session), sessions)
        orm.execute(
            insert(Feedback),
            [
                {"session_id": s["id"], "side": side, "rating": 1 + s["id"] % 5}
                for s in sessions
                for side in ("mentor", "mentee")
            ],
        )
        orm.execute(
            insert(Confidence),
            [
                {"session_id": s["id"], "topic_id": "ai-tools", "before": 2, "after": 3}
                for s in sessions
            ],
        )
        orm.execute(
            insert(Experiment),
            [
                {"pair_id": s["pair_id"], "session_id": s["id"], "title": "t", "owner": "mentee"}
                for s in sessions
            ],
        )
    start = time.perf_counter()
    metrics = programme_metrics(db, now=NOW)
    elapsed = time.perf_counter() - start
    assert metrics.pair_count == 1000
    assert metrics.sessions_held == 6000 - 200
    assert metrics.confidence_delta == {"ai-tools": 1}
    assert metrics.experiment_completion_rate == 0
    assert elapsed < 2.0, f"programme_metrics took {elapsed:.2f} s"


def test_a_finished_pair_is_neither_stalled_nor_active(db) -> None:
    with db.transaction() as orm:
        done = _pair(orm, 1, created_days=300)
        done.planned_sessions = 2
        for number in (1, 2):
            ended = NOW - timedelta(days=200 - number * 30)
            orm.add(Session(pair_id=done.id, number=number, status="completed", ended_at=ended))
        done_id = done.id
    metrics = programme_metrics(db, now=NOW)
    (pair,) = metrics.pairs
    assert pair.pair_id == done_id and pair.finished and not pair.stalled
    assert (metrics.finished_pairs, metrics.active_pairs, metrics.stalled_pairs) == (1, 0, [])
