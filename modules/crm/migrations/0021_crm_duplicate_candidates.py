"""crm: pairs of similar names for the duplicates scan (issue 18, point 1)

``crm_duplicate_candidate`` (kind, low id, high id, reason, score in thousandths): the
accounts whose names are similar without being equal (trigram similarity through the
search index), and the contacts of one account with similar names. The service keeps it
when a record is created or renamed; the rows for the existing records are written by
``flask --app erp crm duplicates-rebuild`` (in batches, resumable), not here: at 200,000
accounts that is minutes of work a deployment runs after migrating (the scan shows the
other reasons meanwhile).

Revision ID: 0021_crm_duplicate_candidates
Revises: 0020_crm_service_types
Create Date: 2026-11-30 03:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_crm_duplicate_candidates"
down_revision = "0020_crm_service_types"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "crm_duplicate_candidate",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "low_id", "high_id",
                                name=op.f("pk_crm_duplicate_candidate")),
    )
    op.create_index("ix_crm_duplicate_candidate_rank", "crm_duplicate_candidate",
                    ["kind", "score", "low_id", "high_id"], unique=False)
    op.create_index("ix_crm_duplicate_candidate_high", "crm_duplicate_candidate",
                    ["kind", "high_id"], unique=False)


def downgrade():
    op.drop_index("ix_crm_duplicate_candidate_high", table_name="crm_duplicate_candidate")
    op.drop_index("ix_crm_duplicate_candidate_rank", table_name="crm_duplicate_candidate")
    op.drop_table("crm_duplicate_candidate")
