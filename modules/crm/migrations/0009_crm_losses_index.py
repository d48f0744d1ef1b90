"""crm: index opportunities by status and closing time (covering the loss reasons
report), so the report reads the period's losses only, issue 15

Revision ID: 0009_crm_losses_index
Revises: 0008_crm_list_sorts
Create Date: 2026-11-29 20:25:00.000000

"""
from alembic import op

revision = '0009_crm_losses_index'
down_revision = '0008_crm_list_sorts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_crm_opportunity_closed', 'crm_opportunity',
                    ['status', 'closed_at', 'owner_id', 'loss_reason_id', 'stage_id',
                     'estimated_value'], unique=False)


def downgrade():
    op.drop_index('ix_crm_opportunity_closed', table_name='crm_opportunity')
