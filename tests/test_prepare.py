"""Grounded session preparation: plan content, provenance, determinism, pairs and the CLI."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run_coach

PROVENANCE = re.compile(r"^(plugin|knowledge|model):\S+$")
NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SECRET = "PRIVATE-NOTE-7f3a"
slow = pytest.mark.slow


def _all_topics(host) -> dict:
    return {tid: (c.value, c.plugin) for tid, c in host.topics.items()}


def _compose(host, kb, topic_id: str, seed: int, context=None):
    from coach.prepare.grounded import compose_plan

    contribution = host.topics[topic_id]
    return compose_plan(
        contribution.value,
        contribution.plugin,
        kb=kb,
        seed=seed,
        pair_context=context,
        all_topics=_all_topics(host),
        now=NOW,
    )


def _pair(db, growth_areas: list[str]) -> int:
    from coach.sessions.service import add_pair, add_person

    mentor = add_person(db, {"name": "Ada", "role": "mentor"})
    mentee = add_person(db, {"name": "Sam", "role": "mentee", "growth_areas": growth_areas})
    return add_pair(db, mentor, mentee)


def _history(db, pair_id: int, topic_id: str) -> None:
    """A completed session on ``topic_id`` with a summary, a private note and an open experiment."""
    from coach.sessions.models import Experiment, Note, Session

    with db.transaction() as orm:
        session = Session(
            pair_id=pair_id,
            number=1,
            topic_ids=[topic_id],
            status="completed",
            summary="We tidied the profile headline.",
            ended_at=NOW,
        )
        orm.add(session)
        orm.flush()
        orm.add(Note(session_id=session.id, author_role="mentee", private=True, text=SECRET))
        orm.add(
            Experiment(pair_id=pair_id, session_id=session.id, title="Post once", owner="mentee")
        )


@slow
def test_plan_has_banks_exercise_and_grounded_tips_for_both_roles(synced, host) -> None:
    _, kb, _ = synced
    plan = _compose(host, kb, "social-media", seed=3)
    topic = host.topic("social-media")
    assert len(plan.icebreakers) >= 5 and len(plan.questions) >= 5
    assert {i.text for i in plan.icebreakers} <= set(topic.icebreakers)
    assert {q.text for q in plan.questions} <= set(topic.questions)
    assert plan.exercise is not None and plan.exercise.steps
    assert plan.exercise.title in {e.title for e in topic.exercises}
    for tips, bank in (
        (plan.mentor_tips, topic.mentor_tips),
        (plan.mentee_tips, topic.mentee_tips),
    ):
        assert {t.text for t in tips} >= set(bank)
        grounded = [t for t in tips if t.provenance.startswith("knowledge:")]
        assert grounded and all(Path(t.source).is_file() for t in grounded)
    mentor_sources = {Path(t.source).name for t in plan.mentor_tips if t.source}
    assert {"explaining-up.md", "giving-upward-feedback.md"} <= mentor_sources
    assert plan.passages and plan.passages[0].source.startswith(str(Path.cwd() / "plugins"))
    for _, item in plan.items():
        assert PROVENANCE.match(item.provenance), item
        if item.provenance.startswith("knowledge:"):
            assert item.source and Path(item.source).is_file()
        else:
            assert item.source is None


@slow
def test_same_seed_same_plan_other_seed_other_selection(synced, host) -> None:
    _, kb, _ = synced
    first = _compose(host, kb, "linkedin-presence", seed=11).model_dump(mode="json")
    again = _compose(host, kb, "linkedin-presence", seed=11).model_dump(mode="json")
    other = _compose(host, kb, "linkedin-presence", seed=12).model_dump(mode="json")
    assert json.dumps(first) == json.dumps(again)
    assert first["icebreakers"] != other["icebreakers"]
    assert first["passages"] == other["passages"]  # the seed only shuffles the plugin bank


@slow
def test_pair_plan_ranks_growth_area_skips_covered_and_keeps_private_notes_out(
    synced, host, db
) -> None:
    from coach.prepare.service import prepare_session

    _, kb, _ = synced
    pair_id = _pair(db, ["LinkedIn"])
    _history(db, pair_id, "social-media")
    plan = prepare_session(db, kb, host, topic_id="remote-work", pair_id=pair_id, seed=1)
    ids = [t.topic_id for t in plan.next_topics]
    assert ids[0] == "linkedin-presence", plan.next_topics
    assert "LinkedIn" in plan.next_topics[0].reason
    assert "social-media" not in ids and "remote-work" not in ids
    assert [(r.provenance, r.text) for r in plan.recap] == [
        ("session:1", "Last time: We tidied the profile headline."),
        (plan.recap[1].provenance, "Open experiment: Post once (owner: mentee)"),
    ]
    assert plan.recap[1].provenance.startswith("experiment:")
    assert SECRET not in json.dumps(plan.model_dump(mode="json"))


@slow
def test_stored_plan_is_reused_until_refresh(synced, host, db) -> None:
    from coach.prepare.plan import SessionPlan
    from coach.prepare.service import prepare_session
    from coach.sessions.models import Session

    _, kb, _ = synced
    pair_id = _pair(db, ["AI tools"])
    first = prepare_session(db, kb, host, topic_id="ai-tools", pair_id=pair_id, seed=1)
    reused = prepare_session(db, kb, host, topic_id="ai-tools", pair_id=pair_id, seed=2)
    assert reused == first
    fresh = prepare_session(
        db, kb, host, topic_id="ai-tools", pair_id=pair_id, seed=2, refresh=True
    )
    assert fresh.icebreakers != first.icebreakers and fresh.seed == 2
    with db.read() as orm:
        rows = [
            (s.status, s.topic_ids, s.plan)
            for s in orm.query(Session).filter_by(pair_id=pair_id).all()
        ]
    assert len(rows) == 1  # preparing again never schedules a second session
    status, topic_ids, stored = rows[0]
    assert status == "prepared" and topic_ids == ["ai-tools"]
    assert SessionPlan.model_validate(stored) == fresh


def test_without_a_knowledge_base_the_plan_uses_plugins_and_word_overlap(host) -> None:
    from coach.prepare.grounded import PairContext

    context = PairContext(pair_id=5, growth_areas=("LinkedIn profile",), goals=("async meetings",))
    plan = _compose(host, None, "social-media", seed=0, context=context)
    assert not plan.passages and any("No knowledge base" in n for n in plan.notices)
    assert all(item.provenance.startswith("plugin:") for _, item in plan.items())
    best = {t.topic_id: t.reason for t in plan.next_topics[:2]}  # both match fully: a tie
    assert best == {
        "async-meetings": "matches the mentee's goal 'async meetings'",
        "linkedin-presence": "matches the mentee's growth area 'LinkedIn profile'",
    }
    assert plan.to_markdown().count("[plugin:") == 0
    assert "[plugin:social-media]" in plan.to_markdown(explain=True)


def test_unknown_topic_names_close_ids(host, db) -> None:
    from coach.prepare.service import prepare_session
    from coach.sessions.errors import InputError

    with pytest.raises(InputError, match=r"unknown topic 'linkedin-presense'.*linkedin-presence"):
        prepare_session(db, None, host, topic_id="linkedin-presense")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-9", "unknown model 'gpt-9': use none, embedded, gguf:PATH"),
        ("openai:qwen", "write openai:MODEL@URL"),
        ("gguf:/no/such/model.gguf", "'gguf:/no/such/model.gguf': no such file"),
    ],
)
def test_cli_rejects_a_bad_model_spec_with_status_2(spec: str, message: str) -> None:
    result = run_coach("prepare", "--topic", "social-media", "--model", spec)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@slow
def test_cli_prints_json_plan_with_provenance(synced, tmp_path: Path) -> None:
    home, _, _ = synced
    out = tmp_path / "plan.md"
    result = run_coach(
        "prepare", "--topic", "social-media", "--model", "none", "--json", "--out", str(out),
        env={"COACH_HOME": str(home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    items = [
        *plan["icebreakers"],
        *plan["questions"],
        *plan["exercise"]["steps"],
        *plan["mentor_tips"],
        *plan["mentee_tips"],
        *plan["passages"],
    ]
    assert len(items) > 20
    assert all(item["text"] and PROVENANCE.match(item["provenance"]) for item in items)
    assert out.read_text().startswith("# Session plan: Social media for senior leaders")
