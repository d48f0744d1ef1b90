"""The import pages' forms: they collect; services.py decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from .contract import Importer, cell_text
from .reading import DELIMITERS, ENCODINGS

NOT_IMPORTED = ""


class UploadForm(FlaskForm):
    kind = SelectField(_l("What to import"))
    file = FileField(_l("Spreadsheet (CSV or .xlsx)"),
                     validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ".csv,.txt,.tsv,.xlsx,.xlsm"})


class RunForm(FlaskForm):
    skip_invalid = BooleanField(
        _l("Import the valid rows and skip the rejected ones"),
        description=_l("Otherwise a single rejected row stops the import and nothing is "
                       "written."))


def _column_label(index: int, name, example) -> str:
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    label = f"{letters} — {cell_text(name) or '?'}"
    example = cell_text(example)
    if example:
        label += f" ({example[:30]}{'…' if len(example) > 30 else ''})"
    return label


def _row_label(number: int, cells: list) -> str:
    texts = [cell_text(c) for c in cells if cell_text(c)]
    shown = " | ".join(texts[:4])
    if len(shown) > 60:
        shown = shown[:60] + "…"
    return str(_l("Row %(number)d: %(cells)s", number=number, cells=shown))


def mapping_form(importer: Importer, header: list, example: list, mapping: dict[str, int],
                 options: dict, csv_options: bool,
                 first_rows: list[tuple[int, list]] | None = None) -> FlaskForm:
    """A select per field (the file's columns, or "not imported"), preset to ``mapping``;
    for CSV files, the encoding and delimiter too; the header row, among ``first_rows``."""

    class MappingForm(FlaskForm):
        header_row = SelectField(_l("Header row"), validate_choice=False, description=_l(
            "The row with the column names; the rows above it are not imported."))

    choices = [(NOT_IMPORTED, _l("— not imported —"))] + [
        (str(i), _column_label(i, name, example[i] if i < len(example) else ""))
        for i, name in enumerate(header)]
    for field in importer.fields:
        # Any value is checked by services.save_mapping (which says what is wrong); a
        # field left out of the post is simply not imported.
        setattr(MappingForm, f"field_{field.name}",
                SelectField(field.label, description=field.help, validate_choice=False))
    if csv_options:
        MappingForm.encoding = SelectField(_l("Encoding"))
        MappingForm.delimiter = SelectField(_l("Delimiter"))
    data = {f"field_{name}": str(index) for name, index in mapping.items()}
    data["header_row"] = str(options.get("header_row") or (first_rows or [(1, [])])[0][0])
    if csv_options:
        data.update(encoding=options.get("encoding"), delimiter=options.get("delimiter"))
    form = MappingForm(data=data)
    form.importer_fields = [(f, form[f"field_{f.name}"]) for f in importer.fields]
    for _field, bound in form.importer_fields:
        bound.choices = choices
    form.header_row.choices = [(str(n), _row_label(n, cells)) for n, cells in first_rows or ()]
    if data["header_row"] not in {value for value, _label in form.header_row.choices}:
        form.header_row.choices.insert(0, (data["header_row"], _row_label(
            int(data["header_row"]), header)))
    if csv_options:
        form.encoding.choices = list(ENCODINGS.items())
        form.delimiter.choices = list(DELIMITERS.items())
    return form


def chosen_mapping(form) -> dict[str, int]:
    return {f.name: int(bound.data) for f, bound in form.importer_fields
            if bound.data not in (None, NOT_IMPORTED) and str(bound.data).isdigit()}
