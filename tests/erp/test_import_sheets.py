"""The host's reading of real files (issue 19), without any module: UTF-16 without a BOM,
merged cells and formulas streamed from the sheet's XML (whatever the chunk boundaries),
the header row among the first rows, the value mapping, numbers that lost their zeros."""

from __future__ import annotations

import io

import openpyxl
import pytest

from erp.imports import Importer, ImportField, RowPlan
from erp.imports import sheet as sheet_module
from erp.imports.cells import padded_cep, padded_tax_id
from erp.imports.reading import (
    UnreadableFile,
    detect_encoding,
    detect_format,
    numbered_rows,
)
from erp.imports.rows import (
    SeenKeys,
    ValueMap,
    check_batch,
    detect_header,
    distinct_values,
    guessed_values,
)
from erp.imports.sheet import FormulaWithoutValue
from tests.erp.importing import csv_bytes, make_cnpj

ROWS = [["Nome", "Situação"], ["Alfa", "Ativo"], ["Beta", "Inativo"], ["Gama", "ATIVO"]]
GUESSES = {"ativo": "on", "inativo": "off"}


def _importer() -> Importer:
    def validate(values, user, context):
        return RowPlan("create", dict(values))

    return Importer("things", "Things", (
        ImportField("name", "Name", True, ("nome",)),
        ImportField("state", "State", False, ("situacao",),
                    choices=lambda: [("on", "On"), ("off", "Off")],
                    guess=lambda text: GUESSES.get(text.strip().lower())),
    ), validate, lambda payloads, user: None)


def _write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_and_read(tmp_path, codec):
    path = _write(tmp_path, "u.csv", csv_bytes(ROWS, ";", codec))
    assert detect_format(path, "u.csv") == "csv"
    assert detect_encoding(path) == "utf-16"
    assert [cells for _n, cells in numbered_rows(path, "csv", "utf-16", ";")] == ROWS


@pytest.mark.parametrize("content", [csv_bytes(ROWS, ";", "utf-8"),
                                     csv_bytes(ROWS, ";", "cp1252"), b"a;b\r\n\xff"])
def test_utf16_chosen_for_other_text_is_a_clear_refusal(tmp_path, content):
    path = _write(tmp_path, "x.csv", content)
    with pytest.raises(UnreadableFile) as refused:
        list(numbered_rows(path, "csv", "utf-16", ";"))
    assert "UTF-16" in str(refused.value.message)


def test_an_odd_utf16_file_is_a_clear_refusal_not_a_unicode_error(tmp_path):
    path = _write(tmp_path, "x.csv", b"\xff\xfe" + "a;b\r\n".encode("utf-16-le") + b"\x00")
    with pytest.raises(UnreadableFile):
        list(numbered_rows(path, "csv", "utf-16", ";"))


def _sheet_bytes(rows: int) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Lista"])
    sheet.merge_cells("A1:C1")
    sheet.append(["Nome", "Cidade", "Dobro"])
    for n in range(rows):
        sheet.append([f"Pessoa {n}", "Recife" if n % 10 == 0 else None, n])
        if n % 10 == 0:
            sheet.merge_cells(start_row=n + 3, start_column=2, end_row=n + 12, end_column=2)
        if n % 7 == 0:
            sheet.cell(row=n + 3, column=3, value=f"=A{n + 3}&\"x\"")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk", [64, 1000, sheet_module.CHUNK])
def test_merges_and_formulas_whatever_the_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(sheet_module, "CHUNK", chunk)
    path = _write(tmp_path, "s.xlsx", _sheet_bytes(60))
    rows = dict(numbered_rows(path, "xlsx", header_row=2))
    assert all(rows[n + 3][1] == "Recife" for n in range(60))  # carried down
    formulas = {n: cells[2] for n, cells in rows.items()
                if isinstance(cells[2], FormulaWithoutValue)}
    assert formulas == {n + 3: f"C{n + 3}" for n in range(0, 60, 7)}
    assert rows[4][2] == 1  # a number stays a number


def test_the_header_is_the_row_that_best_matches(tmp_path):
    path = _write(tmp_path, "h.csv", csv_bytes([["Relatório"], [""], ["Nome", "Situação"],
                                                ["Alfa", "Ativo"]], ";"))
    assert detect_header(numbered_rows(path, "csv", "utf-8", ";"), _importer()) == 3
    rows = list(numbered_rows(path, "csv", "utf-8", ";", header_row=3))
    assert [n for n, _cells in rows] == [3, 4]


def test_values_are_found_guessed_and_mapped(tmp_path):
    importer = _importer()
    path = _write(tmp_path, "v.csv", csv_bytes(ROWS, ";"))
    rows = numbered_rows(path, "csv", "utf-8", ";")
    next(rows)
    found = distinct_values(rows, importer, {"name": 0, "state": 1}, 100)
    assert found == {"state": [("Ativo", 2), ("Inativo", 1)]}  # "ATIVO" is "Ativo"
    values = guessed_values(importer, found, {"state": {"Inativo": ""}})
    assert values == {"state": {"ativo": "on", "inativo": ""}}
    batch = [(2, ["Alfa", "Ativo"]), (3, ["Beta", "Inativo"]), (4, ["Gama", "ATIVO"]),
             (5, ["Delta", "Talvez"])]
    outcomes = check_batch(importer, batch, {"name": 0, "state": 1}, None, SeenKeys(),
                           ValueMap(values))
    assert [o.plan.payload["state"] for o in outcomes] == ["on", "", "on", "Talvez"]


def test_a_formula_in_a_mapped_cell_refuses_its_row_saying_so():
    importer = _importer()
    outcomes = check_batch(importer, [(7, [FormulaWithoutValue("A7"), "Ativo"])],
                           {"name": 0, "state": 1}, None, SeenKeys())
    assert "formula without a computed value in A7" in outcomes[0].error


def test_numbers_get_their_zeros_back_only_when_valid():
    cnpj = make_cnpj(1234567)  # 14 digits, the first a zero
    assert cnpj.startswith("0")
    assert padded_tax_id(float(cnpj)) == cnpj and padded_tax_id(cnpj[1:]) == cnpj
    assert padded_tax_id(int(cnpj[1:]) + 1) == str(int(cnpj[1:]) + 1)  # not valid: as is
    assert padded_tax_id("01234567890"[1:]) == "01234567890"  # a CPF
    assert padded_tax_id("12.345.678/0001-95") == "12.345.678/0001-95"
    assert padded_cep(1310100) == "01310100" and padded_cep("130159") == "130159"
