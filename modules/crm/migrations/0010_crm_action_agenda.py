"""crm: index actions by user, done, archived and date, for the home page's agenda (its
counts of overdue and today's planned actions read from the index alone), issue 15

Revision ID: 0010_crm_action_agenda
Revises: 0009_crm_losses_index
Create Date: 2026-11-29 20:45:00.000000

"""
from alembic import op

revision = '0010_crm_action_agenda'
down_revision = '0009_crm_losses_index'
branch_labels = None
depends_on = None


def upgrade():
    # Outside batch_alter_table: a new index needs no copy of the table on SQLite.
    op.create_index('ix_crm_action_user_open', 'crm_action',
                    ['user_id', 'done', 'archived', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_crm_action_user_open', table_name='crm_action')
