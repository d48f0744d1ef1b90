"""Moved to the host: :mod:`erp.errors` (kept until every import is switched)."""

from erp.errors import Conflict, Duplicate, InvalidInput  # noqa: F401
