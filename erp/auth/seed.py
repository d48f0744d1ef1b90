"""The seeded roles, and the default permissions modules grant them on install."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import db
from .models import SCOPE_ALL, SCOPE_OWN, SCOPE_TEAM, Role

ADMIN, SALES_MANAGER, SALES_REP, FINANCE, SERVICE = (
    "admin", "sales_manager", "sales_rep", "finance", "service",
)

DEFAULT_ROLES = {
    ADMIN: (_l("Administrator: every permission, every record, the admin"), SCOPE_ALL, True),
    SALES_MANAGER: (_l("Sales manager: configures the pipeline, sees the team"), SCOPE_TEAM, False),
    SALES_REP: (_l("Sales rep: works their own accounts and opportunities"), SCOPE_OWN, False),
    FINANCE: (_l("Finance clerk: invoices, receivables and payments"), SCOPE_ALL, False),
    SERVICE: (_l("Service clerk: service orders"), SCOPE_ALL, False),
}


def ensure_default_roles() -> dict[str, Role]:
    """Create the seeded roles that do not exist yet; never change existing ones."""
    existing = db.session.scalars(select(Role).where(Role.name.in_(DEFAULT_ROLES)))
    roles = {role.name: role for role in existing}
    for name, (description, scope, is_admin) in DEFAULT_ROLES.items():
        if name not in roles:
            roles[name] = Role(name=name, description=str(description), scope=scope,
                               is_admin=is_admin, permissions=[])
            db.session.add(roles[name])
    db.session.flush()
    return roles


def grant_module_defaults(registry, module_name: str, roles: dict[str, Role]) -> None:
    """Give the seeded roles the permissions a newly installed module says they should have."""
    for kind_key, entry in registry.kinds.get("permission", {}).items():
        if entry.module != module_name:
            continue
        for role_name in entry.item.roles:
            role = roles.get(role_name)
            if role is not None and kind_key not in (role.permissions or []):
                role.permissions = sorted({*(role.permissions or []), kind_key})
