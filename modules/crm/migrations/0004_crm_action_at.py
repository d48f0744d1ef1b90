"""crm: index actions by date, for the actions report over all users

Revision ID: 0004_crm_action_at
Revises: 0003_crm_api
Create Date: 2026-11-23 17:45:00.000000

"""
from alembic import op


revision = '0004_crm_action_at'
down_revision = '0003_crm_api'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.create_index('ix_crm_action_at', ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_action_at')
