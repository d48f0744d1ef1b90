"""finance: receivables keep a version (issue 18, the JSON API)

Revision ID: 0004_finance_version
Revises: 0003_finance_receivable_due_id
Create Date: 2026-11-30 02:40:00

Each row gets ``version`` (SQLAlchemy's ``version_id_col``: it grows by one at every
save), the API's ETag, so a client's stale write is refused with 412 (If-Match) or 409
(the body's ``version``) instead of overwriting someone else's. Existing rows start at
1. The way back drops the columns.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_finance_version"
down_revision = "0003_finance_receivable_due_id"
branch_labels = None
depends_on = None

TABLES = ("finance_receivable",)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                          server_default="1"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("version", server_default=None)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
