"""crm: external references kept for re-imports (issue 19)

An account's or opportunity's code in the system it came from (the "Código" or "ID"
column of an Omie, Tiny or Bling export), indexed: a re-import finds the record by it
first. Existing records have none (NULL): nothing to backfill.

Revision ID: 0019_crm_external_reference
Revises: 0018_crm_stage_history
Create Date: 2026-11-30 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_crm_external_reference"
down_revision = "0018_crm_stage_history"
branch_labels = None
depends_on = None

TABLES = ("crm_account", "crm_opportunity")


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+ and PostgreSQL), not a batch copy of the
# table: SQLite's copy would lose the expression index of the funnel's cards (crm 0007).


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("external_ref", sa.String(length=60), nullable=True))
        # Looked up by name on SQLite (INDEXED BY, modules/crm/importers/common.py):
        # its statistics count every record without a reference as one value.
        op.create_index(f"ix_{table}_external_ref", table, ["external_ref"], unique=False)


def downgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_external_ref", table_name=table)
        op.drop_column(table, "external_ref")
