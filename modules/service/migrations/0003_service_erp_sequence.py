"""service: document numbers come from the host's sequences (issue 14)

Revision ID: 0003_service_erp_sequence
Revises: 0002_service_billing
Create Date: 2026-12-10 10:00:00

Service orders and service invoices were numbered max(number) + 1 (with a retry when a
concurrent transaction took the same number); they are now numbered by
erp.documents.next_number, sequences "service.order" and "service.invoice" of the host's
``erp_sequence``, which start from the highest numbers given so far.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_service_erp_sequence"
down_revision = "0002_service_billing"
branch_labels = None
depends_on = "0008_erp_sequence"

KINDS = {"order": "service_order", "invoice": "service_invoice"}

erp_sequence = sa.table("erp_sequence", sa.column("key", sa.String),
                        sa.column("last", sa.Integer))


def upgrade():
    bind = op.get_bind()
    for kind, table in KINDS.items():
        numbered = sa.table(table, sa.column("number", sa.Integer))
        highest = bind.execute(sa.select(sa.func.max(numbered.c.number))).scalar()
        if highest:
            bind.execute(erp_sequence.insert().values(key=f"service.{kind}", last=highest))


def downgrade():
    op.get_bind().execute(erp_sequence.delete().where(erp_sequence.c.key.in_(
        [f"service.{kind}" for kind in KINDS])))
