"""service: the kind of attendance of a service order (issue 17, point 12)

Revision ID: 0005_service_attendance
Revises: 0004_service_installments
Create Date: 2026-11-30 02:30:00

Reserved in the revision chain; its content comes with the work it serves.
"""

revision = "0005_service_attendance"
down_revision = "0004_service_installments"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
