"""host: API tokens

Revision ID: 0003_api_tokens
Revises: 0002_mail_outbox
Create Date: 2026-11-23 16:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_api_tokens'
down_revision = '0002_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erp_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_erp_api_token_user_id_auth_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erp_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_erp_api_token_token_hash'))
    )
    with op.batch_alter_table('erp_api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erp_api_token_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('erp_api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erp_api_token_user_id'))
    op.drop_table('erp_api_token')
