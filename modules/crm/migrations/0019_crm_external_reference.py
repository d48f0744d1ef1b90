"""crm: external references kept for re-imports (issue 19)

Revision ID: 0019_crm_external_reference
Revises: 0018_crm_stage_history
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0019_crm_external_reference"
down_revision = "0018_crm_stage_history"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
