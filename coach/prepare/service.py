"""Preparing a session: choose the topic, compose the plan, keep it with the pair's next session.

A stored plan is reused until the pair asks for a fresh one (``refresh``): the pair may have
read it already, and preparing again must not silently change what they agreed to cover.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select

from coach.prepare.grounded import PairContext, compose_plan
from coach.prepare.plan import SessionPlan
from coach.sessions.engine import recap
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import Pair, Session

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase
    from coach.plugins.host import PluginHost
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary
    from coach.sessions.db import Database


def unknown_topic(topic_id: str, known: list[str]) -> InputError:
    close = difflib.get_close_matches(topic_id, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "see `coach topics list`"
    return InputError(f"unknown topic '{topic_id}': {hint}")


def pair_context(db: Database, pair_id: int) -> PairContext:
    """The mentee's profile and the topics of completed sessions; notes are never read."""
    with db.read() as orm:
        pair = orm.get(Pair, pair_id)
        if pair is None:
            raise NotFound(f"pair {pair_id} does not exist")
        covered = orm.scalars(
            select(Session.topic_ids).where(
                Session.pair_id == pair_id, Session.status == "completed"
            )
        ).all()
        growth, goals = tuple(pair.mentee.growth_areas), tuple(pair.mentee.goals)
    return PairContext(
        pair_id=pair_id,
        growth_areas=growth,
        goals=goals,
        covered_topic_ids=frozenset(t for ids in covered for t in ids or []),
        recap=recap(db, pair_id),
    )


def session_to_prepare(db: Database, pair_id: int, host: PluginHost) -> int:
    """The pair's earliest session still to run (never the running one), scheduled if none."""
    from coach.sessions.activity import session_to_run
    from coach.sessions.templates import all_templates

    return session_to_run(db, pair_id, templates=all_templates(host), running=False)


def prepare_session(
    db: Database,
    kb: KnowledgeBase | None,
    host: PluginHost,
    *,
    topic_id: str,
    pair_id: int | None = None,
    seed: int = 0,
    refresh: bool = False,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
) -> SessionPlan:
    """A plan for ``topic_id``; with a pair it is stored on (and reused from) the next session.

    With a ``generator`` (and the ``prompts`` to drive it) the model adds gated items to the
    grounded plan; without one the plan is the grounded one.
    """
    topic = host.topic(topic_id)
    if topic is None:
        raise unknown_topic(topic_id, sorted(host.topics))
    all_topics = {tid: (c.value, c.plugin) for tid, c in host.topics.items()}
    plugin = host.topics[topic_id].plugin

    def compose(context: PairContext | None) -> SessionPlan:
        plan = compose_plan(
            topic, plugin, kb=kb, seed=seed, pair_context=context, all_topics=all_topics
        )
        if generator is None or prompts is None:
            return plan
        from coach.prepare.generate import generate_plan

        return generate_plan(
            plan,
            topic,
            generator=generator,
            prompts=prompts,
            kb=kb,
            last=context.recap if context else None,
        )

    if pair_id is None:
        return compose(None)
    context = pair_context(db, pair_id)
    session_id = session_to_prepare(db, pair_id, host)
    with db.read() as orm:
        stored = orm.get(Session, session_id).plan
    notice = None
    if stored and not refresh and stored.get("topic_id") == topic_id:
        try:
            return SessionPlan.model_validate(stored)
        except ValidationError:  # written by another version of Coach: prepare afresh
            notice = "The stored plan could not be read, so it was prepared again."
    plan = compose(context)
    if notice:
        plan = plan.model_copy(update={"notices": [*plan.notices, notice]})
    with db.transaction() as orm:
        session = orm.get(Session, session_id)
        session.plan = plan.model_dump(mode="json")
        session.status = "prepared"
        session.topic_ids = [topic_id]
    return plan
