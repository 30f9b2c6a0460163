"""Notes carry a uid made where they were written, so a shared database can upsert by it.

Revision ID: 0005
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("uid", sa.String(36), nullable=True))
    notes = sa.table("notes", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    connection = op.get_bind()
    for (note_id,) in connection.execute(sa.select(notes.c.id).where(notes.c.uid.is_(None))):
        connection.execute(
            notes.update().where(notes.c.id == note_id).values(uid=str(uuid.uuid4()))
        )
    with op.batch_alter_table("notes") as batch:
        batch.create_unique_constraint("uq_notes_uid", ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.drop_constraint("uq_notes_uid", type_="unique")
        batch.drop_column("uid")
