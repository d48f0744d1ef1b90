"""crm: merging accounts and contacts, with the log that undoes a merge (issue 18)

Revision ID: 0017_crm_merge
Revises: 0016_crm_duplicates
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0017_crm_merge"
down_revision = "0016_crm_duplicates"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
