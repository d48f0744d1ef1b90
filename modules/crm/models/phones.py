from __future__ import annotations

from ..services.validation import format_phone, phone_search_keys


class PhoneNumbers:
    """``phone`` and ``mobile`` kept in E.164: shown formatted, found by any part."""

    phone: str | None
    mobile: str | None

    @property
    def phone_formatted(self) -> str:
        return format_phone(self.phone) if self.phone else ""

    @property
    def mobile_formatted(self) -> str:
        return format_phone(self.mobile) if self.mobile else ""

    def phone_keys(self) -> list[str]:
        """What a user may type to find these numbers (see validation.phone_search_keys)."""
        return [key for number in (self.phone, self.mobile) if number
                for key in phone_search_keys(number)]
