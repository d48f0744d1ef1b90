"""crm: merging accounts and contacts, with the log that undoes a merge (issue 18)

Revision ID: 0017_crm_merge
Revises: 0016_crm_duplicates
Create Date: 2026-11-30 02:30:00

An account (or contact) merged into another is kept, archived, with ``merged_into_id``;
``crm_merge`` logs each merge with what its undo restores. Existing records were merged
into nothing: the new columns start empty. The columns are added and dropped in place
(no table copy on SQLite, 3.35+: the search index's triggers on the tables stay).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_crm_merge"
down_revision = "0016_crm_duplicates"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("crm_account", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.add_column("crm_contact", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_table(
        "crm_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undone_by_id"], ["auth_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_merge_survivor", "crm_merge", ["kind", "survivor_id", "at", "id"])
    op.create_index("ix_crm_merge_merged", "crm_merge", ["kind", "merged_id"])


def downgrade():
    op.drop_index("ix_crm_merge_merged", table_name="crm_merge")
    op.drop_index("ix_crm_merge_survivor", table_name="crm_merge")
    op.drop_table("crm_merge")
    op.drop_column("crm_contact", "merged_into_id")
    op.drop_column("crm_account", "merged_into_id")
