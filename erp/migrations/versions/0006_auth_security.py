"""host: revocable sessions (a per-user session token) and the login attempt record

Revision ID: 0006_auth_security
Revises: 0005_import_undo
Create Date: 2026-12-02 10:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0006_auth_security'
down_revision = '0005_import_undo'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    # Every existing user gets a token of their own; cookies issued before have none and
    # stop working (everyone signs in once more).
    bind = op.get_bind()
    users = sa.table('auth_user', sa.column('id', sa.Integer),
                     sa.column('session_token', sa.String))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(24)))
    with op.batch_alter_table('auth_user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('auth_login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_login_failure_username_at')
        batch_op.drop_index('ix_auth_login_failure_ip_at')
    op.drop_table('auth_login_failure')

    op.create_table('auth_login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'],
                            name=op.f('fk_auth_login_attempt_user_id_auth_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_login_attempt'))
    )
    with op.batch_alter_table('auth_login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_login_attempt_at'), ['at'], unique=False)
        batch_op.create_index('ix_auth_login_attempt_user_id_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_auth_login_attempt_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_auth_login_attempt_ip_at', ['ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('auth_login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_login_attempt_ip_at')
        batch_op.drop_index('ix_auth_login_attempt_username_at')
        batch_op.drop_index('ix_auth_login_attempt_user_id_at')
        batch_op.drop_index(batch_op.f('ix_auth_login_attempt_at'))
    op.drop_table('auth_login_attempt')

    op.create_table('auth_login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_login_failure'))
    )
    with op.batch_alter_table('auth_login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_auth_login_failure_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_auth_login_failure_username_at', ['username', 'at'], unique=False)

    with op.batch_alter_table('auth_user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
