"""sales: the catalog gets its own permission, sales.catalog.write

Revision ID: 0002_sales_catalog_permission
Revises: 0001_sales
Create Date: 2026-12-01 10:00:00.000000

Data only. Editing the shared product catalog used to need sales.write, which every rep
holds; it now needs sales.catalog.write. A new database gets it from the module's
defaults (sales_manager); an existing one never re-grants defaults (an admin's changes to
the roles are kept), so this gives it to the seeded sales_manager role, which edited the
catalog before. Reps lose it, as decided in issue 13; an admin can grant it back.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_sales_catalog_permission"
down_revision = "0001_sales"
branch_labels = None
depends_on = None

PERMISSION = "sales.catalog.write"
GRANTED_TO = "sales_manager"

roles = sa.table("auth_role", sa.column("id", sa.Integer), sa.column("name", sa.String),
                 sa.column("permissions", sa.JSON))


def _rewrite(change) -> None:
    bind = op.get_bind()
    for role_id, name, permissions in bind.execute(
            sa.select(roles.c.id, roles.c.name, roles.c.permissions)).all():
        current = list(permissions or [])
        wanted = change(name, current)
        if wanted != current:
            bind.execute(roles.update().where(roles.c.id == role_id)
                         .values(permissions=wanted))


def upgrade():
    _rewrite(lambda name, perms: sorted({*perms, PERMISSION})
             if name == GRANTED_TO and PERMISSION not in perms else perms)


def downgrade():
    _rewrite(lambda name, perms: [p for p in perms if p != PERMISSION])
