"""crm: the funnel report's indexes lead with what it groups by (issue 15): the
opportunities' with (stage, status, furthest stage), the stays' with the stage name, then
the creation time, so the report reads one created_at range per group in the GROUP BY's
order, instead of the period's whole range sorted in a temporary B-tree (the sort was
most of its cost once the history was summarised, crm 0012)

Revision ID: 0013_crm_funnel_report_order
Revises: 0012_crm_funnel_summary
Create Date: 2026-11-29 23:55:00.000000

"""
from alembic import op

revision = '0013_crm_funnel_report_order'
down_revision = '0012_crm_funnel_summary'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_crm_opportunity_created', table_name='crm_opportunity')
    op.create_index('ix_crm_opportunity_funnel_report', 'crm_opportunity',
                    ['stage_id', 'status', 'furthest_stage_id', 'created_at', 'owner_id',
                     'estimated_value', 'closed_at'], unique=False)
    op.drop_index('ix_crm_opportunity_stay_created', table_name='crm_opportunity_stay')
    op.create_index('ix_crm_opportunity_stay_report', 'crm_opportunity_stay',
                    ['stage_name', 'created_at', 'owner_id', 'days', 'since'], unique=False)


def downgrade():
    op.drop_index('ix_crm_opportunity_stay_report', table_name='crm_opportunity_stay')
    op.create_index('ix_crm_opportunity_stay_created', 'crm_opportunity_stay',
                    ['created_at', 'owner_id', 'stage_name', 'days', 'since'], unique=False)
    op.drop_index('ix_crm_opportunity_funnel_report', table_name='crm_opportunity')
    op.create_index('ix_crm_opportunity_created', 'crm_opportunity',
                    ['created_at', 'owner_id', 'stage_id', 'status', 'furthest_stage_id',
                     'estimated_value', 'closed_at', 'id'], unique=False)
