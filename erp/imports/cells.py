"""Cells that a spreadsheet changed on the way (issue 19): numbers that lost their
leading zeros.

A CNPJ, CPF or CEP typed in Excel without a text format becomes a number: CNPJ
01.234.567/0001-95 is stored as 1234567000195 (13 digits), CEP 01310-100 as 1310100 (7),
and a CSV saved from that sheet keeps the digits as shown. The zeros are put back only
when the padded value is valid (python-stdnum checks the CNPJ/CPF digits), so a number
that is simply wrong is still refused as it was typed.
"""

from __future__ import annotations

from typing import Any

from stdnum.br import cnpj, cpf

from .contract import cell_text


def padded_tax_id(value: Any) -> str:
    """A numeric CNPJ/CPF cell with its leading zeros back when that makes it valid (and
    only one reading is valid); otherwise the cell as text."""
    text = cell_text(value)
    if not (text.isdigit() and text.isascii()) or len(text) >= 14 or (
            len(text) == 11 and cpf.is_valid(text)):
        return text  # formatted, complete, or no number: as it is (the usual case)
    digits = text
    candidates = []
    if len(digits) < 11 and cpf.is_valid(digits.zfill(11)):
        candidates.append(digits.zfill(11))
    if len(digits) > 8 and cnpj.is_valid(digits.zfill(14)):  # at most 5 zeros lost
        candidates.append(digits.zfill(14))
    return candidates[0] if len(candidates) == 1 else text


def padded_cep(value: Any) -> str:
    """A numeric CEP cell of 7 digits with its leading zero back (CEPs start at 01000-000:
    only one zero can be lost)."""
    text = cell_text(value)
    return text.zfill(8) if len(text) == 7 and text.isdigit() and text.isascii() else text
