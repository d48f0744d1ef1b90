"""crm: the fields the daily use asks for: the contact's current system, the opportunity's kind of attendance (issue 17, point 12)

Revision ID: 0015_crm_contact_fields
Revises: 0014_crm_funnel_cycle
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0015_crm_contact_fields"
down_revision = "0014_crm_funnel_cycle"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
