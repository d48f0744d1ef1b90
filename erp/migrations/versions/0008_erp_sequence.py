"""host: one table of document number sequences (erp.documents.next_number)

Revision ID: 0008_erp_sequence
Revises: 0007_audit_trail
Create Date: 2026-12-10 10:00:00

The modules that number documents (sales: quotes, orders, invoices; service: orders and
invoices) take their numbers from here; their own migrations copy the numbers they had
reached (sales' ``sales_sequence``, service's highest numbers), so numbering continues.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_erp_sequence'
down_revision = '0007_audit_trail'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erp_sequence',
    sa.Column('key', sa.String(length=63), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_erp_sequence'))
    )


def downgrade():
    op.drop_table('erp_sequence')
