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
        number, existing, topic_ids = session.number, session.summary.strip(), session.topic_ids
        notes = orm.scalars(
            select(Note)
            .where(Note.session_id == session_id, Note.private.is_(False), Note.text != "")
            .order_by(Note.id)
        ).all()
        shared = [{"text": n.text, "author_role": n.author_role} for n in notes]
        agreed = orm.scalars(select(Experiment).where(Experiment.session_id == session_id)).all()
        experiments = [{"title": e.title, "owner": e.owner, "due_date": e.due_date} for e in agreed]
    if existing and not replace:
        return SessionSummary(
            session_id=session_id,
            text=existing,
            provenance=f"session:{number}",
            stored=False,
            notices=["The session already has a summary; --replace writes a new one."],
        )
    topic = host.topic(topic_ids[0]) if topic_ids else None
    result = _written(number, shared, experiments)
    if generator is not None and prompts is not None and shared:
        result = _generated(result, generator, prompts, kb, topic, shared, experiments)
    result = result.model_copy(update={"session_id": session_id, "stored": True})
    with db.transaction() as orm:
        orm.get(Session, session_id).summary = _stored_text(result)
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
