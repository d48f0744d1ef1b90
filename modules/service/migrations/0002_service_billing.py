"""service: the host's billing-document kit (issue 14)

Revision ID: 0002_service_billing
Revises: 0001_service
Create Date: 2026-12-10 10:00:00

* Items are document lines (erp.documents.DocumentLineMixin): they gain the line's
  ``discount`` (percent; 0 for every existing item, whose total stays what it was).
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_service_billing"
down_revision = "0001_service"
branch_labels = None
depends_on = None

PERCENT = sa.Numeric(precision=5, scale=2)


def upgrade():
    with op.batch_alter_table("service_order_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discount", PERCENT, nullable=False,
                                      server_default="0"))


def downgrade():
    with op.batch_alter_table("service_order_item", schema=None) as batch_op:
        batch_op.drop_column("discount")
