"""Each session phase keeps its guidance text, so a session shows it even if its template goes.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("session_phases") as batch:
        batch.add_column(sa.Column("guidance", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("session_phases") as batch:
        batch.drop_column("guidance")
