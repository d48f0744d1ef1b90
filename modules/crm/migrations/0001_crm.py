"""crm: accounts, contacts, tags, categories, CNPJ lookups

Revision ID: 0001_crm
Revises: 
Create Date: 2026-11-23 13:41:53.163821

"""
from alembic import op
import sqlalchemy as sa


revision = '0001_crm'
down_revision = None
branch_labels = ('crm',)
depends_on = '0001_host'  # owners are auth_user rows


def upgrade():
    op.create_table('crm_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_category')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_category_name'))
    )
    op.create_table('crm_cnpj_lookup',
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('cnpj', name=op.f('pk_crm_cnpj_lookup'))
    )
    op.create_table('crm_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_tag_name'))
    )
    op.create_table('crm_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_type', sa.String(length=2), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('trade_name', sa.String(length=200), nullable=True),
    sa.Column('short_name', sa.String(length=60), nullable=True),
    sa.Column('tax_id', sa.String(length=14), nullable=True),
    sa.Column('tax_id_root', sa.String(length=8), nullable=True),
    sa.Column('state_registration', sa.String(length=20), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('lifecycle', sa.String(length=10), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('website', sa.String(length=255), nullable=True),
    sa.Column('cep', sa.String(length=8), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('complement', sa.String(length=100), nullable=True),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('main_activity', sa.String(length=255), nullable=True),
    sa.Column('registry_status', sa.String(length=40), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['crm_category.id'], name=op.f('fk_crm_account_category_id_crm_category'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['auth_user.id'], name=op.f('fk_crm_account_owner_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_account')),
    sa.UniqueConstraint('tax_id', name=op.f('uq_crm_account_tax_id'))
    )
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.create_index('ix_crm_account_archived_legal_name', ['archived', 'legal_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_lifecycle'), ['lifecycle'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_mobile'), ['mobile'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_account_tax_id_root'), ['tax_id_root'], unique=False)

    op.create_table('crm_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=120), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['auth_user.id'], name=op.f('fk_crm_contact_owner_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_contact'))
    )
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_contact_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_contact_mobile'), ['mobile'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_contact_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_contact_phone'), ['phone'], unique=False)

    op.create_table('crm_account_contact',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['crm_account.id'], name=op.f('fk_crm_account_contact_account_id_crm_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['crm_contact.id'], name=op.f('fk_crm_account_contact_contact_id_crm_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'contact_id', name=op.f('pk_crm_account_contact'))
    )
    with op.batch_alter_table('crm_account_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_account_contact_contact_id'), ['contact_id'], unique=False)

    op.create_table('crm_account_tag',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['crm_account.id'], name=op.f('fk_crm_account_tag_account_id_crm_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['crm_tag.id'], name=op.f('fk_crm_account_tag_tag_id_crm_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'tag_id', name=op.f('pk_crm_account_tag'))
    )
    with op.batch_alter_table('crm_account_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_account_tag_tag_id'), ['tag_id'], unique=False)


    _create_search_indexes()

def downgrade():
    _drop_search_indexes()
    with op.batch_alter_table('crm_account_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_account_tag_tag_id'))

    op.drop_table('crm_account_tag')
    with op.batch_alter_table('crm_account_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_account_contact_contact_id'))

    op.drop_table('crm_account_contact')
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_contact_phone'))
        batch_op.drop_index(batch_op.f('ix_crm_contact_owner_id'))
        batch_op.drop_index(batch_op.f('ix_crm_contact_mobile'))
        batch_op.drop_index(batch_op.f('ix_crm_contact_email'))

    op.drop_table('crm_contact')
    with op.batch_alter_table('crm_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_account_tax_id_root'))
        batch_op.drop_index(batch_op.f('ix_crm_account_phone'))
        batch_op.drop_index(batch_op.f('ix_crm_account_owner_id'))
        batch_op.drop_index(batch_op.f('ix_crm_account_mobile'))
        batch_op.drop_index(batch_op.f('ix_crm_account_lifecycle'))
        batch_op.drop_index(batch_op.f('ix_crm_account_email'))
        batch_op.drop_index(batch_op.f('ix_crm_account_category_id'))
        batch_op.drop_index('ix_crm_account_archived_legal_name')

    op.drop_table('crm_account')
    op.drop_table('crm_tag')
    op.drop_table('crm_cnpj_lookup')
    op.drop_table('crm_category')


# The atomic search's trigram indexes (see modules/crm/models/search_index.py),
# written out here so this revision keeps doing what it did when it was written.
SEARCH_TABLES = ("crm_account", "crm_contact")


def _create_search_indexes():
    dialect = op.get_bind().dialect.name
    for table in SEARCH_TABLES:
        fts = f"{table}_fts"
        if dialect == "sqlite":
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
                       "content_rowid='id', tokenize='trigram')")
            op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END")
            op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, search_text) "
                       "VALUES ('delete', old.id, old.search_text); END")
            op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, search_text) "
                       "VALUES ('delete', old.id, old.search_text); "
                       f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END")
        elif dialect == "postgresql":
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute(f"CREATE INDEX ix_{table}_search_trgm ON {table} "
                       "USING gin (search_text gin_trgm_ops)")


def _drop_search_indexes():
    dialect = op.get_bind().dialect.name
    for table in SEARCH_TABLES:
        if dialect == "sqlite":
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_trgm")
