"""The seeded roles: the host's ``admin``, and the roles modules bring.

The host seeds one role of its own, ``admin`` (every permission, every record). Every
other role is a module's contribution (``registry.add(Role("finance", _l(...), scope=ALL))``)
and is created when that module is installed; what a role may do is said by the
permissions that name it (``Permission(key, label, roles=("finance",))``). A role that
exists is never changed: an administrator's later edits stay.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import db
from ..registry import Permission
from ..registry import Role as RoleContribution
from .models import SCOPE_ALL, Role

ADMIN = "admin"
ADMIN_DESCRIPTION = _l("Administrator: every permission, every record, the admin")


def _registry(registry=None):
    return registry if registry is not None else current_app.extensions["erp"]


def ensure_default_roles(registry=None) -> dict[str, Role]:
    """The seeded roles by name: ``admin`` and every role the enabled modules contribute.

    Creates those that do not exist yet (without permissions: :func:`grant_module_defaults`
    gives them); never changes existing ones.
    """
    wanted = {ADMIN: (ADMIN_DESCRIPTION, SCOPE_ALL, True)}
    for role in _registry(registry).items(RoleContribution, check_permission=False):
        wanted[role.key] = (role.label, role.scope, False)
    existing = db.session.scalars(select(Role).where(Role.name.in_(wanted)))
    roles = {role.name: role for role in existing}
    for name, (description, scope, is_admin) in wanted.items():
        if name not in roles:
            roles[name] = Role(name=name, description=str(description), scope=scope,
                               is_admin=is_admin, permissions=[])
            db.session.add(roles[name])
    db.session.flush()
    return roles


def grant_module_defaults(registry, module_name: str, roles: dict[str, Role]) -> None:
    """Give the seeded roles the default permissions a newly installed module brings.

    Its permissions go to the roles they name; the roles it brings get the permissions
    of every enabled module that name them (``crm.read`` for finance's role, when finance
    is installed after CRM). Roles missing from ``roles`` are skipped.
    """
    brought = {role.key for role in registry.items(RoleContribution, check_permission=False)
               if registry.module_of(RoleContribution, role.key) == module_name}
    for permission in registry.items(Permission, check_permission=False):
        own = registry.module_of(Permission, permission.key) == module_name
        for role_name in permission.roles:
            role = roles.get(role_name)
            if role is None or not (own or role_name in brought):
                continue
            if permission.key not in (role.permissions or []):
                role.permissions = sorted({*(role.permissions or []), permission.key})
