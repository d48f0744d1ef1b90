"""host: spreadsheet import jobs

Revision ID: 0004_import_jobs
Revises: 0003_api_tokens
Create Date: 2026-11-23 16:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_import_jobs'
down_revision = '0003_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erp_import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=63), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=True),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('rejected_rows', sa.Integer(), nullable=False),
    sa.Column('created_rows', sa.Integer(), nullable=False),
    sa.Column('updated_rows', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_erp_import_job_user_id_auth_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erp_import_job'))
    )
    with op.batch_alter_table('erp_import_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erp_import_job_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('erp_import_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erp_import_job_user_id'))
    op.drop_table('erp_import_job')
