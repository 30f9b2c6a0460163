"""The session engine: scheduling a session and running it phase by phase, with no UI.

The database is the only state. ``SessionEngine`` keeps nothing but the session id, so every
transition reads the session, changes it and commits in one transaction, and a new engine (after
a crash, or in another process such as the CLI next to the TUI) carries on exactly where the
last one stopped. SQLite's ``BEGIN IMMEDIATE`` (see db.py) serialises two engines on one session.

What is stored, per state:

- ``planned``/``prepared``: ``current_phase`` is None, no phase is timing.
- ``running``: ``current_phase`` is a phase position, or ``len(phases)`` once ``next_phase`` has
  left the last phase ("past the end": timing has stopped, the pair fills in the wrap-up, and
  ``previous_phase`` can still go back). The current phase's ``entered_at`` is when its timing
  last (re)started and ``seconds_spent`` holds the time before that; while paused,
  ``paused_at`` is set and ``entered_at`` is None, so pauses never count.
- ``completed``/``cancelled``: ``ended_at`` is set, ``current_phase`` and ``paused_at`` are None.

Crash semantics: a session that was running when the process died is still running, and the
time the process was dead counts in the current phase (``entered_at`` was committed; the pair was
most likely still talking). A session paused at the crash stays paused and gains no time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from coach.plugins.models import SessionEvent, SessionTemplate
from coach.sessions.db import Database
from coach.sessions.errors import InputError, NotFound
from coach.sessions.experiments import OpenExperiment, Recap, recap, update_experiment
from coach.sessions.models import Pair, Session, SessionPhase
from coach.sessions.templates import BUILTIN_TEMPLATES, FIRST_SESSION, STANDARD, session_phases
from coach.sessions.wrapup import WrapUp, write_wrap_up

__all__ = [
    "EngineStatus",
    "OpenExperiment",
    "Recap",
    "SessionEngine",
    "WrapUp",
    "recap",
    "schedule_session",
    "update_experiment",
]

Clock = Callable[[], datetime]
Notify = Callable[[str, SessionEvent], object]
STARTABLE = ("planned", "prepared")
Announce = tuple[str, str | None, str | None]
"""What a transition announces: (hook, phase now running, phase before)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def schedule_session(
    db: Database,
    pair_id: int,
    *,
    topic_ids: Iterable[str] = (),
    template_id: str | None = None,
    scheduled_at: datetime | None = None,
    templates: Mapping[str, SessionTemplate] | None = None,
) -> int:
    """Add the pair's next session, with the template's phases copied in; returns its id.

    Numbers count every session of the pair, cancelled ones included (a number is never reused).
    Without ``template_id`` session 1 gets ``first-session`` and later ones ``standard-60``.
    ``templates`` defaults to the built-ins; pass ``all_templates(host)`` to offer plugin ones.
    """
    catalogue = BUILTIN_TEMPLATES if templates is None else templates
    topics = [t.strip() for t in topic_ids]
    if any(not t for t in topics):
        raise InputError("topic ids must not be empty")
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise InputError("scheduled_at needs a time zone (Coach stores UTC times)")
    with db.transaction() as orm:
        pair = orm.get(Pair, pair_id)
        if pair is None:
            raise NotFound(f"pair {pair_id} does not exist")
        if not pair.active:
            raise InputError(f"pair {pair_id} is inactive; reactivate it to schedule a session")
        last = orm.scalar(select(func.max(Session.number)).where(Session.pair_id == pair_id))
        number = (last or 0) + 1
        chosen = template_id or (FIRST_SESSION if number == 1 else STANDARD)
        template = catalogue.get(chosen)
        if template is None:
            known = ", ".join(sorted(catalogue))
            raise NotFound(f"session template '{chosen}' does not exist (known: {known})")
        session = Session(
            pair_id=pair_id,
            number=number,
            topic_ids=list(dict.fromkeys(topics)),
            template_id=template.id,
            status="planned",
            scheduled_at=scheduled_at,
        )
        session.phases = session_phases(template)
        orm.add(session)
        orm.flush()
        return session.id


@dataclass(frozen=True)
class EngineStatus:
    """A snapshot for a timer display; all durations in seconds, pauses excluded."""

    session_id: int
    status: str
    phase_index: int | None
    """Position of the current phase; ``phase_count`` once past the last phase; None if idle."""
    phase_id: str | None
    phase_title: str | None
    phase_count: int
    phase_seconds: float
    """Time spent in the current phase, all visits together."""
    planned_seconds: int
    overrun: bool
    overrun_seconds: float
    total_seconds: float
    """Time spent in all phases together."""
    planned_total_seconds: int
    paused: bool


def _elapsed(phase: SessionPhase, now: datetime) -> float:
    running = 0.0
    if phase.entered_at is not None:  # a clock that went backwards never subtracts time
        running = max(0.0, (now - phase.entered_at).total_seconds())
    return phase.seconds_spent + running


def _stop(phase: SessionPhase, now: datetime) -> None:
    phase.seconds_spent = _elapsed(phase, now)
    phase.entered_at = None


class SessionEngine:
    """Runs one session. Every method is one committed transaction; illegal ones raise InputError.

    ``notify`` receives lifecycle events after they are committed (pass ``PluginHost.notify``).
    A notifier that fails never undoes a transition; its problems are kept in ``warnings``.
    """

    def __init__(
        self,
        db: Database,
        session_id: int,
        *,
        clock: Clock = _utc_now,
        notify: Notify | None = None,
    ) -> None:
        self.db = db
        self.session_id = session_id
        self.clock = clock
        self.notify = notify
        self.warnings: list[str] = []
        with db.transaction() as orm:
            self._load(orm)

    # --- transitions -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the session with its first phase running."""

        def change(orm: OrmSession, session: Session, now: datetime) -> Announce:
            if session.status not in STARTABLE:
                raise InputError(f"session {session.id} is {session.status}; it cannot start")
            if not session.phases:
                raise InputError(f"session {session.id} has no phases to run")
            session.status = "running"
            session.started_at = now
            session.current_phase = 0
            session.paused_at = None
            session.phases[0].entered_at = now
            return "session_started", session.phases[0].phase_id, None

        self._transition(change)

    def next_phase(self) -> None:
        """Move on; on the last phase this stops the timing but does not complete the session."""

        def change(orm: OrmSession, session: Session, now: datetime) -> Announce:
            index = self._movable(session, "move to the next phase")
            if index >= len(session.phases):
                raise InputError(
                    f"session {session.id} is already past its last phase; complete it"
                )
            return self._move(session, index + 1, now)

        self._transition(change)

    def previous_phase(self) -> None:
        """Go back one phase (or from past the end back to the last); time adds to that phase."""

        def change(orm: OrmSession, session: Session, now: datetime) -> Announce:
            index = self._movable(session, "go back a phase")
            if index == 0:
                raise InputError(f"session {session.id} is already in its first phase")
            return self._move(session, index - 1, now)

        self._transition(change)

    def pause(self) -> None:
        """Stop the clock of the current phase (a break, an interruption) until ``resume``."""

        def change(orm: OrmSession, session: Session, now: datetime) -> None:
            index = self._movable(session, "pause")
            if index >= len(session.phases):
                raise InputError(f"session {session.id} is past its last phase; nothing to pause")
            _stop(session.phases[index], now)
            session.paused_at = now

        self._transition(change)

    def resume(self) -> None:
        """Restart the clock of the phase that was paused."""

        def change(orm: OrmSession, session: Session, now: datetime) -> None:
            self._require_running(session, "resume")
            if session.paused_at is None:
                raise InputError(f"session {session.id} is not paused")
            session.phases[session.current_phase or 0].entered_at = now
            session.paused_at = None

        self._transition(change)

    def complete(self, wrap_up: WrapUp | Mapping[str, Any]) -> None:
        """Save the wrap-up and end the session, all in one transaction (or nothing at all)."""
        if not isinstance(wrap_up, WrapUp):
            wrap_up = WrapUp.model_validate(wrap_up)

        def change(orm: OrmSession, session: Session, now: datetime) -> Announce:
            self._require_running(session, "be completed")
            wrap_up.check_for_session(session.number)
            previous = self._end(session, now)
            session.status = "completed"
            write_wrap_up(orm, session, wrap_up)
            return "session_completed", None, previous

        self._transition(change)

    def cancel(self, reason: str) -> None:
        """Cancel a session that has not ended; its number stays used."""
        reason = reason.strip()
        if not reason:
            raise InputError("give a reason for cancelling the session")

        def change(orm: OrmSession, session: Session, now: datetime) -> None:
            if session.status in ("completed", "cancelled"):
                state = session.status
                raise InputError(f"session {session.id} is {state}; it cannot be cancelled")
            self._end(session, now)
            session.status = "cancelled"
            session.cancel_reason = reason

        self._transition(change)

    # --- reading -----------------------------------------------------------------------------

    def status(self) -> EngineStatus:
        now = self._now()
        with self.db.transaction() as orm:
            session = self._load(orm)
            phases = session.phases
            index = session.current_phase
            phase = phases[index] if index is not None and index < len(phases) else None
            spent = _elapsed(phase, now) if phase else 0.0
            planned = phase.planned_minutes * 60 if phase else 0
            return EngineStatus(
                session_id=session.id,
                status=session.status,
                phase_index=index,
                phase_id=phase.phase_id if phase else None,
                phase_title=phase.title if phase else None,
                phase_count=len(phases),
                phase_seconds=spent,
                planned_seconds=planned,
                overrun=phase is not None and spent > planned,
                overrun_seconds=max(0.0, spent - planned) if phase else 0.0,
                total_seconds=sum(_elapsed(p, now) for p in phases),
                planned_total_seconds=sum(p.planned_minutes for p in phases) * 60,
                paused=session.paused_at is not None,
            )

    # --- internals ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the engine's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _load(self, orm: OrmSession) -> Session:
        session = orm.get(Session, self.session_id, options=[selectinload(Session.phases)])
        if session is None:
            raise NotFound(f"session {self.session_id} does not exist")
        return session

    def _transition(self, change: Callable[[OrmSession, Session, datetime], Any]) -> None:
        """Run ``change`` in one transaction; notify after commit if it returned an event."""
        now = self._now()
        event = None
        with self.db.transaction() as orm:
            session = self._load(orm)
            result = change(orm, session, now)
            if result is not None:
                hook, phase, previous = result
                event = self._event(session, phase, previous, now)
        if event is not None:
            self._send(hook, event)

    @staticmethod
    def _require_running(session: Session, action: str) -> None:
        if session.status != "running":
            raise InputError(f"session {session.id} is {session.status}; it cannot {action}")

    def _movable(self, session: Session, action: str) -> int:
        self._require_running(session, action)
        if session.paused_at is not None:
            raise InputError(f"session {session.id} is paused; resume it to {action}")
        return session.current_phase or 0

    @staticmethod
    def _move(session: Session, target: int, now: datetime) -> Announce:
        phases = session.phases
        index = session.current_phase or 0
        previous = phases[index].phase_id if index < len(phases) else None
        if index < len(phases):
            _stop(phases[index], now)
        if target < len(phases):
            phases[target].entered_at = now
        session.current_phase = target
        current = phases[target].phase_id if target < len(phases) else None
        return "session_phase_changed", current, previous

    @staticmethod
    def _end(session: Session, now: datetime) -> str | None:
        """Stop all timing and record the end; returns the id of the phase that was current."""
        index = session.current_phase
        current = None
        if index is not None and index < len(session.phases):
            current = session.phases[index].phase_id
        for phase in session.phases:
            _stop(phase, now)
        session.current_phase = None
        session.paused_at = None
        session.ended_at = now
        return current

    @staticmethod
    def _event(
        session: Session, phase: str | None, previous: str | None, now: datetime
    ) -> SessionEvent:
        """Only what plugins may see: ids, number, topics, phases. Never notes of any kind."""
        return SessionEvent(
            session_id=str(session.id),
            pair_id=str(session.pair_id),
            number=session.number,
            topic_ids=list(session.topic_ids or []),
            phase=phase,
            previous_phase=previous,
            at=now,
        )

    def _send(self, hook: str, event: SessionEvent) -> None:
        if self.notify is None:
            return
        try:
            problems = self.notify(hook, event)
        except Exception as exc:  # the transition is committed; a listener cannot undo it
            self.warnings.append(f"{hook} notification failed: {type(exc).__name__}: {exc}")
            return
        if isinstance(problems, list):
            self.warnings.extend(str(problem) for problem in problems)
