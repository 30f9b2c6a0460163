"""The record of a finished session, written from its shared notes and kept on the session.

Only notes the pair left shared are read: a private note never reaches a model, a prompt or the
stored summary. Without a model, or when the model's answer fails the gates, the summary is the
shared notes themselves, shortened, so a pair always gets a recap for next time. A summary the
pair wrote themselves at wrap-up is kept unless they ask for a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import select

from coach.prepare.plan import Provenance, Rejection
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import Experiment, Note, Session

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase
    from coach.plugins.host import PluginHost
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary
    from coach.sessions.db import Database

SUMMARY_LIMIT = 700
FINISHED = ("completed",)


class SessionSummary(BaseModel):
    session_id: int
    text: str
    provenance: Provenance
    """``model:<name>``, ``session:<n>`` (the shared notes, or the pair's own summary)."""
    experiments: list[str] = []
    """Experiments the model read in the notes; they are added to the summary text."""
    stored: bool
    notices: list[str] = []
    rejections: list[Rejection] = []


def summarise_session(
    db: Database,
    session_id: int,
    *,
    host: PluginHost,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
    kb: KnowledgeBase | None = None,
    replace: bool = False,
) -> SessionSummary:
    """Summarise a completed session's shared notes and store the result on the session."""
    with db.read() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        if session.status not in FINISHED:
            raise InputError(
                f"session {session_id} is {session.status}: summarise it once completed"
            )
        existing = session.summary.strip()
    number, topic_ids, shared, experiments = _material(db, session_id)
    if existing and not replace:
        return SessionSummary(
            session_id=session_id,
            text=existing,
            provenance=f"session:{number}",
            stored=False,
            notices=["The session already has a summary; --replace writes a new one."],
        )
    result = _compose(number, topic_ids, shared, experiments, host, generator, prompts, kb)
    result = result.model_copy(update={"session_id": session_id, "stored": True})
    with db.transaction() as orm:
        orm.get(Session, session_id).summary = _stored_text(result)
    return result


def draft_summary(
    db: Database,
    session_id: int,
    *,
    host: PluginHost,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
    kb: KnowledgeBase | None = None,
    experiments: list[dict] | None = None,
) -> SessionSummary:
    """A summary of a session's shared notes that is *not* stored: the wrap-up form's draft.

    The session may still be running (the pair edits the draft before completing it).
    ``experiments`` are the ones typed into the form (dicts with title, owner, due_date); without
    them the session's stored experiments are used. ``text`` includes what the model read as
    things to try, as the stored summary would.
    """
    number, topic_ids, shared, stored = _material(db, session_id)
    agreed = stored if experiments is None else experiments
    result = _compose(number, topic_ids, shared, agreed, host, generator, prompts, kb)
    return result.model_copy(update={"session_id": session_id, "text": _stored_text(result)})


def _material(db: Database, session_id: int) -> tuple[int, list[str], list[dict], list[dict]]:
    """Number, topics, shared (never private) notes and agreed experiments of a session."""
    with db.read() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        notes = orm.scalars(
            select(Note)
            .where(Note.session_id == session_id, Note.private.is_(False), Note.text != "")
            .order_by(Note.id)
        ).all()
        shared = [{"text": n.text, "author_role": n.author_role} for n in notes]
        agreed = orm.scalars(select(Experiment).where(Experiment.session_id == session_id)).all()
        experiments = [{"title": e.title, "owner": e.owner, "due_date": e.due_date} for e in agreed]
        return session.number, list(session.topic_ids or []), shared, experiments


def _compose(
    number: int,
    topic_ids: list[str],
    shared: list[dict],
    experiments: list[dict],
    host: PluginHost,
    generator: Generator | None,
    prompts: PromptLibrary | None,
    kb: KnowledgeBase | None,
) -> SessionSummary:
    topic = host.topic(topic_ids[0]) if topic_ids else None
    result = _written(number, shared, experiments)
    if generator is not None and prompts is not None and shared:
        result = _generated(result, generator, prompts, kb, topic, shared, experiments)
    return result


def _written(number: int, shared: list[dict], experiments: list[dict]) -> SessionSummary:
    """The grounded summary: the shared notes in order, shortened to a paragraph."""
    sentences = []
    for note in shared:
        text = " ".join(note["text"].split()).rstrip(".")
        sentences.append(f"{note['author_role'].capitalize()}: {text}.")
    text = " ".join(sentences) or "No shared notes were kept."
    if len(text) > SUMMARY_LIMIT:
        text = text[:SUMMARY_LIMIT].rsplit(" ", 1)[0] + " …"
    return SessionSummary(session_id=0, text=text, provenance=f"session:{number}", stored=False)


def _generated(
    grounded: SessionSummary,
    generator: Generator,
    prompts: PromptLibrary,
    kb: KnowledgeBase | None,
    topic,
    shared: list[dict],
    experiments: list[dict],
) -> SessionSummary:
    from coach.prepare.drafts import SummaryDraft
    from coach.prepare.gates import Gates

    prompt = prompts.render("session_summary", topic=topic, notes=shared, experiments=experiments)
    try:
        draft: SummaryDraft = generator.ask("summary", prompt, SummaryDraft)
    except Exception as exc:
        notice = (
            f"The model '{generator.label}' gave no usable summary ({exc}); the notes stand in."
        )
        return grounded.model_copy(update={"notices": [notice]})
    gates = Gates(
        topic_text=" ".join(n["text"] for n in shared),
        bank=[e["title"] for e in experiments],
        embed=kb.embedder.embed if kb is not None else None,
    )
    kept, rejected = gates.check(
        "summary", [draft.summary], provenance=generator.provenance, prompt=prompt
    )
    if not kept:
        notice = "The generated summary did not pass the quality gates; the notes stand in."
        return grounded.model_copy(update={"notices": [notice], "rejections": rejected})
    tried, refused = gates.check(
        "experiments", draft.experiments, provenance=generator.provenance, prompt=prompt
    )
    return SessionSummary(
        session_id=0,
        text=kept[0],
        provenance=generator.provenance,
        experiments=tried,
        stored=False,
        rejections=[*rejected, *refused],
    )


def _stored_text(summary: SessionSummary) -> str:
    if not summary.experiments:
        return summary.text
    return summary.text + "\nTo try: " + "; ".join(e.rstrip(".") for e in summary.experiments) + "."
