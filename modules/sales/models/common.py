"""What the sales documents share: their numbers as people read them."""

from __future__ import annotations

NUMBER_PREFIX = {"quote": "PR", "order": "PV", "invoice": "NF"}


def document_number(kind: str, number: int | None) -> str:
    """'NF 000123': the number as people read it (the invoice's is the contract's document)."""
    return f"{NUMBER_PREFIX[kind]} {number or 0:06d}"
