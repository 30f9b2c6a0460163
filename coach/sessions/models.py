"""SQLAlchemy 2 models of a mentoring programme.

Portable types only (integers, strings, text, booleans, JSON, timezone-aware timestamps), so the
same models run on SQLite and PostgreSQL. Every time is stored in UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("mentor", "mentee")
SESSION_STATUSES = ("planned", "prepared", "running", "completed", "cancelled")
EXPERIMENT_STATUSES = ("open", "done", "dropped")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_note_uid() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Coach stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    department: Mapped[str] = mapped_column(String(200), default="")
    manager: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """Who they report to (name or email): matching avoids pairs in one reporting line."""
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    growth_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('mentor', 'mentee')", name="person_role"),)


class Pair(Base):
    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    cadence_days: Mapped[int] = mapped_column(Integer, default=28)
    planned_sessions: Mapped[int] = mapped_column(Integer, default=6)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first-session agreement.
    agreement_cadence: Mapped[str] = mapped_column(Text, default="")
    agreement_confidentiality: Mapped[str] = mapped_column(Text, default="")
    agreement_boundaries: Mapped[str] = mapped_column(Text, default="")
    agreement_feedback_style: Mapped[str] = mapped_column(Text, default="")
    agreement_no_blame_exit: Mapped[bool] = mapped_column(Boolean, default=False)
    agreed_at: Mapped[datetime | None]

    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    mentee: Mapped[Person] = relationship(foreign_keys=[mentee_id])
    sessions: Mapped[list[Session]] = relationship(
        back_populates="pair", cascade="all, delete-orphan", order_by="Session.number"
    )
    experiments: Mapped[list[Experiment]] = relationship(
        back_populates="pair", cascade="all, delete-orphan", order_by="Experiment.id"
    )

    __table_args__ = (
        CheckConstraint("mentor_id <> mentee_id", name="pair_two_people"),
        CheckConstraint("cadence_days > 0", name="pair_cadence"),
        CheckConstraint("planned_sessions > 0", name="pair_planned"),
    )


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    topic_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    template_id: Mapped[str] = mapped_column(String(64), default="standard-60")
    status: Mapped[str] = mapped_column(String(10), default="planned")
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    current_phase: Mapped[int | None] = mapped_column(Integer)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Snapshot of the prepared plan, kept as it was when the session ran."""
    summary: Mapped[str] = mapped_column(Text, default="")
    agenda_checked: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    """Keys of the agenda items ticked off while the session ran (``phase:core``, ...)."""
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    pair: Mapped[Pair] = relationship(back_populates="sessions")
    phases: Mapped[list[SessionPhase]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionPhase.position"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Note.id"
    )
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    confidence: Mapped[list[Confidence]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("pair_id", "number", name="session_number"),
        CheckConstraint(
            "status IN ('planned', 'prepared', 'running', 'completed', 'cancelled')",
            name="session_status",
        ),
    )


class SessionPhase(Base):
    __tablename__ = "session_phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    phase_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    planned_minutes: Mapped[int] = mapped_column(Integer)
    guidance: Mapped[str] = mapped_column(Text, default="", server_default="")
    """What happens in this phase, copied from the template when the session was scheduled."""
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)
    """Time spent in this phase so far, pauses excluded (a phase can be revisited)."""
    entered_at: Mapped[datetime | None]
    """When the phase last became current; None while it is not running."""

    session: Mapped[Session] = relationship(back_populates="phases")

    __table_args__ = (UniqueConstraint("session_id", "position", name="phase_position"),)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    phase_id: Mapped[str] = mapped_column(String(64), default="")
    author_role: Mapped[str] = mapped_column(String(10))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    """Private notes never leave the pair's views: no export, report or model sees them."""
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    uid: Mapped[str | None] = mapped_column(String(36), unique=True, default=new_note_uid)
    """Made where the note was written: a shared database upserts by it, so a retried sync
    never writes a note twice (see ``coach.sessions.local_notes``)."""

    session: Mapped[Session] = relationship(back_populates="notes")

    __table_args__ = (
        CheckConstraint("author_role IN ('mentor', 'mentee')", name="note_author_role"),
    )


class Experiment(Base):
    """An action item a pair agreed to try before the next session."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pair: Mapped[Pair] = relationship(back_populates="experiments")

    __table_args__ = (
        CheckConstraint("owner IN ('mentor', 'mentee')", name="experiment_owner"),
        CheckConstraint("status IN ('open', 'done', 'dropped')", name="experiment_status"),
    )


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(10))
    rating: Mapped[int] = mapped_column(Integer)
    what_worked: Mapped[str] = mapped_column(Text, default="")
    what_to_change: Mapped[str] = mapped_column(Text, default="")
    good_fit: Mapped[bool | None] = mapped_column(Boolean)
    """Asked after a pair's first session only."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[Session] = relationship(back_populates="feedback")

    __table_args__ = (
        UniqueConstraint("session_id", "side", name="feedback_side"),
        CheckConstraint("side IN ('mentor', 'mentee')", name="feedback_side_role"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="feedback_rating"),
    )


class Confidence(Base):
    """The mentee's confidence on a topic (1-5), before and after a session."""

    __tablename__ = "confidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    topic_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[int | None] = mapped_column(Integer)
    after: Mapped[int | None] = mapped_column(Integer)

    session: Mapped[Session] = relationship(back_populates="confidence")

    __table_args__ = (
        UniqueConstraint("session_id", "topic_id", name="confidence_topic"),
        CheckConstraint("before IS NULL OR before BETWEEN 1 AND 5", name="confidence_before"),
        CheckConstraint("after IS NULL OR after BETWEEN 1 AND 5", name="confidence_after"),
    )
