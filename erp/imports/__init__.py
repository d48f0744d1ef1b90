"""Spreadsheet imports (CSV and XLSX): the host's machinery, for any module's records.

Modules contribute an :class:`Importer` (see ``contract.py``); the host reads the file
(``reading.py``), checks rows (``rows.py``), runs the import (``runner.py``) and offers it
on the web (``views.py``, ``/imports``) and on the command line (``cli.py``:
``flask --app erp import KIND FILE``). ``services.py`` is what the three share.
"""

from . import (
    retention,  # noqa: F401 (declares the daily clean-up of old files)
    tasks,  # noqa: F401 (declares the import tasks)
)
from .bulk import insert_records
from .contract import Importer, ImportField, RowError, RowPlan, cell_text

__all__ = ["ImportField", "Importer", "RowError", "RowPlan", "cell_text", "insert_records"]
