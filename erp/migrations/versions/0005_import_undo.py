"""host: imports run by the worker: heartbeat, write pass, and the changes they made (undo)

Revision ID: 0005_import_undo
Revises: 0004_import_jobs
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_import_undo'
down_revision = '0004_import_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('erp_import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phase', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('written_rows', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('erp_import_job', schema=None) as batch_op:
        batch_op.alter_column('written_rows', server_default=None)
    op.create_table('erp_import_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('record_key', sa.String(length=63), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('values', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['erp_import_job.id'], name=op.f('fk_erp_import_change_job_id_erp_import_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erp_import_change'))
    )
    with op.batch_alter_table('erp_import_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erp_import_change_job_id'), ['job_id'], unique=False)
        batch_op.create_index('ix_erp_import_change_record', ['table_name', 'record_key'], unique=False)


def downgrade():
    with op.batch_alter_table('erp_import_change', schema=None) as batch_op:
        batch_op.drop_index('ix_erp_import_change_record')
        batch_op.drop_index(batch_op.f('ix_erp_import_change_job_id'))
    op.drop_table('erp_import_change')
    with op.batch_alter_table('erp_import_job', schema=None) as batch_op:
        batch_op.drop_column('undone_at')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('written_rows')
        batch_op.drop_column('phase')
