"""service: service orders, items, service invoices, events

Revision ID: 0001_service
Revises:
Create Date: 2026-11-30 10:00:00

Written by hand to match modules/service/models.py exactly.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_service"
down_revision = None
branch_labels = ("service",)
depends_on = "0002_crm_pipeline"


def upgrade():
    op.create_table(
        "service_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("hours", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("hourly_rate", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("items_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("hours_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"],
                                name=op.f("fk_service_order_account_id_crm_account")),
        sa.ForeignKeyConstraint(["technician_id"], ["auth_user.id"],
                                name=op.f("fk_service_order_technician_id_auth_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["auth_user.id"],
                                name=op.f("fk_service_order_created_by_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_order")),
        sa.UniqueConstraint("number", name=op.f("uq_service_order_number")),
    )
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.create_index("ix_service_order_account_status", ["account_id", "status"],
                              unique=False)
        batch_op.create_index("ix_service_order_status_id", ["status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_order_technician_id"), ["technician_id"],
                              unique=False)

    op.create_table(
        "service_order_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"], ondelete="CASCADE",
                                name=op.f("fk_service_order_item_order_id_service_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_order_item")),
    )
    with op.batch_alter_table("service_order_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_order_item_order_id"), ["order_id"],
                              unique=False)

    op.create_table(
        "service_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"],
                                name=op.f("fk_service_invoice_order_id_service_order")),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"],
                                name=op.f("fk_service_invoice_account_id_crm_account")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["auth_user.id"],
                                name=op.f("fk_service_invoice_issued_by_id_auth_user")),
        sa.ForeignKeyConstraint(["cancelled_by_id"], ["auth_user.id"],
                                name=op.f("fk_service_invoice_cancelled_by_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_service_invoice_number")),
    )
    with op.batch_alter_table("service_invoice", schema=None) as batch_op:
        batch_op.create_index("ix_service_invoice_account_status", ["account_id", "status"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_service_invoice_order_id"), ["order_id"],
                              unique=False)

    op.create_table(
        "service_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("document", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"],
                                name=op.f("fk_service_event_account_id_crm_account")),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"],
                                name=op.f("fk_service_event_order_id_service_order")),
        sa.ForeignKeyConstraint(["invoice_id"], ["service_invoice.id"],
                                name=op.f("fk_service_event_invoice_id_service_invoice")),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                name=op.f("fk_service_event_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_event")),
    )
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.create_index("ix_service_event_account_at", ["account_id", "at", "id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_service_event_order_id"), ["order_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_service_event_invoice_id"), ["invoice_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_event_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_service_event_order_id"))
        batch_op.drop_index("ix_service_event_account_at")
    op.drop_table("service_event")
    with op.batch_alter_table("service_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_invoice_order_id"))
        batch_op.drop_index("ix_service_invoice_account_status")
    op.drop_table("service_invoice")
    with op.batch_alter_table("service_order_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_order_item_order_id"))
    op.drop_table("service_order_item")
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_order_technician_id"))
        batch_op.drop_index("ix_service_order_status_id")
        batch_op.drop_index("ix_service_order_account_status")
    op.drop_table("service_order")
