"""crm: the funnel report's monthly aggregates, kept by triggers (issue 15)

``crm_funnel_month``: the opportunities counted by the UTC month of their creation,
owner, current stage, status and furthest stage (count, value in cents, the won ones'
cycle days and how many); ``crm_funnel_stay_month``: their stays (crm 0012) by stage,
month and owner (how many, ended days, how many go on and the sum of their starts).
Counted here from the existing rows and kept from now on by triggers on
``crm_opportunity`` and ``crm_opportunity_stay`` (SQLite triggers; plpgsql functions on
PostgreSQL), in the same transaction as each write. The way back drops the triggers, the
functions and the tables.

Revision ID: 0022_crm_funnel_month
Revises: 0021_crm_duplicate_candidates
Create Date: 2026-11-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from erp.aggregates import backfill_statements, drop_statements, trigger_statements
from modules.crm.models.funnel_month import AGGREGATES

revision = "0022_crm_funnel_month"
down_revision = "0021_crm_duplicate_candidates"
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "crm_funnel_month",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("furthest_stage_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("cycle_days", sa.Float(), nullable=False),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", "status", "furthest_stage_id", "month",
                                "owner_id", name=op.f("pk_crm_funnel_month")),
    )
    op.create_table(
        "crm_funnel_stay_month",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("ongoing", sa.Integer(), nullable=False),
        sa.Column("since_days", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", "month", "owner_id",
                                name=op.f("pk_crm_funnel_stay_month")),
    )
    # Kept, then counted: once the triggers exist (on PostgreSQL CREATE TRIGGER also
    # locks crm_opportunity against writes until this transaction ends) every write is
    # counted by them; what one counted before the backfill is wiped and counted again
    # by it, so nothing is counted twice or missed.
    for statement in trigger_statements(AGGREGATES, dialect):
        op.execute(statement)
    for statement in backfill_statements(AGGREGATES, dialect):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute("ANALYZE crm_funnel_month")
        op.execute("ANALYZE crm_funnel_stay_month")


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(AGGREGATES, dialect):
        op.execute(statement)
    op.drop_table("crm_funnel_stay_month")
    op.drop_table("crm_funnel_month")
