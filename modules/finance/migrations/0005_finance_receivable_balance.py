"""finance: what is owed on each receivable, with its account's owner, kept by triggers
(issue 15)

Revision ID: 0005_finance_receivable_balance
Revises: 0004_finance_version
Create Date: 2026-11-30 09:00:00

``finance_receivable_balance``: one row per receivable (its account and that account's
owner, cancelled, due date, amount and the sum of its payments), filled here from the
existing rows and kept from now on by triggers on the receivables, the payments and the
accounts' owner (modules/finance/models/balances.py). The home page's overdue figures,
the receivables list's totals and the aging read it by owner instead of probing each
receivable's account. The way back drops the triggers and the table.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_finance_receivable_balance"
down_revision = "0004_finance_version"
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
        "finance_receivable_balance",
        sa.Column("receivable_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["receivable_id"], ["finance_receivable.id"], ondelete="CASCADE",
            name=op.f("fk_finance_receivable_balance_receivable_id_finance_receivable")),
        sa.PrimaryKeyConstraint("receivable_id", name=op.f("pk_finance_receivable_balance")),
    )
    op.execute(_triggers().backfill_statement())
    op.create_index("ix_finance_receivable_balance_owner", "finance_receivable_balance",
                    ["owner_id", "cancelled", "account_id", "due_date", "amount", "paid"],
                    unique=False)
    op.create_index("ix_finance_receivable_balance_account", "finance_receivable_balance",
                    ["account_id"], unique=False)
    for statement in _triggers().statements(dialect):
        op.execute(statement)
    op.execute("ANALYZE finance_receivable_balance")


def downgrade():
    for statement in _triggers().drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_finance_receivable_balance_account",
                  table_name="finance_receivable_balance")
    op.drop_index("ix_finance_receivable_balance_owner", table_name="finance_receivable_balance")
    op.drop_table("finance_receivable_balance")
