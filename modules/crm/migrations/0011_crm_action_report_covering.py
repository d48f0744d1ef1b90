"""crm: the (user_id, done, archived, at) index of actions also holds their kind, so the
actions report counts a period's actions by user, kind and status from the index alone,
issue 15

Revision ID: 0011_crm_action_report_covering
Revises: 0010_crm_action_agenda
Create Date: 2026-11-29 21:30:00.000000

"""
from alembic import op

revision = '0011_crm_action_report_covering'
down_revision = '0010_crm_action_agenda'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_crm_action_user_open', table_name='crm_action')
    op.create_index('ix_crm_action_user_open', 'crm_action',
                    ['user_id', 'done', 'archived', 'at', 'kind'], unique=False)


def downgrade():
    op.drop_index('ix_crm_action_user_open', table_name='crm_action')
    op.create_index('ix_crm_action_user_open', 'crm_action',
                    ['user_id', 'done', 'archived', 'at'], unique=False)
