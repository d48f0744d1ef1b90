"""crm: the service types become the company's configured list (issue 17, point 12)

Seed 002's "Tipo de atendimento" is a list each company configures, one of them the
"default for sales" suggested on a new opportunity. crm 0015 made it a fixed list of keys
(``crm_opportunity.service_type``, with ``service_type_other`` for text typed before);
here it becomes a table, ``crm_service_type`` (name, active, position, at most one
default), that administrators keep in Administration, and the opportunity refers to one
by ``service_type_id`` (a plain foreign key: the database refuses to delete a type in
use, which is deactivated instead; no ON DELETE clause, which SQLite's reflection of a
column added in place would not see).

* The table starts with 0015's list. It is company data now, no longer a key the program
  translates, so its rows are named in the company's language, pt-BR (0015's Portuguese
  names): "Acompanhamento de vendas" (the default), "Primeiro contato", "Demonstração",
  "Visita", "Proposta", "Negociação", "Pós-venda", "Outro".
* Each opportunity's key becomes that row's id. A text kept by 0015 as "other" +
  ``service_type_other`` becomes a row of its own, named by the text (one per distinct
  text, case and accents aside), inactive: it stays on its opportunities, is not offered
  for new ones until an administrator activates it. Nothing typed is lost.

The way back (0019's shape): a row named as one of 0015's kinds (its Portuguese or English
name, case and accents aside) gives back that key; any other row gives "other" with its
name in ``service_type_other``.

Columns are added and dropped in place (no table copy on SQLite, 3.35+: a copy would lose
the funnel cards' expression index, crm 0007).

Revision ID: 0020_crm_service_types
Revises: 0019_crm_external_reference
Create Date: 2026-11-30 03:30:00
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0020_crm_service_types"
down_revision = "0019_crm_external_reference"
branch_labels = None
depends_on = None

# 0015's keys, in its order, with the name each row starts with (the first the default)
# and the other names that mean the same on the way back. Fixed here: the migration means
# what it meant.
KINDS = {
    "sales": ("Acompanhamento de vendas", "Sales follow-up"),
    "first_contact": ("Primeiro contato", "First contact"),
    "demonstration": ("Demonstração", "Demonstration"),
    "visit": ("Visita", "Visit"),
    "proposal": ("Proposta", "Proposal"),
    "negotiation": ("Negociação", "Negotiation"),
    "post_sale": ("Pós-venda", "After-sales"),
    "other": ("Outro", "Other"),
}
OTHER = "other"
FK_NAME = "fk_crm_opportunity_service_type_id_crm_service_type"


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain.lower()).strip()


def upgrade():
    bind = op.get_bind()
    op.create_table(
        "crm_service_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crm_service_type"),
        sa.UniqueConstraint("name", name="uq_crm_service_type_name"),
    )
    op.create_index("ix_crm_service_type_default", "crm_service_type", ["is_default"],
                    unique=True, sqlite_where=sa.text("is_default"),
                    postgresql_where=sa.text("is_default"))
    table = sa.table("crm_service_type", sa.column("id", sa.Integer),
                     sa.column("name", sa.String), sa.column("active", sa.Boolean),
                     sa.column("position", sa.Integer), sa.column("is_default", sa.Boolean))
    ids = {}
    for index, (key, names) in enumerate(KINDS.items()):
        ids[key] = index + 1
        op.bulk_insert(table, [{"id": index + 1, "name": names[0], "active": True,
                                "position": 10 * (index + 1), "is_default": index == 0}])
    # The texts typed before the list: a row each (inactive), the same text once.
    by_name = {_fold(names[0]): ids[key] for key, names in KINDS.items()}
    texts = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT service_type_other FROM crm_opportunity"
        " WHERE service_type = :other AND service_type_other IS NOT NULL"
        " ORDER BY service_type_other"), {"other": OTHER})]
    legacy, next_id = {}, len(KINDS) + 1
    for typed in texts:
        name = typed.strip()[:80]
        if not name:
            legacy[typed] = ids[OTHER]
            continue
        if _fold(name) not in by_name:
            op.bulk_insert(table, [{"id": next_id, "name": name, "active": False,
                                    "position": 10 * next_id, "is_default": False}])
            by_name[_fold(name)], next_id = next_id, next_id + 1
        legacy[typed] = by_name[_fold(name)]
    if bind.dialect.name == "postgresql":  # the ids were given: the sequence goes on after
        bind.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('crm_service_type', 'id'),"
            " (SELECT max(id) FROM crm_service_type))"))

    if bind.dialect.name == "sqlite":  # a REFERENCES clause in place (no table copy)
        op.execute("ALTER TABLE crm_opportunity ADD COLUMN service_type_id INTEGER"
                   " REFERENCES crm_service_type (id)")
    else:
        op.add_column("crm_opportunity", sa.Column("service_type_id", sa.Integer(),
                                                   nullable=True))
        op.create_foreign_key(FK_NAME, "crm_opportunity", "crm_service_type",
                              ["service_type_id"], ["id"])
    for key, type_id in ids.items():
        bind.execute(sa.text(  # ("other" with a text: its own row, below)
            "UPDATE crm_opportunity SET service_type_id = :id WHERE service_type = :key"
            " AND (service_type <> :other OR service_type_other IS NULL)"),
            {"id": type_id, "key": key, "other": OTHER})
    for typed, type_id in legacy.items():
        bind.execute(sa.text(
            "UPDATE crm_opportunity SET service_type_id = :id"
            " WHERE service_type = :other AND service_type_other = :typed"),
            {"id": type_id, "other": OTHER, "typed": typed})
    op.create_index("ix_crm_opportunity_service_type_id", "crm_opportunity",
                    ["service_type_id"], unique=False)
    op.drop_column("crm_opportunity", "service_type_other")
    op.drop_column("crm_opportunity", "service_type")


def downgrade():
    bind = op.get_bind()
    op.add_column("crm_opportunity", sa.Column("service_type", sa.String(length=80),
                                               nullable=True))
    op.add_column("crm_opportunity", sa.Column("service_type_other", sa.String(length=80),
                                               nullable=True))
    keys = {_fold(name): key for key, names in KINDS.items() for name in names}
    for type_id, name in bind.execute(sa.text("SELECT id, name FROM crm_service_type")).all():
        key = keys.get(_fold(name))
        bind.execute(sa.text(
            "UPDATE crm_opportunity SET service_type = :key, service_type_other = :other"
            " WHERE service_type_id = :id"),
            {"key": key or OTHER, "other": None if key else name[:80], "id": type_id})
    op.drop_index("ix_crm_opportunity_service_type_id", table_name="crm_opportunity")
    if bind.dialect.name != "sqlite":
        op.drop_constraint(FK_NAME, "crm_opportunity", type_="foreignkey")
    op.drop_column("crm_opportunity", "service_type_id")
    op.drop_index("ix_crm_service_type_default", table_name="crm_service_type")
    op.drop_table("crm_service_type")
