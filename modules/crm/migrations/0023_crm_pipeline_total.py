"""crm: the open pipeline's totals, kept by triggers (issue 15)

``crm_pipeline_total``: the opportunities counted by status, archived or not, owner (0:
none) and stage (count, estimated value in cents), for the home page's "my open
opportunities by stage" and the funnel kanban's columns. Counted here from the existing
rows and kept from now on by triggers on ``crm_opportunity`` (SQLite triggers; a plpgsql
function on PostgreSQL), in the same transaction as each write. The way back drops the
triggers, the function and the table.

Revision ID: 0023_crm_pipeline_total
Revises: 0022_crm_funnel_month
Create Date: 2026-11-30 09:40:00
"""

import sqlalchemy as sa
from alembic import op

from erp.aggregates import backfill_statements, drop_statements, trigger_statements
from modules.crm.models.pipeline_total import AGGREGATES

revision = "0023_crm_pipeline_total"
down_revision = "0022_crm_funnel_month"
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "crm_pipeline_total",
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "archived", "owner_id", "stage_id",
                                name=op.f("pk_crm_pipeline_total")),
    )
    # Kept, then counted (as crm 0022): once the triggers exist every write is counted by
    # them; what they counted before the backfill is wiped and counted again by it.
    for statement in trigger_statements(AGGREGATES, dialect):
        op.execute(statement)
    for statement in backfill_statements(AGGREGATES, dialect):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute("ANALYZE crm_pipeline_total")


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(AGGREGATES, dialect):
        op.execute(statement)
    op.drop_table("crm_pipeline_total")
