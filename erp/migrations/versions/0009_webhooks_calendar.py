"""host: webhook endpoints and their delivery outbox; each user's calendar feed token (issue 18)

Revision ID: 0009_webhooks_calendar
Revises: 0008_erp_sequence
Create Date: 2026-11-30 02:30:00

New tables only: nothing to convert in existing data.
"""
from alembic import op
import sqlalchemy as sa


revision = "0009_webhooks_calendar"
down_revision = "0008_erp_sequence"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erp_webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_webhook_endpoint")),
    )
    op.create_table(
        "erp_webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=80), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["erp_webhook_endpoint.id"],
            name=op.f("fk_erp_webhook_delivery_endpoint_id_erp_webhook_endpoint"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_webhook_delivery")),
    )
    with op.batch_alter_table("erp_webhook_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_erp_webhook_delivery_status_next_attempt_at",
                              ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_erp_webhook_delivery_endpoint_id_id",
                              ["endpoint_id", "id"], unique=False)
    op.create_table(
        "erp_calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                name=op.f("fk_erp_calendar_feed_user_id_auth_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_erp_calendar_feed_token_hash")),
        sa.UniqueConstraint("user_id", name=op.f("uq_erp_calendar_feed_user_id")),
    )


def downgrade():
    op.drop_table("erp_calendar_feed")
    with op.batch_alter_table("erp_webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_erp_webhook_delivery_endpoint_id_id")
        batch_op.drop_index("ix_erp_webhook_delivery_status_next_attempt_at")
    op.drop_table("erp_webhook_delivery")
    op.drop_table("erp_webhook_endpoint")
