"""sales: document numbers come from the host's sequences (issue 14)

Revision ID: 0003_sales_erp_sequence
Revises: 0002_sales_catalog_permission
Create Date: 2026-12-10 10:00:00

Quotes, orders and invoices are numbered by erp.documents.next_number, sequences
"sales.quote", "sales.order", "sales.invoice" of the host's ``erp_sequence``. The numbers
reached so far are copied there (the larger of ``sales_sequence.last`` and the highest
number in the table, so numbering continues without a clash), and ``sales_sequence`` goes.
The way back recreates it from those sequences.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_sales_erp_sequence"
down_revision = "0002_sales_catalog_permission"
branch_labels = None
depends_on = "0008_erp_sequence"

KINDS = {"quote": "sales_quote", "order": "sales_order", "invoice": "sales_invoice"}

erp_sequence = sa.table("erp_sequence", sa.column("key", sa.String),
                        sa.column("last", sa.Integer))
sales_sequence = sa.table("sales_sequence", sa.column("key", sa.String),
                          sa.column("last", sa.Integer))


def upgrade():
    bind = op.get_bind()
    reached = dict(bind.execute(sa.select(sales_sequence.c.key, sales_sequence.c.last)).all())
    for kind, table in KINDS.items():
        numbered = sa.table(table, sa.column("number", sa.Integer))
        highest = bind.execute(sa.select(sa.func.max(numbered.c.number))).scalar()
        last = max(reached.get(kind) or 0, highest or 0)
        if last:
            bind.execute(erp_sequence.insert().values(key=f"sales.{kind}", last=last))
    op.drop_table("sales_sequence")


def downgrade():
    op.create_table(
        "sales_sequence",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sales_sequence")),
    )
    bind = op.get_bind()
    for kind in KINDS:
        last = bind.execute(sa.select(erp_sequence.c.last)
                            .where(erp_sequence.c.key == f"sales.{kind}")).scalar()
        if last is not None:
            bind.execute(sales_sequence.insert().values(key=kind, last=last))
    bind.execute(erp_sequence.delete().where(erp_sequence.c.key.in_(
        [f"sales.{kind}" for kind in KINDS])))
