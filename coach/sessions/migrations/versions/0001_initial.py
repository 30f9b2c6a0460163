"""People, pairs, sessions with phases, notes, experiments and feedback.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from coach.sessions.models import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), unique=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("growth_areas", sa.JSON, nullable=False),
        sa.Column("goals", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'mentee')", name="person_role"),
    )
    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "mentor_id", sa.Integer, sa.ForeignKey("people.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column(
            "mentee_id", sa.Integer, sa.ForeignKey("people.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("cadence_days", sa.Integer, nullable=False),
        sa.Column("planned_sessions", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("agreement_cadence", sa.Text, nullable=False),
        sa.Column("agreement_confidentiality", sa.Text, nullable=False),
        sa.Column("agreement_boundaries", sa.Text, nullable=False),
        sa.Column("agreement_feedback_style", sa.Text, nullable=False),
        sa.Column("agreement_no_blame_exit", sa.Boolean, nullable=False),
        sa.Column("agreed_at", UTCDateTime()),
        sa.CheckConstraint("mentor_id <> mentee_id", name="pair_two_people"),
        sa.CheckConstraint("cadence_days > 0", name="pair_cadence"),
        sa.CheckConstraint("planned_sessions > 0", name="pair_planned"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "pair_id",
            sa.Integer,
            sa.ForeignKey("pairs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("topic_ids", sa.JSON, nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("scheduled_at", UTCDateTime()),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("paused_at", UTCDateTime()),
        sa.Column("current_phase", sa.Integer),
        sa.Column("plan", sa.JSON),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.UniqueConstraint("pair_id", "number", name="session_number"),
        sa.CheckConstraint(
            "status IN ('planned', 'prepared', 'running', 'completed', 'cancelled')",
            name="session_status",
        ),
    )
    op.create_table(
        "session_phases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("phase_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("planned_minutes", sa.Integer, nullable=False),
        sa.Column("seconds_spent", sa.Float, nullable=False),
        sa.Column("entered_at", UTCDateTime()),
        sa.UniqueConstraint("session_id", "position", name="phase_position"),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("phase_id", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(10), nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("author_role IN ('mentor', 'mentee')", name="note_author_role"),
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "pair_id",
            sa.Integer,
            sa.ForeignKey("pairs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="SET NULL")),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("owner IN ('mentor', 'mentee')", name="experiment_owner"),
        sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name="experiment_status"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("what_worked", sa.Text, nullable=False),
        sa.Column("what_to_change", sa.Text, nullable=False),
        sa.Column("good_fit", sa.Boolean),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "side", name="feedback_side"),
        sa.CheckConstraint("side IN ('mentor', 'mentee')", name="feedback_side_role"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="feedback_rating"),
    )


def downgrade() -> None:
    for table in (
        "feedback",
        "experiments",
        "notes",
        "session_phases",
        "sessions",
        "pairs",
        "people",
    ):
        op.drop_table(table)
