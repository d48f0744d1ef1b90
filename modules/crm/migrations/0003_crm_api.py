"""crm: actions can be archived (the JSON API's archive)

Revision ID: 0003_crm_api
Revises: 0002_crm_pipeline
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_crm_api'
down_revision = '0002_crm_pipeline'
branch_labels = None
depends_on = None


def upgrade():
    # Existing actions are not archived: the server default fills them in.
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.drop_column('archived')
