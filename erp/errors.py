"""The errors every service raises and every view and the API answer the same way:
``InvalidInput`` (messages per field, possible duplicates), ``Duplicate``, ``Conflict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Duplicate:
    """An existing record that looks like the one being saved."""

    record: Any
    reason: str  # "tax_id", "tax_id_root", "email", "phone"
    blocking: bool  # True: refused outright; False: allowed after confirmation
    # False: outside the user's scope; say that one exists, never its name, owner or link.
    visible: bool = True


class InvalidInput(ValueError):
    """The input cannot be saved: messages per field, and possible duplicates.

    ``errors`` maps a field name (or ``"__all__"``) to a list of messages.
    """

    def __init__(self, errors: dict[str, list[Any]] | None = None,
                 duplicates: list[Duplicate] | None = None):
        self.errors = errors or {}
        self.duplicates = duplicates or []
        super().__init__(self.errors or "duplicates need confirmation")

    @property
    def needs_confirmation(self) -> bool:
        """Only non-blocking duplicates stand in the way: the user may confirm and save."""
        return not self.errors and bool(self.duplicates) and not any(
            d.blocking for d in self.duplicates)


@dataclass
class Conflict(Exception):
    """Someone else saved the record since this user opened it."""

    current_version: int
    changed_by: str | None = None
    extra: dict = field(default_factory=dict)
