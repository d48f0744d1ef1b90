"""finance: index receivables by account, cancelled, due date and amount, for the account
page's open and overdue figures

Revision ID: 0002_finance_receivable_open
Revises: 0001_finance
Create Date: 2026-11-29 18:55:00.000000

"""
from alembic import op

revision = '0002_finance_receivable_open'
down_revision = '0001_finance'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('finance_receivable', schema=None) as batch_op:
        batch_op.create_index('ix_finance_receivable_account_open',
                              ['account_id', 'cancelled', 'due_date', 'amount', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('finance_receivable', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_receivable_account_open')
