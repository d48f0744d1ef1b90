"""host: webhook endpoints and their delivery outbox; each user's calendar feed token (issue 18)

Revision ID: 0009_webhooks_calendar
Revises: 0008_erp_sequence
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0009_webhooks_calendar"
down_revision = "0008_erp_sequence"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
