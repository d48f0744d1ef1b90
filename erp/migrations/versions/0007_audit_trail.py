"""host: the audit trail (who changed which field of which record, when)

Revision ID: 0007_audit_trail
Revises: 0006_auth_security
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_audit_trail'
down_revision = '0006_auth_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erp_audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=120), nullable=True),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('record_id', sa.String(length=63), nullable=False),
    sa.Column('record_label', sa.String(length=200), nullable=False),
    sa.Column('parent_table', sa.String(length=63), nullable=True),
    sa.Column('parent_id', sa.String(length=63), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_erp_audit_entry_user_id_auth_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erp_audit_entry'))
    )
    with op.batch_alter_table('erp_audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erp_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_erp_audit_entry_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_erp_audit_entry_record', ['table_name', 'record_id', 'id'], unique=False)
        batch_op.create_index('ix_erp_audit_entry_parent', ['parent_table', 'parent_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('erp_audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_erp_audit_entry_parent')
        batch_op.drop_index('ix_erp_audit_entry_record')
        batch_op.drop_index(batch_op.f('ix_erp_audit_entry_user_id'))
        batch_op.drop_index(batch_op.f('ix_erp_audit_entry_at'))
    op.drop_table('erp_audit_entry')
