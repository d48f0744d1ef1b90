"""crm: pipeline, actions, drafts

Revision ID: 0002_crm_pipeline
Revises: 0001_crm
Create Date: 2026-11-23 13:55:40.716445

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_crm_pipeline'
down_revision = '0001_crm'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('crm_loss_reason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_loss_reason')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_loss_reason_name'))
    )
    op.create_table('crm_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_stage')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_stage_name'))
    )
    op.create_table('crm_opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('loss_reason_id', sa.Integer(), nullable=True),
    sa.Column('loss_note', sa.Text(), nullable=True),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('subject_note', sa.Text(), nullable=True),
    sa.Column('service_type', sa.String(length=80), nullable=True),
    sa.Column('contact_medium', sa.String(length=20), nullable=True),
    sa.Column('source_campaign', sa.String(length=120), nullable=True),
    sa.Column('expected_close_on', sa.Date(), nullable=True),
    sa.Column('estimated_value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('next_contact_user_id', sa.Integer(), nullable=True),
    sa.Column('next_contact_on', sa.Date(), nullable=True),
    sa.Column('internal_contact_user_id', sa.Integer(), nullable=True),
    sa.Column('internal_contact_on', sa.Date(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['crm_account.id'], name=op.f('fk_crm_opportunity_account_id_crm_account')),
    sa.ForeignKeyConstraint(['contact_id'], ['crm_contact.id'], name=op.f('fk_crm_opportunity_contact_id_crm_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['internal_contact_user_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_internal_contact_user_id_auth_user')),
    sa.ForeignKeyConstraint(['loss_reason_id'], ['crm_loss_reason.id'], name=op.f('fk_crm_opportunity_loss_reason_id_crm_loss_reason')),
    sa.ForeignKeyConstraint(['next_contact_user_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_next_contact_user_id_auth_user')),
    sa.ForeignKeyConstraint(['owner_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_owner_id_auth_user')),
    sa.ForeignKeyConstraint(['stage_id'], ['crm_stage.id'], name=op.f('fk_crm_opportunity_stage_id_crm_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_opportunity'))
    )
    with op.batch_alter_table('crm_opportunity', schema=None) as batch_op:
        batch_op.create_index('ix_crm_opportunity_account_created', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_crm_opportunity_internal_contact', ['internal_contact_user_id', 'internal_contact_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_opportunity_loss_reason_id'), ['loss_reason_id'], unique=False)
        batch_op.create_index('ix_crm_opportunity_next_contact', ['next_contact_user_id', 'next_contact_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_opportunity_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_crm_opportunity_stage_status', ['stage_id', 'status', 'archived'], unique=False)

    op.create_table('crm_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('email_to', sa.String(length=255), nullable=True),
    sa.Column('email_subject', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['crm_account.id'], name=op.f('fk_crm_action_account_id_crm_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['crm_contact.id'], name=op.f('fk_crm_action_contact_id_crm_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_action_opportunity_id_crm_opportunity'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_crm_action_user_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_action'))
    )
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.create_index('ix_crm_action_account_at', ['account_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_crm_action_opportunity_at', ['opportunity_id', 'at'], unique=False)
        batch_op.create_index('ix_crm_action_user_done_at', ['user_id', 'done', 'at'], unique=False)

    op.create_table('crm_opportunity_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('old_value', sa.String(length=255), nullable=True),
    sa.Column('new_value', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['crm_account.id'], name=op.f('fk_crm_opportunity_change_account_id_crm_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_opportunity_change_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_change_user_id_auth_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_opportunity_change'))
    )
    with op.batch_alter_table('crm_opportunity_change', schema=None) as batch_op:
        batch_op.create_index('ix_crm_opportunity_change_account_at', ['account_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_crm_opportunity_change_opportunity_at', ['opportunity_id', 'at'], unique=False)

    op.create_table('crm_opportunity_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_opportunity_draft_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_draft_user_id_auth_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_opportunity_draft'))
    )
    with op.batch_alter_table('crm_opportunity_draft', schema=None) as batch_op:
        batch_op.create_index('ix_crm_opportunity_draft_user_updated', ['user_id', 'updated_at'], unique=False)

    op.create_table('crm_opportunity_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_opportunity_item_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_opportunity_item'))
    )
    with op.batch_alter_table('crm_opportunity_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_opportunity_item_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('crm_opportunity_tag',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_opportunity_tag_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['crm_tag.id'], name=op.f('fk_crm_opportunity_tag_tag_id_crm_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'tag_id', name=op.f('pk_crm_opportunity_tag'))
    )
    with op.batch_alter_table('crm_opportunity_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_opportunity_tag_tag_id'), ['tag_id'], unique=False)

    op.create_table('crm_opportunity_watcher',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_opportunity_watcher_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_crm_opportunity_watcher_user_id_auth_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'user_id', name=op.f('pk_crm_opportunity_watcher'))
    )
    with op.batch_alter_table('crm_opportunity_watcher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_opportunity_watcher_user_id'), ['user_id'], unique=False)


    _insert_defaults()

def downgrade():
    with op.batch_alter_table('crm_opportunity_watcher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_watcher_user_id'))

    op.drop_table('crm_opportunity_watcher')
    with op.batch_alter_table('crm_opportunity_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_tag_tag_id'))

    op.drop_table('crm_opportunity_tag')
    with op.batch_alter_table('crm_opportunity_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_item_opportunity_id'))

    op.drop_table('crm_opportunity_item')
    with op.batch_alter_table('crm_opportunity_draft', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_opportunity_draft_user_updated')

    op.drop_table('crm_opportunity_draft')
    with op.batch_alter_table('crm_opportunity_change', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_opportunity_change_opportunity_at')
        batch_op.drop_index('ix_crm_opportunity_change_account_at')

    op.drop_table('crm_opportunity_change')
    with op.batch_alter_table('crm_action', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_action_user_done_at')
        batch_op.drop_index('ix_crm_action_opportunity_at')
        batch_op.drop_index('ix_crm_action_account_at')

    op.drop_table('crm_action')
    with op.batch_alter_table('crm_opportunity', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_opportunity_stage_status')
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_owner_id'))
        batch_op.drop_index('ix_crm_opportunity_next_contact')
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_loss_reason_id'))
        batch_op.drop_index('ix_crm_opportunity_internal_contact')
        batch_op.drop_index('ix_crm_opportunity_account_created')

    op.drop_table('crm_opportunity')
    op.drop_table('crm_stage')
    op.drop_table('crm_loss_reason')


# Seed 001's five stages and seed 004's loss reasons, as they were when this was written.
def _insert_defaults():
    stages = sa.table("crm_stage", sa.column("name", sa.String), sa.column("sequence", sa.Integer))
    op.bulk_insert(stages, [
        {"name": name, "sequence": 10 * (i + 1)}
        for i, name in enumerate(("Prospecção", "Contato realizado", "Proposta apresentada",
                                  "Negociação", "Encerrado"))
    ])
    reasons = sa.table("crm_loss_reason", sa.column("name", sa.String),
                       sa.column("archived", sa.Boolean))
    op.bulk_insert(reasons, [
        {"name": name, "archived": False}
        for name in ("Preço muito alto", "Mau atendimento", "Prazo de entrega longo",
                     "Condição de pagamento não facilitada")
    ])
