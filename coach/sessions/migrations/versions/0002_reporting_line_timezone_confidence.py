"""A person's manager and time zone (for matching); the mentee's confidence per topic.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("manager", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "confidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("topic_id", sa.String(64), nullable=False),
        sa.Column("before", sa.Integer),
        sa.Column("after", sa.Integer),
        sa.UniqueConstraint("session_id", "topic_id", name="confidence_topic"),
        sa.CheckConstraint("before IS NULL OR before BETWEEN 1 AND 5", name="confidence_before"),
        sa.CheckConstraint("after IS NULL OR after BETWEEN 1 AND 5", name="confidence_after"),
    )


def downgrade() -> None:
    op.drop_table("confidence")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("timezone")
        batch.drop_column("manager")
