"""Editing a pair's plan before the session: choose a topic, generate, pin, edit, save.

The prepare screen calls these; they never touch widgets, so they are tested without a terminal.
Plans are frozen, so every edit returns a new plan. Generating stores the fresh plan on the pair's
next session (as ``coach prepare --refresh`` does); edits after that are stored by ``save_plan``.

Conventions (see ``coach.prepare.plan``): an edited item keeps its provenance and is marked
``edited``; a pinned item keeps its place when the plan is generated again (for another topic
too: the facilitator pinned it on purpose); an exercise with a pinned step is kept whole,
because steps of two exercises do not make one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydantic import ValidationError

from coach.prepare.gates import normalise
from coach.prepare.grounded import NEXT_TOPICS, next_topics
from coach.prepare.plan import MIN_PROMPTS, PlanItem, SessionPlan
from coach.prepare.service import pair_context, prepare_session, session_to_prepare
from coach.sessions.activity import next_session_id
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import Pair, Session

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase
    from coach.plugins.host import PluginHost
    from coach.plugins.models import Topic
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary
    from coach.sessions.db import Database

Progress = Callable[[str, int, int], None]
"""``progress(what, done, total)``: called before each step of generating a plan."""

SECTIONS = (
    "recap",
    "icebreakers",
    "questions",
    "exercise",
    "mentor_tips",
    "mentee_tips",
    "passages",
)
"""Plan sections in reading order (as ``SessionPlan.items``); ``exercise`` holds its steps."""
NOUNS = {
    "recap": "recap item",
    "icebreakers": "icebreaker",
    "questions": "question",
    "exercise": "exercise step",
    "mentor_tips": "mentor tip",
    "mentee_tips": "mentee tip",
    "passages": "passage",
}
MINIMUM = {"icebreakers": MIN_PROMPTS, "questions": MIN_PROMPTS, "exercise": 1}
"""A stored plan must validate, so removing stops at the schema's minimum."""
POOL = 12
"""Knowledge passages searched per query when looking for an unused one."""
ASKING = {
    "icebreakers": "icebreakers",
    "questions": "discussion questions",
    "exercise": "an exercise",
    "mentor_tips": "tips for the mentor",
    "mentee_tips": "tips for the mentee",
    "recap": "a recap",
}


# --- opening the screen ---------------------------------------------------------------------


@dataclass(frozen=True)
class TopicChoice:
    """A topic as the chooser lists it: suggested ones first, each with why."""

    topic_id: str
    title: str
    plugin: str
    reason: str
    score: float | None
    summary: str = ""
    suggested: bool = False
    covered: bool = False

    @property
    def matched(self) -> bool:
        """It matches the mentee's wishes at all (then ``reason`` says how)."""
        return self.score is not None and self.score > 0


@dataclass(frozen=True)
class Preparation:
    """What the prepare screen opens with (read only: nothing is scheduled or stored)."""

    pair_id: int
    pair_label: str
    session_number: int | None
    """The next session's number, None when the pair has none planned (saving schedules one)."""
    plan: SessionPlan | None
    topic_id: str | None
    """The stored plan's topic, else the topic already chosen for the next session."""
    notice: str | None = None


def open_preparation(db: Database, pair_id: int) -> Preparation:
    """The pair, its next session and the plan stored on it, if any."""
    session_id = next_session_id(db, pair_id, running=False)  # opening never schedules
    with db.read() as orm:
        pair = orm.get(Pair, pair_id)
        if pair is None:
            raise NotFound(f"pair {pair_id} does not exist")
        label = f"{pair.mentor.name} → {pair.mentee.name}"
        session = orm.get(Session, session_id) if session_id is not None else None
        number = session.number if session else None
        stored = session.plan if session else None
        topic_ids = list(session.topic_ids or []) if session else []
    plan, notice = None, None
    if stored:
        try:
            plan = SessionPlan.model_validate(stored)
        except ValidationError:
            notice = "The stored plan could not be read (another version of Coach?)."
    topic_id = plan.topic_id if plan else (topic_ids[0] if topic_ids else None)
    return Preparation(pair_id, label, number, plan, topic_id, notice)


def topic_choices(
    db: Database, host: PluginHost, pair_id: int, kb: KnowledgeBase | None
) -> list[TopicChoice]:
    """Every topic, ranked against the mentee's growth areas and goals; covered ones last.

    The ranking is ``grounded.next_topics`` (the embedder when ``kb`` is given, word overlap
    otherwise); its top matches are marked ``suggested``.
    """
    context = pair_context(db, pair_id)
    all_topics = {tid: (c.value, c.plugin) for tid, c in host.topics.items()}
    ranked = next_topics("", context, all_topics, kb, limit=len(all_topics))
    choices = []
    for rank, found in enumerate(ranked):
        matched = found.score > 0
        choices.append(
            TopicChoice(
                found.topic_id,
                found.title,
                all_topics[found.topic_id][1],
                found.reason if matched else "no word in common with the mentee's wishes",
                found.score,
                all_topics[found.topic_id][0].summary,
                suggested=matched and rank < NEXT_TOPICS,
            )
        )
    listed = {c.topic_id for c in choices}
    for topic_id, (topic, plugin) in sorted(all_topics.items()):
        if topic_id in listed:
            continue
        covered = topic_id in context.covered_topic_ids
        reason = "covered in an earlier session" if covered else "no growth areas or goals to match"
        choices.append(
            TopicChoice(topic_id, topic.title, plugin, reason, None, topic.summary, covered=covered)
        )
    return choices


# --- generating -----------------------------------------------------------------------------


def generate_for_pair(
    db: Database,
    kb: KnowledgeBase | None,
    host: PluginHost,
    *,
    pair_id: int,
    topic_id: str,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
    seed: int = 0,
    keep: SessionPlan | None = None,
    progress: Progress | None = None,
) -> SessionPlan:
    """A fresh plan stored on the next session, with the pinned items of ``keep`` in place.

    The grounded plan comes from ``prepare_session`` (``refresh=True``); a generator then adds
    its gated items section by section, reporting each through ``progress``.
    """
    report = progress or (lambda what, done, total: None)
    report("Composing the grounded plan", 0, 1)
    grounded = prepare_session(
        db, kb, host, topic_id=topic_id, pair_id=pair_id, seed=seed, refresh=True
    )
    plan = grounded
    if generator is not None and prompts is not None:
        from coach.prepare.generate import generate_plan, sections_asked

        last = pair_context(db, pair_id).recap
        sections = sections_asked(generator, plan, last)
        total = len(sections) + 1

        def asking(section: str) -> None:
            done = sections.index(section) + 1 if section in sections else 1
            report(f"Asking {generator.label} for {ASKING.get(section, section)}", done, total)

        plan = generate_plan(
            plan,
            host.topic(topic_id),
            generator=replace(generator, seed=generator.seed + seed),  # fresh answers each time
            prompts=prompts,
            kb=kb,
            last=last,
            progress=asking,
        )
    if keep is not None:
        plan = keep_pinned(plan, keep)
    if plan is not grounded:  # prepare_session stored the grounded one
        save_plan(db, pair_id, plan, host=host)
    return plan


def keep_pinned(fresh: SessionPlan, old: SessionPlan) -> SessionPlan:
    """``fresh`` with every pinned item of ``old`` back at its old place in its section."""
    update: dict[str, object] = {}
    for section in SECTIONS:
        if section == "exercise":
            if old.exercise and any(step.pinned for step in old.exercise.steps):
                update["exercise"] = old.exercise
            continue
        pinned = [(i, item) for i, item in enumerate(getattr(old, section)) if item.pinned]
        if pinned:
            update[section] = _merge(getattr(fresh, section), pinned)
    return fresh.model_copy(update=update) if update else fresh


def _merge(fresh: list[PlanItem], pinned: list[tuple[int, PlanItem]]) -> list[PlanItem]:
    keys = {normalise(item.text) for _, item in pinned}
    rest = [item for item in fresh if normalise(item.text) not in keys]
    size = max(len(fresh), len(pinned))
    merged = rest[: size - len(pinned)]
    for index, item in pinned:
        merged.insert(min(index, len(merged)), item)
    return merged


# --- editing --------------------------------------------------------------------------------


def section_items(plan: SessionPlan, section: str) -> list[PlanItem]:
    if section not in SECTIONS:
        raise ValueError(f"unknown plan section {section!r}")
    if section == "exercise":
        return list(plan.exercise.steps) if plan.exercise else []
    return list(getattr(plan, section))


def _with_items(plan: SessionPlan, section: str, items: list[PlanItem]) -> SessionPlan:
    if section == "exercise":
        assert plan.exercise is not None
        return plan.model_copy(
            update={"exercise": plan.exercise.model_copy(update={"steps": items})}
        )
    return plan.model_copy(update={section: items})


def _item(plan: SessionPlan, section: str, index: int) -> tuple[list[PlanItem], PlanItem]:
    items = section_items(plan, section)
    if not 0 <= index < len(items):
        raise InputError(f"there is no {NOUNS[section]} {index + 1} in this plan")
    return items, items[index]


def toggle_pin(plan: SessionPlan, section: str, index: int) -> SessionPlan:
    items, item = _item(plan, section, index)
    items[index] = item.model_copy(update={"pinned": not item.pinned})
    return _with_items(plan, section, items)


def remove_item(plan: SessionPlan, section: str, index: int) -> SessionPlan:
    items, _ = _item(plan, section, index)
    least = MINIMUM.get(section, 0)
    if len(items) <= least:
        raise InputError(f"a plan keeps at least {least} {NOUNS[section]}(s): edit or replace it")
    del items[index]
    return _with_items(plan, section, items)


def move_item(plan: SessionPlan, section: str, index: int, offset: int) -> tuple[SessionPlan, int]:
    """The item moved ``offset`` places within its section (clamped), and its new index."""
    items, item = _item(plan, section, index)
    target = max(0, min(len(items) - 1, index + offset))
    if target == index:
        return plan, index
    del items[index]
    items.insert(target, item)
    return _with_items(plan, section, items), target


def edit_item(plan: SessionPlan, section: str, index: int, text: str) -> SessionPlan:
    """The item with the facilitator's text: same provenance, marked ``edited``."""
    items, item = _item(plan, section, index)
    text = text.strip()
    if not text:
        raise InputError("an item needs some text: remove it instead")
    if text == item.text:
        return plan
    items[index] = item.model_copy(update={"text": text, "edited": True})
    return _with_items(plan, section, items)


# --- one new item ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    """The plan after asking for a new item, and what happened, in words for a notification."""

    plan: SessionPlan
    message: str
    replaced: bool


def regenerate_item(
    plan: SessionPlan,
    section: str,
    index: int,
    *,
    host: PluginHost,
    kb: KnowledgeBase | None,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
    skip: Iterable[str] = (),
) -> Replacement:
    """Replace one item: a gated model item when there is a generator, else the grounded pool.

    The pool is the topic's bank (then other topics' banks, or the knowledge base for tips and
    passages), in order, skipping anything the plan already holds and the texts in ``skip``
    (items replaced earlier, so asking again moves on instead of cycling back). A model answer
    the gates refuse falls back to the pool, and the message says so.
    """
    _, old = _item(plan, section, index)
    noun = NOUNS[section]
    if old.pinned:
        raise InputError(f"this {noun} is pinned: unpin it first to replace it")
    if section == "recap":
        raise InputError("recap items come from the pair's own history; remove or edit them")
    if section == "exercise":
        raise InputError("exercise steps belong together: generate the plan again for another")
    topic = host.topic(plan.topic_id)
    if topic is None:
        raise InputError(f"topic '{plan.topic_id}' is no longer loaded")
    why = ""
    if generator is not None and prompts is not None:
        from coach.prepare.generate import SINGLE_ITEM_SECTIONS, generate_item

        if section in SINGLE_ITEM_SECTIONS:
            item, rejections, notices = generate_item(
                plan, topic, section, generator=generator, prompts=prompts, kb=kb
            )
            plan = plan.model_copy(update={"rejections": [*plan.rejections, *rejections]})
            if item is not None:
                new = _replace(plan, section, index, item)
                return Replacement(new, f"New {noun} from {generator.label}.", True)
            reason = rejections[0].reason if rejections else (notices[0] if notices else "")
            why = f"The model's {noun} was refused ({reason}); "
    item = next(_unused(plan, topic, section, host, kb, skip), None)
    if item is None:
        where = "the knowledge base" if section == "passages" else "the banks or the knowledge base"
        if kb is None and section in ("passages", "mentor_tips", "mentee_tips"):
            where += " (not loaded)"
        return Replacement(plan, f"{why}no new {noun} is left in {where}.", False)
    origin = "the knowledge base" if item.provenance.startswith("knowledge:") else "the bank"
    message = f"{why}new {noun} from {origin}." if why else f"New {noun} from {origin}."
    return Replacement(_replace(plan, section, index, item), message, True)


def _replace(plan: SessionPlan, section: str, index: int, item: PlanItem) -> SessionPlan:
    items = section_items(plan, section)
    items[index] = item
    return _with_items(plan, section, items)


def _unused(
    plan: SessionPlan,
    topic: Topic,
    section: str,
    host: PluginHost,
    kb: KnowledgeBase | None,
    skip: Iterable[str],
) -> Iterator[PlanItem]:
    held = {normalise(item.text) for _, item in plan.items()} | {normalise(t) for t in skip}
    held |= {item.provenance for _, item in plan.items() if item.provenance.startswith("knowledge")}
    for item in _pool(topic, section, host, kb):
        if normalise(item.text) not in held and item.provenance not in held:
            held.add(normalise(item.text))
            yield item


def _pool(
    topic: Topic, section: str, host: PluginHost, kb: KnowledgeBase | None
) -> Iterator[PlanItem]:
    """Everything grounded preparation could have offered for ``section``, best first."""
    from coach.prepare.grounded import (
        MENTEE_QUERIES,
        MENTOR_QUERIES,
        _bank_items,
        _hit_item,
        _others,
    )

    plugin = host.topics[topic.id].plugin
    if section in ("icebreakers", "questions", "mentor_tips", "mentee_tips"):
        yield from _bank_items(getattr(topic, section), plugin)
    if section in ("icebreakers", "questions"):
        all_topics = {tid: (c.value, c.plugin) for tid, c in host.topics.items()}
        for other, other_plugin in _others(topic, plugin, all_topics):
            yield from _bank_items(getattr(other, section), other_plugin)
    if kb is None:
        return
    if section in ("mentor_tips", "mentee_tips"):
        queries = MENTOR_QUERIES if section == "mentor_tips" else MENTEE_QUERIES
        for query in queries:
            yield from (_hit_item(hit) for hit in kb.search(query, top_k=POOL))
    if section == "passages":
        query = f"{topic.title}. {topic.summary}"
        yield from (_hit_item(hit) for hit in kb.search(query, top_k=POOL, topic=topic.id))
        yield from (_hit_item(hit) for hit in kb.search(query, top_k=POOL))


# --- saving ---------------------------------------------------------------------------------


def save_plan(
    db: Database, pair_id: int, plan: SessionPlan, *, host: PluginHost | None = None
) -> int:
    """Store ``plan`` on the pair's next session (scheduled if there is none); its id.

    The session becomes ``prepared`` with the plan's topic, exactly as ``prepare_session``
    leaves it, so preparing again reuses this plan until asked to refresh.
    """
    if plan.pair_id not in (None, pair_id):
        raise InputError(f"this plan belongs to pair {plan.pair_id}, not {pair_id}")
    try:
        checked = SessionPlan.model_validate(plan.model_dump(mode="json"))
    except ValidationError as exc:
        raise InputError(f"the plan is incomplete: {exc.errors()[0]['msg']}") from exc
    session_id = session_to_prepare(db, pair_id, host)  # type: ignore[arg-type]  (None: built-ins)
    with db.transaction() as orm:
        session = orm.get(Session, session_id)
        session.plan = checked.model_dump(mode="json")
        session.status = "prepared"
        session.topic_ids = [plan.topic_id]
    return session_id
