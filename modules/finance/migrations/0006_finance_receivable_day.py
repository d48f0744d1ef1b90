"""finance: the live receivables summed by owner and due date, kept by triggers (issue 15)

Revision ID: 0006_finance_receivable_day
Revises: 0005_finance_receivable_balance
Create Date: 2026-11-30 09:10:00

``finance_receivable_day``: for each owner and due date, how many live receivables are
not paid in full, their amounts and their payments in cents, summed here from
finance_receivable_balance and kept from now on by triggers on it
(modules/finance/models/balances.py). The home page's overdue totals, the receivables
list's totals and the aging's bucket totals read it: a row per owner and day, whatever
the number of receivables. The way back drops the triggers and the table.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_finance_receivable_day"
down_revision = "0005_finance_receivable_balance"
branch_labels = None
depends_on = None


def _triggers():
    """The trigger SQL, imported when the migration runs: alembic reads every branch's
    scripts, and a module's models imported with them would join the metadata of an app
    that does not enable finance (its tests' empty_tables then names missing tables)."""
    from modules.finance.models import balances

    return balances


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "finance_receivable_day",
        sa.Column("owner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("unpaid", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "due_date", name=op.f("pk_finance_receivable_day")),
        sqlite_with_rowid=False,
    )
    days = _triggers().DAYS
    for statement in days.backfill_statements(dialect) + days.trigger_statements(dialect):
        op.execute(statement)
    op.execute("ANALYZE finance_receivable_day")


def downgrade():
    for statement in _triggers().DAYS.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("finance_receivable_day")
