"""The grounded plan: built from plugin banks and knowledge passages alone, with no model.

This is the baseline every model backend falls back to, so it must always work and always be
checkable: it invents no text (each item is copied from a plugin or a passage and says which),
and it is deterministic (``random.Random(seed)`` picks and orders the bank items, the same seed
gives the same plan, and another seed gives the pair a fresh selection next time).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from coach.prepare.plan import (
    MIN_PROMPTS,
    PlanExercise,
    PlanItem,
    SessionPlan,
    SuggestedTopic,
)

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase, SearchHit
    from coach.plugins.models import Topic
    from coach.sessions.experiments import Recap

BACKEND = "none"
PROMPTS = 6
"""Icebreakers and questions offered: a few more than a session uses, so the pair can choose."""
PASSAGES = 4
NEXT_TOPICS = 3
EXCERPT = 600
# General role advice lives in the built-in guides; these queries find it whatever the topic.
MENTOR_QUERIES = (
    "explaining a digital tool to a senior leader without jargon",
    "how a junior gives upward feedback to a senior leader",
)
MENTEE_QUERIES = ("senior mentee staying curious, listening and sharing context back",)
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "with",
    }
)

AllTopics = Mapping[str, tuple["Topic", str]]
"""Topic id -> (topic, name of the plugin that provides it)."""


@dataclass(frozen=True)
class PairContext:
    """What preparation may know about a pair: profile and history, never private notes."""

    pair_id: int
    growth_areas: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    covered_topic_ids: frozenset[str] = field(default_factory=frozenset)
    recap: Recap | None = None


def compose_plan(
    topic: Topic,
    plugin_name: str,
    *,
    kb: KnowledgeBase | None,
    seed: int,
    pair_context: PairContext | None,
    all_topics: AllTopics,
    now: datetime | None = None,
) -> SessionPlan:
    """Assemble a plan for ``topic``; ``kb`` None leaves out everything grounded in passages."""
    rng = random.Random(seed)
    notices: list[str] = []
    icebreakers = _pick(rng, topic, plugin_name, all_topics, "icebreakers", notices)
    questions = _pick(rng, topic, plugin_name, all_topics, "questions", notices)
    exercise = _exercise(rng, topic, plugin_name, all_topics, notices)
    mentor_tips = _bank_items(topic.mentor_tips, plugin_name)
    mentee_tips = _bank_items(topic.mentee_tips, plugin_name)
    passages: list[PlanItem] = []
    if kb is None:
        notices.append("No knowledge base: tips and passages come from the plugin only.")
    else:
        used: set[str] = set()
        mentor_tips += _grounded(kb, MENTOR_QUERIES, used)
        mentee_tips += _grounded(kb, MENTEE_QUERIES, used)
        passages = _passages(kb, topic, used)
        if not passages:
            notices.append("The knowledge base has no passages for this topic yet.")
    return SessionPlan(
        topic_id=topic.id,
        topic_title=topic.title,
        pair_id=pair_context.pair_id if pair_context else None,
        backend=BACKEND,
        seed=seed,
        created_at=now or datetime.now(UTC),
        icebreakers=icebreakers,
        questions=questions,
        exercise=exercise,
        mentor_tips=mentor_tips,
        mentee_tips=mentee_tips,
        passages=passages,
        next_topics=next_topics(topic.id, pair_context, all_topics, kb) if pair_context else [],
        recap=recap_items(pair_context.recap) if pair_context and pair_context.recap else [],
        notices=notices,
    )


# --- the plugin bank ----------------------------------------------------------------------------


def _bank_items(texts: list[str], plugin_name: str) -> list[PlanItem]:
    return [PlanItem(text=text, provenance=f"plugin:{plugin_name}") for text in texts]


def _others(topic: Topic, plugin_name: str, all_topics: AllTopics) -> list[tuple[Topic, str]]:
    """Other topics, the same plugin's first: where a thin topic borrows from, in stable order."""
    rest = [(t, p) for tid, (t, p) in sorted(all_topics.items()) if tid != topic.id]
    return sorted(rest, key=lambda pair: pair[1] != plugin_name)


def _pick(
    rng: random.Random,
    topic: Topic,
    plugin_name: str,
    all_topics: AllTopics,
    bank: str,
    notices: list[str],
) -> list[PlanItem]:
    """A seeded sample of the topic's bank, topped up from other topics if it is too small."""
    own = _bank_items(getattr(topic, bank), plugin_name)
    chosen = rng.sample(own, min(PROMPTS, len(own)))
    if len(chosen) >= MIN_PROMPTS:
        return chosen
    borrowed = [
        item
        for other, plugin in _others(topic, plugin_name, all_topics)
        for item in _bank_items(getattr(other, bank), plugin)
    ]
    extra = borrowed[: MIN_PROMPTS - len(chosen)]
    if extra:
        notices.append(f"Topic '{topic.id}' has few {bank}: {len(extra)} come from other topics.")
    return chosen + extra


def _exercise(
    rng: random.Random,
    topic: Topic,
    plugin_name: str,
    all_topics: AllTopics,
    notices: list[str],
) -> PlanExercise | None:
    source, plugin = topic, plugin_name
    if not topic.exercises:
        source, plugin = next(
            ((t, p) for t, p in _others(topic, plugin_name, all_topics) if t.exercises),
            (topic, plugin_name),
        )
        if not source.exercises:
            notices.append("No loaded topic offers an exercise.")
            return None
        notices.append(f"Topic '{topic.id}' has no exercise: this one is from '{source.id}'.")
    chosen = rng.choice(source.exercises)
    return PlanExercise(
        title=chosen.title,
        goal=chosen.goal,
        minutes=chosen.minutes,
        steps=_bank_items(chosen.steps, plugin),
        provenance=f"plugin:{plugin}",
    )


# --- the knowledge base -------------------------------------------------------------------------


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _hit_item(hit: SearchHit) -> PlanItem:
    where = hit.heading or hit.title  # the heading path starts with the title
    return PlanItem(
        text=f"{where}: {_excerpt(hit.text)}",
        provenance=f"knowledge:{hit.chunk_id}",
        source=hit.source,
    )


def _grounded(kb: KnowledgeBase, queries: tuple[str, ...], used: set[str]) -> list[PlanItem]:
    """The best unused passage for each query: general role advice with its citation."""
    items = []
    for query in queries:
        hit = next((h for h in kb.search(query, top_k=3) if h.chunk_id not in used), None)
        if hit:
            used.add(hit.chunk_id)
            items.append(_hit_item(hit))
    return items


def _passages(kb: KnowledgeBase, topic: Topic, used: set[str]) -> list[PlanItem]:
    """Passages tagged with the topic first (its plugin's own files), then the whole base."""
    query = f"{topic.title}. {topic.summary}"
    hits = kb.search(query, top_k=PASSAGES, topic=topic.id) + kb.search(query, top_k=PASSAGES)
    items = []
    for hit in hits:
        if hit.chunk_id not in used and len(items) < PASSAGES:
            used.add(hit.chunk_id)
            items.append(_hit_item(hit))
    return items


# --- the pair -----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def _topic_text(topic: Topic) -> str:
    tags = ", ".join(tag.replace("-", " ") for tag in topic.tags)
    return f"{topic.title}. {topic.summary} {tags}"


def next_topics(
    current: str,
    context: PairContext,
    all_topics: AllTopics,
    kb: KnowledgeBase | None,
    limit: int = NEXT_TOPICS,
) -> list[SuggestedTopic]:
    """Topics not yet covered, ranked by how well they match the mentee's growth areas and goals.

    Uses the knowledge base's embedder when there is one (paraphrases match), word overlap
    otherwise. The reason names the growth area or goal that matched best.
    """
    wishes = [("growth area", w) for w in context.growth_areas if w.strip()]
    wishes += [("goal", w) for w in context.goals if w.strip()]
    candidates = [
        (t, p)
        for tid, (t, p) in sorted(all_topics.items())
        if tid != current and tid not in context.covered_topic_ids
    ]
    if not wishes or not candidates:
        return []
    texts = [_topic_text(t) for t, _ in candidates]
    if kb is not None:
        import numpy as np

        vectors = kb.embedder.embed([w for _, w in wishes] + texts)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        scores = (vectors[len(wishes) :] @ vectors[: len(wishes)].T).tolist()
    else:
        wish_words = [_words(w) for _, w in wishes]
        scores = [
            [len(ws & _words(text)) / len(ws) if ws else 0.0 for ws in wish_words] for text in texts
        ]
    ranked = []
    for (topic, plugin), row in zip(candidates, scores, strict=True):
        best = max(range(len(wishes)), key=lambda i: row[i])
        kind, wish = wishes[best]
        ranked.append(
            SuggestedTopic(
                topic_id=topic.id,
                title=topic.title,
                score=round(float(row[best]), 4),
                reason=f"matches the mentee's {kind} '{wish}'",
                provenance=f"plugin:{plugin}",
            )
        )
    ranked.sort(key=lambda s: (-s.score, s.topic_id))
    return ranked[:limit]


def recap_items(recap: Recap) -> list[PlanItem]:
    """Last session's summary (``session:<n>``) and open experiments (``experiment:<id>``)."""
    items = []
    if recap.last_number is not None and recap.last_summary.strip():
        items.append(
            PlanItem(
                text=f"Last time: {recap.last_summary.strip()}",
                provenance=f"session:{recap.last_number}",
            )
        )
    for exp in recap.open_experiments:
        due = f", due {exp.due_date.isoformat()}" if exp.due_date else ""
        late = " (overdue)" if exp.overdue else ""
        items.append(
            PlanItem(
                text=f"Open experiment: {exp.title} (owner: {exp.owner}{due}){late}",
                provenance=f"experiment:{exp.id}",
            )
        )
    return items
