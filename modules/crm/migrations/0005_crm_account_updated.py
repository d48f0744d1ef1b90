"""crm: index accounts by last change and by id within archived, for the accounts list's sorts

Revision ID: 0005_crm_account_updated
Revises: 0004_crm_action_at
Create Date: 2026-11-29 18:45:00.000000

"""
from alembic import op


revision = '0005_crm_account_updated'
down_revision = '0004_crm_action_at'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.create_index('ix_crm_account_archived_updated',
                              ['archived', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_crm_account_archived_id', ['archived', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_account_archived_id')
        batch_op.drop_index('ix_crm_account_archived_updated')
