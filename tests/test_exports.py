"""Session exports, programme reports and the demo programme.

The privacy tests look for every piece of personal text the database holds (names, emails, notes,
feedback comments, summaries, goals) in the output string itself, so a new field that leaks text
fails here even if nobody thought of it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coach.sessions.db import open_database
from coach.sessions.demo import create_demo_programme
from coach.sessions.errors import InputError, NotFound
from coach.sessions.export import (
    NAMED_COLUMNS,
    REPORT_COLUMNS,
    export_session,
    programme_report,
    report_csv,
)
from coach.sessions.metrics import programme_metrics
from coach.sessions.models import (
    Confidence,
    Experiment,
    Feedback,
    Note,
    Pair,
    Person,
    Session,
    SessionPhase,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHARED_CORE = "We set up a saved search for the brand name together"
SHARED_LOOSE = "Remember to bring the laptop with the admin rights next time"
PRIVATE_MENTEE = "I worry the board thinks I am too old for this"
PRIVATE_MENTOR = "Mentee's team is being restructured, keep this to myself"
OTHER_SESSION_NOTE = "Notes from the earlier session about hashtags"


@pytest.fixture
def programme(db) -> dict[str, int]:
    """One real pair with two sessions (one held, with every kind of record) and a second pair."""
    with db.transaction() as orm:
        ada = Person(
            name="Ada Quartermain",
            email="ada.q@example.org",
            role="mentor",
            goals=["Teach a director to post on LinkedIn"],
        )
        grace = Person(
            name="Grace Oyelaran",
            email="grace.o@example.org",
            role="mentee",
            growth_areas=["social media"],
            goals=["Post weekly without the comms team"],
        )
        lin = Person(name="Lin Abernethy", email="lin.a@example.org", role="mentor")
        rui = Person(name="=Rui Formula", email="rui.f@example.org", role="mentee")
        pair = Pair(mentor=ada, mentee=grace, created_at=NOW - timedelta(days=90))
        other = Pair(mentor=lin, mentee=rui, created_at=NOW - timedelta(days=40))
        orm.add_all([pair, other])
        orm.flush()
        first = Session(
            pair_id=pair.id,
            number=1,
            status="completed",
            topic_ids=["social-media"],
            template_id="first-session",
            started_at=NOW - timedelta(days=40, hours=1),
            ended_at=NOW - timedelta(days=40),
            summary="Started with hashtags and the profile photo",
        )
        held = Session(
            pair_id=pair.id,
            number=2,
            status="completed",
            topic_ids=["social-media", "online-listening"],
            scheduled_at=NOW - timedelta(days=10, hours=2),
            started_at=NOW - timedelta(days=10, hours=1),
            ended_at=NOW - timedelta(days=10),
            summary="Saved searches set up; the mentee will read mentions on Fridays",
        )
        held.phases = [
            SessionPhase(
                position=0, phase_id="check-in", title="Check-in", planned_minutes=5,
                seconds_spent=330.0,
            ),
            SessionPhase(
                position=1, phase_id="core", title="Core topic", planned_minutes=25,
                seconds_spent=1710.0,
            ),
        ]  # fmt: skip
        held.notes = [
            Note(phase_id="core", author_role="mentor", text=SHARED_CORE),
            Note(phase_id="core", author_role="mentee", private=True, text=PRIVATE_MENTEE),
            Note(phase_id="", author_role="mentee", text=SHARED_LOOSE),
            Note(phase_id="check-in", author_role="mentor", private=True, text=PRIVATE_MENTOR),
        ]
        first.notes = [Note(phase_id="core", author_role="mentor", text=OTHER_SESSION_NOTE)]
        held.feedback = [
            Feedback(side="mentor", rating=4, what_worked="Real account, real posts"),
            Feedback(side="mentee", rating=5, what_to_change="Start ten minutes later"),
        ]
        held.confidence = [Confidence(topic_id="social-media", before=2, after=4)]
        orm.add_all([first, held])
        orm.flush()
        orm.add_all(
            [
                Experiment(
                    pair_id=pair.id,
                    session_id=held.id,
                    title="Read brand mentions every Friday",
                    owner="mentee",
                    due_date=date(2026, 3, 20),
                ),
                Experiment(
                    pair_id=pair.id,
                    session_id=first.id,
                    title="Change the profile photo",
                    owner="mentee",
                    status="done",
                ),
            ]
        )
        return {"held": held.id, "first": first.id, "pair": pair.id, "other": other.id}


def test_session_markdown_has_shared_notes_and_never_private_ones(db, programme) -> None:
    text = export_session(db, programme["held"], "md")
    assert text.startswith("# Session 2: Ada Quartermain (mentor) and Grace Oyelaran (mentee)")
    for shared in (SHARED_CORE, SHARED_LOOSE, "Read brand mentions every Friday"):
        assert shared in text
    assert "Saved searches set up" in text
    assert "| Core topic | 25 | 28.5 |" in text
    assert "| Check-in | 5 | 5.5 |" in text
    assert "### Mentee: 5/5" in text and "Start ten minutes later" in text
    assert "| social-media | 2 | 4 |" in text
    assert PRIVATE_MENTEE not in text
    assert PRIVATE_MENTOR not in text
    assert OTHER_SESSION_NOTE not in text
    assert "Change the profile photo" not in text  # an experiment of the other session
    # Grouped by phase: the core note under the core heading, the loose one under General.
    assert text.index("### Core topic") < text.index(SHARED_CORE) < text.index("### General")
    assert text.index("### General") < text.index(SHARED_LOOSE)


def test_session_json_is_grouped_by_phase_without_private_notes(db, programme) -> None:
    text = export_session(db, programme["held"], "json")
    assert PRIVATE_MENTEE not in text and PRIVATE_MENTOR not in text
    record = json.loads(text)
    assert (record["mentor"], record["mentee"], record["number"]) == (
        "Ada Quartermain",
        "Grace Oyelaran",
        2,
    )
    assert record["topics"] == ["social-media", "online-listening"]
    assert record["status"] == "completed"
    assert record["ended_at"] == (NOW - timedelta(days=10)).isoformat()
    phases = {p["id"]: p for p in record["phases"]}
    assert phases["core"]["planned_minutes"] == 25
    assert phases["core"]["actual_minutes"] == 28.5
    assert phases["core"]["notes"] == [{"author": "mentor", "text": SHARED_CORE}]
    assert phases["check-in"]["notes"] == []
    assert record["other_notes"] == [{"author": "mentee", "text": SHARED_LOOSE}]
    assert [e["title"] for e in record["experiments"]] == ["Read brand mentions every Friday"]
    assert record["experiments"][0]["due_date"] == "2026-03-20"
    assert [(f["side"], f["rating"]) for f in record["feedback"]] == [("mentor", 4), ("mentee", 5)]
    assert record["confidence"] == [{"topic": "social-media", "before": 2, "after": 4}]
    assert record["summary"].startswith("Saved searches")


def test_session_export_of_an_unknown_id_or_format(db, programme) -> None:
    with pytest.raises(NotFound, match=r"^session 9 does not exist$"):
        export_session(db, 9, "md")
    with pytest.raises(InputError, match="format"):
        export_session(db, programme["held"], "pdf")  # type: ignore[arg-type]


def test_unstarted_session_has_no_actual_minutes(db, programme) -> None:
    with db.transaction() as orm:
        planned = Session(pair_id=programme["pair"], number=3, status="planned")
        planned.phases = [
            SessionPhase(position=0, phase_id="core", title="Core", planned_minutes=30)
        ]
        orm.add(planned)
        orm.flush()
        planned_id = planned.id
    record = json.loads(export_session(db, planned_id, "json"))
    assert record["phases"][0]["actual_minutes"] is None
    assert "| Core | 30 | - |" in export_session(db, planned_id, "md")


def _personal_texts(db) -> list[str]:
    """Every name, email and free text the database holds: none may be in an anonymised report."""
    with db.transaction() as orm:
        texts: list[str] = []
        for person in orm.scalars(select(Person)):
            texts += [person.name, person.email or "", *person.goals]
        texts += orm.scalars(select(Note.text)).all()
        for row in orm.scalars(select(Feedback)):
            texts += [row.what_worked, row.what_to_change]
        texts += orm.scalars(select(Session.summary)).all()
        texts += orm.scalars(select(Session.cancel_reason)).all()
        texts += orm.scalars(select(Experiment.title)).all()
        texts += orm.scalars(select(Pair.agreement_confidentiality)).all()
    return sorted({t for t in texts if t})


def test_anonymised_report_holds_no_names_emails_or_text(db, programme) -> None:
    create_demo_programme(db, now=NOW)
    texts = _personal_texts(db)
    assert len(texts) > 100  # the demo's names and notes, and the fixture's
    metrics = programme_metrics(db, now=NOW)
    report = programme_report(metrics)
    outputs = {"json": json.dumps(report), "csv": report_csv(metrics)}
    for kind, output in outputs.items():
        leaked = [t for t in texts if t in output]
        assert leaked == [], kind
        assert "@" not in output, kind
    assert report["anonymised"] is True
    assert all(set(row) == set(REPORT_COLUMNS) for row in report["pairs"])
    keys = {p.pair_id: p.key for p in metrics.pairs}
    assert report["programme"]["stalled_pairs"] == [keys[i] for i in metrics.stalled_pairs]
    assert report["programme"]["sessions_held"] == metrics.sessions_held


def test_report_csv_has_one_row_per_pair(db, programme) -> None:
    create_demo_programme(db, now=NOW, pairs=6)
    metrics = programme_metrics(db, now=NOW)
    rows = list(csv.DictReader(io.StringIO(report_csv(metrics))))
    assert len(rows) == metrics.pair_count == 8
    assert list(rows[0]) == list(REPORT_COLUMNS)
    assert [r["pair"] for r in rows] == [p.key for p in metrics.pairs]
    assert len({r["pair"] for r in rows}) == 8
    for row, pair in zip(rows, metrics.pairs, strict=True):
        assert int(row["held"]) == pair.held
        assert int(row["planned"]) == pair.planned
        assert int(row["cancelled"]) == pair.cancelled
        assert row["stalled"] == ("yes" if pair.stalled else "no")
        if pair.last_held_at:
            assert row["last_session"] == pair.last_held_at.date().isoformat()
            assert int(row["days_since"]) == pair.days_since_last
        else:
            assert row["last_session"] == row["days_since"] == ""
    # The fixture's held pair: two sessions, ratings 4 and 5 on the second only.
    ours = next(r for r, p in zip(rows, metrics.pairs, strict=True) if p.pair_id == 1)
    assert (ours["held"], ours["mean_rating_mentor"], ours["mean_rating_mentee"]) == (
        "2",
        "4.0",
        "5.0",
    )


def test_named_report_has_names_but_still_no_private_notes(db, programme) -> None:
    metrics = programme_metrics(db, now=NOW)
    report = programme_report(metrics, anonymise=False)
    table = report_csv(metrics, anonymise=False)
    dumped = json.dumps(report)
    for name in ("Ada Quartermain", "Grace Oyelaran", "Lin Abernethy"):
        assert name in dumped and name in table
    assert report["anonymised"] is False
    assert report["programme"]["stalled_pairs"] == metrics.stalled_pairs
    for private in (PRIVATE_MENTEE, PRIVATE_MENTOR):
        assert private not in dumped and private not in table
    assert SHARED_CORE not in dumped and SHARED_CORE not in table
    rows = list(csv.DictReader(io.StringIO(table)))
    assert list(rows[0])[1:4] == list(NAMED_COLUMNS)
    # A name that a spreadsheet would run as a formula is defused.
    assert rows[1]["mentee"] == "'=Rui Formula"


# --- the demo programme -------------------------------------------------------------------


def _count(orm, model, *where) -> int:
    return orm.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_programme_is_labelled_and_counted(db) -> None:
    summary = create_demo_programme(db, now=NOW)
    assert summary.pairs == 12 and summary.people == 24
    with db.transaction() as orm:
        people = orm.scalars(select(Person)).all()
        assert len(people) == 24
        assert all(p.name.startswith("Demo ") for p in people)
        assert all((p.email or "").endswith("@demo.invalid") for p in people)
        assert all(p.department == "Demo programme" for p in people)
        assert all(p.skills for p in people if p.role == "mentor")
        assert all(p.goals and p.growth_areas for p in people if p.role == "mentee")
        assert _count(orm, Pair) == summary.pairs
        assert _count(orm, Session) == summary.sessions
        assert _count(orm, Session, Session.status == "completed") == summary.held
        assert _count(orm, Session, Session.status == "cancelled") == summary.cancelled == 1
        assert _count(orm, Note) == summary.notes
        assert _count(orm, Note, Note.private.is_(True)) == summary.private_notes > 0
        assert _count(orm, Note, Note.private.is_(False)) > summary.private_notes
        assert _count(orm, Experiment) == summary.experiments
        assert _count(orm, Feedback) == summary.feedback == 2 * summary.held
        assert _count(orm, Confidence) == summary.confidence
        assert _count(orm, Pair, Pair.active.is_(False)) == 1
        misfit = orm.scalars(select(Feedback).where(Feedback.good_fit.is_(False))).all()
        assert {f.side for f in misfit} == {"mentor", "mentee"}
        assert {f.session.number for f in misfit} == {1}
        assert not misfit[0].session.pair.active
        topics = {t for s in orm.scalars(select(Session)) for t in s.topic_ids}
        statuses = set(orm.scalars(select(Experiment.status)))
        timed = _count(orm, SessionPhase, SessionPhase.seconds_spent > 0)
    assert statuses == {"open", "done", "dropped"}
    assert summary.overdue_experiments > 0
    assert timed > 0
    assert topics <= {
        "social-media", "linkedin-presence", "online-listening", "remote-work",
        "async-meetings", "collaboration-tools", "ai-tools", "prompting-basics",
        "responsible-ai", "inclusive-culture", "inclusive-meetings", "across-generations",
    }  # fmt: skip
    assert summary.stages == {
        "finished": 3,
        "mid": 4,
        "mid-cancelled": 1,
        "new": 1,
        "not-a-fit": 1,
        "stalled": 2,
    }

    metrics = programme_metrics(db, now=NOW)
    assert len(metrics.stalled_pairs) == 2
    assert metrics.sessions_held == summary.held > 0
    # 12 pairs: 3 finished, 2 stalled and 1 stopped after "not a good fit" leave 6 active.
    assert (metrics.finished_pairs, metrics.active_pairs) == (3, 6)
    assert max(p.held for p in metrics.pairs) == 6
    assert all(delta >= 0 for delta in metrics.confidence_delta.values())


def _is_demo(person: Person) -> bool:
    return (
        person.name.startswith("Demo ")
        and (person.email or "").endswith("@demo.invalid")
        and person.department == "Demo programme"
    )


def _snapshot(db, *, real_only: bool = False) -> list[tuple]:
    """The programme's content without database ids, so two databases can be compared;
    ``real_only`` leaves out the demo people and their pairs."""
    with db.transaction() as orm:
        rows: list[tuple] = []
        for person in orm.scalars(select(Person).order_by(Person.id)):
            if real_only and _is_demo(person):
                continue
            rows.append(
                (person.name, person.email, person.role, person.timezone, person.skills,
                 person.growth_areas, person.goals, person.created_at)
            )  # fmt: skip
        for pair in orm.scalars(select(Pair).order_by(Pair.id)):
            if real_only and _is_demo(pair.mentor):
                continue
            rows.append((pair.mentor.name, pair.active, pair.cadence_days, pair.created_at))
            for s in pair.sessions:
                rows.append(
                    (s.number, s.status, s.topic_ids, s.template_id, s.scheduled_at,
                     s.started_at, s.ended_at, s.summary)
                )  # fmt: skip
                rows += [(p.phase_id, p.seconds_spent) for p in s.phases]
                rows += [(n.phase_id, n.private, n.text) for n in s.notes]
                rows += sorted((f.side, f.rating, f.what_worked, f.good_fit) for f in s.feedback)
                rows += sorted((c.topic_id, c.before, c.after) for c in s.confidence)
            rows += [(e.title, e.status, e.due_date) for e in pair.experiments]
    return rows


def test_demo_is_deterministic_for_a_seed(db, database_settings, tmp_path: Path) -> None:
    first = create_demo_programme(db, now=NOW, seed=3)
    other = open_database(database_settings(tmp_path / "other"))
    third = open_database(database_settings(tmp_path / "third"))
    try:
        assert create_demo_programme(other, now=NOW, seed=3) == first
        assert _snapshot(other) == _snapshot(db)
        create_demo_programme(third, now=NOW, seed=4)
        assert _snapshot(third) != _snapshot(db)
    finally:
        other.dispose()
        third.dispose()


def test_demo_refuses_a_second_run(db) -> None:
    create_demo_programme(db, now=NOW, pairs=3)
    with pytest.raises(InputError, match="already holds a demo programme"):
        create_demo_programme(db, now=NOW, pairs=3)
    with db.transaction() as orm:
        assert _count(orm, Person) == 6


def test_demo_replace_keeps_real_data(db, programme) -> None:
    with db.transaction() as orm:
        # Unpaired people, three of them with two of the three demo marks: all real.
        orm.add(Person(name="Sam Unpaired", email="sam.u@example.org", role="mentee"))
        for name, email, department in [
            ("Demo Lee", "demo.lee@example.org", "Demo programme"),
            ("Demo Kim", "kim@demo.invalid", "Sales"),
            ("Pat Rivers", "pat@demo.invalid", "Demo programme"),
        ]:
            orm.add(Person(name=name, email=email, role="mentor", department=department))
    real_before = _snapshot(db)
    assert ("core", True, PRIVATE_MENTEE) in real_before
    first = create_demo_programme(db, now=NOW, pairs=4)  # Demo Lee does not block a first run
    assert first.removed_people == 0
    again = create_demo_programme(db, now=NOW, pairs=5, seed=11, replace=True)
    assert again.removed_people == 8
    with db.transaction() as orm:
        assert _count(orm, Person) == 8 + 10
        near = ["Sam Unpaired", "Demo Lee", "Demo Kim", "Pat Rivers"]
        assert _count(orm, Person, Person.name.in_(near)) == 4
        real = orm.scalars(select(Person).where(Person.email == "ada.q@example.org")).one()
        assert real.name == "Ada Quartermain"
        assert _count(orm, Pair) == 2 + 5
        assert _count(orm, Note, Note.text == PRIVATE_MENTEE) == 1
    assert _snapshot(db, real_only=True) == real_before
    assert len(_snapshot(db)) > len(real_before)


def test_demo_replace_refuses_a_pair_mixing_demo_and_real_people(db, programme) -> None:
    create_demo_programme(db, now=NOW, pairs=2)
    with db.transaction() as orm:
        demo = orm.scalars(select(Person).where(Person.role == "mentee").order_by(Person.id.desc()))
        mixed = Pair(mentor_id=1, mentee_id=demo.first().id, created_at=NOW)
        orm.add(mixed)
        orm.flush()
        mixed_id = mixed.id
    with pytest.raises(InputError, match=f"pair\\(s\\) {mixed_id} join a demo person"):
        create_demo_programme(db, now=NOW, pairs=2, replace=True)
    with db.transaction() as orm:
        assert _count(orm, Person) == 4 + 4  # nothing was removed


def test_demo_checks_its_arguments(db) -> None:
    with pytest.raises(InputError, match="time zone"):
        create_demo_programme(db, now=datetime(2026, 3, 1))
    with pytest.raises(InputError, match="pairs"):
        create_demo_programme(db, now=NOW, pairs=0)
    big = create_demo_programme(db, now=NOW, pairs=30)
    assert big.pairs == 30 and big.people == 60
    assert big.stages["stalled"] == 2 + 3  # every fifth pair after the first twelve
