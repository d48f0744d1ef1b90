"""crm: the loss reasons report's monthly aggregate, kept by triggers (issue 15)

``crm_loss_month``: the lost opportunities counted by the UTC month of their closing,
owner, loss reason and stage where lost (0: none), how many and their estimated value in
cents. Counted here from the existing losses and kept from now on by triggers on
``crm_opportunity`` (SQLite triggers; a plpgsql function on PostgreSQL), in the same
transaction as each write. The way back drops the triggers, the function and the table.

Revision ID: 0024_crm_loss_month
Revises: 0023_crm_pipeline_total
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from erp.aggregates import backfill_statements, drop_statements, trigger_statements
from modules.crm.models.loss_month import AGGREGATES

revision = "0024_crm_loss_month"
down_revision = "0023_crm_pipeline_total"
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "crm_loss_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("loss_reason_id", sa.Integer(), nullable=False),
        sa.Column("lost_stage_id", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "owner_id", "loss_reason_id", "lost_stage_id",
                                name=op.f("pk_crm_loss_month")),
    )
    # Kept, then counted (as crm 0022): once the triggers exist every write is counted by
    # them; what they counted before the backfill is wiped and counted again by it.
    for statement in trigger_statements(AGGREGATES, dialect):
        op.execute(statement)
    for statement in backfill_statements(AGGREGATES, dialect):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute("ANALYZE crm_loss_month")


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(AGGREGATES, dialect):
        op.execute(statement)
    op.drop_table("crm_loss_month")
