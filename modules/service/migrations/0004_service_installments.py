"""service: a service invoice's installments are rows, as a sales invoice's (issue 14)

Revision ID: 0004_service_installments
Revises: 0003_service_erp_sequence
Create Date: 2026-12-10 10:00:00

``service_invoice.installments`` (a count, the parts recomputed on every read) becomes the
table ``service_invoice_installment`` (position, due date, amount), like sales'
``sales_invoice_installment``. Every existing invoice gets its rows, computed with the one
installment rule, erp.money.installment_plan, from its amount, count and first due date:
exactly the parts it showed and sent to finance when it was issued. The way back counts
the rows.
"""
import sqlalchemy as sa
from alembic import op

from erp.money import installment_plan

revision = "0004_service_installments"
down_revision = "0003_service_erp_sequence"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)

invoices = sa.table("service_invoice", sa.column("id", sa.Integer),
                    sa.column("amount", MONEY), sa.column("due_date", sa.Date),
                    sa.column("installments", sa.Integer))
rows = sa.table("service_invoice_installment", sa.column("invoice_id", sa.Integer),
                sa.column("position", sa.Integer), sa.column("due_date", sa.Date),
                sa.column("amount", MONEY))


def upgrade():
    op.create_table(
        "service_invoice_installment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["service_invoice.id"], ondelete="CASCADE",
            name=op.f("fk_service_invoice_installment_invoice_id_service_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_invoice_installment")),
    )
    with op.batch_alter_table("service_invoice_installment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_invoice_installment_invoice_id"),
                              ["invoice_id"], unique=False)

    bind = op.get_bind()
    existing = bind.execute(sa.select(invoices.c.id, invoices.c.amount, invoices.c.due_date,
                                      invoices.c.installments)
                            .order_by(invoices.c.id)).all()
    parts = [{"invoice_id": invoice_id, "position": n, "due_date": due, "amount": part}
             for invoice_id, amount, first_due, count in existing
             for n, (due, part) in enumerate(
                 installment_plan(amount, max(count or 1, 1), first_due), start=1)]
    if parts:
        bind.execute(rows.insert(), parts)

    with op.batch_alter_table("service_invoice", schema=None) as batch_op:
        batch_op.drop_column("installments")


def downgrade():
    with op.batch_alter_table("service_invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("installments", sa.Integer(), nullable=False,
                                      server_default="1"))
    bind = op.get_bind()
    counted = (sa.select(sa.func.count()).select_from(rows)
               .where(rows.c.invoice_id == invoices.c.id).scalar_subquery())
    bind.execute(invoices.update().values(installments=sa.func.coalesce(counted, 1))
                 .where(sa.exists().where(rows.c.invoice_id == invoices.c.id)))
    with op.batch_alter_table("service_invoice_installment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_invoice_installment_invoice_id"))
    op.drop_table("service_invoice_installment")
