"""crm: finding duplicates and pairs dismissed as not duplicates (issues 17 and 18)

The accounts' name key (the legal name folded, without company-type suffixes), computed
here for the existing accounts; the count of records per duplicate key (e-mail, phone,
name, CNPJ root) kept by triggers, counted here from the existing rows; the dismissed
pairs; and the accounts' own timeline events, with an "account created" event for each
existing account at its creation time.

Revision ID: 0016_crm_duplicates
Revises: 0015_crm_contact_fields
Create Date: 2026-11-30 02:30:00
"""

import sqlalchemy as sa
from alembic import op

from modules.crm.models.duplicates import (
    backfill_statements,
    drop_statements,
    name_key,
    postgresql_statements,
    sqlite_statements,
)

revision = "0016_crm_duplicates"
down_revision = "0015_crm_contact_fields"
branch_labels = None
depends_on = None

TABLES = ("crm_account", "crm_contact")
BATCH = 5000


def _backfill_name_keys(bind) -> None:
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, legal_name FROM crm_account WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            return
        bind.execute(sa.text("UPDATE crm_account SET name_key = :key WHERE id = :id"),
                     [{"id": row.id, "key": name_key(row.legal_name) or None} for row in rows])
        last = rows[-1].id


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.add_column("crm_account", sa.Column("name_key", sa.String(length=200), nullable=True))
    _backfill_name_keys(bind)
    op.create_index("ix_crm_account_name_key", "crm_account", ["name_key"], unique=False)

    op.create_table(
        "crm_duplicate_key",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_crm_duplicate_key")),
    )
    op.create_index("ix_crm_duplicate_key_shared", "crm_duplicate_key", ["kind", "key"],
                    unique=False, sqlite_where=sa.text("n > 1"),
                    postgresql_where=sa.text("n > 1"))
    for table in TABLES:
        for statement in backfill_statements(table):
            op.execute(statement)
        statements = (sqlite_statements(table) if dialect == "sqlite"
                      else postgresql_statements(table))
        for statement in statements:
            op.execute(statement)

    op.create_table(
        "crm_duplicate_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="SET NULL",
                                name=op.f("fk_crm_duplicate_dismissal_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_duplicate_dismissal")),
        sa.UniqueConstraint("kind", "low_id", "high_id",
                            name="uq_crm_duplicate_dismissal_pair"),
    )

    op.create_table(
        "crm_account_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_account_event_account_id_crm_account")),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="SET NULL",
                                name=op.f("fk_crm_account_event_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_account_event")),
    )
    op.create_index("ix_crm_account_event_account_at", "crm_account_event",
                    ["account_id", "at", "id"], unique=False)
    op.execute("INSERT INTO crm_account_event (account_id, at, kind) "
               "SELECT id, created_at, 'created' FROM crm_account")


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_crm_account_event_account_at", table_name="crm_account_event")
    op.drop_table("crm_account_event")
    op.drop_table("crm_duplicate_dismissal")
    for table in TABLES:
        for statement in drop_statements(table, dialect):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS crm_duplicate_key_bump(text, text, integer)")
    op.drop_index("ix_crm_duplicate_key_shared", table_name="crm_duplicate_key")
    op.drop_table("crm_duplicate_key")
    op.drop_index("ix_crm_account_name_key", table_name="crm_account")
    if dialect == "sqlite":
        op.execute("ALTER TABLE crm_account DROP COLUMN name_key")
    else:
        op.drop_column("crm_account", "name_key")
