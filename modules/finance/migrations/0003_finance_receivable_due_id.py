"""finance: index receivables by (due_date, id), the receivables list's order, for its
keyset pages (replaces the index on due_date alone)

Revision ID: 0003_finance_receivable_due_id
Revises: 0002_finance_receivable_open
Create Date: 2026-11-29 20:40:00.000000

"""
from alembic import op

revision = '0003_finance_receivable_due_id'
down_revision = '0002_finance_receivable_open'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('finance_receivable', schema=None) as batch_op:
        batch_op.create_index('ix_finance_receivable_due', ['due_date', 'id'], unique=False)
        batch_op.drop_index('ix_finance_receivable_due_date')


def downgrade():
    with op.batch_alter_table('finance_receivable', schema=None) as batch_op:
        batch_op.create_index('ix_finance_receivable_due_date', ['due_date'], unique=False)
        batch_op.drop_index('ix_finance_receivable_due')
