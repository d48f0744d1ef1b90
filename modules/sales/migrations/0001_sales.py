"""sales: catalog, quotes, orders, invoices, events

Revision ID: 0001_sales
Revises:
Create Date: 2026-11-23 15:00:00.000000

Written by hand to match modules/sales/models.py: the branch "sales" starts here and
depends on CRM's head (crm_account, crm_contact; auth_user through CRM's own branch).
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_sales"
down_revision = None
branch_labels = ("sales",)
depends_on = "0002_crm_pipeline"

MONEY = sa.Numeric(precision=14, scale=2)
QUANTITY = sa.Numeric(precision=12, scale=3)
PERCENT = sa.Numeric(precision=5, scale=2)


def _timestamps():
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], ondelete=ondelete,
        name=op.f(f"fk_{table}_{column}_{target}"))


def _line_columns():
    return [
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("discount", PERCENT, nullable=False),
        sa.Column("total", MONEY, nullable=False),
    ]


def _indexes(table, *columns):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade():
    op.create_table(
        "sales_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_product")),
        sa.UniqueConstraint("code", name=op.f("uq_sales_product_code")),
    )
    _indexes("sales_product", "active")

    op.create_table(
        "sales_sequence",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sales_sequence")),
    )

    op.create_table(
        "sales_quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _fk("sales_quote", "account_id", "crm_account"),
        _fk("sales_quote", "contact_id", "crm_contact", "SET NULL"),
        _fk("sales_quote", "user_id", "auth_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_quote")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_quote_number")),
    )
    _indexes("sales_quote", "contact_id", "user_id", "status")
    with op.batch_alter_table("sales_quote", schema=None) as batch_op:
        batch_op.create_index("ix_sales_quote_account_created",
                              ["account_id", "created_at", "id"], unique=False)

    op.create_table(
        "sales_quote_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        *_line_columns(),
        _fk("sales_quote_line", "quote_id", "sales_quote", "CASCADE"),
        _fk("sales_quote_line", "product_id", "sales_product", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_quote_line")),
    )
    _indexes("sales_quote_line", "quote_id", "product_id")

    op.create_table(
        "sales_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("total", MONEY, nullable=False),
        *_timestamps(),
        _fk("sales_order", "account_id", "crm_account"),
        _fk("sales_order", "quote_id", "sales_quote"),
        _fk("sales_order", "user_id", "auth_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_order_number")),
        sa.UniqueConstraint("quote_id", name=op.f("uq_sales_order_quote_id")),
    )
    _indexes("sales_order", "user_id", "status")
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.create_index("ix_sales_order_account_date", ["account_id", "order_date"],
                              unique=False)

    op.create_table(
        "sales_order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        *_line_columns(),
        _fk("sales_order_line", "order_id", "sales_order", "CASCADE"),
        _fk("sales_order_line", "product_id", "sales_product", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_line")),
    )
    _indexes("sales_order_line", "order_id", "product_id")

    op.create_table(
        "sales_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _fk("sales_invoice", "account_id", "crm_account"),
        _fk("sales_invoice", "order_id", "sales_order"),
        _fk("sales_invoice", "user_id", "auth_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_invoice_number")),
    )
    _indexes("sales_invoice", "order_id", "user_id", "status")
    with op.batch_alter_table("sales_invoice", schema=None) as batch_op:
        batch_op.create_index("ix_sales_invoice_account_issue_date",
                              ["account_id", "issue_date"], unique=False)

    op.create_table(
        "sales_invoice_installment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        _fk("sales_invoice_installment", "invoice_id", "sales_invoice", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_invoice_installment")),
    )
    _indexes("sales_invoice_installment", "invoice_id")

    op.create_table(
        "sales_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("document_type", sa.String(length=10), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        _fk("sales_event", "account_id", "crm_account"),
        _fk("sales_event", "user_id", "auth_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_event")),
    )
    _indexes("sales_event", "user_id")
    with op.batch_alter_table("sales_event", schema=None) as batch_op:
        batch_op.create_index("ix_sales_event_account_at", ["account_id", "at", "id"],
                              unique=False)


def downgrade():
    for table in ("sales_event", "sales_invoice_installment", "sales_invoice",
                  "sales_order_line", "sales_order", "sales_quote_line", "sales_quote",
                  "sales_sequence", "sales_product"):
        op.drop_table(table)
