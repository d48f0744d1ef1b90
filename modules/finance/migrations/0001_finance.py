"""finance: receivables and payments

Revision ID: 0001_finance
Revises:
Create Date: 2026-11-23 15:00:00.000000

Written by hand to match ``modules/finance/models.py``: the branch "finance" starts
here and depends on CRM's head (crm_account; auth_user through it).
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_finance"
down_revision = None
branch_labels = ("finance",)
depends_on = "0002_crm_pipeline"


def upgrade():
    op.create_table(
        "finance_receivable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=80), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.Column("origin_id", sa.Integer(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"],
                                name=op.f("fk_finance_receivable_account_id_crm_account")),
        sa.ForeignKeyConstraint(["created_by_id"], ["auth_user.id"],
                                name=op.f("fk_finance_receivable_created_by_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_receivable")),
        sa.UniqueConstraint("origin", "origin_id", "installment",
                            name=op.f("uq_finance_receivable_origin_origin_id_installment")),
    )
    with op.batch_alter_table("finance_receivable", schema=None) as batch_op:
        batch_op.create_index("ix_finance_receivable_account_created",
                              ["account_id", "created_at", "id"], unique=False)
        batch_op.create_index("ix_finance_receivable_account_due",
                              ["account_id", "due_date", "id"], unique=False)
        batch_op.create_index("ix_finance_receivable_due_date", ["due_date"], unique=False)

    op.create_table(
        "finance_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receivable_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["crm_account.id"],
                                name=op.f("fk_finance_payment_account_id_crm_account")),
        sa.ForeignKeyConstraint(["created_by_id"], ["auth_user.id"],
                                name=op.f("fk_finance_payment_created_by_id_auth_user")),
        sa.ForeignKeyConstraint(["receivable_id"], ["finance_receivable.id"],
                                name=op.f("fk_finance_payment_receivable_id_finance_receivable")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payment")),
    )
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.create_index("ix_finance_payment_account_created",
                              ["account_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_finance_payment_receivable_id"),
                              ["receivable_id"], unique=False)


def downgrade():
    with op.batch_alter_table("finance_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finance_payment_receivable_id"))
        batch_op.drop_index("ix_finance_payment_account_created")
    op.drop_table("finance_payment")
    with op.batch_alter_table("finance_receivable", schema=None) as batch_op:
        batch_op.drop_index("ix_finance_receivable_due_date")
        batch_op.drop_index("ix_finance_receivable_account_due")
        batch_op.drop_index("ix_finance_receivable_account_created")
    op.drop_table("finance_receivable")
