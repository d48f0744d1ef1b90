"""crm: index actions by account, done, archived and date, for the account page's last contact

Revision ID: 0006_crm_action_last_contact
Revises: 0005_crm_account_updated
Create Date: 2026-11-29 18:50:00.000000

"""
from alembic import op

revision = '0006_crm_action_last_contact'
down_revision = '0005_crm_account_updated'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.create_index('ix_crm_action_account_done_at',
                              ['account_id', 'done', 'archived', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_action_account_done_at')
