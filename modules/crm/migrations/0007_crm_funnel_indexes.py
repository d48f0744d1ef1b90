"""crm: index opportunities for the funnel's columns (cards in the column's order, counts
and values from the index) and the funnel report's cohort (created_at), issue 15

Revision ID: 0007_crm_funnel_indexes
Revises: 0006_crm_action_last_contact
Create Date: 2026-11-29 20:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_crm_funnel_indexes'
down_revision = '0006_crm_action_last_contact'
branch_labels = None
depends_on = None


def upgrade():
    # Outside batch_alter_table: an index on expressions is created as it is, without
    # recreating the table on SQLite.
    op.create_index('ix_crm_opportunity_funnel_cards', 'crm_opportunity',
                    ['stage_id', 'status', 'archived', sa.text('priority DESC'),
                     sa.text('(next_contact_on IS NULL)'), 'next_contact_on',
                     sa.text('id DESC'), 'owner_id'], unique=False)
    op.create_index('ix_crm_opportunity_open_totals', 'crm_opportunity',
                    ['status', 'archived', 'stage_id', 'owner_id', 'estimated_value'],
                    unique=False)
    op.create_index('ix_crm_opportunity_created', 'crm_opportunity',
                    ['created_at', 'owner_id', 'stage_id', 'status', 'estimated_value',
                     'closed_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_crm_opportunity_created', table_name='crm_opportunity')
    op.drop_index('ix_crm_opportunity_open_totals', table_name='crm_opportunity')
    op.drop_index('ix_crm_opportunity_funnel_cards', table_name='crm_opportunity')
