"""notes: notes on accounts

Revision ID: 0001_notes
Revises:
Create Date: 2026-12-01 10:00:00.000000

Written by hand (``flask db revision --autogenerate`` gives the same): the branch
"notes" starts here and depends on CRM's first revision, which creates crm_account
(and itself depends on the host's, which creates auth_user).
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_notes"
down_revision = None
branch_labels = ("notes",)
depends_on = "0001_crm"


def upgrade():
    op.create_table(
        "notes_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"], ondelete="CASCADE",
                                name=op.f("fk_notes_note_account_id_crm_account")),
        sa.ForeignKeyConstraint(["author_id"], ["auth_user.id"],
                                name=op.f("fk_notes_note_author_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes_note")),
    )
    with op.batch_alter_table("notes_note", schema=None) as batch_op:
        batch_op.create_index("ix_notes_note_account_created",
                              ["account_id", "created_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("notes_note", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_note_account_created")
    op.drop_table("notes_note")
