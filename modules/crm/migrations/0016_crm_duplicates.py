"""crm: finding duplicate accounts and contacts, and pairs dismissed as not duplicates (issues 17 and 18)

Revision ID: 0016_crm_duplicates
Revises: 0015_crm_contact_fields
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0016_crm_duplicates"
down_revision = "0015_crm_contact_fields"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
