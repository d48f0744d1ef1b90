"""crm: pipeline history by stage id, and the stage where an opportunity was lost (issue 19)

Revision ID: 0018_crm_stage_history
Revises: 0017_crm_merge
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0018_crm_stage_history"
down_revision = "0017_crm_merge"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
