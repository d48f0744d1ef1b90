"""crm: index contacts by name and opportunities by each sort of their list (within a
status and archived), the id last, for keyset paging of the lists (issue 15)

Revision ID: 0008_crm_list_sorts
Revises: 0007_crm_funnel_indexes
Create Date: 2026-11-29 20:50:00.000000

"""
from alembic import op

revision = '0008_crm_list_sorts'
down_revision = '0007_crm_funnel_indexes'
branch_labels = None
depends_on = None

# Each within a status (the list shows the open ones by default) and archived.
OPPORTUNITY_SORTS = {
    'ix_crm_opportunity_list_created': [],
    'ix_crm_opportunity_list_title': ['title'],
    'ix_crm_opportunity_list_value': ['estimated_value'],
    'ix_crm_opportunity_list_close': ['expected_close_on'],
    'ix_crm_opportunity_list_next': ['next_contact_on'],
}


def upgrade():
    # Outside batch_alter_table: a new index needs no copy of the table on SQLite.
    op.create_index('ix_crm_contact_name', 'crm_contact', ['name', 'id'], unique=False)
    for name, columns in OPPORTUNITY_SORTS.items():
        op.create_index(name, 'crm_opportunity', ['status', 'archived', *columns, 'id'],
                        unique=False)


def downgrade():
    for name in reversed(OPPORTUNITY_SORTS):
        op.drop_index(name, table_name='crm_opportunity')
    op.drop_index('ix_crm_contact_name', table_name='crm_contact')
